package github

import (
	"context"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// gqlLag is how GraphQL lags behind the state REST already shows.
type gqlLag func(runs []fakeRun, statuses []fakeStatus) ([]fakeRun, []fakeStatus)

// lagFor shows lag on the first n GraphQL queries, then the state as it is; n < 0 lags
// for ever.
func lagFor(n int, lag gqlLag) func(int, []fakeRun, []fakeStatus) ([]fakeRun, []fakeStatus) {
	return func(q int, runs []fakeRun, statuses []fakeStatus) ([]fakeRun, []fakeStatus) {
		if n < 0 || q <= n {
			return lag(runs, statuses)
		}
		return runs, statuses
	}
}

// suiteOpen: the check suite of run id is still in progress in GraphQL.
func suiteOpen(id int64) gqlLag {
	return func(runs []fakeRun, statuses []fakeStatus) ([]fakeRun, []fakeStatus) {
		for i := range runs {
			if runs[i].ID == id {
				runs[i].SuiteStatus, runs[i].SuiteConclusion = "in_progress", ""
			}
		}
		return runs, statuses
	}
}

// omitRun: GraphQL does not list check run id yet.
func omitRun(id int64) gqlLag {
	return func(runs []fakeRun, statuses []fakeStatus) ([]fakeRun, []fakeStatus) {
		return slices.DeleteFunc(runs, func(r fakeRun) bool { return r.ID == id }), statuses
	}
}

// omitStatus: GraphQL does not list the status context yet.
func omitStatus(context string) gqlLag {
	return func(runs []fakeRun, statuses []fakeStatus) ([]fakeRun, []fakeStatus) {
		return runs, slices.DeleteFunc(statuses, func(s fakeStatus) bool { return s.Context == context })
	}
}

// TestSnapshotAsksAgainWhileGraphQLLags: a GraphQL answer that may be behind REST (a suite
// not completed although all its check runs are, a check run or status REST lists and
// GraphQL does not) is not kept as the baseline of 304s, so a later poll sees the
// completed state; a difference that never goes away costs at most maxReasks re-reads
// after each REST change.
func TestSnapshotAsksAgainWhileGraphQLLags(t *testing.T) {
	state := func() []fakeRun {
		return []fakeRun{
			{ID: 501, Name: "hardening", Status: "completed", Conclusion: "success", Workflow: "Security Gate", RunID: 200, SuiteID: 7},
			{ID: 502, Name: "check", Status: "completed", Conclusion: "failure", Workflow: "CI", RunID: 201, SuiteID: 8, SuiteConclusion: "failure", SuiteStatus: "completed"},
			{ID: 503, Name: "check", Status: "completed", Conclusion: "success", Workflow: "CI", RunID: 202, SuiteID: 9},
		}
	}
	statuses := []fakeStatus{{"ci/jenkins", "success"}}
	tests := []struct {
		name string
		view func(int, []fakeRun, []fakeStatus) ([]fakeRun, []fakeStatus)
		runs func() []fakeRun
		// restChangeBefore changes a check run's conclusion (REST and GraphQL alike) before
		// that poll (1-based; 0: never).
		restChangeBefore int
		// wantQueries is the GraphQL query count after each poll.
		wantQueries []int
		// wantSuite is the last poll's suite status of check run 501.
		wantSuite string
		wantLen   int
	}{
		{
			name: "suite completed a moment after its last check run", view: lagFor(1, suiteOpen(501)),
			wantQueries: []int{1, 2, 2, 2}, wantSuite: "completed", wantLen: 4,
		},
		{
			name: "check run REST lists is not yet in GraphQL", view: lagFor(1, omitRun(503)),
			wantQueries: []int{1, 2, 2, 2}, wantSuite: "completed", wantLen: 4,
		},
		{
			name: "status REST lists is not yet in GraphQL", view: lagFor(1, omitStatus("ci/jenkins")),
			wantQueries: []int{1, 2, 2, 2}, wantSuite: "completed", wantLen: 4,
		},
		{
			name: "lag over two re-reads", view: lagFor(3, suiteOpen(501)),
			wantQueries: []int{1, 2, 3, 4, 4}, wantSuite: "completed", wantLen: 4,
		},
		{
			name: "suite that never completes costs three re-reads", view: lagFor(-1, suiteOpen(501)),
			wantQueries: []int{1, 2, 3, 4, 4, 4}, wantSuite: "in_progress", wantLen: 4,
		},
		{
			name: "check run GraphQL never lists costs three re-reads", view: lagFor(-1, omitRun(503)),
			wantQueries: []int{1, 2, 3, 4, 4, 4}, wantSuite: "completed", wantLen: 3,
		},
		{
			name: "a REST change allows three re-reads again", view: lagFor(-1, suiteOpen(501)), restChangeBefore: 6,
			wantQueries: []int{1, 2, 3, 4, 4, 5, 6, 7, 8, 8}, wantSuite: "in_progress", wantLen: 4,
		},
		{
			name: "suite with a check run still running is not a lag",
			runs: func() []fakeRun {
				return []fakeRun{
					{ID: 501, Name: "hardening", Status: "completed", Conclusion: "success", Workflow: "Security Gate", RunID: 200, SuiteID: 7, SuiteStatus: "in_progress"},
					{ID: 504, Name: "audit", Status: "in_progress", Workflow: "Security Gate", RunID: 200, SuiteID: 7, SuiteStatus: "in_progress"},
				}
			},
			wantQueries: []int{1, 1, 1}, wantSuite: "in_progress", wantLen: 3,
		},
		{
			name: "agreeing views cost one query", wantQueries: []int{1, 1, 1}, wantSuite: "completed", wantLen: 4,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			s := newSnapServer(f, testSHA)
			runs := state()
			if tt.runs != nil {
				runs = tt.runs()
			}
			s.set(runs, statuses)
			s.gqlView = tt.view
			c, _ := f.client()
			var snap Snapshot
			for i, want := range tt.wantQueries {
				if i+1 == tt.restChangeBefore {
					s.update(func(runs []fakeRun) { runs[1].Conclusion = "cancelled" })
				}
				before := f.graphQLCount()
				var err error
				snap, err = c.Snapshot(context.Background(), testSHA)
				require.NoError(t, err)
				require.Equal(t, want, f.graphQLCount(), "GraphQL queries after poll %d", i+1)
				assert.Equal(t, want > before, snap.Changed, "poll %d: Changed is true exactly when GraphQL was read", i+1)
			}
			require.Len(t, snap.Contexts, tt.wantLen)
			i := slices.IndexFunc(snap.Contexts, func(c CheckContext) bool { return c.ID == 501 })
			require.GreaterOrEqual(t, i, 0)
			assert.Equal(t, tt.wantSuite, snap.Contexts[i].SuiteStatus)
		})
	}
}

func TestLagging(t *testing.T) {
	run := func(id, suite int64, status, suiteStatus string) CheckContext {
		c := CheckContext{Kind: KindCheckRun, ID: id, Name: "job", Status: status, SuiteID: suite, SuiteStatus: suiteStatus}
		if status == "completed" {
			c.Conclusion = "success"
		}
		return c
	}
	restOf := func(cs ...CheckContext) map[int64]CheckContext {
		m := map[int64]CheckContext{}
		for _, c := range cs {
			m[c.ID] = CheckContext{Name: c.Name, Status: c.Status, Conclusion: c.Conclusion}
		}
		return m
	}
	ok := CheckContext{Kind: KindStatus, Name: "ci/ok", Status: "completed", Conclusion: "success"}
	tests := []struct {
		name     string
		contexts []CheckContext
		runs     map[int64]CheckContext
		statuses map[string]CheckContext
		want     string
	}{
		{name: "agree", contexts: []CheckContext{run(1, 7, "completed", "completed"), ok},
			runs: restOf(run(1, 7, "completed", "")), statuses: map[string]CheckContext{"ci/ok": ok}},
		{name: "state differs", contexts: []CheckContext{run(1, 7, "in_progress", "in_progress")},
			runs: restOf(run(1, 7, "completed", "")), want: `check_run "job" is completed/success in REST, in_progress/ in GraphQL`},
		{name: "check run only in REST", contexts: []CheckContext{run(1, 7, "completed", "completed")},
			runs: restOf(run(1, 7, "completed", ""), run(2, 8, "completed", "")), want: `check run 2 "job" is in REST, not yet in GraphQL`},
		{name: "check run only in GraphQL is not a lag", contexts: []CheckContext{run(1, 7, "completed", "completed"), run(2, 8, "queued", "queued")},
			runs: restOf(run(1, 7, "completed", ""))},
		{name: "status only in REST", statuses: map[string]CheckContext{"ci/ok": ok}, want: `status "ci/ok" is in REST, not yet in GraphQL`},
		{name: "suite open with all its runs completed",
			contexts: []CheckContext{run(1, 7, "completed", "in_progress"), run(2, 7, "completed", "in_progress"), run(3, 8, "completed", "completed")},
			runs:     restOf(run(1, 7, "completed", ""), run(2, 7, "completed", ""), run(3, 8, "completed", "")),
			want:     "check suite 7 is not completed although all its check runs are"},
		{name: "suite open with a run not completed",
			contexts: []CheckContext{run(1, 7, "completed", "in_progress"), run(2, 7, "in_progress", "in_progress")},
			runs:     restOf(run(1, 7, "completed", ""), run(2, 7, "in_progress", ""))},
		{name: "run without a suite", contexts: []CheckContext{run(1, 0, "completed", "")}, runs: restOf(run(1, 0, "completed", ""))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, lagging(tt.contexts, tt.runs, tt.statuses))
		})
	}
}
