package ghemu_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/clock"
	"github.com/agentme/release-action/internal/ghemu"
	"github.com/agentme/release-action/internal/github"
)

// TestWorkflowFilesShareAName: a workflow is its file. Two files may declare the same
// name; each run says which file ran, over REST (path, workflow_id) and GraphQL
// (workflow.databaseId, file.path).
func TestWorkflowFilesShareAName(t *testing.T) {
	const sha = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
	clk := clock.NewVirtual(time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC))
	s := ghemu.New(ghemu.Options{Clock: clk})
	base := s.Start()
	defer s.Close()
	s.AddCommit(sha, "main")
	real := s.AddWorkflow("Security Gate", ".github/workflows/security-gate.yml")
	twin := s.AddWorkflow("Security Gate", ".github/workflows/security-gate-copy.yml")
	require.NotEqual(t, real.ID, twin.ID)
	assert.Equal(t, real.ID, s.AddWorkflow("Security Gate", ".github/workflows/security-gate.yml").ID, "a path is added once")
	r1 := s.AddRun(".github/workflows/security-gate.yml", sha, "push", ghemu.JobSpec{Name: "hardening", RunFor: time.Minute})
	r2 := s.AddRun(".github/workflows/security-gate-copy.yml", sha, "push", ghemu.JobSpec{Name: "hardening", RunFor: time.Minute})
	s.AddRun("Security Gate", sha, "push", ghemu.JobSpec{Name: "hardening", RunFor: time.Minute}) // by name: the first file

	c, err := github.New(github.Repo{Owner: s.Owner(), Name: s.Repo()}, github.Options{
		APIURL: base + "/api/v3", GraphQLURL: base + "/api/graphql", Clock: clk})
	require.NoError(t, err)
	ctx := context.Background()
	ws, err := c.ListWorkflows(ctx)
	require.NoError(t, err)
	assert.Len(t, ws, 2)

	run, err := c.GetWorkflowRun(ctx, r2.ID)
	require.NoError(t, err)
	assert.Equal(t, ".github/workflows/security-gate-copy.yml", run.Path)
	assert.Equal(t, twin.ID, run.WorkflowID)

	all, err := c.Rollup(ctx, sha)
	require.NoError(t, err)
	require.Len(t, all, 3)
	byRun := map[int64]github.CheckContext{}
	for _, cc := range all {
		byRun[cc.RunID] = cc
	}
	assert.Equal(t, real.ID, byRun[r1.ID].WorkflowID)
	assert.Equal(t, ".github/workflows/security-gate.yml", byRun[r1.ID].WorkflowPath)
	assert.Equal(t, twin.ID, byRun[r2.ID].WorkflowID)
	assert.Equal(t, ".github/workflows/security-gate-copy.yml", byRun[r2.ID].WorkflowPath)
	assert.Equal(t, "Security Gate", byRun[r2.ID].Workflow)
}
