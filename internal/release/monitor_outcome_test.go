package release

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/monitor"
	"github.com/agentme/release-action/internal/outcome"
	"github.com/agentme/release-action/internal/rollback"
)

// TestMonitorOutcomeShape: the monitor's part of the report has the same two keys
// whatever path ran; the Markdown summary is not part of it.
func TestMonitorOutcomeShape(t *testing.T) {
	tests := []struct {
		name     string
		out      MonitorOutcome
		rollback string
		text     string
	}{
		{"no rollback", MonitorOutcome{Monitor: &monitor.Result{Verdict: outcome.Pass}, Summary: "md"}, "null", ""},
		{"rolled back", MonitorOutcome{Monitor: &monitor.Result{Verdict: outcome.Fail},
			Rollback: &rollback.Result{Verdict: outcome.Pass, To: rollback.Ref{Tag: "v1.2.2"}}}, `"pass"`, "production was rolled back to v1.2.2"},
		{"rollback failed", MonitorOutcome{Monitor: &monitor.Result{Verdict: outcome.Fail},
			Rollback: &rollback.Result{Verdict: outcome.Fail, LeftState: "production still runs v1.2.3"}}, `"fail"`, "auto-rollback FAILED: production still runs v1.2.3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := json.Marshal(tt.out)
			require.NoError(t, err)
			var keys map[string]json.RawMessage
			require.NoError(t, json.Unmarshal(data, &keys))
			assert.Len(t, keys, 2)
			assert.Contains(t, keys, "monitor")
			if tt.rollback == "null" {
				assert.Equal(t, "null", string(keys["rollback"]))
			} else {
				var rb map[string]json.RawMessage
				require.NoError(t, json.Unmarshal(keys["rollback"], &rb))
				assert.Equal(t, tt.rollback, string(rb["verdict"]))
			}
			assert.Equal(t, tt.text, tt.out.RollbackText("production"))
		})
	}
}
