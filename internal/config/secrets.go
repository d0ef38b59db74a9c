package config

import (
	"regexp"
	"strings"
)

// Secret scopes of an environment's Secrets.
const (
	SecretScopeRepository  = "repository"
	SecretScopeEnvironment = "environment"
)

// Secrets names the GitHub Actions secrets the deploy workflow passes to the gateway of
// one environment, for `rotate` to write. They hold names, never values; the probes keep
// reading the credential from token-env / password-env.
type Secrets struct {
	// Token is the secret holding AGENTME_GATEWAY_TOKEN (token mode).
	Token string
	// Password is the secret holding AGENTME_GATEWAY_PASSWORD (password mode).
	Password string
	// Bootstrap is the secret holding a dedicated AGENTME_BOOTSTRAP_SECRET, if the
	// gateway has one.
	Bootstrap string
	// Scope is where the secrets live: "repository" (default) or "environment" (the
	// GitHub environment named like this environment).
	Scope string
}

// ScopeOrDefault is Scope, or "repository" when unset.
func (s *Secrets) ScopeOrDefault() string {
	if s == nil || s.Scope == "" {
		return SecretScopeRepository
	}
	return s.Scope
}

// secretNameRE is GitHub's rule for Actions secret names.
var secretNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func (v *validator) secrets(s *Secrets) {
	if s == nil {
		return
	}
	for _, f := range []*string{&s.Token, &s.Password, &s.Bootstrap} {
		switch name := *f; {
		case name == "":
		case looksLikeSecret(name):
			v.fail(v.path(f), "this looks like a credential, not the name of a GitHub secret; never put a credential in this file (rotate it if it was committed): name the secret, like AGENTME_PRODUCTION_GATEWAY_TOKEN")
		case !secretNameRE.MatchString(name) || strings.HasPrefix(strings.ToUpper(name), "GITHUB_"):
			v.fail(v.path(f), "want the name of a GitHub Actions secret (letters, digits and _, not starting with a digit or GITHUB_), like AGENTME_PRODUCTION_GATEWAY_TOKEN")
		}
	}
	if s.Token != "" && s.Password != "" {
		v.fail(v.path(&s.Password), "name the token secret or the password secret, not both: the gateway runs in one auth mode")
	}
}
