package rotate_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/rotate"
	"github.com/agentme/release-action/internal/sandbox"
)

// TestPlanIsWhatRunDoes: Plan and Run share one decision, so what the plan says would be
// written and redeployed is exactly what the run then writes and redeploys; the plan
// itself writes nothing and makes no bootstrap code.
func TestPlanIsWhatRunDoes(t *testing.T) {
	for _, scope := range []string{config.SecretScopeRepository, config.SecretScopeEnvironment} {
		t.Run(scope, func(t *testing.T) {
			w := newWorld(t, false)
			sandbox.RotateWorld(w.World, true)
			if scope == config.SecretScopeEnvironment {
				w.Config.Environments[1].Secrets.Scope = scope
				w.GitHub.SetSecret("production", sandbox.ProductionTokenSecret, sandbox.ProductionToken)
				w.GitHub.SetSecret("production", sandbox.ProductionBootSecret, sandbox.ProductionBootstrapSeed)
				sandbox.WireSecretsDeploy(w.World)
			}
			out := &output{}
			req := w.request(out, func(r *rotate.Request) { r.BootstrapSecret = true })
			writes, creates := w.GitHub.SecretWrites(), w.Production.Stats().BootstrapCreates

			p, err := rotate.Plan(context.Background(), w.gh, req)
			require.NoError(t, err)
			assert.Equal(t, "pass", string(p.Outcome), p.Reason)
			assert.Equal(t, writes, w.GitHub.SecretWrites(), "the plan wrote no secret")
			assert.Equal(t, creates, w.Production.Stats().BootstrapCreates, "the plan made no bootstrap code")
			assert.Empty(t, out.masked, "the plan generated nothing")
			require.Len(t, p.Secrets, 2)
			for _, s := range p.Secrets {
				assert.Equal(t, scope, s.Scope)
				assert.NotEmpty(t, s.KeyID)
			}

			rep, err := rotate.Run(context.Background(), w.gh, req)
			require.NoError(t, err)
			require.True(t, rep.Passed(), rep.Problem)
			assert.Equal(t, p.Running, rep.Running, "the plan names the deployment the run redeploys")
			require.Len(t, rep.Secrets, len(p.Secrets))
			for i, s := range rep.Secrets {
				assert.True(t, s.Written)
				assert.Equal(t, p.Secrets[i].Name, s.Name)
				assert.Equal(t, p.Secrets[i].Scope, s.Scope)
				assert.Equal(t, p.Secrets[i].KeyID, s.KeyID, "the plan's key is the one the run seals with")
			}
		})
	}
}

// TestPlanBadInput: Plan refuses what Run refuses, with the same error.
func TestPlanBadInput(t *testing.T) {
	w := newWorld(t, false)
	sandbox.RotateWorld(w.World, false)
	req := w.request(&output{}, func(r *rotate.Request) { r.Reason = "" })
	_, planErr := rotate.Plan(context.Background(), w.gh, req)
	_, runErr := rotate.Run(context.Background(), w.gh, req)
	require.Error(t, planErr)
	assert.Equal(t, runErr.Error(), planErr.Error())
}
