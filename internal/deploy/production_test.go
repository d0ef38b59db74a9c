package deploy

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/agentme/release-action/internal/config"
)

func TestProductionIndex(t *testing.T) {
	envs := func(names ...string) []config.Environment {
		var out []config.Environment
		for _, n := range names {
			out = append(out, config.Environment{Name: n})
		}
		return out
	}
	tests := []struct {
		name string
		envs []config.Environment
		want int
	}{
		{"none", nil, -1},
		{"one", envs("live"), 0},
		{"production last", envs("staging", "production"), 1},
		{"production by name, not position", envs("staging", "production", "canary"), 1},
		{"names compare like GitHub's", envs("staging", "Production", "canary"), 1},
		{"no production name: the last", envs("staging", "live"), 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, ProductionIndex(tc.envs))
		})
	}
}
