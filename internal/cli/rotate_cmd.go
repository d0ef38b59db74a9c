package cli

import (
	"context"
	"fmt"
	"strconv"

	"github.com/agentme/release-action/internal/actions"
	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/deploy"
	"github.com/agentme/release-action/internal/environment"
	"github.com/agentme/release-action/internal/github"
	"github.com/agentme/release-action/internal/outcome"
	"github.com/agentme/release-action/internal/rotate"
	"github.com/agentme/release-action/internal/summary"
)

var rotateInputs = []input{
	inToken, inConfig, inRepo,
	// No default here: at a terminal the environment must be named. (action.yml's
	// default, production, applies in a workflow.)
	{name: "environment", help: "the configured environment whose gateway credential is rotated (required)"},
	{name: "credential", help: "token or password (default: what the environment's probes use, token-env or password-env)"},
	{name: "bootstrap-secret", def: "false", help: "also rotate the dedicated AGENTME_BOOTSTRAP_SECRET the configuration names (secrets.bootstrap)"},
	{name: "reason", help: "why the credential is rotated (required; recorded in the deployment payload and the report)"},
	inPollInterval, inDryRun,
}

// rotateOutputNames are the rotation's outputs besides result and report.
var rotateOutputNames = []string{"sha", "tag", "deployment-id"}

func rotateCommand() *command {
	return &command{
		name:    "rotate",
		summary: "rotate an environment's gateway credential: new secret written, gateway redeployed, old credential and old bootstrap links proven dead",
		inputs:  rotateInputs,
		outputs: rotateOutputNames,
		run: func(ctx context.Context, a *app) error {
			p, err := a.rotateParams()
			if err != nil {
				return err
			}
			if a.readOnly {
				return a.planRotate(ctx, p)
			}
			return a.runRotate(ctx, p)
		},
	}
}

// rotateParams is the rotate command's typed input.
type rotateParams struct {
	gh    ghContext
	token string
	cfg   *config.Config
	req   environment.RotateRequest
}

func (a *app) rotateParams() (rotateParams, error) {
	var p rotateParams
	var err error
	if p.gh, err = a.githubContext(); err != nil {
		return p, err
	}
	if p.token = a.in.str("token"); p.token == "" {
		return p, outcome.BadInputf("no GitHub token: rotation writes secrets, which GITHUB_TOKEN never may: pass a GitHub App installation token or a fine-grained token with the Secrets (or Environments) permission as the token input")
	}
	if p.cfg, err = a.loadConfig(); err != nil {
		return p, err
	}
	if err := a.dryRun(); err != nil {
		return p, err
	}
	name := a.in.str("environment")
	if name == "" {
		return p, outcome.BadInputf("rotate needs the environment input: the configured environment whose gateway credential is rotated")
	}
	p.req = environment.RotateRequest{Kind: a.in.str("credential"), Reason: a.in.str("reason"), Mask: a.runner.AddMask}
	if p.req.Env, err = environment.Find(p.cfg, name); err != nil {
		return p, err
	}
	if p.req.BootstrapSecret, err = a.in.boolean("bootstrap-secret"); err != nil {
		return p, err
	}
	return p, a.environmentTimings()
}

// RotateReport is the rotate command's `report` output: names, key ids, ids, probe
// results and times; never a value.
type RotateReport struct {
	Command    string          `json:"command"`
	Version    string          `json:"version"`
	Repository string          `json:"repository"`
	Result     outcome.Verdict `json:"result"`
	Rotation   *rotate.Report  `json:"rotation"`
	Cost       github.Cost     `json:"api_cost"`
}

func (a *app) runRotate(ctx context.Context, p rotateParams) error {
	client, err := a.newClient(p.gh, p.token)
	if err != nil {
		return err
	}
	// AddMask, not Protect: the new value is born inside the action, so the runner
	// cannot know to hide it; this is the one place a mask is echoed.
	a.runner.Group("Rotate the " + p.req.Env.Name + " gateway credential")
	rep, err := a.service(p.cfg, client, p.gh).Rotate(ctx, p.req)
	a.runner.EndGroup()
	if err != nil {
		return err
	}
	md := summary.Rotate(rep, summary.RotateInfo{Repo: p.gh.Repo, ServerURL: p.gh.ServerURL, RunURL: p.gh.runURL()})
	md += "\n" + summary.Cost(client.Cost()) + "\n"
	extra := map[string]string{"sha": rep.Running.SHA, "tag": rep.Running.Tag}
	if rep.Deploy != nil && rep.Deploy.DeploymentID != 0 {
		extra["deployment-id"] = strconv.FormatInt(rep.Deploy.DeploymentID, 10)
	}
	a.writeResult(rep.Verdict, RotateReport{Command: "rotate", Version: Version(), Repository: p.gh.Repo.String(),
		Result: rep.Verdict, Rotation: rep, Cost: client.Cost()}, md, extra)
	if rep.Passed() {
		return nil
	}
	title := "Rotation failed: nothing was changed"
	if rep.Changed {
		title = "Rotation failed after a secret was written"
	}
	a.runner.Error(rep.Problem, actions.Annotation{Title: title})
	return outcome.Decided(outcome.Fail, rep.Problem)
}

// planRotate is rotate's dry run: what a rotation would write and redeploy, read as the
// rotation reads it, nothing written and no gateway contacted.
func (a *app) planRotate(ctx context.Context, p rotateParams) error {
	client, err := a.newClient(p.gh, p.token)
	if err != nil {
		return err
	}
	plan, err := a.service(p.cfg, client, p.gh).PlanRotate(ctx, p.req)
	if err != nil {
		return err
	}
	a.writePlan("rotate", p.gh, client, plan, summary.RotatePlan(plan), map[string]string{"sha": plan.Running.SHA, "tag": plan.Running.Tag})
	a.runner.Infof("Dry run: %s", plan.Reason)
	return nil
}

// rotateSandbox runs the rotate command of a sandbox scenario against its world:
// production's token, a reason of the sandbox's.
func (a *app) rotateSandbox(ctx context.Context, gh ghContext, token string, cfg *config.Config) error {
	prod := cfg.Environments[deploy.ProductionIndex(cfg.Environments)]
	return a.runRotate(ctx, rotateParams{gh: gh, token: token, cfg: cfg, req: environment.RotateRequest{
		Env: prod, Reason: fmt.Sprintf("sandbox: the %s token appeared in a CI log", prod.Name), Mask: a.runner.AddMask}})
}
