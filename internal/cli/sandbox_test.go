package cli_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/cli"
	"github.com/agentme/release-action/internal/sandbox"
)

// TestSandboxCommand runs `release-action sandbox --scenario X` as a person would, in a
// terminal with no token and no GitHub environment, and holds every scenario to its
// expected result.
func TestSandboxCommand(t *testing.T) {
	for _, sc := range sandbox.Scenarios() {
		t.Run(sc.Name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			code := cli.Main(context.Background(), cli.Env{
				Args:   []string{"sandbox", "--scenario", sc.Name},
				Getenv: func(string) string { return "" },
				Stdout: &stdout, Stderr: &stderr,
			})
			want := cli.ExitOK
			if sc.Want == "fail" {
				want = cli.ExitFailed
			}
			require.Equal(t, want, code, "stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
			assert.Contains(t, stdout.String(), "\nresult="+sc.Want+"\n")
			assert.Contains(t, stdout.String(), "Sandbox scenario "+sc.Name)
		})
	}
	t.Run("default is the whole release", func(t *testing.T) {
		var stdout bytes.Buffer
		code := cli.Main(context.Background(), cli.Env{Args: []string{"sandbox"}, Getenv: func(string) string { return "" }, Stdout: &stdout})
		require.Equal(t, cli.ExitOK, code)
		assert.True(t, strings.Contains(stdout.String(), "release tag"), "the default sandbox runs the release")
	})
	t.Run("unknown scenario", func(t *testing.T) {
		var stderr bytes.Buffer
		code := cli.Main(context.Background(), cli.Env{Args: []string{"sandbox", "--scenario", "nope"}, Getenv: func(string) string { return "" }, Stderr: &stderr})
		assert.Equal(t, cli.ExitBadInput, code)
		assert.Contains(t, stderr.String(), "choose one of")
	})
}
