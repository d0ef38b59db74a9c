package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/agentme/release-action/internal/untrusted"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/agentme/release-action/internal/clock"
	"github.com/agentme/release-action/internal/config"
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

var (
	t0            = time.Date(2026, 11, 20, 10, 30, 0, 0, time.UTC)
	errUnexpected = errors.New("unexpected call")
)

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

// fakeGH is a loud in-memory GitHub: deployments and their statuses are stored (and listed
// in GitHub's undocumented order, oldest first, so callers must sort); workflows, dispatch and
// runs answer only when the test scripted them, and every other call fails the test.
type fakeGH struct {
	t   *testing.T
	clk *recClock

	nextID      int64
	deps        []github.Deployment
	sts         map[int64][]github.DeploymentStatus
	allowCreate bool
	createSHA   string // SHA the created record names (default testSHA)
	createErr   error
	statusErr   error

	workflows map[string]github.Workflow
	dispatch  func(wfID int64, ref string, inputs map[string]string) (github.DispatchResult, error)
	listRuns  func(wfID int64, f github.RunFilter, now time.Time) ([]github.WorkflowRun, error)
	getRun    func(id int64, now time.Time) (github.WorkflowRun, error)
	pending   func(id int64, now time.Time) ([]github.PendingDeployment, error)

	calls      []string
	createReqs []github.DeploymentRequest
	dispatches []map[string]string
	runFilters []github.RunFilter
}

func newFake(t *testing.T) *fakeGH {
	return &fakeGH{t: t, clk: &recClock{Virtual: clock.NewVirtual(t0)}, nextID: 1000, sts: map[int64][]github.DeploymentStatus{}}
}

func (f *fakeGH) record(name string, args ...any) {
	f.calls = append(f.calls, strings.TrimSpace(fmt.Sprintln(append([]any{name}, args...)...)))
}

func (f *fakeGH) unexpected(name string, args ...any) error {
	f.t.Errorf("unexpected call %s%v", name, args)
	return fmt.Errorf("%s: %w", name, errUnexpected)
}

func (f *fakeGH) count(name string) int {
	n := 0
	for _, c := range f.calls {
		if c == name || strings.HasPrefix(c, name+" ") {
			n++
		}
	}
	return n
}

func (f *fakeGH) CreateDeployment(_ context.Context, r github.DeploymentRequest) (github.Deployment, error) {
	f.record("CreateDeployment", r.Environment, r.Ref)
	if !f.allowCreate {
		return github.Deployment{}, f.unexpected("CreateDeployment", r.Environment, r.Ref)
	}
	f.createReqs = append(f.createReqs, r)
	if f.createErr != nil {
		return github.Deployment{}, f.createErr
	}
	if n := utf8.RuneCountInString(r.Description); n > MaxDescription {
		f.t.Errorf("deployment description has %d characters: %q", n, r.Description)
	}
	f.nextID++
	d := github.Deployment{
		ID: f.nextID, SHA: cmpOr(f.createSHA, testSHA), Ref: r.Ref, Environment: r.Environment, Task: r.Task,
		Description: r.Description, Payload: r.Payload, Creator: "release-bot", CreatedAt: f.clk.Now(), UpdatedAt: f.clk.Now(),
	}
	f.deps = append(f.deps, d)
	return d, nil
}

func (f *fakeGH) ListDeployments(_ context.Context, fl github.DeploymentFilter) ([]github.Deployment, error) {
	f.record("ListDeployments", fl.Environment, untrusted.ShortSHA(fl.SHA))
	if fl.Ref != "" || fl.Task != "" {
		f.t.Errorf("ListDeployments with ref/task filter %+v", fl)
	}
	var out []github.Deployment
	for _, d := range f.deps {
		if (fl.Environment == "" || strings.EqualFold(d.Environment, fl.Environment)) && (fl.SHA == "" || d.SHA == fl.SHA) {
			out = append(out, d)
		}
	}
	slices.SortFunc(out, func(a, b github.Deployment) int { return int(a.ID - b.ID) })
	return out, nil
}

func (f *fakeGH) ListDeploymentStatuses(_ context.Context, id int64) ([]github.DeploymentStatus, error) {
	f.record("ListDeploymentStatuses", id)
	if !f.has(id) {
		return nil, f.unexpected("ListDeploymentStatuses", id)
	}
	return slices.Clone(f.sts[id]), nil
}

func (f *fakeGH) CreateDeploymentStatus(_ context.Context, id int64, r github.DeploymentStatusRequest) (github.DeploymentStatus, error) {
	f.record("CreateDeploymentStatus", id, r.State)
	if !f.has(id) {
		return github.DeploymentStatus{}, f.unexpected("CreateDeploymentStatus", id)
	}
	if f.statusErr != nil {
		return github.DeploymentStatus{}, f.statusErr
	}
	if n := utf8.RuneCountInString(r.Description); n > MaxDescription {
		f.t.Errorf("status description has %d characters: %q", n, r.Description)
	}
	if r.AutoInactive != nil {
		f.t.Errorf("auto_inactive set on %q; it is left to GitHub", r.Description)
	}
	return f.addStatus(id, r.State, r.Description, r.LogURL, r.EnvironmentURL, f.clk.Now()), nil
}

func (f *fakeGH) FindWorkflow(_ context.Context, name string) (github.Workflow, error) {
	f.record("FindWorkflow", name)
	if f.workflows == nil {
		return github.Workflow{}, f.unexpected("FindWorkflow", name)
	}
	w, ok := f.workflows[name]
	if !ok {
		return github.Workflow{}, fmt.Errorf("GET /workflows/%s: %w", name, github.ErrNotFound)
	}
	return w, nil
}

func (f *fakeGH) DispatchWorkflow(_ context.Context, id int64, ref string, inputs map[string]string) (github.DispatchResult, error) {
	f.record("DispatchWorkflow", id, ref)
	f.dispatches = append(f.dispatches, inputs)
	if f.dispatch == nil {
		return github.DispatchResult{}, f.unexpected("DispatchWorkflow", id, ref)
	}
	return f.dispatch(id, ref, inputs)
}

func (f *fakeGH) ListWorkflowRuns(_ context.Context, id int64, fl github.RunFilter) ([]github.WorkflowRun, error) {
	f.record("ListWorkflowRuns", id, fl.Event)
	f.runFilters = append(f.runFilters, fl)
	if f.listRuns == nil {
		return nil, f.unexpected("ListWorkflowRuns", id)
	}
	return f.listRuns(id, fl, f.clk.Now())
}

func (f *fakeGH) GetWorkflowRun(_ context.Context, id int64) (github.WorkflowRun, error) {
	f.record("GetWorkflowRun", id)
	if f.getRun == nil {
		return github.WorkflowRun{}, f.unexpected("GetWorkflowRun", id)
	}
	return f.getRun(id, f.clk.Now())
}

func (f *fakeGH) PendingDeployments(_ context.Context, id int64) ([]github.PendingDeployment, error) {
	f.record("PendingDeployments", id)
	if f.pending == nil {
		return nil, f.unexpected("PendingDeployments", id)
	}
	return f.pending(id, f.clk.Now())
}

func (f *fakeGH) has(id int64) bool {
	return slices.ContainsFunc(f.deps, func(d github.Deployment) bool { return d.ID == id })
}

// addDeployment stores a record; ours makes it a release-action record.
func (f *fakeGH) addDeployment(env, sha string, at time.Time, ours bool) int64 {
	f.nextID++
	d := github.Deployment{ID: f.nextID, SHA: sha, Ref: testTag, Environment: env, Task: "deploy", CreatedAt: at, UpdatedAt: at}
	if ours {
		d.Description = Prefix + testTag
		d.Payload = json.RawMessage(`{"release_action":1,"commit":"` + sha + `"}`)
	} else {
		d.Creator = "github-actions[bot]"
		d.Payload = json.RawMessage(`{}`)
	}
	f.deps = append(f.deps, d)
	return d.ID
}

func (f *fakeGH) addStatus(id int64, state, desc, logURL, envURL string, at time.Time) github.DeploymentStatus {
	f.nextID++
	s := github.DeploymentStatus{ID: f.nextID, State: state, Description: desc, LogURL: logURL, EnvironmentURL: envURL, CreatedAt: at}
	f.sts[id] = append(f.sts[id], s)
	for i := range f.deps {
		if f.deps[i].ID == id && at.After(f.deps[i].UpdatedAt) {
			f.deps[i].UpdatedAt = at
		}
	}
	return s
}

// written is a status as a test expects it.
type written struct {
	State, Description, LogURL, EnvironmentURL string
}

// statusesOf returns the statuses of a record oldest first, as written.
func (f *fakeGH) statusesOf(id int64) []written {
	var out []written
	for _, s := range f.sts[id] {
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
