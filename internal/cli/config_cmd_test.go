package cli_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/actions"
	"github.com/agentme/release-action/internal/cli"
	"github.com/agentme/release-action/internal/config"
)

func runCLI(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := cli.Main(context.Background(), cli.Env{Args: args, Getenv: func(string) string { return "" }, Stdout: &stdout, Stderr: &stderr})
	return code, stdout.String(), stderr.String()
}

func TestConfigCommand(t *testing.T) {
	dir := t.TempDir()
	t.Run("built-in defaults", func(t *testing.T) {
		code, out, _ := runCLI("config", "--config", filepath.Join(dir, "absent.yml"))
		require.Equal(t, cli.ExitOK, code)
		assert.Contains(t, out, "built-in Agent Me defaults")
		cfg, err := config.Parse("printed", []byte(out))
		require.NoError(t, err, "the printed configuration is a valid configuration")
		assert.Equal(t, config.Default().Gates, cfg.Gates)
	})
	t.Run("the design example", func(t *testing.T) {
		code, out, _ := runCLI("config", "--config", "../config/testdata/agentme.yml")
		require.Equal(t, cli.ExitOK, code)
		assert.Contains(t, out, "Australia/Brisbane")
	})
	t.Run("errors name file, line and column", func(t *testing.T) {
		path := filepath.Join(dir, "bad.yml")
		require.NoError(t, os.WriteFile(path, []byte("policy:\n  skipped: maybe\n  nutral: pass\n"), 0o644))
		code, _, errOut := runCLI("config", "--config", path)
		require.Equal(t, cli.ExitBadInput, code)
		assert.Contains(t, errOut, path+":2:12")
		assert.Contains(t, errOut, "fail, pass")
		assert.Contains(t, errOut, path+":3:3", "every problem is reported at once")
	})
}

func TestHelpAndVersion(t *testing.T) {
	code, out, _ := runCLI("--help")
	assert.Equal(t, cli.ExitOK, code)
	for _, c := range []string{"gate", "release", "rollback", "monitor", "smoke", "config", "sandbox"} {
		assert.Contains(t, out, "  "+c+" ")
	}
	for _, c := range []string{"gate", "release", "rollback", "monitor", "smoke", "config", "sandbox"} {
		code, out, _ := runCLI(c, "--help")
		assert.Equal(t, cli.ExitOK, code, c)
		assert.Contains(t, out, "release-action "+c+":", c)
	}
	code, out, _ = runCLI("version")
	assert.Equal(t, cli.ExitOK, code)
	assert.Contains(t, out, "release-action ")
	code, _, errOut := runCLI("gate", "--no-such-flag")
	assert.Equal(t, cli.ExitBadInput, code)
	assert.Contains(t, errOut, "--help")
}

// TestConfigCommandCannotInjectCommands: on a pull request the configuration is the
// author's; printing it in a workflow must not execute anything it holds.
func TestConfigCommandCannotInjectCommands(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "hostile.yml")
	require.NoError(t, os.WriteFile(path, []byte("gates:\n  - name: \"x ##[error title=pwned]y\"\n    check: \"::warning::z\"\n"), 0o644))
	var stdout bytes.Buffer
	env := map[string]string{"GITHUB_ACTIONS": "true", "INPUT_COMMAND": "config", "INPUT_CONFIG": path}
	code := cli.Main(context.Background(), cli.Env{Getenv: func(k string) string { return env[k] }, Stdout: &stdout})
	require.Equal(t, cli.ExitOK, code, stdout.String())
	assert.Contains(t, stdout.String(), "pwned", "the configuration is printed")
	for _, c := range actions.ParseCommands(stdout.String()) {
		switch c.Name {
		case "error", "warning":
			t.Errorf("the configuration injected %q: %q", c.Name, c.Data)
		}
	}
}
