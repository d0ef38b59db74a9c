package cli_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/cli"
	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/gatewayemu"
	"github.com/agentme/release-action/internal/ghemu"
	"github.com/agentme/release-action/internal/outcome"
	"github.com/agentme/release-action/internal/sandbox"
)

// candidateRecord returns the candidate's Deployment record in env.
func candidateRecord(t *testing.T, emu *ghemu.Server, env string) ghemu.Deployment {
	t.Helper()
	var out []ghemu.Deployment
	for _, d := range emu.Deployments() {
		if d.SHA == sandbox.Candidate && d.Environment == env && strings.HasPrefix(d.Description, "release-action: ") {
			out = append(out, d)
		}
	}
	require.Len(t, out, 1, "one release-action record of the candidate in %s", env)
	return out[0]
}

// deployingStatuses counts the "deploying (run N)" statuses of a record: one per deploy run.
func deployingStatuses(d ghemu.Deployment) int {
	n := 0
	for _, s := range d.Statuses {
		if strings.HasPrefix(s.Description, "release-action: deploying (run ") {
			n++
		}
	}
	return n
}

// TestReleaseRerunAfterAnotherCommitDeployed: staging's smoke fails for the candidate; if
// another commit is deployed to staging meanwhile, the re-run deploys the candidate there
// again (same record, a new run) instead of validating whatever staging runs now.
func TestReleaseRerunAfterAnotherCommitDeployed(t *testing.T) {
	tests := []struct {
		name        string
		other       bool
		wantDeploys int // deploy runs of the candidate's staging record over both runs
		wantLine    string
	}{
		{name: "another commit deployed and validated since: deployed again", other: true, wantDeploys: 2,
			wantLine: "is no longer what staging runs"},
		{name: "nothing deployed since: validated again without a deploy", wantDeploys: 1,
			wantLine: "was deployed before by run"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newReleaseHarness(t, time.Time{}, func(w *sandbox.World) {
				sandbox.AgentMeRepo(w.GitHub)
				w.Staging.SetUIAssetsMissing(true)
			})
			r := h.runFresh()
			require.Equal(t, cli.ExitFailed, r.code, r.stdout)
			h.clk.Advance(10 * time.Minute)
			if tc.other {
				h.world.GitHub.AddCommit(sandbox.Newer)
				h.world.GitHub.AddDeployment("staging", sandbox.Newer, "v2026.2.10-rc.1", false, "in_progress", "success")
			}
			h.world.Staging.SetUIAssetsMissing(false)
			h.clk.Advance(10 * time.Minute)
			r = h.runFresh()
			require.Equal(t, cli.ExitOK, r.code, r.stdout)
			assert.Contains(t, r.stdout, tc.wantLine)
			assert.Equal(t, tc.wantDeploys, deployingStatuses(candidateRecord(t, h.emu, "staging")))
			assert.Equal(t, map[string]int{"staging": 1, "production": 1}, deploymentsPerEnv(h.emu), "the same records, never a second one")
		})
	}
}

// TestRollbackStagingAfterAutoInactive: a successful staging deployment marks the earlier
// one inactive (auto_inactive); a rollback of staging still finds it as the last known good.
func TestRollbackStagingAfterAutoInactive(t *testing.T) {
	tests := []struct {
		name       string
		start      time.Time
		wantResult string
	}{
		{name: "production scheduled: only staging got the candidate", start: time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC), wantResult: "scheduled"},
		{name: "released to both", wantResult: "pass"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newReleaseHarness(t, tc.start, func(w *sandbox.World) { sandbox.AgentMeRepo(w.GitHub) })
			r := h.runFresh()
			require.Equal(t, cli.ExitOK, r.code, r.stdout)
			require.Equal(t, tc.wantResult, r.outputs["result"])
			inactive := 0
			for _, d := range h.emu.Deployments() {
				if d.Environment == "staging" && d.SHA != sandbox.Candidate && len(d.Statuses) > 0 && d.Statuses[len(d.Statuses)-1].State == "inactive" {
					inactive++
				}
			}
			require.NotZero(t, inactive, "GitHub made the earlier staging deployment inactive")

			h.env["INPUT_COMMAND"] = "rollback"
			h.env["INPUT_ENVIRONMENT"] = "staging"
			h.env["INPUT_REASON"] = "staging broken"
			r = h.runFresh()
			require.Equal(t, cli.ExitOK, r.code, r.stdout)
			assert.Equal(t, "pass", r.outputs["result"])
			assert.Equal(t, sandbox.PreviousTag, r.outputs["tag"])
		})
	}
}

// TestReleaseChecksPrometheusUpFront: a Prometheus token variable that is empty, or an
// unusable Prometheus URL, of the monitored environment stops the release before anything
// is tagged or deployed (exit 2); a good token is masked.
func TestReleaseChecksPrometheusUpFront(t *testing.T) {
	const token = "prom-TOKEN-value-0123456789"
	tests := []struct {
		name     string
		env      int // environment whose monitor gets the Prometheus checks
		url      string
		token    string
		wantCode int
		wantText string
	}{
		{name: "production's token variable is empty", env: 1, url: "https://prometheus.example", wantCode: cli.ExitBadInput,
			wantText: "monitor.prometheus.token-env PROMETHEUS_TOKEN is empty"},
		{name: "production's token has a trailing line break", env: 1, url: "https://prometheus.example", token: token + "\n", wantCode: cli.ExitBadInput,
			wantText: "the prometheus token has whitespace or line breaks"},
		{name: "production's URL carries credentials (the configuration check refuses it)", env: 1, url: "https://user:hunter2@prometheus.example",
			token: token, wantCode: cli.ExitBadInput, wantText: "prometheus.url"},
		{name: "a staging monitor the release does not run is not its concern", env: 0, url: "https://prometheus.example", wantCode: cli.ExitOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newReleaseHarness(t, time.Time{}, func(w *sandbox.World) {
				sandbox.AgentMeRepo(w.GitHub)
				m := 0.5
				env := &w.Config.Environments[tc.env]
				if env.Monitor == nil {
					mon := *w.Config.Environments[1].Monitor
					env.Monitor = &mon
				}
				env.Monitor.Prometheus = &config.Prometheus{URL: tc.url, TokenEnv: "PROMETHEUS_TOKEN",
					Checks: []config.MetricCheck{{Name: "auth errors", Query: "sum(rate(x[5m]))", Max: &m}}}
			})
			h.env["PROMETHEUS_TOKEN"] = tc.token
			r := h.runFresh()
			require.Equal(t, tc.wantCode, r.code, r.stdout)
			r.noSecret(t, "hunter2", token)
			if tc.wantCode == cli.ExitOK {
				return
			}
			assert.Contains(t, r.stdout, tc.wantText)
			assert.Empty(t, deploymentsPerEnv(h.emu), "nothing deployed")
			assert.Equal(t, []string{sandbox.PreviousTag}, keys(h.emu.Tags()), "no tag made")
		})
	}
}

// TestReleaseSaysWhatTheAutoRollbackDid: the monitor breaches and rolls production back;
// whether the rollback passed or failed (the old release is broken too) is in the release's
// reason, its error annotation, the summary and the report.
func TestReleaseSaysWhatTheAutoRollbackDid(t *testing.T) {
	tests := []struct {
		name       string
		heal       bool
		wantResult string
		wantText   string
	}{
		{name: "the rollback passed", heal: true, wantResult: "pass", wantText: "production was rolled back to " + sandbox.PreviousTag},
		{name: "the rollback failed: the old release is broken too", wantResult: "fail", wantText: "auto-rollback FAILED: production runs " + sandbox.PreviousTag},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newReleaseHarness(t, time.Time{}, func(w *sandbox.World) {
				sandbox.AgentMeRepo(w.GitHub)
				w.Production.At(sandbox.Start.Add(20*time.Minute), func(g *gatewayemu.Server) { g.SetToolsBroken(true) })
				if tc.heal {
					sandbox.HealOnRollback(w)
				}
			})
			r := h.runFresh()
			require.Equal(t, cli.ExitFailed, r.code, r.stdout)
			var rep cli.ReleaseReport
			require.NoError(t, json.Unmarshal([]byte(r.outputs["report"]), &rep))
			assert.Contains(t, rep.Release.Reason, tc.wantText)
			assert.Contains(t, rep.Release.Step("monitor production").Detail, tc.wantText)
			m := rep.Release.Environments[len(rep.Release.Environments)-1].Monitor
			require.NotNil(t, m)
			require.NotNil(t, m.Rollback, "the automatic rollback is in the report")
			assert.Equal(t, outcome.Verdict(tc.wantResult), m.Rollback.Verdict)
			assert.Equal(t, tc.heal, m.RolledBack())
			var annotated bool
			for _, c := range r.commands() {
				if c.Name == "error" && strings.Contains(c.Data, tc.wantText) {
					annotated = true
				}
			}
			assert.True(t, annotated, "the error annotation says what the rollback did:\n%s", r.stdout)
			if !tc.heal {
				assert.Contains(t, r.summary, "auto\\-rollback FAILED")
			}
			r.noGatewaySecret(t)
		})
	}
}
