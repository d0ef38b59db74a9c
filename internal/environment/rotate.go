package environment

import (
	"context"
	"errors"
	"fmt"

	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/deploy"
	"github.com/agentme/release-action/internal/outcome"
	"github.com/agentme/release-action/internal/rotate"
)

// RotateRequest rotates one environment's gateway credential (runbook section 4).
type RotateRequest struct {
	Env config.Environment
	// Kind is "token" or "password" ("": what the environment's probes use).
	Kind string
	// BootstrapSecret rotates the dedicated bootstrap secret (secrets.bootstrap) too.
	BootstrapSecret bool
	Reason          string
	// Mask announces a value born inside the action to the runner (::add-mask::) before
	// anything else happens to it. Required.
	Mask func(secret string)
}

// Rotate generates a new credential, writes it to the GitHub secrets the environment's
// deploy workflow reads, redeploys the commit the environment runs and proves the old
// credential and the bootstrap links made with it dead (see package rotate). A rotation
// that fails is a Report with verdict fail that says whether anything was written; errors
// are bad input (a token that may not write secrets included) and GitHub failures before
// anything was written.
func (s *Service) Rotate(ctx context.Context, req RotateRequest) (*rotate.Report, error) {
	if s.o.GitHub == nil {
		return nil, outcome.BadInputf("rotating the credential of %s needs a GitHub token", req.Env.Name)
	}
	o, err := s.smokeOptions(req.Env)
	if err != nil {
		return nil, err
	}
	// The configured credential is the one being replaced; the rotation sets the new one.
	old := o.Token + o.Password
	o.Token, o.Password = "", ""
	pi := deploy.ProductionIndex(s.o.Config.Environments)
	rep, err := rotate.Run(ctx, s.o.GitHub, rotate.Request{
		Environment: req.Env, Trigger: s.o.Config.Deploy, Kind: req.Kind, BootstrapSecret: req.BootstrapSecret,
		Reason: req.Reason, OldCredential: old,
		Production: pi >= 0 && s.o.Config.Environments[pi].Name == req.Env.Name,
		Smoke:      o, RunURL: s.o.RunURL, Clock: s.o.Clock, Mask: req.Mask,
		Progress: s.o.Progress, PollInterval: s.o.PollInterval,
	})
	if err != nil {
		if errors.Is(err, outcome.ErrBadInput) {
			return nil, err
		}
		return nil, Classify(err, fmt.Sprintf("rotate the %s credential", req.Env.Name))
	}
	return rep, nil
}
