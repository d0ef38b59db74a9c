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
	r, err := s.rotateRequest(req)
	if err != nil {
		return nil, err
	}
	rep, err := rotate.Run(ctx, s.o.GitHub, r)
	if err != nil {
		if errors.Is(err, outcome.ErrBadInput) {
			return nil, err
		}
		return nil, Classify(err, fmt.Sprintf("rotate the %s credential", req.Env.Name))
	}
	return rep, nil
}

// rotateRequest is the rotate.Request both Rotate and PlanRotate use.
func (s *Service) rotateRequest(req RotateRequest) (rotate.Request, error) {
	if s.o.GitHub == nil {
		return rotate.Request{}, outcome.BadInputf("rotating the credential of %s needs a GitHub token", req.Env.Name)
	}
	o, err := s.smokeOptions(req.Env)
	if err != nil {
		return rotate.Request{}, err
	}
	// The configured credential is the one being replaced; the rotation sets the new one.
	old := o.Token + o.Password
	o.Token, o.Password = "", ""
	pi := deploy.ProductionIndex(s.o.Config.Environments)
	return rotate.Request{
		Environment: req.Env, Trigger: s.o.Config.Deploy, Kind: req.Kind, BootstrapSecret: req.BootstrapSecret,
		Reason: req.Reason, OldCredential: old,
		Production: pi >= 0 && s.o.Config.Environments[pi].Name == req.Env.Name,
		Smoke:      o, RunURL: s.o.RunURL, Clock: s.o.Clock, Mask: req.Mask,
		Progress: s.o.Progress, PollInterval: s.o.PollInterval,
	}, nil
}

// PlanRotate is the rotation's dry run: the secrets it would write (and the key it would
// seal them with), the commit and tag it would redeploy and how, writing nothing and
// contacting no gateway. Its errors are Rotate's: bad input (a token refused the secrets
// key included) and GitHub failures.
func (s *Service) PlanRotate(ctx context.Context, req RotateRequest) (*rotate.PlanResult, error) {
	r, err := s.rotateRequest(req)
	if err != nil {
		return nil, err
	}
	r.Progress = s.planProgress()
	p, err := rotate.Plan(ctx, s.o.GitHub, r)
	if err != nil && !errors.Is(err, outcome.ErrBadInput) {
		err = classifyPlan(err, fmt.Sprintf("plan the rotation of the %s credential", req.Env.Name))
	}
	return p, err
}
