package cli_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/cli"
	"github.com/agentme/release-action/internal/ghemu"
	"github.com/agentme/release-action/internal/rotate"
	"github.com/agentme/release-action/internal/sandbox"
)

type rotatePlanReport struct {
	cli.PlanReport
	Plan rotate.PlanResult `json:"plan"`
}

// rotateDryRun is dryRun for rotate, which also must not write a secret, generate (and so
// mask) a value, or create a bootstrap code on the gateway.
func rotateDryRun(t *testing.T, h *releaseHarness) (result, rotate.PlanResult) {
	t.Helper()
	writes := h.emu.SecretWrites()
	gw := h.world.Production.Stats()
	r := h.dryRun()
	r.noRotationSecret(t)
	assert.Equal(t, writes, h.emu.SecretWrites(), "no secret written")
	v, ok := h.emu.Secret(ghemu.RepoScope, sandbox.ProductionTokenSecret)
	require.True(t, ok)
	assert.Equal(t, sandbox.ProductionToken, v, "the secret holds the old value")
	assert.Empty(t, masks(r), "nothing generated")
	after := h.world.Production.Stats()
	assert.Equal(t, gw.BootstrapCreates, after.BootstrapCreates, "no bootstrap code created on the gateway")
	assert.Equal(t, gw.HTTPRequests, after.HTTPRequests, "the gateway was not contacted")
	assert.Equal(t, gw.Restarts, after.Restarts, "the gateway was not restarted")
	var rep rotatePlanReport
	require.NoError(t, json.Unmarshal([]byte(r.outputs["report"]), &rep))
	assert.Equal(t, "rotate", rep.Command)
	return r, rep.Plan
}

func TestRotateDryRun(t *testing.T) {
	cases := []struct {
		name      string
		bootstrap bool
		inputs    map[string]string
		secrets   []string
		golden    string
	}{
		{name: "token", secrets: []string{sandbox.ProductionTokenSecret}, golden: "plan-rotate.md"},
		{name: "token and bootstrap secret", bootstrap: true, inputs: map[string]string{"INPUT_BOOTSTRAP-SECRET": "true"},
			secrets: []string{sandbox.ProductionTokenSecret, sandbox.ProductionBootSecret}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newRotateHarness(t, false, c.bootstrap, nil)
			for k, v := range c.inputs {
				h.env[k] = v
			}
			r, p := rotateDryRun(t, h)
			assert.Equal(t, "pass", string(p.Outcome), p.Reason)
			assert.Equal(t, "production", p.Environment)
			assert.Equal(t, rotate.KindToken, p.Kind)
			assert.Equal(t, sandbox.PreviousTag, p.Running.Tag, "the tag production runs")
			assert.Equal(t, sandbox.Previous, p.Running.SHA)
			assert.NotZero(t, p.Running.DeploymentID)
			assert.Equal(t, "deploy:rotate", p.Task)
			require.Len(t, p.Secrets, len(c.secrets))
			for i, s := range p.Secrets {
				assert.Equal(t, c.secrets[i], s.Name)
				assert.Equal(t, "repository", s.Scope)
				assert.Equal(t, h.emu.SecretsKeyID(ghemu.RepoScope), s.KeyID, "the key read from GitHub")
				assert.False(t, s.Written)
				assert.Contains(t, r.summary, "`"+c.secrets[i]+"`")
			}
			assert.Contains(t, p.Reason, "task deploy:rotate")
			assert.Contains(t, r.summary, "task deploy:rotate on "+sandbox.PreviousTag)
			assert.Contains(t, r.summary, "reading is not writing", "the plan says a read may pass where the write is refused")
			assert.Equal(t, sandbox.PreviousTag, r.outputs["tag"])
			assert.Equal(t, sandbox.Previous, r.outputs["sha"])
			if c.golden != "" {
				golden(t, c.golden, r.summary)
			}
		})
	}
}

// TestRotateDryRunNothingRuns: with no deployment to redeploy the plan says a rotation
// would stop, changing nothing; the dry run itself still succeeds.
func TestRotateDryRunNothingRuns(t *testing.T) {
	h := newRotateHarness(t, false, false, func(w *sandbox.World) {
		// Production's one deployment failed after all: nothing it runs can be redeployed.
		for _, d := range w.GitHub.Deployments() {
			if d.Environment == "production" {
				w.GitHub.AddDeploymentStatus(d.ID, "failure", "deploy failed")
			}
		}
	})
	_, p := rotateDryRun(t, h)
	assert.Equal(t, "fail", string(p.Outcome))
	assert.Contains(t, p.Reason, "no deployment of production records a commit it runs")
}

func TestRotateDryRunBadInput(t *testing.T) {
	cases := []struct {
		name  string
		setup func(*sandbox.World)
		says  string
	}{
		{"no secrets block", func(w *sandbox.World) { w.Config.Environments[1].Secrets = nil }, "names no secret to rotate"},
		{"token may not read secrets", func(w *sandbox.World) { w.GitHub.SetSecretsForbidden(true) }, "Secrets: read and write"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newRotateHarness(t, false, false, c.setup)
			gw := h.world.Production.Stats()
			h.env["INPUT_DRY-RUN"] = "true"
			r := h.runFresh()
			assert.Equal(t, cli.ExitBadInput, r.code, r.stdout)
			assert.Contains(t, r.stdout, c.says)
			for _, q := range h.emu.Requests() {
				assert.False(t, q.Write(), "%s %s", q.Method, q.Path)
			}
			assert.Equal(t, gw.BootstrapCreates, h.world.Production.Stats().BootstrapCreates)
			assert.Empty(t, masks(r))
		})
	}
}
