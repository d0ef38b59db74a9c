package github_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/ghemu"
	"github.com/agentme/release-action/internal/github"
)

// TestCancelWorkflowRun drives cancel and force-cancel against the emulator: GitHub answers
// 202 and stops the run later; a run that completed answers 409 (ErrRunCompleted); a job
// that runs `if: always()` steps ignores the cancel until a force-cancel.
func TestCancelWorkflowRun(t *testing.T) {
	c, s, clk := emulatorClient(t)
	ctx := context.Background()
	s.AddCommit(emuSHA, "main")
	plain := s.AddRun("Release", emuSHA, "workflow_dispatch", ghemu.JobSpec{Name: "monitor", RunFor: time.Hour})
	stubborn := s.AddRun("Deploy", emuSHA, "workflow_dispatch", ghemu.JobSpec{Name: "deploy", RunFor: time.Hour, IgnoresCancel: true})
	done := s.AddRun("CI", emuSHA, "push", ghemu.JobSpec{Name: "test", RunFor: time.Second})
	clk.Advance(10 * time.Second)

	inProgress, err := c.ListRunsByStatus(ctx, "in_progress")
	require.NoError(t, err)
	var ids []int64
	for _, r := range inProgress {
		ids = append(ids, r.ID)
	}
	assert.ElementsMatch(t, []int64{plain.ID, stubborn.ID}, ids)

	require.NoError(t, c.CancelWorkflowRun(ctx, plain.ID))
	require.NoError(t, c.CancelWorkflowRun(ctx, stubborn.ID))
	r, err := c.GetWorkflowRun(ctx, plain.ID)
	require.NoError(t, err)
	assert.Equal(t, "in_progress", r.Status, "GitHub stops a cancelled run asynchronously")

	clk.Advance(ghemu.DefaultStopFor)
	r, err = c.GetWorkflowRun(ctx, plain.ID)
	require.NoError(t, err)
	assert.Equal(t, "completed", r.Status)
	assert.Equal(t, "cancelled", r.Conclusion)

	clk.Advance(time.Minute)
	r, err = c.GetWorkflowRun(ctx, stubborn.ID)
	require.NoError(t, err)
	assert.Equal(t, "in_progress", r.Status, "an if: always() job ignores the cancel")

	require.NoError(t, c.ForceCancelWorkflowRun(ctx, stubborn.ID))
	clk.Advance(ghemu.ForceStopFor)
	r, err = c.GetWorkflowRun(ctx, stubborn.ID)
	require.NoError(t, err)
	assert.Equal(t, "completed", r.Status)
	assert.Equal(t, "cancelled", r.Conclusion)

	err = c.CancelWorkflowRun(ctx, done.ID)
	assert.ErrorIs(t, err, github.ErrRunCompleted)
	err = c.ForceCancelWorkflowRun(ctx, plain.ID)
	assert.ErrorIs(t, err, github.ErrRunCompleted)
	err = c.CancelWorkflowRun(ctx, 42)
	assert.ErrorIs(t, err, github.ErrNotFound)
	assert.NotErrorIs(t, err, github.ErrRunCompleted)

	var statuses []int
	for _, cr := range s.Cancels() {
		statuses = append(statuses, cr.Status)
	}
	assert.Equal(t, []int{http.StatusAccepted, http.StatusAccepted, http.StatusAccepted, http.StatusConflict, http.StatusConflict}, statuses)

	none, err := c.ListRunsByStatus(ctx, "in_progress")
	require.NoError(t, err)
	assert.Empty(t, none)
}

// TestCancelBeforeStart: a run still waiting for an environment's approval is cancelled
// without ever starting, and stops waiting.
func TestCancelBeforeStart(t *testing.T) {
	c, s, clk := emulatorClient(t)
	ctx := context.Background()
	s.AddCommit(emuSHA, "main")
	s.ProtectEnvironment("production", []string{"@agentme/release-owners"}, 0, 0)
	s.AddWorkflow("Deploy", ".github/workflows/deploy.yml")
	s.OnDispatch("Deploy", func(d ghemu.Dispatch) []ghemu.JobSpec { return []ghemu.JobSpec{ghemu.DeployJob("production", false)} })
	wf, err := c.FindWorkflow(ctx, "deploy.yml")
	require.NoError(t, err)
	res, err := c.DispatchWorkflow(ctx, wf.ID, "main", map[string]string{"environment": "production"})
	require.NoError(t, err)
	clk.Advance(time.Minute)
	r, err := c.GetWorkflowRun(ctx, res.RunID)
	require.NoError(t, err)
	assert.Equal(t, "waiting", r.Status)
	pend, err := c.PendingDeployments(ctx, res.RunID)
	require.NoError(t, err)
	assert.Len(t, pend, 1)

	require.NoError(t, c.CancelWorkflowRun(ctx, res.RunID))
	pend, err = c.PendingDeployments(ctx, res.RunID)
	require.NoError(t, err)
	assert.Empty(t, pend, "a cancelled run waits for nobody")
	clk.Advance(ghemu.DefaultStopFor)
	r, err = c.GetWorkflowRun(ctx, res.RunID)
	require.NoError(t, err)
	assert.Equal(t, "completed", r.Status)
	assert.Equal(t, "cancelled", r.Conclusion)
	s.Approve(res.RunID)
	clk.Advance(time.Hour)
	r, err = c.GetWorkflowRun(ctx, res.RunID)
	require.NoError(t, err)
	assert.Equal(t, "cancelled", r.Conclusion, "approving a cancelled run does not start it")
}
