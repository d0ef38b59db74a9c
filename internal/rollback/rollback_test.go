package rollback

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/agentme/release-action/internal/outcome"
	"github.com/agentme/release-action/internal/untrusted"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/deploy"
	"github.com/agentme/release-action/internal/github"
	"github.com/agentme/release-action/internal/smoke"
)

// history is production's deployment history: v1.2.1 and v1.2.2 validated long ago (v1.2.2
// also has a GitHub Actions environment record made from a branch), then 240 deployments
// that failed, errored, went inactive or never got a status (more than two pages of 100),
// then v1.2.5 validated and later rolled back, then the bad v1.3.0-rc.1, validated an hour
// ago. Staging has its own records. It returns the bad and the good records' ids.
func history(f *fakeGH) (bad, good int64) {
	day := 24 * time.Hour
	f.addDep("production", olderSHA, olderTag, t0.Add(-30*day), true, validated...)
	good = f.addDep("production", goodSHA, goodTag, t0.Add(-20*day), true, validated...)
	f.addDep("production", goodSHA, "main", t0.Add(-20*day+time.Minute), false, st{"in_progress", "", 0}, st{"success", "", 4 * time.Minute})
	for i := range 240 {
		sha := fmt.Sprintf("f%039x", i)
		at := t0.Add(-19*day + time.Duration(i)*time.Hour)
		ref := fmt.Sprintf("v1.2.3-rc.%d", i+1)
		switch i % 4 {
		case 0:
			f.addDep("production", sha, ref, at, true, st{"in_progress", "deploying (run 7)", time.Minute}, st{"failure", "deploy failed: run 7 concluded failure", 3 * time.Minute})
		case 1:
			f.addDep("production", sha, ref, at, true, st{"in_progress", "deploying (run 8)", time.Minute}, st{"error", "deploy error: timed out after 30m0s; run 8 was queued", 31 * time.Minute})
		case 2:
			// Made inactive after it failed (inactive after a success would still be good).
			f.addDep("production", sha, "main", at, false, st{"failure", "", time.Minute}, st{"inactive", "", time.Hour})
		case 3:
			f.addDep("production", sha, ref, at, true)
		}
	}
	f.addDep("production", rolledSHA, "v1.2.5", t0.Add(-day), true,
		append(validated, st{"failure", "rolled back: by deployment 1 (v1.2.2): smoke", 2 * time.Hour})...)
	f.addDep("staging", badSHA, badTag, t0.Add(-2*time.Hour), true, validated...)
	bad = f.addDep("production", badSHA, badTag, t0.Add(-time.Hour), true, validated...)
	return bad, good
}

func newOpts(f *fakeGH, s *fakeSmoke) Options {
	return Options{
		Config: testConfig(), Environment: "production", Reason: "monitor: auth errors",
		Smoke: s.run, RunURL: runURL, Clock: f.clk, PollInterval: 10 * time.Second,
	}
}

// newRollbackID is the id of the record the rollback created (the newest deployment).
func newRollbackID(f *fakeGH) int64 { return f.Last().ID }

func TestRollbackToLastKnownGood(t *testing.T) {
	f := newFake(t)
	badID, goodID := history(f)
	s := &fakeSmoke{}
	var lines []string
	o := newOpts(f, s)
	o.Progress = func(l string) { lines = append(lines, l) }
	res, err := Run(context.Background(), f, o)
	require.NoError(t, err)

	assert.Equal(t, outcome.Pass, res.Verdict, res.Reason)
	assert.Empty(t, res.LeftState)
	assert.Equal(t, "production", res.Environment)
	assert.Equal(t, Ref{SHA: badSHA, Tag: badTag, DeploymentID: badID}, res.From)
	assert.Equal(t, SourceLastKnownGood, res.Source)
	assert.Equal(t, goodSHA, res.To.SHA)
	assert.Equal(t, goodTag, res.To.Tag, "the tag comes from release-action's record of the commit; the Actions record was made from a branch")
	assert.NotEqual(t, goodID, res.To.LastGoodDeploymentID, "the newest success of the commit is the Actions record")
	rbID := newRollbackID(f)
	assert.Equal(t, rbID, res.To.DeploymentID)
	assert.True(t, res.BadMarked)
	assert.True(t, res.Validated)
	require.NotNil(t, res.Deploy)
	assert.Equal(t, deploy.StateSuccess, res.Deploy.State)
	assert.False(t, res.Deploy.Reused, "a rollback is its own deployment record")

	// Exactly these writes, in this order.
	run := res.Deploy.RunID
	assert.Equal(t, []string{
		fmt.Sprintf(`deployment production %s rollback=true from=bbbbbbb reason="monitor: auth errors"`, goodTag),
		fmt.Sprintf(`dispatch production %s deployment=%d`, goodTag, rbID),
		fmt.Sprintf(`status %d in_progress "release-action: deploying (run %d)"`, rbID, run),
		fmt.Sprintf(`status %d in_progress "release-action: deployed; validating"`, rbID),
		fmt.Sprintf(`status %d failure "release-action: rolled back: by deployment %d (v1.2.2): monitor: auth errors"`, badID, rbID),
		fmt.Sprintf(`status %d success "release-action: deployed and validated"`, rbID),
	}, f.writes)
	var p deploy.Payload
	require.NoError(t, json.Unmarshal(f.Last().Payload, &p))
	assert.Equal(t, deploy.Payload{ReleaseAction: 1, Commit: goodSHA, Tag: goodTag, RunURL: runURL, Rollback: true, RollbackFrom: badSHA, Reason: "monitor: auth errors"}, p)

	// The smoke subset ran once against production.
	assert.Equal(t, []string{"production"}, s.envs)
	assert.Equal(t, [][]string{smoke.RollbackProbes()}, s.probes)
	assert.Equal(t, smoke.RollbackProbes(), res.Probes)

	// The impact window: the bad deployment's first success to the rollback's success.
	require.NotNil(t, res.ImpactWindow)
	w := res.ImpactWindow
	assert.Equal(t, t0.Add(-time.Hour+7*time.Minute), w.Start)
	assert.Equal(t, fmt.Sprintf("first success status of deployment %d", badID), w.StartFrom)
	require.NotNil(t, w.End)
	rbSts := f.Statuses(rbID)
	assert.Equal(t, rbSts[len(rbSts)-1].CreatedAt, *w.End)
	assert.Equal(t, w.End.Sub(w.Start), w.Duration.D())
	assert.False(t, w.Open)

	// The history is long: the listing returned more than two pages' worth of records.
	assert.Greater(t, f.listed()[0], 200)

	// Release now sees the bad commit as rolled back, and LastKnownGood skips it.
	state, err := deploy.Inspect(context.Background(), f, "production", badSHA, 30*time.Minute, f.clk.Now())
	require.NoError(t, err)
	require.NotNil(t, state.RolledBack)
	assert.Contains(t, state.RolledBack.Description, "rolled back: by deployment")
	lkg, _, err := deploy.LastKnownGood(context.Background(), f, "production", "")
	require.NoError(t, err)
	assert.Equal(t, rbID, lkg.ID, "the validated rollback is now the last known good")

	// The incident note has the runbook's four parts.
	for _, want := range []string{
		"### Incident: production rolled back from `v1.3.0-rc.1` (`bbbbbbb`) to `v1.2.2` (`9999999`)",
		"- **Root cause:** _to fill in_",
		"- **Impact window:** 2026-11-24 01:07:00 UTC to 2026-11-24 02:00:20 UTC (53m20s), from the first success status of deployment",
		"- **Mitigations:** production redeployed `v1.2.2` (`9999999`), the last known good release (deployment",
		"smoke probes connect\\-auth, channel, tool\\-call passed after the rollback",
		"marked rolled back: a release refuses to deploy `bbbbbbb` again unless forced",
		"- **Follow-up actions:**\n  - [ ] ",
		"rotate the gateway token or password and the bootstrap secret",
		"[Rollback run](" + runURL + ")",
	} {
		assert.Contains(t, res.Incident, want)
	}
	assert.Contains(t, strings.Join(lines, "\n"), "rollback of production: last known good: deployment")
	assert.Zero(t, f.Count("CreateIssue"), "no issue unless asked")
}

func TestRollbackExplicitTarget(t *testing.T) {
	cases := []struct {
		name    string
		to      string
		wantSHA string
		wantTag string
		wantErr string
		calls   map[string]int
	}{
		{name: "a tag", to: olderTag, wantSHA: olderSHA, wantTag: olderTag, calls: map[string]int{"GetTag": 1, "ResolveCommit": 0}},
		{name: "a short SHA", to: "9999999", wantSHA: goodSHA, wantTag: goodTag, calls: map[string]int{"ResolveCommit": 1}},
		{name: "a full SHA", to: olderSHA, wantSHA: olderSHA, wantTag: olderTag, calls: map[string]int{"ResolveCommit": 1}},
		{name: "an unknown tag", to: "v0.0.9", wantErr: `tag "v0.0.9" does not exist`},
		{name: "an unknown SHA", to: "abcdef1234", wantErr: `names no commit`},
		{name: "a SHA no record names a tag for", to: "1234567", wantErr: "has no tag that a deployment record names"},
		{name: "the bad commit itself", to: badTag, wantErr: "the commit production runs now"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			f.commits["1234567"] = "1234567000000000000000000000000000000000"
			history(f)
			s := &fakeSmoke{}
			o := newOpts(f, s)
			o.To = tc.to
			o.Reason = "manual: customer reports"
			res, err := Run(context.Background(), f, o)
			if tc.wantErr != "" {
				require.ErrorIs(t, err, outcome.ErrBadInput)
				assert.Contains(t, err.Error(), tc.wantErr)
				assert.Nil(t, res)
				assert.Empty(t, f.writes, "nothing written")
				assert.Zero(t, s.calls)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, outcome.Pass, res.Verdict, res.Reason)
			assert.Equal(t, SourceExplicit, res.Source)
			assert.Equal(t, tc.wantSHA, res.To.SHA)
			assert.Equal(t, tc.wantTag, res.To.Tag)
			assert.Zero(t, res.To.LastGoodDeploymentID)
			for name, n := range tc.calls {
				assert.Equal(t, n, f.Count(name), name)
			}
			assert.Contains(t, f.writes[0], "deployment production "+tc.wantTag+" rollback=true")
			assert.Contains(t, res.Incident, "the release asked for")
		})
	}
}

func TestRollbackNoCandidate(t *testing.T) {
	f := newFake(t)
	bad := f.addDep("production", badSHA, badTag, t0.Add(-time.Hour), true, validated...)
	f.addDep("production", "f000000000000000000000000000000000000001", "v1.2.9", t0.Add(-2*time.Hour), true, st{"failure", "deploy failed: run 3 concluded failure", time.Minute})
	f.addDep("production", "f000000000000000000000000000000000000002", "main", t0.Add(-3*time.Hour), false, st{"failure", "", time.Minute}, st{"inactive", "", time.Hour})
	s := &fakeSmoke{}
	res, err := Run(context.Background(), f, newOpts(f, s))
	require.NoError(t, err)
	assert.Equal(t, outcome.Fail, res.Verdict)
	assert.Contains(t, res.Reason, "there is no last known good to roll back to; pass to: <tag>")
	assert.Equal(t, "nothing changed: production still runs v1.3.0-rc.1 (bbbbbbb)", res.LeftState)
	assert.Empty(t, f.writes, "nothing written")
	assert.Zero(t, s.calls)
	assert.False(t, res.BadMarked)
	assert.Equal(t, bad, res.From.DeploymentID)
	require.NotNil(t, res.ImpactWindow)
	assert.True(t, res.ImpactWindow.Open, "the incident is not over")
	assert.Contains(t, res.Incident, "### Incident: rollback of production from `v1.3.0-rc.1` (`bbbbbbb`) failed")
	assert.Contains(t, res.Incident, "none yet: production was not changed")
	assert.Contains(t, res.Incident, "**still open**")
}

func TestRollbackNothingLive(t *testing.T) {
	f := newFake(t)
	f.addDep("production", badSHA, badTag, t0.Add(-time.Hour), true, st{"failure", "deploy failed: run 3 concluded failure", time.Minute})
	res, err := Run(context.Background(), f, newOpts(f, &fakeSmoke{}))
	require.NoError(t, err)
	assert.Equal(t, outcome.Fail, res.Verdict)
	assert.Contains(t, res.Reason, "no live deployment of production was found")
	assert.Equal(t, "nothing changed in production", res.LeftState)
	assert.Empty(t, f.writes)
	assert.Nil(t, res.ImpactWindow)
}

func TestRollbackDeployFails(t *testing.T) {
	f := newFake(t)
	badID, _ := history(f)
	f.conclusion = "failure"
	s := &fakeSmoke{}
	res, err := Run(context.Background(), f, newOpts(f, s))
	require.NoError(t, err)
	rbID := newRollbackID(f)
	assert.Equal(t, outcome.Fail, res.Verdict)
	assert.False(t, res.BadMarked, "production still runs the bad commit: it is not marked")
	assert.Equal(t, fmt.Sprintf("production still runs v1.3.0-rc.1 (bbbbbbb); the rollback deployment %d failed: deploy failed: run %d of deploy.yml concluded failure", rbID, res.Deploy.RunID),
		res.LeftState[:strings.Index(res.LeftState, " after ")])
	assert.Zero(t, s.calls, "no smoke after a failed deploy")
	assert.Equal(t, []string{"in_progress deployed; validating", "success deployed and validated"}, f.statesOf(badID)[1:], "the bad record is untouched")
	states := f.statesOf(rbID)
	assert.Equal(t, fmt.Sprintf("failure deploy failed: run %d concluded failure", res.Deploy.RunID), states[len(states)-1])
	assert.True(t, res.ImpactWindow.Open)
	assert.Contains(t, res.Incident, fmt.Sprintf("- **Mitigations:** none: the rollback deployment %d of `v1.2.2` (`9999999`) failed ([deploy run]", rbID))
	assert.Contains(t, res.Incident, "**Left state:** production still runs v1.3.0\\-rc.1 \\(bbbbbbb\\); the rollback deployment")

	// A re-run resumes with the same rollback record (one per bad commit and target).
	f.conclusion = "success"
	f.writes = nil
	res, err = Run(context.Background(), f, newOpts(f, s))
	require.NoError(t, err)
	assert.Equal(t, outcome.Pass, res.Verdict, res.Reason)
	assert.Equal(t, rbID, res.To.DeploymentID)
	assert.True(t, res.Deploy.Reused)
	assert.NotContains(t, strings.Join(f.writes, "\n"), "deployment production", "no second record")
	assert.True(t, res.BadMarked)
}

func TestRollbackSmokeFails(t *testing.T) {
	f := newFake(t)
	badID, _ := history(f)
	s := &fakeSmoke{failing: map[string]string{"channel": "no final reply within 30s"}}
	res, err := Run(context.Background(), f, newOpts(f, s))
	require.NoError(t, err)
	rbID := newRollbackID(f)
	assert.Equal(t, outcome.Fail, res.Verdict)
	assert.Contains(t, res.Reason, "smoke probes failed: channel: no final reply within 30s")
	assert.True(t, res.BadMarked, "the bad commit no longer runs")
	assert.False(t, res.Validated)
	assert.Equal(t, fmt.Sprintf("production runs v1.2.2 (9999999) (rollback deployment %d), but the smoke probes channel failed: the gateway is not proven healthy; check it by hand (runbook section 3) and roll back further with to: <older tag> if it is broken too", rbID), res.LeftState)
	states := f.statesOf(rbID)
	assert.Equal(t, "failure smoke failed: probes channel", states[len(states)-1])
	badStates := f.statesOf(badID)
	assert.Contains(t, badStates[len(badStates)-1], "failure rolled back: by deployment")
	assert.True(t, res.ImpactWindow.Open)
	assert.Nil(t, res.ImpactWindow.End)
	assert.Contains(t, res.Incident, "smoke probes connect\\-auth, channel, tool\\-call FAILED after the rollback")
}

func TestRollbackIssue(t *testing.T) {
	for _, tc := range []struct {
		name, label, want string
		fail              bool
	}{
		{name: "default label", want: "incident"},
		{name: "configured label", label: "sev1", want: "sev1"},
		{name: "failed rollback opens one too", want: "incident", fail: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			history(f)
			if tc.fail {
				f.conclusion = "cancelled"
			}
			o := newOpts(f, &fakeSmoke{})
			o.OpenIssue, o.IssueLabel = true, tc.label
			res, err := Run(context.Background(), f, o)
			require.NoError(t, err)
			require.Len(t, f.issues, 1)
			iss := f.issues[0]
			assert.Equal(t, []string{tc.want}, iss.labels)
			assert.Equal(t, res.Incident, iss.body)
			if tc.fail {
				assert.Equal(t, "Incident: rollback of production from v1.3.0-rc.1 (bbbbbbb) failed", iss.title)
			} else {
				assert.Equal(t, "Incident: production rolled back from v1.3.0-rc.1 (bbbbbbb) to v1.2.2", iss.title)
			}
			assert.Equal(t, "https://github.example/agentme/agentme/issues/41", res.IssueURL)
			assert.Equal(t, 41, res.IssueNumber)
		})
	}

	// An issue that cannot be opened is a warning: the rollback itself is done.
	f := newFake(t)
	history(f)
	f.issueErr = errors.New("POST /issues: 403 Forbidden: Resource not accessible by integration")
	o := newOpts(f, &fakeSmoke{})
	o.OpenIssue = true
	res, err := Run(context.Background(), f, o)
	require.NoError(t, err)
	assert.Equal(t, outcome.Pass, res.Verdict)
	require.Len(t, res.Warnings, 1)
	assert.Contains(t, res.Warnings[0], "opening the incident issue failed")
	assert.Empty(t, res.IssueURL)
}

func TestRollbackCurrentSHA(t *testing.T) {
	f := newFake(t)
	badID, _ := history(f)
	// A newer deployment of another commit is live (its smoke failed), but the caller names
	// the bad one.
	f.addDep("production", rolledSHA, "v1.2.5", t0.Add(-10*time.Minute), true, st{"failure", "smoke failed: probes channel", time.Minute})
	o := newOpts(f, &fakeSmoke{})
	o.CurrentSHA = "bbbbbbb"
	res, err := Run(context.Background(), f, o)
	require.NoError(t, err)
	assert.Equal(t, outcome.Pass, res.Verdict, res.Reason)
	assert.Equal(t, badSHA, res.From.SHA)
	assert.Equal(t, badID, res.From.DeploymentID)
	assert.Equal(t, goodSHA, res.To.SHA)
}

func TestRollbackPrefersOurRecordToMark(t *testing.T) {
	f := newFake(t)
	history(f)
	ours := f.addDep("production", badSHA, badTag, t0.Add(-30*time.Minute), true, validated...)
	// GitHub Actions' own environment record of the deploy job, newer than ours.
	f.addDep("production", badSHA, badTag, t0.Add(-29*time.Minute), false, st{"in_progress", "", 0}, st{"success", "", time.Minute})
	res, err := Run(context.Background(), f, newOpts(f, &fakeSmoke{}))
	require.NoError(t, err)
	assert.Equal(t, ours, res.From.DeploymentID)
	assert.Contains(t, f.statesOf(ours)[len(f.statesOf(ours))-1], "rolled back")
}

func TestRollbackBlocked(t *testing.T) {
	f := newFake(t)
	history(f)
	// The bad commit's deploy is still running in production.
	f.addDep("production", badSHA, badTag, t0.Add(-5*time.Minute), true, st{"in_progress", "deploying (run 77)", time.Minute})
	res, err := Run(context.Background(), f, newOpts(f, &fakeSmoke{}))
	require.NoError(t, err)
	assert.Equal(t, outcome.Fail, res.Verdict)
	assert.Contains(t, res.Reason, "is still in progress")
	assert.Contains(t, res.Reason, "stop that deploy first")
	assert.Empty(t, f.writes)
}

func TestRollbackNoSmokeProbes(t *testing.T) {
	f := newFake(t)
	history(f)
	o := newOpts(f, &fakeSmoke{})
	o.Config.Environments[1].Smoke = []string{} // smoke: [] in the file
	o.Smoke = nil
	res, err := Run(context.Background(), f, o)
	require.NoError(t, err)
	assert.Equal(t, outcome.Pass, res.Verdict)
	assert.Nil(t, res.Smoke)
	assert.Empty(t, res.Probes)
	assert.Contains(t, res.Reason, "validated by its deploy alone")

	// The environment's list limits the subset.
	f = newFake(t)
	history(f)
	s := &fakeSmoke{}
	o = newOpts(f, s)
	o.Config.Environments[1].Smoke = []string{"connect-auth", "control-ui", "tool-call"}
	_, err = Run(context.Background(), f, o)
	require.NoError(t, err)
	assert.Equal(t, [][]string{{"connect-auth", "tool-call"}}, s.probes)
}

func TestRollbackBadInput(t *testing.T) {
	cases := []struct {
		name string
		mod  func(*Options)
		want string
	}{
		{"no reason", func(o *Options) { o.Reason = "  \n" }, "a reason is required"},
		{"unknown environment", func(o *Options) { o.Environment = "prod-eu" }, `environment "prod-eu" is not in the configuration (configured: staging, production)`},
		{"no configuration", func(o *Options) { o.Config = nil }, "no configuration"},
		{"unknown probe", func(o *Options) { o.Probes = []string{"health"} }, `unknown smoke probe "health"`},
		{"probes without a runner", func(o *Options) { o.Smoke = nil }, "no smoke runner"},
		{"unknown current commit", func(o *Options) { o.CurrentSHA = "abcdef9" }, `current-sha "abcdef9" names no commit`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			history(f)
			o := newOpts(f, &fakeSmoke{})
			tc.mod(&o)
			res, err := Run(context.Background(), f, o)
			require.ErrorIs(t, err, outcome.ErrBadInput)
			assert.Contains(t, err.Error(), tc.want)
			assert.Nil(t, res)
			assert.Empty(t, f.writes)
		})
	}
}

func TestRollbackAPIErrors(t *testing.T) {
	apiErr := &github.APIError{Method: "POST", Path: "/repos/o/r/deployments", StatusCode: 502, Message: "Bad Gateway"}
	cases := []struct {
		name   string
		method string
		left   string
		writes int
	}{
		{"listing deployments", "ListDeployments", "nothing changed in production", 0},
		{"creating the rollback deployment", "CreateDeployment", "unknown: the rollback deployment of v1.2.2 (9999999) stopped on an error", 0},
		{"following the run", "GetWorkflowRun", "unknown: the rollback deployment", 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			history(f)
			f.Fail(tc.method, apiErr)
			res, err := Run(context.Background(), f, newOpts(f, &fakeSmoke{}))
			require.Error(t, err)
			assert.ErrorIs(t, err, apiErr)
			require.NotNil(t, res)
			assert.Equal(t, outcome.Error, res.Verdict, "an API error is never read as a verdict")
			assert.Contains(t, res.LeftState, tc.left)
			assert.Len(t, f.writes, tc.writes, "%v", f.writes)
		})
	}

	// Marking the bad deployment fails after the deploy: the left state says what to do.
	f := newFake(t)
	badID, _ := history(f)
	res, err := Run(context.Background(), f, Options{Config: testConfig(), Reason: "r", Smoke: (&fakeSmoke{}).run, Clock: f.clk,
		Progress: func(l string) {
			if strings.Contains(l, "deployed; validating") || strings.Contains(l, "concluded success") {
				f.Fail("CreateDeploymentStatus", apiErr)
			}
		}})
	require.ErrorIs(t, err, apiErr)
	assert.Contains(t, res.LeftState, fmt.Sprintf("marking deployment %d of bbbbbbb as rolled back failed", badID))
	assert.Contains(t, res.LeftState, "current-sha "+badSHA)
}

func TestResultJSON(t *testing.T) {
	f := newFake(t)
	history(f)
	res, err := Run(context.Background(), f, newOpts(f, &fakeSmoke{}))
	require.NoError(t, err)
	b, err := json.Marshal(res)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	for _, k := range []string{"verdict", "reason", "rollback_reason", "environment", "from", "to", "source", "deploy", "probes", "smoke",
		"validated", "bad_marked", "impact_window", "incident", "run_url", "started", "finished", "duration"} {
		assert.Contains(t, m, k)
	}
	to := m["to"].(map[string]any)
	assert.Equal(t, goodSHA, to["sha"])
	assert.Equal(t, goodTag, to["tag"])
	w := m["impact_window"].(map[string]any)
	assert.Equal(t, "53m20s", w["duration"])
}

// FuzzIncident: a reason (free text from a person or a signal name) cannot add lines,
// headings or HTML to the incident note.
func FuzzIncident(f *testing.F) {
	f.Add("monitor: auth errors")
	f.Add("line one\n### injected\n<img src=x>")
	f.Add("::error::x | `y` [z](javascript:alert(1))")
	f.Fuzz(func(t *testing.T, reason string) {
		if strings.TrimSpace(reason) == "" {
			return
		}
		r := &runner{env: config.Environment{Name: "production"}, reason: untrusted.OneLine(reason, 200),
			res: &Result{Verdict: outcome.Pass, RollbackReason: untrusted.OneLine(reason, 200), Environment: "production",
				From: Ref{SHA: badSHA, Tag: badTag}, To: Ref{SHA: goodSHA, Tag: goodTag}}}
		md := r.incident()
		base := (&runner{env: r.env, res: &Result{Verdict: outcome.Pass, RollbackReason: "x", Environment: "production",
			From: r.res.From, To: r.res.To}}).incident()
		assert.Equal(t, strings.Count(base, "\n"), strings.Count(md, "\n"), "the reason stays on its line")
		assert.NotContains(t, md, "<img")
		assert.NotContains(t, md, "](javascript")
		assert.Equal(t, 1, strings.Count(md, "###"))
	})
}
