package deploy

import (
	"strings"

	"github.com/agentme/release-action/internal/config"
)

// ProductionName is the environment name that marks production by itself.
const ProductionName = "production"

// ProductionIndex returns the index of the configured environment whose deployments are
// made with production_environment true: the one named "production" (compared
// case-insensitively, as GitHub compares environment names) when there is one, else the last
// one (environments deploy in order, production last). -1 when there are none.
//
// GitHub treats production_environment records differently (auto_inactive leaves them
// alone), so a configuration like [staging, production, canary] marks production, not
// canary.
func ProductionIndex(envs []config.Environment) int {
	for i, e := range envs {
		if strings.EqualFold(e.Name, ProductionName) {
			return i
		}
	}
	return len(envs) - 1
}
