package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/clock"
)

func TestNewURLs(t *testing.T) {
	clk := clock.NewVirtual(testStart)
	tests := []struct {
		name, api, gql    string
		wantBase, wantGQL string
		wantErr           string
		repo              Repo
		noClock           bool
		token             bool
	}{
		{name: "github.com default", wantBase: "https://api.github.com/", wantGQL: "https://api.github.com/graphql"},
		{name: "github.com explicit", api: "https://api.github.com", gql: "https://api.github.com/graphql",
			wantBase: "https://api.github.com/", wantGQL: "https://api.github.com/graphql"},
		{name: "GHES without slash", api: "https://ghe.example/api/v3",
			wantBase: "https://ghe.example/api/v3/", wantGQL: "https://ghe.example/api/graphql"},
		{name: "GHES with slash", api: "https://ghe.example/api/v3/", gql: "https://ghe.example/api/graphql",
			wantBase: "https://ghe.example/api/v3/", wantGQL: "https://ghe.example/api/graphql"},
		{name: "relative API URL", api: "/api/v3", wantErr: "not an absolute http(s) URL"},
		{name: "credentials in URL", api: "https://user:pw@ghe.example/api/v3", wantErr: "must not carry credentials"},
		{name: "bad GraphQL URL", gql: "ghe.example/graphql", wantErr: "GraphQL URL"},
		{name: "bad repo", repo: Repo{Owner: "o/x", Name: "r"}, wantErr: "owner/name"},
		{name: "no clock", noClock: true, wantErr: "clock is required"},
		{name: "token over plain http", api: "http://ghe.example/api/v3", token: true, wantErr: "refusing to send the token over plain http to ghe.example"},
		{name: "anonymous over plain http", api: "http://ghe.example/api/v3",
			wantBase: "http://ghe.example/api/v3/", wantGQL: "http://ghe.example/api/graphql"},
		{name: "token over http to loopback", api: "http://127.0.0.1:8080/api/v3", token: true,
			wantBase: "http://127.0.0.1:8080/api/v3/", wantGQL: "http://127.0.0.1:8080/api/graphql"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			repo := tt.repo
			if repo == (Repo{}) {
				repo = Repo{Owner: "o", Name: "r"}
			}
			o := Options{APIURL: tt.api, GraphQLURL: tt.gql, Clock: clk}
			if tt.noClock {
				o.Clock = nil
			}
			if tt.token {
				o.Token = testToken
			}
			c, err := New(repo, o)
			if tt.wantErr != "" {
				assert.ErrorContains(t, err, tt.wantErr)
				if err != nil {
					assert.NotContains(t, err.Error(), "pw@")
					assert.NotContains(t, err.Error(), testToken)
				}
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantBase, c.rest.BaseURL())
			assert.Equal(t, tt.wantGQL, c.gqlURL.String())
			assert.Equal(t, repo, c.Repo())
		})
	}
}

func TestResolveCommit(t *testing.T) {
	f := newFake(t)
	f.handle("/repos/o/r/commits/{ref...}", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodGet)
		assert.Equal(t, "application/vnd.github.v3.sha", r.Header.Get("Accept"))
		switch r.PathValue("ref") {
		case "main", "release/1.x", "abc1234":
			_, _ = fmt.Fprint(w, strings.ToUpper(testSHA))
		case "nope":
			writeJSON(w, http.StatusUnprocessableEntity, `{"message":"No commit found for SHA: nope"}`)
		case "gone":
			writeJSON(w, http.StatusNotFound, `{"message":"Not Found"}`)
		case "weird":
			_, _ = fmt.Fprint(w, "<html>")
		case "json":
			// A server that ignores the sha media type answers the commit object.
			_, _ = fmt.Fprintf(w, `{"sha":%q,"commit":{"message":"m"}}`, testSHA)
		default:
			t.Errorf("unexpected ref %q", r.PathValue("ref"))
		}
	})
	c, _ := f.client()
	ctx := context.Background()
	for _, ref := range []string{"main", "release/1.x", "abc1234", "json"} {
		sha, err := c.ResolveCommit(ctx, ref)
		require.NoError(t, err, ref)
		assert.Equal(t, testSHA, sha)
	}
	for _, ref := range []string{"nope", "gone"} {
		_, err := c.ResolveCommit(ctx, ref)
		assert.ErrorIs(t, err, ErrNotFound, ref)
		assert.ErrorContains(t, err, fmt.Sprintf("resolve %q to a commit in o/r", ref))
	}
	_, err := c.ResolveCommit(ctx, "weird")
	assert.ErrorContains(t, err, "not a commit SHA")
	_, err = c.ResolveCommit(ctx, "  ")
	assert.ErrorContains(t, err, "empty ref")
}

func TestBranchesWhereHead(t *testing.T) {
	f := newFake(t)
	f.handle("/repos/o/r/commits/"+testSHA+"/branches-where-head", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodGet)
		writeJSON(w, http.StatusOK, `[{"name":"main","commit":{"sha":"`+testSHA+`"},"protected":true},{"name":"release/1.x"}]`)
	})
	c, _ := f.client()
	got, err := c.BranchesWhereHead(context.Background(), testSHA)
	require.NoError(t, err)
	assert.Equal(t, []string{"main", "release/1.x"}, got)
	_, err = c.BranchesWhereHead(context.Background(), "main")
	assert.ErrorContains(t, err, "not a 40-hex commit SHA")
}

func TestCreateRef(t *testing.T) {
	f := newFake(t)
	f.handle("/repos/o/r/git/refs", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodPost)
		var body struct{ Ref, SHA string }
		require.NoError(t, jsonDecode(r, &body))
		assert.Equal(t, testSHA, body.SHA)
		switch body.Ref {
		case "refs/heads/release-gate-tmp", "refs/tags/v1.2.3":
			writeJSON(w, http.StatusCreated, `{"ref":"`+body.Ref+`","object":{"sha":"`+testSHA+`","type":"commit"}}`)
		case "refs/tags/v1.0.0":
			writeJSON(w, http.StatusUnprocessableEntity, `{"message":"Reference already exists","documentation_url":"https://docs.github.com/rest/git/refs#create-a-reference","status":"422"}`)
		default:
			t.Errorf("unexpected ref %q", body.Ref)
		}
	})
	c, _ := f.client()
	ctx := context.Background()
	require.NoError(t, c.CreateRef(ctx, "refs/heads/release-gate-tmp", testSHA))
	require.NoError(t, c.CreateRef(ctx, "tags/v1.2.3", testSHA))

	err := c.CreateRef(ctx, "refs/tags/v1.0.0", testSHA)
	assert.ErrorIs(t, err, ErrAlreadyExists)
	assert.NotErrorIs(t, err, ErrNotFound)
	assert.ErrorContains(t, err, "create ref refs/tags/v1.0.0 at "+testSHA+" in o/r: POST /repos/o/r/git/refs: 422")
	assert.ErrorContains(t, err, "Reference already exists")

	assert.ErrorContains(t, c.CreateRef(ctx, "v1", testSHA), "must be refs/heads/<branch> or refs/tags/<tag>")
	assert.ErrorContains(t, c.CreateRef(ctx, "refs/tags/v1", "main"), "not a 40-hex commit SHA")
}

func TestDeleteRef(t *testing.T) {
	f := newFake(t)
	f.handle("/repos/o/r/git/refs/heads/{name...}", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodDelete)
		switch r.PathValue("name") {
		case "tmp/gate":
			w.WriteHeader(http.StatusNoContent)
		case "missing":
			writeJSON(w, http.StatusUnprocessableEntity, `{"message":"Reference does not exist"}`)
		default:
			t.Errorf("unexpected ref %q", r.PathValue("name"))
		}
	})
	c, _ := f.client()
	ctx := context.Background()
	require.NoError(t, c.DeleteRef(ctx, "refs/heads/tmp/gate"))
	require.NoError(t, c.DeleteRef(ctx, "heads/tmp/gate"))
	err := c.DeleteRef(ctx, "heads/missing")
	assert.ErrorIs(t, err, ErrNotFound)
	assert.ErrorContains(t, err, "delete ref refs/heads/missing in o/r")
	assert.ErrorContains(t, c.DeleteRef(ctx, "main"), "must be refs/heads/<branch>")
	assert.ErrorContains(t, c.DeleteRef(ctx, "heads/../tags/x"), "must be refs/heads/<branch>")
	assert.Equal(t, 3, f.hitCount("/repos/o/r/git/refs/heads/{name...}"))
}

func TestFindWorkflow(t *testing.T) {
	f := newFake(t)
	f.handle("/repos/o/r/actions/workflows", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodGet)
		q := r.URL.Query()
		assert.Equal(t, "100", q.Get("per_page"))
		switch q.Get("page") {
		case "1":
			linkNext(w, r, 2, 2)
			writeJSON(w, http.StatusOK, `{"total_count":4,"workflows":[
				{"id":1,"name":"CI","path":".github/workflows/ci.yml","state":"active"},
				{"id":2,"name":"Security Gate","path":".github/workflows/security.yml","state":"active"}]}`)
		case "2":
			writeJSON(w, http.StatusOK, `{"total_count":4,"workflows":[
				{"id":3,"name":"Install Smoke","path":".github/workflows/install-smoke.yml","state":"disabled_manually"},
				{"id":4,"name":"CI","path":".github/workflows/ci-nightly.yml","state":"active"},
				{"id":5,"name":"ci.yml","path":".github/workflows/other.yml","state":"active"}]}`)
		default:
			t.Errorf("unexpected page %q", q.Get("page"))
		}
	})
	c, _ := f.client()
	ctx := context.Background()
	tests := []struct {
		in       string
		wantID   int64
		wantErr  string
		notFound bool
	}{
		{in: "Security Gate", wantID: 2},
		{in: "Install Smoke", wantID: 3},
		{in: "install-smoke.yml", wantID: 3},
		{in: ".github/workflows/install-smoke.yml", wantID: 3},
		{in: "./.github/workflows/security.yml", wantID: 2},
		{in: "ci.yml", wantID: 1}, // the file wins over a workflow named "ci.yml"
		{in: "CI", wantErr: "2 workflows match (.github/workflows/ci.yml, .github/workflows/ci-nightly.yml): name the file instead"},
		{in: "Deploy", wantErr: `find workflow "Deploy" in o/r: no workflow has that name or file`, notFound: true},
		{in: "", wantErr: "empty name"},
	}
	for _, tt := range tests {
		wf, err := c.FindWorkflow(ctx, tt.in)
		if tt.wantErr != "" {
			assert.ErrorContains(t, err, tt.wantErr, tt.in)
			assert.Equal(t, tt.notFound, errors.Is(err, ErrNotFound), tt.in)
			continue
		}
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.wantID, wf.ID, tt.in)
	}
	wf, err := c.FindWorkflow(ctx, "Install Smoke")
	require.NoError(t, err)
	assert.Equal(t, Workflow{ID: 3, Name: "Install Smoke", Path: ".github/workflows/install-smoke.yml", State: "disabled_manually"}, wf)
}

func TestListWorkflowRuns(t *testing.T) {
	f := newFake(t)
	f.handle("/repos/o/r/actions/workflows/42/runs", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodGet)
		testQuery(t, r, url.Values{
			"head_sha": {testSHA}, "event": {"workflow_dispatch"}, "branch": {"main"},
			"created": {">=2026-03-10T11:00:00Z"}, "per_page": {"100"},
		})
		writeJSON(w, http.StatusOK, `{"total_count":3,"workflow_runs":[
			{"id":7,"name":"Install Smoke","workflow_id":42,"head_sha":"`+testSHA+`","head_branch":"main","event":"workflow_dispatch",
			 "status":"completed","conclusion":"success","run_number":3,"run_attempt":1,"html_url":"https://gh/run/7",
			 "created_at":"2026-03-10T11:10:00Z","updated_at":"2026-03-10T11:20:00Z"},
			{"id":9,"name":"Install Smoke","workflow_id":42,"status":"queued","run_number":5,"run_attempt":2,
			 "created_at":"2026-03-10T11:30:00+02:00","updated_at":"2026-03-10T11:30:00Z"},
			{"id":8,"name":"Install Smoke","workflow_id":42,"status":"in_progress","run_number":4,"run_attempt":1,
			 "created_at":"2026-03-10T11:40:00Z","updated_at":"2026-03-10T11:41:00Z"}]}`)
	})
	c, _ := f.client()
	runs, err := c.ListWorkflowRuns(context.Background(), 42, RunFilter{
		HeadSHA: testSHA, Event: "workflow_dispatch", Branch: "main",
		CreatedSince: time.Date(2026, 3, 10, 13, 0, 0, 0, time.FixedZone("x", 2*3600)),
	})
	require.NoError(t, err)
	require.Len(t, runs, 3)
	assert.Equal(t, []int64{8, 7, 9}, []int64{runs[0].ID, runs[1].ID, runs[2].ID}, "newest first")
	assert.Equal(t, WorkflowRun{
		ID: 7, Name: "Install Smoke", WorkflowID: 42, HeadSHA: testSHA, HeadBranch: "main", Event: "workflow_dispatch",
		Status: "completed", Conclusion: "success", RunNumber: 3, RunAttempt: 1, HTMLURL: "https://gh/run/7",
		CreatedAt: time.Date(2026, 3, 10, 11, 10, 0, 0, time.UTC), UpdatedAt: time.Date(2026, 3, 10, 11, 20, 0, 0, time.UTC),
	}, runs[1])
}

func TestListWorkflowRunsNoFilter(t *testing.T) {
	f := newFake(t)
	f.handle("/repos/o/r/actions/workflows/42/runs", func(w http.ResponseWriter, r *http.Request) {
		testQuery(t, r, url.Values{"per_page": {"100"}})
		writeJSON(w, http.StatusOK, `{"total_count":0,"workflow_runs":[]}`)
	})
	c, _ := f.client()
	runs, err := c.ListWorkflowRuns(context.Background(), 42, RunFilter{})
	require.NoError(t, err)
	assert.Empty(t, runs)
}

func TestGetWorkflowRun(t *testing.T) {
	f := newFake(t)
	f.handle("/repos/o/r/actions/runs/{id}", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodGet)
		if r.PathValue("id") == "404" {
			writeJSON(w, http.StatusNotFound, `{"message":"Not Found"}`)
			return
		}
		writeJSON(w, http.StatusOK, `{"id":7,"name":"Deploy","workflow_id":3,"head_sha":"`+testSHA+`","event":"workflow_dispatch",
			"status":"waiting","run_number":9,"run_attempt":2,"created_at":"2026-03-10T11:10:00Z"}`)
	})
	c, _ := f.client()
	run, err := c.GetWorkflowRun(context.Background(), 7)
	require.NoError(t, err)
	assert.Equal(t, WorkflowRun{ID: 7, Name: "Deploy", WorkflowID: 3, HeadSHA: testSHA, Event: "workflow_dispatch",
		Status: "waiting", RunNumber: 9, RunAttempt: 2, CreatedAt: time.Date(2026, 3, 10, 11, 10, 0, 0, time.UTC)}, run)
	_, err = c.GetWorkflowRun(context.Background(), 404)
	assert.ErrorIs(t, err, ErrNotFound)
	assert.ErrorContains(t, err, "get workflow run 404 in o/r: GET /repos/o/r/actions/runs/404: 404 Not Found: Not Found")
}

func TestEmptyAnswersAreErrors(t *testing.T) {
	f := newFake(t)
	f.handle("/repos/o/r/actions/runs/7/jobs", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	f.handle("/repos/o/r/actions/runs/7", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, "null") })
	c, _ := f.client()
	_, err := c.ListJobs(context.Background(), 7)
	assert.ErrorContains(t, err, "list jobs of run 7 in o/r (page 1): GitHub answered without a body")
	_, err = c.GetWorkflowRun(context.Background(), 7)
	assert.ErrorContains(t, err, "get workflow run 7 in o/r: GitHub answered without a body")
}

func TestDispatchWorkflowWithRunDetails(t *testing.T) {
	f := newFake(t)
	f.handle("/repos/o/r/actions/workflows/42/dispatches", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodPost)
		testJSONBody(t, r, `{"ref":"main","inputs":{"environment":"staging","deployment_id":"17"},"return_run_details":true}`)
		writeJSON(w, http.StatusOK, `{"workflow_run_id":9001,"run_url":"https://api/run/9001","html_url":"https://gh/run/9001"}`)
	})
	c, _ := f.client()
	res, err := c.DispatchWorkflow(context.Background(), 42, "main", map[string]string{"environment": "staging", "deployment_id": "17"})
	require.NoError(t, err)
	assert.Equal(t, DispatchResult{RunID: 9001, RunURL: "https://api/run/9001", HTMLURL: "https://gh/run/9001"}, res)
}

func TestDispatchWorkflowFallback(t *testing.T) {
	f := newFake(t)
	calls := 0
	f.handle("/repos/o/r/actions/workflows/42/dispatches", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodPost)
		calls++
		if calls == 1 {
			testJSONBody(t, r, `{"ref":"v1.2.3","return_run_details":true}`)
			writeJSON(w, http.StatusBadRequest, `{"message":"Invalid request.\n\n\"return_run_details\" is not a permitted key.","documentation_url":"https://docs.github.com/enterprise-server@3.19/rest"}`)
			return
		}
		testJSONBody(t, r, `{"ref":"v1.2.3"}`)
		w.WriteHeader(http.StatusNoContent)
	})
	c, _ := f.client()
	res, err := c.DispatchWorkflow(context.Background(), 42, "v1.2.3", nil)
	require.NoError(t, err)
	assert.Equal(t, DispatchResult{}, res)
	assert.Equal(t, 2, calls)
}

func TestDispatchWorkflowErrors(t *testing.T) {
	f := newFake(t)
	f.handle("/repos/o/r/actions/workflows/42/dispatches", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusUnprocessableEntity, `{"message":"Workflow does not have 'workflow_dispatch' trigger"}`)
	})
	c, _ := f.client()
	_, err := c.DispatchWorkflow(context.Background(), 42, "main", nil)
	assert.ErrorContains(t, err, "dispatch workflow 42 on main in o/r: POST /repos/o/r/actions/workflows/42/dispatches: 422")
	assert.ErrorContains(t, err, "does not have 'workflow_dispatch' trigger")
	assert.Equal(t, 1, f.hitCount("/repos/o/r/actions/workflows/42/dispatches"), "a 422 not about return_run_details is not sent again")

	many := map[string]string{}
	for i := range 26 {
		many[fmt.Sprint("k", i)] = "v"
	}
	_, err = c.DispatchWorkflow(context.Background(), 42, "main", many)
	assert.ErrorContains(t, err, "26 inputs, GitHub accepts at most 25")
	_, err = c.DispatchWorkflow(context.Background(), 42, "", nil)
	assert.ErrorContains(t, err, "empty ref")
}

const jobJSON = `{"id":%d,"run_id":7,"name":"%s","status":"completed","conclusion":"success",
	"started_at":"2026-03-10T11:00:00Z","completed_at":"2026-03-10T11:05:00Z","html_url":"https://gh/job/%d","runner_name":"r1",
	"steps":[{"name":"Set up job","status":"completed","conclusion":"success","number":1,"started_at":"2026-03-10T11:00:00Z","completed_at":"2026-03-10T11:00:05Z"},
	         {"name":"Security regression tests","status":"completed","conclusion":"failure","number":2,"started_at":"2026-03-10T11:00:05Z","completed_at":"2026-03-10T11:05:00Z"}]}`

func TestListJobsPaginates(t *testing.T) {
	f := newFake(t)
	f.handle("/repos/o/r/actions/runs/7/jobs", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodGet)
		q := r.URL.Query()
		assert.Equal(t, "latest", q.Get("filter"))
		assert.Equal(t, "100", q.Get("per_page"))
		switch q.Get("page") {
		case "1":
			linkNext(w, r, 2, 2)
			writeJSON(w, http.StatusOK, `{"total_count":2,"jobs":[`+fmt.Sprintf(jobJSON, 1, "hardening", 1)+`]}`)
		case "2":
			writeJSON(w, http.StatusOK, `{"total_count":2,"jobs":[`+fmt.Sprintf(jobJSON, 2, "lint", 2)+`]}`)
		default:
			t.Errorf("unexpected page %q", q.Get("page"))
		}
	})
	c, _ := f.client()
	jobs, err := c.ListJobs(context.Background(), 7)
	require.NoError(t, err)
	require.Len(t, jobs, 2)
	at := func(m, s int) time.Time { return time.Date(2026, 3, 10, 11, m, s, 0, time.UTC) }
	assert.Equal(t, Job{
		ID: 1, RunID: 7, Name: "hardening", Status: "completed", Conclusion: "success",
		StartedAt: at(0, 0), CompletedAt: at(5, 0), HTMLURL: "https://gh/job/1", RunnerName: "r1",
		Steps: []Step{
			{Name: "Set up job", Number: 1, Status: "completed", Conclusion: "success", StartedAt: at(0, 0), CompletedAt: at(0, 5)},
			{Name: "Security regression tests", Number: 2, Status: "completed", Conclusion: "failure", StartedAt: at(0, 5), CompletedAt: at(5, 0)},
		},
	}, jobs[0])
	assert.Equal(t, "lint", jobs[1].Name)
	assert.Equal(t, 2, f.hitCount("/repos/o/r/actions/runs/7/jobs"))
}

func TestGetJob(t *testing.T) {
	f := newFake(t)
	f.handle("/repos/o/r/actions/jobs/5", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodGet)
		writeJSON(w, http.StatusOK, fmt.Sprintf(jobJSON, 5, "hardening", 5))
	})
	c, _ := f.client()
	job, err := c.GetJob(context.Background(), 5)
	require.NoError(t, err)
	assert.Equal(t, int64(5), job.ID)
	assert.Len(t, job.Steps, 2)
}

// blobServer is a second host, like GitHub's log and artifact storage. It fails the test if
// it ever sees an Authorization header.
func blobServer(t *testing.T, h http.HandlerFunc) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assert.Empty(t, r.Header.Get("Authorization"), "the token must not reach the blob host")
		assert.Equal(t, "SIGNED", r.URL.Query().Get("sig"))
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestJobLogFollowsRedirectWithoutToken(t *testing.T) {
	blob := blobServer(t, func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodGet)
		_, _ = fmt.Fprint(w, "2026-03-10T11:00:00.0000000Z ✓ src/gateway/auth.test.ts (12 tests)\n")
	})
	f := newFake(t)
	f.handle("/repos/o/r/actions/jobs/5/logs", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodGet)
		http.Redirect(w, r, blob.URL+"/logs/5.txt?sig=SIGNED", http.StatusFound)
	})
	c, _ := f.client()
	log, err := c.JobLog(context.Background(), 5)
	require.NoError(t, err)
	assert.Contains(t, string(log), "src/gateway/auth.test.ts")
	assert.Equal(t, 1, c.Cost().REST, "the blob download is not an API request")
}

func TestJobLogErrors(t *testing.T) {
	blob := blobServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "AuthenticationFailed", http.StatusForbidden)
	})
	f := newFake(t)
	f.handle("/repos/o/r/actions/jobs/{id}/logs", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") == "404" {
			writeJSON(w, http.StatusNotFound, `{"message":"Not Found"}`)
			return
		}
		http.Redirect(w, r, blob.URL+"/logs/5.txt?sig=SIGNED", http.StatusFound)
	})
	c, _ := f.client()
	_, err := c.JobLog(context.Background(), 404)
	assert.ErrorIs(t, err, ErrNotFound)
	assert.ErrorContains(t, err, "get log of job 404 in o/r")

	_, err = c.JobLog(context.Background(), 5)
	require.Error(t, err)
	assert.ErrorContains(t, err, "download log of job 5 in o/r: GET "+blob.URL+"/logs/5.txt: answered 403 Forbidden")
	assert.NotContains(t, err.Error(), "SIGNED", "the signed URL's query stays out of errors")
}

func TestDownloadCap(t *testing.T) {
	blob := blobServer(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = fmt.Fprint(w, strings.Repeat("x", 11))
	})
	f := newFake(t)
	c, _ := f.client()
	u, err := url.Parse(blob.URL + "/a?sig=SIGNED")
	require.NoError(t, err)
	b, err := c.download(context.Background(), u, 11)
	require.NoError(t, err)
	assert.Len(t, b, 11)
	_, err = c.download(context.Background(), u, 10)
	assert.ErrorContains(t, err, "refusing to hold it in memory")
}

func TestArtifacts(t *testing.T) {
	blob := blobServer(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("PK\x03\x04zip"))
	})
	f := newFake(t)
	f.handle("/repos/o/r/actions/runs/7/artifacts", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodGet)
		q := r.URL.Query()
		assert.Equal(t, "100", q.Get("per_page"))
		if q.Get("page") == "1" {
			linkNext(w, r, 2, 2)
			writeJSON(w, http.StatusOK, `{"total_count":2,"artifacts":[{"id":3,"name":"vitest-junit","size_in_bytes":1234,"expired":false}]}`)
			return
		}
		writeJSON(w, http.StatusOK, `{"total_count":2,"artifacts":[{"id":4,"name":"old","size_in_bytes":1,"expired":true}]}`)
	})
	f.handle("/repos/o/r/actions/artifacts/3/zip", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodGet)
		http.Redirect(w, r, blob.URL+"/zip/3?sig=SIGNED", http.StatusFound)
	})
	c, _ := f.client()
	arts, err := c.ListArtifacts(context.Background(), 7)
	require.NoError(t, err)
	assert.Equal(t, []Artifact{{ID: 3, Name: "vitest-junit", SizeBytes: 1234}, {ID: 4, Name: "old", SizeBytes: 1, Expired: true}}, arts)
	zip, err := c.DownloadArtifact(context.Background(), 3)
	require.NoError(t, err)
	assert.Equal(t, "PK\x03\x04zip", string(zip))
}

func TestCheckRuns(t *testing.T) {
	f := newFake(t)
	f.handle("/repos/o/r/check-runs", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodPost)
		testJSONBody(t, r, `{"name":"release-gate","head_sha":"`+testSHA+`","status":"in_progress","external_id":"gate-1",
			"details_url":"https://gh/run/1","output":{"title":"Waiting on 3 gates","summary":"Waiting on 3 gates"}}`)
		writeJSON(w, http.StatusCreated, `{"id":321,"name":"release-gate"}`)
	})
	f.handle("/repos/o/r/check-runs/321", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodPatch)
		testJSONBody(t, r, `{"name":"release-gate","status":"completed","conclusion":"failure","completed_at":"2026-03-10T12:00:00Z",
			"output":{"title":"Blocked","summary":"Install Smoke failed","text":"details"}}`)
		writeJSON(w, http.StatusOK, `{"id":321}`)
	})
	c, _ := f.client()
	ctx := context.Background()
	id, err := c.CreateCheckRun(ctx, CheckRunUpdate{Name: "release-gate", HeadSHA: testSHA, Status: "in_progress",
		ExternalID: "gate-1", DetailsURL: "https://gh/run/1", Output: CheckRunOutput{Title: "Waiting on 3 gates"}})
	require.NoError(t, err)
	assert.Equal(t, int64(321), id)
	require.NoError(t, c.UpdateCheckRun(ctx, 321, CheckRunUpdate{Name: "release-gate", Status: "completed", Conclusion: "failure",
		Output: CheckRunOutput{Title: "Blocked", Summary: "Install Smoke failed", Text: "details"}}))

	_, err = c.CreateCheckRun(ctx, CheckRunUpdate{Name: "x", HeadSHA: testSHA, Status: "completed"})
	assert.ErrorContains(t, err, "needs a conclusion")
	assert.ErrorContains(t, c.UpdateCheckRun(ctx, 321, CheckRunUpdate{Status: "in_progress"}), "a name is required")
}

func TestCheckOutputTruncates(t *testing.T) {
	out := (&Client{}).checkOutput(CheckRunUpdate{Name: "n", Output: CheckRunOutput{Summary: strings.Repeat("é", 40000), Text: strings.Repeat("a", 70000)}})
	require.NotNil(t, out)
	assert.Equal(t, "n", out.GetTitle())
	assert.LessOrEqual(t, len(out.GetSummary()), maxOutputText)
	assert.LessOrEqual(t, len(out.GetText()), maxOutputText)
	assert.True(t, strings.HasSuffix(out.GetText(), "…"))
	assert.Nil(t, (&Client{}).checkOutput(CheckRunUpdate{Name: "n"}))
}
