package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/cli"
	"github.com/agentme/release-action/internal/ghemu"
	"github.com/agentme/release-action/internal/sandbox"
)

// TestGateScenarios runs the gate in action mode against every sandbox scenario and
// holds it to the scenario's expected verdict, its outputs and its golden summary.
func TestGateScenarios(t *testing.T) {
	for _, sc := range sandbox.Scenarios() {
		if sc.Command != "gate" {
			continue
		}
		t.Run(sc.Name, func(t *testing.T) {
			h := newHarness(t, sc.Setup)
			r := h.run()

			wantCode := cli.ExitOK
			if sc.Want == "fail" {
				wantCode = cli.ExitFailed
			}
			require.Equal(t, wantCode, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
			assert.Equal(t, string(sc.Want), r.outputs["result"])
			assert.Equal(t, sandbox.Candidate, r.outputs["sha"])

			var rep cli.GateReport
			require.NoError(t, json.Unmarshal([]byte(r.outputs["report"]), &rep), "report output is JSON")
			assert.Equal(t, sc.Want, rep.Result)
			assert.Equal(t, sc.Want, rep.Gate.Verdict)
			assert.Equal(t, "agentme/agentme", rep.Repository)
			assert.Positive(t, rep.Cost.REST, "the report counts what the decision cost")
			assert.Positive(t, rep.Cost.GraphQLPoints)

			// One error annotation per blocking gate, nothing for a pass.
			var errs int
			for _, c := range r.commands() {
				if c.Name == "error" {
					errs++
				}
				assert.NotEqual(t, "set-output", c.Name, "outputs go through GITHUB_OUTPUT only")
			}
			blocking := 0
			for _, g := range rep.Gate.Gates {
				if g.Verdict == "fail" {
					blocking++
				}
			}
			assert.Equal(t, blocking, errs, "one error annotation per blocking gate")
			if sc.Want == "fail" {
				assert.Positive(t, blocking)
			}

			r.noSecret(t)
			if sc.Name != "flaky-api" { // retry jitter moves virtual time: its summary is not stable
				golden(t, "gate-"+sc.Name+".md", r.summary)
			} else {
				assert.Positive(t, rep.Cost.Retries, "faults were injected, so the client retried")
			}
			// Temporary dispatch branches never outlive the gate.
			for ref := range h.emu.Refs() {
				assert.NotContains(t, ref, "release-action/dispatch-", "temporary ref %s left behind", ref)
			}
		})
	}
}

func TestGateDispatchesInstallSmokeOnce(t *testing.T) {
	sc, err := sandbox.Find("install-smoke-dispatch")
	require.NoError(t, err)
	h := newHarness(t, sc.Setup)
	r := h.run()
	require.Equal(t, cli.ExitOK, r.code, r.stdout)
	ds := h.emu.Dispatches()
	require.Len(t, ds, 1, "Install Smoke is dispatched exactly once")
	assert.Equal(t, ghemu.WorkflowInstallSmoke, ds[0].Workflow)
	assert.Equal(t, sandbox.Candidate, ds[0].SHA, "dispatched on a ref that points at the candidate")
	assert.NotEqual(t, "main", ds[0].Ref, "main has moved on, so a temporary branch is used")

	// A second gate on the same commit follows the run it finds instead of dispatching again.
	h2 := *h
	r2 := h2.run()
	require.Equal(t, cli.ExitOK, r2.code, r2.stdout)
	assert.Len(t, h.emu.Dispatches(), 1, "no second dispatch when a run exists on the commit")
}

func TestGateWithoutRunDetails(t *testing.T) {
	sc, err := sandbox.Find("install-smoke-dispatch")
	require.NoError(t, err)
	h := newHarness(t, sc.Setup, func(o *ghemu.Options) { o.NoRunDetails = true; o.DispatchLatency = 3 * time.Second })
	r := h.run()
	require.Equal(t, cli.ExitOK, r.code, r.stdout)
	var rep cli.GateReport
	require.NoError(t, json.Unmarshal([]byte(r.outputs["report"]), &rep))
	var found bool
	for _, g := range rep.Gate.Gates {
		if g.Dispatch != nil {
			found = true
			assert.True(t, g.Dispatch.RunDiscovered, "GHES without return_run_details: the run is discovered")
			assert.Equal(t, sandbox.Candidate, g.Dispatch.HeadSHA)
		}
	}
	assert.True(t, found)
}

func TestGateBadInput(t *testing.T) {
	green, err := sandbox.Find("all-green")
	require.NoError(t, err)
	cases := []struct {
		name     string
		env      map[string]string
		config   string
		wantCode int
		wantErr  string
	}{
		{name: "missing token", env: map[string]string{"INPUT_TOKEN": ""}, wantCode: cli.ExitBadInput, wantErr: "no GitHub token"},
		{name: "malformed config", config: "policy:\n  skipped: maybe\n", wantCode: cli.ExitBadInput, wantErr: "policy.skipped"},
		{name: "config not yaml", config: "gates: [\n", wantCode: cli.ExitBadInput, wantErr: "release-action.yml"},
		{name: "unknown sha", env: map[string]string{"INPUT_SHA": "0000000000000000000000000000000000000000"}, wantCode: cli.ExitBadInput, wantErr: "was not found"},
		{name: "bad timeout", env: map[string]string{"INPUT_TIMEOUT": "soon"}, wantCode: cli.ExitBadInput, wantErr: "input timeout"},
		{name: "wrong token", env: map[string]string{"INPUT_TOKEN": "ghs_wrong"}, wantCode: cli.ExitBadInput, wantErr: "refused the token"},
		{name: "unreachable API", env: map[string]string{"GITHUB_API_URL": "http://127.0.0.1:1/api/v3", "GITHUB_GRAPHQL_URL": "http://127.0.0.1:1/api/graphql"}, wantCode: cli.ExitAPI, wantErr: "not a verdict"},
		{name: "no repository", env: map[string]string{"GITHUB_REPOSITORY": ""}, wantCode: cli.ExitBadInput, wantErr: "GITHUB_REPOSITORY"},
		{name: "unknown command", env: map[string]string{"INPUT_COMMAND": "deploy-everything"}, wantCode: cli.ExitBadInput, wantErr: "unknown command"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, green.Setup)
			for k, v := range tc.env {
				h.env[k] = v
			}
			if tc.config != "" {
				path := filepath.Join(h.dir, "release-action.yml")
				require.NoError(t, os.WriteFile(path, []byte(tc.config), 0o644))
				h.env["INPUT_CONFIG"] = path
			}
			r := h.run()
			require.Equal(t, tc.wantCode, r.code, "stdout:\n%s", r.stdout)
			var msgs []string
			for _, c := range r.commands() {
				if c.Name == "error" {
					msgs = append(msgs, c.Data)
				}
			}
			require.NotEmpty(t, msgs, "a failure is reported as an error annotation")
			assert.Contains(t, strings.Join(msgs, "\n"), tc.wantErr)
			assert.Empty(t, r.outputs["result"], "no verdict is claimed when the gate could not run")
			r.noSecret(t)
		})
	}
}

// TestGateHostileCheckNames: names from GitHub are untrusted. Workflow-command syntax,
// percent escapes, newlines, pipes and HTML in a check name must neither inject a
// command nor break the summary table.
func TestGateHostileCheckNames(t *testing.T) {
	hostile := []string{
		"evil::error::pwned",
		"::add-mask::x",
		"pct %0A::warning::y %25",
		"line1\n::set-output name=result::pass",
		"pipe | in | name",
		"<img src=x onerror=alert(1)>",
	}
	h := newHarness(t, func(s *ghemu.Server) {
		s.LoadAgentMe(sandbox.Candidate)
		s.AgentMePush(sandbox.Candidate)
		s.AddRun(ghemu.WorkflowInstallSmoke, sandbox.Candidate, "workflow_dispatch", ghemu.InstallSmokeJobs()...)
		for _, n := range hostile {
			s.AddCheckRun(sandbox.Candidate, n, ghemu.JobSpec{Name: n, RunFor: time.Minute, Conclusion: "failure"})
		}
	})
	cfg := "gates:\n  - name: everything\n    check: \"*\"\n"
	path := filepath.Join(h.dir, "release-action.yml")
	require.NoError(t, os.WriteFile(path, []byte(cfg), 0o644))
	h.env["INPUT_CONFIG"] = path
	r := h.run()
	require.Equal(t, cli.ExitFailed, r.code, r.stdout)
	assert.Equal(t, "fail", r.outputs["result"], "no injected output can flip the verdict")

	for _, c := range r.commands() {
		switch c.Name {
		case "group", "endgroup", "error", "warning", "notice", "debug":
		default:
			t.Errorf("unexpected workflow command %q (line %d) from untrusted text", c.Name, c.Line)
		}
		if c.Name == "warning" {
			t.Errorf("a check name injected a warning: %q", c.Data)
		}
	}
	// Every table row of the summary has the header's number of cells.
	var header int
	for _, l := range lines(r.summary) {
		if !strings.HasPrefix(l, "| ") {
			continue
		}
		cells := splitRow(l)
		if header == 0 || strings.HasPrefix(l, "| Gate ") || strings.HasPrefix(l, "| Test file ") {
			header = cells
			continue
		}
		assert.Equal(t, header, cells, "row broken by untrusted text: %s", l)
	}
	assert.NotContains(t, r.summary, "<img", "HTML from check names is escaped")
}

// splitRow counts GFM cells: a '|' preceded by a backslash does not split.
func splitRow(l string) int {
	n := 0
	for i := 0; i < len(l); i++ {
		if l[i] == '|' && (i == 0 || l[i-1] != '\\') {
			n++
		}
	}
	return n - 1
}
