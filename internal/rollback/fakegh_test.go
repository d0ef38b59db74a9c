package rollback

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentme/release-action/internal/outcome"
	"github.com/agentme/release-action/internal/untrusted"

	"github.com/agentme/release-action/internal/clock"
	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/deploy"
	"github.com/agentme/release-action/internal/fakegh"
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

var t0 = time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC)

// fakeGH is the shared loud fake (fakegh) scripted for rollback's tests: deployments and
// statuses are stored there (listed oldest first); this layer adds tags, commits, dispatched
// runs that complete on their third read, and issues. Every write is recorded in writes;
// runs are never listed and pending deployments never asked, so those calls fail the test.
type fakeGH struct {
	*fakegh.Fake
	t   *testing.T
	clk *clock.Virtual

	// mu guards the state below: the real client of pages_test reads through HTTP.
	mu      sync.Mutex
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

	writes []string
	// createReqs are the CreateDeployment requests, in order.
	createReqs []github.DeploymentRequest
}

type issueReq struct {
	title, body string
	labels      []string
}

func newFake(t *testing.T) *fakeGH {
	clk := clock.NewVirtual(t0)
	f := &fakeGH{
		Fake: fakegh.New(t, clk, 5000), t: t, clk: clk, nextRun: 900,
		tags: map[string]github.Tag{}, commits: map[string]string{},
		runs: map[int64]*github.WorkflowRun{}, polls: map[int64]int{},
	}
	f.addTag(badTag, badSHA)
	f.addTag(goodTag, goodSHA)
	f.addTag(olderTag, olderSHA)
	f.addTag("v1.2.5", rolledSHA)
	f.CreateDeploymentFunc = f.createDeployment
	f.OnStatus = func(d github.Deployment, r github.DeploymentStatusRequest) error {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.write("status %d %s %q", d.ID, r.State, r.Description)
		return nil
	}
	f.FindWorkflowFunc = f.findWorkflow
	f.DispatchWorkflowFunc = f.dispatchWorkflow
	f.GetWorkflowRunFunc = f.getWorkflowRun
	f.GetTagFunc = f.getTag
	f.ResolveCommitFunc = f.resolveCommit
	f.CreateIssueFunc = f.createIssue
	return f
}

func (f *fakeGH) addTag(name, sha string) {
	f.tags[name] = github.Tag{Name: name, SHA: sha, ObjectSHA: "tagobj-" + name, Annotated: true}
}

// listed returns how many records each deployment listing returned (a real client reads
// 100 per page).
func (f *fakeGH) listed() []int {
	var out []int
	for _, c := range f.Calls() {
		if c.Method == "ListDeployments" {
			out = append(out, c.Returned)
		}
	}
	return out
}

// st is a status to add: state, description (release-action's prefix added when ours).
type st struct {
	state, desc string
	at          time.Duration // after the record's creation
}

// addDep adds a record with statuses; ours records carry release-action's description and
// payload, others look like GitHub Actions' own environment records.
func (f *fakeGH) addDep(env, sha, ref string, at time.Time, ours bool, statuses ...st) int64 {
	d := github.Deployment{SHA: sha, Ref: ref, Environment: env, Task: "deploy", CreatedAt: at, UpdatedAt: at, Creator: "github-actions[bot]"}
	if ours {
		d.Description = deploy.Prefix + ref
		d.Payload, _ = json.Marshal(deploy.Payload{ReleaseAction: 1, Commit: sha, Tag: ref})
		d.Creator = "release-bot"
	}
	id := f.AddDeployment(d).ID
	for _, s := range statuses {
		desc := s.desc
		if ours && desc != "" {
			desc = deploy.Prefix + desc
		}
		f.AddStatus(id, github.DeploymentStatus{State: s.state, Description: desc, CreatedAt: at.Add(s.at)})
	}
	return id
}

var validated = []st{{"in_progress", "deploying (run 1)", time.Minute}, {"in_progress", "deployed; validating", 5 * time.Minute}, {"success", "deployed and validated", 7 * time.Minute}}

// write logs a write; the caller holds mu.
func (f *fakeGH) write(format string, args ...any) {
	f.writes = append(f.writes, fmt.Sprintf(format, args...))
}

// createDeployment: GitHub resolves the ref, which a rollback always names by tag.
func (f *fakeGH) createDeployment(r github.DeploymentRequest) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	tag, ok := f.tags[r.Ref]
	if !ok {
		return "", f.Unexpected("CreateDeployment on a ref that is not a tag", r.Ref)
	}
	var p deploy.Payload
	if err := json.Unmarshal(r.Payload, &p); err != nil {
		f.t.Errorf("payload is not JSON: %v", err)
	}
	f.write("deployment %s %s rollback=%v from=%s reason=%q", r.Environment, r.Ref, p.Rollback, untrusted.ShortSHA(p.RollbackFrom), p.Reason)
	f.createReqs = append(f.createReqs, r)
	return tag.SHA, nil
}

func (f *fakeGH) findWorkflow(name string) (github.Workflow, error) {
	if name != "deploy.yml" {
		return github.Workflow{}, f.Unexpected("FindWorkflow", name)
	}
	return github.Workflow{ID: wfID, Name: "Deploy", Path: ".github/workflows/deploy.yml", State: "active"}, nil
}

func (f *fakeGH) dispatchWorkflow(id int64, ref string, inputs map[string]string) (github.DispatchResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	tag, ok := f.tags[ref]
	if id != wfID || !ok {
		return github.DispatchResult{}, f.Unexpected("DispatchWorkflow (workflow, ref must be a tag)", id, ref)
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

// getWorkflowRun: a dispatched run completes on its third read.
func (f *fakeGH) getWorkflowRun(id int64) (github.WorkflowRun, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
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

func (f *fakeGH) getTag(name string) (github.Tag, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if t, ok := f.tags[name]; ok {
		return t, nil
	}
	return github.Tag{}, fmt.Errorf("GET /git/ref/tags/%s: %w", name, github.ErrNotFound)
}

func (f *fakeGH) resolveCommit(ref string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
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

func (f *fakeGH) createIssue(title, body string, labels []string) (github.Issue, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
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
	var out []string
	for _, s := range f.Statuses(id) {
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
