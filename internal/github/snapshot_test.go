package github

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeRun is a check run as the fake serves it (REST spellings).
type fakeRun struct {
	ID         int64
	Name       string
	Status     string
	Conclusion string
	Workflow   string
	RunID      int64
	SuiteID    int64
	// SuiteStatus and SuiteConclusion are what GraphQL says of the check suite (REST's
	// check-run answers carry no suite state); default completed/success.
	SuiteStatus, SuiteConclusion string
}

type fakeStatus struct {
	Context string
	State   string // REST spelling: pending, success, failure, error
}

// snapServer serves a commit's check runs and statuses over REST (with ETags, like GitHub)
// and its statusCheckRollup over GraphQL, from one state.
type snapServer struct {
	f   *fakeGH
	sha string

	mu       sync.Mutex
	runs     []fakeRun
	statuses []fakeStatus
	// gqlRun, when set, changes what GraphQL says about a run (REST/GraphQL lag).
	gqlRun func(fakeRun) fakeRun
	// gqlView, when set, is what the n-th GraphQL query (from 1) shows of the state.
	gqlView func(n int, runs []fakeRun, statuses []fakeStatus) ([]fakeRun, []fakeStatus)
	gqlN    int
	// gqlFail makes GraphQL answer 200 with errors.
	gqlFail bool
	pages   map[string][]byte // rendered REST answers, dropped on every change
	// noETag answers like a server without conditional requests: no ETag, never 304.
	noETag bool
}

func (s *snapServer) serve(w http.ResponseWriter, r *http.Request, body []byte) {
	if s.noETag {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_, _ = w.Write(body)
		return
	}
	serveWithETag(w, r, body)
}

func newSnapServer(f *fakeGH, sha string) *snapServer {
	s := &snapServer{f: f, sha: sha}
	f.handle("/repos/o/r/commits/"+sha+"/check-runs", s.checkRuns)
	f.handle("/repos/o/r/commits/"+sha+"/status", s.status)
	f.handleGraphQL(s.graphql)
	return s
}

func (s *snapServer) set(runs []fakeRun, statuses []fakeStatus) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.runs, s.statuses, s.pages = runs, statuses, nil
}

func (s *snapServer) update(f func(runs []fakeRun)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s.runs)
	s.pages = nil
}

func manyRuns(n int) []fakeRun {
	runs := make([]fakeRun, n)
	for i := range runs {
		runs[i] = fakeRun{
			ID: int64(1000 + i), Name: fmt.Sprintf("job-%03d", i), Status: "completed", Conclusion: "success",
			Workflow: "CI", RunID: 77, SuiteID: 55,
		}
	}
	return runs
}

// render returns the cached body of a REST answer, rendering it on first use.
func (s *snapServer) render(key string, build func() any) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b, ok := s.pages[key]; ok {
		return b
	}
	b, _ := json.Marshal(build())
	if s.pages == nil {
		s.pages = map[string][]byte{}
	}
	s.pages[key] = b
	return b
}

func serveWithETag(w http.ResponseWriter, r *http.Request, body []byte) {
	etag := fmt.Sprintf(`W/"%x"`, sha256.Sum256(body))
	w.Header().Set("ETag", etag)
	w.Header().Set("X-RateLimit-Limit", "1000")
	w.Header().Set("X-RateLimit-Remaining", "900")
	w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(testStart.Add(time.Hour).Unix(), 10))
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write(body)
}

func (s *snapServer) checkRuns(w http.ResponseWriter, r *http.Request) {
	testMethod(s.f.t, r, http.MethodGet)
	q := r.URL.Query()
	assert.Equal(s.f.t, "latest", q.Get("filter"))
	assert.Equal(s.f.t, "100", q.Get("per_page"))
	page, err := strconv.Atoi(q.Get("page"))
	if !assert.NoError(s.f.t, err) || page < 1 {
		http.Error(w, "bad page", http.StatusBadRequest)
		return
	}
	body := s.render("runs"+q.Get("page"), func() any {
		var list []map[string]any
		for i := (page - 1) * 100; i < min(page*100, len(s.runs)); i++ {
			run := s.runs[i]
			m := map[string]any{"id": run.ID, "name": run.Name, "status": run.Status, "head_sha": s.sha}
			if run.Conclusion != "" {
				m["conclusion"] = run.Conclusion
			} else {
				m["conclusion"] = nil
			}
			list = append(list, m)
		}
		return map[string]any{"total_count": len(s.runs), "check_runs": list}
	})
	s.serve(w, r, body)
}

func (s *snapServer) status(w http.ResponseWriter, r *http.Request) {
	testMethod(s.f.t, r, http.MethodGet)
	testQuery(s.f.t, r, map[string][]string{"per_page": {"100"}, "page": {"1"}})
	body := s.render("status", func() any {
		var list []map[string]any
		for _, st := range s.statuses {
			list = append(list, map[string]any{"context": st.Context, "state": st.State})
		}
		return map[string]any{"state": "pending", "sha": s.sha, "total_count": len(s.statuses), "statuses": list}
	})
	s.serve(w, r, body)
}

func upperOrNil(s string) any {
	if s == "" {
		return nil
	}
	return strings.ToUpper(s)
}

func (s *snapServer) graphql(w http.ResponseWriter, q gqlRequest) {
	t := s.f.t
	assert.Contains(t, q.Query, "statusCheckRollup")
	assert.Equal(t, "o", q.Variables["owner"])
	assert.Equal(t, "r", q.Variables["name"])
	assert.Equal(t, s.sha, q.Variables["sha"])
	offset := 0
	if c, ok := q.Variables["cursor"].(string); ok {
		n, err := strconv.Atoi(strings.TrimPrefix(c, "cursor-"))
		require.NoError(t, err)
		offset = n
	} else {
		assert.Nil(t, q.Variables["cursor"], "first page has a null cursor")
	}

	s.mu.Lock()
	if s.gqlFail {
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, `{"data":null,"errors":[{"message":"Something went wrong while executing your query."}]}`)
		return
	}
	type node = map[string]any
	var all []node
	runs, statuses := s.runs, s.statuses
	if offset == 0 {
		s.gqlN++
	}
	if s.gqlView != nil {
		runs, statuses = s.gqlView(s.gqlN, slices.Clone(runs), slices.Clone(statuses))
	}
	for _, run := range runs {
		if s.gqlRun != nil {
			run = s.gqlRun(run)
		}
		suiteStatus, suiteConclusion := "COMPLETED", any("SUCCESS")
		if run.SuiteStatus != "" {
			suiteStatus, suiteConclusion = strings.ToUpper(run.SuiteStatus), upperOrNil(run.SuiteConclusion)
		}
		all = append(all, node{
			"__typename": "CheckRun", "databaseId": run.ID, "name": run.Name,
			"status": strings.ToUpper(run.Status), "conclusion": upperOrNil(run.Conclusion),
			"startedAt": "2026-03-10T11:00:00Z", "completedAt": nil,
			"detailsUrl": fmt.Sprintf("https://github.example/o/r/runs/%d", run.ID),
			"checkSuite": node{
				"databaseId": run.SuiteID, "status": suiteStatus, "conclusion": suiteConclusion,
				"workflowRun": node{"databaseId": run.RunID, "runNumber": 12, "event": "push",
					"url": "https://github.example/o/r/actions/runs/77", "workflow": node{"name": run.Workflow}},
			},
		})
	}
	for _, st := range statuses {
		all = append(all, node{"__typename": "StatusContext", "context": st.Context, "state": strings.ToUpper(st.State),
			"targetUrl": "https://ci.example/" + st.Context, "description": "d", "createdAt": "2026-03-10T11:30:00Z"})
	}
	s.mu.Unlock()

	end := min(offset+100, len(all))
	writeJSON(w, http.StatusOK, node{"data": node{
		"repository": node{"object": node{"statusCheckRollup": node{
			"state": "PENDING",
			"contexts": node{
				"totalCount": len(all),
				"pageInfo":   node{"hasNextPage": end < len(all), "endCursor": fmt.Sprintf("cursor-%d", end)},
				"nodes":      all[offset:end],
			},
		}}},
		"rateLimit": node{"cost": 1, "remaining": 4999, "resetAt": "2026-03-10T13:00:00Z"},
	}})
}

func TestSnapshotChangeDetection(t *testing.T) {
	f := newFake(t)
	s := newSnapServer(f, testSHA)
	s.set(manyRuns(250), []fakeStatus{{"ci/jenkins", "success"}, {"deploy/preview", "pending"}})
	c, _ := f.client()
	ctx := context.Background()

	// First poll: every REST page and the whole rollup (3 GraphQL pages for 252 contexts).
	snap, err := c.Snapshot(ctx, testSHA)
	require.NoError(t, err)
	assert.True(t, snap.Changed)
	assert.Equal(t, testSHA, snap.SHA)
	require.Len(t, snap.Contexts, 252)
	assert.Equal(t, Cost{REST: 4, GraphQLQueries: 3, GraphQLPoints: 3}, c.Cost())
	assert.Equal(t, 3, f.hitCount("/repos/o/r/commits/"+testSHA+"/check-runs"))

	// Second poll, nothing changed: four 304s, no GraphQL, nothing billed.
	before := c.Cost()
	snap2, err := c.Snapshot(ctx, testSHA)
	require.NoError(t, err)
	assert.False(t, snap2.Changed)
	assert.Equal(t, snap.Contexts, snap2.Contexts)
	after := c.Cost()
	assert.Equal(t, before.REST+4, after.REST)
	assert.Equal(t, before.NotModified+4, after.NotModified)
	assert.Equal(t, before.Billed(), after.Billed())
	assert.Equal(t, before.GraphQLQueries, after.GraphQLQueries)
	assert.Equal(t, 3, f.graphQLCount())

	// A change on page 2: one GraphQL pass of 3 pages.
	s.update(func(runs []fakeRun) { runs[150].Conclusion = "failure" })
	snap3, err := c.Snapshot(ctx, testSHA)
	require.NoError(t, err)
	assert.True(t, snap3.Changed)
	assert.Equal(t, 6, f.graphQLCount())
	assert.Equal(t, "failure", snap3.Contexts[150].Conclusion)
	assert.Equal(t, before.NotModified+4+3, c.Cost().NotModified, "pages 1, 3 and the status were 304")

	// And quiet again, with the change kept.
	snap4, err := c.Snapshot(ctx, testSHA)
	require.NoError(t, err)
	assert.False(t, snap4.Changed)
	assert.Equal(t, "failure", snap4.Contexts[150].Conclusion)
	assert.Equal(t, 6, f.graphQLCount())

	// The caller owns the returned slice: changing it does not change the kept snapshot.
	snap4.Contexts[0].Name = "mutated"
	snap5, err := c.Snapshot(ctx, testSHA)
	require.NoError(t, err)
	assert.Equal(t, "job-000", snap5.Contexts[0].Name)
}

func TestSnapshotMapping(t *testing.T) {
	f := newFake(t)
	f.handle("/repos/o/r/commits/"+testSHA+"/check-runs", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, `{"total_count":0,"check_runs":[]}`)
	})
	f.handle("/repos/o/r/commits/"+testSHA+"/status", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, `{"state":"pending","total_count":0,"statuses":[]}`)
	})
	f.handleGraphQL(func(w http.ResponseWriter, q gqlRequest) {
		writeJSON(w, http.StatusOK, `{"data":{"repository":{"object":{"statusCheckRollup":{"state":"FAILURE","contexts":{
			"totalCount":8,"pageInfo":{"hasNextPage":false,"endCursor":"x"},"nodes":[
			{"__typename":"CheckRun","databaseId":11,"name":"install-smoke (root)","status":"COMPLETED","conclusion":"STARTUP_FAILURE",
			 "startedAt":"2026-03-10T10:00:00Z","completedAt":"2026-03-10T10:05:00Z","detailsUrl":"https://github.example/job/11",
			 "checkSuite":{"databaseId":5,"status":"COMPLETED","conclusion":"FAILURE",
			  "workflowRun":{"databaseId":900,"runNumber":42,"event":"workflow_dispatch","url":"https://github.example/run/900","workflow":{"name":"Install Smoke"}}}},
			{"__typename":"CheckRun","databaseId":12,"name":"external","status":"IN_PROGRESS","conclusion":null,
			 "startedAt":null,"completedAt":null,"detailsUrl":null,"checkSuite":{"databaseId":6,"status":"IN_PROGRESS","conclusion":null,"workflowRun":null}},
			{"__typename":"CheckRun","databaseId":13,"name":"future","status":"COMPLETED","conclusion":"SOMETHING_NEW",
			 "startedAt":null,"completedAt":null,"detailsUrl":null,"checkSuite":{"databaseId":6,"status":"COMPLETED","conclusion":"SOMETHING_NEW","workflowRun":null}},
			{"__typename":"StatusContext","context":"ci/pending","state":"PENDING","targetUrl":"https://ci/1","description":"x","createdAt":"2026-03-10T09:00:00Z"},
			{"__typename":"StatusContext","context":"ci/expected","state":"EXPECTED","targetUrl":null,"description":null,"createdAt":"2026-03-10T09:00:00Z"},
			{"__typename":"StatusContext","context":"ci/ok","state":"SUCCESS","targetUrl":"https://ci/3","description":"x","createdAt":"2026-03-10T09:01:00Z"},
			{"__typename":"StatusContext","context":"ci/bad","state":"FAILURE","targetUrl":"https://ci/4","description":"x","createdAt":"2026-03-10T09:02:00Z"},
			{"__typename":"StatusContext","context":"ci/err","state":"ERROR","targetUrl":"https://ci/5","description":"x","createdAt":"2026-03-10T09:03:00Z"}
			]}}}},"rateLimit":{"cost":1,"remaining":10,"resetAt":"2026-03-10T13:00:00Z"}}}`)
	})
	c, _ := f.client()
	snap, err := c.Snapshot(context.Background(), strings.ToUpper(testSHA))
	require.NoError(t, err)
	assert.Equal(t, testSHA, snap.SHA, "SHA is normalised to lower case")

	at := func(s string) time.Time { tm, err := time.Parse(time.RFC3339, s); require.NoError(t, err); return tm }
	want := []CheckContext{
		{Kind: KindCheckRun, ID: 11, Name: "install-smoke (root)", Status: "completed", Conclusion: "startup_failure",
			StartedAt: at("2026-03-10T10:00:00Z"), CompletedAt: at("2026-03-10T10:05:00Z"), DetailsURL: "https://github.example/job/11",
			Workflow: "Install Smoke", RunID: 900, RunNumber: 42, Event: "workflow_dispatch", RunURL: "https://github.example/run/900",
			SuiteID: 5, SuiteStatus: "completed", SuiteConclusion: "failure"},
		{Kind: KindCheckRun, ID: 12, Name: "external", Status: "in_progress", SuiteID: 6, SuiteStatus: "in_progress"},
		{Kind: KindCheckRun, ID: 13, Name: "future", Status: "completed", Conclusion: "something_new", SuiteID: 6,
			SuiteStatus: "completed", SuiteConclusion: "something_new"},
		{Kind: KindStatus, Name: "ci/pending", Status: "pending", DetailsURL: "https://ci/1", StartedAt: at("2026-03-10T09:00:00Z")},
		{Kind: KindStatus, Name: "ci/expected", Status: "pending", StartedAt: at("2026-03-10T09:00:00Z")},
		{Kind: KindStatus, Name: "ci/ok", Status: "completed", Conclusion: "success", DetailsURL: "https://ci/3",
			StartedAt: at("2026-03-10T09:01:00Z"), CompletedAt: at("2026-03-10T09:01:00Z")},
		{Kind: KindStatus, Name: "ci/bad", Status: "completed", Conclusion: "failure", DetailsURL: "https://ci/4",
			StartedAt: at("2026-03-10T09:02:00Z"), CompletedAt: at("2026-03-10T09:02:00Z")},
		{Kind: KindStatus, Name: "ci/err", Status: "completed", Conclusion: "error", DetailsURL: "https://ci/5",
			StartedAt: at("2026-03-10T09:03:00Z"), CompletedAt: at("2026-03-10T09:03:00Z")},
	}
	assert.Equal(t, want, snap.Contexts)
	assert.Equal(t, 1, c.Cost().GraphQLPoints)
}

func TestEnumWord(t *testing.T) {
	for in, want := range map[string]string{
		"QUEUED": "queued", "IN_PROGRESS": "in_progress", "COMPLETED": "completed", "WAITING": "waiting",
		"PENDING": "pending", "REQUESTED": "requested", "SUCCESS": "success", "FAILURE": "failure",
		"NEUTRAL": "neutral", "CANCELLED": "cancelled", "SKIPPED": "skipped", "TIMED_OUT": "timed_out",
		"ACTION_REQUIRED": "action_required", "STALE": "stale", "STARTUP_FAILURE": "startup_failure",
		"BRAND_NEW": "brand_new", "": "",
	} {
		assert.Equal(t, want, enumWord(in), in)
	}
}

func TestSnapshotNullRollupIsEmpty(t *testing.T) {
	f := newFake(t)
	f.handle("/repos/o/r/commits/"+testSHA+"/check-runs", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, `{"total_count":0,"check_runs":[]}`)
	})
	f.handle("/repos/o/r/commits/"+testSHA+"/status", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, `{"state":"pending","total_count":0,"statuses":[]}`)
	})
	f.handleGraphQL(func(w http.ResponseWriter, q gqlRequest) {
		writeJSON(w, http.StatusOK, `{"data":{"repository":{"object":{"statusCheckRollup":null}},"rateLimit":{"cost":1,"remaining":10,"resetAt":"2026-03-10T13:00:00Z"}}}`)
	})
	c, _ := f.client()
	snap, err := c.Snapshot(context.Background(), testSHA)
	require.NoError(t, err)
	assert.True(t, snap.Changed)
	assert.NotNil(t, snap.Contexts)
	assert.Empty(t, snap.Contexts)
}

func TestSnapshotNotFound(t *testing.T) {
	for name, answer := range map[string]string{
		"repository": `{"data":{"repository":null,"rateLimit":{"cost":1,"remaining":10,"resetAt":"2026-03-10T13:00:00Z"}},
			"errors":[{"type":"NOT_FOUND","path":["repository"],"message":"Could not resolve to a Repository with the name 'o/r'."}]}`,
		"object": `{"data":{"repository":{"object":null},"rateLimit":{"cost":1,"remaining":10,"resetAt":"2026-03-10T13:00:00Z"}}}`,
	} {
		t.Run(name, func(t *testing.T) {
			f := newFake(t)
			f.handle("/repos/o/r/commits/"+testSHA+"/check-runs", func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, http.StatusOK, `{"total_count":0,"check_runs":[]}`)
			})
			f.handle("/repos/o/r/commits/"+testSHA+"/status", func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, http.StatusOK, `{"state":"pending","total_count":0,"statuses":[]}`)
			})
			f.handleGraphQL(func(w http.ResponseWriter, q gqlRequest) { writeJSON(w, http.StatusOK, answer) })
			c, _ := f.client()
			_, err := c.Snapshot(context.Background(), testSHA)
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrNotFound)
			assert.Contains(t, err.Error(), "o/r@"+testSHA)
		})
	}
}

func TestSnapshotGraphQLErrorsAreErrors(t *testing.T) {
	f := newFake(t)
	f.handle("/repos/o/r/commits/"+testSHA+"/check-runs", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, `{"total_count":0,"check_runs":[]}`)
	})
	f.handle("/repos/o/r/commits/"+testSHA+"/status", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, `{"state":"pending","total_count":0,"statuses":[]}`)
	})
	f.handleGraphQL(func(w http.ResponseWriter, q gqlRequest) {
		writeJSON(w, http.StatusOK, `{"errors":[{"path":["query","repository","object"],"extensions":{"code":"undefinedField"},
			"message":"Field 'statusCheckRollupx' doesn't exist on type 'Commit'"}]}`)
	})
	c, _ := f.client()
	snap, err := c.Snapshot(context.Background(), testSHA)
	require.Error(t, err)
	assert.Empty(t, snap.Contexts)
	assert.Contains(t, err.Error(), "GraphQL query statusCheckRollup")
	assert.Contains(t, err.Error(), "doesn't exist on type 'Commit'")
	assert.NotErrorIs(t, err, ErrNotFound)
}

func TestSnapshotRESTAndGraphQLDisagree(t *testing.T) {
	f := newFake(t)
	s := newSnapServer(f, testSHA)
	s.set(manyRuns(3), nil)
	// GraphQL lags: it still shows run 1001 in progress while REST says completed.
	s.gqlRun = func(r fakeRun) fakeRun {
		if r.ID == 1001 {
			r.Status, r.Conclusion = "in_progress", ""
		}
		return r
	}
	c, _ := f.client()
	ctx := context.Background()
	snap, err := c.Snapshot(ctx, testSHA)
	require.NoError(t, err)
	assert.True(t, snap.Changed)
	assert.Equal(t, "in_progress", snap.Contexts[1].Status)

	// REST is all 304 now, but the lagging snapshot was not kept: GraphQL is asked again.
	s.mu.Lock()
	s.gqlRun = nil
	s.mu.Unlock()
	snap, err = c.Snapshot(ctx, testSHA)
	require.NoError(t, err)
	assert.True(t, snap.Changed)
	assert.Equal(t, "completed", snap.Contexts[1].Status)
	assert.Equal(t, 2, f.graphQLCount())

	// Now they agree, so the next quiet poll costs nothing.
	snap, err = c.Snapshot(ctx, testSHA)
	require.NoError(t, err)
	assert.False(t, snap.Changed)
	assert.Equal(t, 2, f.graphQLCount())
}

func TestSnapshotFailedPollDoesNotLeaveStaleSnapshot(t *testing.T) {
	f := newFake(t)
	s := newSnapServer(f, testSHA)
	s.set(manyRuns(150), nil)
	c, _ := f.client()
	ctx := context.Background()
	_, err := c.Snapshot(ctx, testSHA)
	require.NoError(t, err)

	// Page 1 changes, then the GraphQL read fails: the next poll sees 304s everywhere (the
	// cache already holds the new page) yet must not return the old snapshot.
	s.update(func(runs []fakeRun) { runs[0].Conclusion = "failure" })
	s.mu.Lock()
	s.gqlFail = true
	s.mu.Unlock()
	_, err = c.Snapshot(ctx, testSHA)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "GraphQL query statusCheckRollup")

	s.mu.Lock()
	s.gqlFail = false
	s.mu.Unlock()
	snap, err := c.Snapshot(ctx, testSHA)
	require.NoError(t, err)
	assert.True(t, snap.Changed, "the change seen by the failed poll is not lost")
	assert.Equal(t, "failure", snap.Contexts[0].Conclusion)
	// Poll 2: page 2 and the status were 304; poll 3: all three were.
	assert.Equal(t, 5, c.Cost().NotModified)
}

func TestSnapshotRejectsBadSHA(t *testing.T) {
	f := newFake(t)
	c, _ := f.client()
	for _, sha := range []string{"", "abc123", testSHA + "0", strings.Repeat("g", 40)} {
		_, err := c.Snapshot(context.Background(), sha)
		assert.ErrorContains(t, err, "not a 40-hex commit SHA", sha)
	}
	assert.Equal(t, Cost{}, c.Cost())
}

func TestSnapshotRESTFailureIsError(t *testing.T) {
	f := newFake(t)
	f.handle("/repos/o/r/commits/"+testSHA+"/check-runs", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusUnprocessableEntity, `{"message":"No commit found for SHA: `+testSHA+`"}`)
	})
	c, _ := f.client()
	_, err := c.Snapshot(context.Background(), testSHA)
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrNotFound)
	var api *APIError
	require.True(t, errors.As(err, &api))
	assert.Equal(t, "/repos/o/r/commits/"+testSHA+"/check-runs", api.Path)
	assert.Equal(t, http.StatusUnprocessableEntity, api.StatusCode)
}

// TestSnapshotWithoutETags: a server without conditional requests answers 200 every
// time; comparing what REST says still keeps an unchanged commit free of GraphQL.
func TestSnapshotWithoutETags(t *testing.T) {
	f := newFake(t)
	s := newSnapServer(f, testSHA)
	s.noETag = true
	s.set(manyRuns(3), []fakeStatus{{"ci/jenkins", "pending"}})
	c, _ := f.client()
	ctx := context.Background()

	_, err := c.Snapshot(ctx, testSHA)
	require.NoError(t, err)
	require.Equal(t, 1, f.graphQLCount())
	snap, err := c.Snapshot(ctx, testSHA)
	require.NoError(t, err)
	assert.False(t, snap.Changed, "REST said the same")
	assert.Equal(t, 1, f.graphQLCount(), "no GraphQL while nothing changed")
	assert.Zero(t, c.Cost().NotModified)

	s.set(manyRuns(3), []fakeStatus{{"ci/jenkins", "success"}})
	snap, err = c.Snapshot(ctx, testSHA)
	require.NoError(t, err)
	assert.True(t, snap.Changed)
	assert.Equal(t, 2, f.graphQLCount())
}
