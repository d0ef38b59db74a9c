package cli

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/agentme/release-action/internal/environment"
	"github.com/agentme/release-action/internal/github"
	"github.com/agentme/release-action/internal/outcome"
)

// TestExitCode pins the one mapping from how a command ended to its exit code.
func TestExitCode(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"passed", nil, ExitOK},
		{"scheduled", outcome.Decided(outcome.Scheduled, "waits"), ExitOK},
		{"gate blocked", outcome.Decided(outcome.Fail, "check failed"), ExitFailed},
		{"verdict error", &outcome.Decision{Verdict: outcome.Error}, ExitAPI},
		{"wrapped verdict", fmt.Errorf("release: %w", outcome.Decided(outcome.Fail, "smoke")), ExitFailed},
		{"bad input", outcome.BadInputf("input force: %q is not a boolean", "maybe"), ExitBadInput},
		{"bad input wrapped", fmt.Errorf("gate configuration: %w", outcome.BadInputf("no gates")), ExitBadInput},
		{"token refused", environment.Classify(github.ErrUnauthorized, "resolve"), ExitBadInput},
		{"rate limited", environment.Classify(github.ErrRateLimited, "resolve"), ExitAPI},
		{"network", errors.New("dial tcp: connection refused"), ExitAPI},
		{"cancelled", context.Canceled, ExitAPI},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, exitCode(tt.err))
		})
	}
}
