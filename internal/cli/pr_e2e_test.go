package cli_test

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/actions"
	"github.com/agentme/release-action/internal/cli"
	"github.com/agentme/release-action/internal/ghemu"
	"github.com/agentme/release-action/internal/sandbox"
)

// base is the pull request's base commit; the candidate is its head.
const prBase = "5555555555555555555555555555555555555555"

func prEvent(t *testing.T, dir string) string {
	path := filepath.Join(dir, "event.json")
	ev := `{"pull_request":{"number":7,"head":{"sha":"` + sandbox.Candidate + `"},"base":{"sha":"` + prBase + `"}}}`
	require.NoError(t, os.WriteFile(path, []byte(ev), 0o644))
	return path
}

// TestGateOnPullRequest: on pull_request the gate evaluates the PR head (GITHUB_SHA is
// the merge commit), reads its configuration from the base commit (a pull request cannot
// weaken the gates that judge it), and publishes the release-gate check run.
func TestGateOnPullRequest(t *testing.T) {
	h := newHarness(t, func(s *ghemu.Server) {
		s.LoadAgentMe(sandbox.Candidate)
		s.AgentMePush(sandbox.Candidate)
		s.AddRun(ghemu.WorkflowInstallSmoke, sandbox.Candidate, "workflow_dispatch", ghemu.InstallSmokeJobs()...)
		s.AddCommit(prBase)
		// The base's configuration: only `check`, with a short timeout.
		s.AddFile(prBase, ".github/release-action.yml", []byte("gates:\n  - name: check\n    check: check\n    workflow: CI\n"))
	})
	delete(h.env, "INPUT_SHA")
	h.env["GITHUB_EVENT_NAME"] = "pull_request"
	h.env["GITHUB_EVENT_PATH"] = prEvent(t, h.dir)
	h.env["GITHUB_SHA"] = "6666666666666666666666666666666666666666" // the merge commit: never evaluated
	h.env["INPUT_CONFIG"] = ".github/release-action.yml"
	h.env["INPUT_CHECK-RUN"] = "true"
	// The checked-out head carries a configuration that would disable every gate.
	require.NoError(t, os.MkdirAll(filepath.Join(h.dir, ".github"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(h.dir, ".github", "release-action.yml"), []byte("gates:\n  - name: nothing\n    check: \"does-not-matter\"\npolicy:\n  appear-timeout: 1m\n"), 0o644))
	// The relative config input is read from the harness's working directory (Env.Dir).

	r := h.run()
	require.Equal(t, cli.ExitOK, r.code, r.stdout)
	assert.Equal(t, sandbox.Candidate, r.outputs["sha"], "the PR head is evaluated, not the merge commit")
	var rep cli.GateReport
	require.NoError(t, json.Unmarshal([]byte(r.outputs["report"]), &rep))
	require.Len(t, rep.Gate.Gates, 1, "gates come from the base commit's configuration")
	assert.Equal(t, "check", rep.Gate.Gates[0].Name)
	require.NotNil(t, rep.CheckRun)

	// The check run is on the head commit, completed, and lists the gates.
	req, err := http.NewRequest(http.MethodGet, h.url+"/api/v3/repos/agentme/agentme/commits/"+sandbox.Candidate+"/check-runs?check_name=release-gate", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+knownToken)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var list struct {
		CheckRuns []struct {
			Status     string `json:"status"`
			Conclusion string `json:"conclusion"`
			Output     struct {
				Title   string `json:"title"`
				Summary string `json:"summary"`
			} `json:"output"`
		} `json:"check_runs"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&list))
	require.Len(t, list.CheckRuns, 1)
	assert.Equal(t, "completed", list.CheckRuns[0].Status)
	assert.Equal(t, "success", list.CheckRuns[0].Conclusion)
	assert.Contains(t, list.CheckRuns[0].Output.Summary, "| check |")
	assert.NotContains(t, list.CheckRuns[0].Output.Summary, knownToken)
}

// TestBinaryInActionMode builds the real binary and runs it the way the runner runs a
// container action: environment only, no arguments, output files on disk.
func TestBinaryInActionMode(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "release-action")
	build := exec.Command("go", "build", "-o", bin, "../..")
	out, err := build.CombinedOutput()
	require.NoError(t, err, string(out))

	h := newHarness(t, func(s *ghemu.Server) {
		s.LoadAgentMe(sandbox.Candidate)
		s.AgentMePush(sandbox.Candidate)
		s.AddRun(ghemu.WorkflowInstallSmoke, sandbox.Candidate, "workflow_dispatch", ghemu.InstallSmokeJobs()...)
	})
	// The binary runs on the wall clock: let every check complete before it starts.
	h.clk.Advance(30 * time.Minute)

	for _, tc := range []struct {
		name     string
		env      map[string]string
		wantCode int
		result   string
	}{
		{name: "gate passes", wantCode: cli.ExitOK, result: "pass"},
		{name: "missing token", env: map[string]string{"INPUT_TOKEN": ""}, wantCode: cli.ExitBadInput},
		{name: "unknown sha", env: map[string]string{"INPUT_SHA": strings.Repeat("0", 40)}, wantCode: cli.ExitBadInput},
		{name: "unreachable API", env: map[string]string{"GITHUB_API_URL": "http://127.0.0.1:1/api/v3", "GITHUB_GRAPHQL_URL": "http://127.0.0.1:1/api/graphql"}, wantCode: cli.ExitAPI},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
			merged := map[string]string{}
			for k, v := range h.env {
				merged[k] = v
			}
			merged["GITHUB_OUTPUT"] = filepath.Join(dir, "output")
			merged["GITHUB_STEP_SUMMARY"] = filepath.Join(dir, "summary.md")
			for k, v := range tc.env {
				merged[k] = v
			}
			for k, v := range merged {
				env = append(env, k+"="+v)
			}
			cmd := exec.Command(bin)
			cmd.Env = env
			cmd.Dir = dir
			var stdout, stderr strings.Builder
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else {
				require.NoError(t, err)
			}
			require.Equal(t, tc.wantCode, code, "stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
			data, _ := os.ReadFile(merged["GITHUB_OUTPUT"])
			outputs, err := actions.ParseOutputFile(data)
			require.NoError(t, err)
			assert.Equal(t, tc.result, outputs["result"])
			summary, _ := os.ReadFile(merged["GITHUB_STEP_SUMMARY"])
			for _, s := range []string{stdout.String(), stderr.String(), string(data), string(summary)} {
				assert.NotContains(t, s, knownToken)
			}
		})
	}
}
