package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/cli"
	"github.com/agentme/release-action/internal/ghemu"
	"github.com/agentme/release-action/internal/sandbox"
)

// TestGateExitCodes: a configuration or permission GitHub proves wrong is bad input (exit
// 2) with a message naming the fix; rate limits and server failures stay GitHub failures
// (exit 3). No verdict is claimed either way.
func TestGateExitCodes(t *testing.T) {
	agentMe := func(s *ghemu.Server) {
		s.LoadAgentMe(sandbox.Candidate)
		s.AgentMePush(sandbox.Candidate)
	}
	cases := []struct {
		name     string
		setup    func(*ghemu.Server)
		config   string
		wantCode int
		wantErr  []string
	}{
		{
			name: "dispatch gate's workflow has no workflow_dispatch trigger",
			setup: func(s *ghemu.Server) {
				agentMe(s)
				s.ConfigureWorkflow(ghemu.WorkflowInstallSmoke, false)
			},
			wantCode: cli.ExitBadInput,
			wantErr: []string{"'Install Smoke' has no workflow_dispatch trigger, so gate 'Install Smoke' cannot dispatch it",
				"add `on: workflow_dispatch` to .github/workflows/install-smoke.yml, or drop dispatch: true from the gate"},
		},
		{
			name:     "dispatch gate names a workflow that does not exist",
			setup:    agentMe,
			config:   "gates:\n  - name: Smoke\n    workflow: Install Smok\n    dispatch: true\n",
			wantCode: cli.ExitBadInput,
			wantErr:  []string{"gate 'Smoke': no workflow file in the repository declares name: 'Install Smok'"},
		},
		{
			name: "token without the permission to dispatch",
			setup: func(s *ghemu.Server) {
				agentMe(s)
				s.Inject(ghemu.Fault{PathPrefix: "/repos/agentme/agentme/actions/workflows/", Method: "POST", Status: 403})
			},
			wantCode: cli.ExitBadInput,
			wantErr:  []string{"GitHub refused the request (403): the token lacks a permission", "actions: write"},
		},
		{
			name: "secondary rate limit beyond the retry budget",
			setup: func(s *ghemu.Server) {
				agentMe(s)
				s.Inject(ghemu.Fault{PathPrefix: "/repos/agentme/agentme/commits/", SecondaryLimit: true})
			},
			wantCode: cli.ExitAPI,
			wantErr:  []string{"secondary rate limit", "not a verdict"},
		},
		{
			name: "server failure",
			setup: func(s *ghemu.Server) {
				agentMe(s)
				s.Inject(ghemu.Fault{PathPrefix: "/repos/agentme/agentme/actions/workflows/", Method: "POST", Status: 502})
			},
			wantCode: cli.ExitAPI,
			wantErr:  []string{"502", "not a verdict"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.setup)
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
			require.Len(t, msgs, 1, "one error annotation")
			for _, want := range tc.wantErr {
				assert.Contains(t, msgs[0], want)
			}
			assert.Empty(t, r.outputs["result"], "no verdict is claimed when the gate could not run")
			r.noSecret(t)
			for ref := range h.emu.Refs() {
				assert.NotContains(t, ref, "release-action/dispatch-", "temporary ref %s left behind", ref)
			}
		})
	}
}

// TestGatePublishedCheckRunInAWorkflowSuite: on GitHub a check run created with
// GITHUB_TOKEN joins the check suite of a workflow run on the commit. The gate's own
// release-gate check run, in progress while the gate waits, then holds Security Gate's
// suite open; the gate must neither count it nor wait for it, and a later gate must not
// count the earlier gate's completed check run either.
func TestGatePublishedCheckRunInAWorkflowSuite(t *testing.T) {
	sc, err := sandbox.Find("all-green")
	require.NoError(t, err)
	h := newHarness(t, sc.Setup, func(o *ghemu.Options) { o.CheckRunSuiteOf = ghemu.WorkflowSecurityGate })
	h.env["INPUT_CHECK-RUN"] = "true"
	for attempt := 1; attempt <= 2; attempt++ {
		r := h.run()
		require.Equal(t, cli.ExitOK, r.code, "attempt %d\nstdout:\n%s", attempt, r.stdout)
		assert.Equal(t, "pass", r.outputs["result"])
		var rep cli.GateReport
		require.NoError(t, json.Unmarshal([]byte(r.outputs["report"]), &rep))
		require.NotNil(t, rep.CheckRun)
		assert.False(t, rep.Gate.TimedOut)
		for _, g := range rep.Gate.Gates {
			for _, e := range g.Evidence {
				assert.NotEqual(t, "release-gate", e.Name, "gate %s counted a release-gate check run", g.Name)
			}
			if g.Name == "Security Gate" {
				assert.True(t, strings.HasPrefix(g.Reason, "run "), g.Reason)
				assert.Contains(t, g.Reason, "while its check suite", "decided by the run, not the suite its check run holds open")
			}
		}
	}
}
