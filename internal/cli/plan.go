package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/agentme/release-action/internal/environment"
	"github.com/agentme/release-action/internal/github"
	"github.com/agentme/release-action/internal/outcome"
	"github.com/agentme/release-action/internal/summary"
)

// Dry run (plan before apply). A command that takes inDryRun calls a.dryRun() while it
// reads its inputs; when it is on, every GitHub client the command builds is read-only
// (github.Options.ReadOnly: a write fails with github.ErrReadOnly instead of being sent)
// and the command calls its environment.Service Plan* method instead of running. It
// writes result=planned, a report {command, version, repository, result, dry_run, plan,
// api_cost}, and the plan as the step summary, and exits 0: the plan is the result, even
// one that says a run would stop. Bad input is still 2 and a GitHub failure 3.
//
// rotate plugs in the same way (rotate_cmd.go: planRotate, Service.PlanRotate, rotate.Plan
// on rotate's decide).

// Planned is the result output of a dry run. It is deliberately not a verdict: a workflow
// step conditioned on result == 'pass' must never proceed after a dry run.
const Planned outcome.Verdict = "planned"

var inDryRun = input{name: "dry-run", def: "false", help: "print the plan (what a run would do now, read from GitHub) and write nothing; result is planned"}

// dryRun reads the dry-run input and, when on, makes every client of this run read-only.
func (a *app) dryRun() error {
	on, err := a.in.boolean("dry-run")
	if err != nil {
		return err
	}
	a.readOnly = on
	return nil
}

// PlanReport is the `report` output of a dry run; Plan is release.PlanResult,
// rollback.PlanResult or rotate.PlanResult.
type PlanReport struct {
	Command    string          `json:"command"`
	Version    string          `json:"version"`
	Repository string          `json:"repository"`
	Result     outcome.Verdict `json:"result"`
	DryRun     bool            `json:"dry_run"`
	Plan       any             `json:"plan"`
	Cost       github.Cost     `json:"api_cost"`
}

func (a *app) planRelease(ctx context.Context, p releaseParams) error {
	client, err := a.newClient(p.gh, p.token)
	if err != nil {
		return err
	}
	sha, err := client.ResolveCommit(ctx, p.ref)
	if err != nil {
		if errors.Is(err, github.ErrNotFound) {
			return outcome.BadInputf("candidate commit %q was not found in %s: check the sha input", p.ref, p.gh.Repo)
		}
		return environment.Classify(err, fmt.Sprintf("resolve candidate commit %q in %s", p.ref, p.gh.Repo))
	}
	plan, err := a.service(p.cfg, client, p.gh).PlanRelease(ctx, environment.ReleaseRequest{
		SHA: sha, Gate: a.gateOptions(p.gateParams, sha, 0), Tag: p.tag,
		Force: p.force, ForceWindow: p.forceWindow, ForceReason: p.forceReason,
	})
	if err != nil {
		return err
	}
	extra := map[string]string{"sha": sha}
	if !plan.NextWindow.IsZero() {
		extra["next-window"] = plan.NextWindow.Format(time.RFC3339)
	}
	a.writePlan("release", p.gh, client, plan, summary.ReleasePlan(plan), extra)
	a.runner.Infof("Dry run: %s", plan.Reason)
	return nil
}

func (a *app) planRollback(ctx context.Context, p rollbackParams) error {
	client, err := a.newClient(p.gh, p.token)
	if err != nil {
		return err
	}
	plan, err := a.service(p.cfg, client, p.gh).PlanRollback(ctx, p.req)
	if err != nil {
		return err
	}
	a.writePlan("rollback", p.gh, client, plan, summary.RollbackPlan(plan), map[string]string{"tag": plan.To.Tag, "sha": plan.To.SHA})
	a.runner.Infof("Dry run: %s", plan.Reason)
	return nil
}

func (a *app) writePlan(command string, gh ghContext, client *github.Client, plan any, md string, extra map[string]string) {
	md += "\n" + summary.Cost(client.Cost()) + "\n"
	a.writeResult(Planned, PlanReport{Command: command, Version: Version(), Repository: gh.Repo.String(), Result: Planned,
		DryRun: true, Plan: plan, Cost: client.Cost()}, md, extra)
}
