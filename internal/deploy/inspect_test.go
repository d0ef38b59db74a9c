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

func TestInspectStages(t *testing.T) {
	releaseRun := "https://github.example/o/r/actions/runs/1"
	tests := []struct {
		name       string
		noRecord   bool
		foreign    bool // the only record is GitHub Actions'
		statuses   []written
		wantStage  Stage
		wantRunID  int64
		wantLatest string
	}{
		{name: "no record", noRecord: true, wantStage: StageNone},
		{name: "only GitHub Actions' own record", foreign: true, statuses: []written{{"success", "", runURL(9), ""}}, wantStage: StageNone},
		{name: "record without status", wantStage: StageCreated},
		{name: "deploying", statuses: []written{deployingStatus(555)}, wantStage: StageDeploying, wantRunID: 555,
			wantLatest: "release-action: deploying (run 555)"},
		{name: "deploying, run only in log_url", statuses: []written{{"in_progress", "release-action: deploying", runURL(558) + "/attempts/2", ""}},
			wantStage: StageDeploying, wantRunID: 558, wantLatest: "release-action: deploying"},
		{name: "deployed; validating", statuses: []written{deployingStatus(555), deployedStatus(555)},
			wantStage: StageDeployed, wantRunID: 555, wantLatest: "release-action: deployed; validating"},
		{name: "validated: the run is the deploy run, not the release run of the last status",
			statuses:  []written{deployingStatus(555), deployedStatus(555), {"success", "release-action: deployed and validated", releaseRun, envURL}},
			wantStage: StageValidated, wantRunID: 555, wantLatest: "release-action: deployed and validated"},
		{name: "deploy failed", statuses: []written{deployingStatus(556), {"failure", "release-action: deploy failed: run 556 concluded failure", runURL(556), envURL}},
			wantStage: StageDeployFailed, wantRunID: 556, wantLatest: "release-action: deploy failed: run 556 concluded failure"},
		{name: "deploy error: timeout", statuses: []written{deployingStatus(557),
			{"error", "release-action: deploy error: timed out after 30m0s; run 557 was in_progress", runURL(557), envURL}},
			wantStage: StageDeployFailed, wantRunID: 557, wantLatest: "release-action: deploy error: timed out after 30m0s; run 557 was in_progress"},
		{name: "deploy error: wrong commit", statuses: []written{{"error", "release-action: deploy error: run 559 ran fedcba9, not the candidate 0123456", runURL(559), envURL}},
			wantStage: StageDeployFailed, wantRunID: 559, wantLatest: "release-action: deploy error: run 559 ran fedcba9, not the candidate 0123456"},
		{name: "deploy error: no run", statuses: []written{{"error", "release-action: deploy error: no workflow started within 2m", "", envURL}},
			wantStage: StageDeployFailed, wantLatest: "release-action: deploy error: no workflow started within 2m"},
		{name: "smoke failed", statuses: []written{deployingStatus(555), deployedStatus(555),
			{"failure", "release-action: smoke failed: probes channel (run 7) failed", releaseRun, envURL}},
			wantStage: StageSmokeFailed, wantRunID: 555, wantLatest: "release-action: smoke failed: probes channel (run 7) failed"},
		{name: "rolled back", statuses: []written{deployingStatus(555), deployedStatus(555),
			{"success", "release-action: deployed and validated", releaseRun, envURL},
			{"failure", "release-action: rolled back: error rate 5%", releaseRun, ""}},
			wantStage: StageRolledBack, wantRunID: 555, wantLatest: "release-action: rolled back: error rate 5%"},
		{name: "rolled back (inactive)", statuses: []written{deployingStatus(555), {"inactive", "release-action: rolled back: manual", releaseRun, ""}},
			wantStage: StageRolledBack, wantRunID: 555, wantLatest: "release-action: rolled back: manual"},
		{name: "made inactive by GitHub", statuses: []written{deployingStatus(555), deployedStatus(555),
			{"success", "release-action: deployed and validated", releaseRun, envURL}, {"inactive", "", "", ""}},
			wantStage: StageInactive, wantRunID: 555},
		{name: "foreign success", statuses: []written{{"success", "deployed by hand", "", ""}}, wantStage: StageValidated, wantLatest: "deployed by hand"},
		{name: "foreign failure", statuses: []written{{"failure", "", runURL(5), ""}}, wantStage: StageDeployFailed},
		{name: "foreign in progress", statuses: []written{{"queued", "", runURL(5), ""}}, wantStage: StageDeploying},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			var rec int64
			if !tc.noRecord {
				rec = f.addDeployment("production", testSHA, t0.Add(-time.Hour), !tc.foreign)
				for i, s := range tc.statuses {
					f.addStatus(rec, s.State, s.Description, s.LogURL, s.EnvironmentURL, t0.Add(-time.Hour+time.Duration(i+1)*time.Minute))
				}
			}
			// Noise that must not count: another commit here, this commit elsewhere.
			other := f.addDeployment("production", otherSHA, t0.Add(-3*time.Hour), true)
			f.addStatus(other, "success", "release-action: deployed and validated", "", "", t0.Add(-3*time.Hour))
			f.addDeployment("staging", testSHA, t0.Add(-2*time.Hour), true)

			st, err := Inspect(context.Background(), f, "production", testSHA, 0, t0)
			require.NoError(t, err)
			assert.Equal(t, "production", st.Environment)
			assert.Equal(t, testSHA, st.SHA)
			assert.Equal(t, tc.wantStage, st.Stage)
			assert.Equal(t, tc.wantRunID, st.RunID)
			if tc.noRecord || tc.foreign {
				assert.Nil(t, st.Record)
			} else {
				require.NotNil(t, st.Record)
				assert.Equal(t, rec, st.Record.ID)
			}
			if tc.wantLatest != "" || (len(tc.statuses) > 0 && !tc.foreign) {
				require.NotNil(t, st.Latest)
				assert.Equal(t, tc.wantLatest, st.Latest.Description)
			} else {
				assert.Nil(t, st.Latest)
			}
			assert.Equal(t, tc.wantStage == StageRolledBack, st.RolledBack != nil)
			assert.Nil(t, st.Blocker)
		})
	}
}

func TestInspectNewestRecordOfTheCommit(t *testing.T) {
	f := newFake(t)
	// Same CreatedAt: the higher id wins; listed oldest first by the fake.
	a := f.addDeployment("production", testSHA, t0.Add(-time.Hour), true)
	b := f.addDeployment("production", testSHA, t0.Add(-time.Hour), true)
	f.addStatus(a, "in_progress", "release-action: deploying (run 1)", runURL(1), "", t0.Add(-50*time.Minute))
	f.addStatus(b, "in_progress", "release-action: deploying (run 2)", runURL(2), "", t0.Add(-40*time.Minute))
	// A newer record GitHub Actions made for the deploy job is not release-action's.
	f.addDeployment("production", testSHA, t0.Add(-30*time.Minute), false)
	st, err := Inspect(context.Background(), f, "production", testSHA, 0, t0)
	require.NoError(t, err)
	require.NotNil(t, st.Record)
	assert.Equal(t, b, st.Record.ID)
	assert.Equal(t, int64(2), st.RunID)
}

func TestInspectBlocker(t *testing.T) {
	type rec struct {
		sha     string
		ours    bool
		created time.Duration // before t0
		state   string        // newest status ("" = none)
		at      time.Duration // status time before t0
	}
	tests := []struct {
		name        string
		envTimeout  time.Duration
		recs        []rec
		wantBlocker int // index into recs, -1 none
	}{
		{"other commit in progress", 0, []rec{{otherSHA, true, 10 * time.Minute, "in_progress", 9 * time.Minute}}, 0},
		{"stale in progress older than 2x the timeout is ignored", 0, []rec{{otherSHA, true, 3 * time.Hour, "in_progress", 61 * time.Minute}}, -1},
		{"just within 2x the timeout", 0, []rec{{otherSHA, true, 3 * time.Hour, "in_progress", 60 * time.Minute}}, 0},
		{"longer timeout keeps it", 2 * time.Hour, []rec{{otherSHA, true, 3 * time.Hour, "queued", 3 * time.Hour}}, 0},
		{"an old record re-deployed now", 0, []rec{{otherSHA, true, 5 * 24 * time.Hour, "in_progress", 5 * time.Minute}}, 0},
		{"other commit finished", 0, []rec{{otherSHA, true, 10 * time.Minute, "success", 5 * time.Minute}}, -1},
		{"other commit failed", 0, []rec{{otherSHA, true, 10 * time.Minute, "failure", 5 * time.Minute}}, -1},
		{"same commit in progress is no blocker", 0, []rec{{testSHA, true, 10 * time.Minute, "in_progress", 5 * time.Minute}}, -1},
		{"record without status", 0, []rec{{otherSHA, true, time.Minute, "", 0}}, -1},
		{"GitHub Actions' record of a job waiting for approval", 0, []rec{{otherSHA, false, 3 * time.Minute, "waiting", 2 * time.Minute}}, 0},
		{"pending", 0, []rec{{otherSHA, true, 3 * time.Minute, "pending", 2 * time.Minute}}, 0},
		{"the most recently active of two", 0, []rec{
			{thirdSHA, true, 20 * time.Minute, "in_progress", 19 * time.Minute},
			{otherSHA, true, 10 * time.Minute, "in_progress", 9 * time.Minute},
		}, 1},
		{"only the newest few records are read", 0, []rec{
			{thirdSHA, true, 50 * time.Minute, "in_progress", 50 * time.Minute},
			{otherSHA, true, 9 * time.Minute, "success", 9 * time.Minute},
			{otherSHA, true, 8 * time.Minute, "failure", 8 * time.Minute},
			{otherSHA, true, 7 * time.Minute, "error", 7 * time.Minute},
			{otherSHA, true, 6 * time.Minute, "inactive", 6 * time.Minute},
			{otherSHA, true, 5 * time.Minute, "success", 5 * time.Minute},
		}, -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			var ids []int64
			for _, r := range tc.recs {
				id := f.addDeployment("production", r.sha, t0.Add(-r.created), r.ours)
				if r.state != "" {
					f.addStatus(id, r.state, "", runURL(id), "", t0.Add(-r.at))
				}
				ids = append(ids, id)
			}
			// Another environment's deployment in progress never blocks this one.
			s := f.addDeployment("staging", otherSHA, t0.Add(-time.Minute), true)
			f.addStatus(s, "in_progress", "release-action: deploying (run 3)", runURL(3), "", t0.Add(-time.Minute))

			st, err := Inspect(context.Background(), f, "production", testSHA, tc.envTimeout, t0)
			require.NoError(t, err)
			if tc.wantBlocker < 0 {
				assert.Nil(t, st.Blocker)
				assert.Nil(t, st.BlockerStatus)
				return
			}
			require.NotNil(t, st.Blocker)
			require.NotNil(t, st.BlockerStatus)
			assert.Equal(t, ids[tc.wantBlocker], st.Blocker.ID)
			assert.Equal(t, tc.recs[tc.wantBlocker].state, st.BlockerStatus.State)
			assert.Equal(t, runURL(ids[tc.wantBlocker]), st.BlockerStatus.LogURL)
		})
	}
}

func TestInspectRolledBack(t *testing.T) {
	f := newFake(t)
	// The commit's older record carries the rollback; its newest record was validated since.
	old := f.addDeployment("production", testSHA, t0.Add(-5*time.Hour), true)
	f.addStatus(old, "success", "release-action: deployed and validated", "", envURL, t0.Add(-5*time.Hour))
	f.addStatus(old, "failure", "release-action: rolled back: error rate 5%", "https://github.example/o/r/actions/runs/9", "", t0.Add(-4*time.Hour))
	f.addStatus(old, "inactive", "release-action: rolled back: superseded", "", "", t0.Add(-3*time.Hour))
	f.addDeployment("production", testSHA, t0.Add(-time.Hour), true)
	st, err := Inspect(context.Background(), f, "production", testSHA, 0, t0)
	require.NoError(t, err)
	assert.Equal(t, StageCreated, st.Stage)
	require.NotNil(t, st.RolledBack)
	assert.Equal(t, "release-action: rolled back: superseded", st.RolledBack.Description)

	// A rollback of another commit or environment says nothing of this one.
	f2 := newFake(t)
	o := f2.addDeployment("production", otherSHA, t0.Add(-time.Hour), true)
	f2.addStatus(o, "failure", "release-action: rolled back: x", "", "", t0.Add(-time.Hour))
	s := f2.addDeployment("staging", testSHA, t0.Add(-time.Hour), true)
	f2.addStatus(s, "failure", "release-action: rolled back: x", "", "", t0.Add(-time.Hour))
	st, err = Inspect(context.Background(), f2, "production", testSHA, 0, t0)
	require.NoError(t, err)
	assert.Nil(t, st.RolledBack)
	assert.Equal(t, StageNone, st.Stage)
}

func TestLastKnownGood(t *testing.T) {
	sha := func(i int) string { return fmt.Sprintf("%040x", i+1) }
	type step struct{ state, desc string }
	build := func(t *testing.T, withGood bool) (*fakeGH, int64) {
		f := newFake(t)
		at := t0.Add(-1000 * time.Hour)
		add := func(commit string, ours bool, steps ...step) int64 {
			at = at.Add(time.Hour)
			id := f.addDeployment("production", commit, at, ours)
			for i, s := range steps {
				f.addStatus(id, s.state, s.desc, "", "", at.Add(time.Duration(i+1)*time.Minute))
			}
			return id
		}
		ok := step{"success", "release-action: deployed and validated"}
		// Oldest: successes that must not win, because newer good ones exist below.
		for i := range 30 {
			add(sha(i), true, ok)
		}
		var good int64
		if withGood {
			// Two good records created at the same instant: the higher id wins.
			twin := add(sha(100), true, ok)
			good = f.addDeployment("production", sha(101), f.Last().CreatedAt, true)
			f.addStatus(good, "success", "release-action: deployed and validated", "", envURL, at.Add(time.Minute))
			require.Less(t, twin, good)
		} else {
			for _, d := range f.Deployments()[:30] {
				f.EditStatuses(d.ID, func(sts []github.DeploymentStatus) { sts[0].State = "failure" })
			}
		}
		// Then 210 records nobody may roll back to, so the good one lies on page 3.
		kinds := []func(i int){
			func(i int) {
				add(sha(200+i), true, step{"in_progress", "release-action: deploying (run 5)"}, step{"failure", "release-action: deploy failed: run 5 concluded failure"})
			},
			func(i int) {
				add(sha(200+i), true, step{"error", "release-action: deploy error: timed out after 30m0s"})
			},
			// Made inactive after it failed: not good (inactive after a success would be).
			func(i int) { add(sha(200+i), false, step{"failure", ""}, step{"inactive", ""}) },
			func(i int) {
				// Rolled back: our record says so; the record GitHub Actions made for the deploy
				// job (newer than ours, older than the rollback) still says success.
				ours := add(sha(200+i), true, ok)
				act := f.addDeployment("production", sha(200+i), at.Add(30*time.Second), false)
				f.addStatus(act, "success", "", "", "", at.Add(2*time.Minute))
				f.addStatus(ours, "failure", "release-action: rolled back: error rate", "", "", at.Add(30*time.Minute))
			},
			func(i int) { add(sha(200+i), true, step{"in_progress", "release-action: deploying (run 6)"}) },
			func(i int) { add(sha(200+i), false, step{"queued", ""}) },
			func(i int) { add(sha(200+i), false, step{"pending", ""}) },
			func(i int) { add(sha(200+i), true) },
			func(i int) { add(sha(200+i), true, ok, step{"failure", "release-action: smoke failed: probes"}) },
		}
		for i := range 189 {
			kinds[i%len(kinds)](i)
		}
		// Newest: the excluded commit, which succeeded.
		add(testSHA, true, ok)
		require.Greater(t, len(f.Deployments()), 200)
		return f, good
	}

	t.Run("found on page 3", func(t *testing.T) {
		f, good := build(t, true)
		d, s, err := LastKnownGood(context.Background(), f, "production", testSHA)
		require.NoError(t, err)
		require.NotNil(t, d)
		require.NotNil(t, s)
		assert.Equal(t, good, d.ID)
		assert.Equal(t, sha(101), d.SHA)
		assert.Equal(t, "success", s.State)
		assert.Equal(t, envURL, s.EnvironmentURL)
		assert.Equal(t, 1, f.count("ListDeployments"))
	})
	t.Run("none", func(t *testing.T) {
		f, _ := build(t, false)
		d, s, err := LastKnownGood(context.Background(), f, "production", testSHA)
		require.NoError(t, err)
		assert.Nil(t, d)
		assert.Nil(t, s)
	})
	t.Run("no deployments", func(t *testing.T) {
		d, s, err := LastKnownGood(context.Background(), newFake(t), "production", testSHA)
		require.NoError(t, err)
		assert.Nil(t, d)
		assert.Nil(t, s)
	})
	t.Run("re-deployed with force and validated after its rollback", func(t *testing.T) {
		f := newFake(t)
		x := f.addDeployment("production", otherSHA, t0.Add(-5*time.Hour), true)
		f.addStatus(x, "success", "release-action: deployed and validated", "", "", t0.Add(-5*time.Hour))
		f.addStatus(x, "failure", "release-action: rolled back: error rate", "", "", t0.Add(-4*time.Hour))
		f.addStatus(x, "success", "release-action: deployed and validated", "", "", t0.Add(-3*time.Hour))
		d, _, err := LastKnownGood(context.Background(), f, "production", testSHA)
		require.NoError(t, err)
		require.NotNil(t, d)
		assert.Equal(t, x, d.ID)
	})
}

func TestLastKnownGoodError(t *testing.T) {
	f := newFake(t)
	f.AddDeployment(github.Deployment{ID: 1, SHA: otherSHA, Environment: "production"})
	f.Fail("ListDeploymentStatuses", fmt.Errorf("GET /deployments/1/statuses: 502 Bad Gateway"))
	_, _, err := LastKnownGood(context.Background(), f, "production", testSHA)
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "list statuses of deployment 1: "), err.Error())
}
