package summary

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/agentme/release-action/internal/monitor"
	"github.com/agentme/release-action/internal/release"
	"github.com/agentme/release-action/internal/rollback"
)

// TestReleaseSummaryAutoRollback: the environment's monitor line says what the automatic
// rollback did; a failed one is called out with what the environment was left running.
func TestReleaseSummaryAutoRollback(t *testing.T) {
	tests := []struct {
		name    string
		out     release.MonitorOutcome
		want    string
		notWant string
	}{
		{
			name: "no rollback",
			out:  release.MonitorOutcome{Monitor: &monitor.Result{Verdict: "fail", Reason: "auth errors"}},
			want: "**Monitor:** ❌ fail: auth errors\n", notWant: "rolled back",
		},
		{
			name: "rolled back",
			out:  release.MonitorOutcome{Monitor: &monitor.Result{Verdict: "fail", Reason: "auth errors"}, Rollback: &rollback.Result{Verdict: "pass", To: rollback.Ref{Tag: "v1.2.2"}}},
			want: "**Monitor:** ❌ fail: auth errors · **rolled back** to `v1.2.2`\n", notWant: "FAILED",
		},
		{
			name: "auto-rollback failed",
			out:  release.MonitorOutcome{Monitor: &monitor.Result{Verdict: "fail", Reason: "auth errors"}, Rollback: &rollback.Result{Verdict: "fail", LeftState: "production still runs v1.2.3-rc.1 (0123456)"}},
			want: "**Monitor:** ❌ fail: auth errors · ⚠️ **auto-rollback FAILED**: production still runs v1.2.3\\-rc.1 \\(0123456\\)\n",
		},
		{
			name:    "auto-rollback failed, hostile text escaped",
			out:     release.MonitorOutcome{Monitor: &monitor.Result{Verdict: "fail", Reason: "auth errors"}, Rollback: &rollback.Result{Verdict: "fail", LeftState: "<img src=x onerror=alert(1)> [x](javascript:alert(1))\n::error::pwned"}},
			want:    "⚠️ **auto-rollback FAILED**: &lt;img src\\=x onerror\\=alert\\(1\\)&gt; \\[x\\]\\(javascript:alert\\(1\\)\\) ::error::pwned\n",
			notWant: "<img",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := passResult()
			out := tc.out
			r.Environments[1].Monitor = &out
			got := Release(r, relInfo())
			assert.Contains(t, got, tc.want)
			if tc.notWant != "" {
				assert.NotContains(t, got, tc.notWant)
			}
			assert.NotContains(t, got, "\n::error::")
			checkMarkdownShape(t, got)
		})
	}
}
