package cli_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/cli"
	"github.com/agentme/release-action/internal/release"
	"github.com/agentme/release-action/internal/rollback"
	"github.com/agentme/release-action/internal/sandbox"
)

// releasePlanReport is the report of a release dry run.
type releasePlanReport struct {
	cli.PlanReport
	Plan release.PlanResult `json:"plan"`
}

type rollbackPlanReport struct {
	cli.PlanReport
	Plan rollback.PlanResult `json:"plan"`
}

// dryRun runs the action with dry-run on and asserts what every dry run must: not one
// write request reached the emulator (only GET/HEAD and GraphQL queries), nothing in
// GitHub changed, result planned, the report says dry_run, exit 0.
func (h *releaseHarness) dryRun() result {
	h.t.Helper()
	t := h.t
	before := len(h.emu.Requests())
	tags, deps, rels, issues := len(h.emu.Tags()), len(h.emu.Deployments()), len(h.emu.Releases()), len(h.emu.Issues())
	statuses := 0
	for _, d := range h.emu.Deployments() {
		statuses += len(d.Statuses)
	}
	h.env["INPUT_DRY-RUN"] = "true"
	defer delete(h.env, "INPUT_DRY-RUN")
	r := h.runFresh()
	require.Equal(t, cli.ExitOK, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)

	reqs := h.emu.Requests()[before:]
	require.NotEmpty(t, reqs, "the dry run read GitHub")
	for _, q := range reqs {
		assert.False(t, q.Write(), "a dry run sent a write request: %s %s %v", q.Method, q.Path, q.Operations)
	}
	assert.Len(t, h.emu.Tags(), tags, "no tag")
	assert.Len(t, h.emu.Deployments(), deps, "no deployment")
	assert.Len(t, h.emu.Releases(), rels, "no release")
	assert.Len(t, h.emu.Issues(), issues, "no issue")
	n := 0
	for _, d := range h.emu.Deployments() {
		n += len(d.Statuses)
	}
	assert.Equal(t, statuses, n, "no deployment status")

	assert.Equal(t, "planned", r.outputs["result"])
	var rep cli.PlanReport
	require.NoError(t, json.Unmarshal([]byte(r.outputs["report"]), &rep))
	assert.True(t, rep.DryRun)
	assert.Equal(t, cli.Planned, rep.Result)
	assert.Contains(t, r.summary, "(dry run)")
	assert.Contains(t, r.summary, "Nothing was written")
	r.noGatewaySecret(t)
	return r
}

func releasePlan(t *testing.T, r result) release.PlanResult {
	t.Helper()
	var rep releasePlanReport
	require.NoError(t, json.Unmarshal([]byte(r.outputs["report"]), &rep))
	assert.Equal(t, "release", rep.Command)
	return rep.Plan
}

func envPlan(t *testing.T, p release.PlanResult, name string) release.EnvPlan {
	t.Helper()
	for _, e := range p.Environments {
		if e.Name == name {
			return e
		}
	}
	require.Failf(t, "no plan", "environment %s is not in the plan", name)
	return release.EnvPlan{}
}

func TestReleaseDryRunFreshCommit(t *testing.T) {
	h := newReleaseHarness(t, time.Time{}, func(w *sandbox.World) { sandbox.AgentMeRepo(w.GitHub) })
	// At the start the candidate's checks are still running: the gate is evaluated once,
	// not waited for, and the plan says a run would wait for it.
	p := releasePlan(t, h.dryRun())
	require.NotNil(t, p.Gate)
	assert.Equal(t, "pending", string(p.Gate.Verdict), p.Gate.Reason)
	assert.Equal(t, "pending", string(p.Outcome))
	assert.Contains(t, p.Stop, "the gate is not decided yet")
	assert.Equal(t, release.PlanDeploy, envPlan(t, p, "staging").Action, "the rest is planned all the same")
	assert.Equal(t, h.clk.Now(), sandbox.Start, "a dry run does not wait")

	h.clk.Advance(15 * time.Minute) // the checks have finished
	r := h.dryRun()
	p = releasePlan(t, r)
	assert.Equal(t, sandbox.Candidate, p.SHA)
	require.NotNil(t, p.Gate)
	assert.Equal(t, "pass", string(p.Gate.Verdict), "the sandbox's checks are green: %s", p.Gate.Reason)
	assert.Equal(t, release.TagPlan{Name: "v" + sandbox.Version + "-rc.1", Action: release.PlanCreate,
		Reason: "no candidate tag names " + sandbox.Candidate[:7] + " yet: v" + sandbox.Version + "-rc.1 would be created (annotated)"}, p.CandidateTag)
	staging := envPlan(t, p, "staging")
	assert.Equal(t, release.PlanDeploy, staging.Action, staging.Reason)
	assert.Equal(t, "none", staging.Stage)
	production := envPlan(t, p, "production")
	assert.Equal(t, release.PlanDeploy, production.Action, production.Reason)
	assert.Equal(t, "staging", production.After, "production waits for staging")
	require.NotNil(t, production.Window, "production's window was judged")
	assert.True(t, production.Window.Open, production.Window.Reason)
	assert.Equal(t, release.PlanCreate, p.ReleaseTag.Action)
	assert.Equal(t, "v"+sandbox.Version, p.ReleaseTag.Name)
	assert.Equal(t, "pass", string(p.Outcome), p.Reason)
	assert.Empty(t, p.Stop)
	assert.Empty(t, r.outputs["tag"], "a dry run names no tag as made")
	golden(t, "plan-release-fresh.md", r.summary)

	// The plan is what the run then does.
	r = h.runFresh()
	require.Equal(t, cli.ExitOK, r.code, r.stdout)
	assert.Equal(t, "v"+sandbox.Version+"-rc.1", r.outputs["tag"])
}

func TestReleaseDryRunResumesAfterStaging(t *testing.T) {
	h := newReleaseHarness(t, time.Time{}, func(w *sandbox.World) {
		sandbox.AgentMeRepo(w.GitHub)
		w.GitHub.FailDeploys("production", 1)
	})
	r := h.runFresh()
	require.Equal(t, cli.ExitFailed, r.code, r.stdout)
	var prodID int64
	for _, d := range h.emu.Deployments() {
		if d.SHA == sandbox.Candidate && d.Environment == "production" {
			prodID = d.ID
		}
	}
	require.NotZero(t, prodID)

	p := releasePlan(t, h.dryRun())
	assert.Equal(t, release.PlanReuse, p.CandidateTag.Action, "the candidate tag exists")
	assert.Equal(t, "v"+sandbox.Version+"-rc.1", p.CandidateTag.Name)
	staging := envPlan(t, p, "staging")
	assert.Equal(t, release.PlanSkip, staging.Action, staging.Reason)
	assert.Equal(t, "validated", staging.Stage)
	production := envPlan(t, p, "production")
	assert.Equal(t, release.PlanDeploy, production.Action, production.Reason)
	assert.Equal(t, prodID, production.DeploymentID, "the failed deployment's record is reused")
	assert.Contains(t, production.Reason, "deploy again on deployment")
	assert.Empty(t, production.After, "staging is done")
	assert.Equal(t, "pass", string(p.Outcome), p.Reason)
}

func TestReleaseDryRunOutsideWindow(t *testing.T) {
	start := time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC) // Wed 12:00 in Brisbane
	h := newReleaseHarness(t, start, func(w *sandbox.World) { sandbox.AgentMeRepo(w.GitHub) })
	r := h.dryRun()
	p := releasePlan(t, r)
	assert.Equal(t, release.PlanDeploy, envPlan(t, p, "staging").Action)
	production := envPlan(t, p, "production")
	assert.Equal(t, release.PlanSchedule, production.Action, production.Reason)
	require.NotNil(t, production.Window)
	assert.False(t, production.Window.Open)
	assert.Equal(t, "pending", string(p.Outcome), "the gate is the first stop: the checks still run")
	next, err := time.Parse(time.RFC3339, r.outputs["next-window"])
	require.NoError(t, err)
	assert.True(t, next.Equal(production.Window.NextOpen))
	assert.True(t, next.After(start))
	assert.Contains(t, r.summary, "Next window")

	h.clk.Advance(15 * time.Minute) // the checks have finished
	r = h.dryRun()
	p = releasePlan(t, r)
	assert.Equal(t, "scheduled", string(p.Outcome), p.Reason)
	assert.Equal(t, next.Format(time.RFC3339), r.outputs["next-window"])

	// The real run schedules at the same window.
	r = h.runFresh()
	require.Equal(t, cli.ExitOK, r.code, r.stdout)
	assert.Equal(t, "scheduled", r.outputs["result"])
	assert.Equal(t, next.Format(time.RFC3339), r.outputs["next-window"])
}

func TestReleaseDryRunRefusesRolledBackCommit(t *testing.T) {
	h := newRollbackHarness(t, candidateLive)
	require.Equal(t, cli.ExitOK, h.runFresh().code)
	h.env["INPUT_COMMAND"] = "release"
	p := releasePlan(t, h.dryRun())
	assert.Equal(t, "fail", string(p.Outcome))
	assert.Contains(t, p.Stop, "needs force: true")
}

func TestRollbackDryRun(t *testing.T) {
	cases := []struct {
		name    string
		setup   func(*sandbox.World)
		to      string
		wantTag string
		wantSrc string
	}{
		{"last known good", candidateLive, "", sandbox.PreviousTag, rollback.SourceLastKnownGood},
		{"explicit", func(w *sandbox.World) {
			candidateLive(w)
			w.GitHub.AddCommit("7777777777777777777777777777777777777777")
			w.GitHub.AddAnnotatedTag("v2026.1.0", "7777777777777777777777777777777777777777", "older")
		}, "v2026.1.0", "v2026.1.0", rollback.SourceExplicit},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newRollbackHarness(t, c.setup)
			h.env["INPUT_TO"] = c.to
			h.env["INPUT_OPEN-ISSUE"] = "true"
			r := h.dryRun()
			var rep rollbackPlanReport
			require.NoError(t, json.Unmarshal([]byte(r.outputs["report"]), &rep))
			p := rep.Plan
			assert.Equal(t, "rollback", rep.Command)
			assert.Equal(t, c.wantTag, p.To.Tag)
			assert.Equal(t, c.wantSrc, p.Source)
			assert.Equal(t, sandbox.Candidate, p.From.SHA)
			assert.NotZero(t, p.From.DeploymentID, "the deployment that would be marked rolled back")
			assert.Equal(t, rollback.PlanDeploy, p.Action, p.Reason)
			assert.Equal(t, "pass", string(p.Outcome))
			assert.Equal(t, "incident", p.Issue)
			assert.Equal(t, c.wantTag, r.outputs["tag"])
			if c.wantSrc == rollback.SourceLastKnownGood {
				golden(t, "plan-rollback.md", r.summary)
			}
		})
	}
}

func TestRollbackDryRunNothingToRollBack(t *testing.T) {
	h := newRollbackHarness(t, func(w *sandbox.World) { sandbox.AgentMeRepo(w.GitHub) })
	// Production runs the previous release only: it is the newest live one, and nothing
	// older is good.
	r := h.dryRun()
	var rep rollbackPlanReport
	require.NoError(t, json.Unmarshal([]byte(r.outputs["report"]), &rep))
	assert.Equal(t, rollback.PlanRefuse, rep.Plan.Action, rep.Plan.Reason)
	assert.Equal(t, "fail", string(rep.Plan.Outcome))
}

func TestDryRunBadInput(t *testing.T) {
	h := newRollbackHarness(t, candidateLive)
	h.env["INPUT_DRY-RUN"] = "maybe"
	r := h.runFresh()
	assert.Equal(t, cli.ExitBadInput, r.code, r.stdout)

	h.env["INPUT_DRY-RUN"] = "true"
	h.env["INPUT_REASON"] = ""
	r = h.runFresh()
	assert.Equal(t, cli.ExitBadInput, r.code, r.stdout)
	for _, q := range h.emu.Requests() {
		assert.False(t, q.Write(), "%s %s", q.Method, q.Path)
	}
}

// TestReleaseDryRunAtATerminal: --dry-run is a bare flag, and the plan is printed.
func TestReleaseDryRunAtATerminal(t *testing.T) {
	h := newReleaseHarness(t, time.Time{}, func(w *sandbox.World) { sandbox.AgentMeRepo(w.GitHub) })
	delete(h.env, "GITHUB_ACTIONS")
	h.env["GITHUB_TOKEN"] = knownToken
	for k := range h.env {
		if len(k) > 6 && k[:6] == "INPUT_" && k != "INPUT_COMMAND" { // the harness checks outputs by it
			delete(h.env, k)
		}
	}
	before := len(h.emu.Requests())
	r := h.run("release", "--dry-run", "--sha", sandbox.Candidate, "--config", h.dir+"/release-action.yml", "--repository", "agentme/agentme")
	require.Equal(t, cli.ExitOK, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	assert.Contains(t, r.stdout, "Release plan (dry run)")
	assert.Contains(t, r.stdout, "result=planned")
	for _, q := range h.emu.Requests()[before:] {
		assert.False(t, q.Write(), "%s %s", q.Method, q.Path)
	}
	assert.Empty(t, h.emu.Tags()["v"+sandbox.Version+"-rc.1"].SHA)
}

// TestReleaseDryRunGateFails: a failing gate is part of the plan, not an exit code.
func TestReleaseDryRunGateFails(t *testing.T) {
	h := newReleaseHarness(t, time.Time{}, func(w *sandbox.World) {
		for _, sc := range sandbox.Scenarios() {
			if sc.Name == "test-failing" {
				sc.Setup(w.GitHub)
			}
		}
		w.GitHub.AddFile(sandbox.Candidate, "package.json", []byte(`{"version":"`+sandbox.Version+`"}`))
	})
	h.clk.Advance(15 * time.Minute)
	p := releasePlan(t, h.dryRun())
	require.NotNil(t, p.Gate, p.Reason)
	assert.Equal(t, "fail", string(p.Gate.Verdict), p.Gate.Reason)
	assert.Equal(t, "fail", string(p.Outcome))
	assert.Contains(t, p.Stop, "the gate blocks the release")
}

// TestReleaseDryRunStopsBeforeTheGate: a version file that is missing stops a run before
// the gate; the plan says so and exits 0.
func TestReleaseDryRunStopsBeforeTheGate(t *testing.T) {
	h := newReleaseHarness(t, time.Time{}, func(w *sandbox.World) { w.GitHub.LoadAgentMe(sandbox.Candidate) })
	p := releasePlan(t, h.dryRun())
	assert.Nil(t, p.Gate)
	assert.Equal(t, "fail", string(p.Outcome))
	assert.Contains(t, p.Stop, "package.json does not exist")
}

// TestReleaseDryRunAfterTheRelease: a complete release plans nothing.
func TestReleaseDryRunAfterTheRelease(t *testing.T) {
	h := newReleaseHarness(t, time.Time{}, func(w *sandbox.World) { sandbox.AgentMeRepo(w.GitHub) })
	require.Equal(t, cli.ExitOK, h.runFresh().code)
	r := h.dryRun()
	p := releasePlan(t, r)
	assert.Contains(t, r.stdout, "dry run: release tag: reused", "progress lines say they are a dry run")
	assert.True(t, p.AlreadyComplete, p.Reason)
	assert.Equal(t, "pass", string(p.Outcome))
	assert.Equal(t, release.PlanReuse, p.ReleaseTag.Action)
	for _, e := range p.Environments {
		assert.Equal(t, release.PlanSkip, e.Action, e.Name)
		assert.NotZero(t, e.DeploymentID, e.Name)
	}
}

// TestReleaseDryRunDoesNotDispatch: Install Smoke never ran on the candidate; a real gate
// dispatches it (a temporary branch and a dispatch, both writes). The dry run does not:
// the gate stays pending and says a real run would dispatch it.
func TestReleaseDryRunDoesNotDispatch(t *testing.T) {
	h := newReleaseHarness(t, time.Time{}, func(w *sandbox.World) {
		for _, sc := range sandbox.Scenarios() {
			if sc.Name == "install-smoke-dispatch" {
				sc.Setup(w.GitHub)
			}
		}
		w.GitHub.AddFile(sandbox.Candidate, "package.json", []byte(`{"version":"`+sandbox.Version+`"}`))
	})
	h.clk.Advance(15 * time.Minute)
	p := releasePlan(t, h.dryRun())
	require.NotNil(t, p.Gate, p.Reason)
	assert.Equal(t, "pending", string(p.Gate.Verdict), p.Gate.Reason)
	found := false
	for _, g := range p.Gate.Gates {
		if g.Name == "Install Smoke" {
			found = true
			assert.Equal(t, "pending", string(g.Verdict))
			assert.Contains(t, g.Reason, "a real run dispatches it")
		}
	}
	assert.True(t, found, "Install Smoke is a gate")
}
