package environment

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/gate"
	"github.com/agentme/release-action/internal/monitor"
	"github.com/agentme/release-action/internal/outcome"
	"github.com/agentme/release-action/internal/release"
	"github.com/agentme/release-action/internal/rollback"
	"github.com/agentme/release-action/internal/smoke"
	"github.com/agentme/release-action/internal/summary"
)

// SmokeRequest validates one configured environment.
type SmokeRequest struct {
	Env config.Environment
	// Probes to run (nil: the environment's `smoke` list).
	Probes []string
	// SessionKey is the chat session of the channel probe ("": a fresh one).
	SessionKey string
	// Ready is the readiness budget (0: smoke's default).
	Ready time.Duration
}

// Smoke runs the smoke probes against an environment with its configured credential.
// A failed probe is a Report with verdict fail; errors are bad input or cancellation.
func (s *Service) Smoke(ctx context.Context, req SmokeRequest) (*smoke.Report, error) {
	o, err := s.smokeOptions(req.Env)
	if err != nil {
		return nil, err
	}
	o.Probes = req.Probes
	if o.Probes == nil {
		o.Probes = req.Env.Smoke
	}
	o.SessionKey, o.Ready = req.SessionKey, req.Ready
	rep, err := smoke.Run(ctx, o)
	if err != nil && errors.Is(err, outcome.ErrBadInput) {
		return nil, fmt.Errorf("environment %s: %w", req.Env.Name, err)
	}
	return rep, err
}

// smokeOptions is the smoke options of an environment, without probes.
func (s *Service) smokeOptions(env config.Environment) (smoke.Options, error) {
	u, err := ParseURL("environment "+env.Name+" url", env.URL)
	if err != nil {
		return smoke.Options{}, err
	}
	o := smoke.Options{
		URL: u, Origin: env.Origin, ChannelTimeout: s.o.ChannelTimeout,
		Clock: s.o.Clock, HTTPClient: s.o.HTTPClient, Redactor: s.o.Redactor,
		Progress: s.progressFor(env.Name),
	}
	if env.TokenEnv != "" {
		o.Token = s.o.Secrets.Get(env.TokenEnv)
	} else {
		o.Password = s.o.Secrets.Get(env.PasswordEnv)
	}
	return o, nil
}

// MonitorRequest watches one environment after a release.
type MonitorRequest struct {
	// Env is the environment, with its Monitor settings (the caller applies overrides).
	Env config.Environment
	// BadSHA is the commit an automatic rollback rolls back from ("": the environment's
	// newest live deployment).
	BadSHA string
	// SummaryLevel is the heading level of the rendered Summary ("": the monitor's own).
	SummaryLevel string
}

// Monitor runs the monitor on the environment and, on a sustained breach with
// auto-rollback (and a GitHub client), rolls it back. The outcome's JSON shape is fixed:
// {"monitor": ..., "rollback": null|...}. A breach is a result (verdict fail); errors are
// bad input, API failures and cancellation, returned with whatever outcome there is.
func (s *Service) Monitor(ctx context.Context, req MonitorRequest) (*release.MonitorOutcome, error) {
	env := req.Env
	if env.Monitor == nil {
		return nil, outcome.BadInputf("environment %s has no monitor configuration", env.Name)
	}
	m := *env.Monitor
	o := monitor.Options{Env: env, Monitor: m, Clock: s.o.Clock, Progress: s.progressFor(env.Name)}
	if len(m.Smoke) > 0 {
		base, err := s.smokeOptions(env)
		if err != nil {
			return nil, err
		}
		// The monitor prints one line per check with whatever went wrong; the probes'
		// own lines would repeat that for every interval.
		base.Progress = nil
		o.Smoke = monitor.SmokeWith(base)
	}
	if m.Prometheus != nil && len(m.Prometheus.Checks) > 0 {
		token := ""
		if m.Prometheus.TokenEnv != "" {
			if token = s.o.Secrets.Get(m.Prometheus.TokenEnv); token == "" {
				return nil, outcome.BadInputf("environment %s: monitor.prometheus.token-env %s is empty: pass it from a secret", env.Name, m.Prometheus.TokenEnv)
			}
		}
		api, err := monitor.NewPrometheus(m.Prometheus.URL, token, s.o.HTTPClient, s.o.Redactor)
		if err != nil {
			return nil, outcome.BadInput(fmt.Errorf("environment %s: prometheus: %w", env.Name, err))
		}
		o.Prometheus = api
	}
	out := &release.MonitorOutcome{}
	if m.AutoRollback && s.o.GitHub != nil {
		o.OnBreach = func(ctx context.Context, signal string) error {
			s.o.Warn(fmt.Sprintf("%s: sustained breach of %q: rolling back automatically", env.Name, signal), "Monitor breach")
			var err error
			out.Rollback, err = s.Rollback(ctx, RollbackRequest{Environment: env.Name, Reason: "monitor: " + signal, From: req.BadSHA})
			return err
		}
	}
	res, err := monitor.Run(ctx, o)
	if err != nil && !errors.Is(err, outcome.ErrBadInput) {
		err = Classify(err, "monitor "+env.Name)
	}
	if res == nil {
		return nil, err
	}
	out.Monitor = res
	out.Summary = summary.Monitor(res, summary.MonitorInfo{Level: req.SummaryLevel, Location: Location(env)})
	if out.Rollback != nil {
		level := "###"
		if req.SummaryLevel != "" {
			level = req.SummaryLevel
		}
		out.Summary += "\n" + summary.Rollback(out.Rollback, summary.RollbackInfo{Level: level, Repo: s.o.Repo, ServerURL: s.o.ServerURL})
	}
	return out, err
}

// RollbackRequest rolls one environment back.
type RollbackRequest struct {
	// Environment names the configured environment.
	Environment string
	// To is the target tag or commit ("": the last known good deployment).
	To string
	// Reason is required: it is recorded in the statuses, the summary and the incident note.
	Reason string
	// From is the bad commit ("": the environment's newest live deployment).
	From string
	// OpenIssue opens an incident issue labelled IssueLabel ("": rollback's default).
	OpenIssue  bool
	IssueLabel string
}

// Rollback reverts the environment, re-runs its smoke subset and marks the bad
// deployment. A failed rollback is a Result with verdict fail; errors are bad input, API
// failures and cancellation (with the Result so far when there is one).
func (s *Service) Rollback(ctx context.Context, req RollbackRequest) (*rollback.Result, error) {
	if s.o.GitHub == nil {
		return nil, outcome.BadInputf("rolling back %s needs a GitHub token", req.Environment)
	}
	res, err := rollback.Run(ctx, s.o.GitHub, rollback.Options{
		Config: s.o.Config, Environment: req.Environment, To: req.To, Reason: req.Reason, CurrentSHA: req.From,
		Smoke: func(ctx context.Context, env config.Environment, probes []string) (*smoke.Report, error) {
			return s.Smoke(ctx, SmokeRequest{Env: env, Probes: probes})
		},
		OpenIssue: req.OpenIssue, IssueLabel: req.IssueLabel, RunURL: s.o.RunURL,
		Clock: s.o.Clock, Progress: s.o.Progress, PollInterval: s.o.PollInterval,
	})
	if err != nil {
		if errors.Is(err, outcome.ErrBadInput) {
			return res, err
		}
		return res, Classify(err, fmt.Sprintf("roll back %s", req.Environment))
	}
	return res, nil
}

// ReleaseRequest releases one commit through every configured environment.
type ReleaseRequest struct {
	// SHA is the resolved candidate commit.
	SHA string
	// Gate is the gate's options on the candidate (its Clock and Progress default to the
	// service's).
	Gate gate.Options
	// Tag is an explicit candidate tag name ("": tags.candidate).
	Tag string
	// Force deploys a commit that was rolled back from an environment (recorded).
	Force bool
	// ForceWindow deploys outside a closed or frozen window; ForceReason says why.
	ForceWindow bool
	ForceReason string
}

// Release runs the release pipeline: gate, candidate tag, each environment (deploy,
// smoke), the last one's monitor (with auto-rollback), release tag and GitHub release
// whose body is the release summary. A failed or scheduled release is a Result; errors
// come with the Result so far (verdict error) when there is one.
func (s *Service) Release(ctx context.Context, req ReleaseRequest) (*release.Result, error) {
	if s.o.GitHub == nil {
		return nil, outcome.BadInputf("a release needs a GitHub token")
	}
	if req.Gate.Clock == nil {
		req.Gate.Clock = s.o.Clock
	}
	if req.Gate.Progress == nil {
		req.Gate.Progress = s.o.Progress
	}
	info := summary.ReleaseInfo{Repo: s.o.Repo, ServerURL: s.o.ServerURL, Owners: s.o.Config.Owners}
	res, err := release.Run(ctx, s.o.GitHub, release.Options{
		Config:   s.o.Config,
		SHA:      req.SHA,
		RunURL:   s.o.RunURL,
		Clock:    s.o.Clock,
		Progress: s.o.Progress,
		Group:    s.o.Group,
		Gate: func(ctx context.Context) (*gate.Result, error) {
			return gate.Run(ctx, s.o.GitHub, req.Gate)
		},
		Smoke: func(ctx context.Context, env config.Environment) (*smoke.Report, error) {
			return s.Smoke(ctx, SmokeRequest{Env: env})
		},
		Monitor: func(ctx context.Context, env config.Environment, _ int64) (*release.MonitorOutcome, error) {
			return s.Monitor(ctx, MonitorRequest{Env: env, BadSHA: req.SHA, SummaryLevel: "####"})
		},
		Render:       func(res *release.Result) string { return summary.Release(res, info) },
		ForceWindow:  req.ForceWindow,
		ForceReason:  req.ForceReason,
		Force:        req.Force,
		Tag:          req.Tag,
		PollInterval: s.o.PollInterval,
	})
	if err != nil && !(res == nil && errors.Is(err, outcome.ErrBadInput)) {
		err = Classify(err, "release "+req.SHA)
	}
	return res, err
}
