package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type exampleWorkflow struct {
	Concurrency struct {
		Group            string `yaml:"group"`
		CancelInProgress bool   `yaml:"cancel-in-progress"`
	} `yaml:"concurrency"`
	Permissions map[string]string `yaml:"permissions"`
}

func readExample(t *testing.T, name string) (exampleWorkflow, string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "examples", name))
	require.NoError(t, err)
	var w exampleWorkflow
	require.NoError(t, yaml.Unmarshal(b, &w))
	return w, string(b)
}

// TestRollbackExampleNeverQueuesBehindRelease: the rollback has its own concurrency group
// per environment (a release in its monitor holds the release group), may cancel runs,
// and the release example keeps nothing that runs after a cancel.
func TestRollbackExampleNeverQueuesBehindRelease(t *testing.T) {
	rb, _ := readExample(t, "rollback.yml")
	rel, relText := readExample(t, "release.yml")
	assert.NotEqual(t, rel.Concurrency.Group, rb.Concurrency.Group)
	assert.Contains(t, rb.Concurrency.Group, "inputs.environment", "one group per environment")
	assert.False(t, rb.Concurrency.CancelInProgress, "a rollback in progress is never cancelled by the next")
	assert.Equal(t, "write", rb.Permissions["actions"], "cancelling runs needs actions: write")
	assert.Equal(t, "write", rb.Permissions["deployments"])
	for _, l := range strings.Split(relText, "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(l), "if:"); ok && k == "" {
			assert.NotContains(t, v, "always()", "a cancelled release must stop at once: %s", l)
		}
	}
	assert.Contains(t, relText, "!cancelled()")
}
