package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/github"
)

func deployingStatus(id int64) written {
	return written{"in_progress", fmt.Sprintf("release-action: deploying (run %d)", id), runURL(id), ""}
}

func deployedStatus(id int64) written {
	return written{"in_progress", "release-action: deployed; validating", runURL(id), envURL}
}

func noPending(int64, time.Time) ([]github.PendingDeployment, error) { return nil, nil }

func dispatchRun(id int64) func(int64, string, map[string]string) (github.DispatchResult, error) {
	return func(int64, string, map[string]string) (github.DispatchResult, error) {
		return github.DispatchResult{RunID: id, HTMLURL: runURL(id), RunURL: fmt.Sprintf("https://api.example/runs/%d", id)}, nil
	}
}

// runsByID scripts GetWorkflowRun for several runs.
func runsByID(runs map[int64]func(int64, time.Time) (github.WorkflowRun, error)) func(int64, time.Time) (github.WorkflowRun, error) {
	return func(id int64, now time.Time) (github.WorkflowRun, error) {
		get, ok := runs[id]
		if !ok {
			return github.WorkflowRun{}, fmt.Errorf("GET /actions/runs/%d: %w", id, github.ErrNotFound)
		}
		return get(id, now)
	}
}

func noRunID(int64, string, map[string]string) (github.DispatchResult, error) {
	return github.DispatchResult{}, nil
}

func sum(ds []time.Duration) time.Duration {
	var s time.Duration
	for _, d := range ds {
		s += d
	}
	return s
}

func TestDeployDispatch(t *testing.T) {
	waitingForOwners := func(int64, time.Time) ([]github.PendingDeployment, error) {
		return []github.PendingDeployment{{Environment: "production", Reviewers: []string{"@agentme/release-owners"}}}, nil
	}
	tests := []struct {
		name           string
		timeout        time.Duration
		setup          func(t *testing.T, f *fakeGH)
		wantStatuses   []written
		wantState      string
		wantRunID      int64
		wantConclusion string
		wantDuration   time.Duration
		wantWaited     time.Duration
		wantReason     string
		wantLines      []string
	}{
		{
			name: "dispatch with run details, success",
			setup: func(t *testing.T, f *fakeGH) {
				f.dispatch = dispatchRun(555)
				f.getRun = runTimeline(t, 555, testSHA, runStep{0, "queued", ""}, runStep{30 * time.Second, "in_progress", ""},
					runStep{5 * time.Minute, "completed", "success"})
				f.pending = noPending
			},
			wantStatuses:   []written{deployingStatus(555), deployedStatus(555)},
			wantState:      StateSuccess,
			wantRunID:      555,
			wantConclusion: "success",
			wantDuration:   5 * time.Minute,
			wantReason:     "run 555 of deploy.yml concluded success after 5m0s; validating next",
			wantLines: []string{
				"production: created deployment 1001 of 0123456 (v1.2.3-rc.1)",
				"production: dispatched deploy.yml on v1.2.3-rc.1 as run 555",
				"production: run 555 is queued: " + runURL(555),
				"production: run 555 is in_progress: " + runURL(555),
				"production: run 555 still in_progress (1m30s since the deploy started)",
				"production: run 555 still in_progress (2m30s since the deploy started)",
				"production: run 555 still in_progress (3m30s since the deploy started)",
				"production: run 555 still in_progress (4m30s since the deploy started)",
				"production: run 555 of deploy.yml concluded success after 5m0s; validating next",
			},
		},
		{
			name: "no run details: the run is discovered, skipping runs other deployments claimed",
			setup: func(t *testing.T, f *fakeGH) {
				staging := f.addDeployment("staging", testSHA, t0.Add(-time.Minute), true)
				f.addStatus(staging, "in_progress", "release-action: deploying (run 554)", runURL(554), "", t0.Add(-30*time.Second))
				f.dispatch = noRunID
				f.listRuns = func(id int64, fl github.RunFilter, now time.Time) ([]github.WorkflowRun, error) {
					assert.Equal(t, int64(wfID), id)
					assert.Equal(t, github.RunFilter{Event: "workflow_dispatch", HeadSHA: testSHA, CreatedSince: t0.Add(-2 * time.Minute)}, fl)
					// Staging's run (claimed by its status), a run created before the window (a
					// server that ignores the filter) and another commit's run are never taken.
					runs := []github.WorkflowRun{
						{ID: 556, HeadSHA: otherSHA, Event: "workflow_dispatch", CreatedAt: t0.Add(6 * time.Second)},
						{ID: 554, HeadSHA: testSHA, Event: "workflow_dispatch", CreatedAt: t0.Add(-25 * time.Second)},
						{ID: 550, HeadSHA: testSHA, Event: "workflow_dispatch", CreatedAt: t0.Add(-5 * time.Minute)},
					}
					if now.Before(t0.Add(20 * time.Second)) {
						return runs, nil
					}
					return append(runs, github.WorkflowRun{ID: 555, HeadSHA: testSHA, Event: "workflow_dispatch", CreatedAt: t0.Add(3 * time.Second)}), nil
				}
				f.getRun = runTimeline(t, 555, testSHA, runStep{0, "in_progress", ""}, runStep{2 * time.Minute, "completed", "success"})
			},
			wantStatuses:   []written{deployingStatus(555), deployedStatus(555)},
			wantState:      StateSuccess,
			wantRunID:      555,
			wantConclusion: "success",
			wantDuration:   2 * time.Minute,
			wantReason:     "run 555 of deploy.yml concluded success after 2m0s; validating next",
			wantLines: []string{
				"production: created deployment 1003 of 0123456 (v1.2.3-rc.1)",
				"production: dispatched deploy.yml on v1.2.3-rc.1; the server returned no run id, looking for the run",
				"production: found the dispatched run 555",
				"production: run 555 is in_progress: " + runURL(555),
				"production: run 555 still in_progress (1m20s since the deploy started)",
				"production: run 555 of deploy.yml concluded success after 2m0s; validating next",
			},
		},
		{
			name: "head_sha mismatch",
			setup: func(t *testing.T, f *fakeGH) {
				f.dispatch = dispatchRun(555)
				f.getRun = runTimeline(t, 555, otherSHA, runStep{0, "in_progress", ""})
			},
			wantStatuses: []written{{"error", "release-action: deploy error: run 555 ran fedcba9, not the candidate 0123456", runURL(555), envURL}},
			wantState:    StateError,
			wantRunID:    555,
			wantReason:   "run 555 of deploy.yml ran commit fedcba9, not the candidate 0123456; nothing of the candidate was deployed: check that v1.2.3-rc.1 names the candidate",
		},
		{
			name: "run failure",
			setup: func(t *testing.T, f *fakeGH) {
				f.dispatch = dispatchRun(555)
				f.getRun = runTimeline(t, 555, testSHA, runStep{0, "in_progress", ""}, runStep{3 * time.Minute, "completed", "failure"})
			},
			wantStatuses:   []written{deployingStatus(555), {"failure", "release-action: deploy failed: run 555 concluded failure", runURL(555), envURL}},
			wantState:      StateFailure,
			wantRunID:      555,
			wantConclusion: "failure",
			wantDuration:   3 * time.Minute,
			wantReason:     "deploy failed: run 555 of deploy.yml concluded failure after 3m0s; its log: " + runURL(555),
		},
		{
			name: "run cancelled",
			setup: func(t *testing.T, f *fakeGH) {
				f.dispatch = dispatchRun(555)
				f.getRun = runTimeline(t, 555, testSHA, runStep{0, "in_progress", ""}, runStep{time.Minute, "completed", "cancelled"})
			},
			wantStatuses:   []written{deployingStatus(555), {"failure", "release-action: deploy failed: run 555 concluded cancelled", runURL(555), envURL}},
			wantState:      StateFailure,
			wantRunID:      555,
			wantConclusion: "cancelled",
			wantDuration:   time.Minute,
			wantReason:     "deploy failed: run 555 of deploy.yml concluded cancelled after 1m0s; its log: " + runURL(555),
		},
		{
			name: "environment timeout",
			setup: func(t *testing.T, f *fakeGH) {
				f.dispatch = dispatchRun(555)
				f.getRun = runTimeline(t, 555, testSHA, runStep{0, "in_progress", ""})
			},
			wantStatuses: []written{deployingStatus(555),
				{"error", "release-action: deploy error: timed out after 30m0s; run 555 was in_progress", runURL(555), envURL}},
			wantState:    StateError,
			wantRunID:    555,
			wantDuration: 30 * time.Minute,
			wantReason: "deploy run 555 did not complete within the production timeout of 30m0s (it was in_progress); it was not cancelled: " +
				"run the release again to keep following it (no second run starts while it runs), or cancel it first to deploy anew " +
				"(raise the environment's timeout if deploys take longer)",
		},
		{
			name:    "configured timeout while waiting for approval",
			timeout: 7 * time.Minute,
			setup: func(t *testing.T, f *fakeGH) {
				f.dispatch = dispatchRun(555)
				f.getRun = runTimeline(t, 555, testSHA, runStep{0, "waiting", ""})
				f.pending = waitingForOwners
			},
			wantStatuses: []written{deployingStatus(555),
				{"error", "release-action: deploy error: timed out after 7m0s; run 555 was waiting for approval by @agentme/release-owners", runURL(555), envURL}},
			wantState:    StateError,
			wantRunID:    555,
			wantDuration: 7 * time.Minute,
			wantWaited:   7 * time.Minute,
			wantReason: "deploy run 555 did not complete within the production timeout of 7m0s (it was waiting for approval by @agentme/release-owners); " +
				"it was not cancelled: run the release again to keep following it (no second run starts while it runs), or cancel it first to deploy anew " +
				"(raise the environment's timeout if deploys take longer)",
		},
		{
			name:    "no run appears after the dispatch",
			timeout: 5 * time.Minute,
			setup: func(t *testing.T, f *fakeGH) {
				f.dispatch = noRunID
				f.listRuns = func(int64, github.RunFilter, time.Time) ([]github.WorkflowRun, error) { return nil, nil }
			},
			wantStatuses: []written{{"error", "release-action: deploy error: timed out after 5m0s; no run of deploy.yml appeared after the dispatch", "", envURL}},
			wantState:    StateError,
			wantDuration: 5 * time.Minute,
			wantReason: "deploy.yml was dispatched on v1.2.3-rc.1 but no workflow_dispatch run of 0123456 appeared within the production timeout of 5m0s; " +
				"check the workflow's Actions page",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t).withWorkflow()
			f.allowCreate = true
			tc.setup(t, f)
			var lines []string
			o := f.testOpts(&lines)
			o.Environment.Timeout = config.Duration(tc.timeout)

			res, err := Deploy(context.Background(), f, o)
			require.NoError(t, err)

			require.Len(t, f.createReqs, 1)
			req := f.createReqs[0]
			assert.Equal(t, testTag, req.Ref)
			assert.Equal(t, "production", req.Environment)
			assert.Equal(t, "release-action: v1.2.3-rc.1", req.Description)
			assert.Equal(t, "deploy", req.Task)
			require.NotNil(t, req.ProductionEnvironment)
			assert.True(t, *req.ProductionEnvironment)
			assert.JSONEq(t, `{"release_action":1,"commit":"`+testSHA+`","tag":"v1.2.3-rc.1","run_url":"https://github.example/o/r/actions/runs/1"}`,
				string(req.Payload))
			id := f.Last().ID
			require.Equal(t, []map[string]string{{"environment": "production", "ref": testTag, "deployment_id": fmt.Sprint(id)}}, f.dispatches)

			assert.Equal(t, tc.wantStatuses, f.statusesOf(id))
			assert.Equal(t, tc.wantState, res.State)
			assert.Equal(t, tc.wantReason, res.Reason)
			assert.Equal(t, id, res.DeploymentID)
			assert.False(t, res.Reused)
			assert.False(t, res.Resumed)
			assert.Equal(t, TriggerDispatch, res.Trigger)
			assert.Equal(t, tc.wantRunID, res.RunID)
			if tc.wantRunID != 0 {
				assert.Equal(t, runURL(tc.wantRunID), res.RunURL)
			}
			assert.Equal(t, tc.wantConclusion, res.Conclusion)
			assert.Equal(t, envURL, res.EnvironmentURL)
			assert.Equal(t, tc.wantDuration, res.Duration.D())
			assert.Equal(t, tc.wantWaited, res.WaitedApproval.D())
			// Time moves only when Deploy sleeps: every wait went through the clock.
			assert.Equal(t, tc.wantDuration, sum(f.clk.sleeps))
			for _, s := range f.clk.sleeps {
				assert.LessOrEqual(t, s, 10*time.Second)
			}
			if tc.wantLines != nil {
				assert.Equal(t, tc.wantLines, lines)
			}
		})
	}
}

func TestDeployApprovalWait(t *testing.T) {
	f := newFake(t).withWorkflow()
	f.allowCreate = true
	f.dispatch = dispatchRun(555)
	f.getRun = runTimeline(t, 555, testSHA, runStep{0, "waiting", ""}, runStep{270 * time.Second, "in_progress", ""},
		runStep{6 * time.Minute, "completed", "success"})
	f.pending = func(id int64, now time.Time) ([]github.PendingDeployment, error) {
		p := github.PendingDeployment{Environment: "production", WaitTimer: 5, WaitTimerStartedAt: t0,
			Reviewers: []string{"@agentme/release-owners", "@alice"}}
		if !now.Before(t0.Add(2 * time.Minute)) {
			p.Reviewers = append(p.Reviewers, "@bob", "@alice")
		}
		return []github.PendingDeployment{p}, nil
	}
	var lines []string
	res, err := Deploy(context.Background(), f, f.testOpts(&lines))
	require.NoError(t, err)

	first := "waiting for approval by @agentme/release-owners, @alice (wait timer 5m)"
	second := "waiting for approval by @agentme/release-owners, @alice, @bob (wait timer 5m)"
	assert.Equal(t, []string{
		"production: created deployment 1001 of 0123456 (v1.2.3-rc.1)",
		"production: dispatched deploy.yml on v1.2.3-rc.1 as run 555",
		"production: " + first,
		"production: still " + first + "; 1m0s so far",
		"production: " + second,
		"production: still " + second + "; 3m0s so far",
		"production: still " + second + "; 4m0s so far",
		"production: run 555 is in_progress after waiting 4m30s for approval",
		"production: run 555 still in_progress (5m30s since the deploy started)",
		"production: run 555 of deploy.yml concluded success after 6m0s; validating next",
	}, lines)
	assert.Equal(t, StateSuccess, res.State)
	assert.Equal(t, 270*time.Second, res.WaitedApproval.D())
	assert.Equal(t, []string{"@agentme/release-owners", "@alice", "@bob"}, res.Approvers)
	assert.Equal(t, []written{deployingStatus(555), deployedStatus(555)}, f.statusesOf(res.DeploymentID))
	assert.Equal(t, 27, f.count("PendingDeployments"), "asked at every poll while waiting (0s..4m20s)")
}

func TestApprovalText(t *testing.T) {
	tests := []struct {
		name string
		pend []github.PendingDeployment
		want string
	}{
		{"nothing pending (waiting anyway)", nil, "waiting for approval"},
		{"reviewers", []github.PendingDeployment{{Environment: "production", Reviewers: []string{"@org/team", "@user"}}},
			"waiting for approval by @org/team, @user"},
		{"reviewers and timer", []github.PendingDeployment{{Environment: "Production", WaitTimer: 90, Reviewers: []string{"@org/team"}}},
			"waiting for approval by @org/team (wait timer 1h30m)"},
		{"timer only", []github.PendingDeployment{{Environment: "production", WaitTimer: 5}}, "waiting for the wait timer (5m)"},
		{"protection rule", []github.PendingDeployment{{Environment: "production"}}, "waiting for a deployment protection rule"},
		{"another environment too", []github.PendingDeployment{
			{Environment: "production", Reviewers: []string{"@a"}},
			{Environment: "prod-eu\n::error::x", Reviewers: []string{"@b\u202e", "@b"}},
		}, "waiting for approval by @a; approval of environment prod-eu ::error::x by @b"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, approvalText("production", tc.pend))
		})
	}
}

func TestDeployEventTrigger(t *testing.T) {
	eventOpts := func(f *fakeGH, lines *[]string) Options {
		o := f.testOpts(lines)
		o.Trigger.Event = "deployment"
		return o
	}

	t.Run("no run within the grace: the GITHUB_TOKEN trap is explained", func(t *testing.T) {
		f := newFake(t).withWorkflow()
		f.allowCreate = true
		f.listRuns = func(id int64, fl github.RunFilter, now time.Time) ([]github.WorkflowRun, error) {
			assert.Equal(t, github.RunFilter{Event: "deployment", HeadSHA: testSHA, CreatedSince: t0.Add(-2 * time.Minute)}, fl)
			return nil, nil
		}
		var lines []string
		res, err := Deploy(context.Background(), f, eventOpts(f, &lines))
		require.NoError(t, err)
		assert.Equal(t, StateError, res.State)
		assert.Equal(t, TriggerEvent, res.Trigger)
		assert.Equal(t, "no workflow started for deployment 1001 within 2m: deployments created with GITHUB_TOKEN start no workflows; "+
			"give a PAT or GitHub App token as deploy-token, or use the default workflow dispatch trigger "+
			"(deploy.workflow, here deploy.yml, must name the workflow that runs on: deployment)", res.Reason)
		assert.Equal(t, []written{{"error",
			"release-action: deploy error: no workflow started within 2m; deployments made with GITHUB_TOKEN start none: use a PAT/App deploy-token",
			"", envURL}}, f.statusesOf(1001))
		assert.Equal(t, 2*time.Minute, res.Duration.D())
		assert.Zero(t, f.count("DispatchWorkflow"))
		assert.Equal(t, 13, f.count("ListWorkflowRuns"), "every 10s from 0s through 2m")
		assert.Equal(t, []string{
			"production: created deployment 1001 of 0123456 (v1.2.3-rc.1)",
			"production: deployment 1001 is the trigger (deployment event); waiting up to 2m for deploy.yml to start",
			"production: still looking for the deployment run of deploy.yml (1m0s so far)",
			"production: " + res.Reason,
		}, lines)
	})

	t.Run("the run the event started is followed", func(t *testing.T) {
		f := newFake(t).withWorkflow()
		f.allowCreate = true
		staging := f.addDeployment("staging", testSHA, t0.Add(-90*time.Second), true)
		f.addStatus(staging, "in_progress", "release-action: deploying (run 598)", runURL(598), "", t0.Add(-80*time.Second))
		f.listRuns = func(id int64, fl github.RunFilter, now time.Time) ([]github.WorkflowRun, error) {
			runs := []github.WorkflowRun{{ID: 598, HeadSHA: testSHA, Event: "deployment", CreatedAt: t0.Add(-85 * time.Second)}}
			if !now.Before(t0.Add(40 * time.Second)) {
				runs = append([]github.WorkflowRun{{ID: 600, HeadSHA: testSHA, Event: "deployment", CreatedAt: t0.Add(35 * time.Second)}}, runs...)
			}
			return runs, nil
		}
		f.getRun = runTimeline(t, 600, testSHA, runStep{0, "in_progress", ""}, runStep{3 * time.Minute, "completed", "success"})
		var lines []string
		res, err := Deploy(context.Background(), f, eventOpts(f, &lines))
		require.NoError(t, err)
		assert.Equal(t, StateSuccess, res.State)
		assert.Equal(t, int64(600), res.RunID)
		assert.Equal(t, []written{deployingStatus(600), deployedStatus(600)}, f.statusesOf(res.DeploymentID))
		assert.Zero(t, f.count("DispatchWorkflow"))
		assert.Contains(t, lines, "production: run 600 of deploy.yml started for deployment 1003")
	})

	t.Run("a reused record whose run already ran cannot trigger again", func(t *testing.T) {
		f := newFake(t).withWorkflow()
		rec := f.addDeployment("production", testSHA, t0.Add(-time.Hour), true)
		f.addStatus(rec, "in_progress", "release-action: deploying (run 590)", runURL(590), "", t0.Add(-59*time.Minute))
		f.addStatus(rec, "failure", "release-action: deploy failed: run 590 concluded failure", runURL(590), envURL, t0.Add(-50*time.Minute))
		var lines []string
		res, err := Deploy(context.Background(), f, eventOpts(f, &lines))
		require.NoError(t, err)
		assert.Equal(t, StateError, res.State)
		assert.True(t, res.Reused)
		assert.Equal(t, rec, res.DeploymentID)
		assert.Contains(t, res.Reason, "the deployment event fires only when a record is created")
		assert.Contains(t, res.Reason, "use the workflow dispatch trigger")
		assert.Len(t, f.statusesOf(rec), 2, "no status added")
		assert.Zero(t, f.count("ListWorkflowRuns"))
	})
}

func TestDeployResume(t *testing.T) {
	timedOut555 := written{"error", "release-action: deploy error: timed out after 30m0s; run 555 was in_progress", runURL(555), envURL}
	// seed makes a release-action record of the candidate in production with statuses, and a
	// newer record GitHub Actions made for the deploy job, which must never be taken for ours.
	seed := func(f *fakeGH, sts ...written) (int64, int64) {
		rec := f.addDeployment("production", testSHA, t0.Add(-10*time.Minute), true)
		for i, s := range sts {
			f.addStatus(rec, s.State, s.Description, s.LogURL, s.EnvironmentURL, t0.Add(-9*time.Minute+time.Duration(i)*time.Minute))
		}
		actions := f.addDeployment("production", testSHA, t0.Add(-8*time.Minute), false)
		f.addStatus(actions, "in_progress", "", runURL(555)+"/job/9", "", t0.Add(-8*time.Minute))
		return rec, actions
	}
	tests := []struct {
		name       string
		seed       []written
		withState  bool
		setup      func(t *testing.T, f *fakeGH)
		wantNew    []written
		wantRunID  int64
		wantResume bool
		wantLine   string
	}{
		{
			name:      "deploying: follow run N from Inspect's state without dispatching",
			seed:      []written{deployingStatus(555)},
			withState: true,
			setup: func(t *testing.T, f *fakeGH) {
				f.getRun = runTimeline(t, 555, testSHA, runStep{0, "in_progress", ""}, runStep{time.Minute, "completed", "success"})
			},
			wantNew:    []written{deployedStatus(555)},
			wantRunID:  555,
			wantResume: true,
			wantLine:   "production: following run 555, started by an earlier attempt",
		},
		{
			name: "deploying: Deploy reads the state itself",
			seed: []written{deployingStatus(555)},
			setup: func(t *testing.T, f *fakeGH) {
				f.getRun = runTimeline(t, 555, testSHA, runStep{0, "completed", "failure"})
			},
			wantNew:    []written{{"failure", "release-action: deploy failed: run 555 concluded failure", runURL(555), envURL}},
			wantRunID:  555,
			wantResume: true,
			wantLine:   "production: reusing deployment 1001 of 0123456 (stage deploying)",
		},
		{
			name: "deploy failed: dispatch again on the same record, not taking the failed run",
			seed: []written{deployingStatus(554), {"failure", "release-action: deploy failed: run 554 concluded failure", runURL(554), envURL}},
			setup: func(t *testing.T, f *fakeGH) {
				f.dispatch = noRunID
				f.listRuns = func(int64, github.RunFilter, time.Time) ([]github.WorkflowRun, error) {
					return []github.WorkflowRun{
						{ID: 555, HeadSHA: testSHA, Event: "workflow_dispatch", CreatedAt: t0.Add(3 * time.Second)},
						{ID: 554, HeadSHA: testSHA, Event: "workflow_dispatch", CreatedAt: t0.Add(-90 * time.Second)},
					}, nil
				}
				f.getRun = runTimeline(t, 555, testSHA, runStep{0, "completed", "success"})
			},
			wantNew:   []written{deployingStatus(555), deployedStatus(555)},
			wantRunID: 555,
			wantLine:  "production: found the dispatched run 555",
		},
		{
			name: "run of the earlier attempt is gone: dispatch again",
			seed: []written{deployingStatus(553)},
			setup: func(t *testing.T, f *fakeGH) {
				f.dispatch = dispatchRun(555)
				ok := runTimeline(t, 555, testSHA, runStep{0, "completed", "success"})
				f.getRun = func(id int64, now time.Time) (github.WorkflowRun, error) {
					if id == 553 {
						return github.WorkflowRun{}, fmt.Errorf("GET /actions/runs/553: %w", github.ErrNotFound)
					}
					return ok(id, now)
				}
			},
			wantNew:   []written{deployingStatus(555), deployedStatus(555)},
			wantRunID: 555,
			wantLine:  "production: run 553 of the earlier attempt is gone",
		},
		{
			name: "timed out, run still running: follow it, no second dispatch",
			seed: []written{deployingStatus(555), timedOut555},
			setup: func(t *testing.T, f *fakeGH) {
				f.getRun = runTimeline(t, 555, testSHA, runStep{0, "in_progress", ""}, runStep{2 * time.Minute, "completed", "success"})
				f.pending = noPending
			},
			// The newest status was the error: the run is announced as deploying again.
			wantNew:    []written{deployingStatus(555), deployedStatus(555)},
			wantRunID:  555,
			wantResume: true,
			wantLine:   "production: following run 555, which an earlier attempt stopped waiting for",
		},
		{
			name: "timed out, run concluded success since: recorded, validated next",
			seed: []written{deployingStatus(555), timedOut555},
			setup: func(t *testing.T, f *fakeGH) {
				f.getRun = runTimeline(t, 555, testSHA, runStep{0, "completed", "success"})
			},
			wantNew:    []written{deployedStatus(555)},
			wantRunID:  555,
			wantResume: true,
			wantLine:   "production: following run 555, which an earlier attempt stopped waiting for",
		},
		{
			name: "timed out, run concluded failure since: dispatch again",
			seed: []written{deployingStatus(555), timedOut555},
			setup: func(t *testing.T, f *fakeGH) {
				f.dispatch = dispatchRun(556)
				f.getRun = runsByID(map[int64]func(int64, time.Time) (github.WorkflowRun, error){
					555: runTimeline(t, 555, testSHA, runStep{0, "completed", "failure"}),
					556: runTimeline(t, 556, testSHA, runStep{0, "completed", "success"}),
				})
			},
			wantNew:   []written{deployingStatus(556), deployedStatus(556)},
			wantRunID: 556,
			wantLine:  "production: run 555 of the earlier attempt, which timed out, concluded failure: deploying again",
		},
		{
			name: "deploying, run completed, but another commit was deployed since: dispatch again",
			seed: []written{deployingStatus(555)},
			setup: func(t *testing.T, f *fakeGH) {
				other := f.addDeployment("production", otherSHA, t0.Add(-5*time.Minute), false)
				f.addStatus(other, "success", "", "", "", t0.Add(-4*time.Minute))
				f.dispatch = dispatchRun(556)
				f.getRun = runsByID(map[int64]func(int64, time.Time) (github.WorkflowRun, error){
					555: runTimeline(t, 555, testSHA, runStep{0, "completed", "success"}),
					556: runTimeline(t, 556, testSHA, runStep{0, "completed", "success"}),
				})
			},
			wantNew:   []written{deployingStatus(556), deployedStatus(556)},
			wantRunID: 556,
			wantLine:  "production: run 555 of the earlier attempt completed, but deployment 1005 of fedcba9 came after it: deploying again",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t).withWorkflow()
			rec, actions := seed(f, tc.seed...)
			tc.setup(t, f)
			var lines []string
			o := f.testOpts(&lines)
			if tc.withState {
				st, err := Inspect(context.Background(), f, "production", testSHA, 0, t0)
				require.NoError(t, err)
				require.NotNil(t, st.Record)
				assert.Equal(t, StageDeploying, st.Stage)
				o.State = &st
			}
			res, err := Deploy(context.Background(), f, o)
			require.NoError(t, err)
			assert.Zero(t, f.count("CreateDeployment"))
			assert.True(t, res.Reused)
			assert.Equal(t, rec, res.DeploymentID)
			assert.Equal(t, tc.wantResume, res.Resumed)
			assert.Equal(t, tc.wantRunID, res.RunID)
			assert.Equal(t, append(tc.seed, tc.wantNew...), f.statusesOf(rec))
			assert.Len(t, f.statusesOf(actions), 1, "GitHub Actions' record untouched")
			if tc.wantResume {
				assert.Zero(t, f.count("DispatchWorkflow"))
			}
			assert.Contains(t, lines, tc.wantLine)
		})
	}
}

func TestDeployStagingRecord(t *testing.T) {
	f := newFake(t).withWorkflow()
	f.allowCreate = true
	f.dispatch = dispatchRun(555)
	f.getRun = runTimeline(t, 555, testSHA, runStep{0, "completed", "success"})
	var lines []string
	o := f.testOpts(&lines)
	o.Environment.Name = "staging"
	o.Production = false
	o.Payload = Payload{Tag: "v1.2.3-rc.1", ForcedWindow: true, ForcedReason: "hotfix \"now\""}
	o.Trigger.Workflow = ""
	res, err := Deploy(context.Background(), f, o)
	require.NoError(t, err)
	assert.Equal(t, StateSuccess, res.State)
	assert.Equal(t, DefaultWorkflow, res.Workflow)
	require.Len(t, f.createReqs, 1)
	assert.Nil(t, f.createReqs[0].ProductionEnvironment, "GitHub's default for a non-production environment")
	assert.Equal(t, "staging", f.createReqs[0].Environment)
	assert.JSONEq(t, `{"release_action":1,"commit":"`+testSHA+`","tag":"v1.2.3-rc.1","forced_window":true,"forced_reason":"hotfix \"now\""}`,
		string(f.createReqs[0].Payload))
	assert.Equal(t, "staging", f.dispatches[0]["environment"])
}

func TestDeployTagNamesAnotherCommit(t *testing.T) {
	f := newFake(t).withWorkflow()
	f.allowCreate = true
	f.createSHA = otherSHA
	var lines []string
	res, err := Deploy(context.Background(), f, f.testOpts(&lines))
	require.NoError(t, err)
	assert.Equal(t, StateError, res.State)
	assert.Equal(t, []written{{"error", "release-action: deploy error: v1.2.3-rc.1 names fedcba9, not the candidate 0123456", "", envURL}},
		f.statusesOf(res.DeploymentID))
	assert.Zero(t, f.count("DispatchWorkflow"))
}

func TestDeployErrors(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name    string
		setup   func(t *testing.T, f *fakeGH, o *Options)
		wantErr string
		wantIs  error
	}{
		{
			name:    "the deploy workflow does not exist: nothing is created",
			setup:   func(t *testing.T, f *fakeGH, o *Options) { o.Trigger.Workflow = "missing.yml" },
			wantErr: `find the deploy workflow "missing.yml" for production@0123456: GET /workflows/missing.yml: not found`,
			wantIs:  github.ErrNotFound,
		},
		{
			name: "create deployment fails",
			setup: func(t *testing.T, f *fakeGH, o *Options) {
				f.allowCreate, f.createErr = true, boom
			},
			wantErr: "create deployment for production@0123456: boom",
			wantIs:  boom,
		},
		{
			name: "dispatch fails",
			setup: func(t *testing.T, f *fakeGH, o *Options) {
				f.allowCreate = true
				f.dispatch = func(int64, string, map[string]string) (github.DispatchResult, error) {
					return github.DispatchResult{}, boom
				}
			},
			wantErr: "dispatch deploy.yml on v1.2.3-rc.1 for deployment 1001 (production@0123456): boom",
			wantIs:  boom,
		},
		{
			name: "status cannot be written",
			setup: func(t *testing.T, f *fakeGH, o *Options) {
				f.allowCreate, f.statusErr = true, boom
				f.dispatch = dispatchRun(555)
				f.getRun = runTimeline(t, 555, testSHA, runStep{0, "in_progress", ""})
			},
			wantErr: `add status in_progress "deploying (run 555)" to deployment 1001 (production@0123456): boom`,
			wantIs:  boom,
		},
		{
			name: "reading the run fails",
			setup: func(t *testing.T, f *fakeGH, o *Options) {
				f.allowCreate = true
				f.dispatch = dispatchRun(555)
				f.getRun = func(int64, time.Time) (github.WorkflowRun, error) { return github.WorkflowRun{}, boom }
			},
			wantErr: "read deploy run 555 of production@0123456: boom",
			wantIs:  boom,
		},
		{
			name:    "unknown trigger event",
			setup:   func(t *testing.T, f *fakeGH, o *Options) { o.Trigger.Event = "push" },
			wantErr: `deploy 0123456 to production: unknown trigger event "push": set deploy.event to "deployment" or leave it out for workflow dispatch`,
		},
		{
			name: "state of another commit",
			setup: func(t *testing.T, f *fakeGH, o *Options) {
				o.State = &State{Environment: "production", SHA: otherSHA}
			},
			wantErr: "deploy 0123456 to production: the state given is of fedcba9 in production",
		},
		{
			name:    "no clock",
			setup:   func(t *testing.T, f *fakeGH, o *Options) { o.Clock = nil },
			wantErr: "deploy: no clock",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t).withWorkflow()
			var lines []string
			o := f.testOpts(&lines)
			tc.setup(t, f, &o)
			_, err := Deploy(context.Background(), f, o)
			require.EqualError(t, err, tc.wantErr)
			if tc.wantIs != nil {
				assert.ErrorIs(t, err, tc.wantIs)
			}
		})
	}
}

func TestDeployCancelled(t *testing.T) {
	f := newFake(t).withWorkflow()
	f.allowCreate = true
	f.dispatch = dispatchRun(555)
	ctx, cancel := context.WithCancel(context.Background())
	running := runTimeline(t, 555, testSHA, runStep{0, "in_progress", ""})
	f.getRun = func(id int64, now time.Time) (github.WorkflowRun, error) {
		if now.After(t0.Add(time.Minute)) {
			cancel()
		}
		return running(id, now)
	}
	var lines []string
	res, err := Deploy(ctx, f, f.testOpts(&lines))
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, "follow deploy run 555 of production@0123456: context canceled", err.Error())
	require.NotNil(t, res)
	assert.Equal(t, int64(555), res.RunID)
	assert.Equal(t, []written{deployingStatus(555)}, f.statusesOf(1001), "the record keeps saying where it stood")
}

func TestResultJSON(t *testing.T) {
	r := Result{Environment: "production", DeploymentID: 7, State: StateSuccess, WaitedApproval: config.Duration(270 * time.Second),
		Duration: config.Duration(6 * time.Minute), Approvers: []string{"@a"}}
	b, err := json.Marshal(r)
	require.NoError(t, err)
	assert.JSONEq(t, `{"environment":"production","deployment_id":7,"reused":false,"trigger":"","state":"success",
		"waited_approval":"4m30s","approvers":["@a"],"duration":"6m"}`, string(b))
	var back Result
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, r, back)
	assert.Error(t, json.Unmarshal([]byte(`{"duration":"soon"}`), &back))
}
