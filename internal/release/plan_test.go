package release

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/outcome"
)

// TestPlanAgreesWithRun: for each resume state, Plan (which writes nothing) says what the
// release then does on the same state: deploy (a new run), resume (follow the earlier
// run), validate again, or schedule.
func TestPlanAgreesWithRun(t *testing.T) {
	validated := []string{"in_progress deploying (run 400)", "in_progress deployed; validating", "success deployed and validated"}
	tests := []struct {
		name  string
		start time.Time
		setup func(h *harness)
		run   string // run 450: "" gone, "running", or a conclusion
		// want is production's plan action; wantDeploy, wantDispatch what the run did.
		want         string
		wantVerdict  outcome.Verdict
		wantDeploy   string
		wantDispatch int
	}{
		{
			name: "smoke failed, another commit since, in the window: deploy", start: inWindow,
			setup: func(h *harness) {
				h.seedRecord("production", inWindow.Add(-3*time.Hour), "in_progress deploying (run 450)", "in_progress deployed; validating",
					"failure smoke failed: probe channel")
				h.seedOther("production", inWindow.Add(-time.Hour))
			},
			run: "success", want: PlanDeploy, wantVerdict: outcome.Pass, wantDeploy: StepPass, wantDispatch: 1,
		},
		{
			name: "smoke failed, outside the window: validate again", start: outsideWindow,
			setup: func(h *harness) {
				h.seedRecord("production", outsideWindow.Add(-3*time.Hour), "in_progress deploying (run 450)", "in_progress deployed; validating",
					"failure smoke failed: probe channel")
			},
			run: "success", want: PlanValidate, wantVerdict: outcome.Pass, wantDeploy: StepReused,
		},
		{
			name: "run gone, outside the window: schedule", start: outsideWindow,
			setup: func(h *harness) {
				h.seedRecord("production", outsideWindow.Add(-2*time.Hour), "in_progress deploying (run 450)")
			},
			want: PlanSchedule, wantVerdict: outcome.Scheduled, wantDeploy: StepNotRun,
		},
		{
			name: "run still running, outside the window: resume", start: outsideWindow,
			setup: func(h *harness) {
				h.seedRecord("production", outsideWindow.Add(-10*time.Minute), "in_progress deploying (run 450)")
			},
			run: "running", want: PlanResume, wantVerdict: outcome.Pass, wantDeploy: StepPass,
		},
		{
			name: "nothing yet, in the window: deploy", start: inWindow,
			setup: func(h *harness) {},
			want:  PlanDeploy, wantVerdict: outcome.Pass, wantDeploy: StepPass, wantDispatch: 1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.start)
			h.gh.addTag("v1.2.3-rc.1", testSHA)
			h.seedRecord("staging", tc.start.Add(-4*time.Hour), validated...)
			tc.setup(h)
			if tc.run != "" {
				run := &fakeRun{conclusion: tc.run, done: tc.start.Add(-time.Minute)}
				if tc.run == "running" {
					run.conclusion, run.done = "success", tc.start.Add(10*time.Minute)
				}
				run.run.ID, run.run.HeadSHA, run.run.HTMLURL, run.run.WorkflowID = 450, testSHA, runURL(450), wfID
				h.gh.runs[450] = run
			}

			o := h.options()
			o.Gate = nil // the harness's gate advances the clock; the plan must see the run's time
			p, err := Plan(context.Background(), h.gh, o)
			require.NoError(t, err)
			assert.Empty(t, h.gh.writes, "a plan writes nothing")
			assert.Equal(t, PlanReuse, p.CandidateTag.Action)
			require.Len(t, p.Environments, 2)
			assert.Equal(t, PlanSkip, p.Environments[0].Action, p.Environments[0].Reason)
			assert.Equal(t, tc.want, p.Environments[1].Action, p.Environments[1].Reason)
			if tc.want == PlanSchedule {
				assert.Equal(t, outcome.Scheduled, p.Outcome)
				assert.False(t, p.NextWindow.IsZero())
			}

			o = h.options()
			o.Gate = nil
			r, err := Run(context.Background(), h.gh, o)
			require.NoError(t, err)
			assert.Equal(t, tc.wantVerdict, r.Verdict, r.Reason)
			assert.Equal(t, tc.wantDeploy, r.Step("deploy production").Result)
			assert.Equal(t, tc.wantDispatch, h.dispatched()["production"])
			if tc.want == PlanSchedule {
				assert.Equal(t, p.NextWindow, r.NextWindow, "the plan names the window the run schedules for")
			}
		})
	}
}
