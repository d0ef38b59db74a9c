package stoprollout_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/clock"
	"github.com/agentme/release-action/internal/deploy"
	"github.com/agentme/release-action/internal/ghemu"
	"github.com/agentme/release-action/internal/github"
	"github.com/agentme/release-action/internal/stoprollout"
)

const (
	token = "ghs_stopRolloutToken0123456789"
	good  = "1111111111111111111111111111111111111111"
	bad   = "2222222222222222222222222222222222222222"
)

type world struct {
	s        *ghemu.Server
	c        *github.Client
	clk      *clock.Virtual
	html     string
	release  *ghemu.Run // in its monitor
	deployR  *ghemu.Run // the production deploy run, still going
	self     *ghemu.Run // the rollback's own run
	post     *ghemu.Run // a run of a configured stop-workflow
	done     *ghemu.Run // an old release run, completed
	badDep   int64
	goodDep  int64
	progress []string
}

// newWorld: v1 (good) is deployed by a release run that completed; a release of v2 (bad)
// is in its 45-minute monitor, and the deploy run behind its deployment still runs a job
// with always() steps; a post-release workflow runs; the rollback runs.
func newWorld(t *testing.T, stubborn bool) *world {
	t.Helper()
	clk := clock.NewVirtual(time.Date(2026, 11, 23, 16, 0, 0, 0, time.UTC))
	s := ghemu.New(ghemu.Options{Clock: clk, Token: token})
	base := s.Start()
	t.Cleanup(s.Close)
	c, err := github.New(github.Repo{Owner: s.Owner(), Name: s.Repo()}, github.Options{
		Token: token, APIURL: base + "/api/v3", GraphQLURL: base + "/api/graphql", Clock: clk})
	require.NoError(t, err)
	w := &world{s: s, c: c, clk: clk, html: base + "/" + s.Owner() + "/" + s.Repo()}
	s.AddTag("v1.0.0", good)
	s.AddTag("v2.0.0", bad)
	s.AddCommit(bad, "main")
	ctx := context.Background()

	w.done = s.AddRun("Release", good, "workflow_dispatch", ghemu.JobSpec{Name: "release", RunFor: time.Minute})
	w.goodDep = w.deployment(t, good, "v1.0.0", w.done.ID, "success", "release-action: deployed and validated")
	clk.Advance(time.Hour)

	w.release = s.AddRun("Release", bad, "workflow_dispatch", ghemu.JobSpec{Name: "release", RunFor: 2 * time.Hour})
	w.deployR = s.AddRun("Deploy", bad, "workflow_dispatch", ghemu.JobSpec{Name: "deploy (production)", RunFor: time.Hour, IgnoresCancel: stubborn})
	w.badDep = w.deployment(t, bad, "v2.0.0", w.release.ID, "in_progress", fmt.Sprintf("release-action: deploying (run %d)", w.deployR.ID))
	w.post = s.AddRun("Post-release checks", bad, "workflow_dispatch", ghemu.JobSpec{Name: "checks", RunFor: time.Hour})
	w.self = s.AddRun("Rollback", bad, "workflow_dispatch", ghemu.JobSpec{Name: "rollback", RunFor: time.Hour})
	clk.Advance(time.Minute)
	_ = ctx
	return w
}

func (w *world) deployment(t *testing.T, sha, tag string, runID int64, state, desc string) int64 {
	t.Helper()
	ctx := context.Background()
	payload, _ := json.Marshal(deploy.Payload{ReleaseAction: 1, Commit: sha, Tag: tag, RunURL: fmt.Sprintf("%s/actions/runs/%d", w.html, runID)})
	d, err := w.c.CreateDeployment(ctx, github.DeploymentRequest{Ref: tag, Environment: "production", Description: "release-action: " + tag, Payload: payload})
	require.NoError(t, err)
	_, err = w.c.CreateDeploymentStatus(ctx, d.ID, github.DeploymentStatusRequest{State: state, Description: desc})
	require.NoError(t, err)
	return d.ID
}

func (w *world) opts(o stoprollout.Options) stoprollout.Options {
	o.Environment = "production"
	o.Reason = "error rate 12%"
	o.SelfRunID = w.self.ID
	o.Clock = w.clk
	o.LogURL = fmt.Sprintf("%s/actions/runs/%d", w.html, w.self.ID)
	o.Progress = func(s string) { w.progress = append(w.progress, s) }
	return o
}

func TestStopRolloutDuringMonitor(t *testing.T) {
	for _, stubborn := range []bool{false, true} {
		t.Run(fmt.Sprintf("stubborn=%v", stubborn), func(t *testing.T) {
			w := newWorld(t, stubborn)
			rep, err := stoprollout.Stop(context.Background(), w.c, w.opts(stoprollout.Options{
				Workflows: []string{"Post-release checks", "Rollback", "no-such.yml"}}))
			require.NoError(t, err)
			require.True(t, rep.Stopped(), "progress: %v", w.progress)

			var ids []int64
			for _, r := range rep.Runs {
				ids = append(ids, r.ID)
				assert.True(t, r.Stopped)
				assert.Equal(t, "cancelled", r.Conclusion)
				assert.Contains(t, r.URL, fmt.Sprintf("/actions/runs/%d", r.ID))
			}
			assert.ElementsMatch(t, []int64{w.release.ID, w.deployR.ID, w.post.ID}, ids)
			assert.Contains(t, rep.Run(w.release.ID).Why, fmt.Sprintf("release run of deployment %d", w.badDep))
			assert.Contains(t, rep.Run(w.deployR.ID).Why, fmt.Sprintf("deploy run of deployment %d", w.badDep))
			assert.Equal(t, stubborn, rep.Run(w.deployR.ID).Forced)
			if stubborn {
				assert.GreaterOrEqual(t, rep.Run(w.deployR.ID).Took.D(), stoprollout.DefaultGrace)
			} else {
				assert.Less(t, rep.Run(w.deployR.ID).Took.D(), stoprollout.DefaultGrace)
			}
			assert.False(t, rep.Run(w.release.ID).Forced)

			// Never its own run, never a run that completed.
			for _, cr := range w.s.Cancels() {
				assert.NotEqual(t, w.self.ID, cr.RunID, "the rollback cancelled its own run")
				assert.NotEqual(t, w.done.ID, cr.RunID)
			}
			st, _ := w.s.RunStatus(w.self.ID)
			assert.Equal(t, "in_progress", st)

			require.Len(t, rep.Records, 1)
			assert.Equal(t, w.badDep, rep.Records[0].ID)
			assert.True(t, rep.Records[0].Marked)
			for _, d := range w.s.Deployments() {
				last := d.Statuses[len(d.Statuses)-1]
				if d.ID == w.badDep {
					assert.Equal(t, "error", last.State)
					assert.Equal(t, "release-action: stopped by rollback: error rate 12%", last.Description)
				} else {
					assert.Equal(t, "success", last.State, "the good deployment is left alone")
				}
			}
			require.Len(t, rep.Warnings, 1)
			assert.Contains(t, rep.Warnings[0], `"no-such.yml"`)
		})
	}
}

// TestStopTimeout: a run that ignores its cancel and outlives the stop timeout before the
// grace period ends is reported unstopped, and no record is marked.
func TestStopTimeout(t *testing.T) {
	w := newWorld(t, true)
	rep, err := stoprollout.Stop(context.Background(), w.c, w.opts(stoprollout.Options{Grace: 10 * time.Minute, Timeout: time.Minute}))
	require.NoError(t, err)
	assert.False(t, rep.Stopped())
	assert.Equal(t, []int64{w.deployR.ID}, rep.Unstopped)
	assert.Empty(t, rep.Records, "a record whose run still goes is not marked stopped")
	for _, cr := range w.s.Cancels() {
		assert.False(t, cr.Force)
	}
}

// TestStopNothing: with nothing rolling out, nothing is cancelled.
func TestStopNothing(t *testing.T) {
	w := newWorld(t, false)
	w.clk.Advance(3 * time.Hour) // everything ended by itself
	rep, err := stoprollout.Stop(context.Background(), w.c, w.opts(stoprollout.Options{}))
	require.NoError(t, err)
	assert.True(t, rep.Stopped())
	assert.Empty(t, rep.Runs)
	assert.Empty(t, w.s.Cancels())
	// The bad deployment's status was in_progress though its runs ended: it is marked.
	require.Len(t, rep.Records, 1)
	assert.Equal(t, w.badDep, rep.Records[0].ID)
}

// TestAlreadyCompleted: a run that completes between the listing and the cancel answers
// 409, which is fine.
func TestAlreadyCompleted(t *testing.T) {
	w := newWorld(t, false)
	w.s.Inject(ghemu.Fault{PathPrefix: fmt.Sprintf("/repos/%s/%s/actions/runs/%d/cancel", w.s.Owner(), w.s.Repo(), w.release.ID), Status: 409, Count: 1})
	rep, err := stoprollout.Stop(context.Background(), w.c, w.opts(stoprollout.Options{}))
	require.NoError(t, err)
	assert.True(t, rep.Stopped())
	assert.True(t, rep.Run(w.release.ID).AlreadyCompleted)
}

func TestRunIDOfURL(t *testing.T) {
	for in, want := range map[string]int64{
		"https://github.com/o/r/actions/runs/123":            123,
		"https://github.com/o/r/actions/runs/123/attempts/2": 123,
		"https://github.com/o/r/actions/runs/123/job/9":      123,
		"https://github.com/o/r/actions/runs/abc":            0,
		"": 0,
		"https://github.com/o/r/actions/runs/99999999999999999999": 0,
	} {
		assert.Equal(t, want, stoprollout.RunIDOfURL(in), in)
	}
	_ = strings.TrimSpace
}

// TestDeployRunBySHA: a record in progress whose statuses name no run (a deploy tool that
// writes no log_url) is matched to the active runs of the deploy workflow on its commit.
func TestDeployRunBySHA(t *testing.T) {
	w := newWorld(t, false)
	other := w.s.AddRun("Deploy", good, "workflow_dispatch", ghemu.JobSpec{Name: "deploy (staging)", RunFor: time.Hour})
	id := w.s.AddDeploymentRecord(ghemu.DeploymentSpec{Environment: "production", SHA: bad, Ref: "v2.0.0",
		Statuses: []ghemu.DeploymentStatusSpec{{State: "in_progress"}}})
	w.clk.Advance(time.Second)
	rep, err := stoprollout.Stop(context.Background(), w.c, w.opts(stoprollout.Options{DeployWorkflow: "deploy.yml"}))
	require.NoError(t, err)
	require.True(t, rep.Stopped())
	assert.Contains(t, rep.Run(w.deployR.ID).Why, fmt.Sprintf("deploy run of deployment %d", id))
	assert.Nil(t, rep.Run(other.ID), "a deploy run of another commit is left alone")
	var marked []int64
	for _, r := range rep.Records {
		marked = append(marked, r.ID)
	}
	assert.ElementsMatch(t, []int64{w.badDep, id}, marked)

	// Without the deploy workflow nothing identifies its run: the record is left alone.
	w = newWorld(t, false)
	id = w.s.AddDeploymentRecord(ghemu.DeploymentSpec{Environment: "production", SHA: bad, Ref: "v2.0.0",
		Statuses: []ghemu.DeploymentStatusSpec{{State: "in_progress"}}})
	rep, err = stoprollout.Stop(context.Background(), w.c, w.opts(stoprollout.Options{}))
	require.NoError(t, err)
	for _, r := range rep.Records {
		assert.NotEqual(t, id, r.ID)
	}
	require.NotEmpty(t, rep.Warnings)
	assert.Contains(t, rep.Warnings[0], "names no workflow run")
}

// TestNoForceCancel: a server without the force-cancel endpoint (404) leaves the stop
// waiting for the cancel, with a warning, until the timeout.
func TestNoForceCancel(t *testing.T) {
	w := newWorld(t, true)
	w.s.Inject(ghemu.Fault{PathPrefix: fmt.Sprintf("/repos/%s/%s/actions/runs/%d/force-cancel", w.s.Owner(), w.s.Repo(), w.deployR.ID), Status: 404})
	rep, err := stoprollout.Stop(context.Background(), w.c, w.opts(stoprollout.Options{Timeout: 2 * time.Minute}))
	require.NoError(t, err)
	assert.Equal(t, []int64{w.deployR.ID}, rep.Unstopped)
	require.NotEmpty(t, rep.Warnings)
	assert.Contains(t, rep.Warnings[len(rep.Warnings)-1], "force-cancel of run")
}

// TestCancelForbidden: a token without actions: write is an error that says which
// permission is missing, and the report keeps what was found.
func TestCancelForbidden(t *testing.T) {
	w := newWorld(t, false)
	w.s.Inject(ghemu.Fault{PathPrefix: fmt.Sprintf("/repos/%s/%s/actions/runs/", w.s.Owner(), w.s.Repo()), Method: "POST", Status: 403})
	rep, err := stoprollout.Stop(context.Background(), w.c, w.opts(stoprollout.Options{}))
	require.Error(t, err)
	assert.ErrorIs(t, err, github.ErrForbidden)
	assert.Contains(t, err.Error(), "actions: write")
	require.NotNil(t, rep)
	assert.NotEmpty(t, rep.Runs)
	assert.Empty(t, rep.Records, "nothing is marked when the runs could not be stopped")
}
