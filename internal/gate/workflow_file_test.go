package gate

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/github"
	vocab "github.com/agentme/release-action/internal/outcome"
)

// TestWorkflowIdentityIsTheFile: a gate reads runs of one workflow file. Two files may
// share a name; a run of the other file never counts, whatever it concluded, and a name
// two files declare is a configuration error naming both.
func TestWorkflowIdentityIsTheFile(t *testing.T) {
	twin := github.Workflow{ID: 31, Name: "Security Gate", Path: ".github/workflows/security-gate-copy.yml"}
	twinRun := func(id, run int64, concl string) github.CheckContext {
		c := cr(id, "hardening", "Security Gate", run, "completed", concl)
		c.WorkflowID, c.WorkflowPath = twin.ID, twin.Path
		return c
	}
	withTwin := func() ([]github.Workflow, error) { return append(fakeWorkflows(), twin), nil }
	cases := []struct {
		name    string
		gate    config.Gate
		snap    []github.CheckContext
		want    vocab.Verdict
		reason  string
		config  string
		listing func() ([]github.Workflow, error)
	}{
		{name: "by file: the real file failed, a green twin with the same name does not count",
			gate:    config.Gate{Name: "Security Gate", Workflow: ".github/workflows/security-gate.yml"},
			snap:    []github.CheckContext{cr(501, "hardening", "Security Gate", 200, "completed", "failure"), twinRun(601, 300, "success")},
			listing: withTwin, want: Fail, reason: "'hardening' (Security Gate run 200): failed"},
		{name: "by basename",
			gate:    config.Gate{Name: "Security Gate", Workflow: "security-gate.yml"},
			snap:    []github.CheckContext{cr(501, "hardening", "Security Gate", 200, "completed", "success"), twinRun(601, 300, "failure")},
			listing: withTwin, want: Pass},
		{name: "a twin alone is no evidence for the real file",
			gate:    config.Gate{Name: "Security Gate", Workflow: "security-gate.yml"},
			snap:    []github.CheckContext{twinRun(601, 300, "success")},
			listing: withTwin, want: Fail, reason: "no run of workflow 'Security Gate' (.github/workflows/security-gate.yml) on the commit appeared"},
		{name: "a check gate counts its check only from its file",
			gate:    config.Gate{Name: "check", Check: "hardening", Workflow: ".github/workflows/security-gate.yml"},
			snap:    []github.CheckContext{cr(501, "hardening", "Security Gate", 200, "completed", "failure"), twinRun(601, 300, "success")},
			listing: withTwin, want: Fail},
		{name: "a name two files declare is a configuration error",
			gate: config.Gate{Name: "Security Gate", Workflow: "Security Gate"}, listing: withTwin,
			config: "workflow 'Security Gate' matches 2 workflow files (.github/workflows/security-gate-copy.yml, .github/workflows/security-gate.yml), so a run of any of them could satisfy it: name the one file the gate trusts, e.g. workflow: .github/workflows/security-gate-copy.yml"},
		{name: "a tests gate too",
			gate:    config.Gate{Name: "t", Tests: &config.TestsGate{Workflow: "Security Gate", Job: "hardening", Files: []string{"a.test.ts"}}},
			listing: withTwin, config: "matches 2 workflow files"},
		{name: "an unknown file", gate: config.Gate{Name: "x", Workflow: "nope.yml"},
			config: "gate 'x': workflow file 'nope.yml' does not exist in the repository"},
		{name: "a name no file declares", gate: config.Gate{Name: "x", Workflow: "security gate"},
			config: "names differ in case only: .github/workflows/security-gate.yml (name: 'Security Gate')"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			f.listWorkflows = tc.listing
			f.snap = static(tc.snap...)
			o, _ := f.opts(tc.gate)
			o.Policy.AppearTimeout = config.Duration(60e9)
			res, err := Run(context.Background(), f, o)
			if tc.config != "" {
				require.ErrorIs(t, err, vocab.ErrBadInput)
				assert.Contains(t, err.Error(), tc.config)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, res.Verdict, res.Reason)
			assert.Contains(t, res.Gates[0].Reason, tc.reason)
			assert.Equal(t, 1, f.calls["ListWorkflows"], "listed once")
		})
	}
}
