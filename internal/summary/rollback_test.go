package summary

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/deploy"
	"github.com/agentme/release-action/internal/github"
	"github.com/agentme/release-action/internal/outcome"
	"github.com/agentme/release-action/internal/rollback"
	"github.com/agentme/release-action/internal/smoke"
)

const (
	rbBad  = "bbbbbbb111111111111111111111111111111111"
	rbGood = "9999999222222222222222222222222222222222"
	rbRun  = "https://github.example/agentme/agentme/actions/runs/4242"
)

func rbInfo() RollbackInfo {
	return RollbackInfo{Repo: github.Repo{Owner: "agentme", Name: "agentme"}, ServerURL: "https://github.example"}
}

func rbResult() *rollback.Result {
	start := time.Date(2026, 11, 24, 1, 7, 0, 0, time.UTC)
	end := start.Add(53*time.Minute + 20*time.Second)
	good := time.Date(2026, 11, 4, 2, 7, 0, 0, time.UTC)
	return &rollback.Result{
		Verdict: outcome.Pass, Environment: "production",
		Reason:         "production rolled back from v1.3.0-rc.1 (bbbbbbb) to v1.2.2 (9999999) (deployment 5625), validated by smoke probes connect-auth, channel, tool-call",
		RollbackReason: "monitor: auth errors",
		From:           rollback.Ref{SHA: rbBad, Tag: "v1.3.0-rc.1", DeploymentID: 5621},
		To:             rollback.Ref{SHA: rbGood, Tag: "v1.2.2", DeploymentID: 5625, LastGoodDeploymentID: 5005, LastGoodAt: &good},
		Source:         rollback.SourceLastKnownGood,
		Deploy:         &deploy.Result{Environment: "production", DeploymentID: 5625, RunID: 901, RunURL: "https://github.example/agentme/agentme/actions/runs/901", State: deploy.StateSuccess},
		Probes:         smoke.RollbackProbes(),
		Smoke: &smoke.Report{Verdict: outcome.Pass, Ready: true, Probes: []smoke.ProbeResult{
			{Name: "connect-auth", OK: true, Attempts: 1, Latency: 80 * time.Millisecond, Detail: "hello-ok"},
			{Name: "channel", OK: true, Attempts: 1, Latency: 900 * time.Millisecond, Detail: "reply received"},
			{Name: "tool-call", OK: true, Attempts: 1, Latency: 40 * time.Millisecond, Detail: "tool ran"},
		}},
		Validated: true, BadMarked: true,
		ImpactWindow: &rollback.Window{Start: start, End: &end, Duration: config.Duration(end.Sub(start)), StartFrom: "first success status of deployment 5621"},
		Incident:     "### Incident: production rolled back from `v1.3.0-rc.1` (`bbbbbbb`) to `v1.2.2` (`9999999`)\n\n- **Root cause:** _to fill in_\n",
		IssueURL:     "https://github.example/agentme/agentme/issues/41", IssueNumber: 41,
		RunURL:   rbRun,
		Duration: config.Duration(20 * time.Second),
	}
}

func TestRollbackSummaryPass(t *testing.T) {
	md := Rollback(rbResult(), rbInfo())
	assertTables(t, md)
	for _, want := range []string{
		"## ✅ Rolled back production to `v1.2.2`\n\n",
		"production rolled back from v1.3.0\\-rc.1 \\(bbbbbbb\\) to v1.2.2 \\(9999999\\) \\(deployment 5625\\), validated by smoke probes connect\\-auth, channel, tool\\-call\n\n",
		"**Why:** monitor: auth errors · **Target:** the last known good deployment (5005, success at 2026\\-11\\-04 02:07 UTC) · 20s · [rollback run](" + rbRun + ")",
		"| From (bad) | [bbbbbbb](https://github.example/agentme/agentme/commit/" + rbBad + ") | `v1.3.0-rc.1` | 5621 | ✅ marked rolled back: release refuses it without force |",
		"| To | [9999999](https://github.example/agentme/agentme/commit/" + rbGood + ") | `v1.2.2` | 5625 · [run 901](https://github.example/agentme/agentme/actions/runs/901) | ✅ deploy success, validated |",
		"**Impact window:** 2026\\-11\\-24 01:07:00 UTC to 02:00:20 UTC (53m20s), from the first success status of deployment 5621 to the rollback's validation",
		"### Smoke after the rollback: ✅ passed",
		"| `channel` | ✅ pass | 900ms | 1 | reply received |",
		"**Incident issue:** [\\#41](https://github.example/agentme/agentme/issues/41)",
		"### Incident: production rolled back from",
	} {
		assert.Contains(t, md, want)
	}
	assert.NotContains(t, md, "Left state")
}

func TestRollbackSummaryFailed(t *testing.T) {
	r := rbResult()
	r.Verdict, r.Validated, r.BadMarked = outcome.Fail, false, false
	r.Reason = "the rollback deployment 5625 of v1.2.2 (9999999) failed: deploy failed: run 901 of deploy.yml concluded failure"
	r.LeftState = "production still runs v1.3.0-rc.1 (bbbbbbb); the rollback deployment 5625 failed: deploy failed | <b>x</b>"
	r.Deploy.State, r.Smoke = deploy.StateFailure, nil
	r.ImpactWindow = &rollback.Window{Start: r.ImpactWindow.Start, StartFrom: r.ImpactWindow.StartFrom, Open: true, Duration: config.Duration(time.Hour)}
	r.Source, r.To.LastGoodDeploymentID = rollback.SourceExplicit, 0
	r.Warnings = []string{"opening the incident issue failed: 403"}
	r.IssueURL = ""
	md := Rollback(r, RollbackInfo{Level: "###"})
	assertTables(t, md)
	for _, want := range []string{
		"### ❌ Rollback of production failed\n\n",
		"> ⚠️ **Left state:** production still runs v1.3.0\\-rc.1 \\(bbbbbbb\\); the rollback deployment 5625 failed: deploy failed \\| &lt;b&gt;x&lt;/b&gt;",
		"**Target:** as asked",
		"| From (bad) | `bbbbbbb` | `v1.3.0-rc.1` | 5621 | not marked |",
		"❌ deploy failure |",
		"**Impact window:** from 2026\\-11\\-24 01:07:00 UTC (first success status of deployment 5621), **still open** (1h0m0s so far)",
		"> ⚠️ opening the incident issue failed: 403",
	} {
		assert.Contains(t, md, want)
	}
	assert.NotContains(t, md, "<b>")
	assert.NotContains(t, md, "Smoke after the rollback")
	assert.NotContains(t, md, "Incident issue")

	// Nothing found to roll back from: no table rows for the missing sides.
	empty := &rollback.Result{Verdict: outcome.Fail, Environment: "production", RollbackReason: "manual",
		Reason: "no live deployment of production was found", LeftState: "nothing changed in production"}
	md = Rollback(empty, rbInfo())
	assert.Contains(t, md, "> ⚠️ **Left state:** nothing changed in production")
	assert.NotContains(t, md, "| From")
	assert.False(t, strings.Contains(md, "| To"))
}
