package environment

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/github"
	"github.com/agentme/release-action/internal/monitor"
	"github.com/agentme/release-action/internal/outcome"
)

// CheckGateways fails early, before anything is gated or deployed, when an environment
// that is validated (smoke or monitor) has no URL or no credential in the environment
// variable its configuration names. Every problem is reported at once, as bad input; every
// credential read is masked.
func (s *Service) CheckGateways(envs ...config.Environment) error {
	var errs []error
	for _, env := range envs {
		if len(env.Smoke) == 0 && env.Monitor == nil {
			continue
		}
		if env.URL == "" {
			errs = append(errs, fmt.Errorf("environment %s: no url to validate: set environments[].url", env.Name))
			continue
		}
		name := env.TokenEnv
		if name == "" {
			name = env.PasswordEnv
		}
		if name == "" {
			errs = append(errs, fmt.Errorf("environment %s: no token-env or password-env: name the environment variable that holds the gateway credential", env.Name))
			continue
		}
		if s.o.Secrets.Get(name) == "" {
			errs = append(errs, fmt.Errorf("environment %s: %s is empty: pass the gateway credential from a secret (env: %s: ${{ secrets.%s }})", env.Name, name, name, name))
		}
	}
	if len(errs) > 0 {
		return outcome.BadInput(errors.Join(errs...))
	}
	return nil
}

// CheckPrometheus fails early when the monitor of env has Prometheus checks whose token
// variable (monitor.prometheus.token-env) is empty or whose URL is unusable: a release
// would otherwise find out only after production was deployed.
func (s *Service) CheckPrometheus(env config.Environment) error {
	if env.Monitor == nil || env.Monitor.Prometheus == nil || len(env.Monitor.Prometheus.Checks) == 0 {
		return nil
	}
	pm := env.Monitor.Prometheus
	var errs []error
	token := ""
	if pm.TokenEnv != "" {
		if token = s.o.Secrets.Get(pm.TokenEnv); token == "" {
			errs = append(errs, fmt.Errorf("environment %s: monitor.prometheus.token-env %s is empty: pass the Prometheus token from a secret (env: %s: ${{ secrets.%s }})",
				env.Name, pm.TokenEnv, pm.TokenEnv, pm.TokenEnv))
		}
	}
	if _, err := monitor.NewPrometheus(pm.URL, token, s.o.HTTPClient, s.o.Redactor); err != nil {
		errs = append(errs, fmt.Errorf("environment %s: monitor.prometheus: %w", env.Name, err))
	}
	if len(errs) > 0 {
		return outcome.BadInput(errors.Join(errs...))
	}
	return nil
}

// ParseURL parses a configured or given URL without ever quoting it back: a URL may carry
// a password (https://user:pass@host), and url.Parse's errors repeat the whole URL.
func ParseURL(what, raw string) (*url.URL, error) {
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

// Classify turns an error into the one the user sees, naming what failed and marking what
// input fixes: bad input stays bad input; a refused token (401), a token without a
// permission (403 that is not a rate limit) are bad input (exit 2), like a gate
// configuration GitHub proved wrong, which is bad input at its source; rate limits, 5xx and network failures stay
// GitHub failures (exit 3).
func Classify(err error, what string) error {
	switch {
	case errors.Is(err, outcome.ErrBadInput):
		return fmt.Errorf("%s: %w", what, err)
	case errors.Is(err, github.ErrUnauthorized):
		return outcome.BadInput(fmt.Errorf("%s: GitHub refused the token (401): pass a valid token (the job's GITHUB_TOKEN, or a PAT/App token for another repository): %w", what, err))
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s: cancelled before a decision: %w", what, err)
	case errors.Is(err, github.ErrRateLimited):
		// Before ErrForbidden: a rate limit is a 403 too, and waiting does help.
	case errors.Is(err, github.ErrForbidden):
		return outcome.BadInput(fmt.Errorf("%s: GitHub refused the request (403): the token lacks a permission: "+
			"grant the job the permissions the README lists (actions: write, checks: write or at least checks: read, "+
			"contents: write); a pull request from a fork only gets a read-only token: %w", what, err))
	}
	return fmt.Errorf("%s: %w; this is a GitHub or network failure, not a verdict: re-run the job when GitHub answers again", what, err)
}
