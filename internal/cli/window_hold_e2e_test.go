package cli_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/cli"
	"github.com/agentme/release-action/internal/sandbox"
)

// TestReleaseWindowClosesWhileAwaitingApproval: the production deploy waits for reviewers
// who do not approve before the window closes (Tue 04:00 Brisbane). The release cancels
// the waiting run, marks its deployment and ends scheduled with the next window, as if it
// had arrived outside the window; a late approval then starts nothing.
func TestReleaseWindowClosesWhileAwaitingApproval(t *testing.T) {
	start := time.Date(2026, 11, 23, 17, 45, 0, 0, time.UTC) // Tue 03:45 in Brisbane
	h := newReleaseHarness(t, start, func(w *sandbox.World) {
		sandbox.AgentMeRepo(w.GitHub)
		w.GitHub.ProtectEnvironment("production", []string{"@agentme/release-owners"}, 0, 0)
	})
	r := h.runFresh()
	require.Equal(t, cli.ExitOK, r.code, r.stdout)
	assert.Equal(t, "scheduled", r.outputs["result"])
	next, err := time.Parse(time.RFC3339, r.outputs["next-window"])
	require.NoError(t, err)
	assert.True(t, next.Equal(time.Date(2026, 11, 25, 16, 0, 0, 0, time.UTC)), "Thu 02:00 in Brisbane, got %s", next)

	var rep cli.ReleaseReport
	require.NoError(t, json.Unmarshal([]byte(r.outputs["report"]), &rep))
	assert.Contains(t, rep.Release.Reason, "closed at 2026-11-23T18:00:00Z before run")

	// The production run was cancelled before it started; its deployment says why.
	var prodRun int64
	for _, d := range h.emu.Dispatches() {
		if d.Inputs["environment"] == "production" {
			prodRun = d.RunID
		}
	}
	require.NotZero(t, prodRun)
	st, concl := h.emu.RunStatus(prodRun)
	assert.Equal(t, "completed", st)
	assert.Equal(t, "cancelled", concl)
	for _, d := range h.emu.Deployments() {
		if d.Environment == "production" && d.SHA == sandbox.Candidate {
			last := d.Statuses[len(d.Statuses)-1]
			assert.Equal(t, "error", last.State)
			assert.Contains(t, last.Description, "window closed before run")
		}
	}
	h.emu.Approve(prodRun)
	h.clk.Advance(time.Hour)
	st, concl = h.emu.RunStatus(prodRun)
	assert.Equal(t, "cancelled", concl, "approving after the window starts nothing")
	r.noGatewaySecret(t)

	// At the next window the same release deploys the same record again.
	h.clk.Set(time.Date(2026, 11, 25, 16, 5, 0, 0, time.UTC))
	h.emu.ProtectEnvironment("production", nil, 0, 0)
	r = h.runFresh()
	require.Equal(t, cli.ExitOK, r.code, r.stdout)
	assert.Equal(t, "pass", r.outputs["result"])
	assert.Equal(t, 1, deploymentsPerEnv(h.emu)["production"], "the record is reused")
}
