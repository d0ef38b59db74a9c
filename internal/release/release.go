package release

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/agentme/release-action/internal/outcome"
	"github.com/agentme/release-action/internal/untrusted"

	"github.com/agentme/release-action/internal/clock"
	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/deploy"
	"github.com/agentme/release-action/internal/gate"
	"github.com/agentme/release-action/internal/github"
	"github.com/agentme/release-action/internal/smoke"
	"github.com/agentme/release-action/internal/window"
)

type runner struct {
	gh  GitHub
	o   Options
	cfg *config.Config
	clk clock.Clock
	res *Result

	cand, final Pattern
	// finalAtSHA is the release tag found at the commit before anything ran.
	finalAtSHA string
	// monitored is the status that says the monitor passed on the last environment's
	// deployment of the commit, when a re-run found it validated with that status.
	monitored *github.DeploymentStatus
	cur       *stepRun
}

// Run releases the commit: the runbook's section 2 (see the package documentation). A
// release that fails, is scheduled or was already complete is a Result, not an error. Errors
// are API failures, cancellation and options Run cannot work with (outcome.ErrBadInput); then
// the Result, when not nil, holds what was done so far with Verdict "error", and a re-run
// resumes from the state in GitHub.
func Run(ctx context.Context, gh GitHub, o Options) (*Result, error) {
	if err := o.check(gh); err != nil {
		return nil, err
	}
	r := &runner{gh: gh, o: o, cfg: o.Config, clk: o.Clock}
	r.res = &Result{SHA: o.SHA, RunURL: o.RunURL, Started: r.clk.Now()}
	r.plan()
	err := r.run(ctx)
	r.finish(err)
	return r.res, err
}

// check validates the options; failures wrap outcome.ErrBadInput.
func (o *Options) check(gh GitHub) error {
	bad := func(format string, args ...any) error {
		return outcome.BadInputf("invalid release options: %s", fmt.Sprintf(format, args...))
	}
	switch {
	case gh == nil:
		return bad("no GitHub client")
	case o.Config == nil:
		return bad("no configuration")
	case o.Clock == nil:
		return bad("no clock")
	case !fullSHA(o.SHA):
		return bad("the commit %q is not a full 40-character SHA; resolve it first", untrusted.Clean(o.SHA))
	case o.ForceWindow && strings.TrimSpace(o.ForceReason) == "":
		return bad("force-window needs force-reason: say why the deployment window is overridden (it is recorded in the summary and the deployment)")
	}
	if o.Tag != "" {
		if err := config.CheckTagName(o.Tag); err != nil {
			return bad("the tag %q is not a valid tag name: %v", untrusted.Clean(o.Tag), err)
		}
	}
	for _, t := range []struct{ key, tpl string }{{"tags.candidate", o.Config.Tags.Candidate}, {"tags.release", o.Config.Tags.Release}} {
		if t.key == "tags.candidate" && o.Tag != "" {
			continue
		}
		if _, err := ParseTemplate(t.tpl); err != nil {
			return bad("%s: %v", t.key, err)
		}
	}
	for _, env := range o.Config.Environments {
		if env.Name == "" {
			return bad("an environment has no name")
		}
		if len(env.Smoke) > 0 && o.Smoke == nil {
			return bad("environment %s lists smoke probes but no smoke runner was given", env.Name)
		}
	}
	return nil
}

func fullSHA(s string) bool {
	if len(s) != 40 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// plan lists every step as "not run", in order.
func (r *runner) plan() {
	add := func(name string) { r.res.Steps = append(r.res.Steps, Step{Name: name, Result: StepNotRun}) }
	add(StepGate)
	add(StepCandidateTag)
	for _, env := range r.cfg.Environments {
		if env.Window != nil {
			add(windowStep(env.Name))
		}
		add(deployStep(env.Name))
		add(validateStep(env.Name))
		r.res.Environments = append(r.res.Environments, EnvResult{Name: env.Name, URL: env.URL})
	}
	add(monitorStep(r.lastEnv().Name))
	add(StepReleaseTag)
}

func (r *runner) lastEnv() config.Environment {
	if n := len(r.cfg.Environments); n > 0 {
		return r.cfg.Environments[n-1]
	}
	return config.Environment{}
}

func (r *runner) run(ctx context.Context) error {
	if stop, err := r.prepare(ctx); stop || err != nil {
		return err
	}
	if stop, err := r.preflight(ctx); stop || err != nil {
		return err
	}
	if stop, err := r.gate(ctx); stop || err != nil {
		return err
	}
	if stop, err := r.candidateTag(ctx); stop || err != nil {
		return err
	}
	for i := range r.cfg.Environments {
		if stop, err := r.environment(ctx, i); stop || err != nil {
			return err
		}
	}
	if stop, err := r.monitor(ctx); stop || err != nil {
		return err
	}
	return r.releaseTag(ctx)
}

// prepare reads {version} when a template needs it and binds the templates.
func (r *runner) prepare(ctx context.Context) (bool, error) {
	tags := r.cfg.Tags
	candTpl := LiteralTemplate(r.o.Tag)
	if r.o.Tag == "" {
		candTpl, _ = ParseTemplate(tags.Candidate) // checked by Options.check
	}
	finalTpl, _ := ParseTemplate(tags.Release)
	var version string
	if candTpl.UsesVersion() || finalTpl.UsesVersion() {
		step, why := StepCandidateTag, "tags.candidate ("+tags.Candidate+")"
		if !candTpl.UsesVersion() {
			step, why = StepReleaseTag, "tags.release ("+tags.Release+")"
		}
		v, problem, err := r.readVersion(ctx, why)
		if err != nil {
			return true, err
		}
		if problem != "" {
			r.set(step, StepFail, problem, "")
			r.fail(problem)
			return true, nil
		}
		version = v
		r.res.Version = v
	}
	r.cand = candTpl.Bind(version, r.o.SHA)
	r.final = finalTpl.Bind(version, r.o.SHA)
	// A version file can hold anything: check the names it makes before anything runs.
	today := r.clk.Now().UTC().Format(dateLayout)
	for _, c := range []struct {
		p          Pattern
		step, what string
	}{{r.cand, StepCandidateTag, "candidate tag"}, {r.final, StepReleaseTag, "release tag"}} {
		name := c.p.Render(Fields{N: 1, Date: today})
		if err := config.CheckTagName(name); err != nil {
			problem := fmt.Sprintf("the %s would be %q, which git refuses (%v): fix the template or the version", c.what, untrusted.Clean(name), err)
			r.set(c.step, StepFail, problem, "")
			r.fail(problem)
			return true, nil
		}
	}
	return false, nil
}

// preflight reads, without writing, what GitHub already has of this release: a release tag
// that names another commit (stop before the gate: tags never move), a release that is
// already complete (nothing to do), and environments the commit was rolled back from
// (refused unless Force, before anything is tagged or deployed).
func (r *runner) preflight(ctx context.Context) (bool, error) {
	ex, err := r.lookup(ctx, r.final, r.clk.Now().UTC().Format(dateLayout))
	if err != nil {
		return true, err
	}
	if ex.conflict != nil {
		msg := r.neverMove(*ex.conflict)
		r.set(StepReleaseTag, StepFail, msg, "")
		r.fail(msg)
		return true, nil
	}
	r.finalAtSHA = ex.found
	states := make([]deploy.State, len(r.cfg.Environments))
	complete := ex.found != ""
	for i, env := range r.cfg.Environments {
		st, err := deploy.Inspect(ctx, r.gh, env.Name, r.o.SHA, env.Timeout.D(), r.clk.Now())
		if err != nil {
			return true, err
		}
		states[i] = st
		complete = complete && st.Stage == deploy.StageValidated && !r.refused(st)
	}
	var rel github.Release
	if complete && r.githubRelease() {
		rel, err = r.gh.GetReleaseByTag(ctx, ex.found)
		switch {
		case errors.Is(err, github.ErrNotFound):
			complete = false
		case err != nil:
			return true, fmt.Errorf("read the GitHub release of %s: %w", ex.found, err)
		}
	}
	if complete {
		return true, r.complete(ctx, states, rel)
	}
	for i, st := range states {
		if r.refused(st) {
			msg := r.rolledBackMessage(r.cfg.Environments[i].Name, st)
			r.res.Environments[i].Stage = string(st.Stage)
			r.set(deployStep(r.cfg.Environments[i].Name), StepFail, msg, st.RolledBack.LogURL)
			r.fail(msg)
			return true, nil
		}
	}
	return false, nil
}

// complete fills the result of a release that was complete before this run, from GitHub's
// state alone: nothing is written.
func (r *runner) complete(ctx context.Context, states []deploy.State, rel github.Release) error {
	r.res.AlreadyComplete = true
	r.res.ReleaseTag = r.finalAtSHA
	r.res.ReleaseURL = rel.HTMLURL
	ex, err := r.lookup(ctx, r.cand, r.clk.Now().UTC().Format(dateLayout))
	if err != nil {
		return err
	}
	r.res.Tag = ex.found
	r.set(StepGate, StepReused, "the release is complete: its gate passed when it was made", "")
	if ex.found != "" {
		r.set(StepCandidateTag, StepReused, fmt.Sprintf("%s names %s", ex.found, sha7(r.o.SHA)), "")
	} else {
		r.set(StepCandidateTag, StepReused, "no candidate tag of this commit was found; the release tag names it", "")
	}
	for i, env := range r.cfg.Environments {
		if err := r.reuseEnvironment(ctx, i, env, states[i]); err != nil {
			return err
		}
	}
	last := r.lastEnv()
	if last.Monitor != nil {
		r.set(monitorStep(last.Name), StepReused, "the release tag exists: the monitor passed when it was made", "")
	} else {
		r.set(monitorStep(last.Name), StepNotConfigured, r.noMonitorDetail(), "")
	}
	detail := fmt.Sprintf("%s names %s", r.finalAtSHA, sha7(r.o.SHA))
	if rel.HTMLURL != "" {
		detail += "; GitHub release exists"
	}
	r.set(StepReleaseTag, StepReused, detail, rel.HTMLURL)
	r.res.Verdict = outcome.Pass
	r.res.Reason = fmt.Sprintf("%s of %s is already released (tag, deployments and validations are in GitHub): nothing to do; "+
		"this summary was rebuilt from GitHub's records", untrusted.Clean(r.finalAtSHA), sha7(r.o.SHA))
	r.say(r.res.Reason)
	return nil
}

// reuseEnvironment reports an environment whose deployment of the commit was validated before.
func (r *runner) reuseEnvironment(ctx context.Context, i int, env config.Environment, st deploy.State) error {
	er := &r.res.Environments[i]
	er.Stage = string(st.Stage)
	dr, err := r.reusedDeploy(ctx, env, st)
	if err != nil {
		return err
	}
	er.Deploy = dr
	if env.Window != nil {
		r.set(windowStep(env.Name), StepReused, "deployed before: the window was checked then", "")
	}
	r.set(deployStep(env.Name), StepReused, fmt.Sprintf("deployment %d of %s already made%s", dr.DeploymentID, sha7(r.o.SHA), runText(dr)), dr.RunURL)
	r.set(validateStep(env.Name), StepReused, "validated before (deployment status success)", "")
	return nil
}

func runText(dr *deploy.Result) string {
	if dr.RunID == 0 {
		return ""
	}
	return fmt.Sprintf(" by run %d", dr.RunID)
}

// reusedDeploy describes a deployment an earlier run made, from its record and statuses.
func (r *runner) reusedDeploy(ctx context.Context, env config.Environment, st deploy.State) (*deploy.Result, error) {
	dr := &deploy.Result{
		Environment: env.Name, Reused: true, RunID: st.RunID, State: deploy.StateSuccess,
		EnvironmentURL: env.URL, Workflow: r.cfg.Deploy.Workflow, Trigger: deploy.TriggerDispatch,
	}
	if r.cfg.Deploy.Event == deploy.TriggerEvent {
		dr.Trigger = deploy.TriggerEvent
	}
	if st.Record != nil {
		dr.DeploymentID = st.Record.ID
	}
	if st.Latest != nil && st.Latest.EnvironmentURL != "" {
		dr.EnvironmentURL = st.Latest.EnvironmentURL
	}
	if st.RunID != 0 {
		run, err := r.gh.GetWorkflowRun(ctx, st.RunID)
		switch {
		case errors.Is(err, github.ErrNotFound): // the run was deleted; the record stands
		case err != nil:
			return nil, fmt.Errorf("read deploy run %d of %s: %w", st.RunID, env.Name, err)
		default:
			dr.RunURL = run.HTMLURL
			dr.Conclusion = untrusted.Clean(run.Conclusion)
		}
	}
	return dr, nil
}

// refused reports whether the commit was rolled back from the environment and may not be
// deployed there again without Force. A deployment validated after the rollback (a forced
// re-deploy) is not refused again.
func (r *runner) refused(st deploy.State) bool {
	if st.RolledBack == nil || r.o.Force {
		return false
	}
	return !(st.Stage == deploy.StageValidated && st.Latest != nil && st.Latest.CreatedAt.After(st.RolledBack.CreatedAt))
}

func (r *runner) rolledBackMessage(env string, st deploy.State) string {
	rb := st.RolledBack
	reason := strings.TrimPrefix(rb.Description, deploy.Prefix)
	reason = strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(reason, "rolled back"), ":"))
	if reason == "" {
		reason = "no reason recorded"
	}
	return fmt.Sprintf("commit %s was rolled back from %s at %s (%s); re-deploying it needs force: true",
		sha7(r.o.SHA), env, rb.CreatedAt.UTC().Format(time.RFC3339), untrusted.Clean(untrusted.Cut(reason, 200)))
}

func (r *runner) githubRelease() bool {
	return r.cfg.Tags.GitHubRelease == nil || *r.cfg.Tags.GitHubRelease
}

// gate runs the gate on the candidate.
func (r *runner) gate(ctx context.Context) (bool, error) {
	s := r.start(StepGate)
	if r.o.Gate == nil {
		s.done(StepSkipped, "no gate was run on the candidate", "")
		return false, nil
	}
	g, err := r.o.Gate(ctx)
	if err == nil && g == nil {
		err = errors.New("the gate returned no result")
	}
	if err != nil {
		return true, fmt.Errorf("gate on %s: %w", sha7(r.o.SHA), err)
	}
	r.res.Gate = g
	if g.Verdict != gate.Pass {
		s.done(StepFail, g.Reason, "")
		r.fail("the gate blocked the release: " + g.Reason)
		return true, nil
	}
	s.done(StepPass, g.Reason, "")
	return false, nil
}

// candidateTag finds or makes the candidate tag (and its pre-release when configured).
func (r *runner) candidateTag(ctx context.Context) (bool, error) {
	s := r.start(StepCandidateTag)
	t, err := r.ensureTag(ctx, r.cand, "candidate tag", r.tagMessage("Release candidate"))
	if err != nil {
		return true, err
	}
	if t.problem != "" {
		s.done(StepFail, t.problem, "")
		r.fail(t.problem)
		return true, nil
	}
	r.res.Tag = t.name
	result, detail := StepPass, fmt.Sprintf("created annotated tag %s at %s", t.name, sha7(r.o.SHA))
	if t.reused {
		result, detail = StepReused, fmt.Sprintf("%s already names %s: reused", t.name, sha7(r.o.SHA))
	}
	link := ""
	if r.cfg.Tags.Prerelease {
		body := fmt.Sprintf("Release candidate %s of %s.", t.name, r.o.SHA)
		if r.o.RunURL != "" {
			body += "\n\nRelease run: " + r.o.RunURL
		}
		rel, reused, err := r.publish(ctx, t.name, body+"\n", true)
		if err != nil {
			return true, err
		}
		r.res.PrereleaseURL, link = rel.HTMLURL, rel.HTMLURL
		if reused {
			detail += "; pre-release exists"
		} else {
			detail += "; pre-release created"
		}
	}
	s.done(result, detail, link)
	return false, nil
}

// environment deploys and validates one environment, resuming from what GitHub records.
func (r *runner) environment(ctx context.Context, i int) (bool, error) {
	env := r.cfg.Environments[i]
	er := &r.res.Environments[i]
	st, err := r.inspect(ctx, env)
	if err != nil {
		return true, err
	}
	er.Stage = string(st.Stage)
	if r.refused(st) {
		msg := r.rolledBackMessage(env.Name, st)
		r.set(deployStep(env.Name), StepFail, msg, st.RolledBack.LogURL)
		r.fail(msg)
		return true, nil
	}
	if st.Stage == deploy.StageValidated {
		r.say(fmt.Sprintf("%s: deployment %d of %s was validated before: reusing it", env.Name, st.Record.ID, sha7(r.o.SHA)))
		if i == len(r.cfg.Environments)-1 && st.Monitored {
			r.monitored = st.Latest
		}
		return false, r.reuseEnvironment(ctx, i, env, st)
	}

	act, err := deploy.Next(ctx, r.gh, &st)
	if err != nil {
		return true, err
	}
	if env.Window != nil {
		if act == deploy.ActionTrigger {
			// Every new deploy run passes the window first, a re-deploy of a record an
			// earlier attempt left (its run gone, failed or superseded) included.
			stop, waited, err := r.window(ctx, env, er)
			if stop || err != nil {
				return true, err
			}
			if waited {
				// Time passed: a deployment of another commit may have started or ended.
				if st, err = r.inspect(ctx, env); err != nil {
					return true, err
				}
				if act, err = deploy.Next(ctx, r.gh, &st); err != nil {
					return true, err
				}
			}
		} else {
			r.set(windowStep(env.Name), StepReused,
				fmt.Sprintf("the deployment of this commit started earlier (stage %s): the window is not checked again", st.Stage), "")
		}
	}
	superseded := ""
	if act == deploy.ActionTrigger && st.Superseded != nil {
		superseded = r.supersededText(env.Name, st)
		r.say(superseded)
	}

	s := r.start(deployStep(env.Name))
	if b := st.Blocker; b != nil {
		msg := fmt.Sprintf("%s has an in-progress deployment of %s (deployment %d", env.Name, sha7(untrusted.Clean(b.SHA)), b.ID)
		link := ""
		if st.BlockerStatus != nil && st.BlockerStatus.LogURL != "" {
			link = st.BlockerStatus.LogURL
			msg += ", " + untrusted.Clean(link)
		}
		msg += "): wait for it or cancel it; use a concurrency group (README)"
		s.done(StepFail, msg, link)
		r.fail(msg)
		return true, nil
	}
	var dr *deploy.Result
	if act == deploy.ActionTrigger || act == deploy.ActionFollow {
		dr, err = deploy.Deploy(ctx, r.gh, deploy.Options{
			Environment:  env,
			Trigger:      r.cfg.Deploy,
			SHA:          r.o.SHA,
			Tag:          r.res.Tag,
			Payload:      deploy.Payload{RunURL: r.o.RunURL, ForcedWindow: er.Forced, ForcedReason: er.ForcedReason},
			Production:   i == deploy.ProductionIndex(r.cfg.Environments),
			Clock:        r.clk,
			Progress:     r.o.Progress,
			PollInterval: r.o.PollInterval,
			State:        &st,
		})
		if dr != nil {
			er.Deploy = dr
		}
		if err != nil {
			return true, err
		}
		if dr.State != deploy.StateSuccess {
			s.done(StepFail, dr.Reason, dr.RunURL)
			r.fail(fmt.Sprintf("deploying %s to %s failed: %s; run the release again once fixed: it reuses deployment %d",
				sha7(r.o.SHA), env.Name, dr.Reason, dr.DeploymentID))
			return true, nil
		}
		detail := deployDetail(dr)
		if superseded != "" {
			detail += fmt.Sprintf("; deployed again: deployment %d of %s came after the earlier deploy", st.Superseded.ID, sha7(untrusted.Clean(st.Superseded.SHA)))
		}
		s.done(StepPass, detail, dr.RunURL)
	} else {
		if dr, err = r.reusedDeploy(ctx, env, st); err != nil {
			return true, err
		}
		er.Deploy = dr
		s.done(StepReused, fmt.Sprintf("deployment %d of %s was deployed before%s (stage %s): validating it again",
			dr.DeploymentID, sha7(r.o.SHA), runText(dr), st.Stage), dr.RunURL)
	}
	return r.validate(ctx, env, er)
}

func (r *runner) inspect(ctx context.Context, env config.Environment) (deploy.State, error) {
	return deploy.Inspect(ctx, r.gh, env.Name, r.o.SHA, env.Timeout.D(), r.clk.Now())
}

// supersededText says why a deployment an earlier attempt made is deployed again.
func (r *runner) supersededText(env string, st deploy.State) string {
	o, oStatus := st.Superseded, st.SupersededStatus
	at := ""
	if oStatus != nil && !oStatus.CreatedAt.IsZero() {
		at = " at " + oStatus.CreatedAt.UTC().Format(time.RFC3339)
	}
	return fmt.Sprintf("%s: deployment %d of %s (stage %s) is no longer what %s runs: deployment %d of %s was deployed there since%s; deploying %s again",
		env, st.Record.ID, sha7(r.o.SHA), st.Stage, env, o.ID, sha7(untrusted.Clean(o.SHA)), at, sha7(r.o.SHA))
}

func deployDetail(dr *deploy.Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "deployment %d", dr.DeploymentID)
	if dr.Reused {
		b.WriteString(" (reused)")
	}
	if dr.RunID != 0 {
		fmt.Fprintf(&b, ", run %d concluded %s", dr.RunID, dr.Conclusion)
	}
	if w := dr.WaitedApproval.D(); w > 0 {
		fmt.Fprintf(&b, "; waited %s for approval", w.Round(time.Second))
		if len(dr.Approvers) > 0 {
			fmt.Fprintf(&b, " by %s", strings.Join(dr.Approvers, ", "))
		}
	}
	return b.String()
}

// window checks the environment's window (waiting up to max-wait for it to open).
func (r *runner) window(ctx context.Context, env config.Environment, er *EnvResult) (stop, waited bool, err error) {
	s := r.start(windowStep(env.Name))
	sched, err := window.Compile(*env.Window)
	if err != nil {
		return true, false, outcome.BadInputf("invalid release options: environment %s: %w", env.Name, err)
	}
	if r.o.ForceWindow {
		d := sched.Decide(r.clk.Now())
		er.Window = &d
		if d.Open {
			s.done(StepPass, d.Reason+" (force-window was not needed)", "")
			return false, false, nil
		}
		er.Forced, er.ForcedReason = true, r.o.ForceReason
		s.done(StepPass, fmt.Sprintf("closed (%s); overridden by force-window: %s", d.Reason, r.o.ForceReason), "")
		r.say(fmt.Sprintf("warning: %s: deploying outside its window (force-window): %s", env.Name, untrusted.Clean(r.o.ForceReason)))
		return false, false, nil
	}
	start := r.clk.Now()
	d, waited, err := sched.Wait(ctx, r.clk, sched.MaxWait(), func(line string) { r.say(env.Name + ": " + line) })
	er.Window = &d
	er.WindowWaited = config.Duration(r.clk.Now().Sub(start))
	if err != nil {
		return true, waited, err
	}
	switch {
	case d.Open:
		detail := d.Reason
		if waited {
			detail = fmt.Sprintf("opened after waiting %s: %s", er.WindowWaited.D().Round(time.Second), d.Reason)
		}
		s.done(StepPass, detail, "")
		return false, waited, nil
	case d.NextOpen.IsZero():
		s.done(StepFail, d.Reason, "")
		r.fail(fmt.Sprintf("%s cannot be deployed: %s", env.Name, d.Reason))
		return true, waited, nil
	default:
		s.done(StepScheduled, d.Reason, "")
		r.res.Verdict = outcome.Scheduled
		r.res.NextWindow = d.NextOpen
		r.res.Reason = fmt.Sprintf("the %s window is closed: %s; nothing was deployed to %s. Run the release again when the window opens "+
			"(%s): it resumes where it stopped; or override with force-window and force-reason",
			env.Name, d.Reason, env.Name, d.NextOpen.UTC().Format(time.RFC3339))
		r.say(r.res.Reason)
		return true, waited, nil
	}
}

// validate runs the environment's smoke probes and marks the deployment.
func (r *runner) validate(ctx context.Context, env config.Environment, er *EnvResult) (bool, error) {
	s := r.start(validateStep(env.Name))
	id := er.Deploy.DeploymentID
	logURL := r.o.RunURL
	if logURL == "" {
		logURL = er.Deploy.RunURL
	}
	if len(env.Smoke) == 0 {
		if err := deploy.MarkValidated(ctx, r.gh, id, env.URL, logURL); err != nil {
			return true, err
		}
		s.done(StepSkipped, fmt.Sprintf("%s lists no smoke probes: deployment %d marked validated without them", env.Name, id), "")
		return false, nil
	}
	rep, err := r.o.Smoke(ctx, env)
	if err == nil && rep == nil {
		err = errors.New("the smoke run returned no report")
	}
	if err != nil {
		return true, fmt.Errorf("smoke %s: %w", env.Name, err)
	}
	er.Smoke = rep
	if !rep.Passed() {
		detail := smokeFailure(rep)
		if err := deploy.MarkSmokeFailed(ctx, r.gh, id, detail, logURL); err != nil {
			return true, err
		}
		s.done(StepFail, "smoke failed: "+detail, "")
		r.fail(fmt.Sprintf("validating %s failed: %s; fix it and run the release again: deployment %d is validated again without a new deploy",
			env.Name, detail, id))
		return true, nil
	}
	if err := deploy.MarkValidated(ctx, r.gh, id, env.URL, logURL); err != nil {
		return true, err
	}
	s.done(StepPass, fmt.Sprintf("%d of %d smoke probes passed", len(rep.Probes), len(rep.Probes)), "")
	return false, nil
}

// smokeFailure names what failed: "probes channel, bootstrap" or the readiness failure.
func smokeFailure(rep *smoke.Report) string {
	if !rep.Ready {
		return fmt.Sprintf("the gateway did not come up within %s", rep.ReadyAfter.Round(time.Second))
	}
	var failed []string
	detail := ""
	for _, p := range rep.Probes {
		if !p.OK {
			failed = append(failed, untrusted.Clean(p.Name))
			detail = p.Detail
		}
	}
	switch {
	case len(failed) == 0:
		return "verdict " + untrusted.Clean(string(rep.Verdict))
	case len(failed) == 1 && strings.TrimSpace(detail) != "":
		// One failure: its detail (sanitized by smoke) says what to look at.
		return "probe " + failed[0] + ": " + untrusted.Cut(strings.TrimSpace(untrusted.Clean(detail)), 100)
	case len(failed) == 1:
		return "probe " + failed[0]
	}
	return "probes " + strings.Join(failed, ", ")
}

// monitor watches the last environment after it was validated.
func (r *runner) monitor(ctx context.Context) (bool, error) {
	envs := r.cfg.Environments
	if len(envs) == 0 {
		r.set(monitorStep(""), StepNotConfigured, "no environments are configured", "")
		return false, nil
	}
	i := len(envs) - 1
	env, er := envs[i], &r.res.Environments[i]
	name := monitorStep(env.Name)
	switch {
	case env.Monitor == nil || r.o.Monitor == nil:
		r.set(name, StepNotConfigured, r.noMonitorDetail(), "")
		return false, nil
	case r.finalAtSHA != "" && er.Stage == string(deploy.StageValidated):
		r.set(name, StepReused, fmt.Sprintf("%s names this commit: the monitor passed before it was made", r.finalAtSHA), "")
		return false, nil
	case r.monitored != nil:
		r.set(name, StepReused, fmt.Sprintf("the monitor passed on deployment %d at %s (its status says so): not watched again",
			er.Deploy.DeploymentID, r.monitored.CreatedAt.UTC().Format(time.RFC3339)), r.monitored.LogURL)
		return false, nil
	}
	s := r.start(name)
	out, err := r.o.Monitor(ctx, env, er.Deploy.DeploymentID)
	if err == nil && out == nil {
		err = errors.New("the monitor returned no outcome")
	}
	if out != nil {
		er.Monitor = out
	}
	rb := out.RollbackText(env.Name)
	if err != nil {
		if rb != "" {
			return true, fmt.Errorf("monitor %s: %w; %s", env.Name, err, rb)
		}
		return true, fmt.Errorf("monitor %s: %w", env.Name, err)
	}
	if out.Verdict() != outcome.Pass {
		detail := out.Reason()
		msg := fmt.Sprintf("the post-release monitor of %s failed: %s", env.Name, out.Reason())
		switch {
		case out.RolledBack():
			detail += "; " + rb
			msg += fmt.Sprintf("; %s, and re-deploying this commit there needs force: true", rb)
		case rb != "":
			detail += "; " + rb
			msg += "; " + rb
		}
		s.done(StepFail, detail, "")
		r.fail(msg)
		return true, nil
	}
	// Recorded on the deployment, so that a re-run (after the release tag failed, say)
	// does not watch the environment for another monitor duration.
	if err := deploy.MarkMonitored(ctx, r.gh, er.Deploy.DeploymentID, env.URL, r.o.RunURL); err != nil {
		r.say(fmt.Sprintf("warning: recording that the monitor passed on deployment %d failed (%v): a re-run would watch %s again",
			er.Deploy.DeploymentID, err, env.Name))
	}
	s.done(StepPass, out.Reason(), "")
	return false, nil
}

func (r *runner) noMonitorDetail() string {
	env := r.lastEnv()
	switch {
	case env.Name == "":
		return "no environments are configured"
	case env.Monitor == nil:
		return fmt.Sprintf("%s has no monitor: block in the configuration", env.Name)
	default:
		return fmt.Sprintf("%s has a monitor: block, but this run has no monitor to run it", env.Name)
	}
}

// releaseTag makes the final tag and its GitHub release.
func (r *runner) releaseTag(ctx context.Context) error {
	s := r.start(StepReleaseTag)
	t, err := r.ensureTag(ctx, r.final, "release tag", r.tagMessage("Release"))
	if err != nil {
		return err
	}
	if t.problem != "" {
		s.done(StepFail, t.problem, "")
		r.fail(t.problem)
		return nil
	}
	r.res.ReleaseTag = t.name
	result, detail := StepPass, fmt.Sprintf("created annotated tag %s at %s", t.name, sha7(r.o.SHA))
	if t.reused {
		result, detail = StepReused, fmt.Sprintf("%s already names %s: reused", t.name, sha7(r.o.SHA))
	}
	r.res.Verdict = outcome.Pass
	r.res.Reason = r.passReason()
	if !r.githubRelease() {
		s.done(result, detail, "")
		return nil
	}
	// The body is the summary of the finished release; only the release's own URL is
	// unknown while it is rendered.
	s.set(result, detail, "")
	r.stamp()
	body := r.body()
	rel, reused, err := r.publish(ctx, t.name, body, false)
	if err != nil {
		return err
	}
	r.res.ReleaseURL = rel.HTMLURL
	if reused {
		detail += "; GitHub release updated"
	} else {
		detail += "; GitHub release published"
	}
	s.done(result, detail, rel.HTMLURL)
	return nil
}

func (r *runner) passReason() string {
	var names []string
	for _, e := range r.cfg.Environments {
		names = append(names, e.Name)
	}
	where := ""
	if len(names) > 0 {
		where = " to " + strings.Join(names, ", then ")
	}
	return fmt.Sprintf("released %s (candidate %s) of %s%s", untrusted.Clean(r.res.ReleaseTag), untrusted.Clean(r.res.Tag), sha7(r.o.SHA), where)
}

// body renders the GitHub release body.
func (r *runner) body() string {
	if r.o.Render != nil {
		return r.o.Render(r.res)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Release %s of %s (candidate %s).\n\n", r.res.ReleaseTag, r.o.SHA, r.res.Tag)
	for _, e := range r.res.Environments {
		if e.Deploy != nil {
			fmt.Fprintf(&b, "- %s: deployment %d, validated\n", e.Name, e.Deploy.DeploymentID)
		}
	}
	if r.o.RunURL != "" {
		fmt.Fprintf(&b, "\nRelease run: %s\n", r.o.RunURL)
	}
	return b.String()
}

// fail records the release's failure (the first one wins).
func (r *runner) fail(reason string) {
	if r.res.Verdict == "" {
		r.res.Verdict = outcome.Fail
		r.res.Reason = reason
		r.say("release failed: " + reason)
	}
}

// stamp sets the end time and duration.
func (r *runner) stamp() {
	r.res.Finished = r.clk.Now()
	r.res.Duration = config.Duration(r.res.Finished.Sub(r.res.Started))
}

func (r *runner) finish(err error) {
	if err != nil {
		if r.cur != nil {
			r.cur.done(StepError, untrusted.Clean(err.Error()), "")
		}
		r.res.Verdict = outcome.Error
		r.res.Reason = fmt.Sprintf("the release stopped on an error: %s; run it again: it resumes from what GitHub records", untrusted.Clean(err.Error()))
	}
	if r.res.Verdict == "" {
		r.res.Verdict = outcome.Pass
		r.res.Reason = r.passReason()
	}
	for _, s := range r.res.Steps {
		if s.Result == StepReused {
			r.res.Resumed = true
		}
	}
	for _, e := range r.res.Environments {
		if e.Deploy != nil && e.Deploy.Reused {
			r.res.Resumed = true
		}
	}
	r.stamp()
}

// stepRun is a step in progress: its runner group is open.
type stepRun struct {
	r     *runner
	name  string
	start time.Time
	end   func()
}

func (r *runner) start(name string) *stepRun {
	s := &stepRun{r: r, name: name, start: r.clk.Now(), end: func() {}}
	if r.o.Group != nil {
		if end := r.o.Group(strings.ToUpper(name[:1]) + name[1:]); end != nil {
			s.end = end
		}
	}
	r.cur = s
	return s
}

// set records the step's result without ending it.
func (s *stepRun) set(result, detail, link string) {
	st := s.r.res.Step(s.name)
	st.Result, st.Detail, st.Link = result, detail, link
	st.Duration = config.Duration(s.r.clk.Now().Sub(s.start))
}

func (s *stepRun) done(result, detail, link string) {
	s.set(result, detail, link)
	// A gate that ran has already printed its verdict in the same words.
	if !(s.name == StepGate && (result == StepPass || result == StepFail)) {
		s.r.say(stepLine(s.name, result, detail))
	}
	s.end()
	if s.r.cur == s {
		s.r.cur = nil
	}
}

// set records a step that did not run as such (reused, not configured, refused early).
func (r *runner) set(name, result, detail, link string) {
	st := r.res.Step(name)
	if st == nil {
		return
	}
	st.Result, st.Detail, st.Link = result, detail, link
	r.say(stepLine(name, result, detail))
}

func stepLine(name, result, detail string) string {
	if detail == "" {
		return name + ": " + result
	}
	return name + ": " + result + ": " + detail
}

func (r *runner) say(msg string) {
	if r.o.Progress != nil {
		r.o.Progress(untrusted.Clean(msg))
	}
}
