package summary

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/agentme/release-action/internal/deploy"
	"github.com/agentme/release-action/internal/outcome"
	"github.com/agentme/release-action/internal/rotate"
	"github.com/agentme/release-action/internal/smoke"
)

func TestRotateSummary(t *testing.T) {
	at := time.Date(2026, 11, 23, 16, 31, 5, 0, time.UTC)
	base := func() *rotate.Report {
		return &rotate.Report{Environment: "production", Kind: "token", Reason: "leak in <b>CI</b> log | see #12",
			Stage: rotate.StageDone, Verdict: outcome.Pass, Changed: true,
			Running: rotate.Running{SHA: rbGood, Tag: "v1.2.2", DeploymentID: 7},
			Secrets: []rotate.SecretWrite{{Name: "AGENTME_PRODUCTION_GATEWAY_TOKEN", Role: "token", Scope: "repository", KeyID: "338", Written: true, At: at}},
			Deploy:  &deploy.Result{DeploymentID: 9, RunID: 4, RunURL: rbRun, State: deploy.StateSuccess},
			Verification: &smoke.Report{Verdict: outcome.Pass, Ready: true, Probes: []smoke.ProbeResult{
				{Name: smoke.ProbeOldBootstrapCode, OK: true, Attempts: 1, Detail: `refused: "invalid bootstrap code signature"`}}},
			BootstrapCodeAt: at.Add(-time.Second), Started: at.Add(-time.Minute), Finished: at.Add(time.Minute)}
	}
	tests := []struct {
		name   string
		mutate func(*rotate.Report)
		want   []string
	}{
		{"proven", func(*rotate.Report) {}, []string{
			"## ✅ Rotated the token of production: proven\n\n",
			"**Why:** leak in &lt;b&gt;CI&lt;/b&gt; log \\| see \\#12",
			"| `AGENTME_PRODUCTION_GATEWAY_TOKEN` | token | repository | `338` | ✅ 16:31:05 UTC |",
			"**Restart:** deployment 9 (`deploy:rotate`) ✅ success · [run 4](" + rbRun + ")",
			"### Verification against the restarted gateway: ✅ proven",
		}},
		{"nothing changed", func(r *rotate.Report) {
			r.Verdict, r.Changed, r.Stage, r.Deploy, r.Verification = outcome.Fail, false, rotate.StageBootstrap, nil, nil
			r.Secrets[0].Written = false
			r.Problem = "nothing was changed: the gateway would not create a bootstrap code"
		}, []string{"## ❌ Rotation of the token of production failed: nothing was changed", "| not written |", "> ⚠️ nothing was changed"}},
		{"written, not proven", func(r *rotate.Report) {
			r.Verdict, r.Stage = outcome.Fail, rotate.StageVerify
			r.Verification.Verdict = outcome.Fail
			r.Verification.Probes[0].OK = false
		}, []string{"failed after a secret was written", "Verification against the restarted gateway: ❌ not proven"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := base()
			tt.mutate(r)
			md := Rotate(r, RotateInfo{Repo: rbInfo().Repo, ServerURL: rbInfo().ServerURL, RunURL: rbRun})
			assertTables(t, md)
			for _, w := range tt.want {
				assert.Contains(t, md, w)
			}
		})
	}
}
