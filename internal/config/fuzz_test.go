package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/config"
)

// FuzzParse checks that Parse never panics, that every failure is reported as *Error
// values with a position, one line each, and that every success is a valid configuration
// that prints and parses back to itself.
func FuzzParse(f *testing.F) {
	seeds, err := filepath.Glob("testdata/*/*.yml")
	require.NoError(f, err)
	seeds = append(seeds, "testdata/agentme.yml")
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		require.NoError(f, err)
		f.Add(data)
	}
	f.Add([]byte("a: &a [*a]\n"))
	f.Add([]byte("environments: [{name: x, smoke: [], window: {timezone: UTC, freeze: [{from: 2026-01-01, to: 2026-01-01}]}}]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := config.Parse("f.yml", data)
		if err != nil {
			require.Nil(t, c)
			errs := config.Errors(err)
			require.NotEmpty(t, errs, "every problem is an *Error: %v", err)
			for _, e := range errs {
				assert.Equal(t, "f.yml", e.File)
				assert.GreaterOrEqual(t, e.Line, 1, e.Error())
				assert.GreaterOrEqual(t, e.Column, 1, e.Error())
				assert.NotEmpty(t, e.Msg)
				assert.NotContains(t, e.Error(), "\n", "one line per problem")
			}
			return
		}
		require.NotNil(t, c)
		require.NoError(t, c.Validate())
		out := c.YAML()
		back, err := config.Parse("f.yml", []byte(out))
		require.NoError(t, err, "printed configuration does not parse:\n%s", out)
		assert.Equal(t, c, back, "printed configuration parses to something else:\n%s", out)
		assert.True(t, strings.HasPrefix(c.JSON(), "{"))
	})
}
