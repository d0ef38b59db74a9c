package ghemu_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/agentme/release-action/internal/ghemu"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoadAgentMe(t *testing.T) {
	e := newEnv(t, ghemu.Options{})
	e.s.LoadAgentMe(shaA)

	var wfs struct {
		Workflows []struct{ Name, Path string } `json:"workflows"`
	}
	e.getJSON("/actions/workflows", &wfs)
	got := map[string]string{}
	for _, w := range wfs.Workflows {
		got[w.Name] = w.Path
	}
	assert.Equal(t, map[string]string{
		"CI":            ".github/workflows/ci.yml",
		"Security Gate": ".github/workflows/security-gate.yml",
		"Install Smoke": ".github/workflows/install-smoke.yml",
		"Deploy":        ".github/workflows/deploy.yml",
	}, got)
	assert.Equal(t, map[string]string{"refs/heads/main": shaA}, e.s.Refs())

	var runs runsPage
	e.getJSON("/actions/runs?head_sha="+shaA, &runs)
	assert.Zero(t, runs.TotalCount, "Install Smoke never runs on push: nothing exists until dispatched")

	r := e.do("POST", "/actions/workflows/security-gate.yml/dispatches", map[string]any{"ref": "main"})
	assert.Equal(t, http.StatusUnprocessableEntity, r.StatusCode)
	r = e.do("POST", "/actions/workflows/install-smoke.yml/dispatches", map[string]any{"ref": "main", "return_run_details": true})
	require.Equal(t, http.StatusOK, r.StatusCode, string(r.body))
	var d struct {
		WorkflowRunID int64 `json:"workflow_run_id"`
	}
	r.json(t, &d)
	e.clk.Advance(time.Hour)
	var jobs jobsPage
	e.getJSON(fmt.Sprintf("/actions/runs/%d/jobs", d.WorkflowRunID), &jobs)
	var names []string
	for _, j := range jobs.Jobs {
		names = append(names, j.Name+"="+deref(j.Conclusion))
	}
	assert.Equal(t, []string{"install-smoke (root)=success", "install-smoke (nonroot)=success", "install-smoke (cli)=success"}, names)
}

func TestAgentMePush(t *testing.T) {
	e := newEnv(t, ghemu.Options{})
	e.s.LoadAgentMe(shaA)
	ci, sec := e.s.AgentMePush(shaA)
	assert.Equal(t, "CI", ci.WorkflowName)
	assert.Equal(t, "main", ci.HeadBranch)
	e.clk.Advance(time.Hour)

	var list checkRunsPage
	e.getJSON("/commits/"+shaA+"/check-runs?per_page=100", &list)
	names := map[string]string{}
	for _, cr := range list.CheckRuns {
		names[cr.Name] = deref(cr.Conclusion)
	}
	assert.Equal(t, "success", names["check"])
	assert.Equal(t, "success", names["hardening"])
	assert.Len(t, names, len(ghemu.CIJobs(ghemu.CIOptions{}))+1)

	var j job
	e.getJSON(fmt.Sprintf("/actions/jobs/%d", sec.JobIDs[0]), &j)
	var stepNames []string
	for _, s := range j.Steps {
		stepNames = append(stepNames, s.Name)
	}
	assert.Equal(t, []string{"Set up job", "Checkout", "Setup pnpm", "Setup Node", "Install deps", "Security audit (deep)",
		"Security regression tests", "Complete job"}, stepNames)
}

func TestCIJobs(t *testing.T) {
	find := func(jobs []ghemu.JobSpec, name string) ghemu.JobSpec {
		for _, j := range jobs {
			if j.Name == name {
				return j
			}
		}
		t.Fatalf("no job %s", name)
		return ghemu.JobSpec{}
	}
	tests := []struct {
		name      string
		opts      ghemu.CIOptions
		wantState string
		wantConcl string
	}{
		{"default", ghemu.CIOptions{}, "completed", "success"},
		{"docs only skips check", ghemu.CIOptions{DocsOnly: true}, "completed", "skipped"},
		{"no runner", ghemu.CIOptions{CheckNoRunner: true}, "queued", ""},
		{"lint failure", ghemu.CIOptions{Check: "failure"}, "completed", "failure"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, ghemu.Options{})
			jobs := ghemu.CIJobs(tc.opts)
			run := e.s.AddRun("CI", shaA, "push", jobs...)
			e.clk.Advance(24 * time.Hour)
			var p checkRunsPage
			e.getJSON("/commits/"+shaA+"/check-runs?check_name=check", &p)
			require.Len(t, p.CheckRuns, 1)
			assert.Equal(t, tc.wantState, p.CheckRuns[0].Status)
			assert.Equal(t, tc.wantConcl, deref(p.CheckRuns[0].Conclusion))
			assert.Equal(t, run.CheckSuiteID, p.CheckRuns[0].CheckSuite.ID)
			if tc.opts.DocsOnly {
				assert.Equal(t, "skipped", find(jobs, "build-artifacts").Conclusion)
			}
		})
	}
}

func TestVitestLog(t *testing.T) {
	const (
		auth  = "src/gateway/auth.test.ts"
		tools = "src/gateway/tools-invoke-http.test.ts"
		boot  = "src/gateway/server-http.bootstrap.test.ts"
	)
	tests := []struct {
		name    string
		files   map[string]string
		want    []string
		notWant []string
	}{
		{"all pass", map[string]string{auth: "pass", tools: "pass", boot: "pass"}, []string{
			" ✓ src/gateway/auth.test.ts (24 tests) ",
			" ✓ src/gateway/tools-invoke-http.test.ts (9 tests) ",
			" ✓ src/gateway/server-http.bootstrap.test.ts (12 tests) ",
			"\n Test Files  3 passed (3)\n",
			"      Tests  45 passed (45)\n",
		}, []string{"failed", "FAIL"}},
		{"one fails", map[string]string{auth: "pass", tools: "fail", boot: "pass"}, []string{
			" ❯ src/gateway/tools-invoke-http.test.ts (9 tests | 1 failed) ",
			" FAIL  src/gateway/tools-invoke-http.test.ts > ",
			"\n Test Files  1 failed | 2 passed (3)\n",
		}, nil},
		{"one missing", map[string]string{auth: "pass", tools: "pass", boot: "missing"}, []string{
			"\n Test Files  2 passed (2)\n",
		}, []string{boot}},
		{"none ran", map[string]string{auth: "missing"}, []string{"No test files found, exiting with code 1"}, []string{"Test Files"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			plain := ghemu.VitestLog(tc.files)
			for _, w := range tc.want {
				assert.Contains(t, plain, w)
			}
			for _, w := range tc.notWant {
				assert.NotContains(t, plain, w)
			}
			assert.NotContains(t, plain, "\x1b[")
			colored := ghemu.VitestLogColor(tc.files)
			assert.Contains(t, colored, "\x1b[")
			assert.Equal(t, plain, stripANSI(colored), "colours are the only difference")
		})
	}
	lines := strings.Split(ghemu.VitestLog(map[string]string{auth: "pass", tools: "pass"}), "\n")
	assert.Less(t, indexOf(lines, " ✓ "+auth), indexOf(lines, " ✓ "+tools), "files print in the order vitest was given them")
}

func indexOf(lines []string, prefix string) int {
	for i, l := range lines {
		if strings.HasPrefix(l, prefix) {
			return i
		}
	}
	return -1
}

func TestSecurityGateJob(t *testing.T) {
	tests := []struct {
		name      string
		opts      ghemu.SecurityGateOptions
		wantJob   string
		wantTests string
		wantAudit string
	}{
		{"passing", ghemu.SecurityGateOptions{}, "success", "success", "success"},
		{"a targeted file fails", ghemu.SecurityGateOptions{Files: map[string]string{ghemu.TargetedTestFiles[1]: ghemu.FileFail}}, "failure", "failure", "success"},
		{"a targeted file is missing", ghemu.SecurityGateOptions{Files: map[string]string{ghemu.TargetedTestFiles[2]: ghemu.FileMissing}}, "success", "success", "success"},
		{"audit fails", ghemu.SecurityGateOptions{AuditFails: true}, "failure", "skipped", "failure"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, ghemu.Options{})
			run := e.s.AddRun("Security Gate", shaA, "push", ghemu.SecurityGateJob(tc.opts))
			e.clk.Advance(time.Hour)
			var j job
			e.getJSON(fmt.Sprintf("/actions/jobs/%d", run.JobIDs[0]), &j)
			assert.Equal(t, "hardening", j.Name)
			assert.Equal(t, tc.wantJob, deref(j.Conclusion))
			concl := map[string]string{}
			for _, s := range j.Steps {
				concl[s.Name] = deref(s.Conclusion)
			}
			assert.Equal(t, tc.wantTests, concl[ghemu.SecurityTestsStep])
			assert.Equal(t, tc.wantAudit, concl["Security audit (deep)"])
		})
	}
}
