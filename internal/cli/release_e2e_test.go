package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/cli"
	"github.com/agentme/release-action/internal/clock"
	"github.com/agentme/release-action/internal/gatewayemu"
	"github.com/agentme/release-action/internal/ghemu"
	"github.com/agentme/release-action/internal/outcome"
	"github.com/agentme/release-action/internal/sandbox"
)

// releaseHarness is the action-mode harness with both gateways and the release
// configuration written where the `config` input points.
type releaseHarness struct {
	*harness
	world *sandbox.World
}

func newReleaseHarness(t *testing.T, start time.Time, setup func(*sandbox.World)) *releaseHarness {
	t.Helper()
	if start.IsZero() {
		start = sandbox.Start
	}
	h := newHarness(t, nil)
	h.clk = clock.NewVirtual(start)
	// The GitHub emulator must share the harness clock: start a fresh one on it.
	emu := ghemu.New(ghemu.Options{Clock: h.clk, Token: knownToken})
	base := emu.Start()
	t.Cleanup(emu.Close)
	h.emu, h.url = emu, base
	for k, v := range map[string]string{"GITHUB_API_URL": base + "/api/v3", "GITHUB_GRAPHQL_URL": base + "/api/graphql", "GITHUB_SERVER_URL": base} {
		h.env[k] = v
	}
	w := &sandbox.World{
		GitHub:     emu,
		Staging:    gatewayemu.New(gatewayemu.Options{Token: sandbox.StagingToken, Clock: h.clk, TickInterval: -1}),
		Production: gatewayemu.New(gatewayemu.Options{Token: sandbox.ProductionToken, Clock: h.clk, TickInterval: -1}),
	}
	t.Cleanup(w.Staging.Close)
	t.Cleanup(w.Production.Close)
	w.Config = sandbox.ReleaseConfig(w.Staging.Start(), w.Production.Start())
	if setup != nil {
		setup(w)
	}
	path := filepath.Join(h.dir, "release-action.yml")
	require.NoError(t, os.WriteFile(path, []byte(w.Config.YAML()), 0o644))
	h.env["INPUT_CONFIG"] = path
	h.env["INPUT_COMMAND"] = "release"
	h.env["INPUT_CHANNEL-TIMEOUT"] = "1s"
	h.env[sandbox.StagingEnv] = sandbox.StagingToken
	h.env[sandbox.ProductionEnv] = sandbox.ProductionToken
	return &releaseHarness{harness: h, world: w}
}

// runFresh runs the action with fresh output and summary files (a re-run is a new job).
func (h *releaseHarness) runFresh() result {
	for _, f := range []string{"output", "summary.md"} {
		require.NoError(h.t, os.WriteFile(filepath.Join(h.dir, f), nil, 0o644))
	}
	return h.run()
}

func (r result) noGatewaySecret(t *testing.T) {
	t.Helper()
	r.noSecret(t, sandbox.StagingToken, sandbox.ProductionToken)
}

// deploymentsPerEnv counts the candidate's Deployment records per environment.
func deploymentsPerEnv(emu *ghemu.Server) map[string]int {
	n := map[string]int{}
	for _, d := range emu.Deployments() {
		if d.SHA == sandbox.Candidate {
			n[d.Environment]++
		}
	}
	return n
}

func tagsAt(emu *ghemu.Server) map[string]string {
	out := map[string]string{}
	for name, tag := range emu.Tags() {
		out[name] = tag.SHA
	}
	return out
}

func TestReleaseScenarios(t *testing.T) {
	for _, sc := range sandbox.Scenarios() {
		if sc.Command != "release" {
			continue
		}
		t.Run(sc.Name, func(t *testing.T) {
			h := newReleaseHarness(t, sc.Start, func(w *sandbox.World) { sc.SetupWorld(w) })
			var r result
			for i := range max(sc.Runs, 1) {
				if i > 0 && sc.Between != nil {
					sc.Between(h.world)
				}
				r = h.runFresh()
			}
			want := map[outcome.Verdict]int{"pass": cli.ExitOK, "scheduled": cli.ExitOK, "fail": cli.ExitFailed}[sc.Want]
			require.Equal(t, want, r.code, "stdout:\n%s", r.stdout)
			assert.Equal(t, string(sc.Want), r.outputs["result"])
			var rep cli.ReleaseReport
			require.NoError(t, json.Unmarshal([]byte(r.outputs["report"]), &rep))
			assert.Equal(t, sc.Want, rep.Release.Verdict)
			assert.Equal(t, "v"+sandbox.Version+"-rc.1", r.outputs["tag"], "one candidate tag, rc.1, however many runs")
			if sc.Want == "pass" {
				assert.Equal(t, "v"+sandbox.Version, r.outputs["release-tag"])
				var ids map[string]int64
				require.NoError(t, json.Unmarshal([]byte(r.outputs["deployment-ids"]), &ids))
				assert.Len(t, ids, 2)
				assert.Len(t, h.emu.Releases(), 1, "one GitHub release")
			}
			if sc.Want == "scheduled" {
				next, err := time.Parse(time.RFC3339, r.outputs["next-window"])
				require.NoError(t, err, "next-window is RFC 3339")
				assert.True(t, next.After(h.clk.Now()))
				assert.Zero(t, deploymentsPerEnv(h.emu)["production"], "nothing deployed to production outside its window")
			}
			for env, n := range deploymentsPerEnv(h.emu) {
				assert.Equal(t, 1, n, "exactly one deployment of the commit in %s", env)
			}
			for name, sha := range tagsAt(h.emu) {
				if name != sandbox.PreviousTag {
					assert.Equal(t, sandbox.Candidate, sha, "tag %s names the candidate", name)
				}
			}
			r.noGatewaySecret(t)
			golden(t, "release-"+sc.Name+".md", r.summary)
		})
	}
}

// TestReleaseEachStepFailingThenResume fails each step in turn, then re-runs the same
// release to completion: exactly one candidate tag and one deployment per environment.
func TestReleaseEachStepFailingThenResume(t *testing.T) {
	cases := []struct {
		name   string
		break_ func(w *sandbox.World)
		fix    func(w *sandbox.World)
	}{
		{name: "gate", break_: func(w *sandbox.World) {
			w.GitHub.AddRun(ghemu.WorkflowSecurityGate, sandbox.Candidate, "push", ghemu.SecurityGateJob(ghemu.SecurityGateOptions{
				Files: map[string]string{"src/gateway/auth.test.ts": ghemu.FileFail}}))
		}, fix: func(w *sandbox.World) {
			w.GitHub.AddRun(ghemu.WorkflowSecurityGate, sandbox.Candidate, "push", ghemu.SecurityGateJob(ghemu.SecurityGateOptions{}))
		}},
		{name: "staging deploy", break_: func(w *sandbox.World) { w.GitHub.FailDeploys("staging", 1) }},
		{name: "staging smoke", break_: func(w *sandbox.World) { w.Staging.SetUIAssetsMissing(true) },
			fix: func(w *sandbox.World) { w.Staging.SetUIAssetsMissing(false) }},
		{name: "production deploy", break_: func(w *sandbox.World) { w.GitHub.FailDeploys("production", 1) }},
		{name: "production smoke", break_: func(w *sandbox.World) { w.Production.SetAuthNotEnforced(true) },
			fix: func(w *sandbox.World) { w.Production.SetAuthNotEnforced(false) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newReleaseHarness(t, time.Time{}, func(w *sandbox.World) {
				sandbox.AgentMeRepo(w.GitHub)
				tc.break_(w)
			})
			r := h.runFresh()
			require.Equal(t, cli.ExitFailed, r.code, r.stdout)
			assert.Equal(t, "fail", r.outputs["result"])
			if tc.fix != nil {
				tc.fix(h.world)
			}
			r = h.runFresh()
			require.Equal(t, cli.ExitOK, r.code, r.stdout)
			assert.Equal(t, "pass", r.outputs["result"])
			assert.Equal(t, map[string]int{"staging": 1, "production": 1}, deploymentsPerEnv(h.emu))
			var rc []string
			for name := range h.emu.Tags() {
				if strings.Contains(name, "-rc.") {
					rc = append(rc, name)
				}
			}
			assert.Len(t, rc, 1, "one candidate tag across both runs")

			// A completed release re-run is a no-op that reprints the summary.
			before := len(h.emu.Deployments())
			statuses := 0
			for _, d := range h.emu.Deployments() {
				statuses += len(d.Statuses)
			}
			r = h.runFresh()
			require.Equal(t, cli.ExitOK, r.code, r.stdout)
			var rep cli.ReleaseReport
			require.NoError(t, json.Unmarshal([]byte(r.outputs["report"]), &rep))
			assert.True(t, rep.Release.AlreadyComplete)
			assert.Len(t, h.emu.Deployments(), before)
			after := 0
			for _, d := range h.emu.Deployments() {
				after += len(d.Statuses)
			}
			assert.Equal(t, statuses, after, "a no-op re-run writes no status")
			assert.NotEmpty(t, r.summary, "the summary is reprinted")
		})
	}
}

func TestReleaseTagAtAnotherCommit(t *testing.T) {
	h := newReleaseHarness(t, time.Time{}, func(w *sandbox.World) {
		sandbox.AgentMeRepo(w.GitHub)
		w.GitHub.AddCommit(sandbox.Newer)
		w.GitHub.AddAnnotatedTag("v"+sandbox.Version, sandbox.Newer, "an older release")
	})
	r := h.runFresh()
	require.Equal(t, cli.ExitFailed, r.code, r.stdout)
	assert.Contains(t, r.outputs["report"], "never move")
	assert.Equal(t, sandbox.Newer, tagsAt(h.emu)["v"+sandbox.Version], "the existing tag did not move")
	assert.Empty(t, deploymentsPerEnv(h.emu), "nothing deployed when the release can only fail")
}

// TestReleaseDeploysDespitePendingUnrelatedChecks: a commit with a pending unrelated
// check would make GitHub answer 409 to a deployment with default required_contexts;
// the release sends [] and deploys.
func TestReleaseDeploysDespitePendingUnrelatedChecks(t *testing.T) {
	h := newReleaseHarness(t, time.Time{}, func(w *sandbox.World) {
		sandbox.AgentMeRepo(w.GitHub)
		w.GitHub.AddCheckRun(sandbox.Candidate, "macos", ghemu.JobSpec{Name: "macos", NeverStarts: true})
		w.GitHub.AddStatus(sandbox.Candidate, "ci/external", "pending", "", "still running")
	})
	r := h.runFresh()
	require.Equal(t, cli.ExitOK, r.code, r.stdout)
	assert.Equal(t, map[string]int{"staging": 1, "production": 1}, deploymentsPerEnv(h.emu))
}

func TestReleaseApprovalWait(t *testing.T) {
	h := newReleaseHarness(t, time.Time{}, func(w *sandbox.World) {
		sandbox.AgentMeRepo(w.GitHub)
		w.GitHub.ProtectEnvironment("production", []string{"@agentme/release-owners", "@alice"}, 0, 7*time.Minute)
	})
	r := h.runFresh()
	require.Equal(t, cli.ExitOK, r.code, r.stdout)
	assert.Contains(t, r.stdout, "waiting for approval")
	assert.Contains(t, r.stdout, "@agentme/release-owners")
	var rep cli.ReleaseReport
	require.NoError(t, json.Unmarshal([]byte(r.outputs["report"]), &rep))
	for _, e := range rep.Release.Environments {
		if e.Name == "production" {
			require.NotNil(t, e.Deploy)
			assert.GreaterOrEqual(t, time.Duration(e.Deploy.WaitedApproval), 7*time.Minute)
		}
	}
}

func TestReleaseForceWindowIsRecorded(t *testing.T) {
	h := newReleaseHarness(t, time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC), func(w *sandbox.World) { sandbox.AgentMeRepo(w.GitHub) })
	h.env["INPUT_FORCE-WINDOW"] = "true"
	r := h.runFresh()
	require.Equal(t, cli.ExitBadInput, r.code, "force-window without a reason is refused")
	h.env["INPUT_FORCE-REASON"] = "hotfix for INC-42"
	r = h.runFresh()
	require.Equal(t, cli.ExitOK, r.code, r.stdout)
	assert.Contains(t, r.summary, "INC\\-42")
	var prod *ghemu.Deployment
	for _, d := range h.emu.Deployments() {
		if d.Environment == "production" {
			d := d
			prod = &d
		}
	}
	require.NotNil(t, prod)
	assert.Contains(t, string(prod.Payload), "hotfix for INC-42")
}

func TestReleaseMissingGatewayCredential(t *testing.T) {
	h := newReleaseHarness(t, time.Time{}, func(w *sandbox.World) { sandbox.AgentMeRepo(w.GitHub) })
	h.env[sandbox.ProductionEnv] = ""
	r := h.runFresh()
	require.Equal(t, cli.ExitBadInput, r.code)
	assert.Contains(t, r.stdout, sandbox.ProductionEnv)
	assert.Empty(t, deploymentsPerEnv(h.emu), "nothing started")
	assert.Equal(t, []string{sandbox.PreviousTag}, keys(h.emu.Tags()), "no tag made")
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestReleaseRefusesWhileAnotherCommitDeploys: an in-progress deployment of another
// commit in an environment blocks the release there, and the message says which.
func TestReleaseRefusesWhileAnotherCommitDeploys(t *testing.T) {
	h := newReleaseHarness(t, time.Time{}, func(w *sandbox.World) {
		sandbox.AgentMeRepo(w.GitHub)
		w.GitHub.AddCommit(sandbox.Newer)
		w.GitHub.AddDeployment("staging", sandbox.Newer, "v2026.2.10-rc.1", false, "in_progress")
	})
	r := h.runFresh()
	require.Equal(t, cli.ExitFailed, r.code, r.stdout)
	assert.Contains(t, r.outputs["report"], sandbox.Newer[:7], "the message names the other commit")
	assert.Zero(t, deploymentsPerEnv(h.emu)["staging"], "nothing deployed over a running deployment")
}
