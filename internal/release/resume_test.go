package release

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/deploy"
	"github.com/agentme/release-action/internal/monitor"
	"github.com/agentme/release-action/internal/outcome"
	"github.com/agentme/release-action/internal/rollback"
)

// outsideWindow is a Wednesday: production's window (Tue, Thu 02:00-04:00) opens Thursday,
// later than its max-wait of 2h.
var outsideWindow = at("2026-11-25 12:00")

var ourPayload = json.RawMessage(`{"release_action":1}`)

// seedRecord stores a release-action record of the candidate in env with statuses a minute
// apart from `from` on, and returns its id.
func (h *harness) seedRecord(env string, from time.Time, statuses ...string) int64 {
	d := h.gh.addDeployment(env, testSHA, "v1.2.3-rc.1", deploy.Prefix+"v1.2.3-rc.1", ourPayload, from)
	for i, s := range statuses {
		state, desc, _ := strings.Cut(s, " ")
		logURL := ""
		if strings.Contains(desc, "(run ") {
			var id int64
			_, _ = fmt.Sscanf(desc[strings.Index(desc, "(run ")+5:], "%d", &id)
			logURL = runURL(id)
		}
		h.gh.addStatus(d.ID, state, deploy.Prefix+desc, logURL, "", from.Add(time.Duration(i+1)*time.Minute))
	}
	return d.ID
}

// seedOther stores a deployment of another commit in env, made by GitHub Actions for a deploy
// job, that succeeded at `at`.
func (h *harness) seedOther(env string, at time.Time) int64 {
	d := h.gh.addDeployment(env, otherSHA, "main", "", json.RawMessage(`{}`), at.Add(-time.Minute))
	h.gh.addStatus(d.ID, "in_progress", "", "", "", at.Add(-time.Minute))
	h.gh.addStatus(d.ID, "success", "", "", "", at)
	return d.ID
}

func (h *harness) dispatched() map[string]int {
	out := map[string]int{}
	for _, in := range h.gh.dispatchs {
		out[in["environment"]]++
	}
	return out
}

// TestReleaseResumeDeploysAgain: a re-run deploys an environment again (same record, new
// run) when what an earlier attempt left is not what the environment runs, and every new
// deploy run passes the window first; a run that still runs is followed, not doubled.
func TestReleaseResumeDeploysAgain(t *testing.T) {
	validated := []string{"in_progress deploying (run 400)", "in_progress deployed; validating", "success deployed and validated"}
	tests := []struct {
		name  string
		start time.Time
		setup func(h *harness)
		// runs scripts run 450 (production's earlier run): "" none (gone), else its
		// status after start: "running", or a conclusion.
		run          string
		wantVerdict  outcome.Verdict
		wantDispatch map[string]int
		wantSmoke    map[string]int
		wantDeploy   string // result of "deploy production"
		wantWindow   string // result of "window production"
		wantDetail   string // part of the "deploy production" detail
		wantLine     string
	}{
		{
			name:  "production smoke failed, another commit deployed since: deployed again in the window",
			start: inWindow,
			setup: func(h *harness) {
				h.seedRecord("production", inWindow.Add(-3*time.Hour), "in_progress deploying (run 450)", "in_progress deployed; validating",
					"failure smoke failed: probe channel")
				h.seedOther("production", inWindow.Add(-time.Hour))
			},
			run:          "success",
			wantVerdict:  outcome.Pass,
			wantDispatch: map[string]int{"production": 1},
			wantSmoke:    map[string]int{"production": 1},
			wantDeploy:   StepPass,
			wantWindow:   StepPass,
			wantDetail:   "; deployed again: deployment 1009 of fedcba9 came after the earlier deploy",
			wantLine: "production: deployment 1005 of 0123456 (stage smoke_failed) is no longer what production runs: deployment 1009 of fedcba9 " +
				"was deployed there since at 2026-11-23T15:10:00Z; deploying 0123456 again",
		},
		{
			name:  "production deployed, another commit deployed since, outside the window: scheduled, not deployed",
			start: outsideWindow,
			setup: func(h *harness) {
				h.seedRecord("production", outsideWindow.Add(-3*time.Hour), "in_progress deploying (run 450)", "in_progress deployed; validating")
				h.seedOther("production", outsideWindow.Add(-time.Hour))
			},
			run:          "success",
			wantVerdict:  outcome.Scheduled,
			wantDispatch: map[string]int{},
			wantSmoke:    map[string]int{},
			wantDeploy:   StepNotRun,
			wantWindow:   StepScheduled,
		},
		{
			name:  "production smoke failed, nothing deployed since, outside the window: validated again without a deploy",
			start: outsideWindow,
			setup: func(h *harness) {
				h.seedRecord("production", outsideWindow.Add(-3*time.Hour), "in_progress deploying (run 450)", "in_progress deployed; validating",
					"failure smoke failed: probe channel")
			},
			run:          "success",
			wantVerdict:  outcome.Pass,
			wantDispatch: map[string]int{},
			wantSmoke:    map[string]int{"production": 1},
			wantDeploy:   StepReused,
			wantWindow:   StepReused,
		},
		{
			name:  "production deploying, its run gone, outside the window: scheduled, not dispatched",
			start: outsideWindow,
			setup: func(h *harness) {
				h.seedRecord("production", outsideWindow.Add(-2*time.Hour), "in_progress deploying (run 450)")
			},
			wantVerdict:  outcome.Scheduled,
			wantDispatch: map[string]int{},
			wantSmoke:    map[string]int{},
			wantDeploy:   StepNotRun,
			wantWindow:   StepScheduled,
		},
		{
			name:  "production deploying, its run gone, in the window: dispatched again",
			start: inWindow,
			setup: func(h *harness) {
				h.seedRecord("production", inWindow.Add(-2*time.Hour), "in_progress deploying (run 450)")
			},
			wantVerdict:  outcome.Pass,
			wantDispatch: map[string]int{"production": 1},
			wantSmoke:    map[string]int{"production": 1},
			wantDeploy:   StepPass,
			wantWindow:   StepPass,
			wantLine:     "production: run 450 of the earlier attempt is gone",
		},
		{
			name:  "production deploying, its run still running, outside the window: followed",
			start: outsideWindow,
			setup: func(h *harness) {
				h.seedRecord("production", outsideWindow.Add(-10*time.Minute), "in_progress deploying (run 450)")
			},
			run:          "running",
			wantVerdict:  outcome.Pass,
			wantDispatch: map[string]int{},
			wantSmoke:    map[string]int{"production": 1},
			wantDeploy:   StepPass,
			wantWindow:   StepReused,
			wantLine:     "production: following run 450, started by an earlier attempt",
		},
		{
			name:  "production deploying, its run completed, another commit deployed since, outside the window: scheduled",
			start: outsideWindow,
			setup: func(h *harness) {
				h.seedRecord("production", outsideWindow.Add(-3*time.Hour), "in_progress deploying (run 450)")
				h.seedOther("production", outsideWindow.Add(-time.Hour))
			},
			run:          "success",
			wantVerdict:  outcome.Scheduled,
			wantDispatch: map[string]int{},
			wantSmoke:    map[string]int{},
			wantDeploy:   StepNotRun,
			wantWindow:   StepScheduled,
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
			r := h.mustRun()
			assert.Equal(t, tc.wantVerdict, r.Verdict, r.Reason)
			assert.Equal(t, tc.wantDispatch, h.dispatched(), "writes: %q", h.gh.writes)
			assert.Equal(t, tc.wantSmoke, h.smokeCalls)
			assert.Equal(t, tc.wantDeploy, r.Step("deploy production").Result)
			assert.Equal(t, tc.wantWindow, r.Step("window production").Result)
			assert.Equal(t, StepReused, r.Step("deploy staging").Result)
			if tc.wantDetail != "" {
				assert.Contains(t, r.Step("deploy production").Detail, tc.wantDetail)
			}
			if tc.wantLine != "" {
				assert.Contains(t, h.lines, tc.wantLine)
			}
			assert.Len(t, h.gh.deploymentsOf("production", testSHA), 1, "the same record, never a second one")
		})
	}
}

// TestReleaseStagingSupersededThenRerun: staging's smoke fails for the candidate; another
// commit is deployed to staging meanwhile; the re-run deploys the candidate to staging
// again (same record, new run) instead of validating the other commit.
func TestReleaseStagingSupersededThenRerun(t *testing.T) {
	tests := []struct {
		name         string
		other        bool
		wantDispatch map[string]int
		wantDeploy   string
	}{
		{"another commit deployed since: deployed again", true, map[string]int{"staging": 2, "production": 1}, StepPass},
		{"nothing deployed since: validated again", false, map[string]int{"staging": 1, "production": 1}, StepReused},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, inWindow)
			h.smokeFails["staging"] = 1
			r := h.mustRun()
			require.Equal(t, outcome.Fail, r.Verdict)
			h.gh.clk.Advance(5 * time.Minute)
			if tc.other {
				h.seedOther("staging", h.gh.clk.Now())
			}
			h.gh.clk.Advance(5 * time.Minute)
			r = h.mustRun()
			require.Equal(t, outcome.Pass, r.Verdict, r.Reason)
			assert.Equal(t, tc.wantDispatch, h.dispatched())
			assert.Equal(t, tc.wantDeploy, r.Step("deploy staging").Result)
			assert.Equal(t, map[string]int{"staging": 2, "production": 1}, h.smokeCalls)
			assert.Len(t, h.gh.deploymentsOf("staging", testSHA), 1)
		})
	}
}

// TestReleaseTimeoutRerun: the deploy run outlives the environment's timeout; the re-run
// follows that run while it runs (no second run), validates it when it succeeded since,
// and deploys again only when it failed (after the window check).
func TestReleaseTimeoutRerun(t *testing.T) {
	tests := []struct {
		name         string
		conclusion   string        // of the first production run
		wait         time.Duration // between the runs of the release
		rerunAt      time.Time     // zero: after wait
		wantVerdict  outcome.Verdict
		wantDispatch int
		wantWindow   string
		wantLine     string
	}{
		{name: "run still running: followed, not doubled", conclusion: "success", wantVerdict: outcome.Pass, wantDispatch: 1, wantWindow: StepReused,
			wantLine: "production: following run 501, which an earlier attempt stopped waiting for"},
		{name: "run succeeded since: validated", conclusion: "success", wait: time.Hour, wantVerdict: outcome.Pass, wantDispatch: 1, wantWindow: StepReused},
		{name: "run failed since: deployed again", conclusion: "failure", wait: time.Hour, wantVerdict: outcome.Pass, wantDispatch: 2, wantWindow: StepPass,
			wantLine: "production: run 501 of the earlier attempt, which timed out, concluded failure: deploying again"},
		{name: "run still running, window closed meanwhile: followed", conclusion: "success", rerunAt: at("2026-11-24 04:10"),
			wantVerdict: outcome.Pass, wantDispatch: 1, wantWindow: StepReused},
		{name: "run failed, window closed meanwhile: scheduled, not dispatched", conclusion: "failure", rerunAt: at("2026-11-24 05:00"),
			wantVerdict: outcome.Scheduled, wantDispatch: 1, wantWindow: StepScheduled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, inWindow)
			h.cfg.Environments = h.cfg.Environments[1:] // production only
			h.gh.runTime = 50 * time.Minute             // longer than production's 30m timeout
			h.gh.conclusions["production"] = []string{tc.conclusion}
			r := h.mustRun()
			require.Equal(t, outcome.Fail, r.Verdict)
			require.Contains(t, r.Reason, "did not complete within the production timeout of 30m0s")
			h.gh.clk.Advance(tc.wait)
			if !tc.rerunAt.IsZero() {
				h.gh.clk.Set(tc.rerunAt)
			}
			h.gh.runTime = 3 * time.Minute
			r = h.mustRun()
			assert.Equal(t, tc.wantVerdict, r.Verdict, r.Reason)
			assert.Equal(t, map[string]int{"production": tc.wantDispatch}, h.dispatched(), "writes: %q", h.gh.writes)
			assert.Equal(t, tc.wantWindow, r.Step("window production").Result)
			if tc.wantLine != "" {
				assert.Contains(t, h.lines, tc.wantLine)
			}
			assert.Len(t, h.gh.deploymentsOf("production", testSHA), 1)
		})
	}
}

// TestReleaseMonitorRollbackOutcome: what the automatic rollback did is in the monitor
// step's detail and the release's reason, a failed one above all.
func TestReleaseMonitorRollbackOutcome(t *testing.T) {
	const breach = "3 bad intervals of auth errors"
	left := "production still runs v1.2.3-rc.1 (0123456); the rollback deployment 1010 failed: run 9 concluded failure"
	tests := []struct {
		name       string
		out        MonitorOutcome
		err        error
		wantDetail string
		wantReason string
		wantErr    string
	}{
		{
			name:       "no rollback",
			out:        MonitorOutcome{Monitor: &monitor.Result{Verdict: "fail", Reason: breach}},
			wantDetail: breach,
			wantReason: "the post-release monitor of production failed: " + breach,
		},
		{
			name:       "rolled back",
			out:        MonitorOutcome{Monitor: &monitor.Result{Verdict: "fail", Reason: breach}, Rollback: &rollback.Result{Verdict: "pass", To: rollback.Ref{Tag: "v1.2.2"}}},
			wantDetail: breach + "; production was rolled back to v1.2.2",
			wantReason: "the post-release monitor of production failed: " + breach + "; production was rolled back to v1.2.2, " +
				"and re-deploying this commit there needs force: true",
		},
		{
			name:       "auto-rollback failed",
			out:        MonitorOutcome{Monitor: &monitor.Result{Verdict: "fail", Reason: breach}, Rollback: &rollback.Result{Verdict: "fail", To: rollback.Ref{Tag: "v1.2.2"}, Reason: "the rollback deployment 1010 of v1.2.2 failed", LeftState: left}},
			wantDetail: breach + "; auto-rollback FAILED: " + left,
			wantReason: "the post-release monitor of production failed: " + breach + "; auto-rollback FAILED: " + left,
		},
		{
			name:       "auto-rollback found no target",
			out:        MonitorOutcome{Monitor: &monitor.Result{Verdict: "fail", Reason: breach}, Rollback: &rollback.Result{Verdict: "fail", Reason: "no earlier deployment of production has success as its newest status"}},
			wantDetail: breach + "; auto-rollback FAILED: no earlier deployment of production has success as its newest status",
			wantReason: "the post-release monitor of production failed: " + breach +
				"; auto-rollback FAILED: no earlier deployment of production has success as its newest status",
		},
		{
			name:    "auto-rollback stopped on an error",
			out:     MonitorOutcome{Monitor: &monitor.Result{Verdict: "fail", Reason: breach}, Rollback: &rollback.Result{Verdict: "fail", LeftState: "unknown: the rollback deployment 1010 stopped on an error"}},
			err:     errors.New("create deployment status: 502 Bad Gateway"),
			wantErr: "monitor production: create deployment status: 502 Bad Gateway; auto-rollback FAILED: unknown: the rollback deployment 1010 stopped on an error",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, inWindow)
			h.tweak = func(o *Options) {
				o.Monitor = func(context.Context, config.Environment, int64) (*MonitorOutcome, error) {
					out := tc.out
					return &out, tc.err
				}
			}
			r, err := h.run()
			require.NotNil(t, r)
			assert.NotContains(t, h.gh.tags, "v1.2.3")
			require.NotNil(t, r.Environments[1].Monitor, "the outcome is in the report")
			if tc.wantErr != "" {
				require.EqualError(t, err, tc.wantErr)
				assert.Equal(t, outcome.Error, r.Verdict)
				assert.Contains(t, r.Reason, "auto-rollback FAILED")
				assert.Contains(t, r.Step("monitor production").Detail, "auto-rollback FAILED")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, outcome.Fail, r.Verdict)
			assert.Equal(t, tc.wantReason, r.Reason)
			assert.Equal(t, tc.wantDetail, r.Step("monitor production").Detail)
		})
	}
}

// TestReleaseMonitorNotWatchedTwice: a monitor that passed is recorded on the deployment; a
// re-run after a later step failed does not watch the environment again.
func TestReleaseMonitorNotWatchedTwice(t *testing.T) {
	tests := []struct {
		name        string
		monitorFail bool
		wantCalls   int
		wantMonitor string
	}{
		{"the monitor passed, then the release tag failed", false, 1, StepReused},
		{"the monitor failed", true, 2, StepPass},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, inWindow)
			if tc.monitorFail {
				h.monitorFails = 1
			} else {
				h.gh.FailNext("CreateAnnotatedTag", errors.New("POST /repos/agentme/agentme/git/tags: 502 Bad Gateway"))
			}
			// The candidate tag is made first: let it through, fail the release tag.
			h.gh.addTag("v1.2.3-rc.1", testSHA)
			r, _ := h.run()
			require.NotNil(t, r)
			require.NotEqual(t, outcome.Pass, r.Verdict)
			assert.Equal(t, 1, h.monitorCalls)

			r = h.mustRun()
			require.Equal(t, outcome.Pass, r.Verdict, r.Reason)
			assert.Equal(t, tc.wantCalls, h.monitorCalls)
			assert.Equal(t, tc.wantMonitor, r.Step("monitor production").Result)
			if tc.wantMonitor == StepReused {
				assert.Contains(t, r.Step("monitor production").Detail, "the monitor passed on deployment")
			}
		})
	}
}

// TestReleaseProductionEnvironment: production_environment marks the environment named
// production, else the last one.
func TestReleaseProductionEnvironment(t *testing.T) {
	tests := []struct {
		name  string
		names []string
		want  map[string]bool
	}{
		{"production last", []string{"staging", "production"}, map[string]bool{"staging": false, "production": true}},
		{"production before a canary", []string{"staging", "production", "canary"}, map[string]bool{"staging": false, "production": true, "canary": false}},
		{"no environment named production: the last", []string{"staging", "live"}, map[string]bool{"staging": false, "live": true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, inWindow)
			var envs []config.Environment
			for _, n := range tc.names {
				envs = append(envs, config.Environment{Name: n, URL: "https://" + n + ".agentme.example"})
			}
			h.cfg.Environments = envs
			r := h.mustRun()
			require.Equal(t, outcome.Pass, r.Verdict, r.Reason)
			got := map[string]bool{}
			for _, req := range h.gh.depReqs {
				got[req.Environment] = req.ProductionEnvironment != nil && *req.ProductionEnvironment
			}
			assert.Equal(t, tc.want, got)
		})
	}
}
