package cli

import (
	"os"
	"sort"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestActionMetadataMatchesCommands keeps action.yml honest: every input a command reads
// in action mode is declared (an undeclared input would silently never arrive), and every
// declared input is read by some command.
func TestActionMetadataMatchesCommands(t *testing.T) {
	data, err := os.ReadFile("../../action.yml")
	require.NoError(t, err)
	var meta struct {
		Inputs map[string]struct {
			Description string `yaml:"description"`
		} `yaml:"inputs"`
		Outputs map[string]struct {
			Description string `yaml:"description"`
		} `yaml:"outputs"`
		Runs struct {
			Using string `yaml:"using"`
			Image string `yaml:"image"`
		} `yaml:"runs"`
	}
	require.NoError(t, yaml.Unmarshal(data, &meta))
	assert.Equal(t, "docker", meta.Runs.Using)

	read := map[string]bool{"command": true}
	for _, c := range commands() {
		for _, in := range c.inputs {
			read[in.name] = true
			_, ok := meta.Inputs[in.name]
			assert.True(t, ok, "command %s reads input %q that action.yml does not declare", c.name, in.name)
		}
	}
	var unused []string
	for name, in := range meta.Inputs {
		assert.NotEmpty(t, in.Description, "input %s has no description", name)
		if !read[name] {
			unused = append(unused, name)
		}
	}
	sort.Strings(unused)
	assert.Empty(t, unused, "action.yml declares inputs no command reads")
	// Every output a command writes (the harness checks each end-to-end run against the
	// command's list) is declared, and every declared output is written by some command.
	written := map[string]bool{}
	for _, c := range commands() {
		for _, out := range append([]string{"result", "report"}, c.outputs...) {
			written[out] = true
			_, ok := meta.Outputs[out]
			assert.True(t, ok, "command %s writes output %s that action.yml does not declare", c.name, out)
		}
	}
	for name, out := range meta.Outputs {
		assert.NotEmpty(t, out.Description, "output %s has no description", name)
		assert.True(t, written[name], "action.yml declares output %s that no command writes", name)
	}
}
