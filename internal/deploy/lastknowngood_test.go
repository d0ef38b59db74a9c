package deploy

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/agentme/release-action/internal/github"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLastKnownGoodVerdicts: which earlier deployment counts as known good when GitHub's
// auto_inactive, GitHub Actions' own environment records and release-action's verdicts mix.
func TestLastKnownGoodVerdicts(t *testing.T) {
	const (
		validated = "release-action: deployed and validated"
		deploying = "release-action: deploying (run 5)"
		deployed  = "release-action: deployed; validating"
	)
	type st struct{ state, desc string }
	// rec is one record, oldest first; by is "ours", "actions" (GitHub Actions' own record
	// of the deploy job) or "rollback" (a release-action rollback deployment).
	type rec struct {
		commit int // 0: the excluded current commit
		by     string
		sts    []st
	}
	good := func(commit int) rec {
		return rec{commit, "ours", []st{{"in_progress", deploying}, {"success", validated}}}
	}
	tests := []struct {
		name string
		env  string
		recs []rec
		want int // commit of the expected last known good, -1 none
	}{
		{
			name: "staging: the earlier success GitHub made inactive is still good",
			env:  "staging",
			recs: []rec{
				{1, "ours", []st{{"in_progress", deploying}, {"success", validated}, {"inactive", ""}}},
				{0, "ours", []st{{"success", validated}}},
			},
			want: 1,
		},
		{
			name: "GitHub Actions' record made inactive after its success is good",
			env:  "staging",
			recs: []rec{{1, "actions", []st{{"in_progress", ""}, {"success", ""}, {"inactive", ""}}}, {0, "ours", nil}},
			want: 1,
		},
		{
			name: "validated and monitored, then made inactive",
			env:  "staging",
			recs: []rec{{1, "ours", []st{{"success", validated}, {"success", "release-action: deployed and validated; monitor passed (45m)"}, {"inactive", ""}}}},
			want: 1,
		},
		{
			name: "inactive after a failure is skipped",
			env:  "staging",
			recs: []rec{good(1), {2, "actions", []st{{"failure", ""}, {"inactive", ""}}}},
			want: 1,
		},
		{
			name: "only inactive statuses are skipped",
			env:  "staging",
			recs: []rec{good(1), {2, "actions", []st{{"inactive", ""}}}},
			want: 1,
		},
		{
			name: "release-action's own inactive rolled back status is skipped",
			env:  "staging",
			recs: []rec{good(1), {2, "ours", []st{{"success", validated}, {"inactive", "release-action: rolled back: manual"}}}},
			want: 1,
		},
		{
			name: "in progress, errored and failed ones are skipped",
			env:  "production",
			recs: []rec{
				good(1),
				{2, "actions", []st{{"in_progress", ""}}},
				{3, "actions", []st{{"error", ""}}},
				{4, "actions", []st{{"failure", ""}}},
			},
			want: 1,
		},
		{
			name: "smoke failed: GitHub Actions' success of the deploy job does not make it good",
			env:  "production",
			recs: []rec{
				good(1),
				{2, "ours", []st{{"in_progress", deploying}, {"in_progress", deployed}, {"failure", "release-action: smoke failed: probes channel"}}},
				{2, "actions", []st{{"success", ""}}},
				{0, "ours", []st{{"success", validated}}},
			},
			want: 1,
		},
		{
			name: "deployed but never validated is not good",
			env:  "production",
			recs: []rec{good(1), {2, "ours", []st{{"in_progress", deploying}, {"in_progress", deployed}}}, {2, "actions", []st{{"success", ""}}}},
			want: 1,
		},
		{
			name: "still deploying is not good",
			env:  "production",
			recs: []rec{good(1), {2, "ours", []st{{"in_progress", deploying}}}, {2, "actions", []st{{"success", ""}}}},
			want: 1,
		},
		{
			name: "deploy failed by release-action's verdict",
			env:  "production",
			recs: []rec{good(1), {2, "actions", []st{{"success", ""}}}, {2, "ours", []st{{"failure", "release-action: deploy failed: run 5 concluded failure"}}}},
			want: 1,
		},
		{
			name: "a rollback deployment of the commit whose smoke failed makes it not good",
			env:  "production",
			recs: []rec{good(1), good(2), {2, "rollback", []st{{"in_progress", deployed}, {"failure", "release-action: smoke failed: probes tool-call"}}}},
			want: 1,
		},
		{
			name: "a commit release-action never deployed, with a success, is good",
			env:  "production",
			recs: []rec{good(1), {2, "actions", []st{{"success", ""}}}},
			want: 2,
		},
		{
			name: "validated by release-action, with GitHub Actions' record too",
			env:  "production",
			recs: []rec{good(1), {2, "actions", []st{{"success", ""}}}, good(2)},
			want: 2,
		},
		{
			name: "nothing good",
			env:  "production",
			recs: []rec{{1, "actions", []st{{"failure", ""}, {"inactive", ""}}}, {0, "ours", []st{{"success", validated}}}},
			want: -1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			sha := func(c int) string {
				if c == 0 {
					return testSHA
				}
				return fmt.Sprintf("%040x", c)
			}
			at := t0.Add(-24 * time.Hour)
			for _, r := range tc.recs {
				at = at.Add(time.Hour)
				id := f.addDeployment(tc.env, sha(r.commit), at, r.by != "actions")
				if r.by == "rollback" {
					f.EditDeployment(id, func(d *github.Deployment) {
						d.Payload = json.RawMessage(`{"release_action":1,"rollback":true,"rollback_from":"` + testSHA + `"}`)
					})
				}
				for i, s := range r.sts {
					f.addStatus(id, s.state, s.desc, "", "", at.Add(time.Duration(i+1)*time.Minute))
				}
			}
			d, s, err := LastKnownGood(context.Background(), f, tc.env, testSHA)
			require.NoError(t, err)
			if tc.want < 0 {
				assert.Nil(t, d)
				assert.Nil(t, s)
				return
			}
			require.NotNil(t, d)
			require.NotNil(t, s)
			assert.Equal(t, sha(tc.want), d.SHA)
			assert.Equal(t, "success", s.State, "the status returned is the success, not the inactive one after it")
		})
	}
}
