package cli_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/cli"
	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/gatewayemu"
	"github.com/agentme/release-action/internal/ghemu"
	"github.com/agentme/release-action/internal/sandbox"
)

// candidateLive puts the release candidate live in production, on top of the previous
// release: the state a rollback starts from.
func candidateLive(w *sandbox.World) {
	sandbox.AgentMeRepo(w.GitHub)
	w.GitHub.AddAnnotatedTag("v"+sandbox.Version+"-rc.1", sandbox.Candidate, "Release candidate")
	w.GitHub.AddDeployment("production", sandbox.Candidate, "v"+sandbox.Version+"-rc.1", true, "in_progress", "success")
}

func newRollbackHarness(t *testing.T, setup func(*sandbox.World)) *releaseHarness {
	h := newReleaseHarness(t, time.Time{}, setup)
	h.env["INPUT_COMMAND"] = "rollback"
	h.env["INPUT_ENVIRONMENT"] = "production"
	h.env["INPUT_REASON"] = "on-call: auth errors after the release"
	return h
}

// newestProduction is the newest production deployment and its newest status.
func newestProduction(emu *ghemu.Server) (ghemu.Deployment, string) {
	var newest ghemu.Deployment
	for _, d := range emu.Deployments() {
		if d.Environment == "production" && d.ID > newest.ID {
			newest = d
		}
	}
	state := ""
	if n := len(newest.Statuses); n > 0 {
		state = newest.Statuses[n-1].State
	}
	return newest, state
}

func TestRollbackToLastKnownGood(t *testing.T) {
	h := newRollbackHarness(t, candidateLive)
	h.env["INPUT_OPEN-ISSUE"] = "true"
	r := h.runFresh()
	require.Equal(t, cli.ExitOK, r.code, r.stdout)
	assert.Equal(t, "pass", r.outputs["result"])
	assert.Equal(t, sandbox.PreviousTag, r.outputs["tag"])
	assert.Equal(t, sandbox.Previous, r.outputs["sha"])

	d, state := newestProduction(h.emu)
	assert.Equal(t, sandbox.Previous, d.SHA, "production runs the last known good again")
	assert.Equal(t, "success", state)
	var bad *ghemu.Deployment
	for _, x := range h.emu.Deployments() {
		if x.SHA == sandbox.Candidate && x.Environment == "production" {
			x := x
			bad = &x
		}
	}
	require.NotNil(t, bad)
	last := bad.Statuses[len(bad.Statuses)-1]
	assert.Contains(t, last.Description, "rolled back", "the bad deployment is marked")

	issues := h.emu.Issues()
	require.Len(t, issues, 1)
	assert.Contains(t, issues[0].Labels, "incident")
	assert.Contains(t, issues[0].Body, "Root cause")
	assert.Contains(t, r.summary, "Impact window")
	r.noGatewaySecret(t)
	golden(t, "rollback-last-known-good.md", r.summary)

	// After a rollback, a release refuses the rolled-back commit unless forced.
	h.env["INPUT_COMMAND"] = "release"
	r = h.runFresh()
	require.Equal(t, cli.ExitFailed, r.code, r.stdout)
	assert.Contains(t, r.outputs["report"], "force")
}

func TestRollbackFindsLastKnownGoodAcrossPages(t *testing.T) {
	h := newRollbackHarness(t, func(w *sandbox.World) {
		candidateLive(w)
		// 230 newer deployments of other commits that are not good: failed, errored,
		// made inactive after failing, in progress long ago. The good one is pages deep.
		// (Inactive after a success is GitHub's auto_inactive: that one would be good.)
		for i := range 230 {
			sha := fmt.Sprintf("%040x", 0xabc000+i)
			w.GitHub.AddCommit(sha)
			states := [][]string{{"failure"}, {"error"}, {"failure", "inactive"}, {"in_progress", "failure"}}[i%4]
			w.GitHub.AddDeployment("production", sha, "v0.0."+fmt.Sprint(i), true, states...)
		}
		// The candidate is the newest live one.
		w.GitHub.AddDeployment("production", sandbox.Candidate, "v"+sandbox.Version+"-rc.1", true, "in_progress", "success")
	})
	r := h.runFresh()
	require.Equal(t, cli.ExitOK, r.code, r.stdout)
	assert.Equal(t, sandbox.PreviousTag, r.outputs["tag"], "skips failed, errored, inactive and in-progress deployments")
}

func TestRollbackExplicitTo(t *testing.T) {
	h := newRollbackHarness(t, func(w *sandbox.World) {
		candidateLive(w)
		w.GitHub.AddCommit("7777777777777777777777777777777777777777")
		w.GitHub.AddAnnotatedTag("v2026.1.0", "7777777777777777777777777777777777777777", "older")
	})
	h.env["INPUT_TO"] = "v2026.1.0"
	r := h.runFresh()
	require.Equal(t, cli.ExitOK, r.code, r.stdout)
	d, _ := newestProduction(h.emu)
	assert.Equal(t, "7777777777777777777777777777777777777777", d.SHA)
}

func TestRollbackNoCandidate(t *testing.T) {
	h := newRollbackHarness(t, func(w *sandbox.World) {
		sandbox.AgentMeRepo(w.GitHub)
	})
	// Production only ever ran Previous: there is nothing earlier to go back to.
	h.env["INPUT_FROM"] = sandbox.Previous
	before := len(h.emu.Deployments())
	r := h.runFresh()
	require.Equal(t, cli.ExitFailed, r.code, r.stdout)
	assert.Equal(t, "fail", r.outputs["result"])
	assert.Len(t, h.emu.Deployments(), before, "nothing changed")
	var errs []string
	for _, c := range r.commands() {
		if c.Name == "error" {
			errs = append(errs, c.Data)
		}
	}
	assert.NotEmpty(t, errs)
}

func TestRollbackDeployFailure(t *testing.T) {
	h := newRollbackHarness(t, func(w *sandbox.World) {
		candidateLive(w)
		w.GitHub.FailDeploys("production", 1)
	})
	r := h.runFresh()
	require.Equal(t, cli.ExitFailed, r.code, r.stdout)
	var rep cli.RollbackReport
	require.NoError(t, json.Unmarshal([]byte(r.outputs["report"]), &rep))
	assert.NotEmpty(t, rep.Rollback.LeftState, "a failed rollback says what the environment is left running")
	assert.Contains(t, rep.Rollback.LeftState, "production")
	assert.False(t, rep.Rollback.BadMarked, "the bad deployment is still what runs: not marked")
}

func TestRollbackNeedsReason(t *testing.T) {
	h := newRollbackHarness(t, candidateLive)
	h.env["INPUT_REASON"] = ""
	r := h.runFresh()
	require.Equal(t, cli.ExitBadInput, r.code)
	assert.Contains(t, r.stdout, "reason")
}

// TestReleaseMonitorBreachRollsBack: the release's monitor sees a sustained breach and
// rolls production back by itself.
func TestReleaseMonitorBreachRollsBack(t *testing.T) {
	sc, err := sandbox.Find("release-monitor-rollback")
	require.NoError(t, err)
	h := newReleaseHarness(t, sc.Start, sc.SetupWorld)
	r := h.runFresh()
	require.Equal(t, cli.ExitFailed, r.code, r.stdout)
	d, state := newestProduction(h.emu)
	assert.Equal(t, sandbox.Previous, d.SHA, "production was rolled back")
	assert.Equal(t, "success", state)
	assert.Empty(t, r.outputs["release-tag"], "no release tag after a failed monitor")
	_, tagged := h.emu.Tags()["v"+sandbox.Version]
	assert.False(t, tagged)
	assert.Contains(t, r.summary, "Rolled back")
}

// monitorHarness runs `monitor` on production with the given monitor block.
func newMonitorHarness(t *testing.T, m config.Monitor, setup func(*sandbox.World)) *releaseHarness {
	h := newReleaseHarness(t, time.Time{}, func(w *sandbox.World) {
		sandbox.AgentMeRepo(w.GitHub)
		w.Config.Environments[1].Monitor = &m
		if setup != nil {
			setup(w)
		}
	})
	h.env["INPUT_COMMAND"] = "monitor"
	h.env["INPUT_ENVIRONMENT"] = "production"
	return h
}

func TestMonitorRestartLoop(t *testing.T) {
	m := config.Monitor{Duration: config.Duration(30 * time.Minute), Interval: config.Duration(time.Minute), Sustained: 3, NoData: "fail",
		Smoke: []string{"connect-auth", "tool-call"}}
	h := newMonitorHarness(t, m, func(w *sandbox.World) {
		for i := 1; i <= 20; i++ {
			w.Production.At(sandbox.Start.Add(30*time.Second+time.Duration(i)*time.Minute), func(g *gatewayemu.Server) { g.Restart() })
		}
	})
	r := h.runFresh()
	require.Equal(t, cli.ExitFailed, r.code, r.stdout)
	var rep cli.MonitorReport
	require.NoError(t, json.Unmarshal([]byte(r.outputs["report"]), &rep))
	assert.Equal(t, "restarts", rep.Monitor.Signal)
	assert.Nil(t, rep.Rollback, "auto-rollback is off")
	// The report's shape is fixed whatever path ran: rollback is present, as null.
	var shape map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(r.outputs["report"]), &shape))
	assert.Equal(t, "null", string(shape["rollback"]))
	assert.ElementsMatch(t, []string{"command", "version", "result", "monitor", "rollback"}, slices.Collect(maps.Keys(shape)))
}

func TestMonitorTransientBadIntervalTriggersNothing(t *testing.T) {
	m := config.Monitor{Duration: config.Duration(20 * time.Minute), Interval: config.Duration(time.Minute), Sustained: 3, NoData: "fail",
		AutoRollback: true, Smoke: []string{"connect-auth", "tool-call"}}
	h := newMonitorHarness(t, m, func(w *sandbox.World) {
		w.Production.At(sandbox.Start.Add(5*time.Minute), func(g *gatewayemu.Server) { g.SetToolsBroken(true) })
		w.Production.At(sandbox.Start.Add(6*time.Minute), func(g *gatewayemu.Server) { g.SetToolsBroken(false) })
	})
	before := len(h.emu.Deployments())
	r := h.runFresh()
	require.Equal(t, cli.ExitOK, r.code, r.stdout)
	var rep cli.MonitorReport
	require.NoError(t, json.Unmarshal([]byte(r.outputs["report"]), &rep))
	assert.Equal(t, 20, len(rep.Monitor.Intervals), "45m/1m style: duration / interval checks")
	bad := 0
	for _, s := range rep.Monitor.Signals {
		bad += s.Bad
	}
	assert.Equal(t, 1, bad, "exactly one bad interval was seen")
	assert.Len(t, h.emu.Deployments(), before, "nothing was rolled back")
}

// fakePrometheus answers /api/v1/query with an empty vector (no data) or a value.
func fakePrometheus(t *testing.T, value string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/api/v1/query") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		result := "[]"
		if value != "" {
			result = `[{"metric":{},"value":[1764000000,"` + value + `"]}]`
		}
		fmt.Fprintf(w, `{"status":"success","data":{"resultType":"vector","result":%s}}`, result)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestMonitorNoData(t *testing.T) {
	max := 0.5
	for _, tc := range []struct {
		name, policy, value string
		want                int
	}{
		{name: "no data fails by default", policy: "fail", want: cli.ExitFailed},
		{name: "no data ignored", policy: "ignore", want: cli.ExitOK},
		{name: "data within threshold", policy: "fail", value: "0.1", want: cli.ExitOK},
		{name: "data over threshold", policy: "fail", value: "3", want: cli.ExitFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := config.Monitor{Duration: config.Duration(10 * time.Minute), Interval: config.Duration(time.Minute), Sustained: 3, NoData: tc.policy,
				Smoke: []string{"connect-auth"},
				Prometheus: &config.Prometheus{URL: fakePrometheus(t, tc.value), Checks: []config.MetricCheck{
					{Name: "auth errors", Query: "sum(rate(agentme_gateway_auth_failures_total[5m]))", Max: &max}}}}
			h := newMonitorHarness(t, m, nil)
			r := h.runFresh()
			require.Equal(t, tc.want, r.code, r.stdout)
			if tc.want == cli.ExitFailed {
				var rep cli.MonitorReport
				require.NoError(t, json.Unmarshal([]byte(r.outputs["report"]), &rep))
				assert.Equal(t, "auth errors", rep.Monitor.Signal)
			}
		})
	}
}
