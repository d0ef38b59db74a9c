package rotate_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/clock"
	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/ghemu"
	"github.com/agentme/release-action/internal/github"
	"github.com/agentme/release-action/internal/rotate"
	"github.com/agentme/release-action/internal/sandbox"
	"github.com/agentme/release-action/internal/smoke"
)

// realDirEnv names a directory holding run-gateway.sh and stop-gateway.sh, which start
// and stop the REAL Agent Me gateway built from source (see the README's "Rotation
// against the real gateway"). CI does not set it: building the gateway takes minutes
// and needs node; the test is run by hand where it is built.
const realDirEnv = "RELEASE_ACTION_REAL_AGENTME"

// realGateway drives one real gateway through the scripts. Credentials reach the scripts
// as arguments (the scripts pass them to the gateway as AGENTME_GATEWAY_TOKEN etc.); the
// scripts' output is kept apart from the rotation's output, which is what must stay clean.
type realGateway struct {
	dir, mode string
	port      int
	mu        sync.Mutex
	restarts  int
	log       bytes.Buffer
}

func (g *realGateway) run(t *testing.T, args ...string) error {
	cmd := exec.Command(filepath.Join(g.dir, args[0]), args[1:]...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	g.mu.Lock()
	g.log.Write(out.Bytes())
	g.mu.Unlock()
	if err != nil {
		t.Logf("%s failed: %v", args[0], err)
	}
	return err
}

func (g *realGateway) start(t *testing.T, cred, bootstrap string) error {
	if bootstrap == "" {
		bootstrap = "-"
	}
	return g.run(t, "run-gateway.sh", strconv.Itoa(g.port), g.mode, cred, bootstrap)
}

func (g *realGateway) stop(t *testing.T, all bool) {
	args := []string{"stop-gateway.sh", strconv.Itoa(g.port)}
	if all {
		args = append(args, "--all")
	}
	_ = g.run(t, args...)
}

func (g *realGateway) url() string { return fmt.Sprintf("http://127.0.0.1:%d", g.port) }

// TestRotateRealGateway rotates the credential of a real Agent Me gateway: the GitHub
// emulator stores the sealed secret (decrypting it with its private key) and its Deploy
// workflow stops the real gateway and starts it again with the stored values, as a
// deploy workflow that reads the secrets does. Expected: the new secret differs from the
// old one, the real gateway refuses the old credential (WebSocket and /tools/invoke) and
// the bootstrap code made with it, accepts the new one, and no value appears anywhere
// in the rotation's output; with a dedicated bootstrap secret left unrotated, the old
// code still exchanges and the rotation fails.
func TestRotateRealGateway(t *testing.T) {
	dir := os.Getenv(realDirEnv)
	if dir == "" {
		t.Skipf("%s is not set: no real gateway to rotate", realDirEnv)
	}
	tests := []struct {
		name      string
		mode      string
		bootstrap bool // the gateway has a dedicated AGENTME_BOOTSTRAP_SECRET
		rotateBS  bool
		verdict   string
		failing   []string
	}{
		{name: "token", mode: "token", verdict: "pass"},
		{name: "password", mode: "password", verdict: "pass"},
		{name: "token and bootstrap secret", mode: "token", bootstrap: true, rotateBS: true, verdict: "pass"},
		{name: "stale bootstrap secret", mode: "token", bootstrap: true, verdict: "fail", failing: []string{smoke.ProbeOldBootstrapCode}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := &realGateway{dir: dir, mode: tt.mode, port: 28850 + 10*i}
			oldCred, err := rotate.Generate()
			require.NoError(t, err)
			var oldBoot string
			if tt.bootstrap {
				oldBoot, err = rotate.Generate()
				require.NoError(t, err)
			}
			t0 := time.Now()
			require.NoError(t, g.start(t, oldCred, oldBoot), "start the real gateway")
			t.Cleanup(func() { g.stop(t, true) })
			t.Logf("real gateway up on %s (%s mode) in %s", g.url(), tt.mode, time.Since(t0).Round(time.Millisecond))

			clk := clock.Real{}
			emu := ghemu.New(ghemu.Options{Clock: clk, Token: ghToken})
			base := emu.Start()
			t.Cleanup(emu.Close)
			sandbox.AgentMeRepo(emu)
			secrets := &config.Secrets{Scope: config.SecretScopeEnvironment}
			if tt.mode == "token" {
				secrets.Token = "AGENTME_PRODUCTION_GATEWAY_TOKEN"
			} else {
				secrets.Password = "AGENTME_PRODUCTION_GATEWAY_PASSWORD"
			}
			emu.SetSecret("production", secrets.Token+secrets.Password, oldCred)
			if tt.bootstrap {
				secrets.Bootstrap = "AGENTME_PRODUCTION_BOOTSTRAP_SECRET"
				emu.SetSecret("production", secrets.Bootstrap, oldBoot)
			}
			// The deploy workflow: stop the gateway, start it with what the secrets hold now.
			emu.OnDispatch(ghemu.WorkflowDeploy, func(d ghemu.Dispatch) []ghemu.JobSpec {
				cred, _ := emu.Secret("production", secrets.Token+secrets.Password)
				boot := ""
				if secrets.Bootstrap != "" {
					boot, _ = emu.Secret("production", secrets.Bootstrap)
				}
				t1 := time.Now()
				g.stop(t, false)
				ok := g.start(t, cred, boot) == nil
				g.mu.Lock()
				g.restarts++
				g.mu.Unlock()
				t.Logf("deploy run: real gateway restarted with the stored secrets in %s (ok=%v)", time.Since(t1).Round(time.Millisecond), ok)
				return []ghemu.JobSpec{ghemu.DeployJob("production", !ok)}
			})

			c, err := github.New(github.Repo{Owner: emu.Owner(), Name: emu.Repo()}, github.Options{
				Token: ghToken, APIURL: base + "/api/v3", GraphQLURL: base + "/api/graphql", Clock: clk,
				AttemptTimeout: 3 * time.Minute, // the dispatch waits for the real restart
			})
			require.NoError(t, err)
			u, _ := url.Parse(g.url())
			env := config.Environment{Name: "production", URL: g.url(), Timeout: config.Duration(10 * time.Minute), Secrets: secrets}
			if tt.mode == "token" {
				env.TokenEnv = "AGENTME_PRODUCTION_GATEWAY_TOKEN"
			} else {
				env.PasswordEnv = "AGENTME_PRODUCTION_GATEWAY_PASSWORD"
			}
			out := &output{}
			req := rotate.Request{
				Environment: env, Trigger: config.Deploy{Workflow: "deploy.yml"}, BootstrapSecret: tt.rotateBS,
				Reason: "real-gateway rotation test", OldCredential: oldCred, Production: true,
				Smoke: smoke.Options{URL: u, Clock: clk, Ready: time.Minute, ChannelTimeout: 10 * time.Second},
				Clock: clk, Mask: out.mask, Progress: out.progress, PollInterval: 2 * time.Second,
			}
			ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
			defer cancel()
			rep, err := rotate.Run(ctx, c, req)
			require.NoError(t, err)

			for _, l := range out.lines {
				t.Logf("progress: %s", l)
			}
			if rep.Verification != nil {
				for _, p := range rep.Verification.Probes {
					t.Logf("probe %-28s ok=%-5v %s", p.Name, p.OK, p.Detail)
				}
			}
			t.Logf("verdict %s, stage %s, secrets %+v, deployment %d, problem %q",
				rep.Verdict, rep.Stage, rep.Secrets, deploymentID(rep), rep.Problem)
			assert.Equal(t, tt.verdict, string(rep.Verdict), rep.Problem)
			assert.Equal(t, 1, g.restarts, "one restart through the deploy workflow")

			newCred, _ := emu.Secret("production", secrets.Token+secrets.Password)
			assert.NotEqual(t, oldCred, newCred, "the new secret differs from the old")
			assert.Len(t, newCred, 43)
			// Independent of the probes: what the real gateway answers now.
			assert.Equal(t, 401, invoke(t, g.url(), oldCred), "old credential on /tools/invoke")
			assert.Equal(t, 200, invoke(t, g.url(), newCred), "new credential on /tools/invoke")
			var failing []string
			for _, p := range rep.Verification.Probes {
				if !p.OK {
					failing = append(failing, p.Name)
				}
			}
			assert.Equal(t, tt.failing, failing)
			if tt.rotateBS {
				boot, _ := emu.Secret("production", secrets.Bootstrap)
				assert.NotEqual(t, oldBoot, boot)
			}

			// No value in anything the rotation produced.
			b, err := json.Marshal(rep)
			require.NoError(t, err)
			text := string(b) + "\n" + strings.Join(out.lines, "\n")
			for _, secret := range append([]string{oldCred, oldBoot, newCred}, out.masked...) {
				if secret != "" {
					assert.NotContains(t, text, secret)
				}
			}
			assert.GreaterOrEqual(t, len(out.masked), 2, "the new value and the pre-rotation code were masked")
		})
	}
}

func deploymentID(r *rotate.Report) int64 {
	if r.Deploy == nil {
		return 0
	}
	return r.Deploy.DeploymentID
}

func invoke(t *testing.T, base, cred string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+"/tools/invoke", strings.NewReader(`{"tool":"sessions_list"}`))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+cred)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}
