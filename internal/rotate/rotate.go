// Package rotate is the runbook's token rotation (section 4): a new gateway credential
// (and, on request, a new dedicated bootstrap secret) generated inside the action,
// written to the GitHub secrets the deploy workflow reads, the environment restarted
// through the release's deploy path on the commit it already runs, and the rotation
// proven against the restarted gateway: the new credential works, the old one and every
// bootstrap link made with it do not.
//
// Rotation is done when a leak is suspected, so the order is chosen so that a failure
// never leaves doubt about what changed:
//
//  1. everything that can be checked without changing anything is (configuration, the
//     commit the environment runs, a bootstrap code made with the old credential and
//     kept unexchanged — a gateway that refuses the old credential stops the rotation
//     here), and the new values are generated and masked;
//  2. the secrets are written (credential first, then the bootstrap secret);
//  3. the environment is redeployed (task deploy:rotate) and the rotation verified.
//
// A failure in 1 changed nothing. A failure after a secret was written is reported as
// such: the secret holds a value the gateway may not run with, and running the rotation
// again generates yet another value (the old one is presumed leaked and is never
// restored). Neither value, nor a bootstrap code, appears in the Report or an error.
package rotate

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/agentme/release-action/internal/clock"
	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/deploy"
	"github.com/agentme/release-action/internal/github"
	"github.com/agentme/release-action/internal/outcome"
	"github.com/agentme/release-action/internal/smoke"
)

// Credential kinds.
const (
	KindToken    = "token"
	KindPassword = "password"
)

// Stages a rotation goes through; Report.Stage is the last one reached.
const (
	StagePrepare   = "prepare"   // configuration, running commit, new values
	StageBootstrap = "bootstrap" // the pre-rotation bootstrap code
	StageWrite     = "write"     // secrets written
	StageRestart   = "restart"   // deploy:rotate
	StageVerify    = "verify"    // probes against the restarted gateway
	StageDone      = "done"
)

// ValueBytes is the entropy of a generated value: 256 bits.
const ValueBytes = 32

// badInput is an error the caller fixes in inputs, configuration or the token's
// permissions (outcome.ErrBadInput: exit 2).
func badInput(format string, args ...any) error { return outcome.BadInputf(format, args...) }

// GitHub is what a rotation needs of the client (*github.Client satisfies it).
type GitHub interface {
	deploy.GitHub
	GetTag(ctx context.Context, name string) (github.Tag, error)
	SecretsPublicKey(ctx context.Context, environment string) (github.SecretsKey, error)
	PutSecret(ctx context.Context, environment, name string, key github.SecretsKey, value []byte) (created bool, err error)
}

// Gateway creates and checks bootstrap codes and verifies a rotation (smoke does).
type Gateway interface {
	CreateBootstrapCode(ctx context.Context, o smoke.Options) (smoke.BootstrapCode, error)
	VerifyRotation(ctx context.Context, o smoke.Options, old smoke.Replaced) (*smoke.Report, error)
}

// SmokeGateway is the Gateway the action uses: the smoke probe engine.
type SmokeGateway struct{}

// CreateBootstrapCode calls smoke.CreateBootstrapCode.
func (SmokeGateway) CreateBootstrapCode(ctx context.Context, o smoke.Options) (smoke.BootstrapCode, error) {
	return smoke.CreateBootstrapCode(ctx, o)
}

// VerifyRotation calls smoke.VerifyRotation.
func (SmokeGateway) VerifyRotation(ctx context.Context, o smoke.Options, old smoke.Replaced) (*smoke.Report, error) {
	return smoke.VerifyRotation(ctx, o, old)
}

// Generate returns a new value: ValueBytes from crypto/rand, base64url without padding
// (43 characters, safe in URLs, env files and YAML).
func Generate() (string, error) {
	b := make([]byte, ValueBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate a new secret value: %w", err)
	}
	defer clear(b)
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// Request is one rotation.
type Request struct {
	// Environment is the configured environment (its secrets block names what to write).
	Environment config.Environment
	// Trigger is the configuration's deploy block: how a deploy is started and followed.
	Trigger config.Deploy
	// Kind is KindToken or KindPassword; empty means the kind of the environment's probes
	// (token-env or password-env).
	Kind string
	// BootstrapSecret rotates the dedicated bootstrap secret (secrets.bootstrap) too.
	BootstrapSecret bool
	// Reason is recorded in the deployment payload and the report. Required.
	Reason string
	// OldCredential is the credential the gateway runs with now (the value of token-env
	// or password-env).
	OldCredential string
	// Production marks the deployment production_environment.
	Production bool
	// Smoke carries the probe options other than the credential (URL, origin, HTTP
	// client, timeouts); the credential is set by the rotation.
	Smoke smoke.Options
	// RunURL is the workflow run's page, for the payload and statuses.
	RunURL string

	Clock clock.Clock
	// Mask registers a value with the runner before anything else happens to it
	// (::add-mask::). Required: a value born inside the action is unknown to the runner.
	Mask func(secret string)
	// Progress receives operator-facing lines; never a secret.
	Progress func(string)
	// Generate makes new values (default Generate).
	Generate func() (string, error)
	// Gateway defaults to SmokeGateway.
	Gateway Gateway
	// PollInterval of the deploy run (default deploy's).
	PollInterval time.Duration
}

// SecretWrite is one secret the rotation wrote (or meant to write).
type SecretWrite struct {
	Name    string    `json:"name"`
	Role    string    `json:"role"`  // token, password or bootstrap
	Scope   string    `json:"scope"` // repository or environment
	KeyID   string    `json:"key_id,omitempty"`
	Written bool      `json:"written"`
	Created bool      `json:"created,omitempty"` // the secret did not exist before (201)
	At      time.Time `json:"at,omitzero"`
}

// Report is what a rotation did. It holds names, ids, probe results and times, never a value.
type Report struct {
	Environment     string          `json:"environment"`
	Kind            string          `json:"credential"`
	BootstrapSecret bool            `json:"bootstrap_secret"`
	Reason          string          `json:"reason"`
	Verdict         outcome.Verdict `json:"verdict"`
	Stage           string          `json:"stage"`
	Changed         bool            `json:"changed"` // at least one secret was written
	Running         Running         `json:"running"`
	Secrets         []SecretWrite   `json:"secrets"`
	// BootstrapCodeAt is when the pre-rotation bootstrap code was created.
	BootstrapCodeAt time.Time      `json:"bootstrap_code_at,omitzero"`
	Deploy          *deploy.Result `json:"deploy,omitempty"`
	Verification    *smoke.Report  `json:"verification,omitempty"`
	// Problem says what went wrong, what state that leaves, and what to do.
	Problem  string    `json:"problem,omitempty"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
}

// Passed reports whether the rotation completed and was proven.
func (r *Report) Passed() bool { return r != nil && r.Verdict == outcome.Pass }

// plan is a validated request.
type plan struct {
	kind, credSecret, bootSecret, scope, ghEnv string
}

func (r Request) plan() (plan, error) {
	e := r.Environment
	var p plan
	if strings.TrimSpace(r.Reason) == "" {
		return p, badInput("reason is required: say why %s's credential is rotated (it is recorded in the deployment and the report)", e.Name)
	}
	if e.Secrets == nil || (e.Secrets.Token == "" && e.Secrets.Password == "") {
		return p, badInput("environment %s names no secret to rotate: add `secrets: {token: <secret name>}` (or password) to it in the configuration: the names of the GitHub secrets its deploy workflow passes to the gateway", e.Name)
	}
	p.kind = r.Kind
	if p.kind == "" {
		switch {
		case e.PasswordEnv != "":
			p.kind = KindPassword
		case e.TokenEnv != "":
			p.kind = KindToken
		case e.Secrets.Password != "":
			p.kind = KindPassword
		default:
			p.kind = KindToken
		}
	}
	switch p.kind {
	case KindToken:
		p.credSecret = e.Secrets.Token
		if e.PasswordEnv != "" {
			return p, badInput("credential token was asked for, but environment %s's probes use a password (password-env): the gateway runs in password mode; rotate the password", e.Name)
		}
	case KindPassword:
		p.credSecret = e.Secrets.Password
		if e.TokenEnv != "" {
			return p, badInput("credential password was asked for, but environment %s's probes use a token (token-env): the gateway runs in token mode; rotate the token", e.Name)
		}
	default:
		return p, badInput("credential %q is not token or password", r.Kind)
	}
	if p.credSecret == "" {
		return p, badInput("environment %s has no secrets.%s: name the GitHub secret its deploy workflow passes as the gateway %s", e.Name, p.kind, p.kind)
	}
	if r.BootstrapSecret {
		if e.Secrets.Bootstrap == "" {
			return p, badInput("bootstrap-secret is true, but environment %s has no secrets.bootstrap: name the GitHub secret its deploy workflow passes as AGENTME_BOOTSTRAP_SECRET", e.Name)
		}
		p.bootSecret = e.Secrets.Bootstrap
	}
	p.scope = e.Secrets.ScopeOrDefault()
	if p.scope == config.SecretScopeEnvironment {
		p.ghEnv = e.Name
	}
	if r.OldCredential == "" {
		envVar := e.TokenEnv + e.PasswordEnv
		return p, badInput("the current %s of %s is not set (environment variable %s): rotation proves the old credential dead, so it needs it", p.kind, e.Name, cmpOr(envVar, "named by token-env/password-env"))
	}
	if r.Mask == nil {
		return p, errors.New("rotate: no mask function: a generated value must be masked before anything else")
	}
	return p, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
