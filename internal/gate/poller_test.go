package gate

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/github"
)

// rollupFake answers the poller's three reads from scripted state: rest is what REST
// lists, gql what the rollup shows (nil: the same as REST, with identities).
type rollupFake struct {
	GitHub
	runReads int
	rest     []github.CheckContext
	gql      []github.CheckContext
	rollups  int
	fail     error
}

func (f *rollupFake) CheckRunStates(context.Context, string) ([]github.CheckContext, error) {
	var out []github.CheckContext
	for _, c := range f.rest {
		if c.Kind == github.KindCheckRun {
			out = append(out, github.CheckContext{Kind: c.Kind, ID: c.ID, Name: c.Name, Status: c.Status, Conclusion: c.Conclusion, SuiteID: c.SuiteID})
		}
	}
	return out, nil
}

func (f *rollupFake) StatusStates(context.Context, string) ([]github.CheckContext, error) {
	var out []github.CheckContext
	for _, c := range f.rest {
		if c.Kind == github.KindStatus {
			out = append(out, c)
		}
	}
	return out, nil
}

func (f *rollupFake) Rollup(context.Context, string) ([]github.CheckContext, error) {
	f.rollups++
	if f.fail != nil {
		return nil, f.fail
	}
	if f.gql != nil {
		return f.gql, nil
	}
	return f.rest, nil
}

func (f *rollupFake) GetWorkflowRun(_ context.Context, id int64) (github.WorkflowRun, error) {
	f.runReads++
	return github.WorkflowRun{ID: id, WorkflowID: 2, Path: ".github/workflows/security-gate.yml"}, nil
}

// TestPoller: GraphQL is read for what REST cannot say (which workflow file a new check
// suite belongs to, how a suite concluded), paced, and never for a change REST shows.
func TestPoller(t *testing.T) {
	ctx := context.Background()
	a := cr(501, "hardening", "Security Gate", 200, "in_progress", "")
	aDone := cr(501, "hardening", "Security Gate", 200, "completed", "success")
	t.Run("an unchanged commit costs no GraphQL; a state change neither", func(t *testing.T) {
		f := &rollupFake{rest: []github.CheckContext{a, status("ci/x", "pending")}}
		p := newPoller(f, testSHA)
		cs, err := p.poll(ctx, t0)
		require.NoError(t, err)
		assert.Len(t, cs, 2)
		_, err = p.poll(ctx, t0.Add(5*time.Second))
		require.NoError(t, err)
		assert.Equal(t, 1, f.rollups)
		f.rest = []github.CheckContext{suite(cr(501, "hardening", "Security Gate", 200, "queued", ""), "in_progress", ""), status("ci/x", "success")}
		cs, err = p.poll(ctx, t0.Add(10*time.Second))
		require.NoError(t, err)
		assert.Equal(t, 1, f.rollups, "REST says what changed")
		assert.Equal(t, "queued", cs[0].Status)
		assert.Equal(t, ".github/workflows/security-gate.yml", cs[0].WorkflowPath, "the identity stays")
		assert.Equal(t, "completed", cs[1].Status)
	})
	t.Run("a new job of a known suite takes the suite's identity, its suite state unknown", func(t *testing.T) {
		f := &rollupFake{rest: []github.CheckContext{a}}
		p := newPoller(f, testSHA)
		_, err := p.poll(ctx, t0)
		require.NoError(t, err)
		f.rest = []github.CheckContext{a, cr(502, "report", "Security Gate", 200, "queued", "")}
		f.gql = []github.CheckContext{a} // GraphQL would not even show it yet
		cs, err := p.poll(ctx, t0.Add(5*time.Second))
		require.NoError(t, err)
		assert.Equal(t, 1, f.rollups)
		require.Len(t, cs, 2)
		assert.Equal(t, int64(502), cs[1].ID)
		assert.Equal(t, int64(2), cs[1].WorkflowID)
		assert.Equal(t, int64(200), cs[1].RunID)
		assert.Empty(t, cs[1].SuiteStatus, "read before the job existed")
	})
	t.Run("a new suite is read, paced by the size of the last rollup", func(t *testing.T) {
		f := &rollupFake{rest: []github.CheckContext{a}}
		p := newPoller(f, testSHA)
		_, err := p.poll(ctx, t0)
		require.NoError(t, err)
		b := cr(601, "check", "CI", 300, "queued", "")
		f.rest = []github.CheckContext{a, b}
		cs, err := p.poll(ctx, t0.Add(2*time.Second))
		require.NoError(t, err)
		assert.Equal(t, 1, f.rollups, "within the pace: not read yet")
		assert.Len(t, cs, 1, "a check run whose workflow is unknown is not evidence yet")
		cs, err = p.poll(ctx, t0.Add(rollupPace))
		require.NoError(t, err)
		assert.Equal(t, 2, f.rollups)
		assert.Len(t, cs, 2)
	})
	t.Run("a rollup that keeps missing a check run is asked maxReasks times, then kept", func(t *testing.T) {
		ghost := github.CheckContext{Kind: github.KindCheckRun, ID: 900, Name: "ghost", Status: "completed", Conclusion: "success", SuiteID: 77}
		f := &rollupFake{rest: []github.CheckContext{a, ghost}, gql: []github.CheckContext{a}}
		p := newPoller(f, testSHA)
		for i := range 10 {
			_, err := p.poll(ctx, t0.Add(time.Duration(i)*rollupPace))
			require.NoError(t, err)
		}
		assert.Equal(t, maxReasks, f.rollups)
		f.rest = []github.CheckContext{aDone, ghost}
		_, err := p.poll(ctx, t0.Add(time.Hour))
		require.NoError(t, err)
		assert.Equal(t, maxReasks+1, f.rollups, "a change REST shows starts the count again")
	})
	t.Run("a suite whose jobs all completed is read again to learn how it concluded", func(t *testing.T) {
		f := &rollupFake{rest: []github.CheckContext{suite(a, "in_progress", "")}}
		p := newPoller(f, testSHA)
		_, err := p.poll(ctx, t0)
		require.NoError(t, err)
		f.rest = []github.CheckContext{suite(aDone, "completed", "success")}
		cs, err := p.poll(ctx, t0.Add(rollupPace))
		require.NoError(t, err)
		assert.Equal(t, 2, f.rollups)
		assert.Equal(t, "completed", cs[0].SuiteStatus)
	})
	t.Run("GraphQL behind REST: REST's state wins", func(t *testing.T) {
		f := &rollupFake{rest: []github.CheckContext{aDone}, gql: []github.CheckContext{a}}
		p := newPoller(f, testSHA)
		cs, err := p.poll(ctx, t0)
		require.NoError(t, err)
		assert.Equal(t, "completed", cs[0].Status)
		assert.Equal(t, "success", cs[0].Conclusion)
	})
	t.Run("a rollup without the workflow's id and file: the run says, once", func(t *testing.T) {
		bare := a
		bare.WorkflowID, bare.WorkflowPath = 0, ""
		f := &rollupFake{rest: []github.CheckContext{bare}}
		p := newPoller(f, testSHA)
		cs, err := p.poll(ctx, t0)
		require.NoError(t, err)
		assert.Equal(t, ".github/workflows/security-gate.yml", cs[0].WorkflowPath)
		assert.Equal(t, int64(2), cs[0].WorkflowID)
		f.rest = []github.CheckContext{bare, cr(502, "report", "Security Gate", 200, "queued", "")}
		f.gql = []github.CheckContext{bare}
		cs, err = p.poll(ctx, t0.Add(time.Second))
		require.NoError(t, err)
		assert.Equal(t, ".github/workflows/security-gate.yml", cs[1].WorkflowPath, "inferred from the suite")
		assert.Equal(t, 1, f.runReads)
	})
	t.Run("a failed rollup is an error and leaves nothing stale", func(t *testing.T) {
		boom := errors.New("502")
		f := &rollupFake{rest: []github.CheckContext{a}, fail: boom}
		p := newPoller(f, testSHA)
		_, err := p.poll(ctx, t0)
		require.ErrorIs(t, err, boom)
		f.fail = nil
		cs, err := p.poll(ctx, t0.Add(time.Second))
		require.NoError(t, err)
		assert.Len(t, cs, 1)
	})
}
