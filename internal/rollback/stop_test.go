package rollback

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/deploy"
	"github.com/agentme/release-action/internal/github"
	"github.com/agentme/release-action/internal/outcome"
)

// addOtherRollback adds a rollback record away from the bad commit made by runURLOf.
func addOtherRollback(f *fakeGH, runURLOf string, status st) int64 {
	id := f.addDep("production", goodSHA, goodTag, t0.Add(-time.Minute), true, status)
	f.EditDeployment(id, func(d *github.Deployment) {
		d.Payload, _ = json.Marshal(deploy.Payload{ReleaseAction: 1, Commit: goodSHA, Tag: goodTag, RunURL: runURLOf,
			Rollback: true, RollbackFrom: badSHA, Reason: "monitor: auth errors"})
	})
	return id
}

// TestRollbackFollowsOther: a rollback of the same bad deployment started by another run
// (the release's own monitor) is followed, not doubled: nothing is stopped, deployed or
// written, and the outcome is that rollback's.
func TestRollbackFollowsOther(t *testing.T) {
	for _, tc := range []struct {
		name, final string
		verdict     outcome.Verdict
	}{
		{"validated", "deployed and validated", outcome.Pass},
		{"smoke failed", "smoke failed: channel", outcome.Fail},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			history(f)
			other := addOtherRollback(f, "https://github.com/agentme/agentme/actions/runs/5151", st{"in_progress", "deploying (run 950)", 0})
			o := newOpts(f, &fakeSmoke{})
			var lines []string
			o.Progress = func(l string) {
				lines = append(lines, l)
				if strings.Contains(l, "following it") {
					state := "success"
					if tc.verdict != outcome.Pass {
						state = "failure"
					}
					f.AddStatus(other, github.DeploymentStatus{State: state, Description: deploy.Prefix + tc.final, CreatedAt: f.clk.Now()})
				}
			}
			res, err := Run(context.Background(), f, o)
			require.NoError(t, err)
			assert.Equal(t, tc.verdict, res.Verdict, res.Reason)
			require.NotNil(t, res.Followed, "lines: %v", lines)
			assert.Equal(t, other, res.Followed.DeploymentID)
			assert.Contains(t, res.Followed.RunURL, "/actions/runs/5151")
			assert.Empty(t, f.writes, "following writes nothing")
			assert.Zero(t, f.Count("ListRunsByStatus"), "following stops nothing")
			assert.Contains(t, res.Reason+res.LeftState, "5151")
			if tc.verdict == outcome.Pass {
				assert.Contains(t, res.Reason, "followed it instead of starting a second")
				assert.True(t, res.Validated)
			}
		})
	}
}

// TestRollbackResumesOwn: a rollback record made by an earlier attempt of this run is
// resumed as before, not followed.
func TestRollbackResumesOwn(t *testing.T) {
	f := newFake(t)
	history(f)
	own := addOtherRollback(f, runURL, st{"failure", "deploy failed: run 950 concluded failure", 0})
	res, err := Run(context.Background(), f, newOpts(f, &fakeSmoke{}))
	require.NoError(t, err)
	assert.Nil(t, res.Followed)
	assert.Equal(t, own, res.To.DeploymentID, "the same record is deployed again")
	assert.Equal(t, outcome.Pass, res.Verdict, res.Reason)
}

// TestRollbackAfterOtherFinished: the monitor's rollback validated a moment before on-call's
// rollback read the environment: the second reports it instead of rolling the rollback back.
func TestRollbackAfterOtherFinished(t *testing.T) {
	f := newFake(t)
	history(f)
	other := addOtherRollback(f, "https://github.com/agentme/agentme/actions/runs/5151", st{"success", "deployed and validated", 0})
	res, err := Run(context.Background(), f, newOpts(f, &fakeSmoke{}))
	require.NoError(t, err)
	assert.Equal(t, outcome.Pass, res.Verdict, res.Reason)
	require.NotNil(t, res.Followed)
	assert.Equal(t, other, res.Followed.DeploymentID)
	assert.Equal(t, badSHA, res.From.SHA, "it reports the commit that was rolled back from")
	assert.Empty(t, f.writes)

	// Asked explicitly (from or to), the rollback does what it is told.
	f = newFake(t)
	history(f)
	addOtherRollback(f, "https://github.com/agentme/agentme/actions/runs/5151", st{"success", "deployed and validated", 0})
	o := newOpts(f, &fakeSmoke{})
	o.To = olderTag
	res, err = Run(context.Background(), f, o)
	require.NoError(t, err)
	assert.Nil(t, res.Followed)
	assert.Equal(t, outcome.Pass, res.Verdict, res.Reason)
}
