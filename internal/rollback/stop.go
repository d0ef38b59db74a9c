package rollback

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/agentme/release-action/internal/deploy"
	"github.com/agentme/release-action/internal/github"
	"github.com/agentme/release-action/internal/outcome"
	"github.com/agentme/release-action/internal/stoprollout"
	"github.com/agentme/release-action/internal/untrusted"
)

// Followed is another rollback of the same bad deployment that this one followed instead of
// starting a second (one rollback at a time per bad deployment).
type Followed struct {
	DeploymentID int64  `json:"deployment_id"`
	RunURL       string `json:"run_url,omitempty"`
	Tag          string `json:"tag,omitempty"`
	SHA          string `json:"sha"`
	// Stage is where that rollback ended (validated, smoke_failed, deploy_failed, ...), or
	// where it stood when this run stopped following it.
	Stage deploy.Stage `json:"stage"`
}

// stopRollout stops what rolls out to the environment (runbook 3.1) unless the
// configuration says stop-rollout: false. why is set when a run would not stop.
func (r *runner) stopRollout(ctx context.Context) (why string, err error) {
	rc := r.o.Config.Rollback
	if !rc.ShouldStopRollout() {
		return "", nil
	}
	r.say("stopping what rolls out to %s first (runbook 3.1)", r.env.Name)
	rep, err := stoprollout.Stop(ctx, r.gh, r.stopOptions(false))
	if rep != nil && (len(rep.Runs) > 0 || len(rep.Records) > 0 || len(rep.Warnings) > 0) {
		r.res.Stop = rep
		r.res.Warnings = append(r.res.Warnings, rep.Warnings...)
	}
	if err != nil {
		return "", fmt.Errorf("stop the rollout to %s: %w", r.env.Name, err)
	}
	if !rep.Stopped() {
		var names []string
		for _, id := range rep.Unstopped {
			run := rep.Run(id)
			asked := "a cancel"
			if run.Forced {
				asked = "a cancel and a force-cancel"
			}
			names = append(names, fmt.Sprintf("run %d (%s, %s) did not complete after %s", id, run.Why, linkOr(run.URL), asked))
		}
		return fmt.Sprintf("%s within rollback.stop-timeout (%s; force-cancel after %s): a rollback now would race it; stop it by hand (Actions > the run > Cancel, or force cancel), then run the rollback again",
			strings.Join(names, "; "), rc.Timeout(), rc.Grace()), nil
	}
	return "", nil
}

// stopOptions are the options of stopping the rollout to this environment; findOnly
// reads what would be stopped and stops nothing (the dry run's plan).
func (r *runner) stopOptions(findOnly bool) stoprollout.Options {
	rc := r.o.Config.Rollback
	return stoprollout.Options{
		Environment: r.env.Name, Reason: r.reason, SelfRunID: r.o.SelfRunID,
		Workflows: rc.StopWorkflows, DeployWorkflow: cmp.Or(r.trigger().Workflow, deploy.DefaultWorkflow),
		Grace: rc.Grace(), Timeout: rc.Timeout(),
		PollInterval: r.o.StopPollInterval, LogURL: r.o.RunURL, Clock: r.clk, Progress: r.o.Progress,
		// Another rollback is followed, never stopped; this run's own earlier attempts resume.
		Skip:     func(d github.Deployment) bool { return deploy.PayloadOf(d).Rollback },
		FindOnly: findOnly,
	}
}

// findRollout reports what stopRollout would stop, stopping nothing.
func (r *runner) findRollout(ctx context.Context) (*stoprollout.Report, error) {
	rep, err := stoprollout.Stop(ctx, r.gh, r.stopOptions(true))
	if err != nil {
		return nil, fmt.Errorf("find what rolls out to %s: %w", r.env.Name, err)
	}
	return rep, nil
}

func linkOr(u string) string {
	if u == "" {
		return "no link"
	}
	return untrusted.Clean(u)
}

// otherRollback finds a rollback of the bad commit that another run is doing: its record's
// payload says rollback_from=<bad>, its run is not this one, and it is not finished.
func (r *runner) otherRollback(ctx context.Context) (*github.Deployment, deploy.Stage, error) {
	self := stoprollout.RunIDOfURL(r.o.RunURL)
	horizon := 2 * max(r.env.Timeout.D(), deploy.DefaultTimeout)
	byOther := func(d github.Deployment) bool {
		p := deploy.PayloadOf(d)
		other := stoprollout.RunIDOfURL(p.RunURL)
		return other != 0 && other != self && !(self == 0 && p.RunURL == r.o.RunURL) && r.clk.Now().Sub(d.CreatedAt) <= horizon
	}
	// Another run's rollback that finished a moment ago is what the environment runs now:
	// a rollback asked for without from or to would roll the rollback back. Report it.
	if b := r.bad; b != nil && len(r.badStatuses) > 0 && strings.TrimSpace(r.o.CurrentSHA) == "" && strings.TrimSpace(r.o.To) == "" &&
		isOurRecord(*b) && deploy.PayloadOf(*b).Rollback && deploy.PayloadOf(*b).RollbackFrom != "" && byOther(*b) {
		d, stage := *b, deploy.StageOf(r.badStatuses[0])
		r.res.From = Ref{SHA: strings.ToLower(deploy.PayloadOf(d).RollbackFrom)}
		r.bad, r.badStatuses = nil, nil // that run marked the bad record and timed the window
		return &d, stage, nil
	}
	if r.res.From.SHA == "" {
		return nil, "", nil
	}
	env := r.env.Name
	recs, err := r.gh.ListDeployments(ctx, github.DeploymentFilter{Environment: env})
	if err != nil {
		return nil, "", fmt.Errorf("list the deployments of %s to find another rollback: %w", env, err)
	}
	deploy.SortNewestFirst(recs)
	for _, d := range recs {
		if !sameEnv(d.Environment, env) || !isOurRecord(d) || !isRollbackOf(d, r.res.From.SHA) {
			continue
		}
		if r.clk.Now().Sub(d.CreatedAt) > horizon {
			break // older than any rollback still running
		}
		if !byOther(d) {
			continue // ours: an earlier attempt of this run, resumed as usual
		}
		ss, err := r.statuses(ctx, d.ID)
		if err != nil {
			return nil, "", err
		}
		stage := deploy.StageCreated
		if len(ss) > 0 {
			stage = deploy.StageOf(ss[0])
		}
		switch stage {
		case deploy.StageCreated, deploy.StageDeploying, deploy.StageDeployed:
			d := d
			return &d, stage, nil
		}
	}
	return nil, "", nil
}

// follow waits for another rollback's record to reach a final stage and reports it as this
// rollback's outcome.
func (r *runner) follow(ctx context.Context, d *github.Deployment, stage deploy.Stage) (*Result, error) {
	res := r.res
	p := deploy.PayloadOf(*d)
	f := &Followed{DeploymentID: d.ID, RunURL: untrusted.Clean(p.RunURL), Tag: untrusted.OneLine(p.Tag, 100), SHA: strings.ToLower(d.SHA), Stage: stage}
	res.Followed = f
	res.To.SHA, res.To.Tag, res.To.DeploymentID = f.SHA, f.Tag, d.ID
	target := fmt.Sprintf("%s (%s)", untrusted.Clean(f.Tag), untrusted.ShortSHA(f.SHA))
	r.say("another rollback of %s is under way (deployment %d to %s, run %s): following it instead of starting a second", r.fromText(), d.ID, target, linkOr(f.RunURL))
	poll := r.o.PollInterval
	if poll <= 0 {
		poll = deploy.DefaultPollInterval
	}
	deadline := r.clk.Now().Add(max(r.env.Timeout.D(), deploy.DefaultTimeout) + 10*time.Minute)
	for {
		ss, err := r.statuses(ctx, d.ID)
		if err != nil {
			return r.stop(ctx, err, fmt.Sprintf("unknown: the rollback deployment %d of %s (run %s) was being followed", d.ID, target, linkOr(f.RunURL)))
		}
		if len(ss) > 0 {
			f.Stage = deploy.StageOf(ss[0])
		}
		switch f.Stage {
		case deploy.StageValidated:
			res.Validated, res.BadMarked = true, true
			end := ss[0].CreatedAt
			if end.IsZero() {
				end = r.clk.Now()
			}
			r.closeWindow(end)
			res.Verdict = outcome.Pass
			res.Reason = fmt.Sprintf("%s rolled back from %s to %s by the rollback already under way (deployment %d, run %s); this run followed it instead of starting a second",
				r.env.Name, r.fromText(), target, d.ID, linkOr(f.RunURL))
			return r.finish(ctx, nil)
		case deploy.StageSmokeFailed, deploy.StageDeployFailed, deploy.StageRolledBack, deploy.StageInactive:
			return r.fail(ctx, fmt.Sprintf("the rollback already under way (deployment %d to %s, run %s) ended %s: %s",
				d.ID, target, linkOr(f.RunURL), f.Stage, untrusted.OneLine(ss[0].Description, 200)),
				fmt.Sprintf("%s: see run %s; run the rollback again (with to: <older tag> if %s is bad too)", r.env.Name, linkOr(f.RunURL), untrusted.Clean(f.Tag)))
		}
		if !r.clk.Now().Before(deadline) {
			return r.fail(ctx, fmt.Sprintf("the rollback already under way (deployment %d to %s, run %s) did not finish in time: it is still %s", d.ID, target, linkOr(f.RunURL), f.Stage),
				fmt.Sprintf("unknown: %s may be part-way through the rollback to %s; look at run %s", r.env.Name, target, linkOr(f.RunURL)))
		}
		if err := r.clk.Sleep(ctx, poll); err != nil {
			return r.stop(ctx, err, fmt.Sprintf("unknown: the rollback deployment %d of %s (run %s) was being followed", d.ID, target, linkOr(f.RunURL)))
		}
	}
}
