package cli

import (
	"context"

	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/github"
	"github.com/agentme/release-action/internal/release"
)

// monitorFunc is the release's post-production monitor. Until the monitor command is
// wired it is nil, and the release reports the step as "not configured".
func (a *app) monitorFunc(_ *github.Client, _ releaseParams) func(ctx context.Context, env config.Environment, deploymentID int64) (*release.MonitorOutcome, error) {
	return nil
}
