package github_test

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

// TestEmulatorIncidentIssues drives the issue methods an incident record needs against the
// emulator: create, list by state/label/creator, edit the body, comment, close, and read
// who wrote each issue.
func TestEmulatorIncidentIssues(t *testing.T) {
	c, s, clk := emulatorClient(t)
	ctx := context.Background()

	mine, err := c.CreateIssueRecord(ctx, "Incident: production", "body v1", []string{"incident", "severity:active-exploit"})
	require.NoError(t, err)
	assert.Equal(t, "github-actions[bot]", mine.Author)
	assert.Equal(t, "Bot", mine.AuthorType)
	assert.Equal(t, "open", mine.State)
	other := s.AddIssue("mallory", "Incident: production", "fake", "incident")

	clk.Advance(time.Minute)
	tests := []struct {
		name string
		f    github.IssueFilter
		want []int
	}{
		{"open by default, newest first", github.IssueFilter{}, []int{other, mine.Number}},
		{"by label", github.IssueFilter{Labels: []string{"severity:active-exploit"}}, []int{mine.Number}},
		{"by creator", github.IssueFilter{Creator: "mallory"}, []int{other}},
		{"closed", github.IssueFilter{State: "closed"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := c.ListIssues(ctx, tc.f)
			require.NoError(t, err)
			var nums []int
			for _, i := range got {
				nums = append(nums, i.Number)
			}
			assert.Equal(t, tc.want, nums)
		})
	}

	body := "body v2"
	ed, err := c.EditIssue(ctx, mine.Number, github.IssueEdit{Body: &body})
	require.NoError(t, err)
	assert.Equal(t, "body v2", ed.Body)
	url, err := c.CommentIssue(ctx, mine.Number, "ticked item 4")
	require.NoError(t, err)
	assert.Contains(t, url, "#issuecomment-")
	cl, err := c.EditIssue(ctx, mine.Number, github.IssueEdit{State: "closed", StateReason: "completed"})
	require.NoError(t, err)
	assert.Equal(t, "closed", cl.State)
	assert.False(t, cl.ClosedAt.IsZero())

	got, err := c.GetIssue(ctx, mine.Number)
	require.NoError(t, err)
	assert.Equal(t, "closed", got.State)
	o, err := c.GetIssue(ctx, other)
	require.NoError(t, err)
	assert.Equal(t, "mallory", o.Author)
	assert.Equal(t, "User", o.AuthorType)
	_, err = c.GetIssue(ctx, 99)
	assert.ErrorIs(t, err, github.ErrNotFound)

	facts := s.Issues()[mine.Number-1]
	assert.Equal(t, []string{"ticked item 4"}, facts.Comments)
	assert.Equal(t, 2, facts.Edits)
}

// TestViewer covers the token identity: GraphQL's viewer answers for an installation token
// (where GET /user is refused) and for a user token.
func TestViewer(t *testing.T) {
	for _, tc := range []struct{ login string }{{""}, {"octocat"}, {"release-bot[bot]"}} {
		clk := clock.NewVirtual(time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC))
		s := ghemu.New(ghemu.Options{Token: emuToken, TokenLogin: tc.login, Clock: clk})
		base := s.Start()
		t.Cleanup(s.Close)
		c, err := github.New(github.Repo{Owner: s.Owner(), Name: s.Repo()}, github.Options{
			Token: emuToken, APIURL: base + "/api/v3", GraphQLURL: base + "/api/graphql", Clock: clk})
		require.NoError(t, err)
		got, err := c.Viewer(context.Background())
		require.NoError(t, err)
		want := tc.login
		if want == "" {
			want = "github-actions[bot]"
		}
		assert.Equal(t, want, got)
	}
}

// TestListRunsBetween lists runs of every workflow created in a window.
func TestListRunsBetween(t *testing.T) {
	c, s, clk := emulatorClient(t)
	ctx := context.Background()
	s.AddCommit(emuSHA, "main")
	s.AddWorkflow("Deploy", ".github/workflows/deploy.yml")
	s.AddWorkflow("CI", ".github/workflows/ci.yml")
	start := clk.Now()
	s.AddRun("CI", emuSHA, "push")
	clk.Advance(time.Hour)
	s.AddRun("Deploy", emuSHA, "workflow_dispatch")
	runs, err := c.ListRunsBetween(ctx, start.Add(30*time.Minute), time.Time{})
	require.NoError(t, err)
	require.Len(t, runs, 1)
	assert.Equal(t, ".github/workflows/deploy.yml", runs[0].Path)
	assert.Equal(t, "workflow_dispatch", runs[0].Event)
	all, err := c.ListRunsBetween(ctx, start, clk.Now())
	require.NoError(t, err)
	assert.Len(t, all, 2)
}

// TestListIssuesAllPages reads every open issue across pages, newest first.
func TestListIssuesAllPages(t *testing.T) {
	c, s, clk := emulatorClient(t)
	for i := range 150 {
		s.AddIssue("octocat", "issue", "body", "bug")
		if i%50 == 0 {
			clk.Advance(time.Minute)
		}
	}
	got, err := c.ListIssues(context.Background(), github.IssueFilter{})
	require.NoError(t, err)
	require.Len(t, got, 150)
	assert.Equal(t, 150, got[0].Number)
	assert.Equal(t, 1, got[149].Number)
	assert.Equal(t, 2, s.Stats().Routes["GET /repos/{owner}/{repo}/issues"], "two pages of 100")
}
