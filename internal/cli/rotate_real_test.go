package cli_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/actions"
	"github.com/agentme/release-action/internal/cli"
	"github.com/agentme/release-action/internal/clock"
	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/ghemu"
	"github.com/agentme/release-action/internal/rotate"
	"github.com/agentme/release-action/internal/sandbox"
)

// TestRotateRealGatewayAction runs `rotate` exactly as a workflow step would (action
// mode: INPUT_* variables, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY) against the REAL Agent Me
// gateway built from source, with the GitHub emulator's deploy stopping it and starting
// it again with the secret it decrypted. It runs only where RELEASE_ACTION_REAL_AGENTME
// names the directory of run-gateway.sh and stop-gateway.sh (CI does not set it).
func TestRotateRealGatewayAction(t *testing.T) {
	dir := os.Getenv("RELEASE_ACTION_REAL_AGENTME")
	if dir == "" {
		t.Skip("RELEASE_ACTION_REAL_AGENTME is not set: no real gateway to rotate")
	}
	const port = 28890
	script := func(args ...string) error {
		cmd := exec.Command(filepath.Join(dir, args[0]), args[1:]...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		if err != nil {
			t.Logf("%s: %v", args[0], err)
		}
		return err
	}
	oldToken, err := rotate.Generate()
	require.NoError(t, err)
	require.NoError(t, script("run-gateway.sh", strconv.Itoa(port), "token", oldToken))
	t.Cleanup(func() { _ = script("stop-gateway.sh", strconv.Itoa(port), "--all") })
	gwURL := fmt.Sprintf("http://127.0.0.1:%d", port)

	clk := clock.Real{}
	emu := ghemu.New(ghemu.Options{Clock: clk, Token: knownToken})
	base := emu.Start()
	t.Cleanup(emu.Close)
	sandbox.AgentMeRepo(emu)
	const secret = "AGENTME_PRODUCTION_GATEWAY_TOKEN"
	emu.SetSecret(ghemu.RepoScope, secret, oldToken)
	// The deploy run: the restart happens while the job runs (a real start takes up to a
	// minute here), and the job outlasts it; the action's readiness wait covers the gap.
	var restarts atomic.Int32
	restarted := make(chan bool, 1)
	emu.OnDispatch(ghemu.WorkflowDeploy, func(d ghemu.Dispatch) []ghemu.JobSpec {
		v, _ := emu.Secret(ghemu.RepoScope, secret)
		go func() {
			_ = script("stop-gateway.sh", strconv.Itoa(port))
			ok := script("run-gateway.sh", strconv.Itoa(port), "token", v) == nil
			restarts.Add(1)
			restarted <- ok
		}()
		return []ghemu.JobSpec{{Name: "deploy (production)", QueueFor: time.Second, RunFor: 150 * time.Second,
			Steps: []ghemu.StepSpec{{Name: "Deploy to production", Run: "stop-gateway.sh && run-gateway.sh"}}}}
	})

	cfg := config.Default()
	cfg.Environments = []config.Environment{{Name: "production", URL: gwURL, TokenEnv: secret,
		Timeout: config.Duration(10 * time.Minute), Smoke: []string{"connect-auth"}, Secrets: &config.Secrets{Token: secret, Scope: "repository"}}}
	tmp := t.TempDir()
	cfgPath := filepath.Join(tmp, "release-action.yml")
	require.NoError(t, os.WriteFile(cfgPath, []byte(cfg.YAML()), 0o644))
	for _, f := range []string{"output", "summary.md"} {
		require.NoError(t, os.WriteFile(filepath.Join(tmp, f), nil, 0o644))
	}
	env := map[string]string{
		"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": filepath.Join(tmp, "output"), "GITHUB_STEP_SUMMARY": filepath.Join(tmp, "summary.md"),
		"GITHUB_REPOSITORY": "agentme/agentme", "GITHUB_API_URL": base + "/api/v3", "GITHUB_GRAPHQL_URL": base + "/api/graphql",
		"GITHUB_SERVER_URL": base, "GITHUB_EVENT_NAME": "workflow_dispatch", "GITHUB_RUN_ID": "4242", "GITHUB_RUN_ATTEMPT": "1",
		"INPUT_COMMAND": "rotate", "INPUT_TOKEN": knownToken, "INPUT_CONFIG": cfgPath, "INPUT_ENVIRONMENT": "production",
		"INPUT_REASON": "real-gateway rotation through the action", "INPUT_POLL-INTERVAL": "2s",
		secret: oldToken,
	}
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	code := cli.Main(ctx, cli.Env{Args: nil, Getenv: func(k string) string { return env[k] }, Stdout: &stdout, Stderr: &stderr, Clock: clk})
	out, _ := os.ReadFile(env["GITHUB_OUTPUT"])
	outputs, err := actions.ParseOutputFile(out)
	require.NoError(t, err)
	sum, _ := os.ReadFile(env["GITHUB_STEP_SUMMARY"])
	r := result{code: code, stdout: stdout.String(), stderr: stderr.String(), outputs: outputs, summary: string(sum)}
	t.Logf("exit %d, result %s, deployment %s\n--- stdout ---\n%s\n--- summary ---\n%s", code, outputs["result"], outputs["deployment-id"], maskLines(r.stdout), r.summary)

	require.Equal(t, cli.ExitOK, code, maskLines(r.stdout))
	assert.True(t, <-restarted, "the real gateway restarted")
	assert.Equal(t, int32(1), restarts.Load())
	newToken, _ := emu.Secret(ghemu.RepoScope, secret)
	assert.NotEqual(t, oldToken, newToken, "the new secret differs from the old")
	assert.Equal(t, []string{newToken}, masks(r)[:1], "the new value is announced with ::add-mask:: first")
	assert.Equal(t, 401, realInvoke(t, gwURL, oldToken), "the real gateway refuses the old token")
	assert.Equal(t, 200, realInvoke(t, gwURL, newToken), "and accepts the new one")
	var rest []string
	for _, l := range lines(r.stdout) {
		if !strings.HasPrefix(l, "::add-mask::") {
			rest = append(rest, l)
		}
	}
	clean := r
	clean.stdout = strings.Join(rest, "\n")
	clean.noSecret(t, append([]string{oldToken, newToken}, masks(r)...)...)
}

// maskLines hides the values of ::add-mask:: lines in a test log (they are the one
// place the action prints them, as the runner requires).
func maskLines(s string) string {
	ls := lines(s)
	for i, l := range ls {
		if strings.HasPrefix(l, "::add-mask::") {
			ls[i] = "::add-mask::<value>"
		}
	}
	return strings.Join(ls, "\n")
}

func realInvoke(t *testing.T, base, cred string) int {
	t.Helper()
	req, err := newToolsRequest(base, cred)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}
