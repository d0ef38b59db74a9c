package cli

import (
	"net/url"

	"github.com/agentme/release-action/internal/environment"
)

// parseURL parses a URL input without ever quoting it back (see environment.ParseURL).
func parseURL(what, raw string) (*url.URL, error) { return environment.ParseURL(what, raw) }
