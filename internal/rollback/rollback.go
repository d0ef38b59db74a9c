package rollback

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/agentme/release-action/internal/outcome"
	"github.com/agentme/release-action/internal/untrusted"

	"github.com/agentme/release-action/internal/clock"
	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/deploy"
	"github.com/agentme/release-action/internal/github"
	"github.com/agentme/release-action/internal/smoke"
)

// DefaultEnvironment is rolled back when Options.Environment is empty.
const DefaultEnvironment = "production"

var hexRef = regexp.MustCompile(`^[0-9a-fA-F]{7,40}$`)

type runner struct {
	gh         GitHub
	o          Options
	clk        clock.Clock
	env        config.Environment
	production bool
	reason     string
	probes     []string
	res        *Result

	bad         *github.Deployment        // the record to mark rolled back (nil: unknown)
	badStatuses []github.DeploymentStatus // its statuses, newest first
	badTag      string
}

// Run rolls the environment back (see the package documentation). It returns a Result
// for every outcome it reached, the failed ones included (Verdict "fail", LeftState
// filled); an error for bad input (wrapping outcome.ErrBadInput, no Result), and for API failures
// or cancellation (with the Result so far, LeftState saying what is known).
func Run(ctx context.Context, gh GitHub, o Options) (*Result, error) {
	r, err := newRunner(gh, o)
	if err != nil {
		return nil, err
	}
	return r.run(ctx)
}

func newRunner(gh GitHub, o Options) (*runner, error) {
	if gh == nil {
		return nil, errors.New("rollback: no GitHub client")
	}
	if o.Config == nil {
		return nil, outcome.BadInputf("invalid rollback request: no configuration: the rollback needs the environment's settings")
	}
	name := cmp.Or(strings.TrimSpace(o.Environment), DefaultEnvironment)
	idx := slices.IndexFunc(o.Config.Environments, func(e config.Environment) bool { return strings.EqualFold(e.Name, name) })
	if idx < 0 {
		var names []string
		for _, e := range o.Config.Environments {
			names = append(names, e.Name)
		}
		known := "none is configured"
		if len(names) > 0 {
			known = "configured: " + strings.Join(names, ", ")
		}
		return nil, outcome.BadInputf("invalid rollback request: environment %q is not in the configuration (%s): add it under environments or name a configured one", name, known)
	}
	reason := untrusted.OneLine(o.Reason, 200)
	if reason == "" {
		return nil, outcome.BadInputf("invalid rollback request: a reason is required: say why %s is rolled back (it is recorded in the deployment statuses and the incident note)", name)
	}
	r := &runner{
		gh: gh, o: o, clk: o.Clock, env: o.Config.Environments[idx], reason: reason,
		production: idx == deploy.ProductionIndex(o.Config.Environments),
	}
	if r.clk == nil {
		r.clk = clock.Real{}
	}
	if o.Probes != nil {
		for _, p := range o.Probes {
			if !slices.Contains(smoke.AllProbes(), p) {
				return nil, outcome.BadInputf("invalid rollback request: unknown smoke probe %q: known probes are %s", p, strings.Join(smoke.AllProbes(), ", "))
			}
		}
		r.probes = o.Probes
	} else {
		for _, p := range smoke.RollbackProbes() {
			if r.env.Smoke == nil || slices.Contains(r.env.Smoke, p) {
				r.probes = append(r.probes, p)
			}
		}
	}
	if len(r.probes) > 0 && o.Smoke == nil {
		return nil, outcome.BadInputf("invalid rollback request: rollback of %s: smoke probes %s but no smoke runner", r.env.Name, strings.Join(r.probes, ", "))
	}
	r.res = &Result{Environment: r.env.Name, RollbackReason: reason, Probes: append([]string{}, r.probes...), RunURL: o.RunURL}
	return r, nil
}

func (r *runner) say(format string, args ...any) {
	if r.o.Progress != nil {
		r.o.Progress("rollback of " + r.env.Name + ": " + fmt.Sprintf(format, args...))
	}
}

func (r *runner) run(ctx context.Context) (*Result, error) {
	res := r.res
	res.Started = r.clk.Now()
	r.say("started: %s", r.reason)

	follow, stage, why, err := r.decideTarget(ctx)
	if err == nil && follow != nil {
		return r.follow(ctx, follow, stage)
	}
	if errors.Is(err, outcome.ErrBadInput) {
		return nil, err
	}
	if err != nil {
		return r.stop(ctx, err, r.unchanged())
	}
	if why != "" {
		return r.fail(ctx, why, r.unchanged())
	}
	// Stop the rollout only once the request is known to be good: bad input cancels nothing.
	if why, err := r.stopRollout(ctx); err != nil {
		return r.stop(ctx, err, "unknown: stopping the rollout failed part-way; "+r.unchanged())
	} else if why != "" {
		return r.fail(ctx, why, r.unchanged())
	}
	state, why, err := r.decideDeploy(ctx, false)
	if err != nil {
		return r.stop(ctx, err, r.unchanged())
	}
	if why != "" {
		return r.fail(ctx, why, r.unchanged())
	}

	target := fmt.Sprintf("%s (%s)", untrusted.Clean(res.To.Tag), untrusted.ShortSHA(res.To.SHA))
	r.say("deploying %s in place of %s", target, r.fromText())
	dres, err := deploy.Deploy(ctx, r.gh, deploy.Options{
		Environment: r.env,
		Trigger:     r.trigger(),
		SHA:         res.To.SHA, Tag: res.To.Tag,
		Payload: deploy.Payload{Commit: res.To.SHA, Tag: res.To.Tag, RunURL: r.o.RunURL,
			Rollback: true, RollbackFrom: res.From.SHA, Reason: r.reason},
		Production:   r.production,
		Clock:        r.clk,
		Progress:     r.o.Progress,
		PollInterval: r.o.PollInterval,
		State:        state,
	})
	res.Deploy = dres
	if dres != nil {
		res.To.DeploymentID = dres.DeploymentID
	}
	if err != nil {
		return r.stop(ctx, err, fmt.Sprintf("unknown: the rollback deployment%s of %s stopped on an error before it finished; %s may still run %s or be part-way through the deploy: look at the deploy run, then run the rollback again (it resumes the same deployment)",
			idText(res.To.DeploymentID), target, r.env.Name, r.fromText()))
	}
	if dres.State != deploy.StateSuccess {
		detail := cmp.Or(untrusted.OneLine(dres.Reason, 300), "the deploy ended in state "+dres.State)
		return r.fail(ctx, fmt.Sprintf("the rollback deployment %d of %s failed: %s", dres.DeploymentID, target, detail),
			fmt.Sprintf("%s still runs %s; the rollback deployment %d failed: %s", r.env.Name, r.fromText(), dres.DeploymentID, detail))
	}

	// The environment no longer runs the bad commit: record that before anything else can fail.
	if r.bad != nil {
		note := fmt.Sprintf("by deployment %d (%s): %s", dres.DeploymentID, untrusted.Clean(res.To.Tag), r.reason)
		if err := deploy.MarkRolledBack(ctx, r.gh, r.bad.ID, note, r.o.RunURL); err != nil {
			return r.stop(ctx, err, fmt.Sprintf("%s runs %s (rollback deployment %d, not validated yet); marking deployment %d of %s as rolled back failed, so a release would not refuse to redeploy it: add the status by hand or run the rollback again with current-sha %s",
				r.env.Name, target, dres.DeploymentID, r.bad.ID, untrusted.ShortSHA(res.From.SHA), res.From.SHA))
		}
		res.BadMarked = true
		r.say("deployment %d of %s marked rolled back", r.bad.ID, untrusted.ShortSHA(res.From.SHA))
	}

	if len(r.probes) > 0 {
		r.say("validating %s with smoke probes %s", target, strings.Join(r.probes, ", "))
		rep, err := r.o.Smoke(ctx, r.env, r.probes)
		if err != nil {
			return r.stop(ctx, fmt.Errorf("smoke after the rollback of %s: %w", r.env.Name, err),
				fmt.Sprintf("%s runs %s (rollback deployment %d), not validated: the smoke probes could not run", r.env.Name, target, dres.DeploymentID))
		}
		res.Smoke = rep
		if !rep.Passed() {
			failed := failedProbes(rep)
			if err := deploy.MarkSmokeFailed(ctx, r.gh, dres.DeploymentID, "probes "+strings.Join(failed, ", "), r.o.RunURL); err != nil {
				r.warn("adding the smoke failed status to deployment %d failed: %v", dres.DeploymentID, err)
			}
			return r.fail(ctx, fmt.Sprintf("%s was deployed (deployment %d) but its smoke probes failed: %s", target, dres.DeploymentID, probeDetails(rep)),
				fmt.Sprintf("%s runs %s (rollback deployment %d), but the smoke probes %s failed: the gateway is not proven healthy; check it by hand (runbook section 3) and roll back further with to: <older tag> if it is broken too",
					r.env.Name, target, dres.DeploymentID, strings.Join(failed, ", ")))
		}
	}
	if err := deploy.MarkValidated(ctx, r.gh, dres.DeploymentID, r.env.URL, r.o.RunURL); err != nil {
		return r.stop(ctx, err, fmt.Sprintf("%s runs %s (rollback deployment %d), validated, but its success status could not be written", r.env.Name, target, dres.DeploymentID))
	}
	res.Validated = true
	end, err := r.validatedAt(ctx, dres.DeploymentID)
	if err != nil {
		r.warn("reading the statuses of deployment %d back failed (%v): the impact window ends at this run's clock", dres.DeploymentID, err)
	}
	r.closeWindow(end)

	res.Verdict = outcome.Pass
	validated := "validated by smoke probes " + strings.Join(r.probes, ", ")
	if len(r.probes) == 0 {
		validated = "validated by its deploy alone (the environment has no smoke probes)"
	}
	res.Reason = fmt.Sprintf("%s rolled back from %s to %s (deployment %d), %s", r.env.Name, r.fromText(), target, dres.DeploymentID, validated)
	return r.finish(ctx, nil)
}

func (r *runner) trigger() config.Deploy {
	if r.o.Trigger != (config.Deploy{}) {
		return r.o.Trigger
	}
	return r.o.Config.Deploy
}

// unchanged describes the environment when the rollback changed nothing.
func (r *runner) unchanged() string {
	if r.res.From.SHA == "" {
		return fmt.Sprintf("nothing changed in %s", r.env.Name)
	}
	return fmt.Sprintf("nothing changed: %s still runs %s", r.env.Name, r.fromText())
}

// fromText names the bad commit: "v1.2.3-rc.1 (0123abc)" or "0123abc".
func (r *runner) fromText() string {
	f := r.res.From
	switch {
	case f.SHA == "":
		return "its current deployment"
	case f.Tag != "":
		return fmt.Sprintf("%s (%s)", untrusted.Clean(f.Tag), untrusted.ShortSHA(f.SHA))
	}
	return untrusted.ShortSHA(f.SHA)
}

func (r *runner) warn(format string, args ...any) {
	w := fmt.Sprintf(format, args...)
	r.res.Warnings = append(r.res.Warnings, w)
	r.say("warning: %s", w)
}

// fail ends a rollback that did not reach its goal.
func (r *runner) fail(ctx context.Context, reason, left string) (*Result, error) {
	r.res.Verdict, r.res.Reason, r.res.LeftState = outcome.Fail, reason, left
	r.closeWindow(time.Time{})
	return r.finish(ctx, nil)
}

// stop ends a rollback on an error (API failure, cancellation).
func (r *runner) stop(ctx context.Context, err error, left string) (*Result, error) {
	r.res.Verdict, r.res.LeftState = outcome.Error, left
	r.res.Reason = fmt.Sprintf("the rollback of %s stopped on an error: %v", r.env.Name, err)
	r.closeWindow(time.Time{})
	return r.finish(ctx, err)
}

// finish writes the incident note, opens the issue, and returns.
func (r *runner) finish(ctx context.Context, err error) (*Result, error) {
	res := r.res
	res.Finished = r.clk.Now()
	res.Duration = config.Duration(res.Finished.Sub(res.Started))
	if w := res.ImpactWindow; w != nil && w.Open {
		w.Duration = config.Duration(max(res.Finished.Sub(w.Start), 0))
	}
	res.Incident = r.incident()
	if r.o.OpenIssue && ctx.Err() == nil {
		r.openIssue(ctx)
	}
	if res.Verdict == outcome.Pass {
		r.say("done: %s", res.Reason)
	} else {
		r.say("FAILED: %s; left state: %s", res.Reason, res.LeftState)
	}
	return res, err
}

func (r *runner) openIssue(ctx context.Context) {
	res := r.res
	if r.o.Incident != nil {
		n, u, err := r.o.Incident(ctx, res)
		if err != nil {
			r.warn("writing the incident record failed: %v; post the incident note from the step summary by hand", err)
			return
		}
		res.IssueURL, res.IssueNumber = u, n
		r.say("incident record #%d %s", n, u)
		return
	}
	label := cmp.Or(strings.TrimSpace(r.o.IssueLabel), DefaultIssueLabel)
	title := fmt.Sprintf("Incident: %s rolled back from %s to %s", r.env.Name, r.fromText(), untrusted.Clean(res.To.Tag))
	if res.Verdict != outcome.Pass {
		title = fmt.Sprintf("Incident: rollback of %s from %s failed", r.env.Name, r.fromText())
	}
	iss, err := r.gh.CreateIssue(ctx, untrusted.OneLine(title, 250), res.Incident, []string{label})
	if err != nil {
		r.warn("opening the incident issue failed: %v; post the incident note from the step summary by hand", err)
		return
	}
	res.IssueURL, res.IssueNumber = iss.HTMLURL, iss.Number
	r.say("opened incident issue #%d %s", iss.Number, iss.HTMLURL)
}

// findCurrent finds the bad deployment: the newest record of Options.CurrentSHA, or the
// environment's newest live deployment.
func (r *runner) findCurrent(ctx context.Context) error {
	env := r.env.Name
	sha := strings.TrimSpace(r.o.CurrentSHA)
	if sha != "" && !fullSHA(sha) {
		full, err := r.gh.ResolveCommit(ctx, sha)
		if errors.Is(err, github.ErrNotFound) {
			return outcome.BadInputf("invalid rollback request: current-sha %q names no commit of the repository", sha)
		}
		if err != nil {
			return fmt.Errorf("resolve the current commit %q of %s: %w", sha, env, err)
		}
		sha = full
	}
	filter := github.DeploymentFilter{Environment: env, SHA: sha}
	recs, err := r.gh.ListDeployments(ctx, filter)
	if err != nil {
		return fmt.Errorf("list the deployments of %s to find the one to roll back: %w", env, err)
	}
	deploy.SortNewestFirst(recs)
	var live *github.Deployment
	var liveStatuses []github.DeploymentStatus
	for _, d := range recs {
		if !sameEnv(d.Environment, env) || (sha != "" && !strings.EqualFold(d.SHA, sha)) || d.SHA == "" {
			continue
		}
		ss, err := r.statuses(ctx, d.ID)
		if err != nil {
			return err
		}
		if sha == "" && len(ss) > 0 && deploy.StageOf(ss[0]) == deploy.StageDeploying && deploy.PayloadOf(d).Rollback {
			continue // a rollback still deploying: the environment runs what it rolls back from
		}
		if len(ss) > 0 && isLive(deploy.StageOf(ss[0])) {
			d := d
			live, liveStatuses = &d, ss
			break
		}
		if sha != "" && live == nil && r.bad == nil { // the newest record of the given commit, live or not
			d := d
			r.bad, r.badStatuses = &d, ss
		}
	}
	if live != nil {
		r.bad, r.badStatuses = live, liveStatuses
		sha = live.SHA
	}
	if sha == "" {
		r.say("no live deployment of %s found: nothing is known to roll back from", env)
		return nil
	}
	r.res.From.SHA = strings.ToLower(sha)
	// Prefer release-action's own record of the commit for the "rolled back" mark: the one
	// GitHub Actions makes for a job's `environment:` is not ours.
	if r.bad != nil && !isOurRecord(*r.bad) {
		for _, d := range recs {
			if d.ID != r.bad.ID && strings.EqualFold(d.SHA, sha) && sameEnv(d.Environment, env) && isOurRecord(d) {
				ss, err := r.statuses(ctx, d.ID)
				if err != nil {
					return err
				}
				d := d
				r.bad, r.badStatuses = &d, ss
				break
			}
		}
	}
	if r.bad != nil {
		r.res.From.DeploymentID = r.bad.ID
		r.res.From.Tag = deploy.TagOf(*r.bad)
		r.say("rolling back from deployment %d of %s", r.bad.ID, r.fromText())
	} else {
		r.warn("no deployment record of %s in %s: it cannot be marked rolled back", untrusted.ShortSHA(sha), env)
	}
	return nil
}

// findTarget resolves Options.To or the last known good. why is set when there is no
// target (a failed result, not an error).
func (r *runner) findTarget(ctx context.Context) (why string, err error) {
	res := r.res
	env := r.env.Name
	if to := strings.TrimSpace(r.o.To); to != "" {
		res.Source = SourceExplicit
		if hexRef.MatchString(to) {
			sha, err := r.gh.ResolveCommit(ctx, to)
			if errors.Is(err, github.ErrNotFound) {
				return "", outcome.BadInputf("invalid rollback request: to %q names no commit of the repository: give a tag (v1.2.2) or a commit SHA", to)
			}
			if err != nil {
				return "", fmt.Errorf("resolve the rollback target %q: %w", to, err)
			}
			tag, err := r.tagFor(ctx, sha, nil)
			if err != nil {
				return "", err
			}
			if tag == "" {
				return "", outcome.BadInputf("invalid rollback request: commit %s has no tag that a deployment record names; the deploy workflow is dispatched on a tag, so roll back to a tag: to: <tag of %s>", untrusted.ShortSHA(sha), untrusted.ShortSHA(sha))
			}
			res.To.SHA, res.To.Tag = strings.ToLower(sha), tag
		} else {
			tag, err := r.gh.GetTag(ctx, to)
			if errors.Is(err, github.ErrNotFound) {
				return "", outcome.BadInputf("invalid rollback request: tag %q does not exist in the repository: give an existing tag or a commit SHA", to)
			}
			if err != nil {
				return "", fmt.Errorf("read the rollback target tag %q: %w", to, err)
			}
			if !fullSHA(tag.SHA) {
				return "", fmt.Errorf("tag %q: GitHub answered %q, which is not a commit SHA", to, untrusted.Clean(tag.SHA))
			}
			res.To.SHA, res.To.Tag = strings.ToLower(tag.SHA), cmp.Or(tag.Name, to)
		}
		if res.From.SHA != "" && strings.EqualFold(res.To.SHA, res.From.SHA) {
			return "", outcome.BadInputf("invalid rollback request: to %q is %s, the commit %s runs now: roll back to an earlier tag", to, untrusted.ShortSHA(res.To.SHA), env)
		}
		r.say("target %s (%s), as asked", untrusted.Clean(res.To.Tag), untrusted.ShortSHA(res.To.SHA))
		return "", nil
	}

	res.Source = SourceLastKnownGood
	if res.From.SHA == "" {
		return fmt.Sprintf("no live deployment of %s was found (none whose newest status is deployed, validating or deploying): there is nothing to roll back from; pass current-sha and to to roll back explicitly", env), nil
	}
	if d, err := r.unfinishedRollback(ctx); err != nil {
		return "", err
	} else if d != nil {
		tag, err := r.tagFor(ctx, d.SHA, d)
		if err != nil {
			return "", err
		}
		if tag != "" {
			res.To.SHA, res.To.Tag = strings.ToLower(d.SHA), tag
			r.say("target %s (%s): the target of the unfinished rollback deployment %d", untrusted.Clean(tag), untrusted.ShortSHA(d.SHA), d.ID)
			return "", nil
		}
	}
	rec, st, err := deploy.LastKnownGood(ctx, r.gh, env, res.From.SHA)
	if err != nil {
		return "", err
	}
	if rec == nil {
		return fmt.Sprintf("no earlier deployment of %s has success as its newest status (other than %s, which is rolled back from): there is no last known good to roll back to; pass to: <tag> to roll back to a release you know is good",
			env, untrusted.ShortSHA(res.From.SHA)), nil
	}
	tag, err := r.tagFor(ctx, rec.SHA, rec)
	if err != nil {
		return "", err
	}
	if tag == "" {
		return fmt.Sprintf("the last known good deployment %d of %s was made from ref %q, and no tag names %s: the deploy workflow is dispatched on a tag; pass to: <tag> explicitly",
			rec.ID, untrusted.ShortSHA(rec.SHA), untrusted.Clean(rec.Ref), untrusted.ShortSHA(rec.SHA)), nil
	}
	res.To.SHA, res.To.Tag = strings.ToLower(rec.SHA), tag
	res.To.LastGoodDeploymentID = rec.ID
	if st != nil && !st.CreatedAt.IsZero() {
		at := st.CreatedAt
		res.To.LastGoodAt = &at
	}
	r.say("last known good: deployment %d of %s (%s)", rec.ID, untrusted.Clean(tag), untrusted.ShortSHA(rec.SHA))
	return "", nil
}

// unfinishedRollback returns the newest rollback deployment away from the bad commit when it
// did not finish (its deploy failed, timed out or stopped, or its validation never ran): a
// re-run retries that target. LastKnownGood would skip it, since release-action's own record
// of the target says "deploy failed" or "deploying"; a failed deploy is no verdict on the
// commit. A rollback whose target was deployed and failed its smoke probes is finished: the
// re-run goes further back.
func (r *runner) unfinishedRollback(ctx context.Context) (*github.Deployment, error) {
	env := r.env.Name
	recs, err := r.gh.ListDeployments(ctx, github.DeploymentFilter{Environment: env})
	if err != nil {
		return nil, fmt.Errorf("list the deployments of %s to find an unfinished rollback: %w", env, err)
	}
	deploy.SortNewestFirst(recs)
	for _, d := range recs {
		if !sameEnv(d.Environment, env) || d.SHA == "" || !isOurRecord(d) || !isRollbackOf(d, r.res.From.SHA) {
			continue
		}
		ss, err := r.statuses(ctx, d.ID)
		if err != nil {
			return nil, err
		}
		stage := deploy.StageCreated
		if len(ss) > 0 {
			stage = deploy.StageOf(ss[0])
		}
		switch stage {
		case deploy.StageCreated, deploy.StageDeploying, deploy.StageDeployed, deploy.StageDeployFailed:
			d := d
			return &d, nil
		}
		return nil, nil
	}
	return nil, nil
}

// tagFor finds a tag naming sha: the tag in first's payload or its ref, then those of every
// deployment record of the commit (any environment), each checked with GetTag.
func (r *runner) tagFor(ctx context.Context, sha string, first *github.Deployment) (string, error) {
	var names []string
	add := func(d github.Deployment) {
		for _, n := range []string{deploy.PayloadOf(d).Tag, d.Ref} {
			n = strings.TrimSpace(n)
			if n != "" && !strings.EqualFold(n, sha) && !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	if first != nil {
		add(*first)
	}
	recs, err := r.gh.ListDeployments(ctx, github.DeploymentFilter{SHA: sha})
	if err != nil {
		return "", fmt.Errorf("list the deployments of %s to find its tag: %w", untrusted.ShortSHA(sha), err)
	}
	deploy.SortNewestFirst(recs)
	for _, d := range recs {
		if strings.EqualFold(d.SHA, sha) {
			add(d)
		}
	}
	for _, n := range names {
		tag, err := r.gh.GetTag(ctx, strings.TrimPrefix(n, "refs/tags/"))
		if errors.Is(err, github.ErrNotFound) {
			continue // a branch name, or a deleted tag
		}
		if err != nil {
			return "", fmt.Errorf("read tag %q of %s: %w", n, untrusted.ShortSHA(sha), err)
		}
		if strings.EqualFold(tag.SHA, sha) {
			return cmp.Or(tag.Name, strings.TrimPrefix(n, "refs/tags/")), nil
		}
	}
	return "", nil
}

func (r *runner) statuses(ctx context.Context, id int64) ([]github.DeploymentStatus, error) {
	ss, err := r.gh.ListDeploymentStatuses(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("list the statuses of deployment %d: %w", id, err)
	}
	deploy.SortStatusesNewestFirst(ss)
	return ss, nil
}

// validatedAt reads the time GitHub recorded the rollback deployment's success.
func (r *runner) validatedAt(ctx context.Context, id int64) (time.Time, error) {
	now := r.clk.Now()
	ss, err := r.statuses(ctx, id)
	if err != nil {
		return now, err
	}
	for _, s := range ss {
		if s.State == "success" && !s.CreatedAt.IsZero() {
			return s.CreatedAt, nil
		}
	}
	return now, nil
}

// closeWindow sets the impact window: from the bad deployment's first success status (or
// its creation) to end (zero: still open).
func (r *runner) closeWindow(end time.Time) {
	if r.bad == nil {
		return
	}
	w := &Window{Start: r.bad.CreatedAt, StartFrom: fmt.Sprintf("creation of deployment %d (it never had a success status)", r.bad.ID)}
	for i := len(r.badStatuses) - 1; i >= 0; i-- { // oldest first
		if s := r.badStatuses[i]; s.State == "success" && !s.CreatedAt.IsZero() {
			w.Start, w.StartFrom = s.CreatedAt, fmt.Sprintf("first success status of deployment %d", r.bad.ID)
			break
		}
	}
	if end.IsZero() {
		w.Open = true
	} else {
		e := end
		w.End = &e
		w.Duration = config.Duration(max(end.Sub(w.Start), 0))
	}
	r.res.ImpactWindow = w
}

// isLive reports whether a stage means the environment runs (or is starting) the commit.
func isLive(s deploy.Stage) bool {
	switch s {
	case deploy.StageValidated, deploy.StageDeployed, deploy.StageDeploying, deploy.StageSmokeFailed:
		return true
	}
	return false
}

// isOurRecord reports whether release-action created the record.
func isOurRecord(d github.Deployment) bool {
	return strings.HasPrefix(d.Description, deploy.Prefix) || deploy.PayloadOf(d).ReleaseAction > 0
}

// isRollbackOf reports whether a record is a rollback deployment away from the bad commit.
func isRollbackOf(d github.Deployment, bad string) bool {
	p := deploy.PayloadOf(d)
	return p.Rollback && bad != "" && strings.EqualFold(p.RollbackFrom, bad)
}

func sameEnv(got, want string) bool { return got == "" || strings.EqualFold(got, want) }

func fullSHA(s string) bool { return len(s) == 40 && hexRef.MatchString(s) }

func failedProbes(rep *smoke.Report) []string {
	var out []string
	for _, p := range rep.Probes {
		if !p.OK {
			out = append(out, p.Name)
		}
	}
	if len(out) == 0 {
		out = []string{"(none ran)"}
	}
	return out
}

func probeDetails(rep *smoke.Report) string {
	var out []string
	for _, p := range rep.Probes {
		if !p.OK {
			out = append(out, p.Name+": "+untrusted.OneLine(p.Detail, 160))
		}
	}
	if len(out) == 0 {
		return "no probe ran"
	}
	return strings.Join(out, "; ")
}

func idText(id int64) string {
	if id == 0 {
		return ""
	}
	return fmt.Sprintf(" %d", id)
}
