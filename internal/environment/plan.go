package environment

import (
	"context"
	"errors"
	"fmt"

	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/gate"
	"github.com/agentme/release-action/internal/github"
	"github.com/agentme/release-action/internal/outcome"
	"github.com/agentme/release-action/internal/release"
	"github.com/agentme/release-action/internal/rollback"
	"github.com/agentme/release-action/internal/smoke"
)

// The dry run of a command is its Plan function (release.Plan, rollback.Plan, rotate.Plan) called
// with a read-only client: Plan runs the decisions the real run acts on and writes
// nothing, and the client refuses any write that a path would still attempt
// (github.ErrReadOnly). A new command (rotate) joins the same way: split its decision
// into a read-only function its Run acts on, expose it as Plan, add a Plan* method here,
// and let the CLI's dry-run input build the client with ReadOnly (see internal/cli/plan.go).

// errNoSmokeInPlan is what a plan's smoke runner returns: Plan never validates anything.
var errNoSmokeInPlan = errors.New("a dry run runs no smoke probes")

// PlanRelease is the release's dry run: what Release would do now (gate evaluated once,
// no waiting, no dispatch), from the state in GitHub, writing nothing.
func (s *Service) PlanRelease(ctx context.Context, req ReleaseRequest) (*release.PlanResult, error) {
	if s.o.GitHub == nil {
		return nil, outcome.BadInputf("a release needs a GitHub token")
	}
	if req.Gate.Clock == nil {
		req.Gate.Clock = s.o.Clock
	}
	progress := s.planProgress()
	if req.Gate.Progress == nil {
		req.Gate.Progress = progress
	}
	p, err := release.Plan(ctx, s.o.GitHub, release.Options{
		Config:   s.o.Config,
		SHA:      req.SHA,
		RunURL:   s.o.RunURL,
		Clock:    s.o.Clock,
		Progress: progress,
		Gate: func(ctx context.Context) (*gate.Result, error) {
			return gate.Once(ctx, s.o.GitHub, req.Gate)
		},
		Smoke: func(context.Context, config.Environment) (*smoke.Report, error) {
			return nil, errNoSmokeInPlan
		},
		ForceWindow: req.ForceWindow,
		ForceReason: req.ForceReason,
		Force:       req.Force,
		Tag:         req.Tag,
	})
	if err != nil && !errors.Is(err, outcome.ErrBadInput) {
		err = classifyPlan(err, "plan the release of "+req.SHA)
	}
	return p, err
}

// PlanRollback is the rollback's dry run: the bad deployment, the target and how it would
// be deployed, writing nothing.
func (s *Service) PlanRollback(ctx context.Context, req RollbackRequest) (*rollback.PlanResult, error) {
	if s.o.GitHub == nil {
		return nil, outcome.BadInputf("rolling back %s needs a GitHub token", req.Environment)
	}
	p, err := rollback.Plan(ctx, s.o.GitHub, rollback.Options{
		Config: s.o.Config, Environment: req.Environment, To: req.To, Reason: req.Reason, CurrentSHA: req.From,
		Smoke: func(context.Context, config.Environment, []string) (*smoke.Report, error) {
			return nil, errNoSmokeInPlan
		},
		OpenIssue: req.OpenIssue, IssueLabel: req.IssueLabel, RunURL: s.o.RunURL,
		Clock: s.o.Clock, Progress: s.planProgress(),
	})
	if err != nil && !errors.Is(err, outcome.ErrBadInput) {
		err = classifyPlan(err, fmt.Sprintf("plan the rollback of %s", req.Environment))
	}
	return p, err
}

// planProgress marks every progress line of a dry run, so that a log line such as
// "resuming rollback deployment 12" is never read as something that happened.
func (s *Service) planProgress() func(string) {
	if s.o.Progress == nil {
		return nil
	}
	return func(line string) { s.o.Progress("dry run: " + line) }
}

// classifyPlan is Classify for a dry run, which also names a refused write for what it
// is: a defect (a path that should only read tried to write), not a GitHub failure to
// re-run. It stays an error (exit 3): the plan is incomplete.
func classifyPlan(err error, what string) error {
	if errors.Is(err, github.ErrReadOnly) {
		return fmt.Errorf("%s: the dry run tried to write to GitHub, which it must never do: a defect of release-action, please report it with this message; "+
			"the read-only client refused the request, so nothing was written: %w", what, err)
	}
	return Classify(err, what)
}
