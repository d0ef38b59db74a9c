package environment

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/agentme/release-action/internal/github"
	"github.com/agentme/release-action/internal/outcome"
)

func TestClassifyPlanNamesARefusedWrite(t *testing.T) {
	err := classifyPlan(fmt.Errorf("create ref: %w", github.ErrReadOnly), "plan the release of abc")
	assert.ErrorIs(t, err, github.ErrReadOnly)
	assert.False(t, errors.Is(err, outcome.ErrBadInput))
	assert.Contains(t, err.Error(), "the dry run tried to write to GitHub")
	assert.NotContains(t, err.Error(), "re-run the job when GitHub answers again")

	err = classifyPlan(errors.New("502"), "plan the release of abc")
	assert.Contains(t, err.Error(), "GitHub or network failure", "other errors are classified as ever")
}
