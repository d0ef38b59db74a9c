package release

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/agentme/release-action/internal/clock"
	"github.com/agentme/release-action/internal/github"
)

const (
	testSHA   = "0123456789abcdef0123456789abcdef01234567"
	otherSHA  = "fedcba9876543210fedcba9876543210fedcba98"
	serverURL = "https://github.example"
	repoPath  = "/agentme/agentme"
	wfID      = 77
)

// fakeGH is a loud in-memory GitHub: tags, files, releases, deployments with their statuses,
// and deploy runs that complete after runTime with a scripted conclusion. Every write is
// logged in order; a call the release should never make fails the test.
type fakeGH struct {
	t   *testing.T
	clk *clock.Virtual

	nextID   int64
	nextRun  int64
	files    map[string]string // "path@sha"
	tags     map[string]github.Tag
	releases map[string]github.Release
	deps     []github.Deployment
	sts      map[int64][]github.DeploymentStatus
	runs     map[int64]*fakeRun
	// conclusions scripts the conclusions of an environment's next deploy runs (then success).
	conclusions map[string][]string
	runTime     time.Duration

	// failNext makes the next call of a method fail with the error.
	failNext map[string]error
	// beforeCreateTag runs before a tag is created (to simulate a concurrent release).
	beforeCreateTag func(name string)

	writes    []string
	calls     []string
	dispatchs []map[string]string
	tagMsgs   map[string]string
	releaseRq []github.ReleaseRequest
	depReqs   []github.DeploymentRequest
}

type fakeRun struct {
	run        github.WorkflowRun
	done       time.Time
	conclusion string
}

func newFake(t *testing.T, start time.Time) *fakeGH {
	return &fakeGH{
		t: t, clk: clock.NewVirtual(start), nextID: 1000, nextRun: 500,
		files:       map[string]string{"package.json@" + testSHA: `{"name":"agentme","version":"1.2.3"}`},
		tags:        map[string]github.Tag{},
		releases:    map[string]github.Release{},
		sts:         map[int64][]github.DeploymentStatus{},
		runs:        map[int64]*fakeRun{},
		conclusions: map[string][]string{},
		runTime:     3 * time.Minute,
		failNext:    map[string]error{},
		tagMsgs:     map[string]string{},
	}
}

func (f *fakeGH) call(name string, args ...any) error {
	f.calls = append(f.calls, strings.TrimSpace(fmt.Sprintln(append([]any{name}, args...)...)))
	if err, ok := f.failNext[name]; ok {
		delete(f.failNext, name)
		return err
	}
	return nil
}

func (f *fakeGH) write(format string, args ...any) {
	f.writes = append(f.writes, fmt.Sprintf(format, args...))
}

func (f *fakeGH) unexpected(name string, args ...any) error {
	f.t.Errorf("unexpected call %s %v", name, args)
	return fmt.Errorf("%s: unexpected call", name)
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

func notFound(path string) error {
	return &github.APIError{Method: "GET", Path: path, StatusCode: http.StatusNotFound, Message: "Not Found"}
}

func (f *fakeGH) FileContent(_ context.Context, path, ref string) ([]byte, error) {
	if err := f.call("FileContent", path, ref); err != nil {
		return nil, err
	}
	c, ok := f.files[path+"@"+ref]
	if !ok {
		return nil, notFound("/repos/agentme/agentme/contents/" + path)
	}
	return []byte(c), nil
}

func (f *fakeGH) GetTag(_ context.Context, name string) (github.Tag, error) {
	if err := f.call("GetTag", name); err != nil {
		return github.Tag{}, err
	}
	t, ok := f.tags[name]
	if !ok {
		return github.Tag{}, notFound("/repos/agentme/agentme/git/ref/tags/" + name)
	}
	return t, nil
}

func (f *fakeGH) ListTagNames(_ context.Context, prefix string) ([]string, error) {
	if err := f.call("ListTagNames", prefix); err != nil {
		return nil, err
	}
	var out []string
	for n := range f.tags {
		if strings.HasPrefix(n, prefix) {
			out = append(out, n)
		}
	}
	sort.Strings(out) // GitHub's order: by name, so rc.10 comes before rc.2
	return out, nil
}

func (f *fakeGH) CreateAnnotatedTag(_ context.Context, name, sha, message string, tagger *github.Person) (github.Tag, error) {
	if err := f.call("CreateAnnotatedTag", name, sha); err != nil {
		return github.Tag{}, err
	}
	if f.beforeCreateTag != nil {
		f.beforeCreateTag(name)
	}
	if tagger != nil {
		f.t.Errorf("tagger %+v set; GitHub's token identity is the tagger", tagger)
	}
	if _, ok := f.tags[name]; ok {
		return github.Tag{}, fmt.Errorf("create ref refs/tags/%s: %w", name,
			&github.APIError{Method: "POST", Path: "/repos/agentme/agentme/git/refs", StatusCode: 422, Message: "Reference already exists"})
	}
	f.write("tag %s %s", name, sha7(sha))
	f.tagMsgs[name] = message
	f.nextID++
	t := github.Tag{Name: name, SHA: sha, ObjectSHA: fmt.Sprintf("%040x", f.nextID), Annotated: true, Message: message}
	f.tags[name] = t
	return t, nil
}

// addTag stores a tag another run made.
func (f *fakeGH) addTag(name, sha string) {
	f.tags[name] = github.Tag{Name: name, SHA: sha, ObjectSHA: sha, Annotated: false}
}

func (f *fakeGH) GetReleaseByTag(_ context.Context, tag string) (github.Release, error) {
	if err := f.call("GetReleaseByTag", tag); err != nil {
		return github.Release{}, err
	}
	r, ok := f.releases[tag]
	if !ok {
		return github.Release{}, notFound("/repos/agentme/agentme/releases/tags/" + tag)
	}
	return r, nil
}

func (f *fakeGH) CreateRelease(_ context.Context, r github.ReleaseRequest) (github.Release, error) {
	if err := f.call("CreateRelease", r.TagName); err != nil {
		return github.Release{}, err
	}
	if _, ok := f.tags[r.TagName]; !ok {
		f.t.Errorf("release for the missing tag %s", r.TagName)
	}
	if _, ok := f.releases[r.TagName]; ok {
		f.t.Errorf("a second release for %s", r.TagName)
	}
	f.write("release %s prerelease=%v", r.TagName, r.Prerelease)
	f.releaseRq = append(f.releaseRq, r)
	f.nextID++
	rel := github.Release{ID: f.nextID, TagName: r.TagName, Name: r.Name, Body: r.Body, Prerelease: r.Prerelease,
		HTMLURL: serverURL + repoPath + "/releases/tag/" + r.TagName}
	f.releases[r.TagName] = rel
	return rel, nil
}

func (f *fakeGH) UpdateReleaseBody(_ context.Context, id int64, body string) error {
	if err := f.call("UpdateReleaseBody", id); err != nil {
		return err
	}
	for tag, r := range f.releases {
		if r.ID == id {
			f.write("release body %s", tag)
			r.Body = body
			f.releases[tag] = r
			return nil
		}
	}
	return f.unexpected("UpdateReleaseBody", id)
}

func (f *fakeGH) CreateDeployment(_ context.Context, r github.DeploymentRequest) (github.Deployment, error) {
	if err := f.call("CreateDeployment", r.Environment, r.Ref); err != nil {
		return github.Deployment{}, err
	}
	t, ok := f.tags[r.Ref]
	if !ok {
		return github.Deployment{}, f.unexpected("CreateDeployment of a missing ref", r.Ref)
	}
	f.write("deployment %s %s", r.Environment, r.Ref)
	f.depReqs = append(f.depReqs, r)
	return f.addDeployment(r.Environment, t.SHA, r.Ref, r.Description, r.Payload, f.clk.Now()), nil
}

func (f *fakeGH) addDeployment(env, sha, ref, desc string, payload json.RawMessage, at time.Time) github.Deployment {
	f.nextID++
	d := github.Deployment{ID: f.nextID, SHA: sha, Ref: ref, Environment: env, Task: "deploy", Description: desc,
		Payload: payload, Creator: "release-bot", CreatedAt: at, UpdatedAt: at}
	f.deps = append(f.deps, d)
	return d
}

func (f *fakeGH) ListDeployments(_ context.Context, fl github.DeploymentFilter) ([]github.Deployment, error) {
	if err := f.call("ListDeployments", fl.Environment, sha7(fl.SHA)); err != nil {
		return nil, err
	}
	var out []github.Deployment
	for _, d := range f.deps {
		if (fl.Environment == "" || d.Environment == fl.Environment) && (fl.SHA == "" || d.SHA == fl.SHA) {
			out = append(out, d)
		}
	}
	return out, nil // oldest first: callers sort
}

func (f *fakeGH) ListDeploymentStatuses(_ context.Context, id int64) ([]github.DeploymentStatus, error) {
	if err := f.call("ListDeploymentStatuses", id); err != nil {
		return nil, err
	}
	if f.dep(id) == nil {
		return nil, f.unexpected("ListDeploymentStatuses", id)
	}
	return slices.Clone(f.sts[id]), nil
}

func (f *fakeGH) CreateDeploymentStatus(_ context.Context, id int64, r github.DeploymentStatusRequest) (github.DeploymentStatus, error) {
	if err := f.call("CreateDeploymentStatus", id, r.State); err != nil {
		return github.DeploymentStatus{}, err
	}
	d := f.dep(id)
	if d == nil {
		return github.DeploymentStatus{}, f.unexpected("CreateDeploymentStatus", id)
	}
	f.write("status %s %s %q", d.Environment, r.State, r.Description)
	return f.addStatus(id, r.State, r.Description, r.LogURL, r.EnvironmentURL, f.clk.Now()), nil
}

func (f *fakeGH) addStatus(id int64, state, desc, logURL, envURL string, at time.Time) github.DeploymentStatus {
	f.nextID++
	s := github.DeploymentStatus{ID: f.nextID, State: state, Description: desc, LogURL: logURL, EnvironmentURL: envURL, CreatedAt: at}
	f.sts[id] = append(f.sts[id], s)
	if d := f.dep(id); d != nil && at.After(d.UpdatedAt) {
		d.UpdatedAt = at
	}
	return s
}

func (f *fakeGH) dep(id int64) *github.Deployment {
	for i := range f.deps {
		if f.deps[i].ID == id {
			return &f.deps[i]
		}
	}
	return nil
}

func (f *fakeGH) FindWorkflow(_ context.Context, name string) (github.Workflow, error) {
	if err := f.call("FindWorkflow", name); err != nil {
		return github.Workflow{}, err
	}
	if name != "deploy.yml" {
		return github.Workflow{}, notFound("/repos/agentme/agentme/actions/workflows/" + name)
	}
	return github.Workflow{ID: wfID, Name: "Deploy", Path: ".github/workflows/deploy.yml", State: "active"}, nil
}

func (f *fakeGH) DispatchWorkflow(_ context.Context, id int64, ref string, inputs map[string]string) (github.DispatchResult, error) {
	if err := f.call("DispatchWorkflow", id, ref); err != nil {
		return github.DispatchResult{}, err
	}
	t, ok := f.tags[ref]
	if id != wfID || !ok {
		return github.DispatchResult{}, f.unexpected("DispatchWorkflow", id, ref)
	}
	env := inputs["environment"]
	f.write("dispatch %s %s", env, ref)
	f.dispatchs = append(f.dispatchs, inputs)
	conclusion := "success"
	if q := f.conclusions[env]; len(q) > 0 {
		conclusion, f.conclusions[env] = q[0], q[1:]
	}
	f.nextRun++
	now := f.clk.Now()
	run := github.WorkflowRun{ID: f.nextRun, Name: "Deploy", WorkflowID: wfID, HeadSHA: t.SHA, HeadBranch: ref, Event: "workflow_dispatch",
		HTMLURL: runURL(f.nextRun), CreatedAt: now, UpdatedAt: now}
	f.runs[run.ID] = &fakeRun{run: run, done: now.Add(f.runTime), conclusion: conclusion}
	return github.DispatchResult{RunID: run.ID, HTMLURL: run.HTMLURL}, nil
}

func runURL(id int64) string { return fmt.Sprintf("%s%s/actions/runs/%d", serverURL, repoPath, id) }

func (f *fakeGH) ListWorkflowRuns(_ context.Context, id int64, fl github.RunFilter) ([]github.WorkflowRun, error) {
	return nil, f.unexpected("ListWorkflowRuns", id, fl)
}

func (f *fakeGH) GetWorkflowRun(_ context.Context, id int64) (github.WorkflowRun, error) {
	if err := f.call("GetWorkflowRun", id); err != nil {
		return github.WorkflowRun{}, err
	}
	fr, ok := f.runs[id]
	if !ok {
		return github.WorkflowRun{}, notFound(fmt.Sprintf("/repos/agentme/agentme/actions/runs/%d", id))
	}
	r := fr.run
	r.Status = "in_progress"
	if !f.clk.Now().Before(fr.done) {
		r.Status, r.Conclusion, r.UpdatedAt = "completed", fr.conclusion, fr.done
	}
	return r, nil
}

func (f *fakeGH) PendingDeployments(_ context.Context, id int64) ([]github.PendingDeployment, error) {
	return nil, f.unexpected("PendingDeployments", id)
}

// deploymentsOf returns the records of (env, sha).
func (f *fakeGH) deploymentsOf(env, sha string) []github.Deployment {
	var out []github.Deployment
	for _, d := range f.deps {
		if d.Environment == env && d.SHA == sha {
			out = append(out, d)
		}
	}
	return out
}

// tagsAt returns the names of tags naming sha with the prefix, sorted.
func (f *fakeGH) tagsAt(sha, prefix string) []string {
	var out []string
	for n, t := range f.tags {
		if t.SHA == sha && strings.HasPrefix(n, prefix) {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

func (f *fakeGH) CancelWorkflowRun(_ context.Context, id int64) error {
	return f.unexpected("CancelWorkflowRun", id)
}
