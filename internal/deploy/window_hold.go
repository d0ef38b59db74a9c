package deploy

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/agentme/release-action/internal/github"
	"github.com/agentme/release-action/internal/untrusted"
)

// StateNotStarted is the Result state of a deploy whose run had not started when
// Options.StartBy passed (it waited for approval, or for a runner): the run was cancelled
// and nothing was deployed. A caller with a deployment window reports it as scheduled.
const StateNotStarted = "not_started"

// cancelWait bounds the wait for a cancelled run that never started to complete.
const cancelWait = 2 * time.Minute

// notStarted reports whether a run has not begun deploying: it waits for environment
// approval, a wait timer or a runner.
func notStarted(run github.WorkflowRun) bool {
	switch run.Status {
	case "waiting", "queued", "pending", "requested":
		return true
	}
	return false
}

// holdWindow applies Options.StartBy to a followed run at now: a run that has not started
// is cancelled and the deployment ends StateNotStarted (done true); one that started is
// left to finish, said once.
func (d *deployer) holdWindow(ctx context.Context, now time.Time, run github.WorkflowRun) (res *Result, done bool, err error) {
	by := d.o.StartBy
	if by.IsZero() || now.Before(by) || d.o.Cancel == nil {
		return nil, false, nil
	}
	if !notStarted(run) {
		if d.res.WindowNote == "" {
			d.res.WindowNote = fmt.Sprintf("the deployment window closed at %s while run %d was already deploying: it was left to finish", by.UTC().Format(time.RFC3339), run.ID)
			d.say(d.res.WindowNote)
		}
		return nil, false, nil
	}
	d.say(fmt.Sprintf("the deployment window closed at %s and run %d has not started (%s): cancelling it so nobody can approve it outside the window",
		by.UTC().Format(time.RFC3339), run.ID, untrusted.Clean(run.Status)))
	if err := d.o.Cancel(ctx, run.ID); err != nil && !errors.Is(err, github.ErrRunCompleted) {
		return d.res, true, fmt.Errorf("cancel deploy run %d of %s after its window closed: %w", run.ID, d.what(), err)
	}
	// Wait for GitHub to report it completed: a run that started after all is no longer
	// "not started", and says so.
	until := d.clk.Now().Add(cancelWait)
	for {
		r, err := d.getRun(ctx, run.ID)
		if err != nil {
			return d.res, true, err
		}
		if r.Status == "completed" {
			if r.Conclusion != "cancelled" {
				d.res.Conclusion = untrusted.Clean(r.Conclusion)
				d.res.WindowNote = fmt.Sprintf("the window closed at %s; run %d completed %s before the cancel took effect", by.UTC().Format(time.RFC3339), run.ID, d.res.Conclusion)
				return nil, false, nil // the caller's loop ends it with its conclusion
			}
			break
		}
		if !d.clk.Now().Before(until) {
			d.res.WindowNote = fmt.Sprintf("run %d was cancelled but still showed %s after %s", run.ID, untrusted.Clean(r.Status), cancelWait)
			break
		}
		if err := d.clk.Sleep(ctx, min(d.poll, 5*time.Second)); err != nil {
			return d.res, true, fmt.Errorf("wait for cancelled deploy run %d of %s: %w", run.ID, d.what(), err)
		}
	}
	d.res.Conclusion = "cancelled"
	res, err = d.end(ctx, "error", StateNotStarted,
		fmt.Sprintf("%s: window closed before run %d started; run cancelled", textDeployError, run.ID),
		fmt.Sprintf("the deployment window of %s closed at %s before run %d started (it was %s): the run was cancelled and nothing was deployed",
			d.env, by.UTC().Format(time.RFC3339), run.ID, untrusted.Clean(run.Status)),
		d.res.RunURL)
	return res, true, err
}
