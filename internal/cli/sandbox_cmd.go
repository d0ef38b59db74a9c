package cli

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/agentme/release-action/internal/clock"
	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/environment"
	"github.com/agentme/release-action/internal/gatewayemu"
	"github.com/agentme/release-action/internal/ghemu"
	"github.com/agentme/release-action/internal/github"
	"github.com/agentme/release-action/internal/outcome"
	"github.com/agentme/release-action/internal/sandbox"
)

// sandboxToken is the emulator's own token: the sandbox needs none from the user, but the
// emulator still checks it, so the real authentication path is exercised.
const sandboxToken = "sandbox-token-not-a-secret"

func sandboxCommand() *command {
	return &command{
		name:    "sandbox",
		summary: "run the release (or one gate scenario) against the built-in emulators: no token, no network, virtual time",
		// The sandbox runs the gate, release, rollback or monitor and writes their outputs.
		outputs: slices.Concat(gateOutputs, releaseOutputs, rollbackOutputNames),
		inputs: []input{
			{name: "scenario", def: "release", help: "the Agent Me scenario to run; 'list' shows them all"},
			{name: "config", help: "configuration file for gate scenarios (default: the built-in Agent Me defaults, whatever the working directory holds)"},
		},
		run: func(ctx context.Context, a *app) error {
			name := a.in.str("scenario")
			if name == "list" {
				if a.jsonOutput() {
					return a.printScenarios()
				}
				for _, sc := range sandbox.Scenarios() {
					fmt.Fprintf(a.env.Stdout, "%-26s %-8s %s (expected: %s)\n", sc.Name, sc.Command, sc.Description, sc.Want)
				}
				return nil
			}
			sc, err := sandbox.Find(name)
			if err != nil {
				return outcome.BadInput(err)
			}
			var cfg *config.Config
			if a.in.str("config") != "" {
				if cfg, err = a.loadConfig(); err != nil {
					return err
				}
			}
			return a.runSandbox(ctx, sc, cfg)
		},
	}
}

// runSandbox starts the emulators on loopback with a virtual clock, loads the scenario and
// runs the same code path as the action, pointed at them.
func (a *app) runSandbox(ctx context.Context, sc sandbox.Scenario, cfg *config.Config) error {
	start := sc.Start
	if start.IsZero() {
		start = sandbox.Start
	}
	clk := clock.NewVirtual(start)
	emu := ghemu.New(ghemu.Options{Clock: clk, Token: sandboxToken})
	base := emu.Start()
	defer emu.Close()

	a.env.Clock = clk
	a.elapsed = func() string { return "+" + clk.Now().Sub(start).Round(time.Second).String() }
	a.runner.Protect(sandboxToken)
	a.runner.Infof("Sandbox scenario %s: %s", sc.Name, sc.Description)
	a.runner.Infof("GitHub emulator at %s (virtual time from %s)", base, start.Format(time.RFC3339))
	gp := gateParams{
		gh: ghContext{
			Repo:       github.Repo{Owner: emu.Owner(), Name: emu.Repo()},
			APIURL:     base + "/api/v3",
			GraphQLURL: base + "/api/graphql",
			ServerURL:  base,
		},
		token: sandboxToken,
		cfg:   cfg,
		ref:   sandbox.Candidate,
	}
	if sc.Command == "gate" {
		sc.Setup(emu)
		if gp.cfg == nil {
			gp.cfg = config.Default()
		}
		return a.runGate(ctx, gp)
	}

	w := &sandbox.World{
		GitHub:     emu,
		Staging:    gatewayemu.New(gatewayemu.Options{Token: sandbox.StagingToken, Clock: clk, TickInterval: -1}),
		Production: gatewayemu.New(gatewayemu.Options{Token: sandbox.ProductionToken, Clock: clk, TickInterval: -1}),
	}
	defer w.Staging.Close()
	defer w.Production.Close()
	w.Config = sandbox.ReleaseConfig(w.Staging.Start(), w.Production.Start())
	w.Secrets = map[string]string{sandbox.StagingEnv: sandbox.StagingToken, sandbox.ProductionEnv: sandbox.ProductionToken}
	sc.SetupWorld(w)
	a.secrets = w.Secrets
	for _, v := range w.Secrets {
		a.runner.Protect(v)
	}
	a.runner.Infof("Gateway emulators: staging %s, production %s", w.Config.Environments[0].URL, w.Config.Environments[1].URL)
	gp.cfg = w.Config
	// The emulators answer in microseconds; a missing reply needs no 30s to show.
	a.channelTimeout = 2 * time.Second
	if err := a.service(w.Config, nil, ghContext{}).CheckGateways(w.Config.Environments...); err != nil {
		return err
	}
	switch sc.Command {
	case "rollback":
		return a.runRollback(ctx, rollbackParams{gh: gp.gh, token: sandboxToken, cfg: w.Config, req: environment.RollbackRequest{
			Environment: "production", Reason: "sandbox: severe regression reported by on-call", OpenIssue: true, IssueLabel: "incident"}})
	case "monitor":
		return a.runMonitor(ctx, monitorParams{gh: gp.gh, token: sandboxToken, cfg: w.Config, env: w.Config.Environments[1]})
	}
	runs := max(sc.Runs, 1)
	var err error
	for i := range runs {
		if i > 0 {
			// An earlier run's end is reported as it would be in its own job; only the
			// last one decides the exit code.
			a.exit(err)
			if sc.Between != nil {
				sc.Between(w)
			}
			a.runner.Infof("")
			a.runner.Infof("Running the same release again (run %d of %d): it resumes after the last completed step.", i+1, runs)
		}
		err = a.runRelease(ctx, releaseParams{gateParams: gp})
	}
	return err
}

// printScenarios is `sandbox --scenario list --json`: the scenarios as one JSON report.
func (a *app) printScenarios() error {
	type scenario struct {
		Name        string          `json:"name"`
		Command     string          `json:"command"`
		Description string          `json:"description"`
		Want        outcome.Verdict `json:"want"`
	}
	rep := struct {
		Command   string     `json:"command"`
		Version   string     `json:"version"`
		Scenarios []scenario `json:"scenarios"`
	}{Command: "sandbox", Version: Version()}
	for _, sc := range sandbox.Scenarios() {
		rep.Scenarios = append(rep.Scenarios, scenario{sc.Name, sc.Command, sc.Description, sc.Want})
	}
	return a.printJSON(rep)
}
