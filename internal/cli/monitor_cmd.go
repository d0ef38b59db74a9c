package cli

import (
	"context"
	"time"

	"github.com/agentme/release-action/internal/actions"
	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/environment"
	"github.com/agentme/release-action/internal/github"
	"github.com/agentme/release-action/internal/monitor"
	"github.com/agentme/release-action/internal/outcome"
	"github.com/agentme/release-action/internal/rollback"
	"github.com/agentme/release-action/internal/smoke"
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
		run: func(ctx context.Context, a *app) error {
			p, err := a.monitorParams()
			if err != nil {
				return err
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
	if p.env, err = environment.Find(p.cfg, a.in.str("environment")); err != nil {
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
			return p, outcome.BadInputf("input duration: %s is outside 1m..6h", d)
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
			return p, outcome.BadInputf("input sustained: %d must be at least 1", n)
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
	svc := a.service(p.cfg, nil, ghContext{})
	if err := svc.CheckGateways(p.env); err != nil {
		return p, err
	}
	if err := svc.CheckPrometheus(p.env); err != nil {
		return p, err
	}
	if m.AutoRollback {
		if p.gh, err = a.githubContext(); err != nil {
			return p, err
		}
		if p.token = a.in.str("token"); p.token == "" {
			return p, outcome.BadInputf("auto-rollback needs a GitHub token: pass the token input (its default is ${{ github.token }}) or set GITHUB_TOKEN")
		}
	}
	return p, nil
}

// MonitorReport is the monitor command's `report` output. Its shape is fixed: "rollback"
// is null unless a sustained breach started an automatic rollback.
type MonitorReport struct {
	Command  string           `json:"command"`
	Version  string           `json:"version"`
	Result   outcome.Verdict  `json:"result"`
	Monitor  *monitor.Result  `json:"monitor"`
	Rollback *rollback.Result `json:"rollback"`
}

func (a *app) runMonitor(ctx context.Context, p monitorParams) error {
	var client *github.Client
	if p.env.Monitor.AutoRollback {
		var err error
		if client, err = a.newClient(p.gh, p.token); err != nil {
			return err
		}
	}
	a.runner.Group("Monitor " + p.env.Name)
	out, err := a.service(p.cfg, client, p.gh).Monitor(ctx, environment.MonitorRequest{Env: p.env})
	a.runner.EndGroup()
	if out == nil {
		return err
	}
	res := out.Monitor
	a.writeResult(res.Verdict, MonitorReport{Command: "monitor", Version: Version(), Result: res.Verdict, Monitor: res, Rollback: out.Rollback}, out.Summary, nil)
	if err != nil {
		return err
	}
	if res.Passed() {
		return nil
	}
	a.runner.Error(res.Reason, actions.Annotation{Title: "Monitor breach"})
	return outcome.Decided(outcome.Fail, res.Reason)
}
