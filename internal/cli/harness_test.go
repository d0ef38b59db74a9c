package cli_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/actions"
	"github.com/agentme/release-action/internal/cli"
	"github.com/agentme/release-action/internal/clock"
	"github.com/agentme/release-action/internal/ghemu"
	"github.com/agentme/release-action/internal/markdown"
	"github.com/agentme/release-action/internal/sandbox"
)

var update = flag.Bool("update", false, "rewrite golden files")

// knownToken is the token the end-to-end tests hand the action; it must never show up in
// anything the action writes.
const knownToken = "ghs_E2EsecretTOKENvalue0123456789abcdef"

// harness runs the CLI in action mode exactly as the runner would: INPUT_* variables, a
// fake GITHUB_OUTPUT and GITHUB_STEP_SUMMARY, against a GitHub emulator on loopback that
// shares a virtual clock with the action.
type harness struct {
	t   *testing.T
	dir string
	env map[string]string
	clk *clock.Virtual
	emu *ghemu.Server
	url string
}

func newHarness(t *testing.T, setup func(*ghemu.Server), opts ...func(*ghemu.Options)) *harness {
	t.Helper()
	clk := clock.NewVirtual(sandbox.Start)
	o := ghemu.Options{Clock: clk, Token: knownToken}
	for _, f := range opts {
		f(&o)
	}
	emu := ghemu.New(o)
	base := emu.Start()
	t.Cleanup(emu.Close)
	if setup != nil {
		setup(emu)
	}
	dir := t.TempDir()
	h := &harness{t: t, dir: dir, clk: clk, emu: emu, url: base}
	h.env = map[string]string{
		"GITHUB_ACTIONS":      "true",
		"GITHUB_OUTPUT":       filepath.Join(dir, "output"),
		"GITHUB_STEP_SUMMARY": filepath.Join(dir, "summary.md"),
		"GITHUB_REPOSITORY":   "agentme/agentme",
		"GITHUB_API_URL":      base + "/api/v3",
		"GITHUB_GRAPHQL_URL":  base + "/api/graphql",
		"GITHUB_SERVER_URL":   base,
		"GITHUB_EVENT_NAME":   "workflow_dispatch",
		"GITHUB_SHA":          sandbox.Candidate,
		"GITHUB_RUN_ID":       "777",
		"GITHUB_RUN_ATTEMPT":  "1",
		"GITHUB_JOB":          "release-gate",
		"RUNNER_NAME":         "GitHub Actions 9",
		"INPUT_COMMAND":       "gate",
		"INPUT_TOKEN":         knownToken,
		"INPUT_CONFIG":        filepath.Join(dir, "no-such-config.yml"),
		"INPUT_SHA":           sandbox.Candidate,
	}
	for _, f := range []string{"output", "summary.md"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), nil, 0o644))
	}
	return h
}

// result is what one run of the action left behind.
type result struct {
	code    int
	stdout  string
	stderr  string
	outputs map[string]string
	summary string
}

func (h *harness) run(args ...string) result {
	h.t.Helper()
	var stdout, stderr bytes.Buffer
	code := cli.Main(context.Background(), cli.Env{
		Args:   args,
		Getenv: func(k string) string { return h.env[k] },
		Stdout: &stdout,
		Stderr: &stderr,
		Clock:  h.clk,
		Dir:    h.dir,
	})
	out, err := os.ReadFile(h.env["GITHUB_OUTPUT"])
	require.NoError(h.t, err)
	outputs, err := actions.ParseOutputFile(out)
	require.NoError(h.t, err, "GITHUB_OUTPUT must parse the way the runner parses it")
	sum, err := os.ReadFile(h.env["GITHUB_STEP_SUMMARY"])
	require.NoError(h.t, err)
	// What a command writes is what it declares (and action.yml declares every declared
	// output: TestActionMetadataMatchesCommands).
	declared := cli.CommandOutputs(h.env["INPUT_COMMAND"])
	for k := range outputs {
		assert.Contains(h.t, declared, k, "command %s writes output %q it does not declare", h.env["INPUT_COMMAND"], k)
	}
	return result{code: code, stdout: stdout.String(), stderr: stderr.String(), outputs: outputs, summary: string(sum)}
}

// noSecret fails when the known token shows up anywhere the action wrote.
func (r result) noSecret(t *testing.T, secrets ...string) {
	t.Helper()
	for _, s := range append(secrets, knownToken) {
		require.NotContains(t, r.stdout, s, "stdout leaks a secret")
		require.NotContains(t, r.stderr, s, "stderr leaks a secret")
		require.NotContains(t, r.summary, s, "summary leaks a secret")
		require.NotContains(t, r.summary, markdown.Escape(s), "summary leaks a secret in its Markdown-escaped spelling")
		for k, v := range r.outputs {
			require.NotContains(t, v, s, "output %s leaks a secret", k)
		}
	}
}

// commands returns the workflow commands the runner would execute from stdout.
func (r result) commands() []actions.Command { return actions.ParseCommands(r.stdout) }

// Things that differ from run to run: loopback ports (plain and Markdown-escaped) and
// the smoke probes' random session keys.
var (
	portRe        = regexp.MustCompile(`http(\\?)://127\.0\.0\.1:\d+`)
	escapedPortRe = regexp.MustCompile(`127\\\.0\.0\.1:\d+`)
	sessionRe     = regexp.MustCompile(`release\\?-action\\?-smoke\\?-[a-z0-9]+`)
	runRe         = regexp.MustCompile(`run "[A-Z0-9]{16}"`)
)

// golden compares got with testdata/golden/name (regenerated with -update), after the
// emulator's random port is replaced by a fixed host.
func golden(t *testing.T, name, got string) {
	t.Helper()
	got = portRe.ReplaceAllString(got, "http${1}://ghemu.test")
	got = escapedPortRe.ReplaceAllString(got, "loopback")
	got = sessionRe.ReplaceAllString(got, "SESSION")
	got = runRe.ReplaceAllString(got, `run "RUN"`)
	path := filepath.Join("testdata", "golden", name)
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "golden file missing: run go test ./internal/cli -update")
	require.Equal(t, string(want), got, "golden %s differs; if the change is intended run: go test ./internal/cli -run %s -update", name, t.Name())
}

func lines(s string) []string { return strings.Split(strings.TrimRight(s, "\n"), "\n") }
