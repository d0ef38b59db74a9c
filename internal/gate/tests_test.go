package gate

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	vocab "github.com/agentme/release-action/internal/outcome"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/github"
)

func zipOf(t testing.TB, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range files {
		w, err := zw.Create(name)
		require.NoError(t, err)
		_, err = w.Write([]byte(body))
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

const junitGreen = `<?xml version="1.0" encoding="UTF-8" ?>
<testsuites name="vitest tests" tests="4" failures="0" errors="0">
  <testsuite name="src/gateway/auth.test.ts" tests="2" failures="0" errors="0" skipped="0">
    <testcase classname="src/gateway/auth.test.ts" name="auth &gt; accepts a good token" time="0.01"/>
    <testcase classname="src/gateway/auth.test.ts" name="auth &gt; refuses a bad token" time="0.01"/>
  </testsuite>
  <testsuite name="src/gateway/tools-invoke-http.test.ts" tests="1" failures="0" errors="0" skipped="0">
    <testcase classname="src/gateway/tools-invoke-http.test.ts" name="invokes" time="0.01"/>
  </testsuite>
  <testsuite name="src/gateway/server-http.bootstrap.test.ts" tests="1" failures="0" errors="0" skipped="0">
    <testcase classname="src/gateway/server-http.bootstrap.test.ts" name="exchanges once" time="0.01"/>
  </testsuite>
</testsuites>`

const junitAuthFails = `<testsuites>
  <testsuite name="src/gateway/auth.test.ts" tests="2" failures="1">
    <testcase classname="src/gateway/auth.test.ts" name="accepts"/>
    <testcase classname="src/gateway/auth.test.ts" name="refuses"><failure message="expected 401">AssertionError</failure></testcase>
  </testsuite>
</testsuites>`

func TestTestsGate(t *testing.T) {
	withStep := func(step string) []github.Job {
		return []github.Job{hardeningJob(501, 200, step)}
	}
	cases := []struct {
		name     string
		gate     func(*config.TestsGate)
		jobs     []github.Job
		audit    []string
		inStep   []string
		after    []string
		zip      []byte
		noArt    bool
		verdict  vocab.Verdict
		reason   string
		files    []string // expected result per configured file
		sources  []string
		notes    []string
		runCheck github.CheckContext
		logErr   error
	}{
		{name: "all green", inStep: greenVitest, verdict: Pass,
			reason: "3 of 3 test files passed (log) in run 200",
			files:  []string{FilePassed, FilePassed, FilePassed}, sources: []string{"log", "log", "log"}},
		{name: "a targeted file fails", inStep: []string{
			" ❯ src/gateway/auth.test.ts (24 tests | 1 failed) 120ms",
			"   × auth > refuses a revoked token 3ms",
			" ✓ src/gateway/tools-invoke-http.test.ts (12 tests) 56ms",
			" ✓ src/gateway/server-http.bootstrap.test.ts (9 tests) 41ms",
			" FAIL  src/gateway/auth.test.ts > auth > refuses a revoked token",
			" Test Files  1 failed | 2 passed (3)",
		}, jobs: withStep("failure"), verdict: Fail,
			reason: "step 'Security regression tests' of job 'hardening' concluded 'failure'; 1 of 3 test files failed: src/gateway/auth.test.ts",
			files:  []string{FileFailed, FilePassed, FilePassed}, sources: []string{"log", "log", "log"}},
		{name: "a file failing only in FAIL lines still fails", inStep: []string{
			" ✓ src/gateway/auth.test.ts (24 tests) 113ms",
			" ✓ src/gateway/tools-invoke-http.test.ts (12 tests) 56ms",
			" ✓ src/gateway/server-http.bootstrap.test.ts (9 tests) 41ms",
			" FAIL  src/gateway/auth.test.ts [ src/gateway/auth.test.ts ]",
		}, verdict: Fail, reason: "1 of 3 test files failed: src/gateway/auth.test.ts",
			files: []string{FileFailed, FilePassed, FilePassed}},
		{name: "a targeted file did not run", inStep: []string{
			" ✓ src/gateway/auth.test.ts (24 tests) 113ms",
			" ✓ src/gateway/tools-invoke-http.test.ts (12 tests) 56ms",
			" Test Files  2 passed (2)",
		}, verdict: Fail, reason: "src/gateway/server-http.bootstrap.test.ts did not run",
			files: []string{FilePassed, FilePassed, FileDidNotRun}},
		{name: "two files did not run", inStep: []string{" ✓ src/gateway/auth.test.ts (24 tests) 113ms"}, verdict: Fail,
			reason: "2 of 3 test files did not run: src/gateway/tools-invoke-http.test.ts, src/gateway/server-http.bootstrap.test.ts"},
		{name: "a pass line printed by another step does not count",
			audit:   []string{" ✓ src/gateway/server-http.bootstrap.test.ts (9 tests) 41ms"},
			inStep:  greenVitest[:5],
			after:   []string{" ✓ src/gateway/server-http.bootstrap.test.ts (9 tests) 41ms"},
			verdict: Fail, reason: "src/gateway/server-http.bootstrap.test.ts ran in step 'Security audit (deep)', not in 'Security regression tests' (job 'hardening' (job 501): 2 lines in the output of step 'Security regression tests' stamped outside the step's time (from the jobs API) not read)",
			notes: []string{"job 'hardening' (job 501): 2 lines in the output of step 'Security regression tests' stamped outside the step's time (from the jobs API) not read"}},
		{name: "a file whose tests were all skipped is skipped, which proves nothing", inStep: []string{
			" ✓ src/gateway/auth.test.ts (24 tests) 113ms",
			" ✓ src/gateway/tools-invoke-http.test.ts (12 tests) 56ms",
			" ↓ src/gateway/server-http.bootstrap.test.ts (9 tests | 9 skipped)",
		}, verdict: Fail, reason: "src/gateway/server-http.bootstrap.test.ts was skipped (all its tests were skipped, so it proves nothing)"},
		{name: "a substring of a path is not the file", inStep: []string{
			" ✓ src/gateway/auth.test.ts (24 tests) 113ms",
			" ✓ src/gateway/tools-invoke-http.test.ts (12 tests) 56ms",
			" ✓ src/gateway/server-http.bootstrap.test.ts.bak (9 tests) 41ms",
			" ✓ old-src/gateway/server-http.bootstrap.test.ts (9 tests) 41ms",
		}, verdict: Fail, reason: "src/gateway/server-http.bootstrap.test.ts did not run"},
		{name: "a monorepo prefix is the file", inStep: []string{
			" ✓ |gateway| packages/gw/src/gateway/auth.test.ts (24 tests) 113ms",
			" ✓ packages/gw/src/gateway/tools-invoke-http.test.ts (12 tests) 56ms",
			" √ ./packages/gw/src/gateway/server-http.bootstrap.test.ts (9 tests) 41ms",
		}, verdict: Pass, reason: "3 of 3 test files passed (log) in run 200"},
		{name: "a test case line is not a file line", inStep: []string{
			" ✓ src/gateway/auth.test.ts (24 tests) 113ms",
			" ✓ src/gateway/tools-invoke-http.test.ts (12 tests) 56ms",
			"   ✓ src/gateway/server-http.bootstrap.test.ts 3ms",
		}, verdict: Fail, reason: "src/gateway/server-http.bootstrap.test.ts did not run"},
		{name: "the step was skipped", jobs: withStep("skipped"), inStep: greenVitest, verdict: Fail,
			reason: "step 'Security regression tests' of job 'hardening' was skipped; 3 of 3 test files did not run: src/gateway/auth.test.ts, src/gateway/tools-invoke-http.test.ts, src/gateway/server-http.bootstrap.test.ts"},
		{name: "the step is missing", jobs: []github.Job{{ID: 501, RunID: 200, Name: "hardening", Status: "completed", Conclusion: "success",
			Steps: []github.Step{{Name: "Checkout", Status: "completed", Conclusion: "success"}}}},
			verdict: Fail, reason: "step 'Security regression tests' not found in job 'hardening' (job 501); 3 of 3 test files did not run: src/gateway/auth.test.ts, src/gateway/tools-invoke-http.test.ts, src/gateway/server-http.bootstrap.test.ts"},
		{name: "jest reporter", gate: func(g *config.TestsGate) { g.Reporter = ReporterJest }, inStep: []string{
			" PASS  src/gateway/auth.test.ts (1.2 s)",
			" PASS  src/gateway/tools-invoke-http.test.ts",
			" FAIL  src/gateway/server-http.bootstrap.test.ts (2.1 s)",
			"Test Suites: 1 failed, 2 passed, 3 total",
		}, verdict: Fail, reason: "1 of 3 test files failed: src/gateway/server-http.bootstrap.test.ts",
			files: []string{FilePassed, FilePassed, FileFailed}},
		{name: "the vitest reporter ignores jest pass lines", gate: func(g *config.TestsGate) { g.Reporter = ReporterVitest }, inStep: []string{
			" ✓ src/gateway/auth.test.ts (24 tests) 113ms",
			" ✓ src/gateway/tools-invoke-http.test.ts (12 tests) 56ms",
			" PASS  src/gateway/server-http.bootstrap.test.ts",
		}, verdict: Fail, reason: "src/gateway/server-http.bootstrap.test.ts did not run"},
		{name: "junit only", gate: func(g *config.TestsGate) { g.Step, g.JUnitArtifact = "", "vitest-junit" },
			zip: zipOf(t, map[string]string{"junit/report.xml": junitGreen, "README.txt": "x"}), verdict: Pass,
			reason: "3 of 3 test files passed (junit) in run 200", sources: []string{"junit", "junit", "junit"}},
		{name: "junit and log: a failure in either fails", gate: func(g *config.TestsGate) { g.JUnitArtifact = "vitest-junit" },
			inStep: greenVitest, zip: zipOf(t, map[string]string{"report.xml": junitAuthFails}), verdict: Fail,
			reason: "1 of 3 test files failed: src/gateway/auth.test.ts",
			files:  []string{FileFailed, FilePassed, FilePassed}, sources: []string{"junit", "log", "log"}},
		{name: "junit and log: passing in both", gate: func(g *config.TestsGate) { g.JUnitArtifact = "vitest-junit" },
			inStep: greenVitest, zip: zipOf(t, map[string]string{"report.xml": junitGreen}), verdict: Pass,
			reason: "3 of 3 test files passed (junit, log) in run 200", sources: []string{"log+junit", "log+junit", "log+junit"}},
		{name: "a missing artifact is a note; the log still proves", gate: func(g *config.TestsGate) { g.JUnitArtifact = "vitest-junit" },
			inStep: greenVitest, noArt: true, verdict: Pass, reason: "3 of 3 test files passed (log) in run 200",
			notes: []string{"no JUnit artifact 'vitest-junit' in run 200"}},
		{name: "a missing artifact and no log proves nothing", gate: func(g *config.TestsGate) { g.Step, g.JUnitArtifact = "", "vitest-junit" },
			noArt: true, verdict: Fail, notes: []string{"no JUnit artifact 'vitest-junit' in run 200"},
			reason: "3 of 3 test files did not run: src/gateway/auth.test.ts, src/gateway/tools-invoke-http.test.ts, src/gateway/server-http.bootstrap.test.ts (no JUnit artifact 'vitest-junit' in run 200)"},
		{name: "a broken artifact is a note", gate: func(g *config.TestsGate) { g.Step, g.JUnitArtifact = "", "vitest-junit" },
			zip: []byte("not a zip"), verdict: Fail, notes: []string{"the JUnit artifact 'vitest-junit': open artifact zip: zip: not a valid zip file"},
			reason: "3 of 3 test files did not run: src/gateway/auth.test.ts, src/gateway/tools-invoke-http.test.ts, src/gateway/server-http.bootstrap.test.ts (the JUnit artifact 'vitest-junit': open artifact zip: zip: not a valid zip file)"},
		{name: "no step: the whole log", gate: func(g *config.TestsGate) { g.Step = "" },
			audit: []string{" ✓ src/gateway/server-http.bootstrap.test.ts (9 tests) 41ms"}, inStep: greenVitest[:5], verdict: Pass,
			reason: "3 of 3 test files passed (log) in run 200"},
		{name: "the run completed without the job", runCheck: cr(502, "docs", "Security Gate", 200, "completed", "success"),
			verdict: Fail, reason: "run 200 of 'Security Gate' completed without a job named 'hardening'"},
		{name: "the log has expired", logErr: &github.APIError{Method: "GET", Path: "/repos/o/r/actions/jobs/501/logs", StatusCode: 410, Message: "Gone"},
			verdict: Fail, files: []string{FileDidNotRun, FileDidNotRun, FileDidNotRun},
			reason: "the log of job 'hardening' (job 501) has expired (GitHub answered 410 Gone), so nothing proves its tests ran: re-run the job to produce fresh evidence; " +
				"3 of 3 test files did not run: src/gateway/auth.test.ts, src/gateway/tools-invoke-http.test.ts, src/gateway/server-http.bootstrap.test.ts"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			check := tc.runCheck
			if check.ID == 0 {
				check = cr(501, "hardening", "Security Gate", 200, "completed", "success")
			}
			f.snap = static(check)
			jobs := tc.jobs
			if jobs == nil {
				jobs = withStep("success")
			}
			f.listJobs = func(run int64) ([]github.Job, error) {
				require.Equal(t, int64(200), run)
				return jobs, nil
			}
			f.jobLog = func(id int64) ([]byte, error) {
				require.Equal(t, int64(501), id)
				if tc.logErr != nil {
					return nil, fmt.Errorf("get log of job %d in o/r: %w", id, tc.logErr)
				}
				return jobLog(tc.audit, tc.inStep, tc.after), nil
			}
			tg := *gateTests.Tests
			if tc.gate != nil {
				tc.gate(&tg)
			}
			if tg.JUnitArtifact != "" {
				f.listArts = func(run int64) ([]github.Artifact, error) {
					if tc.noArt {
						return []github.Artifact{{ID: 3, Name: "other"}}, nil
					}
					return []github.Artifact{{ID: 3, Name: "vitest-junit", Expired: true}, {ID: 4, Name: "vitest-junit"}, {ID: 2, Name: "vitest-junit"}}, nil
				}
				f.download = func(id int64) ([]byte, error) {
					require.Equal(t, int64(4), id, "the newest unexpired artifact")
					return tc.zip, nil
				}
			}
			if tg.Step == "" && tg.JUnitArtifact != "" {
				f.jobLog = nil // junit only: the log is not read
			}
			o, _ := f.opts(config.Gate{Name: "regressions", Tests: &tg})
			res, err := Run(context.Background(), f, o)
			require.NoError(t, err)
			g := res.Gates[0]
			assert.Equal(t, tc.verdict, g.Verdict, g.Reason)
			if tc.reason != "" {
				assert.Equal(t, tc.reason, g.Reason)
			}
			require.NotNil(t, g.Tests)
			for i, want := range tc.files {
				assert.Equal(t, want, g.Tests.Files[i].Result, g.Tests.Files[i].File)
			}
			for i, want := range tc.sources {
				assert.Equal(t, want, g.Tests.Files[i].Source, g.Tests.Files[i].File)
			}
			assert.Equal(t, tc.notes, g.Tests.Notes)
			assert.LessOrEqual(t, f.calls["JobLog"], 1)
			assert.LessOrEqual(t, f.calls["DownloadArtifact"], 1)
		})
	}
}

func TestTestsGateWaitsForTheJob(t *testing.T) {
	f := newFake(t)
	f.snap = timeline(
		step{0, nil},
		step{time.Minute, []github.CheckContext{cr(501, "hardening", "Security Gate", 200, "queued", "")}},
		step{3 * time.Minute, []github.CheckContext{cr(501, "hardening", "Security Gate", 200, "in_progress", "")}},
		step{6 * time.Minute, []github.CheckContext{cr(501, "hardening", "Security Gate", 200, "completed", "success")}},
	)
	securityGreen(f)
	o, lines := f.opts(gateTests)
	res, err := Run(context.Background(), f, o)
	require.NoError(t, err)
	g := res.Gates[0]
	assert.Equal(t, Pass, g.Verdict, g.Reason)
	assert.Equal(t, time.Minute, g.WaitedAbsent.D().Truncate(time.Minute))
	assert.Equal(t, 2*time.Minute, g.WaitedQueued.D().Truncate(time.Minute))
	assert.Equal(t, 3*time.Minute, g.WaitedRunning.D().Truncate(time.Minute))
	out := msgs(*lines)
	assert.Contains(t, out, "waiting for a job named 'hardening' in workflow 'Security Gate' (.github/workflows/security-gate.yml) to appear")
	assert.Contains(t, out, "'hardening' queued (run 200)")
	assert.Contains(t, out, "'hardening' in_progress (run 200)")
}

func TestTestsGateNeverAppears(t *testing.T) {
	f := newFake(t)
	f.snap = static(cr(101, "check", "CI", 100, "completed", "success"))
	o, _ := f.opts(gateTests)
	res, err := Run(context.Background(), f, o)
	require.NoError(t, err)
	assert.Equal(t, Fail, res.Verdict)
	assert.Equal(t, "no job named 'hardening' in workflow 'Security Gate' (.github/workflows/security-gate.yml) appeared within 5m0s (appearance grace): fail closed", res.Gates[0].Reason)
}

// Evidence is fetched once per completed job, however many polls read it.
func TestEvidenceFetchedOncePerJob(t *testing.T) {
	f := newFake(t)
	hard := cr(501, "hardening", "Security Gate", 200, "completed", "success")
	f.snap = timeline(
		step{0, []github.CheckContext{hard, cr(101, "check", "CI", 100, "queued", "")}},
		step{10 * time.Minute, []github.CheckContext{hard, cr(101, "check", "CI", 100, "in_progress", "")}},
		step{20 * time.Minute, []github.CheckContext{hard, cr(101, "check", "CI", 100, "in_progress", ""),
			cr(560, "hardening", "Security Gate", 200, "in_progress", "")}}, // a re-run of the job
		step{22 * time.Minute, []github.CheckContext{hard, cr(101, "check", "CI", 100, "in_progress", ""),
			cr(560, "hardening", "Security Gate", 200, "completed", "success")}},
		step{30 * time.Minute, []github.CheckContext{hard, cr(101, "check", "CI", 100, "completed", "success"),
			cr(560, "hardening", "Security Gate", 200, "completed", "success")}},
	)
	listed := 0
	f.listJobs = func(run int64) ([]github.Job, error) {
		listed++
		jobs := []github.Job{hardeningJob(501, 200, "success")}
		if listed > 1 {
			jobs = append(jobs, hardeningJob(560, 200, "success"))
		}
		return jobs, nil
	}
	logs := map[int64]int{}
	f.jobLog = func(id int64) ([]byte, error) {
		logs[id]++
		return jobLog(nil, greenVitest, nil), nil
	}
	o, _ := f.opts(gateCheck, gateTests)
	res, err := Run(context.Background(), f, o)
	require.NoError(t, err)
	assert.Equal(t, Pass, res.Verdict, res.Reason)
	assert.Greater(t, res.Polls, 40)
	assert.Equal(t, 2, f.calls["ListJobs"], "once for the first job, once for its re-run")
	assert.Equal(t, map[int64]int{501: 1, 560: 1}, logs)
	assert.Equal(t, int64(560), res.Gates[1].Tests.Jobs[0].ID, "the re-run's log is the evidence")
}

func TestTestsGateMatrixAndLogRetry(t *testing.T) {
	f := newFake(t)
	a := cr(601, "hardening (node 22)", "Security Gate", 200, "completed", "success")
	b := cr(602, "hardening (node 24)", "Security Gate", 200, "completed", "success")
	other := cr(603, "hardening-docs", "Security Gate", 200, "completed", "success")
	f.snap = static(a, b, other)
	f.listJobs = func(int64) ([]github.Job, error) {
		ja, jb := hardeningJob(601, 200, "success"), hardeningJob(602, 200, "success")
		ja.Name, jb.Name = a.Name, b.Name
		return []github.Job{ja, jb}, nil
	}
	tries := 0
	f.jobLog = func(id int64) ([]byte, error) {
		if id == 602 {
			tries++
			if tries == 1 {
				return nil, &github.APIError{Method: "GET", Path: "/actions/jobs/602/logs", StatusCode: 404}
			}
			return jobLog(nil, []string{
				" ✓ src/gateway/auth.test.ts (24 tests) 113ms",
				" ✓ src/gateway/tools-invoke-http.test.ts (12 tests) 56ms",
				" × src/gateway/server-http.bootstrap.test.ts",
			}, nil), nil
		}
		return jobLog(nil, greenVitest, nil), nil
	}
	tg := *gateTests.Tests
	tg.Job = "hardening (*)"
	o, _ := f.opts(config.Gate{Name: "regressions", Tests: &tg})
	res, err := Run(context.Background(), f, o)
	require.NoError(t, err)
	g := res.Gates[0]
	assert.Equal(t, Fail, g.Verdict)
	assert.Equal(t, "1 of 3 test files failed: src/gateway/server-http.bootstrap.test.ts", g.Reason)
	assert.Equal(t, 2, tries, "a log that is not there yet is asked for again at the next poll")
	assert.Len(t, g.Tests.Jobs, 2)
	assert.Equal(t, 2, res.Polls)
}
