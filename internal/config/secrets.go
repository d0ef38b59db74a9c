package config

import (
	"regexp"
	"strings"

	"github.com/goccy/go-yaml/ast"
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
	Token string `yaml:"token,omitempty" json:"token,omitempty"`
	// Password is the secret holding AGENTME_GATEWAY_PASSWORD (password mode).
	Password string `yaml:"password,omitempty" json:"password,omitempty"`
	// Bootstrap is the secret holding a dedicated AGENTME_BOOTSTRAP_SECRET, if the
	// gateway has one.
	Bootstrap string `yaml:"bootstrap,omitempty" json:"bootstrap,omitempty"`
	// Scope is where the secrets live: "repository" (default) or "environment" (the
	// GitHub environment named like this environment).
	Scope string `yaml:"scope,omitempty" json:"scope,omitempty"`
}

// ScopeOrDefault is Scope, or "repository" when unset.
func (s *Secrets) ScopeOrDefault() string {
	if s == nil || s.Scope == "" {
		return SecretScopeRepository
	}
	return s.Scope
}

var secretsKeys = []string{"token", "password", "bootstrap", "scope"}

func (d *decoder) secrets(path string, n ast.Node) *Secrets {
	s := &Secrets{}
	d.object(path, n, secretsKeys, func(key, p string, v ast.Node) {
		switch key {
		case "token":
			d.str(p, v, &s.Token)
		case "password":
			d.str(p, v, &s.Password)
		case "bootstrap":
			d.str(p, v, &s.Bootstrap)
		case "scope":
			d.str(p, v, &s.Scope)
		}
	})
	return s
}

// secretNameRE is GitHub's rule for Actions secret names.
var secretNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func (v *validator) secrets(p string, s *Secrets) {
	if s == nil {
		return
	}
	for _, f := range []struct{ key, name string }{{"token", s.Token}, {"password", s.Password}, {"bootstrap", s.Bootstrap}} {
		switch {
		case f.name == "":
		case looksLikeSecret(f.name):
			v.fail(p+"."+f.key, "this looks like a credential, not the name of a GitHub secret; never put a credential in this file (rotate it if it was committed): name the secret, like AGENTME_PRODUCTION_GATEWAY_TOKEN")
		case !secretNameRE.MatchString(f.name) || strings.HasPrefix(strings.ToUpper(f.name), "GITHUB_"):
			v.fail(p+"."+f.key, "want the name of a GitHub Actions secret (letters, digits and _, not starting with a digit or GITHUB_), like AGENTME_PRODUCTION_GATEWAY_TOKEN")
		}
	}
	if s.Token != "" && s.Password != "" {
		v.fail(p+".password", "name the token secret or the password secret, not both: the gateway runs in one auth mode")
	}
	switch s.Scope {
	case "", SecretScopeRepository, SecretScopeEnvironment:
	default:
		v.fail(p+".scope", "want %s (the default) or %s", SecretScopeRepository, SecretScopeEnvironment)
	}
}

func secretsTree(s *Secrets) object {
	o := object{}
	for _, f := range []field{{"token", s.Token}, {"password", s.Password}, {"bootstrap", s.Bootstrap}} {
		if f.val != "" {
			o = append(o, f)
		}
	}
	return append(o, field{"scope", s.ScopeOrDefault()})
}
