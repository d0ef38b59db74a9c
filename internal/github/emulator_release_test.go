package github_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/clock"
	"github.com/agentme/release-action/internal/ghemu"
	"github.com/agentme/release-action/internal/github"
)

const (
	emuToken = "ghs_emulatorToken0123456789"
	emuSHA   = "89abcdef0123456789abcdef0123456789abcdef"
	emuOld   = "fedcba9876543210fedcba9876543210fedcba98"
)

func emulatorClient(t *testing.T) (*github.Client, *ghemu.Server, *clock.Virtual) {
	t.Helper()
	clk := clock.NewVirtual(time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC))
	s := ghemu.New(ghemu.Options{Clock: clk, Token: emuToken})
	base := s.Start()
	t.Cleanup(s.Close)
	c, err := github.New(github.Repo{Owner: s.Owner(), Name: s.Repo()}, github.Options{
		Token: emuToken, APIURL: base + "/api/v3", GraphQLURL: base + "/api/graphql", Clock: clk,
		Debugf: t.Logf,
	})
	require.NoError(t, err)
	return c, s, clk
}

// TestEmulatorRelease drives the release methods against the GitHub emulator: the version
// file, a candidate tag, a release, a deployment with statuses, an approval wait and an
// incident issue, each read back through the client.
func TestEmulatorRelease(t *testing.T) {
	c, s, clk := emulatorClient(t)
	ctx := context.Background()
	s.AddCommit(emuSHA, "main")
	s.AddFile(emuSHA, "package.json", []byte(`{"name":"agentme","version":"1.2.3"}`))

	// Version file.
	b, err := c.FileContent(ctx, "package.json", emuSHA)
	require.NoError(t, err)
	assert.JSONEq(t, `{"name":"agentme","version":"1.2.3"}`, string(b))
	_, err = c.FileContent(ctx, "missing.json", emuSHA)
	assert.ErrorIs(t, err, github.ErrNotFound)

	// Candidate tags: 35 existing ones need two pages of matching refs.
	for n := 1; n <= 35; n++ {
		s.AddTag(fmt.Sprintf("v1.2.3-rc.%d", n), emuOld)
	}
	s.AddTag("v1.2.30", emuOld)
	names, err := c.ListTagNames(ctx, "v1.2.3-rc.")
	require.NoError(t, err)
	assert.Len(t, names, 35)
	assert.NotContains(t, names, "v1.2.30")

	_, err = c.GetTag(ctx, "v1.2.3-rc.36")
	assert.ErrorIs(t, err, github.ErrNotFound)
	tagger := &github.Person{Name: "release-action", Email: "release-action@users.noreply.github.com", Date: clk.Now()}
	created, err := c.CreateAnnotatedTag(ctx, "v1.2.3-rc.36", emuSHA, "Release candidate of "+emuSHA, tagger)
	require.NoError(t, err)
	assert.Equal(t, emuSHA, created.SHA)
	assert.True(t, created.Annotated)

	got, err := c.GetTag(ctx, "v1.2.3-rc.36")
	require.NoError(t, err)
	assert.Equal(t, created, got)
	assert.Equal(t, ghemu.Tag{Name: "v1.2.3-rc.36", SHA: emuSHA, ObjectSHA: created.ObjectSHA, Annotated: true,
		Message: "Release candidate of " + emuSHA}, s.Tags()["v1.2.3-rc.36"])

	lw, err := c.GetTag(ctx, "v1.2.3-rc.1")
	require.NoError(t, err)
	assert.Equal(t, github.Tag{Name: "v1.2.3-rc.1", SHA: emuOld, ObjectSHA: emuOld}, lw)

	// Tags never move: a second create of the name is ErrAlreadyExists.
	_, err = c.CreateAnnotatedTag(ctx, "v1.2.3-rc.36", emuOld, "again", nil)
	assert.ErrorIs(t, err, github.ErrAlreadyExists)
	got, err = c.GetTag(ctx, "v1.2.3-rc.36")
	require.NoError(t, err)
	assert.Equal(t, emuSHA, got.SHA)

	// Release.
	_, err = c.GetReleaseByTag(ctx, "v1.2.3-rc.36")
	assert.ErrorIs(t, err, github.ErrNotFound)
	rel, err := c.CreateRelease(ctx, github.ReleaseRequest{TagName: "v1.2.3-rc.36", Target: emuSHA, Name: "v1.2.3-rc.36",
		Body: "first body", Prerelease: true, MakeLatest: "false"})
	require.NoError(t, err)
	assert.NotZero(t, rel.ID)
	assert.True(t, rel.Prerelease)
	assert.False(t, rel.Draft)
	require.NoError(t, c.UpdateReleaseBody(ctx, rel.ID, "final body"))
	back, err := c.GetReleaseByTag(ctx, "v1.2.3-rc.36")
	require.NoError(t, err)
	assert.Equal(t, rel.ID, back.ID)
	assert.Equal(t, "final body", back.Body)
	_, err = c.CreateRelease(ctx, github.ReleaseRequest{TagName: "v1.2.3-rc.36"})
	assert.ErrorIs(t, err, github.ErrAlreadyExists)

	// Deployment with statuses. A pending check on the commit would block a deployment
	// without required_contexts: [].
	s.AddStatus(emuSHA, "ci/slow", "pending", "", "still running")
	payload := json.RawMessage(`{"release_action":1,"commit":"` + emuSHA + `","tag":"v1.2.3-rc.36"}`)
	d, err := c.CreateDeployment(ctx, github.DeploymentRequest{Ref: "v1.2.3-rc.36", Environment: "staging",
		Description: "release-action: v1.2.3-rc.36", Payload: payload, ProductionEnvironment: new(false)})
	require.NoError(t, err)
	assert.Equal(t, emuSHA, d.SHA)
	assert.Equal(t, "deploy", d.Task)
	assert.JSONEq(t, string(payload), string(d.Payload))

	long := "release-action: deploying (run 7) " + strings.Repeat("ü", 200)
	st1, err := c.CreateDeploymentStatus(ctx, d.ID, github.DeploymentStatusRequest{State: "in_progress", Description: long,
		LogURL: "https://github.com/agentme/agentme/actions/runs/7"})
	require.NoError(t, err, "the emulator refuses descriptions over 140 characters")
	clk.Advance(time.Minute)
	st2, err := c.CreateDeploymentStatus(ctx, d.ID, github.DeploymentStatusRequest{State: "success",
		Description: "release-action: deployed and validated", EnvironmentURL: "https://agentme-staging.fly.dev"})
	require.NoError(t, err)

	sts, err := c.ListDeploymentStatuses(ctx, d.ID)
	require.NoError(t, err)
	require.Len(t, sts, 2)
	assert.Equal(t, []int64{st2.ID, st1.ID}, []int64{sts[0].ID, sts[1].ID})
	assert.Equal(t, "success", sts[0].State)
	assert.Equal(t, "https://agentme-staging.fly.dev", sts[0].EnvironmentURL)
	assert.Equal(t, "https://github.com/agentme/agentme/actions/runs/7", sts[1].LogURL)

	// Many older records: ListDeployments reads every page and puts the newest first.
	for range 120 {
		s.AddDeployment("staging", emuOld, "v1.2.2", false, "success")
	}
	clk.Advance(time.Minute)
	d2, err := c.CreateDeployment(ctx, github.DeploymentRequest{Ref: "main", Environment: "staging"})
	require.NoError(t, err)
	all, err := c.ListDeployments(ctx, github.DeploymentFilter{Environment: "staging"})
	require.NoError(t, err)
	require.Len(t, all, 122)
	assert.Equal(t, d2.ID, all[0].ID)
	for i := 1; i < len(all); i++ {
		assert.False(t, all[i].CreatedAt.After(all[i-1].CreatedAt), "sorted by created_at descending")
		if all[i].CreatedAt.Equal(all[i-1].CreatedAt) {
			assert.Less(t, all[i].ID, all[i-1].ID, "ties by id descending")
		}
	}
	mine, err := c.ListDeployments(ctx, github.DeploymentFilter{Environment: "staging", SHA: emuSHA})
	require.NoError(t, err)
	require.Len(t, mine, 2)
	assert.Equal(t, []int64{d2.ID, d.ID}, []int64{mine[0].ID, mine[1].ID})

	// A dispatched deploy run waits for the approval of production's reviewers.
	s.AddWorkflow("Deploy", ".github/workflows/deploy.yml")
	s.ProtectEnvironment("production", []string{"@agentme/release-managers", "@alice"}, 5*time.Minute, 0)
	wf, err := c.FindWorkflow(ctx, "deploy.yml")
	require.NoError(t, err)
	res, err := c.DispatchWorkflow(ctx, wf.ID, "main", map[string]string{"environment": "production"})
	require.NoError(t, err)
	require.NotZero(t, res.RunID)
	pending, err := c.PendingDeployments(ctx, res.RunID)
	require.NoError(t, err)
	require.Len(t, pending, 1)
	assert.Equal(t, "production", pending[0].Environment)
	assert.Equal(t, 5, pending[0].WaitTimer)
	assert.Equal(t, []string{"@agentme/release-managers", "@alice"}, pending[0].Reviewers)
	s.Approve(res.RunID)
	clk.Advance(6 * time.Minute)
	pending, err = c.PendingDeployments(ctx, res.RunID)
	require.NoError(t, err)
	assert.Empty(t, pending)

	// Incident issue.
	is, err := c.CreateIssue(ctx, "Rolled back production", "monitor: error rate", []string{"incident"})
	require.NoError(t, err)
	assert.NotZero(t, is.Number)
	assert.NotEmpty(t, is.HTMLURL)
	require.Len(t, s.Issues(), 1)
	assert.Equal(t, is.Number, s.Issues()[0].Number)
	assert.Equal(t, []string{"incident"}, s.Issues()[0].Labels)
	assert.Equal(t, "monitor: error rate", s.Issues()[0].Body)
}
