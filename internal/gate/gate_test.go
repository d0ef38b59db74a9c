package gate

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	vocab "github.com/agentme/release-action/internal/outcome"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/github"
)

// The real client is what Run is given in production.
var _ GitHub = (*github.Client)(nil)

// securityGreen scripts the jobs API and log of a passing hardening job 501 of run 200.
func securityGreen(f *fakeGH) {
	f.listJobs = func(run int64) ([]github.Job, error) {
		if run != 200 {
			return nil, f.unexpected("ListJobs", run)
		}
		return []github.Job{hardeningJob(501, 200, "success")}, nil
	}
	f.jobLog = func(id int64) ([]byte, error) {
		if id != 501 {
			return nil, f.unexpected("JobLog", id)
		}
		return jobLog([]string{"audit: 0 vulnerabilities"}, greenVitest, []string{"Post job cleanup."}), nil
	}
}

func smokeRuns(run int64, status, concl string) []github.CheckContext {
	var out []github.CheckContext
	for i, mode := range []string{"root", "nonroot", "cli"} {
		c := cr(run+1+int64(i), "install-smoke ("+mode+")", "Install Smoke", run, status, concl)
		c.Event = "workflow_dispatch"
		out = append(out, c)
	}
	return out
}

func TestAllGreenAgentMe(t *testing.T) {
	f := newFake(t)
	var dispatchedAt time.Time
	base := []github.CheckContext{
		cr(101, "check", "CI", 100, "completed", "success"),
		cr(102, "checks (node, test)", "CI", 100, "completed", "success"),
		cr(501, "hardening", "Security Gate", 200, "completed", "success"),
	}
	f.snap = func(now time.Time) []github.CheckContext {
		cs := slices.Clone(base)
		if dispatchedAt.IsZero() {
			return cs
		}
		switch el := now.Sub(dispatchedAt); {
		case el >= 4*time.Minute:
			cs = append(cs, smokeRuns(900, "completed", "success")...)
		case el >= time.Minute:
			cs = append(cs, smokeRuns(900, "in_progress", "")...)
		}
		return cs
	}
	f.listRuns = func(id int64, fl github.RunFilter) ([]github.WorkflowRun, error) {
		assert.Equal(t, int64(77), id)
		assert.Equal(t, github.RunFilter{HeadSHA: testSHA}, fl)
		return nil, nil
	}
	f.branches = func() ([]string, error) { return []string{"release/2026.11", "main"}, nil }
	f.dispatch = func(id int64, ref string, inputs map[string]string) (github.DispatchResult, error) {
		assert.Equal(t, "main", ref)
		dispatchedAt = f.clk.Now()
		return github.DispatchResult{RunID: 900, HTMLURL: "https://github.example/o/r/actions/runs/900"}, nil
	}
	f.getRun = func(id int64) (github.WorkflowRun, error) {
		return github.WorkflowRun{ID: id, HeadSHA: testSHA, HeadBranch: "main", Event: "workflow_dispatch", Status: "queued",
			HTMLURL: "https://github.example/o/r/actions/runs/900"}, nil
	}
	securityGreen(f)
	o, lines := f.opts(gateCheck, gateSecurity, gateSmoke, gateTests)
	res, err := Run(context.Background(), f, o)
	require.NoError(t, err)
	require.Equal(t, Pass, res.Verdict, res.Reason)
	assert.Equal(t, "all 4 gates passed", res.Reason)
	for _, g := range res.Gates {
		assert.Equal(t, Pass, g.Verdict, "%s: %s", g.Name, g.Reason)
	}
	assert.Equal(t, "'check' (CI run 100) succeeded", gateByName(t, res, "check").Reason)
	assert.Equal(t, "run 200 of 'Security Gate' passed (1 job)", gateByName(t, res, "Security Gate").Reason)
	smoke := gateByName(t, res, "Install Smoke")
	assert.Equal(t, "'Install Smoke' dispatched on main as run 900: run 900 of 'Install Smoke' passed (3 jobs)", smoke.Reason)
	require.NotNil(t, smoke.Dispatch)
	assert.Equal(t, DispatchDispatched, smoke.Dispatch.Action)
	assert.Equal(t, "main", smoke.Dispatch.Ref)
	assert.False(t, smoke.Dispatch.TempRef)
	assert.Equal(t, testSHA, smoke.Dispatch.HeadSHA)
	assert.Equal(t, 4*time.Minute, smoke.Duration.D().Truncate(time.Minute), "decided when the run completed")
	assert.Equal(t, "https://github.example/o/r/actions/runs/900", smoke.Link)
	assert.Equal(t, time.Minute, smoke.WaitedQueued.D().Truncate(time.Minute), "the dispatched run had no jobs for a minute")
	assert.Positive(t, smoke.WaitedRunning.D())

	tests := gateByName(t, res, "Targeted bootstrap/auth regressions")
	assert.Equal(t, "3 of 3 test files passed (log) in run 200", tests.Reason)
	require.NotNil(t, tests.Tests)
	for _, fr := range tests.Tests.Files {
		assert.Equal(t, FilePassed, fr.Result, fr.File)
		assert.Equal(t, "log", fr.Source)
	}
	require.Len(t, tests.Tests.Jobs, 1)
	assert.Equal(t, "step", tests.Tests.Jobs[0].LogWindow)
	assert.Equal(t, &Summary{Passed: 3, Total: 3}, tests.Tests.Jobs[0].Summary)

	assert.Equal(t, 1, f.calls["DispatchWorkflow"])
	assert.Equal(t, 1, f.calls["ListJobs"])
	assert.Equal(t, 1, f.calls["JobLog"])
	assert.Zero(t, f.calls["CreateRef"])
	assert.Zero(t, f.calls["DeleteRef"])
	assert.Contains(t, msgs(*lines), "Install Smoke: dispatched 'Install Smoke' on main as run 900")

	// The report's field names are a contract.
	b, err := json.Marshal(res)
	require.NoError(t, err)
	var generic map[string]any
	require.NoError(t, json.Unmarshal(b, &generic))
	for _, k := range []string{"verdict", "reason", "sha", "started", "finished", "duration", "timed_out", "fail_fast", "polls", "gates"} {
		assert.Contains(t, generic, k)
	}
	g0 := generic["gates"].([]any)[2].(map[string]any)
	for _, k := range []string{"name", "kind", "verdict", "reason", "link", "duration", "waited_absent", "waited_queued", "waited_running", "evidence", "dispatch"} {
		assert.Contains(t, g0, k)
	}
	ev := g0["evidence"].([]any)[0].(map[string]any)
	for _, k := range []string{"name", "kind", "workflow", "run_id", "check_run_id", "status", "conclusion", "url", "latest", "verdict"} {
		assert.Contains(t, ev, k)
	}
	var back Result
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, res.Duration, back.Duration)
}

func TestCheckConclusions(t *testing.T) {
	cases := []struct {
		name    string
		ctx     github.CheckContext
		gate    config.Gate
		policy  func(*config.Policy)
		verdict vocab.Verdict
		reason  string
	}{
		{name: "success", ctx: cr(101, "check", "CI", 100, "completed", "success"), verdict: Pass,
			reason: "'check' (CI run 100) succeeded"},
		{name: "skipped fails by default", ctx: cr(101, "check", "CI", 100, "completed", "skipped"), verdict: Fail,
			reason: "'check' (CI run 100): required check was skipped"},
		{name: "skipped passes by policy", ctx: cr(101, "check", "CI", 100, "completed", "skipped"), verdict: Pass,
			policy: func(p *config.Policy) { p.Skipped = "pass" }, reason: "'check' (CI run 100) was skipped (a pass by policy.skipped)"},
		{name: "neutral passes by default", ctx: cr(101, "check", "CI", 100, "completed", "neutral"), verdict: Pass,
			reason: "'check' (CI run 100) concluded neutral (a pass by policy)"},
		{name: "neutral fails by policy", ctx: cr(101, "check", "CI", 100, "completed", "neutral"), verdict: Fail,
			policy: func(p *config.Policy) { p.Neutral = "fail" }, reason: "'check' (CI run 100): concluded neutral, which policy.neutral counts as a failure"},
		{name: "failure", ctx: cr(101, "check", "CI", 100, "completed", "failure"), verdict: Fail, reason: "'check' (CI run 100): failed"},
		{name: "cancelled", ctx: cr(101, "check", "CI", 100, "completed", "cancelled"), verdict: Fail, reason: "'check' (CI run 100): was cancelled"},
		{name: "timed out", ctx: cr(101, "check", "CI", 100, "completed", "timed_out"), verdict: Fail, reason: "'check' (CI run 100): timed out"},
		{name: "action required", ctx: cr(101, "check", "CI", 100, "completed", "action_required"), verdict: Fail, reason: "'check' (CI run 100): needs action (action_required)"},
		{name: "startup failure", ctx: cr(101, "check", "CI", 100, "completed", "startup_failure"), verdict: Fail, reason: "'check' (CI run 100): failed to start (startup_failure)"},
		{name: "stale", ctx: cr(101, "check", "CI", 100, "completed", "stale"), verdict: Fail, reason: "'check' (CI run 100): is stale"},
		{name: "unknown conclusion", ctx: cr(101, "check", "CI", 100, "completed", "xyz"), verdict: Fail, reason: "'check' (CI run 100): conclusion 'xyz' is not a pass"},
		{name: "upper-case spelling is not success", ctx: cr(101, "check", "CI", 100, "completed", "SUCCESS"), verdict: Fail, reason: "'check' (CI run 100): conclusion 'SUCCESS' is not a pass"},
		{name: "completed without conclusion", ctx: cr(101, "check", "CI", 100, "completed", ""), verdict: Fail, reason: "'check' (CI run 100): completed without a conclusion"},
		{name: "status success", ctx: status("ci/legacy", "success"), gate: config.Gate{Name: "legacy", Check: "ci/legacy"}, verdict: Pass,
			reason: "status 'ci/legacy' succeeded"},
		{name: "status error", ctx: status("ci/legacy", "error"), gate: config.Gate{Name: "legacy", Check: "ci/legacy"}, verdict: Fail,
			reason: "status 'ci/legacy': errored"},
		{name: "a status does not satisfy a workflow-restricted gate", ctx: status("check", "success"), verdict: Fail,
			reason: "no check run named 'check' in workflow 'CI' (.github/workflows/ci.yml) appeared within 5m0s (appearance grace): fail closed"},
		{name: "a third-party check run with a glob", ctx: cr(7, "codecov/patch", "", 0, "completed", "success"),
			gate: config.Gate{Name: "coverage", Check: "codecov/*"}, verdict: Pass, reason: "'codecov/patch' (check run 7) succeeded"},
		{name: "a regexp", ctx: cr(101, "check", "CI", 100, "completed", "failure"),
			gate: config.Gate{Name: "re", Check: "re:^che"}, verdict: Fail, reason: "'check' (CI run 100): failed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			f.snap = static(tc.ctx)
			g := tc.gate
			if g.Name == "" {
				g = gateCheck
			}
			o, _ := f.opts(g)
			if tc.policy != nil {
				tc.policy(&o.Policy)
			}
			res, err := Run(context.Background(), f, o)
			require.NoError(t, err)
			assert.Equal(t, tc.verdict, res.Verdict)
			assert.Equal(t, tc.verdict, res.Gates[0].Verdict)
			assert.Equal(t, tc.reason, res.Gates[0].Reason)
			if len(res.Gates[0].Evidence) > 0 {
				assert.Equal(t, tc.ctx.DetailsURL, res.Gates[0].Link)
			} else {
				assert.Empty(t, res.Gates[0].Link)
			}
		})
	}
}

func TestLatestAttemptWins(t *testing.T) {
	cases := []struct {
		name    string
		cs      []github.CheckContext
		gate    config.Gate
		verdict vocab.Verdict
		reason  string
	}{
		{name: "an old failed attempt re-run green", cs: []github.CheckContext{
			cr(101, "check", "CI", 100, "completed", "failure"),
			cr(150, "check", "CI", 100, "completed", "success"),
		}, gate: gateCheck, verdict: Pass, reason: "'check' (CI run 100) succeeded"},
		{name: "an old success, a newer failure", cs: []github.CheckContext{
			cr(150, "check", "CI", 100, "completed", "failure"),
			cr(101, "check", "CI", 100, "completed", "success"),
		}, gate: gateCheck, verdict: Fail, reason: "'check' (CI run 100): failed"},
		{name: "a newer run of the workflow wins", cs: []github.CheckContext{
			cr(101, "check", "CI", 100, "completed", "failure"),
			cr(131, "check", "CI", 130, "completed", "success"),
		}, gate: gateCheck, verdict: Pass, reason: "'check' (CI run 130) succeeded"},
		{name: "the same name in another workflow is excluded by the workflow", cs: []github.CheckContext{
			cr(101, "check", "CI", 100, "completed", "success"),
			cr(401, "check", "Lint", 400, "completed", "failure"),
		}, gate: gateCheck, verdict: Pass, reason: "'check' (CI run 100) succeeded"},
		{name: "without a workflow both must pass", cs: []github.CheckContext{
			cr(101, "check", "CI", 100, "completed", "success"),
			cr(401, "check", "Lint", 400, "completed", "failure"),
		}, gate: config.Gate{Name: "check", Check: "check"}, verdict: Fail, reason: "1 of 2 checks failed: 'check' (Lint run 400): failed"},
		{name: "a workflow gate takes the latest run only", cs: []github.CheckContext{
			cr(201, "hardening", "Security Gate", 200, "completed", "failure"),
			cr(231, "hardening", "Security Gate", 230, "completed", "success"),
		}, gate: gateSecurity, verdict: Pass, reason: "run 230 of 'Security Gate' passed (1 job)"},
		{name: "a workflow gate re-run inside the same run", cs: []github.CheckContext{
			suite(cr(201, "hardening", "Security Gate", 200, "completed", "failure"), "completed", "failure"),
			suite(cr(202, "docs", "Security Gate", 200, "completed", "success"), "completed", "failure"),
			suite(cr(260, "hardening", "Security Gate", 200, "completed", "success"), "completed", "success"),
		}, gate: gateSecurity, verdict: Pass, reason: "run 200 of 'Security Gate' passed (2 jobs)"},
		{name: "a workflow re-run whose newer attempt failed", cs: []github.CheckContext{
			suite(cr(201, "hardening", "Security Gate", 200, "completed", "success"), "completed", "failure"),
			suite(cr(260, "hardening", "Security Gate", 200, "completed", "failure"), "completed", "failure"),
		}, gate: gateSecurity, verdict: Fail, reason: "'hardening' (Security Gate run 200): failed"},
		{name: "jobs passed but the suite concluded failure", cs: []github.CheckContext{
			suite(cr(201, "hardening", "Security Gate", 200, "completed", "success"), "completed", "failure"),
		}, gate: gateSecurity, verdict: Fail, reason: "run 200 of 'Security Gate': its check suite concluded 'failure' (failed)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			f.snap = static(tc.cs...)
			o, _ := f.opts(tc.gate)
			res, err := Run(context.Background(), f, o)
			require.NoError(t, err)
			assert.Equal(t, tc.verdict, res.Verdict, res.Reason)
			assert.Equal(t, tc.reason, res.Gates[0].Reason)
			var superseded int
			for _, e := range res.Gates[0].Evidence {
				if !e.Latest {
					superseded++
					assert.Equal(t, Superseded, e.Verdict)
				}
			}
			if tc.gate.Workflow != "" && len(tc.cs) == 2 && tc.cs[0].RunID == tc.cs[1].RunID && tc.cs[0].Name == tc.cs[1].Name {
				assert.Equal(t, 1, superseded, "the older attempt is listed as superseded")
			}
		})
	}
}

func TestRerunWhileWaitingTurnsGreen(t *testing.T) {
	f := newFake(t)
	f.snap = timeline(
		step{0, []github.CheckContext{cr(101, "check", "CI", 100, "completed", "failure"), cr(501, "hardening", "Security Gate", 200, "in_progress", "")}},
		step{2 * time.Minute, []github.CheckContext{cr(101, "check", "CI", 100, "completed", "failure"), cr(150, "check", "CI", 100, "queued", ""),
			cr(501, "hardening", "Security Gate", 200, "in_progress", "")}},
		step{6 * time.Minute, []github.CheckContext{cr(101, "check", "CI", 100, "completed", "failure"), cr(150, "check", "CI", 100, "completed", "success"),
			cr(501, "hardening", "Security Gate", 200, "completed", "success")}},
	)
	o, lines := f.opts(gateCheck, gateSecurity)
	o.Policy.FailFast = fast(false)
	res, err := Run(context.Background(), f, o)
	require.NoError(t, err)
	assert.Equal(t, Pass, res.Verdict, res.Reason)
	assert.Contains(t, msgs(*lines), "check: fail: 'check' (CI run 100): failed")
	assert.Contains(t, msgs(*lines), "check: 'check' queued (run 100)")
	assert.Contains(t, msgs(*lines), "check: pass: 'check' (CI run 100) succeeded")
	assert.Equal(t, 6*time.Minute, gateByName(t, res, "check").Duration.D().Truncate(time.Minute), "decided when the re-run passed")
}

func TestOwnJobIgnored(t *testing.T) {
	own := cr(4001, "check", "Release", 4000, "in_progress", "")
	ci := cr(101, "check", "CI", 100, "completed", "success")
	cases := []struct {
		name string
		self Self
		jobs []github.Job
		gate config.Gate
	}{
		{name: "by runner name", self: Self{RunID: 4000, RunnerName: "GitHub Actions 12", JobKey: "release-gate"},
			jobs: []github.Job{
				{ID: 4001, RunID: 4000, Name: "check", Status: "in_progress", RunnerName: "GitHub Actions 12"},
				{ID: 4002, RunID: 4000, Name: "build", Status: "in_progress", RunnerName: "GitHub Actions 13"},
			}, gate: config.Gate{Name: "check", Check: "check"}},
		{name: "by job key when the runner is not listed", self: Self{RunID: 4000, RunnerName: "elsewhere", JobKey: "check"},
			jobs: []github.Job{{ID: 4001, RunID: 4000, Name: "check", Status: "queued"}},
			gate: config.Gate{Name: "check", Check: "check"}},
		{name: "a glob that matches everything", self: Self{RunID: 4000, RunnerName: "GitHub Actions 12"},
			jobs: []github.Job{{ID: 4001, RunID: 4000, Name: "check", Status: "in_progress", RunnerName: "GitHub Actions 12"}},
			gate: config.Gate{Name: "everything", Check: "*"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			f.snap = static(own, ci)
			f.listJobs = func(run int64) ([]github.Job, error) {
				require.Equal(t, int64(4000), run)
				return tc.jobs, nil
			}
			o, _ := f.opts(tc.gate)
			o.Self = tc.self
			res, err := Run(context.Background(), f, o)
			require.NoError(t, err)
			assert.Equal(t, Pass, res.Verdict, res.Reason)
			assert.Equal(t, 1, res.Polls, "decided at once, not waiting on itself")
			for _, e := range res.Gates[0].Evidence {
				assert.NotEqual(t, int64(4001), e.CheckRunID)
			}
			assert.Equal(t, 1, f.calls["ListJobs"], "the own job is looked up once")
		})
	}
	t.Run("without self the gate waits on its own job", func(t *testing.T) {
		f := newFake(t)
		f.snap = static(own, ci)
		o, _ := f.opts(config.Gate{Name: "check", Check: "check"})
		o.Policy.Timeout = config.Duration(2 * time.Minute)
		res, err := Run(context.Background(), f, o)
		require.NoError(t, err)
		assert.Equal(t, Fail, res.Verdict)
		assert.True(t, res.TimedOut)
	})
	t.Run("a workflow gate on the gate's own workflow", func(t *testing.T) {
		f := newFake(t)
		f.snap = static(own, cr(4002, "build", "Release", 4000, "completed", "success"))
		f.listJobs = func(int64) ([]github.Job, error) {
			return []github.Job{{ID: 4001, Name: "check", Status: "in_progress", RunnerName: "r1"}}, nil
		}
		o, _ := f.opts(config.Gate{Name: "release", Workflow: "Release"})
		o.Self = Self{RunID: 4000, RunnerName: "r1"}
		res, err := Run(context.Background(), f, o)
		require.NoError(t, err)
		assert.Equal(t, Fail, res.Verdict)
		assert.Contains(t, res.Gates[0].Reason, "is the gate's own run 4000: a workflow cannot gate itself")
	})
	t.Run("ignore patterns", func(t *testing.T) {
		f := newFake(t)
		f.snap = static(cr(101, "check", "CI", 100, "completed", "success"), cr(9, "release-gate", "", 0, "in_progress", ""))
		o, _ := f.opts(config.Gate{Name: "all", Check: "*"})
		o.Policy.Ignore = []string{"release-*"}
		res, err := Run(context.Background(), f, o)
		require.NoError(t, err)
		assert.Equal(t, Pass, res.Verdict)
	})
	t.Run("self check run ids", func(t *testing.T) {
		f := newFake(t)
		f.snap = static(cr(101, "check", "CI", 100, "completed", "success"), cr(9, "release-gate", "", 0, "in_progress", ""))
		o, _ := f.opts(config.Gate{Name: "all", Check: "*"})
		o.Self = Self{CheckRunIDs: []int64{9}}
		res, err := Run(context.Background(), f, o)
		require.NoError(t, err)
		assert.Equal(t, Pass, res.Verdict)
	})
}

func TestNeverStartsOrNeverAppears(t *testing.T) {
	t.Run("a check that stays queued fails at the timeout, saying queued", func(t *testing.T) {
		f := newFake(t)
		f.snap = static(cr(101, "check", "CI", 100, "queued", ""))
		o, lines := f.opts(gateCheck)
		res, err := Run(context.Background(), f, o)
		require.NoError(t, err)
		assert.Equal(t, Fail, res.Verdict)
		assert.True(t, res.TimedOut)
		assert.Equal(t, t0.Add(45*time.Minute), res.Finished)
		g := res.Gates[0]
		assert.Equal(t, Fail, g.Verdict)
		assert.Equal(t, "timed out after 45m0s waiting for 'check' (CI run 100), queued for 45m0s (no runner has picked it up)", g.Reason)
		assert.Equal(t, 45*time.Minute, g.WaitedQueued.D())
		assert.Zero(t, g.WaitedRunning.D())
		assert.Equal(t, "timed out after 45m0s: blocked by 1 of 1 gate: check ("+g.Reason+")", res.Reason)
		assert.Contains(t, msgs(*lines), "queued for 20m")
		// Never silent for more than a minute.
		prev := t0
		for _, l := range *lines {
			assert.LessOrEqual(t, l.at.Sub(prev), time.Minute, "silent before %q", l.msg)
			prev = l.at
		}
		assert.Equal(t, t0.Add(45*time.Minute), prev, "the last line is the verdict")
	})
	t.Run("zero checks fail closed after the appearance grace", func(t *testing.T) {
		f := newFake(t)
		f.snap = static()
		o, _ := f.opts(gateCheck)
		res, err := Run(context.Background(), f, o)
		require.NoError(t, err)
		assert.Equal(t, Fail, res.Verdict)
		assert.False(t, res.TimedOut)
		assert.Equal(t, t0.Add(5*time.Minute), res.Finished, "decided exactly at the end of the grace")
		assert.Equal(t, "no check run named 'check' in workflow 'CI' (.github/workflows/ci.yml) appeared within 5m0s (appearance grace): fail closed", res.Gates[0].Reason)
		assert.Equal(t, 5*time.Minute, res.Gates[0].WaitedAbsent.D())
	})
	t.Run("zero checks of a gate without workflow", func(t *testing.T) {
		f := newFake(t)
		f.snap = static(cr(1, "unrelated", "CI", 1, "completed", "success"))
		o, _ := f.opts(config.Gate{Name: "check", Check: "check"})
		res, err := Run(context.Background(), f, o)
		require.NoError(t, err)
		assert.Equal(t, Fail, res.Verdict)
		assert.Equal(t, "no check run or status named 'check' appeared within 5m0s (appearance grace): fail closed", res.Gates[0].Reason)
	})
	t.Run("a check that appears within the grace is waited for", func(t *testing.T) {
		f := newFake(t)
		f.snap = timeline(step{4 * time.Minute, []github.CheckContext{cr(101, "check", "CI", 100, "in_progress", "")}},
			step{20 * time.Minute, []github.CheckContext{cr(101, "check", "CI", 100, "completed", "success")}})
		o, _ := f.opts(gateCheck)
		res, err := Run(context.Background(), f, o)
		require.NoError(t, err)
		assert.Equal(t, Pass, res.Verdict)
		g := res.Gates[0]
		assert.Equal(t, 4*time.Minute, g.WaitedAbsent.D().Truncate(time.Minute))
		assert.Equal(t, 16*time.Minute, g.WaitedRunning.D().Truncate(time.Minute))
	})
	t.Run("an in-progress check at the timeout", func(t *testing.T) {
		f := newFake(t)
		f.snap = static(startedAt(cr(101, "check", "CI", 100, "in_progress", ""), t0.Add(-10*time.Minute)))
		o, _ := f.opts(gateCheck)
		o.Policy.Timeout = config.Duration(10 * time.Minute)
		res, err := Run(context.Background(), f, o)
		require.NoError(t, err)
		assert.Equal(t, "timed out after 10m0s waiting for 'check' (CI run 100), in progress for 20m0s", res.Gates[0].Reason)
	})
	t.Run("a pending status context", func(t *testing.T) {
		f := newFake(t)
		f.snap = static(status("ci/legacy", "pending"))
		o, _ := f.opts(config.Gate{Name: "legacy", Check: "ci/legacy"})
		o.Policy.Timeout = config.Duration(10 * time.Minute)
		res, err := Run(context.Background(), f, o)
		require.NoError(t, err)
		assert.Equal(t, "timed out after 10m0s waiting for status 'ci/legacy', pending for 10m0s", res.Gates[0].Reason)
	})
}

func TestFailFast(t *testing.T) {
	snap := timeline(
		step{0, []github.CheckContext{cr(101, "check", "CI", 100, "completed", "failure"), cr(501, "hardening", "Security Gate", 200, "in_progress", "")}},
		step{3 * time.Minute, []github.CheckContext{cr(101, "check", "CI", 100, "completed", "failure"), cr(501, "hardening", "Security Gate", 200, "completed", "success")}},
	)
	t.Run("stops at the first failure", func(t *testing.T) {
		f := newFake(t)
		f.snap = snap
		o, _ := f.opts(gateCheck, gateSecurity, gateSmoke)
		res, err := Run(context.Background(), f, o)
		require.NoError(t, err)
		assert.Equal(t, Fail, res.Verdict)
		assert.True(t, res.FailFast)
		assert.Equal(t, 1, res.Polls)
		assert.Equal(t, t0, res.Finished)
		assert.Equal(t, Fail, res.Gates[0].Verdict)
		sec := res.Gates[1]
		assert.Equal(t, Pending, sec.Verdict)
		assert.Equal(t, "not evaluated: the gate stopped at the first failure", sec.Reason)
		assert.Equal(t, Pending, res.Gates[2].Verdict)
		assert.Zero(t, f.calls["ListWorkflowRuns"]+f.calls["DispatchWorkflow"], "nothing is dispatched once a gate failed")
		assert.Equal(t, "blocked by 1 of 3 gates: check ('check' (CI run 100): failed)", res.Reason)
	})
	t.Run("without fail-fast every gate is decided", func(t *testing.T) {
		f := newFake(t)
		f.snap = snap
		o, _ := f.opts(gateCheck, gateSecurity)
		o.Policy.FailFast = fast(false)
		res, err := Run(context.Background(), f, o)
		require.NoError(t, err)
		assert.Equal(t, Fail, res.Verdict)
		assert.False(t, res.FailFast)
		assert.Equal(t, Fail, res.Gates[0].Verdict)
		assert.Equal(t, Pass, res.Gates[1].Verdict)
		assert.GreaterOrEqual(t, res.Finished.Sub(t0), 3*time.Minute)
		assert.Zero(t, res.Gates[0].Duration.D(), "check was decided at once")
	})
}

func TestAPIErrorIsAnError(t *testing.T) {
	boom := errors.New("502 bad gateway after 5 attempts")
	t.Run("snapshot", func(t *testing.T) {
		f := newFake(t)
		f.snap = static(cr(101, "check", "CI", 100, "queued", ""))
		f.snapErrAt = func(n int) error {
			if n == 3 {
				return boom
			}
			return nil
		}
		o, _ := f.opts(gateCheck)
		res, err := Run(context.Background(), f, o)
		require.ErrorIs(t, err, boom)
		assert.Nil(t, res, "an API error is never a verdict")
		assert.Contains(t, err.Error(), "read the check runs of commit "+testSHA)
	})
	t.Run("job log", func(t *testing.T) {
		f := newFake(t)
		f.snap = static(cr(501, "hardening", "Security Gate", 200, "completed", "success"))
		f.listJobs = func(int64) ([]github.Job, error) { return []github.Job{hardeningJob(501, 200, "success")}, nil }
		f.jobLog = func(int64) ([]byte, error) { return nil, boom }
		o, _ := f.opts(gateTests)
		res, err := Run(context.Background(), f, o)
		require.ErrorIs(t, err, boom)
		assert.Nil(t, res)
		assert.Contains(t, err.Error(), "read the log of job 501")
	})
	t.Run("own jobs falls back to the job key", func(t *testing.T) {
		// Finding its own job only sharpens what is ignored: a failure there must not
		// block the gate, and the job-key fallback still keeps the gate off itself.
		f := newFake(t)
		f.listJobs = func(int64) ([]github.Job, error) { return nil, boom }
		own := cr(900, "release-gate", "Release", 4000, "in_progress", "")
		f.snap = static(cr(101, "check", "CI", 100, "completed", "success"), own)
		o, _ := f.opts(config.Gate{Name: "everything", Check: "*"})
		o.Self = Self{RunID: 4000, RunnerName: "r", JobKey: "release-gate"}
		res, err := Run(context.Background(), f, o)
		require.NoError(t, err)
		assert.Equal(t, Pass, res.Verdict, "the gate's own in-progress job is not waited for")
	})
	t.Run("cancelled context", func(t *testing.T) {
		f := newFake(t)
		ctx, cancel := context.WithCancel(context.Background())
		f.snap = func(time.Time) []github.CheckContext {
			if f.calls["Snapshot"] == 2 {
				cancel()
			}
			return []github.CheckContext{cr(101, "check", "CI", 100, "queued", "")}
		}
		o, _ := f.opts(gateCheck)
		res, err := Run(ctx, f, o)
		require.ErrorIs(t, err, context.Canceled)
		assert.Nil(t, res)
	})
}

// TestPacedByCost: polls are paced by what they cost, not by whether anything changed.
// Free polls (every REST page a 304) come every MinInterval whatever the commit's size;
// paid work after a change stretches the wait by a second per billed request or point;
// paid polls that saw no change (a server without ETags) by 15s each, so a minute of
// waiting on an unchanged commit costs at most 4 of them.
func TestPacedByCost(t *testing.T) {
	ms := func(v float64) time.Duration { return time.Duration(v * float64(time.Second)) }
	queued := static(cr(101, "check", "CI", 100, "queued", ""))
	cases := []struct {
		name    string
		snap    func(time.Time) []github.CheckContext
		paid    int // billed per poll
		timeout time.Duration
		maxI    time.Duration
		appear  time.Duration
		want    []time.Duration
	}{
		{name: "free polls come every MinInterval", snap: queued, timeout: 30 * time.Second,
			want: []time.Duration{ms(5), ms(5), ms(5), ms(5), ms(5), ms(5)}},
		{name: "paid polls on an unchanged commit: 15s per unit", snap: queued, paid: 2, timeout: 2 * time.Minute,
			want: []time.Duration{ms(5), ms(30), ms(30), ms(30), ms(25)}},
		{name: "paid polls after a change: 1s per unit", paid: 7, timeout: 40 * time.Second,
			snap: func(now time.Time) []github.CheckContext {
				// A new job every second: every poll sees a change.
				return []github.CheckContext{cr(101, "check", "CI", 100, "in_progress", ""), cr(1000+int64(now.Sub(t0)/time.Second), "other", "CI", 100, "in_progress", "")}
			},
			want: []time.Duration{ms(7), ms(7), ms(7), ms(7), ms(7), ms(5)}},
		{name: "never silent for a minute", snap: queued, paid: 10, timeout: 3 * time.Minute, maxI: 10 * time.Minute,
			want: []time.Duration{ms(10), maxSilent, maxSilent, maxSilent, ms(5)}},
		{name: "never sleeps past an appearance deadline", snap: static(), timeout: time.Hour, appear: 12 * time.Second,
			want: []time.Duration{ms(5), ms(5), ms(2)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			f.snap = tc.snap
			f.paidPerPoll = tc.paid
			o, _ := f.opts(gateCheck)
			o.Policy.Timeout = config.Duration(tc.timeout)
			if tc.appear > 0 {
				o.Policy.AppearTimeout = config.Duration(tc.appear)
			}
			if tc.maxI > 0 {
				o.MaxInterval = tc.maxI
			}
			_, err := Run(context.Background(), f, o)
			require.NoError(t, err)
			assert.Equal(t, tc.want, f.clk.sleeps)
		})
	}
}

func TestInvalidOptions(t *testing.T) {
	cases := []struct {
		name string
		mod  func(*Options)
	}{
		{"short sha", func(o *Options) { o.SHA = "0123456" }},
		{"not hex", func(o *Options) { o.SHA = strings.Repeat("z", 40) }},
		{"no gates", func(o *Options) { o.Gates = nil }},
		{"bad glob", func(o *Options) { o.Gates = []config.Gate{{Name: "x", Check: "check["}} }},
		{"bad regexp", func(o *Options) { o.Gates = []config.Gate{{Name: "x", Check: "re:("}} }},
		{"empty regexp", func(o *Options) { o.Gates = []config.Gate{{Name: "x", Check: "re:"}} }},
		{"bad ignore", func(o *Options) { o.Policy.Ignore = []string{"re:("} }},
		{"bad skipped policy", func(o *Options) { o.Policy.Skipped = "maybe" }},
		{"bad neutral policy", func(o *Options) { o.Policy.Neutral = "maybe" }},
		{"a gate without name", func(o *Options) { o.Gates = []config.Gate{{Check: "check"}} }},
		{"a gate with nothing", func(o *Options) { o.Gates = []config.Gate{{Name: "x"}} }},
		{"dispatch on a check gate", func(o *Options) { o.Gates = []config.Gate{{Name: "x", Check: "c", Dispatch: true}} }},
		{"tests without files", func(o *Options) {
			o.Gates = []config.Gate{{Name: "x", Tests: &config.TestsGate{Workflow: "W", Job: "j"}}}
		}},
		{"tests with a bad reporter", func(o *Options) {
			o.Gates = []config.Gate{{Name: "x", Tests: &config.TestsGate{Workflow: "W", Job: "j", Files: []string{"a"}, Reporter: "mocha"}}}
		}},
		{"a run key that breaks the branch name", func(o *Options) { o.RunKey = "a b" }},
		{"a prefix that breaks the branch name", func(o *Options) { o.TempRefPrefix = "x..y/" }},
		{"negative timeout", func(o *Options) { o.Policy.Timeout = -1 }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			o, _ := f.opts(gateCheck)
			tc.mod(&o)
			res, err := Run(context.Background(), f, o)
			require.ErrorIs(t, err, vocab.ErrBadInput)
			assert.Nil(t, res)
			assert.Empty(t, f.callLog, "nothing is asked of GitHub")
		})
	}
}

func TestDefaults(t *testing.T) {
	f := newFake(t)
	f.snap = static()
	o, _ := f.opts(gateCheck)
	o.Policy = config.Policy{}
	o.MinInterval, o.MaxInterval, o.Progress = 0, 0, nil
	res, err := Run(context.Background(), f, o)
	require.NoError(t, err)
	assert.Equal(t, t0.Add(DefaultAppearTimeout), res.Finished)
	assert.Equal(t, DefaultMinInterval, f.clk.sleeps[0])
	assert.LessOrEqual(t, slices.Max(f.clk.sleeps), DefaultMaxInterval)
}

func TestUntrustedNamesAreCleaned(t *testing.T) {
	f := newFake(t)
	evil := "check\n::set-output name=result::pass"
	f.snap = static(cr(101, evil, "CI\r\n::error::x", 100, "completed", "failure"))
	o, lines := f.opts(config.Gate{Name: "any", Check: "check*"})
	res, err := Run(context.Background(), f, o)
	require.NoError(t, err)
	assert.Equal(t, Fail, res.Verdict)
	assert.NotContains(t, res.Gates[0].Reason, "\n")
	for _, l := range *lines {
		assert.NotContains(t, l.msg, "\n")
		assert.NotContains(t, l.msg, "\r")
	}
	assert.Equal(t, evil, res.Gates[0].Evidence[0].Name, "evidence keeps the raw name; renderers escape it")
}

func TestWorkflowGateWaitsForTheRunToComplete(t *testing.T) {
	first := suite(cr(501, "hardening", "Security Gate", 200, "completed", "success"), "in_progress", "")
	f := newFake(t)
	f.snap = timeline(
		step{0, []github.CheckContext{first}},
		step{2 * time.Minute, []github.CheckContext{first, suite(cr(502, "report", "Security Gate", 200, "in_progress", ""), "in_progress", "")}},
		step{4 * time.Minute, []github.CheckContext{
			suite(cr(501, "hardening", "Security Gate", 200, "completed", "success"), "completed", "failure"),
			suite(cr(502, "report", "Security Gate", 200, "completed", "failure"), "completed", "failure"),
		}},
	)
	// While every job shown passed but the suite is open, the run itself is asked, at
	// most once per runReread (a conditional read: free while the run is unchanged).
	f.getRun = func(id int64) (github.WorkflowRun, error) {
		return github.WorkflowRun{ID: id, HeadSHA: testSHA, Status: "in_progress"}, nil
	}
	o, lines := f.opts(gateSecurity)
	res, err := Run(context.Background(), f, o)
	require.NoError(t, err)
	assert.Equal(t, Fail, res.Verdict)
	assert.GreaterOrEqual(t, f.calls["GetWorkflowRun"], 2, "asked while the second job had not appeared")
	assert.LessOrEqual(t, f.calls["GetWorkflowRun"], int(2*time.Minute/runReread)+1, "at most once per runReread")
	assert.Equal(t, "1 of 2 jobs failed: 'report' (Security Gate run 200): failed", res.Gates[0].Reason)
	out := msgs(*lines)
	assert.Contains(t, out, "Security Gate: run 200: 1 job passed, the run is in_progress")
	assert.Contains(t, out, "Security Gate: 'report' in_progress (run 200)")
	assert.Equal(t, 4*time.Minute, res.Finished.Sub(t0).Truncate(time.Minute))
}

func TestAppearanceGraceIsFinal(t *testing.T) {
	f := newFake(t)
	f.snap = timeline(
		step{0, []github.CheckContext{cr(501, "hardening", "Security Gate", 200, "in_progress", "")}},
		step{6 * time.Minute, []github.CheckContext{cr(101, "check", "CI", 100, "completed", "success"),
			cr(501, "hardening", "Security Gate", 200, "in_progress", "")}},
		step{8 * time.Minute, []github.CheckContext{cr(101, "check", "CI", 100, "completed", "success"),
			cr(501, "hardening", "Security Gate", 200, "completed", "success")}},
	)
	o, _ := f.opts(gateCheck, gateSecurity)
	o.Policy.FailFast = fast(false)
	res, err := Run(context.Background(), f, o)
	require.NoError(t, err)
	assert.Equal(t, Fail, res.Verdict, "a check that shows up after the grace does not undo the fail-closed decision")
	assert.Equal(t, Fail, res.Gates[0].Verdict)
	assert.Contains(t, res.Gates[0].Reason, "appeared within 5m0s (appearance grace): fail closed")
	assert.Equal(t, 5*time.Minute, res.Gates[0].Duration.D())
	assert.Equal(t, Pass, res.Gates[1].Verdict)
}

func TestEvidenceThatVanishesIsWaitedFor(t *testing.T) {
	f := newFake(t)
	f.snap = timeline(
		step{0, []github.CheckContext{cr(101, "check", "CI", 100, "in_progress", "")}},
		step{time.Minute, nil},
		step{10 * time.Minute, []github.CheckContext{cr(101, "check", "CI", 100, "completed", "success")}},
	)
	o, lines := f.opts(gateCheck)
	res, err := Run(context.Background(), f, o)
	require.NoError(t, err)
	assert.Equal(t, Pass, res.Verdict)
	assert.Contains(t, msgs(*lines), "check: the check run named 'check' in workflow 'CI' (.github/workflows/ci.yml) is gone; waiting for it to appear again")
}

func TestProgressOnlyOnChange(t *testing.T) {
	f := newFake(t)
	f.snap = static(cr(101, "check", "CI", 100, "queued", ""))
	o, lines := f.opts(gateCheck)
	o.Policy.Timeout = config.Duration(10 * time.Minute)
	_, err := Run(context.Background(), f, o)
	require.NoError(t, err)
	var state, still int
	for _, l := range *lines {
		switch {
		case l.msg == "check: 'check' queued (run 100)":
			state++
		case strings.HasPrefix(l.msg, "still waiting ("):
			still++
			assert.Contains(t, l.msg, "check: waiting for 'check' (CI run 100), queued for")
		}
	}
	assert.Equal(t, 1, state, "one line per state change")
	assert.GreaterOrEqual(t, still, 10)
}
