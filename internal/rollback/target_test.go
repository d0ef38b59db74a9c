package rollback

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/outcome"
	"github.com/agentme/release-action/internal/smoke"
)

// TestRollbackTargetVerdicts: the last known good a rollback picks when GitHub's
// auto_inactive and GitHub Actions' own records mix with release-action's verdicts.
func TestRollbackTargetVerdicts(t *testing.T) {
	const xSHA = "3333333555555555555555555555555555555555"
	tests := []struct {
		name    string
		env     string
		setup   func(f *fakeGH)
		wantTag string
	}{
		{
			name: "staging: the previous deployment GitHub made inactive",
			env:  "staging",
			setup: func(f *fakeGH) {
				f.addDep("staging", goodSHA, goodTag, t0.Add(-48*time.Hour), true, append(validated, st{"inactive", "", 3 * time.Hour})...)
				f.addDep("staging", badSHA, badTag, t0.Add(-2*time.Hour), true, validated...)
			},
			wantTag: goodTag,
		},
		{
			name: "a commit whose smoke failed, with a success of GitHub Actions' deploy job record",
			env:  "production",
			setup: func(f *fakeGH) {
				f.addDep("production", goodSHA, goodTag, t0.Add(-48*time.Hour), true, validated...)
				f.addTag("v1.2.9-rc.1", xSHA)
				at := t0.Add(-24 * time.Hour)
				f.addDep("production", xSHA, "v1.2.9-rc.1", at, true, st{"in_progress", "deploying (run 5)", time.Minute},
					st{"in_progress", "deployed; validating", 3 * time.Minute}, st{"failure", "smoke failed: probes channel", 4 * time.Minute})
				f.addDep("production", xSHA, "v1.2.9-rc.1", at.Add(time.Minute), false, st{"in_progress", "", 0}, st{"success", "", time.Minute})
				f.addDep("production", badSHA, badTag, t0.Add(-2*time.Hour), true, validated...)
			},
			wantTag: goodTag,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			tc.setup(f)
			o := newOpts(f, &fakeSmoke{})
			o.Environment = tc.env
			res, err := Run(context.Background(), f, o)
			require.NoError(t, err)
			assert.Equal(t, outcome.Pass, res.Verdict, res.Reason)
			assert.Equal(t, SourceLastKnownGood, res.Source)
			assert.Equal(t, badSHA, res.From.SHA)
			assert.Equal(t, tc.wantTag, res.To.Tag)
		})
	}
}

// TestRollbackProductionEnvironment: the rollback deployment is production_environment in
// the environment named production (else the last one), not by position alone.
func TestRollbackProductionEnvironment(t *testing.T) {
	tests := []struct {
		name string
		envs []string
		env  string
		want bool
	}{
		{"production before a canary", []string{"staging", "production", "canary"}, "production", true},
		{"the canary after production", []string{"staging", "production", "canary"}, "canary", false},
		{"staging", []string{"staging", "production"}, "staging", false},
		{"no environment named production: the last", []string{"staging", "live"}, "live", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			cfg := testConfig()
			cfg.Environments = nil
			for _, n := range tc.envs {
				cfg.Environments = append(cfg.Environments, config.Environment{Name: n, URL: envURL, Smoke: smoke.AllProbes()})
			}
			f.addDep(tc.env, goodSHA, goodTag, t0.Add(-48*time.Hour), true, validated...)
			f.addDep(tc.env, badSHA, badTag, t0.Add(-2*time.Hour), true, validated...)
			o := newOpts(f, &fakeSmoke{})
			o.Config, o.Environment = cfg, tc.env
			res, err := Run(context.Background(), f, o)
			require.NoError(t, err)
			require.Equal(t, outcome.Pass, res.Verdict, res.Reason)
			require.Len(t, f.createReqs, 1)
			got := f.createReqs[0].ProductionEnvironment != nil && *f.createReqs[0].ProductionEnvironment
			assert.Equal(t, tc.want, got)
		})
	}
}
