package rollback

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/outcome"
)

// TestPlanAgreesWithRun: the plan names the target, the deployment to mark and the
// refusal that the rollback then acts on, and writes nothing.
func TestPlanAgreesWithRun(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(f *fakeGH) (bad int64)
		noStop  bool // rollback.stop-rollout: false
		want    string
		verdict outcome.Verdict
		stops   int // deployment records the plan says it would mark stopped
	}{
		{"last known good", func(f *fakeGH) int64 { bad, _ := history(f); return bad }, false, PlanDeploy, outcome.Pass, 0},
		{"a deploy in progress is stopped first", func(f *fakeGH) int64 {
			history(f)
			// The newest record of the bad commit is the one being deployed: the run stops
			// it, then marks it rolled back.
			return f.addDep("production", badSHA, badTag, t0.Add(-5*time.Minute), true, st{"in_progress", "deploying (run 77)", time.Minute})
		}, false, PlanDeploy, outcome.Pass, 1},
		{"blocked by a deploy in progress (stop-rollout off)", func(f *fakeGH) int64 {
			bad, _ := history(f)
			f.addDep("production", badSHA, badTag, t0.Add(-5*time.Minute), true, st{"in_progress", "deploying (run 77)", time.Minute})
			return bad
		}, true, PlanRefuse, outcome.Fail, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			bad := tc.setup(f)
			opts := newOpts(f, &fakeSmoke{})
			if tc.noStop {
				no := false
				opts.Config.Rollback.StopRollout = &no
			}
			p, err := Plan(context.Background(), f, opts)
			require.NoError(t, err)
			assert.Empty(t, f.writes, "a plan writes nothing")
			assert.Equal(t, tc.want, p.Action, p.Reason)
			assert.Equal(t, tc.verdict, p.Outcome)
			if tc.noStop {
				assert.Nil(t, p.Stop, "stop-rollout off: nothing would be stopped")
			} else {
				require.NotNil(t, p.Stop)
				assert.Len(t, p.Stop.Records, tc.stops, "the records a run would mark stopped")
			}

			res, err := Run(context.Background(), f, opts)
			require.NoError(t, err)
			assert.Equal(t, tc.verdict, res.Verdict, res.Reason)
			if tc.want == PlanRefuse {
				assert.Equal(t, res.Reason, p.Reason, "the same refusal, in the same words")
				return
			}
			assert.Equal(t, res.To.SHA, p.To.SHA)
			assert.Equal(t, res.To.Tag, p.To.Tag)
			assert.Equal(t, res.To.LastGoodDeploymentID, p.To.LastGoodDeploymentID)
			assert.NotZero(t, p.To.LastGoodDeploymentID)
			assert.Equal(t, bad, p.From.DeploymentID, "the deployment the run marks rolled back")
			assert.Equal(t, res.From.DeploymentID, p.From.DeploymentID)
			assert.Equal(t, res.Probes, p.Probes)
		})
	}
}
