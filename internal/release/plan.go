package release

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/deploy"
	"github.com/agentme/release-action/internal/gate"
	"github.com/agentme/release-action/internal/outcome"
	"github.com/agentme/release-action/internal/untrusted"
	"github.com/agentme/release-action/internal/window"
)

// What a plan says the release would do with a tag or an environment.
const (
	PlanCreate   = "create"   // tag: a new annotated tag of this name
	PlanReuse    = "reuse"    // tag: it already names the commit
	PlanDeploy   = "deploy"   // environment: a new deploy run (new record, or again on the one an earlier attempt left)
	PlanResume   = "resume"   // environment: follow the deploy run an earlier attempt started
	PlanValidate = "validate" // environment: deployed before, validated (smoke) again without a new deploy
	PlanSkip     = "skip"     // environment: validated before, reused as it is
	PlanWait     = "wait"     // environment: the window opens within max-wait: the run waits, then deploys
	PlanSchedule = "schedule" // environment: the window is closed beyond max-wait: the run stops, scheduled
	PlanRefuse   = "refuse"   // tag or environment: the run stops here (tag would move, rolled back, another deploy in progress, no window ahead)
)

// PlanResult is what a release of the commit would do if it started now, decided from
// GitHub's state by the same functions the release acts on (decide, planTag, the gate's
// rules, the window's WouldWait), without writing anything.
type PlanResult struct {
	SHA     string `json:"sha"`
	Version string `json:"version"`
	// Gate is the gate evaluated once, without waiting ("pending" gates are undecided
	// now); nil when the release runs no gate.
	Gate         *gate.Result `json:"gate"`
	CandidateTag TagPlan      `json:"candidate_tag"`
	ReleaseTag   TagPlan      `json:"release_tag"`
	Environments []EnvPlan    `json:"environments"`
	Monitor      string       `json:"monitor"`
	// AlreadyComplete: the release exists (tag, validated deployments, GitHub release): a
	// run would write nothing.
	AlreadyComplete bool `json:"already_complete"`
	// Stop is the first point where a run started now would stop before the release tag,
	// and why ("" when nothing in GitHub's state stops it).
	Stop string `json:"stop"`
	// NextWindow is the next window of the first environment a run would schedule (zero
	// when none would be).
	NextWindow time.Time `json:"next_window,omitzero"`
	// Outcome is what a run started now would end with as far as the state shows: pass,
	// fail (refused, gate failed), scheduled; "pending" while gates are undecided.
	Outcome outcome.Verdict `json:"outcome"`
	Reason  string          `json:"reason"`
}

// TagPlan is the plan of one tag.
type TagPlan struct {
	Name   string `json:"name"`
	Action string `json:"action"`
	Reason string `json:"reason"`
}

// EnvPlan is the plan of one environment.
type EnvPlan struct {
	Name string `json:"name"`
	// Stage is the deployment of the commit there, as GitHub records it.
	Stage  string `json:"stage"`
	Action string `json:"action"`
	Reason string `json:"reason"`
	// DeploymentID is the record the run would reuse (0: a new one).
	DeploymentID int64 `json:"deployment_id"`
	// Window is the window decision now (nil: no window, or not checked because the
	// deployment of this commit started earlier).
	Window *window.Decision `json:"window"`
	// After names the environment that must be validated first ("" for the first one, or
	// when the previous one is validated already).
	After string `json:"after"`
}

// Plan decides what Run would do now, writing nothing: see PlanResult. The client should
// be read-only (github.Options.ReadOnly), so that a path that would write fails instead.
// o.Gate should evaluate once without waiting (gate.Once); o.Smoke and o.Monitor are
// never called. Errors are bad options (outcome.ErrBadInput) and API failures.
func Plan(ctx context.Context, gh GitHub, o Options) (*PlanResult, error) {
	if err := o.check(gh); err != nil {
		return nil, err
	}
	r := &runner{gh: gh, o: o, cfg: o.Config, clk: o.Clock}
	r.res = &Result{SHA: o.SHA, Started: r.clk.Now()}
	r.plan()
	p := &PlanResult{SHA: o.SHA, Environments: []EnvPlan{}}
	stop := func(why string, v outcome.Verdict) {
		if p.Stop == "" {
			p.Stop, p.Outcome = why, v
		}
	}

	if halt, err := r.prepare(ctx); err != nil {
		return nil, err
	} else if halt {
		p.Outcome, p.Stop, p.Reason = outcome.Fail, r.res.Reason, "a run would stop before the gate: "+r.res.Reason
		return p, nil
	}
	p.Version = r.res.Version
	if halt, err := r.preflight(ctx); err != nil {
		return nil, err
	} else if halt {
		return r.preflightPlan(p), nil
	}

	if o.Gate != nil {
		g, err := o.Gate(ctx)
		if err != nil {
			return nil, fmt.Errorf("gate on %s: %w", sha7(o.SHA), err)
		}
		p.Gate = g
		switch g.Verdict {
		case gate.Pass:
		case gate.Pending:
			stop("the gate is not decided yet: "+g.Reason+"; a run waits for it before tagging", gate.Pending)
		default:
			stop("the gate blocks the release: "+g.Reason, outcome.Fail)
		}
	}

	var err error
	if p.CandidateTag, err = r.tagPlan(ctx, r.cand, "candidate tag"); err != nil {
		return nil, err
	}
	if p.CandidateTag.Action == PlanRefuse {
		stop(p.CandidateTag.Reason, outcome.Fail)
	}
	after := ""
	for i, env := range r.cfg.Environments {
		ep, err := r.envPlan(ctx, env, after)
		if err != nil {
			return nil, err
		}
		p.Environments = append(p.Environments, ep)
		switch ep.Action {
		case PlanRefuse:
			stop(env.Name+": "+ep.Reason, outcome.Fail)
		case PlanSchedule:
			// Named even when an earlier point stops the run first (a pending gate): it
			// is when this environment can be deployed at the earliest.
			if p.NextWindow.IsZero() {
				p.NextWindow = ep.Window.NextOpen
			}
			stop(env.Name+": "+ep.Reason, outcome.Scheduled)
		}
		if ep.Action != PlanSkip {
			after = r.cfg.Environments[i].Name
		}
	}
	p.Monitor = r.monitorPlan()
	if p.ReleaseTag, err = r.tagPlan(ctx, r.final, "release tag"); err != nil {
		return nil, err
	}
	if p.ReleaseTag.Action == PlanRefuse {
		stop(p.ReleaseTag.Reason, outcome.Fail)
	}
	if p.Outcome == "" {
		p.Outcome = outcome.Pass
		p.Reason = fmt.Sprintf("a release started now would run through: %s", p.steps())
	} else {
		p.Reason = fmt.Sprintf("a release started now would stop: %s", p.Stop)
	}
	return p, nil
}

// preflightPlan reports a release that preflight stopped: already complete, a release tag
// that would move, or a commit rolled back from an environment.
func (r *runner) preflightPlan(p *PlanResult) *PlanResult {
	res := r.res
	if res.AlreadyComplete {
		p.AlreadyComplete, p.Outcome = true, outcome.Pass
		p.CandidateTag = TagPlan{Name: res.Tag, Action: PlanReuse, Reason: "the release is complete"}
		p.ReleaseTag = TagPlan{Name: res.ReleaseTag, Action: PlanReuse, Reason: "the release is complete"}
		for _, e := range res.Environments {
			ep := EnvPlan{Name: e.Name, Stage: e.Stage, Action: PlanSkip, Reason: "validated before"}
			if e.Deploy != nil {
				ep.DeploymentID = e.Deploy.DeploymentID
			}
			p.Environments = append(p.Environments, ep)
		}
		p.Monitor = "passed before the release tag was made: not watched again"
		p.Reason = res.Reason
		return p
	}
	p.Outcome, p.Stop = outcome.Fail, res.Reason
	p.Reason = "a release started now would stop before the gate: " + res.Reason
	for _, e := range res.Environments {
		ep := EnvPlan{Name: e.Name, Stage: e.Stage, Action: "", Reason: "not reached"}
		if st := res.Step(deployStep(e.Name)); st != nil && st.Result == StepFail {
			ep.Action, ep.Reason = PlanRefuse, st.Detail
		}
		p.Environments = append(p.Environments, ep)
	}
	return p
}

func (r *runner) tagPlan(ctx context.Context, pat Pattern, what string) (TagPlan, error) {
	t, err := r.planTag(ctx, pat, what)
	if err != nil {
		return TagPlan{}, err
	}
	switch {
	case t.problem != "":
		return TagPlan{Action: PlanRefuse, Reason: t.problem}, nil
	case t.reused:
		return TagPlan{Name: t.name, Action: PlanReuse, Reason: fmt.Sprintf("%s already names %s", t.name, sha7(r.o.SHA))}, nil
	}
	return TagPlan{Name: t.name, Action: PlanCreate, Reason: fmt.Sprintf("no %s names %s yet: %s would be created (annotated)", what, sha7(r.o.SHA), t.name)}, nil
}

// envPlan is environment's decision without its actions: decide, then the window exactly
// as window() would judge it now, then the in-progress deployment of another commit.
func (r *runner) envPlan(ctx context.Context, env config.Environment, after string) (EnvPlan, error) {
	dec, err := r.decide(ctx, env)
	if err != nil {
		return EnvPlan{}, err
	}
	st := dec.st
	ep := EnvPlan{Name: env.Name, Stage: string(st.Stage), After: after}
	if st.Record != nil {
		ep.DeploymentID = st.Record.ID
	}
	switch {
	case dec.refused:
		ep.Action, ep.Reason = PlanRefuse, r.rolledBackMessage(env.Name, st)
		return ep, nil
	case dec.act == deploy.ActionNone:
		ep.Action, ep.Reason = PlanSkip, fmt.Sprintf("deployment %d of %s was validated before: reused", st.Record.ID, sha7(r.o.SHA))
		return ep, nil
	}
	if env.Window != nil && dec.act == deploy.ActionTrigger {
		sched, err := window.Compile(*env.Window)
		if err != nil {
			return EnvPlan{}, outcome.BadInputf("invalid release options: environment %s: %w", env.Name, err)
		}
		now := r.clk.Now()
		d := sched.Decide(now)
		ep.Window = &d
		switch {
		case d.Open:
		case r.o.ForceWindow:
			ep.Action, ep.Reason = PlanDeploy, fmt.Sprintf("window closed (%s); overridden by force-window: %s", d.Reason, untrusted.Clean(r.o.ForceReason))
		case window.WouldWait(d, now, sched.MaxWait()):
			ep.Action, ep.Reason = PlanWait, fmt.Sprintf("window closed (%s): a run waits until %s (within max-wait %s), then deploys",
				d.Reason, d.NextOpen.UTC().Format(time.RFC3339), sched.MaxWait())
		case d.NextOpen.IsZero():
			ep.Action, ep.Reason = PlanRefuse, fmt.Sprintf("cannot be deployed: %s", d.Reason)
			return ep, nil
		default:
			ep.Action, ep.Reason = PlanSchedule, fmt.Sprintf("window closed: %s; a run stops with result scheduled, next window %s",
				d.Reason, d.NextOpen.UTC().Format(time.RFC3339))
			return ep, nil
		}
	}
	if msg, _ := blockerMessage(env.Name, st); msg != "" {
		ep.Action, ep.Reason = PlanRefuse, msg
		return ep, nil
	}
	var what string
	switch dec.act {
	case deploy.ActionFollow:
		ep.Action = PlanResume
		what = fmt.Sprintf("follow deploy run %d of deployment %d, which an earlier attempt started (stage %s)", st.RunID, ep.DeploymentID, st.Stage)
	case deploy.ActionValidate:
		ep.Action = PlanValidate
		what = fmt.Sprintf("deployment %d was deployed before (stage %s): validate it again, no new deploy", ep.DeploymentID, st.Stage)
	default:
		ep.Action = PlanDeploy
		switch {
		case st.Superseded != nil:
			what = r.supersededText(env.Name, st)
		case st.Record != nil:
			what = fmt.Sprintf("deploy again on deployment %d (stage %s)", ep.DeploymentID, st.Stage)
		default:
			what = fmt.Sprintf("create a deployment of %s and dispatch %s", sha7(r.o.SHA), untrusted.Clean(r.cfg.Deploy.Workflow))
		}
	}
	if len(env.Smoke) > 0 {
		what += fmt.Sprintf(", then smoke %s", strings.Join(env.Smoke, ", "))
	}
	if ep.Reason != "" {
		ep.Reason += "; " + what
	} else {
		ep.Reason = what
	}
	if after != "" {
		ep.Reason += fmt.Sprintf(" (after %s is validated)", after)
	}
	return ep, nil
}

func (r *runner) monitorPlan() string {
	last := r.lastEnv()
	switch {
	case last.Name == "":
		return "no environments are configured"
	case last.Monitor == nil:
		return fmt.Sprintf("%s has no monitor: block: not watched", last.Name)
	}
	return fmt.Sprintf("watch %s for %s every %s", last.Name, last.Monitor.Duration, last.Monitor.Interval)
}

// steps lists the plan's actions in order, for its one-sentence reason.
func (p *PlanResult) steps() string {
	parts := []string{p.CandidateTag.Action + " " + p.CandidateTag.Name}
	for _, e := range p.Environments {
		parts = append(parts, e.Action+" "+e.Name)
	}
	parts = append(parts, p.ReleaseTag.Action+" "+p.ReleaseTag.Name)
	return strings.Join(parts, ", ")
}
