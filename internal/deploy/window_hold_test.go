package deploy_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/clock"
	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/deploy"
	"github.com/agentme/release-action/internal/ghemu"
	"github.com/agentme/release-action/internal/github"
)

// TestStartBy runs Deploy against the GitHub emulator with a window that closes a minute
// after the dispatch: a run still waiting for approval then is cancelled (not_started); a
// run already deploying is left to finish and says so.
func TestStartBy(t *testing.T) {
	const sha = "abcdefabcdefabcdefabcdefabcdefabcdefabcd"
	for _, tc := range []struct {
		name      string
		protected bool
		state     string
	}{
		{"waiting for approval", true, deploy.StateNotStarted},
		{"already deploying", false, deploy.StateSuccess},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := clock.NewVirtual(time.Date(2026, 11, 23, 17, 59, 0, 0, time.UTC))
			s := ghemu.New(ghemu.Options{Clock: clk, Token: "tok-window-hold-123456"})
			base := s.Start()
			t.Cleanup(s.Close)
			c, err := github.New(github.Repo{Owner: s.Owner(), Name: s.Repo()}, github.Options{
				Token: "tok-window-hold-123456", APIURL: base + "/api/v3", GraphQLURL: base + "/api/graphql", Clock: clk})
			require.NoError(t, err)
			s.AddTag("v1.0.0", sha)
			s.AddWorkflow("Deploy", ".github/workflows/deploy.yml")
			s.OnDispatch("Deploy", func(ghemu.Dispatch) []ghemu.JobSpec {
				return []ghemu.JobSpec{{Name: "deploy", QueueFor: 5 * time.Second, RunFor: 10 * time.Minute}}
			})
			if tc.protected {
				s.ProtectEnvironment("production", []string{"@agentme/release-owners"}, 0, 0)
			}
			var lines []string
			res, err := deploy.Deploy(context.Background(), c, deploy.Options{
				Environment: config.Environment{Name: "production"}, SHA: sha, Tag: "v1.0.0",
				Clock: clk, PollInterval: 10 * time.Second, Progress: func(l string) { lines = append(lines, l) },
				StartBy: time.Date(2026, 11, 23, 18, 0, 0, 0, time.UTC), Cancel: c.CancelWorkflowRun,
			})
			require.NoError(t, err)
			assert.Equal(t, tc.state, res.State, res.Reason)
			st, concl := s.RunStatus(res.RunID)
			assert.Equal(t, "completed", st)
			deps := s.Deployments()
			require.Len(t, deps, 1)
			last := deps[0].Statuses[len(deps[0].Statuses)-1]
			if tc.protected {
				assert.Equal(t, "cancelled", concl)
				assert.Len(t, s.Cancels(), 1)
				assert.Equal(t, "error", last.State)
				assert.Contains(t, last.Description, "window closed before run")
				return
			}
			assert.Empty(t, s.Cancels(), "a started deploy is never cancelled")
			assert.Equal(t, "success", concl)
			assert.Contains(t, res.WindowNote, "was already deploying: it was left to finish")
			assert.Equal(t, "in_progress", last.State)
		})
	}
}
