package rollback

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/agentme/release-action/internal/outcome"
	"github.com/agentme/release-action/internal/untrusted"

	"github.com/agentme/release-action/internal/clock"
	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/deploy"
	"github.com/agentme/release-action/internal/github"
	"github.com/agentme/release-action/internal/smoke"
)

const (
	badSHA    = "bbbbbbb111111111111111111111111111111111"
	goodSHA   = "9999999222222222222222222222222222222222"
	olderSHA  = "7777777333333333333333333333333333333333"
	rolledSHA = "5555555444444444444444444444444444444444"
	badTag    = "v1.3.0-rc.1"
	goodTag   = "v1.2.2"
	olderTag  = "v1.2.1"
	envURL    = "https://gateway.agentme.example"
	runURL    = "https://github.example/agentme/agentme/actions/runs/4242"
	wfID      = 31
)

var (
	t0            = time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC)
	errUnexpected = errors.New("unexpected call")
)

// fakeGH is a loud in-memory GitHub: deployments, statuses, tags and runs behave like
// GitHub's (records listed in no particular order: oldest first), every write is
// recorded in writes, and any call the scenario did not expect fails the test.
type fakeGH struct {
	t   *testing.T
	clk *clock.Virtual

	mu      sync.Mutex
	nextID  int64
	deps    []github.Deployment
	sts     map[int64][]github.DeploymentStatus
	tags    map[string]github.Tag
	commits map[string]string // extra refs ResolveCommit knows (branches)
	runs    map[int64]*github.WorkflowRun
	polls   map[int64]int
	nextRun int64
	// conclusion the next dispatched run ends with (default success).
	conclusion string
	issues     []issueReq
	issueErr   error
	// onDeployed runs when a dispatched run completes successfully (the deploy "happened").
	onDeployed func(tag string)

	// failures injected by method name
	fail map[string]error

	writes []string
	// createReqs are the CreateDeployment requests, in order.
	createReqs []github.DeploymentRequest
	calls      map[string]int
	// deployment listings and how many records they returned (a real client reads 100 per page)
	listed []int
}

type issueReq struct {
	title, body string
	labels      []string
}

func newFake(t *testing.T) *fakeGH {
	f := &fakeGH{
		t: t, clk: clock.NewVirtual(t0), nextID: 5000, nextRun: 900,
		sts: map[int64][]github.DeploymentStatus{}, tags: map[string]github.Tag{}, commits: map[string]string{},
		runs: map[int64]*github.WorkflowRun{}, polls: map[int64]int{}, fail: map[string]error{}, calls: map[string]int{},
	}
	f.addTag(badTag, badSHA)
	f.addTag(goodTag, goodSHA)
	f.addTag(olderTag, olderSHA)
	f.addTag("v1.2.5", rolledSHA)
	return f
}

func (f *fakeGH) addTag(name, sha string) {
	f.tags[name] = github.Tag{Name: name, SHA: sha, ObjectSHA: "tagobj-" + name, Annotated: true}
}

func (f *fakeGH) enter(name string) error {
	f.calls[name]++
	return f.fail[name]
}

func (f *fakeGH) unexpected(name string, args ...any) error {
	f.t.Errorf("unexpected call %s%v", name, args)
	return fmt.Errorf("%s: %w", name, errUnexpected)
}

// st is a status to add: state, description (release-action's prefix added when ours).
type st struct {
	state, desc string
	at          time.Duration // after the record's creation
}

// addDep adds a record with statuses; ours records carry release-action's description and
// payload, others look like GitHub Actions' own environment records.
func (f *fakeGH) addDep(env, sha, ref string, at time.Time, ours bool, statuses ...st) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	d := github.Deployment{ID: f.nextID, SHA: sha, Ref: ref, Environment: env, Task: "deploy", CreatedAt: at, UpdatedAt: at, Creator: "github-actions[bot]"}
	if ours {
		d.Description = deploy.Prefix + ref
		d.Payload, _ = json.Marshal(deploy.Payload{ReleaseAction: 1, Commit: sha, Tag: ref})
		d.Creator = "release-bot"
	}
	f.deps = append(f.deps, d)
	for _, s := range statuses {
		desc := s.desc
		if ours && desc != "" {
			desc = deploy.Prefix + desc
		}
		f.nextID++
		f.sts[d.ID] = append(f.sts[d.ID], github.DeploymentStatus{ID: f.nextID, State: s.state, Description: desc, CreatedAt: at.Add(s.at)})
	}
	return d.ID
}

var validated = []st{{"in_progress", "deploying (run 1)", time.Minute}, {"in_progress", "deployed; validating", 5 * time.Minute}, {"success", "deployed and validated", 7 * time.Minute}}

func (f *fakeGH) write(format string, args ...any) {
	f.writes = append(f.writes, fmt.Sprintf(format, args...))
}

func (f *fakeGH) dep(id int64) *github.Deployment {
	for i := range f.deps {
		if f.deps[i].ID == id {
			return &f.deps[i]
		}
	}
	return nil
}

func (f *fakeGH) CreateDeployment(_ context.Context, r github.DeploymentRequest) (github.Deployment, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("CreateDeployment"); err != nil {
		return github.Deployment{}, err
	}
	tag, ok := f.tags[r.Ref]
	if !ok {
		return github.Deployment{}, f.unexpected("CreateDeployment on a ref that is not a tag", r.Ref)
	}
	if n := utf8.RuneCountInString(r.Description); n > deploy.MaxDescription {
		f.t.Errorf("deployment description has %d characters", n)
	}
	var p deploy.Payload
	if err := json.Unmarshal(r.Payload, &p); err != nil {
		f.t.Errorf("payload is not JSON: %v", err)
	}
	f.write("deployment %s %s rollback=%v from=%s reason=%q", r.Environment, r.Ref, p.Rollback, untrusted.ShortSHA(p.RollbackFrom), p.Reason)
	f.createReqs = append(f.createReqs, r)
	f.nextID++
	d := github.Deployment{ID: f.nextID, SHA: tag.SHA, Ref: r.Ref, Environment: r.Environment, Task: r.Task, Description: r.Description,
		Payload: r.Payload, Creator: "release-bot", CreatedAt: f.clk.Now(), UpdatedAt: f.clk.Now()}
	f.deps = append(f.deps, d)
	return d, nil
}

func (f *fakeGH) ListDeployments(_ context.Context, fl github.DeploymentFilter) ([]github.Deployment, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("ListDeployments"); err != nil {
		return nil, err
	}
	if fl.Ref != "" || fl.Task != "" {
		f.t.Errorf("ListDeployments with a ref or task filter: %+v", fl)
	}
	var out []github.Deployment
	for _, d := range f.deps {
		if (fl.Environment == "" || strings.EqualFold(d.Environment, fl.Environment)) && (fl.SHA == "" || strings.EqualFold(d.SHA, fl.SHA)) {
			out = append(out, d)
		}
	}
	f.listed = append(f.listed, len(out))
	return out, nil
}

func (f *fakeGH) ListDeploymentStatuses(_ context.Context, id int64) ([]github.DeploymentStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("ListDeploymentStatuses"); err != nil {
		return nil, err
	}
	if f.dep(id) == nil {
		return nil, f.unexpected("ListDeploymentStatuses of an unknown deployment", id)
	}
	return slices.Clone(f.sts[id]), nil
}

func (f *fakeGH) CreateDeploymentStatus(_ context.Context, id int64, r github.DeploymentStatusRequest) (github.DeploymentStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("CreateDeploymentStatus"); err != nil {
		return github.DeploymentStatus{}, err
	}
	if f.dep(id) == nil {
		return github.DeploymentStatus{}, f.unexpected("CreateDeploymentStatus on an unknown deployment", id)
	}
	if n := utf8.RuneCountInString(r.Description); n > deploy.MaxDescription {
		f.t.Errorf("status description has %d characters: %q", n, r.Description)
	}
	f.write("status %d %s %q", id, r.State, r.Description)
	f.nextID++
	s := github.DeploymentStatus{ID: f.nextID, State: r.State, Description: r.Description, LogURL: r.LogURL, EnvironmentURL: r.EnvironmentURL, CreatedAt: f.clk.Now()}
	f.sts[id] = append(f.sts[id], s)
	return s, nil
}

func (f *fakeGH) FindWorkflow(_ context.Context, name string) (github.Workflow, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("FindWorkflow"); err != nil {
		return github.Workflow{}, err
	}
	if name != "deploy.yml" {
		return github.Workflow{}, f.unexpected("FindWorkflow", name)
	}
	return github.Workflow{ID: wfID, Name: "Deploy", Path: ".github/workflows/deploy.yml", State: "active"}, nil
}

func (f *fakeGH) DispatchWorkflow(_ context.Context, id int64, ref string, inputs map[string]string) (github.DispatchResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("DispatchWorkflow"); err != nil {
		return github.DispatchResult{}, err
	}
	tag, ok := f.tags[ref]
	if id != wfID || !ok {
		return github.DispatchResult{}, f.unexpected("DispatchWorkflow (workflow, ref must be a tag)", id, ref)
	}
	if inputs["ref"] != ref || inputs["environment"] == "" || inputs["deployment_id"] == "" {
		f.t.Errorf("dispatch inputs %v", inputs)
	}
	f.write("dispatch %s %s deployment=%s", inputs["environment"], ref, inputs["deployment_id"])
	f.nextRun++
	run := &github.WorkflowRun{ID: f.nextRun, WorkflowID: wfID, HeadSHA: tag.SHA, HeadBranch: ref, Event: "workflow_dispatch",
		Status: "in_progress", HTMLURL: fmt.Sprintf("https://github.example/agentme/agentme/actions/runs/%d", f.nextRun), CreatedAt: f.clk.Now()}
	f.runs[run.ID] = run
	return github.DispatchResult{RunID: run.ID, HTMLURL: run.HTMLURL}, nil
}

func (f *fakeGH) ListWorkflowRuns(_ context.Context, id int64, fl github.RunFilter) ([]github.WorkflowRun, error) {
	return nil, f.unexpected("ListWorkflowRuns", id, fl)
}

// GetWorkflowRun: a dispatched run completes on its third read.
func (f *fakeGH) GetWorkflowRun(_ context.Context, id int64) (github.WorkflowRun, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("GetWorkflowRun"); err != nil {
		return github.WorkflowRun{}, err
	}
	run, ok := f.runs[id]
	if !ok {
		return github.WorkflowRun{}, fmt.Errorf("run %d: %w", id, github.ErrNotFound)
	}
	f.polls[id]++
	if f.polls[id] >= 3 && run.Status != "completed" {
		run.Status, run.Conclusion = "completed", cmpOr(f.conclusion, "success")
		if run.Conclusion == "success" && f.onDeployed != nil {
			f.onDeployed(run.HeadBranch)
		}
	}
	return *run, nil
}

func (f *fakeGH) PendingDeployments(_ context.Context, id int64) ([]github.PendingDeployment, error) {
	return nil, f.unexpected("PendingDeployments", id)
}

func (f *fakeGH) GetTag(_ context.Context, name string) (github.Tag, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("GetTag"); err != nil {
		return github.Tag{}, err
	}
	if t, ok := f.tags[name]; ok {
		return t, nil
	}
	return github.Tag{}, fmt.Errorf("GET /git/ref/tags/%s: %w", name, github.ErrNotFound)
}

func (f *fakeGH) ResolveCommit(_ context.Context, ref string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("ResolveCommit"); err != nil {
		return "", err
	}
	if sha, ok := f.commits[ref]; ok {
		return sha, nil
	}
	for _, sha := range []string{badSHA, goodSHA, olderSHA, rolledSHA} {
		if strings.HasPrefix(sha, strings.ToLower(ref)) {
			return sha, nil
		}
	}
	return "", fmt.Errorf("resolve %q: %w", ref, github.ErrNotFound)
}

func (f *fakeGH) CreateIssue(_ context.Context, title, body string, labels []string) (github.Issue, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("CreateIssue"); err != nil {
		return github.Issue{}, err
	}
	if f.issueErr != nil {
		return github.Issue{}, f.issueErr
	}
	f.write("issue %q %v", title, labels)
	f.issues = append(f.issues, issueReq{title, body, labels})
	n := len(f.issues) + 40
	return github.Issue{Number: n, HTMLURL: fmt.Sprintf("https://github.example/agentme/agentme/issues/%d", n)}, nil
}

// statesOf lists a record's statuses oldest first as "state description".
func (f *fakeGH) statesOf(id int64) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, s := range f.sts[id] {
		out = append(out, s.State+" "+strings.TrimPrefix(s.Description, deploy.Prefix))
	}
	return out
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// fakeSmoke records calls and answers with a report (pass unless failing names probes).
type fakeSmoke struct {
	calls   int
	envs    []string
	probes  [][]string
	failing map[string]string
	err     error
}

func (s *fakeSmoke) run(_ context.Context, env config.Environment, probes []string) (*smoke.Report, error) {
	s.calls++
	s.envs = append(s.envs, env.Name)
	s.probes = append(s.probes, probes)
	if s.err != nil {
		return nil, s.err
	}
	rep := &smoke.Report{Verdict: outcome.Pass, Ready: true, Gateway: env.URL}
	for _, p := range probes {
		pr := smoke.ProbeResult{Name: p, OK: true, Attempts: 1, Detail: "ok"}
		if d, bad := s.failing[p]; bad {
			pr.OK, pr.Detail = false, d
			rep.Verdict = outcome.Fail
		}
		rep.Probes = append(rep.Probes, pr)
	}
	return rep, nil
}

func testConfig() *config.Config {
	c := config.Default()
	c.Deploy = config.Deploy{Workflow: "deploy.yml"}
	c.Environments = []config.Environment{
		{Name: "staging", URL: "https://staging.agentme.example", Timeout: config.Duration(20 * time.Minute), Smoke: smoke.AllProbes()},
		{Name: "production", URL: envURL, Timeout: config.Duration(30 * time.Minute), Smoke: smoke.AllProbes()},
	}
	return c
}
