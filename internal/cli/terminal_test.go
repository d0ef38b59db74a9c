package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/cli"
)

// runTerminal runs the CLI as a person would at a terminal (no GITHUB_ACTIONS).
func runTerminal(t *testing.T, tty bool, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = cli.Main(context.Background(), cli.Env{
		Args:             args,
		Getenv:           func(k string) string { return env[k] },
		Stdout:           &out,
		Stderr:           &errOut,
		StdoutIsTerminal: tty,
	})
	return code, out.String(), errOut.String()
}

var (
	mdEscape = regexp.MustCompile("\\\\[!-/:-@\\[-`{-~]|&(amp|lt|gt|quot);|\\]\\(https?:|<details>|^#+ |\\| --- \\|")
	sgrCode  = regexp.MustCompile(`\x1b\[[0-9;]*m`)
	loopback = regexp.MustCompile(`127\.0\.0\.1:[0-9]+`)
)

// TestTerminalOutput holds the CLI to the issue it fixes: at a terminal a command prints
// its summary as text (no Markdown escapes, aligned tables), coloured only on a terminal
// without NO_COLOR.
func TestTerminalOutput(t *testing.T) {
	code, stdout, _ := runTerminal(t, false, nil, "sandbox", "--scenario", "release-smoke-failing")
	require.Equal(t, cli.ExitFailed, code)
	for i, ln := range strings.Split(stdout, "\n") {
		assert.False(t, mdEscape.MatchString(ln), "line %d is Markdown: %q", i+1, ln)
	}
	assert.Contains(t, stdout, "hello-ok from gateway")
	assert.Contains(t, stdout, "Origin http://127.0.0.1:")
	assert.Contains(t, stdout, "tool sessions_list ran")
	assert.Regexp(t, `(?m)^Probe +Result +Latency +Attempts +Detail$`, stdout)
	assert.Regexp(t, `(?m)^connect-auth  ✅ pass  `, stdout)
	assert.Contains(t, stdout, "\nresult=fail\n")
	assert.NotContains(t, stdout, "\x1b", "no colour when stdout is not a terminal")

	_, coloured, _ := runTerminal(t, true, nil, "sandbox", "--scenario", "all-green")
	assert.Contains(t, coloured, "\x1b[1;4m✅ Release gate passed\x1b[0m")
	_, plain, _ := runTerminal(t, false, nil, "sandbox", "--scenario", "all-green")
	assert.Equal(t, loopback.ReplaceAllString(plain, "127.0.0.1:PORT"), loopback.ReplaceAllString(sgrCode.ReplaceAllString(coloured, ""), "127.0.0.1:PORT"))

	_, noColor, _ := runTerminal(t, true, map[string]string{"NO_COLOR": "1"}, "sandbox", "--scenario", "all-green")
	assert.NotContains(t, noColor, "\x1b")
}

// TestJSONOutput: with --json stdout holds the report alone, one JSON object per line,
// and the progress goes to stderr.
func TestJSONOutput(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		code    int
		command string
		result  string
		lines   int // one report per run: the resume scenario runs the release twice
	}{
		{"gate", []string{"sandbox", "--scenario", "test-failing", "--json"}, cli.ExitFailed, "gate", "fail", 1},
		{"release run twice", []string{"sandbox", "--scenario", "release-resume", "--json"}, cli.ExitOK, "release", "pass", 2},
		{"monitor", []string{"sandbox", "--scenario", "monitor-restart-loop", "--json"}, cli.ExitFailed, "monitor", "fail", 1},
		{"rollback", []string{"sandbox", "--scenario", "rollback", "--json"}, cli.ExitOK, "rollback", "pass", 1},
		{"version", []string{"version", "--json"}, cli.ExitOK, "version", "", 1},
		{"config", []string{"config", "--json", "--config", "no-such-file.yml"}, cli.ExitOK, "config", "", 1},
		{"scenario list", []string{"sandbox", "--scenario", "list", "--json"}, cli.ExitOK, "sandbox", "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runTerminal(t, true, nil, tt.args...)
			require.Equal(t, tt.code, code, "stderr:\n%s", stderr)
			lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
			require.Len(t, lines, tt.lines, "stdout:\n%s", stdout)
			var rep map[string]any
			for _, ln := range lines {
				rep = nil
				require.NoError(t, json.Unmarshal([]byte(ln), &rep), "stdout line is not JSON: %q", ln)
				assert.Equal(t, tt.command, rep["command"])
			}
			if tt.result != "" {
				assert.Equal(t, tt.result, rep["result"], "the last report's result")
			}
			if tt.command == "config" {
				cfg, ok := rep["config"].(map[string]any)
				require.True(t, ok, "config is an object: %v", rep["config"])
				assert.Contains(t, cfg, "gates", "the configuration file's own key names")
			}
			assert.NotContains(t, stdout, "\x1b")
			if strings.HasPrefix(tt.args[0], "sandbox") && tt.args[2] != "list" {
				assert.Contains(t, stderr, "Sandbox scenario", "progress goes to stderr")
			}
		})
	}
}

func TestJSONFlagInHelp(t *testing.T) {
	code, stdout, _ := runTerminal(t, false, nil, "gate", "--help")
	require.Equal(t, cli.ExitOK, code)
	assert.Regexp(t, `(?m)^  --json +print only the report as JSON`, stdout)
}
