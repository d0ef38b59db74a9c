package gate

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/github"
)

// TestWorkflowNamedByFile: check runs carry the workflow's name, so a gate that names
// the workflow by its file is resolved once, and an unknown file is a configuration
// error, not a gate that fails closed after the grace.
func TestWorkflowNamedByFile(t *testing.T) {
	t.Run("resolved to its name", func(t *testing.T) {
		f := newFake(t)
		f.findWorkflow = func(name string) (github.Workflow, error) {
			assert.Equal(t, "security-gate.yml", name)
			return github.Workflow{ID: 9, Name: "Security Gate", Path: ".github/workflows/security-gate.yml"}, nil
		}
		f.snap = static(cr(501, "hardening", "Security Gate", 200, "completed", "success"))
		o, _ := f.opts(config.Gate{Name: "Security Gate", Workflow: "security-gate.yml"})
		res, err := Run(context.Background(), f, o)
		require.NoError(t, err)
		assert.Equal(t, Pass, res.Verdict, res.Reason)
		assert.Equal(t, 1, f.calls["FindWorkflow"], "looked up once")
	})
	t.Run("unknown file", func(t *testing.T) {
		f := newFake(t)
		f.findWorkflow = func(string) (github.Workflow, error) { return github.Workflow{}, github.ErrNotFound }
		o, _ := f.opts(config.Gate{Name: "x", Workflow: "nope.yml"})
		_, err := Run(context.Background(), f, o)
		require.ErrorIs(t, err, ErrConfig)
	})
}
