package deploy

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/untrusted"

	"github.com/agentme/release-action/internal/github"
)

// follow verifies the run is of the candidate, announces it (unless an earlier attempt did),
// polls it until it completes or the environment's timeout runs out, and ends the deployment.
func (d *deployer) follow(ctx context.Context, run github.WorkflowRun, announce bool) (*Result, error) {
	d.res.RunID = run.ID
	d.res.RunURL = run.HTMLURL
	if !strings.EqualFold(run.HeadSHA, d.o.SHA) {
		return d.end(ctx, "error", StateError,
			fmt.Sprintf("deploy error: run %d ran %s, not the candidate %s", run.ID, untrusted.ShortSHA(run.HeadSHA), untrusted.ShortSHA(d.o.SHA)),
			fmt.Sprintf("run %d of %s ran commit %s, not the candidate %s; nothing of the candidate was deployed: check that %s names the candidate",
				run.ID, d.workflow, untrusted.ShortSHA(run.HeadSHA), untrusted.ShortSHA(d.o.SHA), untrusted.Clean(d.o.Tag)), run.HTMLURL)
	}
	if announce {
		if err := d.status(ctx, "in_progress", fmt.Sprintf("%s (run %d)", textDeploying, run.ID), run.HTMLURL, ""); err != nil {
			return d.res, err
		}
	}
	w := &watch{d: d}
	for run.Status != "completed" {
		now := d.clk.Now()
		waiting, pend, err := d.approval(ctx, run)
		if err != nil {
			return d.res, err
		}
		w.observe(now, run, waiting, pend)
		if !now.Before(d.deadline) {
			w.stop(now)
			return d.timedOut(ctx, run, waiting, pend)
		}
		if err := d.clk.Sleep(ctx, min(d.poll, d.deadline.Sub(now))); err != nil {
			return d.res, fmt.Errorf("follow deploy run %d of %s: %w", run.ID, d.what(), err)
		}
		if run, err = d.getRun(ctx, run.ID); err != nil {
			return d.res, err
		}
		d.res.RunURL = cmp.Or(run.HTMLURL, d.res.RunURL)
	}
	w.stop(d.clk.Now())
	d.res.Conclusion = untrusted.Clean(run.Conclusion)
	took := dur(d.clk.Now().Sub(d.start))
	if run.Conclusion == "success" {
		return d.end(ctx, "in_progress", StateSuccess, textDeployed,
			fmt.Sprintf("run %d of %s concluded success after %s; validating next", run.ID, d.workflow, took), d.res.RunURL)
	}
	c := cmp.Or(d.res.Conclusion, "with no conclusion")
	return d.end(ctx, "failure", StateFailure,
		fmt.Sprintf("%s: run %d concluded %s", textDeployFailed, run.ID, c),
		fmt.Sprintf("deploy failed: run %d of %s concluded %s after %s; its log: %s", run.ID, d.workflow, c, took, untrusted.Clean(d.res.RunURL)),
		d.res.RunURL)
}

// approval reports whether the run waits on environment protection rules, and which. A run
// waiting for reviewers is "waiting"; one held by a wait timer may still show "queued" with
// pending deployments.
func (d *deployer) approval(ctx context.Context, run github.WorkflowRun) (bool, []github.PendingDeployment, error) {
	switch run.Status {
	case "waiting", "queued", "pending", "requested":
	default:
		return false, nil, nil
	}
	pend, err := d.gh.PendingDeployments(ctx, run.ID)
	if err != nil {
		return false, nil, fmt.Errorf("read what deploy run %d of %s waits for: %w", run.ID, d.what(), err)
	}
	return run.Status == "waiting" || len(pend) > 0, pend, nil
}

func (d *deployer) timedOut(ctx context.Context, run github.WorkflowRun, waiting bool, pend []github.PendingDeployment) (*Result, error) {
	state := "was " + cmp.Or(untrusted.Clean(run.Status), "not completed")
	if waiting {
		state = "was " + approvalText(d.env, pend)
	}
	return d.end(ctx, "error", StateError,
		fmt.Sprintf("%s: timed out after %s; run %d %s", textDeployError, d.timeout, run.ID, state),
		fmt.Sprintf("deploy run %d did not complete within the %s timeout of %s (it %s); it was not cancelled: "+
			"run the release again to keep following it (no second run starts while it runs), or cancel it first to deploy anew "+
			"(raise the environment's timeout if deploys take longer)",
			run.ID, d.env, d.timeout, state),
		d.res.RunURL)
}

// watch reports a followed run: a line on every change of its state or of what it waits
// for, and a still-waiting/still-running line at least every quietMax. It adds up the time
// spent waiting for approval.
type watch struct {
	d          *deployer
	lastStatus string
	lastWait   string
	lastSaid   time.Time
	waitFrom   time.Time
}

func (w *watch) observe(now time.Time, run github.WorkflowRun, waiting bool, pend []github.PendingDeployment) {
	d := w.d
	if waiting {
		if w.waitFrom.IsZero() {
			w.waitFrom = now
		}
		for _, p := range pend {
			for _, r := range reviewers(p) {
				if !slices.Contains(d.res.Approvers, r) {
					d.res.Approvers = append(d.res.Approvers, r)
				}
			}
		}
		t := approvalText(d.env, pend)
		switch {
		case t != w.lastWait:
			d.say(t)
		case now.Sub(w.lastSaid) >= quietMax:
			d.say(fmt.Sprintf("still %s; %s so far", t, dur(now.Sub(w.waitFrom))))
		default:
			return
		}
		w.lastWait, w.lastStatus, w.lastSaid = t, "", now
		return
	}
	status := cmp.Or(untrusted.Clean(run.Status), "not started")
	switch {
	case !w.waitFrom.IsZero():
		waited := now.Sub(w.waitFrom)
		w.stop(now)
		d.say(fmt.Sprintf("run %d is %s after waiting %s for approval", run.ID, status, dur(waited)))
	case status != w.lastStatus:
		d.say(fmt.Sprintf("run %d is %s: %s", run.ID, status, untrusted.Clean(cmp.Or(run.HTMLURL, d.res.RunURL))))
	case now.Sub(w.lastSaid) >= quietMax:
		d.say(fmt.Sprintf("run %d still %s (%s since the deploy started)", run.ID, status, dur(now.Sub(d.start))))
	default:
		return
	}
	w.lastStatus, w.lastWait, w.lastSaid = status, "", now
}

// stop ends a wait for approval, if one is going on, and adds it up.
func (w *watch) stop(now time.Time) {
	if w.waitFrom.IsZero() {
		return
	}
	w.d.res.WaitedApproval += config.Duration(now.Sub(w.waitFrom))
	w.waitFrom = time.Time{}
}

// approvalText says what a run waits for: "waiting for approval by @org/team, @user (wait
// timer 5m)"; environments other than env are named.
func approvalText(env string, pend []github.PendingDeployment) string {
	if len(pend) == 0 {
		return "waiting for approval"
	}
	parts := make([]string, 0, len(pend))
	for _, p := range pend {
		of := ""
		if p.Environment != "" && !strings.EqualFold(p.Environment, env) {
			of = " of environment " + untrusted.Clean(p.Environment)
		}
		timer := ""
		if p.WaitTimer > 0 {
			timer = shortDur(time.Duration(p.WaitTimer) * time.Minute)
		}
		var s string
		switch revs := reviewers(p); {
		case len(revs) > 0:
			s = "approval" + of + " by " + strings.Join(revs, ", ")
			if timer != "" {
				s += " (wait timer " + timer + ")"
			}
		case timer != "":
			s = "the wait timer" + of + " (" + timer + ")"
		default:
			s = "a deployment protection rule" + of
		}
		parts = append(parts, s)
	}
	return "waiting for " + strings.Join(parts, "; ")
}

// reviewers returns a pending deployment's reviewers, cleaned, without duplicates.
func reviewers(p github.PendingDeployment) []string {
	var out []string
	for _, r := range p.Reviewers {
		r = strings.TrimSpace(untrusted.Clean(r))
		if r != "" && !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}
