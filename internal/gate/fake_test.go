package gate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/agentme/release-action/internal/clock"
	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/github"
)

const (
	testSHA  = "0123456789abcdef0123456789abcdef01234567"
	otherSHA = "fedcba9876543210fedcba9876543210fedcba98"
)

var (
	t0            = time.Date(2026, 11, 20, 10, 30, 0, 0, time.UTC)
	errUnexpected = errors.New("unexpected call")
)

// fakeGH is a loud in-memory GitHub: every method whose behaviour the test did not
// script fails the test. Snapshots are computed from the virtual time, so a test scripts
// a timeline of check runs.
type fakeGH struct {
	t   *testing.T
	clk *recClock

	snap      func(now time.Time) []github.CheckContext
	snapErrAt func(n int) error

	// listWorkflows answers ListWorkflows; nil answers fakeWorkflows.
	listWorkflows func() ([]github.Workflow, error)
	listRuns      func(wfID int64, f github.RunFilter) ([]github.WorkflowRun, error)
	getRun        func(id int64) (github.WorkflowRun, error)
	branches      func() ([]string, error)
	createRef     func(ref, sha string) error
	deleteRef     func(ref string) error
	dispatch      func(wfID int64, ref string, inputs map[string]string) (github.DispatchResult, error)
	listJobs      func(runID int64) ([]github.Job, error)
	jobLog        func(jobID int64) ([]byte, error)
	listArts      func(runID int64) ([]github.Artifact, error)
	download      func(id int64) ([]byte, error)

	// cost is what Cost answers (the gate paces paid work by it).
	cost        github.Cost
	paidPerPoll int // billed REST requests each poll adds to cost
	calls       map[string]int
	callLog     []string
	last        []github.CheckContext
	lastCtxs    []context.Context
}

// recClock is a virtual clock that records every sleep.
type recClock struct {
	*clock.Virtual
	sleeps []time.Duration
}

func (c *recClock) Sleep(ctx context.Context, d time.Duration) error {
	c.sleeps = append(c.sleeps, d)
	return c.Virtual.Sleep(ctx, d)
}

func newFake(t *testing.T) *fakeGH {
	return &fakeGH{t: t, clk: &recClock{Virtual: clock.NewVirtual(t0)}, calls: map[string]int{}}
}

func (f *fakeGH) record(ctx context.Context, name string, args ...any) {
	f.calls[name]++
	f.callLog = append(f.callLog, strings.TrimSpace(fmt.Sprintln(append([]any{name}, args...)...)))
	f.lastCtxs = append(f.lastCtxs, ctx)
}

func (f *fakeGH) unexpected(name string, args ...any) error {
	f.t.Errorf("unexpected call %s%v", name, args)
	return fmt.Errorf("%s: %w", name, errUnexpected)
}

func (f *fakeGH) Repo() github.Repo { return github.Repo{Owner: "o", Name: "r"} }

// CheckRunStates is one poll (recorded as "Snapshot"): what REST says of the check runs
// the timeline shows now.
func (f *fakeGH) CheckRunStates(ctx context.Context, sha string) ([]github.CheckContext, error) {
	f.record(ctx, "Snapshot", sha)
	if f.snap == nil {
		return nil, f.unexpected("Snapshot", sha)
	}
	f.cost.REST += f.paidPerPoll
	if f.snapErrAt != nil {
		if err := f.snapErrAt(f.calls["Snapshot"]); err != nil {
			return nil, err
		}
	}
	if sha != testSHA {
		f.t.Errorf("Snapshot of %s, want %s", sha, testSHA)
	}
	var out []github.CheckContext
	for _, c := range f.snap(f.clk.Now()) {
		if c.Kind == github.KindCheckRun {
			out = append(out, github.CheckContext{Kind: c.Kind, ID: c.ID, Name: c.Name, Status: c.Status,
				Conclusion: c.Conclusion, StartedAt: c.StartedAt, CompletedAt: c.CompletedAt, DetailsURL: c.DetailsURL, SuiteID: c.SuiteID})
		}
	}
	return out, nil
}

func (f *fakeGH) StatusStates(ctx context.Context, sha string) ([]github.CheckContext, error) {
	var out []github.CheckContext
	for _, c := range f.snap(f.clk.Now()) {
		if c.Kind == github.KindStatus {
			out = append(out, c)
		}
	}
	return out, nil
}

func (f *fakeGH) Rollup(ctx context.Context, sha string) ([]github.CheckContext, error) {
	f.record(ctx, "Rollup", sha)
	cs := f.snap(f.clk.Now())
	f.last = slices.Clone(cs)
	return cs, nil
}

func (f *fakeGH) Cost() github.Cost { return f.cost }

func (f *fakeGH) ListWorkflows(ctx context.Context) ([]github.Workflow, error) {
	f.record(ctx, "ListWorkflows")
	if f.listWorkflows == nil {
		return fakeWorkflows(), nil
	}
	return f.listWorkflows()
}

// fakeWorkflows are the workflow files of the fake repository, one per name the tests use.
func fakeWorkflows() []github.Workflow {
	return []github.Workflow{
		{ID: 1, Name: "CI", Path: ".github/workflows/ci.yml"},
		{ID: 2, Name: "Security Gate", Path: ".github/workflows/security-gate.yml"},
		{ID: 77, Name: "Install Smoke", Path: ".github/workflows/install-smoke.yml"},
		{ID: 4, Name: "Release", Path: ".github/workflows/release.yml"},
		{ID: 5, Name: "W", Path: ".github/workflows/w.yml"},
		{ID: 6, Name: "Docs", Path: ".github/workflows/docs.yml"},
	}
}

// fakeWorkflow is the file of fakeWorkflows with that name (an unknown name gets id 99).
func fakeWorkflow(name string) github.Workflow {
	for _, w := range fakeWorkflows() {
		if w.Name == name {
			return w
		}
	}
	return github.Workflow{ID: 99, Name: name, Path: ".github/workflows/unknown.yml"}
}

func (f *fakeGH) ListWorkflowRuns(ctx context.Context, id int64, fl github.RunFilter) ([]github.WorkflowRun, error) {
	f.record(ctx, "ListWorkflowRuns", id, fl.HeadSHA, fl.Event, fl.CreatedSince.Format(time.RFC3339))
	if f.listRuns == nil {
		return nil, f.unexpected("ListWorkflowRuns", id)
	}
	return f.listRuns(id, fl)
}

func (f *fakeGH) GetWorkflowRun(ctx context.Context, id int64) (github.WorkflowRun, error) {
	f.record(ctx, "GetWorkflowRun", id)
	if f.getRun == nil {
		return github.WorkflowRun{}, f.unexpected("GetWorkflowRun", id)
	}
	return f.getRun(id)
}

func (f *fakeGH) BranchesWhereHead(ctx context.Context, sha string) ([]string, error) {
	f.record(ctx, "BranchesWhereHead", sha)
	if f.branches == nil {
		return nil, f.unexpected("BranchesWhereHead", sha)
	}
	return f.branches()
}

func (f *fakeGH) CreateRef(ctx context.Context, ref, sha string) error {
	f.record(ctx, "CreateRef", ref, sha)
	if f.createRef == nil {
		return f.unexpected("CreateRef", ref, sha)
	}
	return f.createRef(ref, sha)
}

func (f *fakeGH) DeleteRef(ctx context.Context, ref string) error {
	f.record(ctx, "DeleteRef", ref)
	if f.deleteRef == nil {
		return f.unexpected("DeleteRef", ref)
	}
	return f.deleteRef(ref)
}

func (f *fakeGH) DispatchWorkflow(ctx context.Context, id int64, ref string, inputs map[string]string) (github.DispatchResult, error) {
	f.record(ctx, "DispatchWorkflow", id, ref)
	if f.dispatch == nil {
		return github.DispatchResult{}, f.unexpected("DispatchWorkflow", id, ref)
	}
	return f.dispatch(id, ref, inputs)
}

func (f *fakeGH) ListJobs(ctx context.Context, runID int64) ([]github.Job, error) {
	f.record(ctx, "ListJobs", runID)
	if f.listJobs == nil {
		return nil, f.unexpected("ListJobs", runID)
	}
	return f.listJobs(runID)
}

func (f *fakeGH) JobLog(ctx context.Context, jobID int64) ([]byte, error) {
	f.record(ctx, "JobLog", jobID)
	if f.jobLog == nil {
		return nil, f.unexpected("JobLog", jobID)
	}
	return f.jobLog(jobID)
}

func (f *fakeGH) ListArtifacts(ctx context.Context, runID int64) ([]github.Artifact, error) {
	f.record(ctx, "ListArtifacts", runID)
	if f.listArts == nil {
		return nil, f.unexpected("ListArtifacts", runID)
	}
	return f.listArts(runID)
}

func (f *fakeGH) DownloadArtifact(ctx context.Context, id int64) ([]byte, error) {
	f.record(ctx, "DownloadArtifact", id)
	if f.download == nil {
		return nil, f.unexpected("DownloadArtifact", id)
	}
	return f.download(id)
}

// step is one point of a snapshot timeline: from `at` after t0 on, the commit shows cs.
type step struct {
	at time.Duration
	cs []github.CheckContext
}

func timeline(steps ...step) func(time.Time) []github.CheckContext {
	return func(now time.Time) []github.CheckContext {
		var cur []github.CheckContext
		for _, s := range steps {
			if !now.Before(t0.Add(s.at)) {
				cur = s.cs
			}
		}
		return cur
	}
}

func static(cs ...github.CheckContext) func(time.Time) []github.CheckContext {
	return func(time.Time) []github.CheckContext { return cs }
}

// cr makes a check run of an Actions workflow run; its check suite has the same state
// (a one-job run) unless changed with suite.
func cr(id int64, name, wf string, run int64, status, concl string) github.CheckContext {
	c := github.CheckContext{
		Kind: github.KindCheckRun, ID: id, Name: name, Status: status, Conclusion: concl,
		DetailsURL: fmt.Sprintf("https://github.example/o/r/actions/runs/%d/job/%d", run, id),
	}
	if wf != "" {
		w := fakeWorkflow(wf)
		c.Workflow, c.WorkflowID, c.WorkflowPath = wf, w.ID, w.Path
		c.RunID, c.RunNumber, c.Event = run, int(run%1000), "push"
		c.RunURL = fmt.Sprintf("https://github.example/o/r/actions/runs/%d", run)
		c.SuiteID = run * 10
		c.SuiteStatus = status
		if status == "completed" {
			c.SuiteConclusion = concl
		}
	}
	return c
}

func suite(c github.CheckContext, status, concl string) github.CheckContext {
	c.SuiteStatus, c.SuiteConclusion = status, concl
	return c
}

func startedAt(c github.CheckContext, at time.Time) github.CheckContext {
	c.StartedAt = at
	return c
}

func status(name, state string) github.CheckContext {
	c := github.CheckContext{Kind: github.KindStatus, Name: name, Status: "completed", Conclusion: state,
		DetailsURL: "https://ci.example/" + name}
	if state == "pending" {
		c.Status, c.Conclusion = "pending", ""
	}
	return c
}

func pol() config.Policy {
	return config.Policy{Timeout: config.Duration(45 * time.Minute), AppearTimeout: config.Duration(5 * time.Minute)}
}

func fast(b bool) *bool { return &b }

// opts are the options of a test run: small intervals, a recorded progress.
func (f *fakeGH) opts(gates ...config.Gate) (Options, *[]progressLine) {
	lines := &[]progressLine{}
	return Options{
		SHA: testSHA, Gates: gates, Policy: pol(), Clock: f.clk,
		Progress: func(msg string) {
			*lines = append(*lines, progressLine{at: f.clk.Now(), msg: msg})
		},
		MinInterval: 5 * time.Second, MaxInterval: 30 * time.Second, RunKey: "777-1",
	}, lines
}

type progressLine struct {
	at  time.Time
	msg string
}

func msgs(lines []progressLine) string {
	var b strings.Builder
	for _, l := range lines {
		fmt.Fprintf(&b, "%s %s\n", l.at.Sub(t0), l.msg)
	}
	return b.String()
}

func gateByName(t *testing.T, res *Result, name string) GateResult {
	t.Helper()
	for _, g := range res.Gates {
		if g.Name == name {
			return g
		}
	}
	t.Fatalf("no gate %q in result", name)
	return GateResult{}
}

// The Agent Me gates of the runbook.
var (
	gateCheck    = config.Gate{Name: "check", Check: "check", Workflow: "CI"}
	gateSecurity = config.Gate{Name: "Security Gate", Workflow: "Security Gate"}
	gateSmoke    = config.Gate{Name: "Install Smoke", Workflow: "Install Smoke", Dispatch: true}
	testFiles    = []string{
		"src/gateway/auth.test.ts",
		"src/gateway/tools-invoke-http.test.ts",
		"src/gateway/server-http.bootstrap.test.ts",
	}
	gateTests = config.Gate{Name: "Targeted bootstrap/auth regressions", Tests: &config.TestsGate{
		Workflow: "Security Gate", Job: "hardening", Step: "Security regression tests", Files: testFiles,
	}}
)

// Job log times of the Security Gate's hardening job (before t0, when the gate starts).
var (
	stepStart = time.Date(2026, 11, 20, 10, 0, 5, 0, time.UTC)
	stepEnd   = time.Date(2026, 11, 20, 10, 0, 8, 0, time.UTC)
)

// hardeningJob is job id of the hardening check run with its steps.
func hardeningJob(id, run int64, stepConcl string) github.Job {
	return github.Job{
		ID: id, RunID: run, Name: "hardening", Status: "completed", Conclusion: "success",
		HTMLURL: fmt.Sprintf("https://github.example/o/r/actions/runs/%d/job/%d", run, id),
		Steps: []github.Step{
			{Name: "Checkout", Number: 1, Status: "completed", Conclusion: "success",
				StartedAt: stepStart.Add(-5 * time.Second), CompletedAt: stepStart.Add(-4 * time.Second)},
			{Name: "Security audit (deep)", Number: 5, Status: "completed", Conclusion: "success",
				StartedAt: stepStart.Add(-4 * time.Second), CompletedAt: stepStart.Add(-2 * time.Second)},
			{Name: "Security regression tests", Number: 6, Status: "completed", Conclusion: stepConcl,
				StartedAt: stepStart, CompletedAt: stepEnd},
		},
	}
}

// jobLog builds a GitHub job log: audit lines before the step, step lines inside its
// window, and trailing lines after it.
func jobLog(audit, inStep, after []string) []byte {
	var b strings.Builder
	stamp := func(t time.Time, l string) {
		fmt.Fprintf(&b, "%s %s\n", t.Format("2006-01-02T15:04:05.0000000Z"), l)
	}
	// Each step's output opens with its "##[group]Run" header, as the runner writes it.
	stamp(stepStart.Add(-5*time.Second), "##[group]Run actions/checkout@v4")
	stamp(stepStart.Add(-5*time.Second), "##[endgroup]")
	stamp(stepStart.Add(-4*time.Second), "##[group]Run pnpm audit --prod")
	stamp(stepStart.Add(-4*time.Second), "##[endgroup]")
	for i, l := range audit {
		stamp(stepStart.Add(-4*time.Second+time.Duration(i)*time.Millisecond), l)
	}
	stamp(stepStart.Add(100*time.Millisecond), "##[group]Run pnpm vitest run "+strings.Join(testFiles, " "))
	stamp(stepStart.Add(100*time.Millisecond), "pnpm vitest run "+strings.Join(testFiles, " "))
	stamp(stepStart.Add(100*time.Millisecond), "##[endgroup]")
	for i, l := range inStep {
		stamp(stepStart.Add(time.Second+time.Duration(i)*time.Millisecond), l)
	}
	for i, l := range after {
		stamp(stepEnd.Add(3*time.Second+time.Duration(i)*time.Millisecond), l)
	}
	return []byte(b.String())
}

var greenVitest = []string{
	"",
	"\x1b[1m\x1b[46m RUN \x1b[49m\x1b[22m \x1b[36mv3.2.4 \x1b[39m\x1b[90m/home/runner/work/agentme/agentme\x1b[39m",
	"",
	" \x1b[32m✓\x1b[39m src/gateway/auth.test.ts \x1b[2m(\x1b[22m\x1b[2m24 tests\x1b[22m\x1b[2m)\x1b[22m\x1b[32m 113\x1b[2mms\x1b[22m\x1b[39m",
	" ✓ src/gateway/tools-invoke-http.test.ts (12 tests) 56ms",
	" ✓ src/gateway/server-http.bootstrap.test.ts (9 tests) 41ms",
	"",
	" Test Files  3 passed (3)",
	"      Tests  45 passed (45)",
}
