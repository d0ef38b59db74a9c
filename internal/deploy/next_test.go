package deploy

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/github"
)

// TestNext: what the deployment of the candidate needs next, from its record, the run an
// earlier attempt left, and what other commits did in the environment since.
func TestNext(t *testing.T) {
	timedOut := written{"error", "release-action: deploy error: timed out after 30m; run 555 was in_progress", runURL(555), envURL}
	smokeFailed := written{"failure", "release-action: smoke failed: probes channel", "", envURL}
	// other is a deployment of another commit in production, made `at` before t0.
	type other struct {
		at    time.Duration
		ours  bool
		state string
		desc  string
	}
	tests := []struct {
		name   string
		seed   []written // the candidate's record, from t0-60m a minute apart; nil: no record
		others []other
		run    string // run 555: "" not read, "gone", or "status/conclusion"
		want   Action
		// wantSuperseded is the state of the superseding status, "" none.
		wantSuperseded string
		wantTimedOut   bool
		wantRunID      int64
	}{
		{name: "no record", want: ActionTrigger},
		{name: "validated", seed: []written{deployingStatus(555), deployedStatus(555), {"success", "release-action: deployed and validated", "", envURL}},
			others: []other{{time.Minute, false, "success", ""}}, want: ActionNone, wantRunID: 555},
		{name: "smoke failed, nothing deployed since: validate again", seed: []written{deployingStatus(555), deployedStatus(555), smokeFailed},
			want: ActionValidate, wantRunID: 555},
		{name: "smoke failed, another commit deployed before it: validate again", seed: []written{deployingStatus(555), deployedStatus(555), smokeFailed},
			others: []other{{90 * time.Minute, false, "success", ""}}, want: ActionValidate, wantRunID: 555},
		{name: "smoke failed, another commit deployed since (GitHub Actions' record): deploy again", seed: []written{deployingStatus(555), deployedStatus(555), smokeFailed},
			others: []other{{10 * time.Minute, false, "success", ""}}, want: ActionTrigger, wantSuperseded: "success", wantRunID: 555},
		{name: "deployed, another commit deployed since by release-action: deploy again", seed: []written{deployingStatus(555), deployedStatus(555)},
			others: []other{{10 * time.Minute, true, "in_progress", "release-action: deployed; validating"}}, want: ActionTrigger, wantSuperseded: "in_progress", wantRunID: 555},
		{name: "smoke failed, another commit only started deploying since: validate again", seed: []written{deployingStatus(555), deployedStatus(555), smokeFailed},
			others: []other{{10 * time.Minute, true, "in_progress", "release-action: deploying (run 600)"}}, want: ActionValidate, wantRunID: 555},
		{name: "smoke failed, another commit failed since: validate again", seed: []written{deployingStatus(555), deployedStatus(555), smokeFailed},
			others: []other{{10 * time.Minute, false, "failure", ""}}, want: ActionValidate, wantRunID: 555},
		{name: "deploying, run still running: follow", seed: []written{deployingStatus(555)}, run: "in_progress/", want: ActionFollow, wantRunID: 555},
		{name: "deploying, run completed: follow to record it", seed: []written{deployingStatus(555)}, run: "completed/failure", want: ActionFollow, wantRunID: 555},
		{name: "deploying, run gone: deploy again", seed: []written{deployingStatus(555)}, run: "gone", want: ActionTrigger, wantRunID: 555},
		{name: "deploying, run completed, another commit deployed since: deploy again", seed: []written{deployingStatus(555)},
			others: []other{{10 * time.Minute, false, "success", ""}}, run: "completed/success", want: ActionTrigger, wantSuperseded: "success", wantRunID: 555},
		{name: "deploying, run still running, another commit deployed since: follow (the run deploys over it)", seed: []written{deployingStatus(555)},
			others: []other{{10 * time.Minute, false, "success", ""}}, run: "in_progress/", want: ActionFollow, wantSuperseded: "success", wantRunID: 555},
		{name: "deploying, no run known: deploy again", seed: []written{{"in_progress", "release-action: deploying", "", ""}}, want: ActionTrigger},
		{name: "timed out, run still running: follow, no second run", seed: []written{deployingStatus(555), timedOut}, run: "in_progress/",
			want: ActionFollow, wantTimedOut: true, wantRunID: 555},
		{name: "timed out, run waiting for approval: follow", seed: []written{deployingStatus(555),
			{"error", "release-action: deploy error: timed out after 7m; run 555 was waiting for approval by @agentme/release-owners", runURL(555), envURL}},
			run: "waiting/", want: ActionFollow, wantTimedOut: true, wantRunID: 555},
		{name: "timed out, run concluded success since: follow to validation", seed: []written{deployingStatus(555), timedOut}, run: "completed/success",
			want: ActionFollow, wantTimedOut: true, wantRunID: 555},
		{name: "timed out, run concluded failure: deploy again", seed: []written{deployingStatus(555), timedOut}, run: "completed/failure",
			want: ActionTrigger, wantTimedOut: true, wantRunID: 555},
		{name: "timed out, run cancelled: deploy again", seed: []written{deployingStatus(555), timedOut}, run: "completed/cancelled",
			want: ActionTrigger, wantTimedOut: true, wantRunID: 555},
		{name: "timed out, run gone: deploy again", seed: []written{deployingStatus(555), timedOut}, run: "gone",
			want: ActionTrigger, wantTimedOut: true, wantRunID: 555},
		{name: "timed out, run concluded success, another commit deployed since: deploy again", seed: []written{deployingStatus(555), timedOut},
			others: []other{{10 * time.Minute, false, "success", ""}}, run: "completed/success", want: ActionTrigger, wantSuperseded: "success", wantTimedOut: true, wantRunID: 555},
		{name: "timed out before any run appeared: deploy again without reading an older run", seed: []written{deployingStatus(554),
			{"failure", "release-action: deploy failed: run 554 concluded failure", runURL(554), envURL},
			{"error", "release-action: deploy error: timed out after 30m; no run of deploy.yml appeared after the dispatch", "", envURL}},
			want: ActionTrigger, wantRunID: 554},
		{name: "deploy failed: deploy again", seed: []written{deployingStatus(555), {"failure", "release-action: deploy failed: run 555 concluded failure", runURL(555), envURL}},
			want: ActionTrigger, wantRunID: 555},
		{name: "made inactive by GitHub: deploy again", seed: []written{deployingStatus(555), deployedStatus(555),
			{"success", "release-action: deployed and validated", "", envURL}, {"inactive", "", "", ""}}, want: ActionTrigger, wantRunID: 555},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			if tc.seed != nil {
				rec := f.addDeployment("production", testSHA, t0.Add(-time.Hour), true)
				for i, s := range tc.seed {
					f.addStatus(rec, s.State, s.Description, s.LogURL, s.EnvironmentURL, t0.Add(-time.Hour+time.Duration(i)*time.Minute))
				}
			}
			var superseding int64
			for i, o := range tc.others {
				id := f.addDeployment("production", fmt.Sprintf("%040x", i+1), t0.Add(-o.at-time.Minute), o.ours)
				f.addStatus(id, o.state, o.desc, "", "", t0.Add(-o.at))
				superseding = id
			}
			reads := 0
			f.getRun = func(id int64, _ time.Time) (github.WorkflowRun, error) {
				reads++
				require.Equal(t, int64(555), id)
				if tc.run == "" {
					t.Errorf("run %d read", id)
				}
				if tc.run == "gone" {
					return github.WorkflowRun{}, fmt.Errorf("GET /actions/runs/555: %w", github.ErrNotFound)
				}
				status, conclusion, _ := strings.Cut(tc.run, "/")
				return github.WorkflowRun{ID: id, HeadSHA: testSHA, Status: status, Conclusion: conclusion, HTMLURL: runURL(id)}, nil
			}

			st, err := Inspect(context.Background(), f, "production", testSHA, 0, t0)
			require.NoError(t, err)
			assert.Equal(t, tc.wantTimedOut, st.TimedOut)
			assert.Equal(t, tc.wantRunID, st.RunID)
			if tc.wantSuperseded == "" {
				assert.Nil(t, st.Superseded)
			} else {
				require.NotNil(t, st.Superseded)
				require.NotNil(t, st.SupersededStatus)
				assert.Equal(t, superseding, st.Superseded.ID)
				assert.Equal(t, tc.wantSuperseded, st.SupersededStatus.State)
			}
			got, err := Next(context.Background(), f, &st)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			// A second look (Deploy's, with the same State) does not read the run again.
			again, err := Next(context.Background(), f, &st)
			require.NoError(t, err)
			assert.Equal(t, got, again)
			assert.LessOrEqual(t, reads, 1)
		})
	}
}

func TestNextRunReadError(t *testing.T) {
	f := newFake(t)
	rec := f.addDeployment("production", testSHA, t0.Add(-time.Hour), true)
	f.addStatus(rec, "in_progress", "release-action: deploying (run 555)", runURL(555), "", t0.Add(-time.Hour))
	f.getRun = func(int64, time.Time) (github.WorkflowRun, error) {
		return github.WorkflowRun{}, fmt.Errorf("GET /actions/runs/555: 502 Bad Gateway")
	}
	st, err := Inspect(context.Background(), f, "production", testSHA, 0, t0)
	require.NoError(t, err)
	_, err = Next(context.Background(), f, &st)
	require.EqualError(t, err, "read deploy run 555 of 0123456 in production: GET /actions/runs/555: 502 Bad Gateway")
}
