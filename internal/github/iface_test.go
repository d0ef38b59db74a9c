package github_test

import (
	"github.com/agentme/release-action/internal/deploy"
	"github.com/agentme/release-action/internal/github"
	"github.com/agentme/release-action/internal/release"
	"github.com/agentme/release-action/internal/rollback"
	"github.com/agentme/release-action/internal/stoprollout"
)

// The client must satisfy the interfaces the logic packages declare for it.
var (
	_ deploy.GitHub      = (*github.Client)(nil)
	_ release.GitHub     = (*github.Client)(nil)
	_ rollback.GitHub    = (*github.Client)(nil)
	_ stoprollout.GitHub = (*github.Client)(nil)
)
