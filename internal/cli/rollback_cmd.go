package cli

import (
	"context"
	"strconv"

	"github.com/agentme/release-action/internal/actions"
	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/environment"
	"github.com/agentme/release-action/internal/github"
	"github.com/agentme/release-action/internal/outcome"
	"github.com/agentme/release-action/internal/rollback"
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

// rollbackOutputNames are the rollback's outputs besides result and report (rollbackOutputs
// writes them).
var rollbackOutputNames = []string{"tag", "sha", "deployment-id", "environment-url", "issue-url"}

func rollbackCommand() *command {
	return &command{
		name:    "rollback",
		summary: "revert an environment to its last known good deployment (or a tag), re-run smoke, mark the bad deployment",
		inputs:  rollbackInputs,
		outputs: rollbackOutputNames,
		run: func(ctx context.Context, a *app) error {
			p, err := a.rollbackParams()
			if err != nil {
				return err
			}
			return a.runRollback(ctx, p)
		},
	}
}

// rollbackParams is the rollback command's typed input.
type rollbackParams struct {
	gh    ghContext
	token string
	cfg   *config.Config
	req   environment.RollbackRequest
}

func (a *app) rollbackParams() (rollbackParams, error) {
	var p rollbackParams
	var err error
	if p.gh, err = a.githubContext(); err != nil {
		return p, err
	}
	if p.token = a.in.str("token"); p.token == "" {
		return p, outcome.BadInputf("no GitHub token: pass the token input (its default is ${{ github.token }}) or set GITHUB_TOKEN")
	}
	if p.cfg, err = a.loadConfig(); err != nil {
		return p, err
	}
	p.req = environment.RollbackRequest{Environment: a.in.str("environment"), To: a.in.str("to"), Reason: a.in.str("reason"),
		From: a.in.str("from"), IssueLabel: a.in.str("issue-label")}
	if p.req.Reason == "" {
		return p, outcome.BadInputf("a rollback needs a reason: pass reason (it is recorded in the deployment statuses, the summary and the incident note)")
	}
	env, err := environment.Find(p.cfg, p.req.Environment)
	if err != nil {
		return p, err
	}
	if p.req.OpenIssue, err = a.in.boolean("open-issue"); err != nil {
		return p, err
	}
	if err := a.environmentTimings(); err != nil {
		return p, err
	}
	return p, a.service(p.cfg, nil, ghContext{}).CheckGateways(env)
}

func (a *app) runRollback(ctx context.Context, p rollbackParams) error {
	gh := p.gh
	client, err := a.newClient(gh, p.token)
	if err != nil {
		return err
	}
	a.runner.Group("Rollback " + p.req.Environment)
	res, err := a.service(p.cfg, client, gh).Rollback(ctx, p.req)
	a.runner.EndGroup()
	if res == nil {
		return err
	}
	md := summary.Rollback(res, summary.RollbackInfo{Repo: gh.Repo, ServerURL: gh.ServerURL})
	md += "\n" + summary.Cost(client.Cost()) + "\n"
	a.writeResult(res.Verdict, RollbackReport{Command: "rollback", Version: Version(), Repository: gh.Repo.String(), Result: res.Verdict, Rollback: res, Cost: client.Cost()}, md, rollbackOutputs(res))
	for _, w := range res.Warnings {
		a.runner.Warning(w, actions.Annotation{Title: "release-action rollback"})
	}
	if err != nil {
		return err
	}
	if res.Passed() {
		return nil
	}
	msg := res.Reason
	if res.LeftState != "" {
		msg += " " + res.LeftState
	}
	a.runner.Error(msg, actions.Annotation{Title: "Rollback failed"})
	return outcome.Decided(outcome.Fail, msg)
}

// rollbackOutputs are the rollback's outputs beside result and report.
func rollbackOutputs(res *rollback.Result) map[string]string {
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
	return extra
}

// RollbackReport is the rollback command's `report` output.
type RollbackReport struct {
	Command    string           `json:"command"`
	Version    string           `json:"version"`
	Repository string           `json:"repository"`
	Result     outcome.Verdict  `json:"result"`
	Rollback   *rollback.Result `json:"rollback"`
	Cost       github.Cost      `json:"api_cost"`
}
