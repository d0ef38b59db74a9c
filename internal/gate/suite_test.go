package gate

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	vocab "github.com/agentme/release-action/internal/outcome"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/github"
)

// runAt scripts GetWorkflowRun of run 200: in progress until done (after t0), then
// completed with concl.
func runAt(done time.Duration, concl string) func(now time.Time) github.WorkflowRun {
	return func(now time.Time) github.WorkflowRun {
		r := github.WorkflowRun{ID: 200, HeadSHA: testSHA, Status: "in_progress",
			HTMLURL: "https://github.example/o/r/actions/runs/200"}
		if !now.Before(t0.Add(done)) {
			r.Status, r.Conclusion = "completed", concl
		}
		return r
	}
}

// TestWorkflowGateAsksTheRunWhenTheSuiteDisagrees: when every job of the run passed but
// its check suite is not completed (GitHub completes it a moment later), or is held open
// or failed by a check run that is no job of the run (the release-gate check run GitHub
// attaches to a workflow's suite), the run's own status decides, read at most once a
// minute.
func TestWorkflowGateAsksTheRunWhenTheSuiteDisagrees(t *testing.T) {
	hard := cr(501, "hardening", "Security Gate", 200, "completed", "success")
	cases := []struct {
		name  string
		cs    []github.CheckContext
		self  Self
		run   func(time.Time) github.WorkflowRun // nil: GetWorkflowRun must not be called
		names []string                           // Self.CheckRunNames
		// verdict, reason and when the gate was decided (truncated to the minute).
		verdict vocab.Verdict
		reason  string
		at      time.Duration
	}{
		{
			name: "the suite completes a moment after its last check run",
			cs:   []github.CheckContext{suite(hard, "in_progress", "")}, run: runAt(0, "success"),
			verdict: Pass, reason: "run 200 of 'Security Gate' passed (1 job; the run completed success while its check suite is in_progress)",
		},
		{
			name: "the run is still completing: asked again while the verdict waits on it",
			cs:   []github.CheckContext{suite(hard, "in_progress", "")}, run: runAt(150*time.Second, "success"),
			verdict: Pass, at: 2 * time.Minute,
			reason: "run 200 of 'Security Gate' passed (1 job; the run completed success while its check suite is in_progress)",
		},
		{
			name: "the run failed although every job shown passed",
			cs:   []github.CheckContext{suite(hard, "in_progress", "")}, run: runAt(0, "failure"),
			verdict: Fail, reason: "run 200 of 'Security Gate' concluded 'failure' (failed) although 1 job passed",
		},
		{
			name: "this gate's published check run sits in the suite",
			cs: []github.CheckContext{suite(hard, "in_progress", ""),
				suite(cr(9001, "release-gate", "Security Gate", 200, "in_progress", ""), "in_progress", "")},
			self: Self{CheckRunIDs: []int64{9001}}, run: runAt(0, "success"),
			verdict: Pass, reason: "run 200 of 'Security Gate' passed (1 job; the run completed success while its check suite is in_progress)",
		},
		{
			name: "a check run named like the published one is ignored when this gate publishes none",
			cs: []github.CheckContext{suite(hard, "in_progress", ""),
				suite(cr(9001, "release-gate", "Security Gate", 200, "in_progress", ""), "in_progress", "")},
			names: []string{"release-gate"}, run: runAt(0, "success"),
			verdict: Pass, reason: "run 200 of 'Security Gate' passed (1 job; the run completed success while its check suite is in_progress)",
		},
		{
			name: "an earlier gate's failed check run failed the suite",
			cs: []github.CheckContext{suite(hard, "completed", "failure"),
				suite(cr(8001, "release-gate", "Security Gate", 200, "completed", "failure"), "completed", "failure")},
			names: []string{"release-gate"}, run: runAt(0, "success"),
			verdict: Pass, reason: "run 200 of 'Security Gate' passed (1 job; the run completed success while its check suite concluded 'failure' (failed))",
		},
		{
			name: "an older attempt of the published check run is superseded by this one",
			cs: []github.CheckContext{suite(hard, "in_progress", ""),
				suite(cr(8001, "release-gate", "Security Gate", 200, "completed", "failure"), "in_progress", ""),
				suite(cr(9001, "release-gate", "Security Gate", 200, "in_progress", ""), "in_progress", "")},
			self: Self{CheckRunIDs: []int64{9001}}, run: runAt(0, "success"),
			verdict: Pass, reason: "run 200 of 'Security Gate' passed (1 job; the run completed success while its check suite is in_progress)",
		},
		{
			name: "without its name an earlier gate's check run counts as a job",
			cs: []github.CheckContext{suite(hard, "completed", "failure"),
				suite(cr(8001, "release-gate", "Security Gate", 200, "completed", "failure"), "completed", "failure")},
			verdict: Fail, reason: "1 of 2 jobs failed: 'release-gate' (Security Gate run 200): failed",
		},
		{
			name:    "a suite that failed with nothing hidden in it fails without asking",
			cs:      []github.CheckContext{suite(hard, "completed", "failure")},
			verdict: Fail, reason: "run 200 of 'Security Gate': its check suite concluded 'failure' (failed)",
		},
		{
			name:    "a completed passing suite needs no question",
			cs:      []github.CheckContext{hard},
			verdict: Pass, reason: "run 200 of 'Security Gate' passed (1 job)",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			f.snap = static(tc.cs...)
			var reads []time.Time
			if tc.run != nil {
				f.getRun = func(id int64) (github.WorkflowRun, error) {
					require.Equal(t, int64(200), id)
					reads = append(reads, f.clk.Now())
					return tc.run(f.clk.Now()), nil
				}
			}
			o, _ := f.opts(gateSecurity)
			o.Self = tc.self
			o.Self.CheckRunNames = tc.names
			res, err := Run(context.Background(), f, o)
			require.NoError(t, err)
			assert.False(t, res.TimedOut)
			assert.Equal(t, tc.verdict, res.Verdict, res.Reason)
			assert.Equal(t, tc.reason, res.Gates[0].Reason)
			assert.Equal(t, tc.at, res.Finished.Sub(t0).Truncate(time.Minute))
			if tc.run != nil {
				require.NotEmpty(t, reads)
			}
			for i := 1; i < len(reads); i++ {
				assert.GreaterOrEqual(t, reads[i].Sub(reads[i-1]), runReread, "the run is read at most once per runReread")
			}
			for _, e := range res.Gates[0].Evidence {
				assert.NotEqual(t, int64(9001), e.CheckRunID, "the published check run is never evidence")
				if len(tc.names) > 0 {
					assert.NotEqual(t, "release-gate", e.Name, "check runs named like the published one are never evidence")
				}
			}
		})
	}
}

func TestWorkflowGateRunReadFailureIsAnError(t *testing.T) {
	f := newFake(t)
	f.snap = static(suite(cr(501, "hardening", "Security Gate", 200, "completed", "success"), "in_progress", ""))
	refused := &github.APIError{Method: "GET", Path: "/repos/o/r/actions/runs/200", StatusCode: http.StatusForbidden,
		Message: "Resource not accessible by integration"}
	f.getRun = func(int64) (github.WorkflowRun, error) { return github.WorkflowRun{}, refused }
	o, _ := f.opts(gateSecurity)
	res, err := Run(context.Background(), f, o)
	require.Error(t, err)
	assert.Nil(t, res, "an API error is never read as a verdict")
	assert.ErrorIs(t, err, github.ErrForbidden)
	assert.Contains(t, err.Error(), "gate 'Security Gate': read run 200 to see whether it completed")
}

// TestTestsGateRunWithoutTheJob: a run whose suite stays open (a check run that is no job
// of it) although all its jobs completed is asked whether it completed; a run that did
// never gets the job.
func TestTestsGateRunWithoutTheJob(t *testing.T) {
	cases := []struct {
		name    string
		run     func(time.Time) github.WorkflowRun
		verdict vocab.Verdict
		reason  string
	}{
		{name: "the run completed", run: runAt(0, "success"), verdict: Fail,
			reason: "run 200 of 'Security Gate' completed without a job named 'hardening'"},
		{name: "the run still runs", run: runAt(time.Hour, "success"), verdict: Fail,
			reason: "no job named 'hardening' in workflow 'Security Gate' (.github/workflows/security-gate.yml) appeared within 5m (appearance grace): fail closed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			f.snap = static(
				suite(cr(502, "docs", "Security Gate", 200, "completed", "success"), "in_progress", ""),
				suite(cr(9001, "release-gate", "Security Gate", 200, "in_progress", ""), "in_progress", ""))
			f.getRun = func(id int64) (github.WorkflowRun, error) { return tc.run(f.clk.Now()), nil }
			o, _ := f.opts(gateTests)
			o.Self.CheckRunNames = []string{"release-gate"}
			res, err := Run(context.Background(), f, o)
			require.NoError(t, err)
			assert.Equal(t, tc.verdict, res.Verdict)
			assert.Equal(t, tc.reason, res.Gates[0].Reason)
			assert.LessOrEqual(t, f.calls["GetWorkflowRun"], int(5*time.Minute/runReread)+1, "at most once per runReread")
		})
	}
}

// TestOwnJobsOlderAttemptNeverCounts: the latest attempt per name is decided before the
// gate's own check runs are dropped, so a failed earlier attempt of the gate's job (or of
// its published check run) is superseded, not evidence.
func TestOwnJobsOlderAttemptNeverCounts(t *testing.T) {
	ci := cr(101, "check", "CI", 100, "completed", "success")
	oldJob := suite(cr(4001, "release-gate", "Release", 4000, "completed", "failure"), "in_progress", "")
	curJob := suite(cr(4101, "release-gate", "Release", 4000, "in_progress", ""), "in_progress", "")
	cases := []struct {
		name     string
		cs       []github.CheckContext
		self     Self
		jobs     []github.Job // ListJobs of the gate's own run; nil: not asked
		jobsErr  error
		gate     config.Gate
		verdict  vocab.Verdict
		reason   string
		oldID    int64 // the older attempt, listed as superseded
		evidence int
	}{
		{
			name: "own job found by its runner", cs: []github.CheckContext{oldJob, curJob, ci},
			self: Self{RunID: 4000, RunnerName: "r1", JobKey: "release-gate"},
			jobs: []github.Job{{ID: 4101, RunID: 4000, Name: "release-gate", Status: "in_progress", RunnerName: "r1"}},
			gate: config.Gate{Name: "everything", Check: "*"}, verdict: Pass, reason: "'check' (CI run 100) succeeded", oldID: 4001, evidence: 2,
		},
		{
			name: "own job found by its job key", cs: []github.CheckContext{oldJob, curJob, ci},
			self: Self{RunID: 4000, RunnerName: "r1", JobKey: "release-gate"}, jobsErr: errors.New("404 Not Found"),
			gate: config.Gate{Name: "everything", Check: "*"}, verdict: Pass, reason: "'check' (CI run 100) succeeded", oldID: 4001, evidence: 2,
		},
		{
			name: "an older published check run superseded by this gate's",
			cs: []github.CheckContext{ci, cr(8001, "release-gate", "", 0, "completed", "failure"),
				cr(9001, "release-gate", "", 0, "in_progress", "")},
			self: Self{CheckRunIDs: []int64{9001}},
			gate: config.Gate{Name: "everything", Check: "*"}, verdict: Pass, reason: "'check' (CI run 100) succeeded", oldID: 8001, evidence: 2,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			f.snap = static(tc.cs...)
			if tc.jobs != nil || tc.jobsErr != nil {
				f.listJobs = func(run int64) ([]github.Job, error) {
					require.Equal(t, tc.self.RunID, run)
					return tc.jobs, tc.jobsErr
				}
			}
			o, _ := f.opts(tc.gate)
			o.Self = tc.self
			res, err := Run(context.Background(), f, o)
			require.NoError(t, err)
			assert.Equal(t, tc.verdict, res.Verdict, res.Reason)
			assert.Equal(t, tc.reason, res.Gates[0].Reason)
			require.Len(t, res.Gates[0].Evidence, tc.evidence)
			for _, e := range res.Gates[0].Evidence {
				if e.CheckRunID == tc.oldID {
					assert.False(t, e.Latest)
					assert.Equal(t, Superseded, e.Verdict)
				}
			}
		})
	}
}

// TestDispatchConfigErrors: a dispatch gate whose workflow does not exist, or that GitHub
// refuses to dispatch (422), stops the gate as bad input and a message naming the fix;
// other failures are not configuration errors.
func TestDispatchConfigErrors(t *testing.T) {
	refused := func(msg string) error {
		return &github.APIError{Method: "POST", Path: "/repos/o/r/actions/workflows/77/dispatches", StatusCode: 422, Message: msg}
	}
	cases := []struct {
		name        string
		find        []github.Workflow
		dispatch    error
		config      bool
		want        string
		wantDeleted bool
	}{
		{name: "the workflow does not exist",
			find:   []github.Workflow{fakeWorkflow("CI")},
			config: true, want: "gate 'Install Smoke': no workflow file in the repository declares name: 'Install Smoke'; name the workflow by its file instead"},
		{name: "no workflow_dispatch trigger", dispatch: refused("Workflow does not have 'workflow_dispatch' trigger"), config: true, wantDeleted: true,
			want: "'Install Smoke' has no workflow_dispatch trigger, so gate 'Install Smoke' cannot dispatch it: add `on: workflow_dispatch` to .github/workflows/install-smoke.yml, or drop dispatch: true from the gate (GitHub answered 422: Workflow does not have 'workflow_dispatch' trigger)"},
		{name: "a disabled workflow", dispatch: refused("Cannot trigger a 'workflow_dispatch' on a disabled workflow"), config: true, wantDeleted: true,
			want: "workflow 'Install Smoke' is disabled, so gate 'Install Smoke' cannot dispatch it"},
		{name: "inputs the workflow does not declare", dispatch: refused("Unexpected inputs provided: [\"mode\"]"), config: true, wantDeleted: true,
			want: "'Install Smoke' refuses the inputs of gate 'Install Smoke': make the gate's inputs match the workflow_dispatch inputs .github/workflows/install-smoke.yml declares"},
		{name: "a server failure is no configuration error", wantDeleted: true,
			dispatch: &github.APIError{Method: "POST", Path: "/repos/o/r/actions/workflows/77/dispatches", StatusCode: 502},
			want:     "dispatch workflow 'Install Smoke' on " + tempBranch},
		{name: "a permission refusal is no configuration error of the gate", wantDeleted: true,
			dispatch: &github.APIError{Method: "POST", Path: "/repos/o/r/actions/workflows/77/dispatches", StatusCode: 403, Message: "Resource not accessible by integration"},
			want:     "dispatch workflow 'Install Smoke' on " + tempBranch},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newSmokeWorld(t)
			if tc.find != nil {
				w.f.listWorkflows = func() ([]github.Workflow, error) { return tc.find, nil }
				w.f.listRuns, w.f.dispatch, w.f.getRun, w.f.branches, w.f.createRef, w.f.deleteRef = nil, nil, nil, nil, nil, nil
			}
			if tc.dispatch != nil {
				w.f.dispatch = func(int64, string, map[string]string) (github.DispatchResult, error) {
					return github.DispatchResult{}, tc.dispatch
				}
			}
			o, _ := w.f.opts(gateSmoke)
			res, err := Run(context.Background(), w.f, o)
			require.Error(t, err)
			assert.Nil(t, res)
			assert.Equal(t, tc.config, errors.Is(err, vocab.ErrBadInput), "%v", err)
			assert.Contains(t, err.Error(), tc.want)
			if tc.dispatch != nil {
				assert.ErrorIs(t, err, tc.dispatch, "GitHub's answer stays reachable")
			}
			if tc.wantDeleted {
				assert.Equal(t, []string{"refs/heads/" + tempBranch}, w.deleted, "the temporary branch is deleted")
			}
		})
	}
}
