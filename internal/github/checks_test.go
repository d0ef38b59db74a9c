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

// TestCheckStatesAreConditional: the REST reads are conditional, so an unchanged commit
// costs only free 304s; what changed is detected by the gate, which owns the polling.
func TestCheckStatesAreConditional(t *testing.T) {
	f := newFake(t)
	s := newSnapServer(f, testSHA)
	s.set(manyRuns(250), []fakeStatus{{"ci/jenkins", "success"}, {"deploy/preview", "pending"}})
	c, _ := f.client()
	ctx := context.Background()

	runs, err := c.CheckRunStates(ctx, testSHA)
	require.NoError(t, err)
	require.Len(t, runs, 250)
	assert.Equal(t, CheckContext{Kind: KindCheckRun, ID: 1000, Name: "job-000", Status: "completed", Conclusion: "success", SuiteID: runs[0].SuiteID}, runs[0])
	sts, err := c.StatusStates(ctx, testSHA)
	require.NoError(t, err)
	require.Len(t, sts, 2)
	assert.Equal(t, Cost{REST: 4}, c.Cost())
	assert.Equal(t, 3, f.hitCount("/repos/o/r/commits/"+testSHA+"/check-runs"))

	// Nothing changed: four 304s, nothing billed, the same answer.
	runs2, err := c.CheckRunStates(ctx, testSHA)
	require.NoError(t, err)
	_, err = c.StatusStates(ctx, testSHA)
	require.NoError(t, err)
	assert.Equal(t, runs, runs2)
	assert.Equal(t, Cost{REST: 8, NotModified: 4}, c.Cost())

	// A change on page 2: that page is billed, the others stay 304.
	s.update(func(runs []fakeRun) { runs[150].Conclusion = "failure" })
	runs3, err := c.CheckRunStates(ctx, testSHA)
	require.NoError(t, err)
	assert.Equal(t, "failure", runs3[150].Conclusion)
	assert.Equal(t, Cost{REST: 11, NotModified: 6}, c.Cost())

	// The rollup: 3 GraphQL pages for 252 contexts.
	all, err := c.Rollup(ctx, testSHA)
	require.NoError(t, err)
	assert.Len(t, all, 252)
	assert.Equal(t, 3, f.graphQLCount())
}

func TestRollupMapping(t *testing.T) {
	f := newFake(t)
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
	contexts, err := c.Rollup(context.Background(), strings.ToUpper(testSHA))
	require.NoError(t, err)

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
	assert.Equal(t, want, contexts)
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

func TestRollupNullRollupIsEmpty(t *testing.T) {
	f := newFake(t)
	f.handleGraphQL(func(w http.ResponseWriter, q gqlRequest) {
		writeJSON(w, http.StatusOK, `{"data":{"repository":{"object":{"statusCheckRollup":null}},"rateLimit":{"cost":1,"remaining":10,"resetAt":"2026-03-10T13:00:00Z"}}}`)
	})
	c, _ := f.client()
	contexts, err := c.Rollup(context.Background(), testSHA)
	require.NoError(t, err)
	assert.NotNil(t, contexts)
	assert.Empty(t, contexts)
}

func TestRollupNotFound(t *testing.T) {
	for name, answer := range map[string]string{
		"repository": `{"data":{"repository":null,"rateLimit":{"cost":1,"remaining":10,"resetAt":"2026-03-10T13:00:00Z"}},
			"errors":[{"type":"NOT_FOUND","path":["repository"],"message":"Could not resolve to a Repository with the name 'o/r'."}]}`,
		"object": `{"data":{"repository":{"object":null},"rateLimit":{"cost":1,"remaining":10,"resetAt":"2026-03-10T13:00:00Z"}}}`,
	} {
		t.Run(name, func(t *testing.T) {
			f := newFake(t)
			f.handleGraphQL(func(w http.ResponseWriter, q gqlRequest) { writeJSON(w, http.StatusOK, answer) })
			c, _ := f.client()
			_, err := c.Rollup(context.Background(), testSHA)
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrNotFound)
			assert.Contains(t, err.Error(), "o/r@"+testSHA)
		})
	}
}

func TestRollupGraphQLErrorsAreErrors(t *testing.T) {
	f := newFake(t)
	f.handleGraphQL(func(w http.ResponseWriter, q gqlRequest) {
		writeJSON(w, http.StatusOK, `{"errors":[{"path":["query","repository","object"],"extensions":{"code":"undefinedField"},
			"message":"Field 'statusCheckRollupx' doesn't exist on type 'Commit'"}]}`)
	})
	c, _ := f.client()
	contexts, err := c.Rollup(context.Background(), testSHA)
	require.Error(t, err)
	assert.Empty(t, contexts)
	assert.Contains(t, err.Error(), "GraphQL query statusCheckRollup")
	assert.Contains(t, err.Error(), "doesn't exist on type 'Commit'")
	assert.NotErrorIs(t, err, ErrNotFound)
}

func TestChecksRejectBadSHA(t *testing.T) {
	f := newFake(t)
	c, _ := f.client()
	for _, sha := range []string{"", "abc123", testSHA + "0", strings.Repeat("g", 40)} {
		_, err := c.CheckRunStates(context.Background(), sha)
		assert.ErrorContains(t, err, "not a 40-hex commit SHA", sha)
		_, err = c.StatusStates(context.Background(), sha)
		assert.ErrorContains(t, err, "not a 40-hex commit SHA", sha)
		_, err = c.Rollup(context.Background(), sha)
		assert.ErrorContains(t, err, "not a 40-hex commit SHA", sha)
	}
	assert.Equal(t, Cost{}, c.Cost())
}

func TestCheckRunStatesRESTFailureIsError(t *testing.T) {
	f := newFake(t)
	f.handle("/repos/o/r/commits/"+testSHA+"/check-runs", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusUnprocessableEntity, `{"message":"No commit found for SHA: `+testSHA+`"}`)
	})
	c, _ := f.client()
	_, err := c.CheckRunStates(context.Background(), testSHA)
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrNotFound)
	var api *APIError
	require.True(t, errors.As(err, &api))
	assert.Equal(t, "/repos/o/r/commits/"+testSHA+"/check-runs", api.Path)
	assert.Equal(t, http.StatusUnprocessableEntity, api.StatusCode)
}
