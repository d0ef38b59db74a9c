package cli

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/agentme/release-action/internal/actions"
	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/github"
	"github.com/agentme/release-action/internal/rollback"
	"github.com/agentme/release-action/internal/smoke"
	"github.com/agentme/release-action/internal/stoprollout"
	"github.com/agentme/release-action/internal/summary"
)

var rollbackInputs = []input{
	inToken, inConfig, inRepo, inEnvironment,
	{name: "to", help: "target: a tag or commit SHA (default: the environment's last known good deployment)"},
	{name: "reason", help: "why you roll back (required; recorded in the deployment statuses, the summary and the incident note)"},
	{name: "from", help: "the bad commit (default: the commit of the environment's newest live deployment)"},
	{name: "open-issue", def: "false", help: "open an issue with the incident summary skeleton"},
	{name: "issue-label", def: "incident", help: "label of the incident issue"},
	inPollInterval, inChannelTimeout,
}

func rollbackCommand() *command {
	return &command{
		name:    "rollback",
		summary: "revert an environment to its last known good deployment (or a tag), re-run smoke, mark the bad deployment",
		inputs:  rollbackInputs,
		run: func(ctx context.Context, a *app) int {
			gh, err := readGitHubContext(a.env.Getenv, a.in.str("repository"))
			if err != nil {
				return a.fail(exitCode(err), err)
			}
			token := a.in.str("token")
			if token == "" {
				return a.fail(ExitBadInput, badInputf("no GitHub token: pass the token input (its default is ${{ github.token }}) or set GITHUB_TOKEN"))
			}
			cfg, err := a.loadConfig()
			if err != nil {
				return a.fail(ExitBadInput, err)
			}
			reason := a.in.str("reason")
			if reason == "" {
				return a.fail(ExitBadInput, badInputf("a rollback needs a reason: pass reason (it is recorded in the deployment statuses, the summary and the incident note)"))
			}
			env, err := findEnvironment(cfg, a.in.str("environment"))
			if err != nil {
				return a.fail(ExitBadInput, err)
			}
			openIssue, err := a.in.boolean("open-issue")
			if err != nil {
				return a.fail(ExitBadInput, err)
			}
			if err := a.environmentTimings(); err != nil {
				return a.fail(ExitBadInput, err)
			}
			if err := a.checkCredentials(&config.Config{Environments: []config.Environment{env}}); err != nil {
				return a.fail(ExitBadInput, err)
			}
			return a.runRollback(ctx, rollbackParams{gh: gh, token: token, cfg: cfg, env: env.Name, to: a.in.str("to"), reason: reason,
				from: a.in.str("from"), openIssue: openIssue, label: a.in.str("issue-label")})
		},
	}
}

// rollbackParams is the rollback command's typed input.
type rollbackParams struct {
	gh              ghContext
	token           string
	cfg             *config.Config
	env, to, reason string
	from, label     string
	openIssue       bool
}

func (a *app) runRollback(ctx context.Context, p rollbackParams) int {
	gh := p.gh
	client, err := a.newClient(gh, p.token)
	if err != nil {
		return a.fail(ExitBadInput, err)
	}
	a.runner.Group("Rollback " + p.env)
	res, err := a.rollback(ctx, client, p.cfg, p.env, p.to, p.reason, p.from, gh.runURL(), p.openIssue, p.label)
	a.runner.EndGroup()
	if res == nil {
		return a.fail(exitCode(err), err)
	}
	md := summary.Rollback(res, summary.RollbackInfo{Repo: gh.Repo, ServerURL: gh.ServerURL})
	md += "\n" + summary.Cost(client.Cost()) + "\n"
	extra := map[string]string{"tag": res.To.Tag, "sha": res.To.SHA}
	if res.To.DeploymentID != 0 {
		extra["deployment-id"] = strconv.FormatInt(res.To.DeploymentID, 10)
	}
	if res.Deploy != nil && res.Deploy.EnvironmentURL != "" {
		extra["environment-url"] = res.Deploy.EnvironmentURL
	}
	if res.IssueURL != "" {
		extra["issue-url"] = res.IssueURL
	}
	a.writeResult(res.Verdict, RollbackReport{Command: "rollback", Version: Version(), Repository: gh.Repo.String(), Result: res.Verdict, Rollback: res, Cost: client.Cost()}, md, extra)
	for _, w := range res.Warnings {
		a.runner.Warning(w, actions.Annotation{Title: "release-action rollback"})
	}
	if err != nil {
		return a.fail(exitCode(err), err)
	}
	if res.Passed() {
		return ExitOK
	}
	msg := res.Reason
	if res.LeftState != "" {
		msg += " " + res.LeftState
	}
	a.runner.Error(msg, actions.Annotation{Title: "Rollback failed"})
	return ExitFailed
}

// RollbackReport is the rollback command's `report` output.
type RollbackReport struct {
	Command    string           `json:"command"`
	Version    string           `json:"version"`
	Repository string           `json:"repository"`
	Result     string           `json:"result"`
	Rollback   *rollback.Result `json:"rollback"`
	Cost       github.Cost      `json:"api_cost"`
}

// rollback rolls envName back; the monitor calls it on a sustained breach.
func (a *app) rollback(ctx context.Context, client *github.Client, cfg *config.Config, envName, to, reason, from, runURL string, openIssue bool, label string) (*rollback.Result, error) {
	hooks := a.webhooks(cfg)
	res, err := rollback.Run(ctx, client, rollback.Options{
		Config: cfg, Environment: envName, To: to, Reason: reason, CurrentSHA: from,
		Smoke: func(ctx context.Context, env config.Environment, probes []string) (*smoke.Report, error) {
			return a.envSmoke(ctx, env, probes, "", 0)
		},
		OpenIssue: openIssue, IssueLabel: label, RunURL: runURL,
		Clock: a.env.Clock, Progress: a.progress, PollInterval: a.pollInterval,
		SelfRunID: stoprollout.RunIDOfURL(runURL),
	})
	a.announceRollback(ctx, hooks, client.Repo().String(), res)
	if err != nil {
		if errors.Is(err, rollback.ErrBadInput) {
			return res, badInput(err)
		}
		return res, classify(err, fmt.Sprintf("roll back %s", envName))
	}
	return res, nil
}
