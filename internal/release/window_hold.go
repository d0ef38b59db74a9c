package release

import (
	"fmt"
	"time"

	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/deploy"
	"github.com/agentme/release-action/internal/outcome"
	"github.com/agentme/release-action/internal/window"
)

// startBy is when a deploy run must have started: the close of the window the release
// found open. A run still waiting for approval (or a runner) then is cancelled, so a
// reviewer cannot approve it after the window closed. Zero: no window, or force-window.
func startBy(er *EnvResult) time.Time {
	if er.Window == nil || er.Forced || !er.Window.Open {
		return time.Time{}
	}
	return er.Window.ClosesAt
}

// windowClosedDuringDeploy ends the release as scheduled when the deploy run was cancelled
// because the window closed before it started: as if the release had arrived outside it.
func (r *runner) windowClosedDuringDeploy(s *stepRun, env config.Environment, er *EnvResult, dr *deploy.Result) error {
	next := time.Time{}
	if env.Window != nil {
		sched, err := window.Compile(*env.Window)
		if err != nil {
			return outcome.BadInputf("invalid release options: environment %s: %w", env.Name, err)
		}
		d := sched.Decide(r.clk.Now())
		er.Window = &d
		next = d.NextOpen
	}
	s.done(StepScheduled, dr.Reason, dr.RunURL)
	r.res.Verdict = outcome.Scheduled
	r.res.NextWindow = next
	when := "no window opens within the schedule's horizon"
	if !next.IsZero() {
		when = "the next window opens " + next.UTC().Format(time.RFC3339)
	}
	r.res.Reason = fmt.Sprintf("%s; %s. Run the release again then: it deploys deployment %d again (or override with force-window and force-reason)",
		dr.Reason, when, dr.DeploymentID)
	r.say(r.res.Reason)
	return nil
}
