package deploy

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/agentme/release-action/internal/clock"
	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/fakegh"
	"github.com/agentme/release-action/internal/github"
)

const (
	testSHA  = "0123456789abcdef0123456789abcdef01234567"
	otherSHA = "fedcba9876543210fedcba9876543210fedcba98"
	thirdSHA = "aaaabbbbccccddddeeeeffff0000111122223333"
	testTag  = "v1.2.3-rc.1"
	envURL   = "https://agentme.example"
	wfID     = 77
)

var t0 = time.Date(2026, 11, 20, 10, 30, 0, 0, time.UTC)

func runURL(id int64) string { return fmt.Sprintf("https://github.example/o/r/actions/runs/%d", id) }

// recClock is a virtual clock that records every sleep.
type recClock struct {
	*clock.Virtual
	sleeps []time.Duration
}

func (c *recClock) Sleep(ctx context.Context, d time.Duration) error {
	c.sleeps = append(c.sleeps, d)
	return c.Virtual.Sleep(ctx, d)
}

// fakeGH is the shared loud fake (fakegh) scripted for deploy's tests: deployments and
// statuses are stored there; creating a record, workflows, dispatch, runs and pending
// deployments answer only when the test set the knob below, and every other call fails the test.
type fakeGH struct {
	*fakegh.Fake
	t   *testing.T
	clk *recClock

	allowCreate bool
	createSHA   string // SHA the created record names (default testSHA)
	createErr   error
	statusErr   error

	workflows map[string]github.Workflow
	dispatch  func(wfID int64, ref string, inputs map[string]string) (github.DispatchResult, error)
	listRuns  func(wfID int64, f github.RunFilter, now time.Time) ([]github.WorkflowRun, error)
	getRun    func(id int64, now time.Time) (github.WorkflowRun, error)
	pending   func(id int64, now time.Time) ([]github.PendingDeployment, error)

	createReqs []github.DeploymentRequest
	dispatches []map[string]string
}

func newFake(t *testing.T) *fakeGH {
	clk := &recClock{Virtual: clock.NewVirtual(t0)}
	f := &fakeGH{Fake: fakegh.New(t, clk, 1000), t: t, clk: clk}
	f.CreateDeploymentFunc = func(r github.DeploymentRequest) (string, error) {
		if !f.allowCreate {
			return "", f.Unexpected("CreateDeployment", r.Environment, r.Ref)
		}
		f.createReqs = append(f.createReqs, r)
		if f.createErr != nil {
			return "", f.createErr
		}
		return cmpOr(f.createSHA, testSHA), nil
	}
	f.OnStatus = func(github.Deployment, github.DeploymentStatusRequest) error { return f.statusErr }
	f.FindWorkflowFunc = func(name string) (github.Workflow, error) {
		if f.workflows == nil {
			return github.Workflow{}, f.Unexpected("FindWorkflow", name)
		}
		w, ok := f.workflows[name]
		if !ok {
			return github.Workflow{}, fmt.Errorf("GET /workflows/%s: %w", name, github.ErrNotFound)
		}
		return w, nil
	}
	f.DispatchWorkflowFunc = func(id int64, ref string, inputs map[string]string) (github.DispatchResult, error) {
		f.dispatches = append(f.dispatches, inputs)
		if f.dispatch == nil {
			return github.DispatchResult{}, f.Unexpected("DispatchWorkflow", id, ref)
		}
		return f.dispatch(id, ref, inputs)
	}
	f.ListWorkflowRunsFunc = func(id int64, fl github.RunFilter) ([]github.WorkflowRun, error) {
		if f.listRuns == nil {
			return nil, f.Unexpected("ListWorkflowRuns", id)
		}
		return f.listRuns(id, fl, f.clk.Now())
	}
	f.GetWorkflowRunFunc = func(id int64) (github.WorkflowRun, error) {
		if f.getRun == nil {
			return github.WorkflowRun{}, f.Unexpected("GetWorkflowRun", id)
		}
		return f.getRun(id, f.clk.Now())
	}
	f.PendingDeploymentsFunc = func(id int64) ([]github.PendingDeployment, error) {
		if f.pending == nil {
			return nil, f.Unexpected("PendingDeployments", id)
		}
		return f.pending(id, f.clk.Now())
	}
	return f
}

func (f *fakeGH) count(name string) int { return f.Count(name) }

// addDeployment stores a record; ours makes it a release-action record.
func (f *fakeGH) addDeployment(env, sha string, at time.Time, ours bool) int64 {
	d := github.Deployment{SHA: sha, Ref: testTag, Environment: env, Task: "deploy", CreatedAt: at, UpdatedAt: at}
	if ours {
		d.Description = Prefix + testTag
		d.Payload = json.RawMessage(`{"release_action":1,"commit":"` + sha + `"}`)
	} else {
		d.Creator = "github-actions[bot]"
		d.Payload = json.RawMessage(`{}`)
	}
	return f.AddDeployment(d).ID
}

func (f *fakeGH) addStatus(id int64, state, desc, logURL, envURL string, at time.Time) github.DeploymentStatus {
	return f.AddStatus(id, github.DeploymentStatus{State: state, Description: desc, LogURL: logURL, EnvironmentURL: envURL, CreatedAt: at})
}

// written is a status as a test expects it.
type written struct {
	State, Description, LogURL, EnvironmentURL string
}

// statusesOf returns the statuses of a record oldest first, as written.
func (f *fakeGH) statusesOf(id int64) []written {
	var out []written
	for _, s := range f.Statuses(id) {
		out = append(out, written{s.State, s.Description, s.LogURL, s.EnvironmentURL})
	}
	return out
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// runStep: from `at` after t0 on, the run has this status and conclusion.
type runStep struct {
	at         time.Duration
	status     string
	conclusion string
}

// runTimeline scripts GetWorkflowRun for one run of sha.
func runTimeline(t *testing.T, id int64, sha string, steps ...runStep) func(int64, time.Time) (github.WorkflowRun, error) {
	return func(got int64, now time.Time) (github.WorkflowRun, error) {
		if got != id {
			t.Errorf("GetWorkflowRun(%d), want run %d", got, id)
			return github.WorkflowRun{}, fmt.Errorf("run %d: %w", got, github.ErrNotFound)
		}
		r := github.WorkflowRun{ID: id, WorkflowID: wfID, HeadSHA: sha, Event: "workflow_dispatch", HTMLURL: runURL(id), CreatedAt: t0}
		for _, s := range steps {
			if !now.Before(t0.Add(s.at)) {
				r.Status, r.Conclusion = s.status, s.conclusion
			}
		}
		return r, nil
	}
}

// testOpts are the options of a test deployment to production.
func (f *fakeGH) testOpts(lines *[]string) Options {
	return Options{
		Environment:  config.Environment{Name: "production", URL: envURL},
		Trigger:      config.Deploy{Workflow: "deploy.yml"},
		SHA:          testSHA,
		Tag:          testTag,
		Payload:      Payload{RunURL: "https://github.example/o/r/actions/runs/1"},
		Production:   true,
		Clock:        f.clk,
		PollInterval: 10 * time.Second,
		Progress:     func(s string) { *lines = append(*lines, s) },
	}
}

func (f *fakeGH) withWorkflow() *fakeGH {
	f.workflows = map[string]github.Workflow{"deploy.yml": {ID: wfID, Name: "Deploy", Path: ".github/workflows/deploy.yml", State: "active"}}
	return f
}
