package github

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const deploymentPreviews = "application/vnd.github.ant-man-preview+json, application/vnd.github.flash-preview+json"

func deploymentJSON(id int64, created string) string {
	return fmt.Sprintf(`{"id":%d,"sha":"%s","ref":"v1.2.3-rc.1","task":"deploy","environment":"staging","description":"d%d",
		"payload":{"release_action":1,"commit":"%s"},"creator":{"login":"github-actions[bot]"},
		"created_at":%q,"updated_at":%q,"url":"https://api/deployments/%d","statuses_url":"x"}`,
		id, strings.ToUpper(testSHA), id, testSHA, created, created, id)
}

func TestCreateDeployment(t *testing.T) {
	f := newFake(t)
	var bodies []string
	f.handle("/repos/o/r/deployments", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodPost)
		assert.Equal(t, deploymentPreviews, r.Header.Get("Accept"))
		body := readBody(t, r)
		bodies = append(bodies, body)
		var req struct {
			Environment string `json:"environment"`
		}
		require.NoError(t, jsonUnmarshal(body, &req))
		switch req.Environment {
		case "staging", "production", "preview":
			writeJSON(w, http.StatusCreated, deploymentJSON(42, "2026-03-10T12:00:00Z"))
		case "checks":
			writeJSON(w, http.StatusConflict, `{"message":"Conflict: Commit status checks failed for main."}`)
		case "merged":
			writeJSON(w, http.StatusAccepted, `{"message":"Auto-merged main into topic-branch on deployment."}`)
		case "noid":
			writeJSON(w, http.StatusCreated, `{}`)
		default:
			t.Errorf("unexpected environment %q", req.Environment)
		}
	})
	c, _ := f.client()
	ctx := context.Background()

	payload := json.RawMessage(` {"release_action": 1, "commit": "` + testSHA + `", "tag": "v1.2.3-rc.1"} `)
	got, err := c.CreateDeployment(ctx, DeploymentRequest{Ref: "v1.2.3-rc.1", Environment: "staging", Description: "release-action: v1.2.3",
		Payload: payload})
	require.NoError(t, err)
	assert.Equal(t, Deployment{
		ID: 42, SHA: testSHA, Ref: "v1.2.3-rc.1", Environment: "staging", Task: "deploy", Description: "d42",
		Payload: json.RawMessage(`{"release_action":1,"commit":"` + testSHA + `"}`), Creator: "github-actions[bot]",
		CreatedAt: time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC), UpdatedAt: time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC),
		URL: "https://api/deployments/42",
	}, got)
	assert.JSONEq(t, `{"ref":"v1.2.3-rc.1","task":"deploy","auto_merge":false,"required_contexts":[],
		"payload":{"release_action":1,"commit":"`+testSHA+`","tag":"v1.2.3-rc.1"},
		"environment":"staging","description":"release-action: v1.2.3","transient_environment":false}`, bodies[0])

	_, err = c.CreateDeployment(ctx, DeploymentRequest{Ref: "v1", Environment: "production", Task: "deploy:migrate",
		ProductionEnvironment: new(true)})
	require.NoError(t, err)
	assert.JSONEq(t, `{"ref":"v1","task":"deploy:migrate","auto_merge":false,"required_contexts":[],
		"environment":"production","transient_environment":false,"production_environment":true}`, bodies[1])

	_, err = c.CreateDeployment(ctx, DeploymentRequest{Ref: "v1", Environment: "preview", TransientEnvironment: true,
		ProductionEnvironment: new(false)})
	require.NoError(t, err)
	assert.JSONEq(t, `{"ref":"v1","task":"deploy","auto_merge":false,"required_contexts":[],
		"environment":"preview","transient_environment":true,"production_environment":false}`, bodies[2])

	_, err = c.CreateDeployment(ctx, DeploymentRequest{Ref: "v1", Environment: "checks"})
	var api *APIError
	require.ErrorAs(t, err, &api)
	assert.Equal(t, http.StatusConflict, api.StatusCode)
	assert.ErrorContains(t, err, "create deployment of v1 to checks in o/r: POST /repos/o/r/deployments: 409 Conflict: "+
		"GitHub refused the deployment because of the commit's status checks (required contexts): Conflict: Commit status checks failed for main.")

	_, err = c.CreateDeployment(ctx, DeploymentRequest{Ref: "v1", Environment: "merged"})
	require.ErrorAs(t, err, &api)
	assert.Equal(t, http.StatusAccepted, api.StatusCode)
	assert.Equal(t, "POST", api.Method)
	assert.Contains(t, api.Message, "GitHub merged the default branch into the ref instead of creating a deployment: Auto-merged main")

	_, err = c.CreateDeployment(ctx, DeploymentRequest{Ref: "v1", Environment: "noid"})
	assert.ErrorContains(t, err, "the answer has no deployment id")
	assert.Len(t, bodies, 6)

	for _, tt := range []struct {
		r    DeploymentRequest
		want string
	}{
		{DeploymentRequest{Ref: "v1"}, "a ref and an environment are required"},
		{DeploymentRequest{Environment: "staging"}, "a ref and an environment are required"},
		{DeploymentRequest{Ref: "v1", Environment: "staging", Payload: json.RawMessage(`[1]`)}, "must be a JSON object"},
		{DeploymentRequest{Ref: "v1", Environment: "staging", Payload: json.RawMessage(`{"a":`)}, "must be a JSON object"},
	} {
		_, err := c.CreateDeployment(ctx, tt.r)
		assert.ErrorContains(t, err, tt.want)
	}
	assert.Len(t, bodies, 6, "invalid requests must not reach GitHub")
}

func TestListDeployments(t *testing.T) {
	f := newFake(t)
	f.handle("/repos/o/r/deployments", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodGet)
		q := r.URL.Query()
		page := q.Get("page")
		q.Del("page")
		if q.Get("environment") == "gone" {
			writeJSON(w, http.StatusNotFound, `{"message":"Not Found"}`)
			return
		}
		assert.Equal(t, url.Values{"environment": {"production"}, "sha": {testSHA}, "ref": {"v1"}, "task": {"deploy"}, "per_page": {"100"}}, q)
		switch page {
		case "1":
			linkNext(w, r, 2, 2)
			writeJSON(w, http.StatusOK, "["+deploymentJSON(3, "2026-03-10T10:00:00Z")+","+deploymentJSON(5, "2026-03-10T12:00:00Z")+"]")
		case "2":
			// 6 was created at the same instant as 5 (written with another offset): the id breaks the tie.
			writeJSON(w, http.StatusOK, "["+deploymentJSON(6, "2026-03-10T13:00:00+01:00")+","+deploymentJSON(9, "2026-03-09T00:00:00Z")+"]")
		default:
			t.Errorf("unexpected page %q", page)
		}
	})
	c, _ := f.client()
	ctx := context.Background()
	got, err := c.ListDeployments(ctx, DeploymentFilter{Environment: "production", SHA: testSHA, Ref: "v1", Task: "deploy"})
	require.NoError(t, err)
	var ids []int64
	for _, d := range got {
		ids = append(ids, d.ID)
		assert.Equal(t, time.UTC, d.CreatedAt.Location())
	}
	assert.Equal(t, []int64{6, 5, 3, 9}, ids)
	assert.Equal(t, 2, f.hitCount("/repos/o/r/deployments"))

	_, err = c.ListDeployments(ctx, DeploymentFilter{Environment: "gone"})
	assert.ErrorIs(t, err, ErrNotFound)
	assert.ErrorContains(t, err, "list deployments (environment=gone) in o/r (page 1)")
}

func TestListDeploymentStatuses(t *testing.T) {
	status := func(id int64, state, created string) string {
		return fmt.Sprintf(`{"id":%d,"state":%q,"description":"s%d","log_url":"https://gh/run/%d","environment_url":"https://stg",
			"creator":{"login":"bot"},"created_at":%q,"target_url":"ignored"}`, id, state, id, id, created)
	}
	f := newFake(t)
	f.handle("/repos/o/r/deployments/{id}/statuses", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodGet)
		assert.Equal(t, deploymentPreviews, r.Header.Get("Accept"))
		if r.PathValue("id") == "404" {
			writeJSON(w, http.StatusNotFound, `{"message":"Not Found"}`)
			return
		}
		assert.Equal(t, "42", r.PathValue("id"))
		q := r.URL.Query()
		assert.Equal(t, "100", q.Get("per_page"))
		switch q.Get("page") {
		case "1":
			linkNext(w, r, 2, 3)
			writeJSON(w, http.StatusOK, "["+status(1, "queued", "2026-03-10T12:00:00Z")+","+status(2, "in_progress", "2026-03-10T12:01:00Z")+"]")
		case "2":
			linkNext(w, r, 3, 3)
			writeJSON(w, http.StatusOK, "["+status(4, "failure", "2026-03-10T12:05:00Z")+"]")
		case "3":
			writeJSON(w, http.StatusOK, "["+status(3, "success", "2026-03-10T12:05:00Z")+"]")
		default:
			t.Errorf("unexpected page %q", q.Get("page"))
		}
	})
	c, _ := f.client()
	ctx := context.Background()
	got, err := c.ListDeploymentStatuses(ctx, 42)
	require.NoError(t, err)
	require.Len(t, got, 4)
	var ids []int64
	for _, s := range got {
		ids = append(ids, s.ID)
	}
	assert.Equal(t, []int64{4, 3, 2, 1}, ids)
	assert.Equal(t, DeploymentStatus{ID: 2, State: "in_progress", Description: "s2", LogURL: "https://gh/run/2",
		EnvironmentURL: "https://stg", Creator: "bot", CreatedAt: time.Date(2026, 3, 10, 12, 1, 0, 0, time.UTC)}, got[2])

	_, err = c.ListDeploymentStatuses(ctx, 404)
	assert.ErrorIs(t, err, ErrNotFound)
	assert.ErrorContains(t, err, "list statuses of deployment 404 in o/r (page 1)")
}

func TestCreateDeploymentStatus(t *testing.T) {
	f := newFake(t)
	var bodies []string
	f.handle("/repos/o/r/deployments/{id}/statuses", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodPost)
		assert.Equal(t, deploymentPreviews, r.Header.Get("Accept"))
		body := readBody(t, r)
		bodies = append(bodies, body)
		switch r.PathValue("id") {
		case "42":
			var req struct {
				State       string `json:"state"`
				Description string `json:"description"`
			}
			require.NoError(t, jsonUnmarshal(body, &req))
			writeJSON(w, http.StatusCreated, fmt.Sprintf(`{"id":900,"state":%q,"description":%q,"creator":{"login":"bot"},
				"created_at":"2026-03-10T12:00:00Z","log_url":"https://gh/run/7"}`, req.State, req.Description))
		case "43":
			writeJSON(w, http.StatusUnprocessableEntity, `{"message":"Validation Failed","errors":[{"resource":"DeploymentStatus","code":"custom","field":"state","message":"state is not included in the list"}]}`)
		default:
			t.Errorf("unexpected deployment %q", r.PathValue("id"))
		}
	})
	c, _ := f.client()
	ctx := context.Background()

	got, err := c.CreateDeploymentStatus(ctx, 42, DeploymentStatusRequest{State: "in_progress", Description: "release-action: deploying (run 7)",
		LogURL: "https://gh/run/7", EnvironmentURL: "https://stg.example", AutoInactive: new(false)})
	require.NoError(t, err)
	assert.Equal(t, DeploymentStatus{ID: 900, State: "in_progress", Description: "release-action: deploying (run 7)",
		LogURL: "https://gh/run/7", Creator: "bot", CreatedAt: time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)}, got)
	assert.JSONEq(t, `{"state":"in_progress","description":"release-action: deploying (run 7)","log_url":"https://gh/run/7",
		"environment_url":"https://stg.example","auto_inactive":false}`, bodies[0])

	// Nothing optional: only the state; auto_inactive nil is GitHub's default.
	_, err = c.CreateDeploymentStatus(ctx, 42, DeploymentStatusRequest{State: "success"})
	require.NoError(t, err)
	assert.JSONEq(t, `{"state":"success"}`, bodies[1])

	long := "release-action: deploy failed: " + strings.Repeat("é—", 100)
	got, err = c.CreateDeploymentStatus(ctx, 42, DeploymentStatusRequest{State: "failure", Description: long})
	require.NoError(t, err)
	var sent struct{ Description string }
	require.NoError(t, jsonUnmarshal(bodies[2], &sent))
	assert.Equal(t, 140, utf8.RuneCountInString(sent.Description))
	assert.True(t, strings.HasSuffix(sent.Description, "…"))
	assert.True(t, strings.HasPrefix(long, strings.TrimSuffix(sent.Description, "…")))
	assert.Equal(t, sent.Description, got.Description)

	_, err = c.CreateDeploymentStatus(ctx, 43, DeploymentStatusRequest{State: "queued"})
	assert.ErrorContains(t, err, "create queued status of deployment 43 in o/r: POST /repos/o/r/deployments/43/statuses: 422")
	assert.ErrorContains(t, err, "state is not included in the list")

	_, err = c.CreateDeploymentStatus(ctx, 42, DeploymentStatusRequest{State: "done"})
	assert.ErrorContains(t, err, `state "done" must be one of error, failure, inactive, in_progress, queued, pending, success`)
	assert.Len(t, bodies, 4)
}

func TestCutChars(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 140, "short"},
		{strings.Repeat("a", 140), 140, strings.Repeat("a", 140)},
		{strings.Repeat("a", 141), 140, strings.Repeat("a", 139) + "…"},
		{strings.Repeat("日", 141), 140, strings.Repeat("日", 139) + "…"},
		{"abcdé", 4, "abc…"},
		{"ab\xffcd", 10, "ab\uFFFDcd"},
		{"", 140, ""},
	}
	for _, tt := range tests {
		got := cutChars(tt.in, tt.n)
		assert.Equal(t, tt.want, got, tt.in)
		assert.True(t, utf8.ValidString(got))
		assert.LessOrEqual(t, utf8.RuneCountInString(got), tt.n)
	}
}

func TestPendingDeployments(t *testing.T) {
	f := newFake(t)
	f.handle("/repos/o/r/actions/runs/{id}/pending_deployments", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodGet)
		switch r.PathValue("id") {
		case "7":
			writeJSON(w, http.StatusOK, `[{
				"environment":{"id":1,"node_id":"E","name":"production","url":"x","html_url":"y"},
				"wait_timer":30,"wait_timer_started_at":"2026-03-10T12:00:00Z","current_user_can_approve":false,
				"reviewers":[
					{"type":"User","reviewer":{"login":"alice","id":1,"type":"User"}},
					{"type":"Team","reviewer":{"id":2,"name":"Release Managers","slug":"release-managers"}},
					{"type":"Team","reviewer":{"id":3,"slug":"sre","organization":{"login":"agentme-org"}}}
				]},
				{"environment":{"name":"staging"},"wait_timer":0,"current_user_can_approve":true,"reviewers":[]}]`)
		case "8":
			writeJSON(w, http.StatusOK, `[]`)
		default:
			writeJSON(w, http.StatusNotFound, `{"message":"Not Found"}`)
		}
	})
	c, _ := f.client()
	ctx := context.Background()
	got, err := c.PendingDeployments(ctx, 7)
	require.NoError(t, err)
	assert.Equal(t, []PendingDeployment{
		{Environment: "production", WaitTimer: 30, WaitTimerStartedAt: time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC),
			Reviewers: []string{"@alice", "@o/release-managers", "@agentme-org/sre"}},
		{Environment: "staging", CurrentUserCanApprove: true},
	}, got)

	got, err = c.PendingDeployments(ctx, 8)
	require.NoError(t, err)
	assert.Empty(t, got)

	_, err = c.PendingDeployments(ctx, 9)
	assert.True(t, errors.Is(err, ErrNotFound))
	assert.ErrorContains(t, err, "get pending deployments of run 9 in o/r")
}

func FuzzCutChars(f *testing.F) {
	for _, s := range []string{"", "release-action: deployed", strings.Repeat("é", 150), "a\xffb", strings.Repeat("x", 141)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := cutChars(s, maxStatusDescription)
		valid := strings.ToValidUTF8(s, "\uFFFD")
		if !utf8.ValidString(got) || utf8.RuneCountInString(got) > maxStatusDescription {
			t.Fatalf("cutChars(%q) = %q: not valid UTF-8 or over %d characters", s, got, maxStatusDescription)
		}
		if got != valid && !(strings.HasSuffix(got, "…") && strings.HasPrefix(valid, strings.TrimSuffix(got, "…"))) {
			t.Fatalf("cutChars(%q) = %q: not the input or a marked prefix of it", s, got)
		}
	})
}
