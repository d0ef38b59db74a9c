package cli

import (
	"errors"
	"net/url"

	"github.com/agentme/release-action/internal/outcome"
)

// parseURL parses a URL input without ever quoting it back: a URL may carry a
// password (https://user:pass@host), and url.Parse's errors repeat the whole URL.
func parseURL(what, raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, outcome.BadInputf("%s is not a valid URL (%v); the value is not repeated here because it may hold credentials", what, err)
	}
	if u.User != nil {
		return nil, outcome.BadInputf("%s must not carry user info: pass credentials as secrets (token-env, gateway-token), never in a URL", what)
	}
	return u, nil
}
