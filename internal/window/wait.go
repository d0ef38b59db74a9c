package window

import (
	"context"
	"fmt"
	"time"

	"github.com/agentme/release-action/internal/clock"
	"github.com/agentme/release-action/internal/config"
)

// reportEvery bounds the silence while waiting: the runner's log must show progress at
// least once a minute.
const reportEvery = time.Minute

// Wait decides at clk.Now(), and when closed with the next opening no more than maxWait
// away (measured from the call), sleeps on clk until then in steps of at most a minute,
// calling report (may be nil) before each step, and decides again on waking. It returns
// the last decision and whether it slept at all. A decision that is still closed is a
// result, not an error (the caller schedules the release); the error is only ctx's, when
// it ends the wait early, and then comes with the decision made just before.
func (s *Schedule) Wait(ctx context.Context, clk clock.Clock, maxWait time.Duration, report func(string)) (Decision, bool, error) {
	if report == nil {
		report = func(string) {}
	}
	deadline := clk.Now().Add(maxWait)
	waited := false
	for {
		now := clk.Now()
		d := s.Decide(now)
		if !WouldWait(d, now, deadline.Sub(now)) {
			return d, waited, nil
		}
		left := d.NextOpen.Sub(now)
		step := min(left, reportEvery)
		report(fmt.Sprintf("deployment window closed; waiting until it opens %s (%s left, max-wait %s)",
			fmtWhen(d.NextOpen), config.Duration(left.Round(time.Second)), config.Duration(maxWait)))
		if err := clk.Sleep(ctx, step); err != nil {
			return d, waited, fmt.Errorf("wait for the deployment window opening %s: %w", fmtWhen(d.NextOpen), err)
		}
		waited = true
	}
}
