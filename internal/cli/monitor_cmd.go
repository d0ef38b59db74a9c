package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/agentme/release-action/internal/actions"
	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/github"
	"github.com/agentme/release-action/internal/monitor"
	"github.com/agentme/release-action/internal/release"
	"github.com/agentme/release-action/internal/rollback"
	"github.com/agentme/release-action/internal/smoke"
	"github.com/agentme/release-action/internal/summary"
)

var (
	inEnvironment = input{name: "environment", def: "production", help: "the configured environment"}
	monitorInputs = []input{
		inToken, inConfig, inRepo, inEnvironment,
		{name: "duration", help: "how long to watch, 1m to 6h (default: the environment's monitor.duration, 45m)"},
		{name: "interval", help: "time between checks (default: monitor.interval, 1m)"},
		{name: "sustained", help: "consecutive bad intervals of one signal that make a breach (default: monitor.sustained, 3)"},
		{name: "auto-rollback", help: "roll back on a breach: true or false (default: monitor.auto-rollback)"},
		inChannelTimeout, inPollInterval,
	}
)

func monitorCommand() *command {
	return &command{
		name:    "monitor",
		summary: "watch an environment after a release (smoke subset, restarts, Prometheus checks); roll back on a sustained breach",
		inputs:  monitorInputs,
		run: func(ctx context.Context, a *app) int {
			p, err := a.monitorParams()
			if err != nil {
				return a.fail(exitCode(err), err)
			}
			return a.runMonitor(ctx, p)
		},
	}
}

type monitorParams struct {
	gh    ghContext
	token string
	cfg   *config.Config
	env   config.Environment
}

func (a *app) monitorParams() (monitorParams, error) {
	var p monitorParams
	var err error
	if p.cfg, err = a.loadConfig(); err != nil {
		return p, err
	}
	if p.env, err = findEnvironment(p.cfg, a.in.str("environment")); err != nil {
		return p, err
	}
	m := config.Monitor{}
	if p.env.Monitor != nil {
		m = *p.env.Monitor
	} else {
		// No monitor block: the runbook's defaults (45m, 1m, 3, no data fails, smoke subset).
		m = config.Monitor{Duration: config.Duration(45 * time.Minute), Interval: config.Duration(time.Minute), Sustained: 3, NoData: "fail", Smoke: smoke.RollbackProbes()}
	}
	if d, err := a.in.duration("duration"); err != nil {
		return p, err
	} else if d > 0 {
		if d < time.Minute || d > 6*time.Hour {
			return p, badInputf("input duration: %s is outside 1m..6h", d)
		}
		m.Duration = config.Duration(d)
	}
	if d, err := a.in.duration("interval"); err != nil {
		return p, err
	} else if d > 0 {
		m.Interval = config.Duration(d)
	}
	if n, err := a.in.integer("sustained"); err != nil {
		return p, err
	} else if n != 0 {
		if n < 1 {
			return p, badInputf("input sustained: %d must be at least 1", n)
		}
		m.Sustained = n
	}
	if s := a.in.str("auto-rollback"); s != "" {
		b, err := a.in.boolean("auto-rollback")
		if err != nil {
			return p, err
		}
		m.AutoRollback = b
	}
	p.env.Monitor = &m
	if err := a.environmentTimings(); err != nil {
		return p, err
	}
	if err := a.checkCredentials(&config.Config{Environments: []config.Environment{p.env}}); err != nil {
		return p, err
	}
	if err := a.checkPrometheus(p.env); err != nil {
		return p, err
	}
	if m.AutoRollback {
		if p.gh, err = readGitHubContext(a.env.Getenv, a.in.str("repository")); err != nil {
			return p, err
		}
		if p.token = a.in.str("token"); p.token == "" {
			return p, badInputf("auto-rollback needs a GitHub token: pass the token input (its default is ${{ github.token }}) or set GITHUB_TOKEN")
		}
	}
	return p, nil
}

// findEnvironment returns the configured environment with the name.
func findEnvironment(cfg *config.Config, name string) (config.Environment, error) {
	var names []string
	for _, e := range cfg.Environments {
		if e.Name == name {
			return e, nil
		}
		names = append(names, e.Name)
	}
	if len(names) == 0 {
		return config.Environment{}, badInputf("environment %q is not configured: the configuration has no environments; add them under environments: in %s", name, cfg.Source)
	}
	return config.Environment{}, badInputf("environment %q is not configured; configured: %v", name, names)
}

// MonitorReport is the monitor command's `report` output.
type MonitorReport struct {
	Command  string           `json:"command"`
	Version  string           `json:"version"`
	Result   string           `json:"result"`
	Monitor  *monitor.Result  `json:"monitor"`
	Rollback *rollback.Result `json:"rollback,omitempty"`
}

func (a *app) runMonitor(ctx context.Context, p monitorParams) int {
	var client *github.Client
	if p.env.Monitor.AutoRollback {
		var err error
		if client, err = a.newClient(p.gh, p.token); err != nil {
			return a.fail(ExitBadInput, err)
		}
	}
	a.runner.Group("Monitor " + p.env.Name)
	res, rb, err := a.watch(ctx, client, p.cfg, p.env, "", p.gh.runURL())
	a.runner.EndGroup()
	if res == nil {
		return a.fail(exitCode(err), err)
	}
	md := summary.Monitor(res, summary.MonitorInfo{Location: envLocation(p.env)})
	if rb != nil {
		md += "\n" + summary.Rollback(rb, summary.RollbackInfo{Level: "###", Repo: p.gh.Repo, ServerURL: p.gh.ServerURL})
	}
	a.writeResult(res.Verdict, MonitorReport{Command: "monitor", Version: Version(), Result: res.Verdict, Monitor: res, Rollback: rb}, md, nil)
	if err != nil {
		return a.fail(exitCode(err), err)
	}
	if res.Passed() {
		return ExitOK
	}
	a.runner.Error(res.Reason, actions.Annotation{Title: "Monitor breach"})
	return ExitFailed
}

// watch runs the monitor on env and, on a sustained breach with auto-rollback, rolls
// the environment back from sha (empty: its newest live deployment).
func (a *app) watch(ctx context.Context, client *github.Client, cfg *config.Config, env config.Environment, sha, runURL string) (*monitor.Result, *rollback.Result, error) {
	m := *env.Monitor
	o := monitor.Options{Env: env, Monitor: m, Clock: a.env.Clock, Progress: func(msg string) { a.progress(env.Name + ": " + msg) }}
	if len(m.Smoke) > 0 {
		base, err := a.smokeBase(env)
		if err != nil {
			return nil, nil, err
		}
		// The monitor prints one line per check with whatever went wrong; the probes'
		// own lines would repeat that for every interval.
		base.Progress = nil
		o.Smoke = monitor.SmokeWith(base)
	}
	if m.Prometheus != nil && len(m.Prometheus.Checks) > 0 {
		token := ""
		if m.Prometheus.TokenEnv != "" {
			if token = a.secretEnv(m.Prometheus.TokenEnv); token == "" {
				return nil, nil, badInputf("environment %s: monitor.prometheus.token-env %s is empty: pass it from a secret", env.Name, m.Prometheus.TokenEnv)
			}
			a.runner.Protect(token)
		}
		api, err := monitor.NewPrometheus(m.Prometheus.URL, token, a.env.HTTPClient, a.runner.Redactor())
		if err != nil {
			return nil, nil, badInput(fmt.Errorf("environment %s: prometheus: %w", env.Name, err))
		}
		o.Prometheus = api
	}
	var rb *rollback.Result
	if m.AutoRollback && client != nil {
		o.OnBreach = func(ctx context.Context, signal string) error {
			a.runner.Warning(fmt.Sprintf("%s: sustained breach of %q: rolling back automatically", env.Name, signal), actions.Annotation{Title: "Monitor breach"})
			var err error
			rb, err = a.rollback(ctx, client, cfg, env.Name, "", "monitor: "+signal, sha, runURL, false, "")
			return err
		}
	}
	res, err := monitor.Run(ctx, o)
	if err != nil {
		if errors.Is(err, monitor.ErrInvalidOptions) {
			err = badInput(err)
		} else {
			err = classify(err, "monitor "+env.Name)
		}
	}
	return res, rb, err
}

// smokeBase is the smoke options of an environment, without probes.
func (a *app) smokeBase(env config.Environment) (smoke.Options, error) {
	u, err := parseURL("environment "+env.Name+" url", env.URL)
	if err != nil {
		return smoke.Options{}, err
	}
	o := smoke.Options{
		URL: u, Origin: env.Origin, ChannelTimeout: a.channelTimeout,
		Clock: a.env.Clock, HTTPClient: a.env.HTTPClient, Redactor: a.runner.Redactor(),
		Progress: func(msg string) { a.progress(env.Name + ": " + msg) },
	}
	if env.TokenEnv != "" {
		o.Token = a.secretEnv(env.TokenEnv)
		a.runner.Protect(o.Token)
	} else if env.PasswordEnv != "" {
		o.Password = a.secretEnv(env.PasswordEnv)
		a.runner.Protect(o.Password)
	}
	return o, nil
}

// envLocation is the zone people read an environment's times in: its window's.
func envLocation(env config.Environment) *time.Location {
	if env.Window != nil {
		if loc, err := time.LoadLocation(env.Window.Timezone); err == nil {
			return loc
		}
	}
	return time.UTC
}

// monitorFunc is the release's post-production monitor.
func (a *app) monitorFunc(client *github.Client, p releaseParams, sha string) func(ctx context.Context, env config.Environment, deploymentID int64) (*release.MonitorOutcome, error) {
	return func(ctx context.Context, env config.Environment, _ int64) (*release.MonitorOutcome, error) {
		res, rb, err := a.watch(ctx, client, p.cfg, env, sha, p.gh.runURL())
		if res == nil {
			return nil, err
		}
		md := summary.Monitor(res, summary.MonitorInfo{Level: "####", Location: envLocation(env)})
		if rb != nil {
			md += "\n" + summary.Rollback(rb, summary.RollbackInfo{Level: "####", Repo: p.gh.Repo, ServerURL: p.gh.ServerURL})
		}
		out := &release.MonitorOutcome{Verdict: res.Verdict, Reason: res.Reason, Summary: md, Report: res, RolledBack: rb != nil && rb.Passed()}
		if rb != nil {
			out.Report = MonitorReport{Command: "monitor", Version: Version(), Result: res.Verdict, Monitor: res, Rollback: rb}
			out.RollbackAttempted = true
			out.RollbackResult = rb.Verdict
			out.RollbackTo = rb.To.Tag
			out.RollbackReason = rb.Reason
			out.RollbackLeftState = rb.LeftState
		}
		return out, err
	}
}
