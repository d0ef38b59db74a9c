package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/agentme/release-action/internal/actions"
	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/gate"
	"github.com/agentme/release-action/internal/github"
	"github.com/agentme/release-action/internal/monitor"
	"github.com/agentme/release-action/internal/release"
	"github.com/agentme/release-action/internal/smoke"
	"github.com/agentme/release-action/internal/summary"
)

var releaseInputs = []input{
	inToken, inConfig, inRepo, inSHA, inTimeout,
	{name: "tag", help: "explicit candidate tag name (default: tags.candidate of the configuration, v{version}-rc.{n})"},
	{name: "force", def: "false", help: "deploy a commit that was rolled back from an environment (recorded)"},
	{name: "force-window", def: "false", help: "deploy although a maintenance window is closed or frozen (needs force-reason; recorded in the summary and the deployment)"},
	{name: "force-reason", help: "why the window is overridden"},
	inPollInterval, inChannelTimeout,
}

func releaseCommand() *command {
	return &command{
		name:    "release",
		summary: "gate, tag, deploy staging, validate, deploy production in its window, monitor, tag the release",
		inputs:  releaseInputs,
		run: func(ctx context.Context, a *app) int {
			p, err := a.releaseParams()
			if err != nil {
				return a.fail(exitCode(err), err)
			}
			return a.runRelease(ctx, p)
		},
	}
}

// releaseParams is the release command's typed input.
type releaseParams struct {
	gateParams
	tag          string
	force        bool
	forceWindow  bool
	forceReason  string
	pollInterval time.Duration
}

func (a *app) releaseParams() (releaseParams, error) {
	var p releaseParams
	var err error
	if p.gateParams, err = a.gateParams(); err != nil {
		return p, err
	}
	p.tag = a.in.str("tag")
	if p.force, err = a.in.boolean("force"); err != nil {
		return p, err
	}
	if p.forceWindow, err = a.in.boolean("force-window"); err != nil {
		return p, err
	}
	p.forceReason = a.in.str("force-reason")
	if p.forceWindow && p.forceReason == "" {
		return p, badInputf("force-window needs force-reason: say why production is deployed outside its window (it is recorded in the summary and the deployment)")
	}
	if err := a.environmentTimings(); err != nil {
		return p, err
	}
	p.pollInterval = a.pollInterval
	if err := a.checkCredentials(p.cfg); err != nil {
		return p, err
	}
	// The release watches the last environment with its monitor.
	if n := len(p.cfg.Environments); n > 0 {
		if err := a.checkPrometheus(p.cfg.Environments[n-1]); err != nil {
			return p, err
		}
	}
	return p, nil
}

// checkPrometheus fails early, before anything is gated or deployed, when the monitor of
// env has Prometheus checks whose token variable (monitor.prometheus.token-env) is empty or
// whose URL is unusable: the release would otherwise find out only after production was
// deployed. The token is masked.
func (a *app) checkPrometheus(env config.Environment) error {
	if env.Monitor == nil || env.Monitor.Prometheus == nil || len(env.Monitor.Prometheus.Checks) == 0 {
		return nil
	}
	pm := env.Monitor.Prometheus
	var errs []error
	token := ""
	if pm.TokenEnv != "" {
		if token = a.secretEnv(pm.TokenEnv); token == "" {
			errs = append(errs, fmt.Errorf("environment %s: monitor.prometheus.token-env %s is empty: pass the Prometheus token from a secret (env: %s: ${{ secrets.%s }})",
				env.Name, pm.TokenEnv, pm.TokenEnv, pm.TokenEnv))
		} else {
			a.runner.Protect(token)
		}
	}
	if _, err := monitor.NewPrometheus(pm.URL, token, a.env.HTTPClient, a.runner.Redactor()); err != nil {
		errs = append(errs, fmt.Errorf("environment %s: monitor.prometheus: %w", env.Name, err))
	}
	if len(errs) > 0 {
		return badInput(errors.Join(errs...))
	}
	return nil
}

// checkCredentials fails early, before anything is gated or deployed, when an
// environment that is validated has no credential in the environment variable its
// configuration names.
func (a *app) checkCredentials(cfg *config.Config) error {
	var errs []error
	for _, env := range cfg.Environments {
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
		v := a.secretEnv(name)
		if v == "" {
			errs = append(errs, fmt.Errorf("environment %s: %s is empty: pass the gateway credential from a secret (env: %s: ${{ secrets.%s }})", env.Name, name, name, name))
			continue
		}
		a.runner.Protect(v)
	}
	if len(errs) > 0 {
		return badInput(errors.Join(errs...))
	}
	return nil
}

// secretEnv reads an environment variable the configuration names (token-env,
// password-env). The sandbox overrides it to hand its emulators' credentials in.
func (a *app) secretEnv(name string) string {
	if a.secrets != nil {
		if v, ok := a.secrets[name]; ok {
			return v
		}
	}
	return a.env.Getenv(name)
}

// envSmoke validates one environment with the probes named (its `smoke` list by default).
func (a *app) envSmoke(ctx context.Context, env config.Environment, probes []string, sessionKey string, ready time.Duration) (*smoke.Report, error) {
	u, err := parseURL("environment "+env.Name+" url", env.URL)
	if err != nil {
		return nil, err
	}
	o := smoke.Options{
		URL: u, Origin: env.Origin, Probes: probes, SessionKey: sessionKey, Ready: ready, ChannelTimeout: a.channelTimeout,
		Clock: a.env.Clock, HTTPClient: a.env.HTTPClient, Redactor: a.runner.Redactor(),
		Progress: func(msg string) { a.progress(env.Name + ": " + msg) },
	}
	if env.TokenEnv != "" {
		o.Token = a.secretEnv(env.TokenEnv)
	} else {
		o.Password = a.secretEnv(env.PasswordEnv)
	}
	if o.Token != "" {
		a.runner.Protect(o.Token)
	}
	if o.Password != "" {
		a.runner.Protect(o.Password)
	}
	rep, err := smoke.Run(ctx, o)
	if err != nil && errors.Is(err, smoke.ErrInvalidOptions) {
		return nil, badInput(fmt.Errorf("environment %s: %w", env.Name, err))
	}
	return rep, err
}

// ReleaseReport is the release command's `report` output.
type ReleaseReport struct {
	Command    string          `json:"command"`
	Version    string          `json:"version"`
	Repository string          `json:"repository"`
	Result     string          `json:"result"`
	Release    *release.Result `json:"release"`
	Cost       github.Cost     `json:"api_cost"`
	Owners     *config.Owners  `json:"owners,omitempty"`
}

func (a *app) runRelease(ctx context.Context, p releaseParams) int {
	r := a.runner
	client, err := a.newClient(p.gh, p.token)
	if err != nil {
		return a.fail(ExitBadInput, err)
	}
	r.Group("Candidate commit")
	sha, err := client.ResolveCommit(ctx, p.ref)
	r.EndGroup()
	if err != nil {
		if errors.Is(err, github.ErrNotFound) {
			return a.fail(ExitBadInput, badInputf("candidate commit %q was not found in %s: check the sha input", p.ref, p.gh.Repo))
		}
		e := classify(err, fmt.Sprintf("resolve candidate commit %q in %s", p.ref, p.gh.Repo))
		return a.fail(exitCode(e), e)
	}
	info := summary.ReleaseInfo{Repo: p.gh.Repo, ServerURL: p.gh.ServerURL, Owners: p.cfg.Owners}
	res, err := release.Run(ctx, client, release.Options{
		Config:   p.cfg,
		SHA:      sha,
		RunURL:   p.gh.runURL(),
		Clock:    a.env.Clock,
		Progress: a.progress,
		Group: func(title string) func() {
			r.Group(title)
			return r.EndGroup
		},
		Gate: func(ctx context.Context) (*gate.Result, error) {
			return gate.Run(ctx, client, a.gateOptions(p.gateParams, sha, 0))
		},
		Smoke: func(ctx context.Context, env config.Environment) (*smoke.Report, error) {
			return a.envSmoke(ctx, env, env.Smoke, "", 0)
		},
		Monitor:      a.monitorFunc(client, p, sha),
		Render:       func(res *release.Result) string { return summary.Release(res, info) },
		ForceWindow:  p.forceWindow,
		ForceReason:  p.forceReason,
		Force:        p.force,
		Tag:          p.tag,
		PollInterval: p.pollInterval,
	})
	if res == nil {
		if errors.Is(err, release.ErrInvalidOptions) {
			return a.fail(ExitBadInput, badInput(err))
		}
		e := classify(err, "release "+sha)
		return a.fail(exitCode(e), e)
	}
	info.Cost = summary.Cost(client.Cost())
	md := summary.Release(res, info)
	rep := ReleaseReport{Command: "release", Version: Version(), Repository: p.gh.Repo.String(), Result: res.Verdict, Release: res, Cost: client.Cost()}
	if p.cfg.Owners != (config.Owners{}) {
		o := p.cfg.Owners
		rep.Owners = &o
	}
	extra := map[string]string{"sha": sha, "tag": res.Tag, "release-tag": res.ReleaseTag}
	ids, _ := json.Marshal(res.DeploymentIDs())
	urls, _ := json.Marshal(res.EnvironmentURLs())
	extra["deployment-ids"], extra["environment-urls"] = string(ids), string(urls)
	if !res.NextWindow.IsZero() {
		extra["next-window"] = res.NextWindow.Format(time.RFC3339)
	}
	a.writeResult(res.Verdict, rep, md, extra)

	if err != nil {
		e := classify(err, "release "+sha)
		return a.fail(exitCode(e), e)
	}
	switch res.Verdict {
	case release.VerdictPass:
		r.Infof("Release %s of %s done.", res.ReleaseTag, sha)
		return ExitOK
	case release.VerdictScheduled:
		r.Notice(fmt.Sprintf("Production waits for its window: %s. Run the release again at %s.", res.Reason, res.NextWindow.Format(time.RFC3339)), actions.Annotation{Title: "Release scheduled"})
		return ExitOK
	default:
		r.Error(res.Reason, actions.Annotation{Title: "Release failed"})
		return ExitFailed
	}
}

// gateOptions builds the gate's options for the candidate.
func (a *app) gateOptions(p gateParams, sha string, checkRunID int64) gate.Options {
	// On GitHub a check run created with GITHUB_TOKEN joins the check suite of a workflow
	// run on the commit: this or an earlier gate's release-gate check run must never be
	// evidence, whether or not this run publishes one (release never does).
	name := p.checkRunName
	if name == "" {
		name = inCheckRunName.def
	}
	self := gate.Self{RunID: p.gh.RunID, RunnerName: p.gh.RunnerName, JobKey: p.gh.Job, CheckRunNames: []string{name}}
	if checkRunID != 0 {
		self.CheckRunIDs = []int64{checkRunID}
	}
	runKey := ""
	if p.gh.RunID != 0 {
		runKey = fmt.Sprintf("%d-%s", p.gh.RunID, p.gh.RunAttempt)
	}
	return gate.Options{
		SHA: sha, Gates: p.cfg.Gates, Policy: p.cfg.Policy, Self: self, Clock: a.env.Clock,
		Progress: a.progress, RunKey: runKey,
	}
}
