// Package fakegh is the one in-memory GitHub that the logic packages' unit tests share. It is
// test-only: import it from _test.go files, never from production code.
//
// The fake is loud. Deployments and their statuses are stored and answered the way GitHub
// answers them (listed oldest first, an order GitHub does not document, so callers must sort
// themselves). Everything else answers only when the test scripted it through the fake's
// *Func fields; any other call fails the test with the call and its arguments, and a method
// marked with Require fails the test at cleanup when it was never called. A test therefore
// states every interaction it expects, and a code path that starts asking GitHub something
// new shows up as a failing test instead of a silent zero value.
//
// One Fake has every method of deploy.GitHub, release.GitHub and rollback.GitHub: those
// interfaces are subsets, so a package's tests script only what that package uses.
package fakegh

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/agentme/release-action/internal/clock"
	"github.com/agentme/release-action/internal/github"
	"github.com/agentme/release-action/internal/untrusted"
)

// ErrUnscripted is returned (besides failing the test) by a call the test did not script.
var ErrUnscripted = errors.New("fakegh: unscripted call")

// maxDescription is GitHub's limit on deployment and status descriptions (140 characters);
// GitHub rejects longer ones, so the fake fails the test instead of storing them.
const maxDescription = 140

// Call is one call the code under test made, with the arguments that identify it.
type Call struct {
	Method string
	Args   []any
	// Returned is how many records a listing returned (ListDeployments).
	Returned int
}

// String is "Method arg arg ...", the form tests match prefixes against.
func (c Call) String() string {
	return strings.TrimSpace(fmt.Sprintln(append([]any{c.Method}, c.Args...)...))
}

// Fake is a loud in-memory GitHub. Set the *Func fields before the code under test runs;
// they are called without the fake's lock held, so a script may call the fake's helpers.
type Fake struct {
	// CreateDeploymentFunc scripts CreateDeployment: it returns the commit the new record
	// names (GitHub resolves the request's ref), or an error to return instead. The fake
	// then stores the record. Nil: creating a deployment is unscripted.
	CreateDeploymentFunc func(r github.DeploymentRequest) (sha string, err error)
	// OnStatus, when set, sees every status about to be stored on d; an error is returned
	// instead and nothing is stored. Statuses are stored whether or not it is set.
	OnStatus func(d github.Deployment, r github.DeploymentStatusRequest) error

	FindWorkflowFunc       func(name string) (github.Workflow, error)
	DispatchWorkflowFunc   func(workflowID int64, ref string, inputs map[string]string) (github.DispatchResult, error)
	ListWorkflowRunsFunc   func(workflowID int64, f github.RunFilter) ([]github.WorkflowRun, error)
	GetWorkflowRunFunc     func(runID int64) (github.WorkflowRun, error)
	PendingDeploymentsFunc func(runID int64) ([]github.PendingDeployment, error)

	FileContentFunc        func(path, ref string) ([]byte, error)
	GetTagFunc             func(name string) (github.Tag, error)
	ListTagNamesFunc       func(prefix string) ([]string, error)
	CreateAnnotatedTagFunc func(name, sha, message string, tagger *github.Person) (github.Tag, error)
	GetReleaseByTagFunc    func(tag string) (github.Release, error)
	CreateReleaseFunc      func(r github.ReleaseRequest) (github.Release, error)
	UpdateReleaseBodyFunc  func(id int64, body string) error
	ResolveCommitFunc      func(ref string) (string, error)
	CreateIssueFunc        func(title, body string, labels []string) (github.Issue, error)

	t   testing.TB
	clk clock.Clock

	mu       sync.Mutex
	nextID   int64
	deps     []github.Deployment
	sts      map[int64][]github.DeploymentStatus
	calls    []Call
	fail     map[string]error
	failNext map[string]error
	required []string
}

// New returns an empty fake whose records are stamped with clk's time and whose ids start
// after firstID. Required methods are checked when t cleans up.
func New(t testing.TB, clk clock.Clock, firstID int64) *Fake {
	f := &Fake{t: t, clk: clk, nextID: firstID, sts: map[int64][]github.DeploymentStatus{},
		fail: map[string]error{}, failNext: map[string]error{}}
	t.Cleanup(func() {
		for _, m := range f.required {
			if f.Count(m) == 0 {
				t.Errorf("fakegh: %s was required but never called", m)
			}
		}
	})
	return f
}

// Require fails the test at cleanup unless each method was called at least once.
func (f *Fake) Require(methods ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.required = append(f.required, methods...)
}

// Fail makes every later call of method return err (nil: stop failing).
func (f *Fake) Fail(method string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err == nil {
		delete(f.fail, method)
		return
	}
	f.fail[method] = err
}

// FailNext makes the next call of method return err.
func (f *Fake) FailNext(method string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failNext[method] = err
}

// NewID returns the next id of the fake's one sequence (records, statuses, and whatever a
// script wants numbered alike).
func (f *Fake) NewID() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	return f.nextID
}

// Calls returns every call made so far, failed ones included, in order.
func (f *Fake) Calls() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// CallStrings returns Calls in their String form.
func (f *Fake) CallStrings() []string {
	var out []string
	for _, c := range f.Calls() {
		out = append(out, c.String())
	}
	return out
}

// Count returns how many times method was called.
func (f *Fake) Count(method string) int {
	n := 0
	for _, c := range f.Calls() {
		if c.Method == method {
			n++
		}
	}
	return n
}

// enter records a call and returns the failure injected for it, if any. The caller holds mu.
func (f *Fake) enter(method string, args ...any) (int, error) {
	f.calls = append(f.calls, Call{Method: method, Args: args})
	if err, ok := f.failNext[method]; ok {
		delete(f.failNext, method)
		return len(f.calls) - 1, err
	}
	return len(f.calls) - 1, f.fail[method]
}

// call records a call of a scripted method; it returns the injected failure, or
// ErrUnscripted after failing the test when the method is not scripted.
func (f *Fake) call(method string, scripted bool, args ...any) error {
	f.mu.Lock()
	_, err := f.enter(method, args...)
	f.mu.Unlock()
	if err != nil {
		return err
	}
	if !scripted {
		return f.unscripted(method, args...)
	}
	return nil
}

func (f *Fake) unscripted(method string, args ...any) error {
	f.t.Helper()
	f.t.Errorf("fakegh: unscripted call %s", Call{Method: method, Args: args})
	return fmt.Errorf("%s: %w", method, ErrUnscripted)
}

// Unexpected fails the test for a call a script did not expect (wrong arguments) and
// returns the error the call should return.
func (f *Fake) Unexpected(method string, args ...any) error {
	return f.unscripted(method, args...)
}

// AddDeployment stores d as if someone created it: the id is assigned unless set, and
// UpdatedAt defaults to CreatedAt. It returns the stored record.
func (f *Fake) AddDeployment(d github.Deployment) github.Deployment {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.addDeployment(d)
}

func (f *Fake) addDeployment(d github.Deployment) github.Deployment {
	if d.ID == 0 {
		f.nextID++
		d.ID = f.nextID
	}
	if d.UpdatedAt.IsZero() {
		d.UpdatedAt = d.CreatedAt
	}
	f.deps = append(f.deps, d)
	return d
}

// AddStatus stores s on record id (the id of s is assigned unless set) and moves the
// record's UpdatedAt forward, as GitHub does.
func (f *Fake) AddStatus(id int64, s github.DeploymentStatus) github.DeploymentStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.addStatus(id, s)
}

func (f *Fake) addStatus(id int64, s github.DeploymentStatus) github.DeploymentStatus {
	if s.ID == 0 {
		f.nextID++
		s.ID = f.nextID
	}
	f.sts[id] = append(f.sts[id], s)
	if d := f.dep(id); d != nil && s.CreatedAt.After(d.UpdatedAt) {
		d.UpdatedAt = s.CreatedAt
	}
	return s
}

// Deployments returns a copy of the stored records, oldest first.
func (f *Fake) Deployments() []github.Deployment {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.deps)
}

// Last returns the newest stored record; it fails the test when there is none.
func (f *Fake) Last() github.Deployment {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.deps) == 0 {
		f.t.Fatalf("fakegh: no deployment stored")
	}
	return f.deps[len(f.deps)-1]
}

// Statuses returns a copy of record id's statuses, oldest first.
func (f *Fake) Statuses(id int64) []github.DeploymentStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.sts[id])
}

// EditDeployment changes a stored record in place (a test arranging history GitHub would
// not let anyone write directly).
func (f *Fake) EditDeployment(id int64, edit func(d *github.Deployment)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d := f.dep(id)
	if d == nil {
		f.t.Fatalf("fakegh: no deployment %d to edit", id)
	}
	edit(d)
}

// EditStatuses changes record id's stored statuses in place.
func (f *Fake) EditStatuses(id int64, edit func(sts []github.DeploymentStatus)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	edit(f.sts[id])
}

func (f *Fake) dep(id int64) *github.Deployment {
	for i := range f.deps {
		if f.deps[i].ID == id {
			return &f.deps[i]
		}
	}
	return nil
}

func (f *Fake) checkDescription(what, desc string) {
	if n := utf8.RuneCountInString(desc); n > maxDescription {
		f.t.Errorf("fakegh: %s description has %d characters (GitHub allows %d): %q", what, n, maxDescription, desc)
	}
}

// CreateDeployment stores a record naming the commit CreateDeploymentFunc returns.
func (f *Fake) CreateDeployment(_ context.Context, r github.DeploymentRequest) (github.Deployment, error) {
	if err := f.call("CreateDeployment", f.CreateDeploymentFunc != nil, r.Environment, r.Ref); err != nil {
		return github.Deployment{}, err
	}
	f.checkDescription("deployment", r.Description)
	sha, err := f.CreateDeploymentFunc(r)
	if err != nil {
		return github.Deployment{}, err
	}
	now := f.clk.Now()
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.addDeployment(github.Deployment{SHA: sha, Ref: r.Ref, Environment: r.Environment, Task: r.Task,
		Description: r.Description, Payload: r.Payload, Creator: "release-bot", CreatedAt: now, UpdatedAt: now}), nil
}

// ListDeployments answers from the stored records, oldest first. Environment names match
// case-insensitively, as on GitHub. A ref or task filter fails the test: release-action
// filters by environment and commit only, because a ref filter misses records made from a
// branch or SHA and GitHub Actions' own records use other tasks.
func (f *Fake) ListDeployments(_ context.Context, fl github.DeploymentFilter) ([]github.Deployment, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	i, err := f.enter("ListDeployments", fl.Environment, untrusted.ShortSHA(fl.SHA))
	if err != nil {
		return nil, err
	}
	if fl.Ref != "" || fl.Task != "" {
		f.t.Errorf("fakegh: ListDeployments with a ref or task filter: %+v", fl)
	}
	var out []github.Deployment
	for _, d := range f.deps {
		if (fl.Environment == "" || strings.EqualFold(d.Environment, fl.Environment)) && (fl.SHA == "" || strings.EqualFold(d.SHA, fl.SHA)) {
			out = append(out, d)
		}
	}
	f.calls[i].Returned = len(out)
	return out, nil
}

// ListDeploymentStatuses answers from the stored statuses, oldest first; an unknown record
// fails the test.
func (f *Fake) ListDeploymentStatuses(_ context.Context, id int64) ([]github.DeploymentStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.enter("ListDeploymentStatuses", id); err != nil {
		return nil, err
	}
	if f.dep(id) == nil {
		return nil, f.unscripted("ListDeploymentStatuses of an unknown deployment", id)
	}
	return slices.Clone(f.sts[id]), nil
}

// CreateDeploymentStatus stores a status on a known record. auto_inactive set fails the
// test: release-action leaves it to GitHub's default.
func (f *Fake) CreateDeploymentStatus(_ context.Context, id int64, r github.DeploymentStatusRequest) (github.DeploymentStatus, error) {
	f.mu.Lock()
	_, err := f.enter("CreateDeploymentStatus", id, r.State)
	var d github.Deployment
	known := false
	if p := f.dep(id); p != nil {
		d, known = *p, true
	}
	f.mu.Unlock()
	if err != nil {
		return github.DeploymentStatus{}, err
	}
	if !known {
		return github.DeploymentStatus{}, f.unscripted("CreateDeploymentStatus on an unknown deployment", id)
	}
	f.checkDescription("status", r.Description)
	if r.AutoInactive != nil {
		f.t.Errorf("fakegh: auto_inactive set on status %q; it is left to GitHub", r.Description)
	}
	if f.OnStatus != nil {
		if err := f.OnStatus(d, r); err != nil {
			return github.DeploymentStatus{}, err
		}
	}
	now := f.clk.Now()
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.addStatus(id, github.DeploymentStatus{State: r.State, Description: r.Description, LogURL: r.LogURL,
		EnvironmentURL: r.EnvironmentURL, CreatedAt: now}), nil
}

// FindWorkflow answers through FindWorkflowFunc.
func (f *Fake) FindWorkflow(_ context.Context, name string) (github.Workflow, error) {
	if err := f.call("FindWorkflow", f.FindWorkflowFunc != nil, name); err != nil {
		return github.Workflow{}, err
	}
	return f.FindWorkflowFunc(name)
}

// DispatchWorkflow answers through DispatchWorkflowFunc.
func (f *Fake) DispatchWorkflow(_ context.Context, id int64, ref string, inputs map[string]string) (github.DispatchResult, error) {
	if err := f.call("DispatchWorkflow", f.DispatchWorkflowFunc != nil, id, ref); err != nil {
		return github.DispatchResult{}, err
	}
	return f.DispatchWorkflowFunc(id, ref, inputs)
}

// ListWorkflowRuns answers through ListWorkflowRunsFunc.
func (f *Fake) ListWorkflowRuns(_ context.Context, id int64, fl github.RunFilter) ([]github.WorkflowRun, error) {
	if err := f.call("ListWorkflowRuns", f.ListWorkflowRunsFunc != nil, id, fl.Event); err != nil {
		return nil, err
	}
	return f.ListWorkflowRunsFunc(id, fl)
}

// GetWorkflowRun answers through GetWorkflowRunFunc.
func (f *Fake) GetWorkflowRun(_ context.Context, id int64) (github.WorkflowRun, error) {
	if err := f.call("GetWorkflowRun", f.GetWorkflowRunFunc != nil, id); err != nil {
		return github.WorkflowRun{}, err
	}
	return f.GetWorkflowRunFunc(id)
}

// PendingDeployments answers through PendingDeploymentsFunc.
func (f *Fake) PendingDeployments(_ context.Context, id int64) ([]github.PendingDeployment, error) {
	if err := f.call("PendingDeployments", f.PendingDeploymentsFunc != nil, id); err != nil {
		return nil, err
	}
	return f.PendingDeploymentsFunc(id)
}

// FileContent answers through FileContentFunc.
func (f *Fake) FileContent(_ context.Context, path, ref string) ([]byte, error) {
	if err := f.call("FileContent", f.FileContentFunc != nil, path, ref); err != nil {
		return nil, err
	}
	return f.FileContentFunc(path, ref)
}

// GetTag answers through GetTagFunc.
func (f *Fake) GetTag(_ context.Context, name string) (github.Tag, error) {
	if err := f.call("GetTag", f.GetTagFunc != nil, name); err != nil {
		return github.Tag{}, err
	}
	return f.GetTagFunc(name)
}

// ListTagNames answers through ListTagNamesFunc.
func (f *Fake) ListTagNames(_ context.Context, prefix string) ([]string, error) {
	if err := f.call("ListTagNames", f.ListTagNamesFunc != nil, prefix); err != nil {
		return nil, err
	}
	return f.ListTagNamesFunc(prefix)
}

// CreateAnnotatedTag answers through CreateAnnotatedTagFunc.
func (f *Fake) CreateAnnotatedTag(_ context.Context, name, sha, message string, tagger *github.Person) (github.Tag, error) {
	if err := f.call("CreateAnnotatedTag", f.CreateAnnotatedTagFunc != nil, name, sha); err != nil {
		return github.Tag{}, err
	}
	return f.CreateAnnotatedTagFunc(name, sha, message, tagger)
}

// GetReleaseByTag answers through GetReleaseByTagFunc.
func (f *Fake) GetReleaseByTag(_ context.Context, tag string) (github.Release, error) {
	if err := f.call("GetReleaseByTag", f.GetReleaseByTagFunc != nil, tag); err != nil {
		return github.Release{}, err
	}
	return f.GetReleaseByTagFunc(tag)
}

// CreateRelease answers through CreateReleaseFunc.
func (f *Fake) CreateRelease(_ context.Context, r github.ReleaseRequest) (github.Release, error) {
	if err := f.call("CreateRelease", f.CreateReleaseFunc != nil, r.TagName); err != nil {
		return github.Release{}, err
	}
	return f.CreateReleaseFunc(r)
}

// UpdateReleaseBody answers through UpdateReleaseBodyFunc.
func (f *Fake) UpdateReleaseBody(_ context.Context, id int64, body string) error {
	if err := f.call("UpdateReleaseBody", f.UpdateReleaseBodyFunc != nil, id); err != nil {
		return err
	}
	return f.UpdateReleaseBodyFunc(id, body)
}

// ResolveCommit answers through ResolveCommitFunc.
func (f *Fake) ResolveCommit(_ context.Context, ref string) (string, error) {
	if err := f.call("ResolveCommit", f.ResolveCommitFunc != nil, ref); err != nil {
		return "", err
	}
	return f.ResolveCommitFunc(ref)
}

// CreateIssue answers through CreateIssueFunc.
func (f *Fake) CreateIssue(_ context.Context, title, body string, labels []string) (github.Issue, error) {
	if err := f.call("CreateIssue", f.CreateIssueFunc != nil, title); err != nil {
		return github.Issue{}, err
	}
	return f.CreateIssueFunc(title, body, labels)
}
