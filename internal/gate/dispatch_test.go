package gate

import (
	"context"
	"errors"
	"testing"
	"time"

	vocab "github.com/agentme/release-action/internal/outcome"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/github"
)

const tempBranch = "release-action/dispatch-0123456789ab-777-1"

// smokeWorld scripts an Install Smoke workflow that has no run on the commit until it is
// dispatched; the dispatched run's jobs appear after a minute and pass after four.
type smokeWorld struct {
	f            *fakeGH
	dispatchedAt time.Time
	dispatchRef  string
	runID        int64
	runHead      string
	returnRunID  bool
	appearAfter  time.Duration
	listed       int // workflow_dispatch listings answered
	listFrom     int // listings before the run shows
	deleted      []string
	created      []string
}

func newSmokeWorld(t *testing.T) *smokeWorld {
	w := &smokeWorld{f: newFake(t), runID: 900, runHead: testSHA, returnRunID: true, appearAfter: time.Minute}
	f := w.f
	f.snap = func(now time.Time) []github.CheckContext {
		cs := []github.CheckContext{cr(101, "check", "CI", 100, "completed", "success")}
		if w.dispatchedAt.IsZero() || now.Sub(w.dispatchedAt) < w.appearAfter {
			return cs
		}
		if now.Sub(w.dispatchedAt) >= 4*time.Minute {
			return append(cs, smokeRuns(w.runID, "completed", "success")...)
		}
		return append(cs, smokeRuns(w.runID, "in_progress", "")...)
	}
	f.listRuns = func(id int64, fl github.RunFilter) ([]github.WorkflowRun, error) {
		assert.Equal(t, int64(77), id)
		assert.Equal(t, testSHA, fl.HeadSHA)
		if fl.Event == "" {
			return nil, nil // the lookup before dispatching: nothing on the commit
		}
		assert.Equal(t, "workflow_dispatch", fl.Event)
		assert.Equal(t, w.dispatchedAt.Add(-dispatchSkew), fl.CreatedSince)
		w.listed++
		if w.listed <= w.listFrom {
			return nil, nil
		}
		return []github.WorkflowRun{
			{ID: w.runID, HeadSHA: w.runHead, HeadBranch: w.dispatchRef, Event: "workflow_dispatch", Status: "queued", CreatedAt: w.dispatchedAt.Add(2 * time.Second)},
			{ID: w.runID + 500, HeadSHA: testSHA, HeadBranch: "other", Event: "workflow_dispatch", Status: "queued", CreatedAt: w.dispatchedAt.Add(3 * time.Second)},
			{ID: w.runID - 1, HeadSHA: testSHA, HeadBranch: w.dispatchRef, Event: "workflow_dispatch", Status: "completed", CreatedAt: w.dispatchedAt.Add(-time.Hour)},
		}, nil
	}
	f.dispatch = func(id int64, ref string, inputs map[string]string) (github.DispatchResult, error) {
		assert.Equal(t, int64(77), id)
		w.dispatchedAt, w.dispatchRef = f.clk.Now(), ref
		if !w.returnRunID {
			return github.DispatchResult{}, nil
		}
		return github.DispatchResult{RunID: w.runID, HTMLURL: "https://github.example/o/r/actions/runs/900"}, nil
	}
	f.getRun = func(id int64) (github.WorkflowRun, error) {
		assert.Equal(t, w.runID, id)
		return github.WorkflowRun{ID: id, HeadSHA: w.runHead, HeadBranch: w.dispatchRef, Event: "workflow_dispatch",
			Status: "queued", HTMLURL: "https://github.example/o/r/actions/runs/900"}, nil
	}
	f.branches = func() ([]string, error) { return nil, nil }
	f.createRef = func(ref, sha string) error {
		assert.Equal(t, testSHA, sha)
		w.created = append(w.created, ref)
		return nil
	}
	f.deleteRef = func(ref string) error {
		w.deleted = append(w.deleted, ref)
		return nil
	}
	return w
}

func TestDispatch(t *testing.T) {
	cases := []struct {
		name      string
		setup     func(w *smokeWorld)
		gate      config.Gate
		verdict   vocab.Verdict
		reason    string
		ref       string
		temp      bool
		discover  bool
		dispatchN int
	}{
		{name: "on the branch whose head is the commit", setup: func(w *smokeWorld) {
			w.f.branches = func() ([]string, error) { return []string{"feature/x", "master", "main"}, nil }
			w.f.createRef, w.f.deleteRef = nil, nil
		}, verdict: Pass, ref: "main", dispatchN: 1,
			reason: "'Install Smoke' dispatched on main as run 900: run 900 of 'Install Smoke' passed (3 jobs)"},
		{name: "on a temporary branch, created and deleted", verdict: Pass, ref: tempBranch, temp: true, dispatchN: 1,
			reason: "'Install Smoke' dispatched on " + tempBranch + " as run 900: run 900 of 'Install Smoke' passed (3 jobs)"},
		{name: "a server without run details: the run is discovered", setup: func(w *smokeWorld) {
			w.returnRunID = false
			w.listFrom = 2
		}, verdict: Pass, ref: tempBranch, temp: true, discover: true, dispatchN: 1,
			reason: "'Install Smoke' dispatched on " + tempBranch + " as run 900: run 900 of 'Install Smoke' passed (3 jobs)"},
		{name: "the dispatched run ran another commit", setup: func(w *smokeWorld) {
			w.runHead = otherSHA
		}, verdict: Fail, ref: tempBranch, temp: true, dispatchN: 1,
			reason: "dispatched run 900 ran 'fedcba9', not the candidate 0123456"},
		{name: "no run appears after a dispatch without run details", setup: func(w *smokeWorld) {
			w.returnRunID = false
			w.listFrom = 1 << 30
			w.appearAfter = 10 * time.Hour
		}, verdict: Fail, ref: tempBranch, temp: true, dispatchN: 1,
			reason: "no run of workflow 'Install Smoke' (.github/workflows/install-smoke.yml) dispatched on " + tempBranch + " appeared within 5m0s (appearance grace): fail closed"},
		{name: "without run details the run is found from its jobs on the commit", setup: func(w *smokeWorld) {
			w.returnRunID = false
			w.listFrom = 1 << 30
		}, verdict: Pass, ref: tempBranch, temp: true, discover: true, dispatchN: 1,
			reason: "'Install Smoke' dispatched on " + tempBranch + " as run 900: run 900 of 'Install Smoke' passed (3 jobs)"},
		{name: "the gate names the workflow by file", gate: config.Gate{Name: "Install Smoke", Workflow: "install-smoke.yml", Dispatch: true},
			verdict: Pass, ref: tempBranch, temp: true, dispatchN: 1,
			reason: "'Install Smoke' dispatched on " + tempBranch + " as run 900: run 900 of 'Install Smoke' passed (3 jobs)"},
		{name: "the temporary branch exists already", setup: func(w *smokeWorld) {
			w.f.createRef = func(string, string) error {
				return &github.APIError{Method: "POST", Path: "/git/refs", StatusCode: 422, Message: "Reference already exists"}
			}
		}, verdict: Pass, ref: tempBranch, temp: true, dispatchN: 1,
			reason: "'Install Smoke' dispatched on " + tempBranch + " as run 900: run 900 of 'Install Smoke' passed (3 jobs)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newSmokeWorld(t)
			if tc.setup != nil {
				tc.setup(w)
			}
			g := tc.gate
			if g.Name == "" {
				g = gateSmoke
			}
			o, lines := w.f.opts(g)
			res, err := Run(context.Background(), w.f, o)
			require.NoError(t, err)
			gr := res.Gates[0]
			assert.Equal(t, tc.verdict, res.Verdict, "%s\n%s", res.Reason, msgs(*lines))
			assert.Equal(t, tc.reason, gr.Reason)
			assert.Equal(t, tc.dispatchN, w.f.calls["DispatchWorkflow"])
			require.NotNil(t, gr.Dispatch)
			assert.Equal(t, DispatchDispatched, gr.Dispatch.Action)
			assert.Equal(t, tc.ref, gr.Dispatch.Ref)
			assert.Equal(t, tc.temp, gr.Dispatch.TempRef)
			assert.Equal(t, tc.discover, gr.Dispatch.RunDiscovered)
			assert.Equal(t, t0, gr.Dispatch.DispatchedAt)
			if tc.temp {
				if tc.name != "the temporary branch exists already" {
					assert.Equal(t, []string{"refs/heads/" + tempBranch}, w.created)
				}
				assert.Equal(t, []string{"refs/heads/" + tempBranch}, w.deleted, "the temporary branch is deleted")
				assert.True(t, gr.Dispatch.RefDeleted)
			} else {
				assert.Empty(t, w.deleted)
				assert.False(t, gr.Dispatch.RefDeleted)
			}
			if tc.discover {
				assert.Equal(t, int64(900), gr.Dispatch.RunID, "the run on the dispatch branch wins over a newer one elsewhere")
				if w.listFrom == 2 {
					assert.Equal(t, 3, w.listed)
				}
			}
			if tc.verdict == Pass {
				assert.Equal(t, testSHA, gr.Dispatch.HeadSHA)
				assert.Len(t, gr.Evidence, 3)
			}
		})
	}
}

func TestDispatchFollowsAnExistingRun(t *testing.T) {
	f := newFake(t)
	f.snap = timeline(
		step{0, nil},
		step{2 * time.Minute, smokeRuns(850, "in_progress", "")},
		step{5 * time.Minute, smokeRuns(850, "completed", "success")},
	)
	f.listRuns = func(id int64, fl github.RunFilter) ([]github.WorkflowRun, error) {
		assert.Equal(t, github.RunFilter{HeadSHA: testSHA}, fl)
		return []github.WorkflowRun{
			{ID: 850, HeadSHA: testSHA, Event: "workflow_dispatch", Status: "queued"},
			{ID: 860, HeadSHA: otherSHA, Event: "schedule", Status: "queued"}, // not the candidate: never followed
			{ID: 700, HeadSHA: testSHA, Event: "schedule", Status: "completed", Conclusion: "failure"},
		}, nil
	}
	f.getRun = func(id int64) (github.WorkflowRun, error) {
		require.Equal(t, int64(850), id)
		return github.WorkflowRun{ID: 850, HeadSHA: testSHA, Status: "queued", HTMLURL: "https://github.example/o/r/actions/runs/850"}, nil
	}
	o, lines := f.opts(gateSmoke)
	res, err := Run(context.Background(), f, o)
	require.NoError(t, err)
	assert.Equal(t, Pass, res.Verdict, res.Reason)
	assert.Zero(t, f.calls["DispatchWorkflow"], "no second dispatch")
	assert.Equal(t, 1, f.calls["ListWorkflowRuns"])
	gr := res.Gates[0]
	assert.Equal(t, DispatchFollowed, gr.Dispatch.Action)
	assert.Equal(t, int64(850), gr.Dispatch.RunID)
	assert.Equal(t, "following run 850 of 'Install Smoke' already on the commit: run 850 of 'Install Smoke' passed (3 jobs)", gr.Reason)
	assert.Contains(t, msgs(*lines), "run 850 (workflow_dispatch) of 'Install Smoke' is already on the commit; following it instead of dispatching")
	assert.Contains(t, msgs(*lines), "Install Smoke: run 850 queued, no jobs yet")
	// GetWorkflowRun: once to verify, then at most once a minute while no job shows.
	assert.LessOrEqual(t, f.calls["GetWorkflowRun"], 3)
}

func TestDispatchNotNeededWhenTheWorkflowRan(t *testing.T) {
	f := newFake(t)
	f.snap = static(smokeRuns(600, "completed", "success")...)
	o, _ := f.opts(gateSmoke)
	res, err := Run(context.Background(), f, o)
	require.NoError(t, err)
	assert.Equal(t, Pass, res.Verdict)
	assert.Nil(t, res.Gates[0].Dispatch)
	assert.Equal(t, "run 600 of 'Install Smoke' passed (3 jobs)", res.Gates[0].Reason)
}

func TestDispatchedRunWithoutJobs(t *testing.T) {
	w := newSmokeWorld(t)
	w.appearAfter = 10 * time.Hour
	runs := 0
	w.f.getRun = func(id int64) (github.WorkflowRun, error) {
		runs++
		r := github.WorkflowRun{ID: id, HeadSHA: testSHA, Status: "queued"}
		if runs >= 3 {
			r.Status, r.Conclusion = "completed", "startup_failure"
		}
		return r, nil
	}
	o, _ := w.f.opts(gateSmoke)
	res, err := Run(context.Background(), w.f, o)
	require.NoError(t, err)
	assert.Equal(t, Fail, res.Verdict)
	assert.Equal(t, "'Install Smoke' dispatched on "+tempBranch+" as run 900: run 900 concluded 'startup_failure' without running any job", res.Gates[0].Reason)
	assert.Equal(t, 2*time.Minute, res.Finished.Sub(t0).Truncate(time.Minute), "re-read once a minute")
	assert.Equal(t, []string{"refs/heads/" + tempBranch}, w.deleted)
}

func TestDispatchCleanupSurvivesCancellation(t *testing.T) {
	w := newSmokeWorld(t)
	ctx, cancel := context.WithCancel(context.Background())
	inner := w.f.snap
	w.f.snap = func(now time.Time) []github.CheckContext {
		if w.f.calls["Snapshot"] == 3 {
			cancel()
		}
		return inner(now)
	}
	w.f.deleteRef = func(ref string) error {
		w.deleted = append(w.deleted, ref)
		return nil
	}
	o, _ := w.f.opts(gateSmoke)
	res, err := Run(ctx, w.f, o)
	require.ErrorIs(t, err, context.Canceled)
	assert.Nil(t, res)
	assert.Equal(t, []string{"refs/heads/" + tempBranch}, w.deleted)
	last := w.f.lastCtxs[len(w.f.lastCtxs)-1]
	assert.NoError(t, last.Err(), "the cleanup runs with a context that is not cancelled")
}

func TestDispatchCleanupFailureIsAWarning(t *testing.T) {
	w := newSmokeWorld(t)
	w.f.deleteRef = func(string) error { return errors.New("403 resource not accessible by integration") }
	o, lines := w.f.opts(gateSmoke)
	res, err := Run(context.Background(), w.f, o)
	require.NoError(t, err)
	assert.Equal(t, Pass, res.Verdict, "a leftover branch does not change the verdict")
	require.Len(t, res.Warnings, 1)
	assert.Contains(t, res.Warnings[0], "could not delete the temporary branch refs/heads/"+tempBranch)
	assert.Contains(t, msgs(*lines), "delete it by hand")
	assert.False(t, res.Gates[0].Dispatch.RefDeleted)
}

func TestDispatchErrors(t *testing.T) {
	boom := errors.New("422 Workflow does not have 'workflow_dispatch' trigger")
	cases := []struct {
		name  string
		setup func(w *smokeWorld)
		want  string
	}{
		{"workflow not found", func(w *smokeWorld) {
			w.f.listWorkflows = func() ([]github.Workflow, error) { return nil, boom }
		}, "list the workflows of o/r to find the files the gates name"},
		{"dispatch refused", func(w *smokeWorld) {
			w.f.dispatch = func(int64, string, map[string]string) (github.DispatchResult, error) {
				return github.DispatchResult{}, boom
			}
		}, "dispatch workflow 'Install Smoke' on " + tempBranch},
		{"branch creation refused", func(w *smokeWorld) {
			w.f.createRef = func(string, string) error { return boom }
			w.f.deleteRef = nil
		}, "create the temporary branch " + tempBranch},
		{"branches unreadable", func(w *smokeWorld) {
			w.f.branches = func() ([]string, error) { return nil, boom }
			w.f.deleteRef = nil
		}, "list the branches whose head is 0123456"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newSmokeWorld(t)
			tc.setup(w)
			o, _ := w.f.opts(gateSmoke)
			res, err := Run(context.Background(), w.f, o)
			require.ErrorIs(t, err, boom)
			assert.Nil(t, res)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	t.Run("a temporary branch created before the failure is still deleted", func(t *testing.T) {
		w := newSmokeWorld(t)
		w.f.dispatch = func(int64, string, map[string]string) (github.DispatchResult, error) {
			return github.DispatchResult{}, boom
		}
		o, _ := w.f.opts(gateSmoke)
		_, err := Run(context.Background(), w.f, o)
		require.ErrorIs(t, err, boom)
		assert.Equal(t, []string{"refs/heads/" + tempBranch}, w.deleted)
	})
}

func TestDispatchInputsAndOneBranchForTwoGates(t *testing.T) {
	w := newSmokeWorld(t)
	var inputs []map[string]string
	inner := w.f.dispatch
	w.f.dispatch = func(id int64, ref string, in map[string]string) (github.DispatchResult, error) {
		inputs = append(inputs, in)
		return inner(id, ref, in)
	}
	g1 := gateSmoke
	g1.Inputs = map[string]string{"mode": "full"}
	g2 := config.Gate{Name: "Install Smoke again", Workflow: "Install Smoke", Dispatch: true}
	o, _ := w.f.opts(g1, g2)
	res, err := Run(context.Background(), w.f, o)
	require.NoError(t, err)
	assert.Equal(t, Pass, res.Verdict, res.Reason)
	assert.Equal(t, map[string]string{"mode": "full"}, inputs[0])
	assert.Len(t, w.created, 1, "one temporary branch per gate run")
	assert.Len(t, w.deleted, 1)
	assert.True(t, res.Gates[1].Dispatch.RefDeleted)
}
