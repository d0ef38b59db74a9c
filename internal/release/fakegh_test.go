package release

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/agentme/release-action/internal/clock"
	"github.com/agentme/release-action/internal/fakegh"
	"github.com/agentme/release-action/internal/github"
)

const (
	testSHA   = "0123456789abcdef0123456789abcdef01234567"
	otherSHA  = "fedcba9876543210fedcba9876543210fedcba98"
	serverURL = "https://github.example"
	repoPath  = "/agentme/agentme"
	wfID      = 77
)

// fakeGH is the shared loud fake (fakegh) scripted for release's tests: deployments and
// statuses are stored there; this layer adds tags, files, releases, and deploy runs that
// complete after runTime with a scripted conclusion. Every write is logged in order; runs
// are never listed and pending deployments never asked, so those calls fail the test.
type fakeGH struct {
	*fakegh.Fake
	t   *testing.T
	clk *clock.Virtual

	nextRun  int64
	files    map[string]string // "path@sha"
	tags     map[string]github.Tag
	releases map[string]github.Release
	runs     map[int64]*fakeRun
	// conclusions scripts the conclusions of an environment's next deploy runs (then success).
	conclusions map[string][]string
	runTime     time.Duration

	// beforeCreateTag runs before a tag is created (to simulate a concurrent release).
	beforeCreateTag func(name string)

	writes    []string
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
	clk := clock.NewVirtual(start)
	f := &fakeGH{
		Fake: fakegh.New(t, clk, 1000), t: t, clk: clk, nextRun: 500,
		files:       map[string]string{"package.json@" + testSHA: `{"name":"agentme","version":"1.2.3"}`},
		tags:        map[string]github.Tag{},
		releases:    map[string]github.Release{},
		runs:        map[int64]*fakeRun{},
		conclusions: map[string][]string{},
		runTime:     3 * time.Minute,
		tagMsgs:     map[string]string{},
	}
	f.FileContentFunc = f.fileContent
	f.GetTagFunc = f.getTag
	f.ListTagNamesFunc = f.listTagNames
	f.CreateAnnotatedTagFunc = f.createAnnotatedTag
	f.GetReleaseByTagFunc = f.getReleaseByTag
	f.CreateReleaseFunc = f.createRelease
	f.UpdateReleaseBodyFunc = f.updateReleaseBody
	f.CreateDeploymentFunc = f.createDeployment
	f.OnStatus = func(d github.Deployment, r github.DeploymentStatusRequest) error {
		f.write("status %s %s %q", d.Environment, r.State, r.Description)
		return nil
	}
	f.FindWorkflowFunc = f.findWorkflow
	f.DispatchWorkflowFunc = f.dispatchWorkflow
	f.GetWorkflowRunFunc = f.getWorkflowRun
	return f
}

func (f *fakeGH) write(format string, args ...any) {
	f.writes = append(f.writes, fmt.Sprintf(format, args...))
}

func (f *fakeGH) count(name string) int { return f.Count(name) }

func notFound(path string) error {
	return &github.APIError{Method: "GET", Path: path, StatusCode: http.StatusNotFound, Message: "Not Found"}
}

func (f *fakeGH) fileContent(path, ref string) ([]byte, error) {
	c, ok := f.files[path+"@"+ref]
	if !ok {
		return nil, notFound("/repos/agentme/agentme/contents/" + path)
	}
	return []byte(c), nil
}

func (f *fakeGH) getTag(name string) (github.Tag, error) {
	t, ok := f.tags[name]
	if !ok {
		return github.Tag{}, notFound("/repos/agentme/agentme/git/ref/tags/" + name)
	}
	return t, nil
}

func (f *fakeGH) listTagNames(prefix string) ([]string, error) {
	var out []string
	for n := range f.tags {
		if strings.HasPrefix(n, prefix) {
			out = append(out, n)
		}
	}
	sort.Strings(out) // GitHub's order: by name, so rc.10 comes before rc.2
	return out, nil
}

func (f *fakeGH) createAnnotatedTag(name, sha, message string, tagger *github.Person) (github.Tag, error) {
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
	t := github.Tag{Name: name, SHA: sha, ObjectSHA: fmt.Sprintf("%040x", f.NewID()), Annotated: true, Message: message}
	f.tags[name] = t
	return t, nil
}

// addTag stores a tag another run made.
func (f *fakeGH) addTag(name, sha string) {
	f.tags[name] = github.Tag{Name: name, SHA: sha, ObjectSHA: sha, Annotated: false}
}

func (f *fakeGH) getReleaseByTag(tag string) (github.Release, error) {
	r, ok := f.releases[tag]
	if !ok {
		return github.Release{}, notFound("/repos/agentme/agentme/releases/tags/" + tag)
	}
	return r, nil
}

func (f *fakeGH) createRelease(r github.ReleaseRequest) (github.Release, error) {
	if _, ok := f.tags[r.TagName]; !ok {
		f.t.Errorf("release for the missing tag %s", r.TagName)
	}
	if _, ok := f.releases[r.TagName]; ok {
		f.t.Errorf("a second release for %s", r.TagName)
	}
	f.write("release %s prerelease=%v", r.TagName, r.Prerelease)
	f.releaseRq = append(f.releaseRq, r)
	rel := github.Release{ID: f.NewID(), TagName: r.TagName, Name: r.Name, Body: r.Body, Prerelease: r.Prerelease,
		HTMLURL: serverURL + repoPath + "/releases/tag/" + r.TagName}
	f.releases[r.TagName] = rel
	return rel, nil
}

func (f *fakeGH) updateReleaseBody(id int64, body string) error {
	for tag, r := range f.releases {
		if r.ID == id {
			f.write("release body %s", tag)
			r.Body = body
			f.releases[tag] = r
			return nil
		}
	}
	return f.Unexpected("UpdateReleaseBody", id)
}

// createDeployment: GitHub resolves the ref, which release always names by tag.
func (f *fakeGH) createDeployment(r github.DeploymentRequest) (string, error) {
	t, ok := f.tags[r.Ref]
	if !ok {
		return "", f.Unexpected("CreateDeployment of a missing ref", r.Ref)
	}
	f.write("deployment %s %s", r.Environment, r.Ref)
	f.depReqs = append(f.depReqs, r)
	return t.SHA, nil
}

// addDeployment stores a record another run made.
func (f *fakeGH) addDeployment(env, sha, ref, desc string, payload json.RawMessage, at time.Time) github.Deployment {
	return f.AddDeployment(github.Deployment{SHA: sha, Ref: ref, Environment: env, Task: "deploy", Description: desc,
		Payload: payload, Creator: "release-bot", CreatedAt: at, UpdatedAt: at})
}

func (f *fakeGH) addStatus(id int64, state, desc, logURL, envURL string, at time.Time) github.DeploymentStatus {
	return f.AddStatus(id, github.DeploymentStatus{State: state, Description: desc, LogURL: logURL, EnvironmentURL: envURL, CreatedAt: at})
}

func (f *fakeGH) findWorkflow(name string) (github.Workflow, error) {
	if name != "deploy.yml" {
		return github.Workflow{}, notFound("/repos/agentme/agentme/actions/workflows/" + name)
	}
	return github.Workflow{ID: wfID, Name: "Deploy", Path: ".github/workflows/deploy.yml", State: "active"}, nil
}

func (f *fakeGH) dispatchWorkflow(id int64, ref string, inputs map[string]string) (github.DispatchResult, error) {
	t, ok := f.tags[ref]
	if id != wfID || !ok {
		return github.DispatchResult{}, f.Unexpected("DispatchWorkflow", id, ref)
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

func (f *fakeGH) getWorkflowRun(id int64) (github.WorkflowRun, error) {
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

// deploymentsOf returns the records of (env, sha).
func (f *fakeGH) deploymentsOf(env, sha string) []github.Deployment {
	var out []github.Deployment
	for _, d := range f.Deployments() {
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
