package cli_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/cli"
	"github.com/agentme/release-action/internal/clock"
	"github.com/agentme/release-action/internal/gatewayemu"
	"github.com/agentme/release-action/internal/ghemu"
	"github.com/agentme/release-action/internal/sandbox"
)

const prodPasswordEnv = "AGENTME_PRODUCTION_GATEWAY_PASSWORD"

// newRotateHarness is the release harness for `rotate`: production runs PreviousTag with
// its credential in the repository secret the configuration names, and the emulated
// deploy restarts the gateway emulators with what the secrets hold. password puts
// production in password mode.
func newRotateHarness(t *testing.T, password, bootstrap bool, setup func(*sandbox.World)) *releaseHarness {
	t.Helper()
	h := newHarness(t, nil)
	h.clk = clock.NewVirtual(sandbox.Start)
	emu := ghemu.New(ghemu.Options{Clock: h.clk, Token: knownToken})
	base := emu.Start()
	t.Cleanup(emu.Close)
	h.emu, h.url = emu, base
	for k, v := range map[string]string{"GITHUB_API_URL": base + "/api/v3", "GITHUB_GRAPHQL_URL": base + "/api/graphql", "GITHUB_SERVER_URL": base} {
		h.env[k] = v
	}
	prodOpts := gatewayemu.Options{Token: sandbox.ProductionToken, Clock: h.clk, TickInterval: -1}
	if password {
		prodOpts = gatewayemu.Options{Password: sandbox.ProductionToken, Clock: h.clk, TickInterval: -1}
	}
	w := &sandbox.World{
		GitHub:     emu,
		Staging:    gatewayemu.New(gatewayemu.Options{Token: sandbox.StagingToken, Clock: h.clk, TickInterval: -1}),
		Production: gatewayemu.New(prodOpts),
	}
	t.Cleanup(w.Staging.Close)
	t.Cleanup(w.Production.Close)
	w.Config = sandbox.ReleaseConfig(w.Staging.Start(), w.Production.Start())
	sandbox.RotateWorld(w, bootstrap)
	h.env[sandbox.StagingEnv] = sandbox.StagingToken
	if password {
		prod := &w.Config.Environments[1]
		prod.TokenEnv, prod.PasswordEnv = "", prodPasswordEnv
		prod.Secrets.Password, prod.Secrets.Token = prodPasswordEnv, ""
		emu.SetSecret(ghemu.RepoScope, prodPasswordEnv, sandbox.ProductionToken)
		sandbox.WireSecretsDeploy(w)
		h.env[prodPasswordEnv] = sandbox.ProductionToken
	} else {
		h.env[sandbox.ProductionEnv] = sandbox.ProductionToken
	}
	if setup != nil {
		setup(w)
	}
	path := filepath.Join(h.dir, "release-action.yml")
	require.NoError(t, os.WriteFile(path, []byte(w.Config.YAML()), 0o644))
	h.env["INPUT_CONFIG"] = path
	h.env["INPUT_COMMAND"] = "rotate"
	h.env["INPUT_ENVIRONMENT"] = "production"
	h.env["INPUT_REASON"] = "token seen in a CI log"
	h.env["INPUT_POLL-INTERVAL"] = "5s"
	return &releaseHarness{harness: h, world: w}
}

// masks returns the values the action announced with ::add-mask::.
func masks(r result) []string {
	var out []string
	for _, c := range r.commands() {
		if c.Name == "add-mask" {
			out = append(out, c.Data)
		}
	}
	return out
}

// noRotationSecret: the old credential and every value the action generated (which it
// announced with ::add-mask::, the one place it may appear) are nowhere else.
func (r result) noRotationSecret(t *testing.T, extra ...string) {
	t.Helper()
	var rest []string
	for _, l := range lines(r.stdout) {
		if !strings.HasPrefix(l, "::add-mask::") {
			rest = append(rest, l)
		}
	}
	clean := r
	clean.stdout = strings.Join(rest, "\n")
	clean.noSecret(t, append(append(extra, sandbox.ProductionToken, sandbox.StagingToken, sandbox.ProductionBootstrapSeed), masks(r)...)...)
}

func rotateReport(t *testing.T, r result) map[string]any {
	t.Helper()
	var rep struct {
		Rotation map[string]any `json:"rotation"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.outputs["report"]), &rep))
	return rep.Rotation
}

func TestRotateEndToEnd(t *testing.T) {
	tests := []struct {
		name      string
		password  bool
		bootstrap bool
		inputs    map[string]string
		setup     func(*sandbox.World)
		code      int
		result    string
		secret    string // the secret that must hold a new value ("" = nothing written)
		restarted bool
		contains  []string // in the summary
		says      []string // in stdout (annotations, progress)
		golden    string
	}{
		{name: "token", code: cli.ExitOK, result: "pass", secret: sandbox.ProductionTokenSecret, restarted: true,
			contains: []string{"✅ Rotated the token of production: proven", "`old-bootstrap-code` | ✅ pass"}, golden: "rotate-token.md"},
		{name: "password", password: true, code: cli.ExitOK, result: "pass", secret: prodPasswordEnv, restarted: true,
			contains: []string{"✅ Rotated the password of production: proven", "connect with the old password was refused"}},
		{name: "token and bootstrap secret", bootstrap: true, inputs: map[string]string{"INPUT_BOOTSTRAP-SECRET": "true"},
			code: cli.ExitOK, result: "pass", secret: sandbox.ProductionTokenSecret, restarted: true,
			contains: []string{"`" + sandbox.ProductionBootSecret + "` | bootstrap"}},
		{name: "stale bootstrap secret", bootstrap: true, code: cli.ExitFailed, result: "fail", secret: sandbox.ProductionTokenSecret, restarted: true,
			contains: []string{"failed after a secret was written", "run rotate again with bootstrap\\-secret: true", "`old-bootstrap-code` | ❌ fail"},
			golden:   "rotate-stale-bootstrap-secret.md"},
		{name: "GITHUB_TOKEN cannot write secrets", setup: func(w *sandbox.World) { w.GitHub.SetSecretsForbidden(true) }, code: cli.ExitBadInput,
			says: []string{"GITHUB_TOKEN can never write secrets", "Secrets: read and write", "nothing was changed", "403"}},
		{name: "deploy run fails", setup: func(w *sandbox.World) { w.GitHub.FailDeploys("production", 1) },
			code: cli.ExitFailed, result: "fail", secret: sandbox.ProductionTokenSecret,
			contains: []string{"the restart failed", "may not be running with"}},
		{name: "restarted gateway does not answer", setup: func(w *sandbox.World) {
			w.Production.At(sandbox.Start.Add(55*time.Second), func(g *gatewayemu.Server) { g.SetHTTP5xx(502) })
		}, code: cli.ExitFailed, result: "fail", secret: sandbox.ProductionTokenSecret,
			contains: []string{"NOT proven", "the new token does not work on production yet"}},
		{name: "old credential already refused: nothing changes", setup: func(w *sandbox.World) {
			_ = w.Production.RestartWith(gatewayemu.Credentials{Credential: "someone-else-rotated-it-already"})
		}, code: cli.ExitFailed, result: "fail", contains: []string{"failed: nothing was changed"}},
		{name: "no reason", inputs: map[string]string{"INPUT_REASON": ""}, code: cli.ExitBadInput, says: []string{"reason is required"}},
		{name: "unknown credential kind", inputs: map[string]string{"INPUT_CREDENTIAL": "apikey"}, code: cli.ExitBadInput},
		{name: "bootstrap secret asked but not configured", inputs: map[string]string{"INPUT_BOOTSTRAP-SECRET": "true"}, code: cli.ExitBadInput},
		{name: "no secrets block", setup: func(w *sandbox.World) { w.Config.Environments[1].Secrets = nil }, code: cli.ExitBadInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newRotateHarness(t, tt.password, tt.bootstrap, tt.setup)
			for k, v := range tt.inputs {
				h.env[k] = v
			}
			writes := h.emu.SecretWrites()
			r := h.runFresh()
			require.Equal(t, tt.code, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
			assert.Equal(t, tt.result, r.outputs["result"])
			r.noRotationSecret(t)

			if tt.secret == "" {
				assert.Equal(t, writes, h.emu.SecretWrites(), "nothing written")
				for _, s := range []string{sandbox.ProductionTokenSecret, prodPasswordEnv} {
					if v, ok := h.emu.Secret(ghemu.RepoScope, s); ok {
						assert.Equal(t, sandbox.ProductionToken, v)
					}
				}
				if tt.code == cli.ExitBadInput {
					var annotated bool
					for _, c := range r.commands() {
						annotated = annotated || c.Name == "error"
					}
					assert.True(t, annotated, "bad input is an error annotation:\n%s", r.stdout)
					assert.Empty(t, masks(r), "nothing generated for bad input")
				}
			} else {
				now, ok := h.emu.Secret(ghemu.RepoScope, tt.secret)
				require.True(t, ok)
				assert.NotEqual(t, sandbox.ProductionToken, now, "a new value was written")
				ms := masks(r)
				require.NotEmpty(t, ms)
				assert.Equal(t, now, ms[0], "the new value is announced with ::add-mask:: before anything else")
				rep := rotateReport(t, r)
				assert.Equal(t, true, rep["changed"])
				assert.Equal(t, h.emu.SecretsKeyID(ghemu.RepoScope), rep["secrets"].([]any)[0].(map[string]any)["key_id"])
				// Every later line that would carry the value is masked by the runner.
				assert.Equal(t, 1, strings.Count(r.stdout, now), "only the ::add-mask:: line holds it")
			}
			if tt.restarted {
				cred, _ := h.emu.Secret(ghemu.RepoScope, tt.secret)
				assert.Equal(t, 200, postTools(t, h.world, cred), "the gateway runs the new secret")
				assert.Equal(t, 401, postTools(t, h.world, sandbox.ProductionToken), "the old one is refused")
				d, state := newestProduction(h.emu)
				assert.Equal(t, "deploy:rotate", d.Task)
				assert.Equal(t, sandbox.Previous, d.SHA)
				assert.Contains(t, string(d.Payload), `"reason":"token seen in a CI log"`)
				if tt.code == cli.ExitOK {
					assert.Equal(t, "success", state)
					assert.NotEmpty(t, r.outputs["deployment-id"])
				} else {
					assert.Equal(t, "failure", state)
				}
			}
			for _, c := range tt.contains {
				assert.Contains(t, r.summary, c)
			}
			for _, s := range tt.says {
				assert.Contains(t, r.stdout, s)
			}
			if tt.golden != "" {
				golden(t, tt.golden, r.summary)
			}
			if tt.code == cli.ExitFailed {
				var annotated bool
				for _, c := range r.commands() {
					annotated = annotated || c.Name == "error"
				}
				assert.True(t, annotated, "a failed rotation is an error annotation")
			}
		})
	}
}

func postTools(t *testing.T, w *sandbox.World, cred string) int {
	t.Helper()
	req, err := newToolsRequest(w.Config.Environments[1].URL, cred)
	require.NoError(t, err)
	resp, err := w.Production.HTTPClient().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// TestRotateTwice: a second rotation (the re-run after a failure, or the next leak)
// generates another value, redeploys the same commit and is proven again.
func TestRotateTwice(t *testing.T) {
	h := newRotateHarness(t, false, false, func(w *sandbox.World) { w.GitHub.FailDeploys("production", 1) })
	r := h.runFresh()
	require.Equal(t, cli.ExitFailed, r.code, r.stdout)
	first, _ := h.emu.Secret(ghemu.RepoScope, sandbox.ProductionTokenSecret)
	// The gateway still runs the original token (the failed deploy restarted nothing).
	r = h.runFresh()
	require.Equal(t, cli.ExitOK, r.code, r.stdout)
	second, _ := h.emu.Secret(ghemu.RepoScope, sandbox.ProductionTokenSecret)
	assert.NotEqual(t, first, second, "the re-run generates another value")
	assert.NotEqual(t, sandbox.ProductionToken, second)
	r.noRotationSecret(t, first)
}

func newToolsRequest(base, cred string) (*http.Request, error) {
	req, err := http.NewRequest(http.MethodPost, base+"/tools/invoke", strings.NewReader(`{"tool":"sessions_list"}`))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+cred)
	req.Header.Set("Content-Type", "application/json")
	return req, nil
}
