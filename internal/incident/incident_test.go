package incident_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/clock"
	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/deploy"
	"github.com/agentme/release-action/internal/ghemu"
	"github.com/agentme/release-action/internal/github"
	"github.com/agentme/release-action/internal/incident"
)

const (
	shaGood = "1111111111111111111111111111111111111111"
	shaBad  = "2222222222222222222222222222222222222222"
	token   = "ghs_incidentTest0123456789"
)

var t0 = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

type world struct {
	s   *ghemu.Server
	c   *github.Client
	clk *clock.Virtual
	dir string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	clk := clock.NewVirtual(t0)
	s := ghemu.New(ghemu.Options{Clock: clk, Token: token})
	base := s.Start()
	t.Cleanup(s.Close)
	c, err := github.New(github.Repo{Owner: s.Owner(), Name: s.Repo()}, github.Options{
		Token: token, APIURL: base + "/api/v3", GraphQLURL: base + "/api/graphql", Clock: clk})
	require.NoError(t, err)
	s.AddCommit(shaGood, "main")
	s.AddCommit(shaBad)
	s.AddTag("v1.0.0", shaGood)
	s.AddTag("v1.1.0", shaBad)
	return &world{s: s, c: c, clk: clk, dir: t.TempDir()}
}

// deploy writes a deployment and its validated status through the API, as release and
// rollback do, and returns its id and the status time.
func (w *world) deploy(t *testing.T, env, sha, tag string, rollback bool) (int64, time.Time) {
	t.Helper()
	ctx := context.Background()
	p, _ := json.Marshal(deploy.Payload{ReleaseAction: 1, Commit: sha, Tag: tag, Rollback: rollback})
	d, err := w.c.CreateDeployment(ctx, github.DeploymentRequest{Ref: tag, Environment: env, Description: deploy.Description("deploy " + tag), Payload: p})
	require.NoError(t, err)
	_, err = w.c.CreateDeploymentStatus(ctx, d.ID, github.DeploymentStatusRequest{State: "in_progress", Description: deploy.Description("deploying")})
	require.NoError(t, err)
	w.clk.Advance(2 * time.Minute)
	at := w.clk.Now().UTC().Truncate(time.Second)
	_, err = w.c.CreateDeploymentStatus(ctx, d.ID, github.DeploymentStatusRequest{State: "success", Description: deploy.Description("deployed and validated")})
	require.NoError(t, err)
	return d.ID, at
}

func (w *world) run(t *testing.T, o incident.Options) (*incident.Result, error) {
	t.Helper()
	o.Clock, o.EvidenceRoot = w.clk, w.dir
	if o.Config == nil {
		o.Config = config.Default()
		o.Config.Environments = []config.Environment{{Name: "staging"}, {Name: "production"}}
	}
	return incident.Run(context.Background(), w.c, o)
}

func TestOpenUpdateClose(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.deploy(t, "production", shaGood, "v1.0.0", false)
	w.clk.Advance(time.Hour)
	badID, badAt := w.deploy(t, "production", shaBad, "v1.1.0", false)
	w.clk.Advance(10 * time.Minute)
	w.s.AddWorkflow("Deploy", ".github/workflows/deploy.yml")
	w.s.AddRun("Deploy", shaBad, "workflow_dispatch", ghemu.JobSpec{Name: "deploy", RunFor: time.Minute, Log: "deploying v1.1.0\nPOST /api/bootstrap/exchange from 203.0.113.9"})
	w.s.AddRun("CI", shaBad, "push", ghemu.JobSpec{Name: "test", RunFor: time.Minute})
	w.clk.Advance(5 * time.Minute)

	// open
	res, err := w.run(t, incident.Options{Action: "open", Severity: "active-exploit", Summary: "bootstrap tokens replayed",
		Environment: "production", RegressionTests: []string{"src/gateway/bootstrap-replay.test.ts"}, Actor: "alice",
		RunURL: "https://github.com/agentme/agentme/actions/runs/1"})
	require.NoError(t, err)
	assert.True(t, res.Created)
	assert.Equal(t, incident.VerdictPass, res.Verdict)
	assert.Equal(t, badAt, res.Record.Since, "since defaults to the first deployment of the commit production runs")
	assert.Contains(t, res.Record.SinceFrom, "deployment")
	issues := w.s.Issues()
	require.Len(t, issues, 1)
	body := issues[0].Body
	for _, want := range []string{"- [x] **1. Classify severity**", "`active-exploit`", "@alice", "- [x] **2. Preserve logs and timestamps**",
		"- [ ] **3. Rotate", "**pending**", "`/api/bootstrap/*`", "`/tools/invoke`", "- [ ] **4. Disable high-risk endpoints**",
		"`src/gateway/bootstrap-replay.test.ts`", "job `hardening`, step `Security regression tests`",
		"deployment " + itoa(badID) + " of v1.1.0", "deploy run", "### Evidence bundle", "<!-- release-action:incident v1 "} {
		assert.Contains(t, body, want)
	}
	assert.NotContains(t, body, "\"CI\"", "CI runs are not the incident's evidence")
	assert.ElementsMatch(t, []string{"incident", "severity:active-exploit"}, issues[0].Labels)

	// every file listed in the issue exists with that sha256
	require.NotNil(t, res.Evidence)
	var logs int
	for _, f := range res.Evidence.Files {
		b, err := os.ReadFile(filepath.Join(res.EvidencePath, f.Path))
		require.NoError(t, err)
		sum := sha256.Sum256(b)
		assert.Equal(t, hex.EncodeToString(sum[:]), f.SHA256, f.Path)
		assert.Contains(t, body, f.SHA256)
		if strings.HasPrefix(f.Path, "logs/") {
			logs++
			assert.Contains(t, string(b), "203.0.113.9")
		}
	}
	assert.Equal(t, 1, logs, "the deploy run's job log is preserved, CI's is not")
	assert.FileExists(t, filepath.Join(res.EvidencePath, "SHA256SUMS"))
	assert.True(t, strings.HasPrefix(res.EvidencePath, w.dir), "the bundle is under the workspace")

	// re-running open updates the same issue
	w.clk.Advance(time.Minute)
	again, err := w.run(t, incident.Options{Action: "open", Severity: "active-exploit", Environment: "production", Actor: "bob"})
	require.NoError(t, err)
	assert.False(t, again.Created)
	assert.Equal(t, res.Issue, again.Issue)
	require.Len(t, w.s.Issues(), 1)

	// update: tick the endpoints with a note, add a timeline entry
	w.clk.Advance(time.Minute)
	up, err := w.run(t, incident.Options{Action: "update", Tick: []string{"endpoints"}, Note: "blocked at the edge proxy",
		Events: []string{"2026-03-10T13:20:00Z attacker IP 203.0.113.9 first seen"}, Actor: "carol"})
	require.NoError(t, err)
	assert.Equal(t, res.Issue, up.Issue)
	body = w.s.Issues()[0].Body
	assert.Contains(t, body, "- [x] **4. Disable high-risk endpoints**")
	assert.Contains(t, body, "@carol: blocked at the edge proxy")
	assert.Contains(t, body, "attacker IP 203.0.113.9 first seen")
	comments := w.s.Issues()[0].Comments
	require.Len(t, comments, 2, "the re-run and the update each tell watchers what changed")
	assert.Contains(t, comments[1], "blocked at the edge proxy")

	reqs, err := incident.Requirements(ctx, w.c, config.Default())
	require.NoError(t, err)
	require.Len(t, reqs, 1)
	assert.Equal(t, []string{"src/gateway/bootstrap-replay.test.ts"}, reqs[0].Gate.Tests.Files)
	assert.Equal(t, "hardening", reqs[0].Gate.Tests.Job)
	assert.Contains(t, reqs[0].Gate.Name, "Incident #1")

	// rollback validated: the mitigation the impact window ends at
	w.clk.Advance(20 * time.Minute)
	_, rbAt := w.deploy(t, "production", shaGood, "v1.0.0", true)
	w.clk.Advance(time.Hour)
	cl, err := w.run(t, incident.Options{Action: "close", RootCause: "bootstrap exchange did not expire codes",
		Mitigations: "rolled back to v1.0.0\nblocked the endpoints", FollowUps: "expire codes after one use", Actor: "alice"})
	require.NoError(t, err)
	require.NotNil(t, cl.Impact)
	assert.Equal(t, badAt, cl.Impact.Start)
	require.NotNil(t, cl.Impact.End)
	assert.Equal(t, rbAt, *cl.Impact.End)
	assert.Equal(t, int64(rbAt.Sub(badAt)/time.Second), cl.Impact.Seconds)
	assert.False(t, cl.Impact.Open)
	is := w.s.Issues()[0]
	assert.Equal(t, "closed", is.State)
	assert.Contains(t, is.Body, "### Post-incident notes")
	assert.Contains(t, is.Body, "bootstrap exchange did not expire codes")
	assert.Contains(t, is.Body, "- [x] **6. Publish post-incident notes**")

	reqs, err = incident.Requirements(ctx, w.c, config.Default())
	require.NoError(t, err)
	assert.Empty(t, reqs, "closing lifts the requirement")
}

func itoa(n int64) string { return jsonNum(n) }

func jsonNum(n int64) string { b, _ := json.Marshal(n); return string(b) }

// TestForgedRecordChangesNothing: an issue someone else wrote, even with a copied marker
// and the incident label, is not a record: the gate ignores it and no action touches it.
func TestForgedRecordChangesNothing(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.deploy(t, "production", shaBad, "v1.1.0", false)
	res, err := w.run(t, incident.Options{Action: "open", Severity: "attempted-abuse", RegressionTests: []string{"a.test.ts"}, Actor: "alice"})
	require.NoError(t, err)
	genuine := w.s.Issues()[0].Body

	forged := strings.Replace(genuine, "a.test.ts", "evil.test.ts", 1)
	n := w.s.AddIssue("mallory", "Incident (active-exploit): production", forged, "incident", "severity:active-exploit")
	reqs, err := incident.Requirements(ctx, w.c, config.Default())
	require.NoError(t, err)
	require.Len(t, reqs, 1)
	assert.Equal(t, res.Issue, reqs[0].Issue)

	_, err = w.run(t, incident.Options{Action: "close", Issue: n, RootCause: "x", Mitigations: "y", FollowUps: "z", Actor: "mallory"})
	require.Error(t, err)
	assert.True(t, errors.Is(err, incident.ErrBadInput))
	assert.Equal(t, "open", w.s.Issues()[n-1].State)
	assert.Equal(t, 0, w.s.Issues()[n-1].Edits)
}

// TestRequirementsWithoutRecordsSkipIdentity: no marked issue, no identity query.
func TestRequirementsWithoutRecordsSkipIdentity(t *testing.T) {
	w := newWorld(t)
	w.s.AddIssue("octocat", "bug", "the UI is slow")
	before := w.s.Stats().GraphQL
	reqs, err := incident.Requirements(context.Background(), w.c, config.Default())
	require.NoError(t, err)
	assert.Empty(t, reqs)
	assert.Equal(t, before, w.s.Stats().GraphQL)
}

func TestBadInput(t *testing.T) {
	w := newWorld(t)
	for _, tc := range []struct {
		name string
		o    incident.Options
		want string
	}{
		{"no severity", incident.Options{Action: "open"}, "severity"},
		{"bad severity", incident.Options{Action: "open", Severity: "sev1"}, "not active-exploit"},
		{"bad action", incident.Options{Action: "reopen"}, "not one of open"},
		{"update without record", incident.Options{Action: "update", Tick: []string{"4"}}, "no open incident"},
		{"since garbage", incident.Options{Action: "open", Severity: "active-exploit", Since: "yesterday"}, "RFC 3339"},
		{"no current deployment", incident.Options{Action: "open", Severity: "active-exploit"}, "pass since"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := w.run(t, tc.o)
			require.Error(t, err)
			assert.ErrorIs(t, err, incident.ErrBadInput)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	assert.Empty(t, w.s.Issues(), "bad input writes nothing")
}

// TestRotation: a rotator's proof ticks item 3 and can end the impact window; a failed
// rotation stays pending and fails the run.
func TestRotation(t *testing.T) {
	w := newWorld(t)
	_, badAt := w.deploy(t, "production", shaBad, "v1.1.0", false)
	w.clk.Advance(30 * time.Minute)
	proven := w.clk.Now().UTC().Truncate(time.Second)
	rot := func(ctx context.Context, env string) (*incident.RotationProof, error) {
		return &incident.RotationProof{Done: true, ProvenAt: proven, Summary: "gateway token and bootstrap secret of " + env,
			Facts: []string{"old token refused"}}, nil
	}
	res, err := w.run(t, incident.Options{Action: "open", Severity: "active-exploit", Rotate: rot, Actor: "alice"})
	require.NoError(t, err)
	assert.Equal(t, incident.StateDone, res.Record.Items[incident.ItemRotate].State)
	assert.Contains(t, w.s.Issues()[0].Body, "- [x] **3. Rotate")
	w.clk.Advance(time.Hour)
	cl, err := w.run(t, incident.Options{Action: "close", RootCause: "a", Mitigations: "b", FollowUps: "c", Actor: "alice"})
	require.NoError(t, err)
	assert.Equal(t, badAt, cl.Impact.Start)
	assert.Equal(t, proven, *cl.Impact.End)

	w2 := newWorld(t)
	w2.deploy(t, "production", shaBad, "v1.1.0", false)
	res, err = w2.run(t, incident.Options{Action: "open", Severity: "active-exploit", Actor: "alice",
		Rotate: func(context.Context, string) (*incident.RotationProof, error) {
			return nil, errors.New("gateway refused the new token")
		}})
	require.NoError(t, err)
	assert.Equal(t, incident.VerdictFail, res.Verdict)
	assert.Equal(t, incident.StatePending, res.Record.Items[incident.ItemRotate].State)
}

func TestCloseWithoutMitigationLeavesWindowOpen(t *testing.T) {
	w := newWorld(t)
	w.deploy(t, "production", shaBad, "v1.1.0", false)
	_, err := w.run(t, incident.Options{Action: "open", Severity: "attempted-abuse", Actor: "alice"})
	require.NoError(t, err)
	w.clk.Advance(time.Hour)
	cl, err := w.run(t, incident.Options{Action: "close", RootCause: "a", Mitigations: "b", FollowUps: "c", Actor: "alice"})
	require.NoError(t, err)
	assert.True(t, cl.Impact.Open)
	assert.Contains(t, w.s.Issues()[0].Body, "no verified mitigation in the records")
}

// TestRollbackOpensTheRecord: a rollback's open-issue opens the record unclassified; a
// later open with a severity classifies the same issue.
func TestRollbackOpensTheRecord(t *testing.T) {
	w := newWorld(t)
	_, badAt := w.deploy(t, "production", shaBad, "v1.1.0", false)
	w.clk.Advance(10 * time.Minute)
	_, rbAt := w.deploy(t, "production", shaGood, "v1.0.0", true)
	res, err := w.run(t, incident.Options{Action: "open", Actor: "monitor", SinceAt: badAt, SinceFrom: "first success status of the bad deployment",
		Rollback: &incident.RollbackFact{Environment: "production", FromSHA: shaBad, ToTag: "v1.0.0", Validated: true, ValidatedAt: &rbAt, Reason: "auth errors"}})
	require.NoError(t, err)
	assert.True(t, res.Created)
	is := w.s.Issues()[0]
	assert.Equal(t, "Incident (unclassified): production", is.Title)
	assert.Contains(t, is.Body, "**not classified yet**")
	assert.Equal(t, []string{"incident"}, is.Labels)

	again, err := w.run(t, incident.Options{Action: "open", Severity: "attempted-abuse", Actor: "alice"})
	require.NoError(t, err)
	assert.Equal(t, res.Issue, again.Issue)
	assert.Equal(t, badAt, again.Record.Since, "the rollback's window start stays")
	assert.Equal(t, "Incident (attempted-abuse): production", w.s.Issues()[0].Title)
	assert.Equal(t, []string{"incident", "severity:attempted-abuse"}, w.s.Issues()[0].Labels)

	_, err = w.run(t, incident.Options{Action: "update", Severity: "active-exploit", Actor: "carol"})
	require.NoError(t, err)
	assert.Equal(t, []string{"incident", "severity:active-exploit"}, w.s.Issues()[0].Labels, "reclassifying swaps the severity label")
	assert.Contains(t, w.s.Issues()[0].Body, "classified by @carol")
	require.Len(t, w.s.Issues(), 1)
}

// TestImpactWindowFromARollbackByOtherTooling: a redeploy of the commit production ran
// before the incident, made without release-action (no rollback payload), ends the window
// at its success; a redeploy of the bad commit does not.
func TestImpactWindowFromARollbackByOtherTooling(t *testing.T) {
	w := newWorld(t)
	w.s.AddDeployment("production", shaGood, "v1.0.0", true, "success")
	w.clk.Advance(time.Hour)
	w.s.AddDeployment("production", shaBad, "v1.1.0", true, "success")
	badAt := w.clk.Now().UTC().Truncate(time.Second)
	_, err := w.run(t, incident.Options{Action: "open", Severity: "active-exploit", Actor: "alice"})
	require.NoError(t, err)
	w.clk.Advance(10 * time.Minute)
	w.s.AddDeployment("production", shaBad, "v1.1.0", true, "success") // the bad one again: no mitigation
	w.clk.Advance(10 * time.Minute)
	w.s.AddDeployment("production", shaGood, "v1.0.0", true, "success")
	fixedAt := w.clk.Now().UTC().Truncate(time.Second)
	w.clk.Advance(time.Hour)
	cl, err := w.run(t, incident.Options{Action: "close", RootCause: "a", Mitigations: "b", FollowUps: "c", Actor: "alice"})
	require.NoError(t, err)
	assert.Equal(t, badAt, cl.Impact.Start)
	require.NotNil(t, cl.Impact.End)
	assert.Equal(t, fixedAt, *cl.Impact.End)
	require.Len(t, cl.Impact.Mitigations, 1)
}

// TestRequirementsWhenIssuesCannotBeRead: issues disabled (410) means no record can exist;
// a refused listing (403) is an error, never "no requirement".
func TestRequirementsWhenIssuesCannotBeRead(t *testing.T) {
	w := newWorld(t)
	w.s.Inject(ghemu.Fault{PathPrefix: "/repos/agentme/agentme/issues", Method: "GET", Status: 410})
	reqs, err := incident.Requirements(context.Background(), w.c, config.Default())
	require.NoError(t, err)
	assert.Empty(t, reqs)

	w.s.ClearFaults()
	w.s.Inject(ghemu.Fault{PathPrefix: "/repos/agentme/agentme/issues", Method: "GET", Status: 403})
	_, err = incident.Requirements(context.Background(), w.c, config.Default())
	require.Error(t, err)
	assert.ErrorIs(t, err, github.ErrForbidden)
	assert.Contains(t, err.Error(), "issues: read")
}
