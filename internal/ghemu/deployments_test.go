package ghemu_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/agentme/release-action/internal/ghemu"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type deployment struct {
	ID                    int64           `json:"id"`
	SHA                   string          `json:"sha"`
	Ref                   string          `json:"ref"`
	Task                  string          `json:"task"`
	Payload               json.RawMessage `json:"payload"`
	Environment           string          `json:"environment"`
	OriginalEnvironment   string          `json:"original_environment"`
	Description           string          `json:"description"`
	ProductionEnvironment bool            `json:"production_environment"`
	TransientEnvironment  bool            `json:"transient_environment"`
	CreatedAt             string          `json:"created_at"`
	UpdatedAt             string          `json:"updated_at"`
	StatusesURL           string          `json:"statuses_url"`
	URL                   string          `json:"url"`
	Creator               struct {
		Login string `json:"login"`
	} `json:"creator"`
}

type deploymentStatus struct {
	ID             int64  `json:"id"`
	State          string `json:"state"`
	Description    string `json:"description"`
	Environment    string `json:"environment"`
	LogURL         string `json:"log_url"`
	TargetURL      string `json:"target_url"`
	EnvironmentURL string `json:"environment_url"`
	CreatedAt      string `json:"created_at"`
	DeploymentURL  string `json:"deployment_url"`
	Creator        struct {
		Login string `json:"login"`
	} `json:"creator"`
}

// deploy creates a deployment the way the client does (required_contexts [], auto_merge
// false) with extra fields merged in, and requires 201.
func (e *env) deploy(extra map[string]any) deployment {
	e.t.Helper()
	body := map[string]any{"ref": "main", "auto_merge": false, "required_contexts": []string{}, "environment": "staging"}
	for k, v := range extra {
		body[k] = v
	}
	r := e.do("POST", "/deployments", body)
	require.Equal(e.t, http.StatusCreated, r.StatusCode, string(r.body))
	var d deployment
	r.json(e.t, &d)
	return d
}

func (e *env) deployStatus(id int64, body map[string]any) deploymentStatus {
	e.t.Helper()
	r := e.do("POST", fmt.Sprintf("/deployments/%d/statuses", id), body)
	require.Equal(e.t, http.StatusCreated, r.StatusCode, string(r.body))
	var st deploymentStatus
	r.json(e.t, &st)
	return st
}

func TestCreateDeployment(t *testing.T) {
	tests := []struct {
		name       string
		setup      func(e *env)
		body       map[string]any
		wantStatus int
		wantMsg    string
		check      func(t *testing.T, d deployment)
	}{
		{name: "branch", body: map[string]any{"ref": "main", "required_contexts": []string{}}, wantStatus: 201,
			check: func(t *testing.T, d deployment) {
				assert.Equal(t, shaA, d.SHA)
				assert.Equal(t, "main", d.Ref)
				assert.Equal(t, "deploy", d.Task)
				assert.Equal(t, "production", d.Environment, "environment defaults to production")
				assert.True(t, d.ProductionEnvironment, "production_environment defaults to environment == production")
				assert.JSONEq(t, `{}`, string(d.Payload))
				assert.Equal(t, "github-actions[bot]", d.Creator.Login)
				assert.Equal(t, d.URL+"/statuses", d.StatusesURL)
				assert.Equal(t, t0.Format(time.RFC3339), d.CreatedAt)
			}},
		{name: "lightweight tag", body: map[string]any{"ref": "v1-light", "required_contexts": []string{}}, wantStatus: 201,
			check: func(t *testing.T, d deployment) { assert.Equal(t, shaB, d.SHA) }},
		{name: "annotated tag", body: map[string]any{"ref": "v1-rc.1", "required_contexts": []string{}, "environment": "staging",
			"task": "deploy:release", "description": "release-action: v1-rc.1", "production_environment": false,
			"payload": map[string]any{"release_action": 1, "commit": shaC}}, wantStatus: 201,
			check: func(t *testing.T, d deployment) {
				assert.Equal(t, shaC, d.SHA, "an annotated tag deploys its commit")
				assert.Equal(t, "v1-rc.1", d.Ref)
				assert.Equal(t, "staging", d.Environment)
				assert.Equal(t, "staging", d.OriginalEnvironment)
				assert.Equal(t, "deploy:release", d.Task)
				assert.Equal(t, "release-action: v1-rc.1", d.Description)
				assert.False(t, d.ProductionEnvironment)
				assert.JSONEq(t, `{"release_action":1,"commit":"`+shaC+`"}`, string(d.Payload))
			}},
		{name: "full sha", body: map[string]any{"ref": shaB, "required_contexts": []string{}}, wantStatus: 201,
			check: func(t *testing.T, d deployment) { assert.Equal(t, shaB, d.SHA) }},
		{name: "short sha", body: map[string]any{"ref": shaB[:7], "required_contexts": []string{}}, wantStatus: 201,
			check: func(t *testing.T, d deployment) { assert.Equal(t, shaB, d.SHA) }},
		{name: "payload as a string stays a string", body: map[string]any{"ref": "main", "required_contexts": []string{},
			"payload": `{"a":1}`, "transient_environment": true}, wantStatus: 201,
			check: func(t *testing.T, d deployment) {
				assert.JSONEq(t, `"{\"a\":1}"`, string(d.Payload))
				assert.True(t, d.TransientEnvironment)
			}},
		{name: "unknown ref", body: map[string]any{"ref": "nope", "required_contexts": []string{}}, wantStatus: 422,
			wantMsg: "No ref found for: nope"},
		{name: "no ref", body: map[string]any{"environment": "staging"}, wantStatus: 422,
			wantMsg: "Invalid request.\n\n\"ref\" wasn't supplied."},
		{name: "payload neither object nor string", body: map[string]any{"ref": "main", "payload": 3}, wantStatus: 422},
		{name: "required_contexts absent with a pending check", setup: func(e *env) {
			e.s.AddRun("CI", shaA, "push", ghemu.JobSpec{Name: "check", RunFor: time.Hour})
		}, body: map[string]any{"ref": "main"}, wantStatus: 409, wantMsg: "Conflict: Commit status checks failed for main."},
		{name: "required_contexts null with a failed status", setup: func(e *env) {
			e.s.AddStatus(shaA, "ci/external", "failure", "", "")
		}, body: map[string]any{"ref": "main", "required_contexts": nil}, wantStatus: 409,
			wantMsg: "Conflict: Commit status checks failed for main."},
		{name: "required_contexts [] bypasses a pending check", setup: func(e *env) {
			e.s.AddRun("CI", shaA, "push", ghemu.JobSpec{Name: "check", RunFor: time.Hour})
		}, body: map[string]any{"ref": "main", "required_contexts": []string{}}, wantStatus: 201},
		{name: "required_contexts absent with every check passed", setup: func(e *env) {
			e.s.AddRun("CI", shaA, "push", ghemu.JobSpec{Name: "check", RunFor: time.Minute})
			e.s.AddStatus(shaA, "ci/external", "success", "", "")
			e.clk.Advance(2 * time.Minute)
		}, body: map[string]any{"ref": "main"}, wantStatus: 201},
		{name: "required_contexts names a passed check while another is pending", setup: func(e *env) {
			e.s.AddRun("CI", shaA, "push", ghemu.JobSpec{Name: "check", RunFor: time.Minute},
				ghemu.JobSpec{Name: "slow", RunFor: time.Hour})
			e.clk.Advance(2 * time.Minute)
		}, body: map[string]any{"ref": "main", "required_contexts": []string{"check"}}, wantStatus: 201},
		{name: "required_contexts names a missing context", body: map[string]any{"ref": "main",
			"required_contexts": []string{"ci/never"}}, wantStatus: 409, wantMsg: "Conflict: Commit status checks failed for main."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, ghemu.Options{})
			e.s.LoadAgentMe(shaA)
			e.s.AddTag("v1-light", shaB)
			e.s.AddAnnotatedTag("v1-rc.1", shaC, "rc")
			if tc.setup != nil {
				tc.setup(e)
			}
			r := e.do("POST", "/deployments", tc.body)
			require.Equal(t, tc.wantStatus, r.StatusCode, string(r.body))
			if tc.wantStatus != 201 {
				if tc.wantMsg != "" {
					assert.Equal(t, tc.wantMsg, r.message(t))
				}
				if tc.wantStatus == 409 {
					var c struct {
						Errors []struct {
							Resource, Field, Code string
							Contexts              []struct{ Context, State string }
						}
					}
					r.json(t, &c)
					require.Len(t, c.Errors, 1)
					assert.Equal(t, "required_contexts", c.Errors[0].Field)
					assert.NotEmpty(t, c.Errors[0].Contexts)
				}
				assert.Empty(t, e.s.Deployments())
				return
			}
			var d deployment
			r.json(t, &d)
			assert.Equal(t, d.URL, r.Header.Get("Location"))
			if tc.check != nil {
				tc.check(t, d)
			}
			var again deployment
			e.getJSON(fmt.Sprintf("/deployments/%d", d.ID), &again)
			assert.Equal(t, d, again)
			ds := e.s.Deployments()
			require.Len(t, ds, 1)
			assert.Equal(t, d.ID, ds[0].ID)
			assert.Equal(t, d.SHA, ds[0].SHA)
			assert.Empty(t, ds[0].RunIDs, "GITHUB_TOKEN semantics: no deployment workflow runs")
		})
	}
}

func TestConflictNamesEachContext(t *testing.T) {
	e := newEnv(t, ghemu.Options{})
	e.s.LoadAgentMe(shaA)
	ci := e.s.AddRun("CI", shaA, "push", ghemu.JobSpec{Name: "check", RunFor: time.Minute, Conclusion: "failure"},
		ghemu.JobSpec{Name: "lint", RunFor: time.Minute})
	e.s.AddStatus(shaA, "ci/external", "pending", "", "")
	e.clk.Advance(2 * time.Minute)
	r := e.do("POST", "/deployments", map[string]any{"ref": "main"})
	require.Equal(t, http.StatusConflict, r.StatusCode)
	assert.JSONEq(t, `[{"contexts":[{"context":"check","state":"failure"},{"context":"lint","state":"success"},
		{"context":"ci/external","state":"pending"}],"resource":"Deployment","field":"required_contexts","code":"invalid"}]`,
		string(jsonField(t, r.body, "errors")))

	other := e.s.AddRun("Nightly", shaA, "schedule", ghemu.JobSpec{Name: "check", RunFor: time.Minute})
	e.s.AddStatus(shaA, "ci/external", "success", "", "")
	e.clk.Advance(2 * time.Minute)
	r = e.do("POST", "/deployments", map[string]any{"ref": "main"})
	assert.Equal(t, http.StatusConflict, r.StatusCode, "another workflow's passing check does not hide a failure")
	r = e.do("POST", "/deployments", map[string]any{"ref": "main", "required_contexts": []string{"check"}})
	var c struct {
		Errors []struct {
			Contexts []struct{ Context, State string }
		}
	}
	r.json(t, &c)
	require.Len(t, c.Errors, 1)
	assert.Equal(t, []struct{ Context, State string }{{"check", "failure"}, {"check", "success"}}, c.Errors[0].Contexts,
		"a named context lists every check run of that name")

	e.s.Rerun(ci.ID, ghemu.JobSpec{Name: "check", RunFor: time.Minute})
	e.clk.Advance(2 * time.Minute)
	r = e.do("POST", "/deployments", map[string]any{"ref": "main"})
	assert.Equal(t, http.StatusCreated, r.StatusCode, "a re-run that passed replaces its failed attempt: %s", r.body)
	assert.NotZero(t, other.ID)
}

func jsonField(t *testing.T, body []byte, field string) json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(body, &m))
	return m[field]
}

func TestListDeploymentsPaginatedNewestFirst(t *testing.T) {
	e := newEnv(t, ghemu.Options{})
	e.s.LoadAgentMe(shaA)
	e.s.AddCommit(shaB)
	var staging []int64 // newest first
	for i := range 250 {
		env, ref := "staging", "main"
		if i%5 == 4 {
			env, ref = "production", shaB
		}
		d := e.deploy(map[string]any{"environment": env, "ref": ref})
		if env == "staging" {
			staging = append([]int64{d.ID}, staging...)
		}
		if i%50 == 0 {
			e.clk.Advance(time.Second)
		}
	}
	require.Len(t, staging, 200)

	tests := []struct {
		name      string
		query     string
		wantIDs   []int64
		wantPages int
	}{
		{"environment, 100 per page", "?environment=staging&per_page=100", staging, 2},
		{"default page size", "?environment=staging", staging, 7},
		{"sha", "?sha=" + shaB + "&per_page=100", nil, 1},
		{"ref and task", "?ref=" + shaB + "&task=deploy&per_page=100", nil, 1},
		{"unknown task", "?task=migrate", []int64{}, 1},
		{"everything", "?per_page=100", nil, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []int64
			var created []string
			next := e.api + "/deployments" + tc.query
			pages := 0
			for next != "" {
				var page []deployment
				r := e.getJSON(next, &page)
				pages++
				for _, d := range page {
					got = append(got, d.ID)
					created = append(created, d.CreatedAt)
				}
				next = links(r.Header.Get("Link"))["next"]
			}
			assert.Equal(t, tc.wantPages, pages)
			if tc.wantIDs != nil {
				assert.Equal(t, len(tc.wantIDs), len(got))
				if len(tc.wantIDs) > 0 {
					assert.Equal(t, tc.wantIDs, got)
				}
			}
			if strings.Contains(tc.query, shaB) {
				assert.Len(t, got, 50)
			}
			for i := 1; i < len(got); i++ {
				assert.Greater(t, got[i-1], got[i], "newest first")
				assert.GreaterOrEqual(t, created[i-1], created[i])
			}
		})
	}
}

func TestDeploymentStatuses(t *testing.T) {
	e := newEnv(t, ghemu.Options{})
	e.s.LoadAgentMe(shaA)
	d := e.deploy(nil)
	other := e.deploy(nil)

	e.clk.Advance(time.Minute)
	st := e.deployStatus(d.ID, map[string]any{"state": "in_progress", "description": "release-action: deploying (run 7)",
		"log_url": "https://example.test/runs/7"})
	assert.Equal(t, "in_progress", st.State)
	assert.Equal(t, "https://example.test/runs/7", st.LogURL)
	assert.Equal(t, st.LogURL, st.TargetURL, "target_url mirrors log_url")
	assert.Equal(t, "staging", st.Environment)
	assert.Equal(t, "github-actions[bot]", st.Creator.Login)
	assert.Equal(t, d.URL, st.DeploymentURL)
	assert.Equal(t, t0.Add(time.Minute).Format(time.RFC3339), st.CreatedAt)
	var dd deployment
	e.getJSON(fmt.Sprintf("/deployments/%d", d.ID), &dd)
	assert.Equal(t, st.CreatedAt, dd.UpdatedAt, "a status updates its deployment")

	tests := []struct {
		name       string
		body       any
		wantStatus int
		wantMsg    string
	}{
		{"140 characters", map[string]any{"state": "success", "description": strings.Repeat("é", 140),
			"environment_url": "https://staging.agentme.example"}, 201, ""},
		{"141 characters", map[string]any{"state": "failure", "description": strings.Repeat("x", 141)}, 422, "Validation Failed"},
		{"bad state", map[string]any{"state": "done"}, 422,
			`Invalid request.` + "\n\n" + `"done" is not a member of ["error", "failure", "inactive", "in_progress", "queued", "pending", "success"].`},
		{"no state", map[string]any{"description": "x"}, 422, "Invalid request.\n\n\"state\" wasn't supplied."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("POST", fmt.Sprintf("/deployments/%d/statuses", d.ID), tc.body)
			require.Equal(t, tc.wantStatus, r.StatusCode, string(r.body))
			if tc.wantMsg != "" {
				assert.Equal(t, tc.wantMsg, r.message(t))
			}
		})
	}
	assert.Equal(t, http.StatusNotFound, e.do("POST", "/deployments/1/statuses", map[string]any{"state": "success"}).StatusCode)

	var list []deploymentStatus
	e.getJSON(fmt.Sprintf("/deployments/%d/statuses", d.ID), &list)
	require.Len(t, list, 2)
	assert.Equal(t, "success", list[0].State, "newest first")
	assert.Equal(t, "https://staging.agentme.example", list[0].EnvironmentURL)
	assert.Equal(t, st.ID, list[1].ID)

	var one deploymentStatus
	e.getJSON(fmt.Sprintf("/deployments/%d/statuses/%d", d.ID, st.ID), &one)
	assert.Equal(t, st, one)
	assert.Equal(t, http.StatusNotFound, e.get(fmt.Sprintf("/deployments/%d/statuses/%d", other.ID, st.ID)).StatusCode,
		"a status belongs to its deployment")

	t.Run("pagination", func(t *testing.T) {
		var want []int64
		for i := range 150 {
			want = append([]int64{e.deployStatus(other.ID, map[string]any{"state": "in_progress",
				"description": fmt.Sprint(i)}).ID}, want...)
		}
		var got []int64
		next := fmt.Sprintf("%s/deployments/%d/statuses?per_page=100", e.api, other.ID)
		for next != "" {
			var page []deploymentStatus
			r := e.getJSON(next, &page)
			for _, s := range page {
				got = append(got, s.ID)
			}
			next = links(r.Header.Get("Link"))["next"]
		}
		assert.Equal(t, want, got)
	})

	exported := e.s.Deployments()
	require.Len(t, exported, 2)
	require.Len(t, exported[0].Statuses, 2)
	assert.Equal(t, "in_progress", exported[0].Statuses[0].State, "oldest first")
	assert.Equal(t, "release-action: deploying (run 7)", exported[0].Statuses[0].Description)
	assert.Len(t, exported[1].Statuses, 150)
}

func TestAutoInactive(t *testing.T) {
	tests := []struct {
		name     string
		prior    map[string]any // fields of the earlier deployment
		priorEnd string         // the earlier deployment's last state
		status   map[string]any // the new deployment's status
		want     []string       // the earlier deployment's states afterwards, oldest first
	}{
		{"staging success inactivates the previous success", map[string]any{}, "success",
			map[string]any{"state": "success"}, []string{"success", "inactive"}},
		{"auto_inactive false", map[string]any{}, "success",
			map[string]any{"state": "success", "auto_inactive": false}, []string{"success"}},
		{"only a success status inactivates", map[string]any{}, "success",
			map[string]any{"state": "in_progress"}, []string{"success"}},
		{"a failed deployment is left alone", map[string]any{}, "failure",
			map[string]any{"state": "success"}, []string{"failure"}},
		{"production deployments are left alone", map[string]any{"environment": "production", "production_environment": true},
			"success", map[string]any{"state": "success"}, []string{"success"}},
		{"transient deployments are left alone", map[string]any{"transient_environment": true}, "success",
			map[string]any{"state": "success"}, []string{"success"}},
		{"another environment is left alone", map[string]any{"environment": "preview"}, "success",
			map[string]any{"state": "success"}, []string{"success"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, ghemu.Options{})
			e.s.LoadAgentMe(shaA)
			prior := e.deploy(tc.prior)
			e.deployStatus(prior.ID, map[string]any{"state": tc.priorEnd})
			env := "staging"
			if v, ok := tc.prior["environment"].(string); ok && v == "production" {
				env = "production"
			}
			next := e.deploy(map[string]any{"environment": env, "production_environment": env == "production"})
			e.deployStatus(next.ID, tc.status)
			var list []deploymentStatus
			e.getJSON(fmt.Sprintf("/deployments/%d/statuses", prior.ID), &list)
			var got []string
			for i := len(list) - 1; i >= 0; i-- {
				got = append(got, list[i].State)
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestDeleteDeployment(t *testing.T) {
	e := newEnv(t, ghemu.Options{})
	e.s.LoadAgentMe(shaA)
	a := e.deploy(nil)
	b := e.deploy(map[string]any{"environment": "preview"})
	c := e.deploy(nil)
	e.deployStatus(a.ID, map[string]any{"state": "success"})
	e.deployStatus(c.ID, map[string]any{"state": "failure"})

	tests := []struct {
		name       string
		id         int64
		before     func()
		wantStatus int
	}{
		{"newest status success: active", a.ID, nil, http.StatusUnprocessableEntity},
		{"no status: active", b.ID, nil, http.StatusUnprocessableEntity},
		{"a failed deployment is inactive", c.ID, nil, http.StatusNoContent},
		{"marked inactive", a.ID, func() { e.deployStatus(a.ID, map[string]any{"state": "inactive"}) }, http.StatusNoContent},
		{"the repository's only deployment", b.ID, nil, http.StatusNoContent},
		{"gone", b.ID, nil, http.StatusNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.before != nil {
				tc.before()
			}
			r := e.do("DELETE", fmt.Sprintf("/deployments/%d", tc.id), nil)
			require.Equal(t, tc.wantStatus, r.StatusCode, string(r.body))
			if tc.wantStatus == http.StatusUnprocessableEntity {
				assert.Contains(t, r.message(t), "We cannot delete an active deployment")
			}
			if tc.wantStatus == http.StatusNoContent {
				assert.Equal(t, http.StatusNotFound, e.get(fmt.Sprintf("/deployments/%d", tc.id)).StatusCode)
			}
		})
	}
	assert.Empty(t, e.s.Deployments())
}

type pendingDeployment struct {
	Environment struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	} `json:"environment"`
	WaitTimer             int     `json:"wait_timer"`
	WaitTimerStartedAt    *string `json:"wait_timer_started_at"`
	CurrentUserCanApprove bool    `json:"current_user_can_approve"`
	Reviewers             []struct {
		Type     string         `json:"type"`
		Reviewer map[string]any `json:"reviewer"`
	} `json:"reviewers"`
}

// dispatchDeploy dispatches deploy.yml for environment and returns the run id.
func (e *env) dispatchDeploy(environment string) int64 {
	e.t.Helper()
	r := e.do("POST", "/actions/workflows/deploy.yml/dispatches", map[string]any{"ref": "main",
		"inputs": map[string]string{"environment": environment, "ref": "main"}, "return_run_details": true})
	require.Equal(e.t, http.StatusOK, r.StatusCode, string(r.body))
	var a struct {
		WorkflowRunID int64 `json:"workflow_run_id"`
	}
	r.json(e.t, &a)
	return a.WorkflowRunID
}

func (e *env) runState(id int64) (status, conclusion string) {
	e.t.Helper()
	var r workflowRun
	e.getJSON(fmt.Sprintf("/actions/runs/%d", id), &r)
	return r.Status, deref(r.Conclusion)
}

func (e *env) pending(id int64) []pendingDeployment {
	e.t.Helper()
	var p []pendingDeployment
	e.getJSON(fmt.Sprintf("/actions/runs/%d/pending_deployments", id), &p)
	return p
}

func TestEnvironmentApproval(t *testing.T) {
	type step struct {
		at          time.Duration // since the dispatch
		approve     bool          // call Approve at this instant
		wantStatus  string
		wantConcl   string
		wantPending bool
	}
	tests := []struct {
		name                    string
		reviewers               []string
		waitTimer, approveAfter time.Duration
		steps                   []step
	}{
		{"auto-approve after 30m", []string{"@agentme/release-managers", "@alice"}, 0, 30 * time.Minute, []step{
			{at: 0, wantStatus: "waiting", wantPending: true},
			{at: 29*time.Minute + 59*time.Second, wantStatus: "waiting", wantPending: true},
			{at: 30 * time.Minute, wantStatus: "queued"},
			{at: 30*time.Minute + 5*time.Second, wantStatus: "in_progress"},
			{at: 31 * time.Minute, wantStatus: "completed", wantConcl: "success"},
		}},
		{"waits for Approve", []string{"@alice"}, 0, 0, []step{
			{at: 0, wantStatus: "waiting", wantPending: true},
			{at: 24 * time.Hour, wantStatus: "waiting", wantPending: true},
			{at: 25 * time.Hour, approve: true, wantStatus: "queued"},
			{at: 25*time.Hour + time.Minute, wantStatus: "completed", wantConcl: "success"},
		}},
		{"approval then the wait timer", []string{"@alice"}, 10 * time.Minute, 0, []step{
			{at: time.Minute, approve: true, wantStatus: "waiting", wantPending: true},
			{at: 10 * time.Minute, wantStatus: "queued"},
			{at: 11 * time.Minute, wantStatus: "completed", wantConcl: "success"},
		}},
		{"wait timer alone", nil, 5 * time.Minute, 0, []step{
			{at: 0, wantStatus: "waiting", wantPending: true},
			{at: 5 * time.Minute, wantStatus: "queued"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, ghemu.Options{})
			e.s.LoadAgentMe(shaA)
			e.s.ProtectEnvironment("production", tc.reviewers, tc.waitTimer, tc.approveAfter)
			id := e.dispatchDeploy("production")
			for _, s := range tc.steps {
				e.clk.Set(t0.Add(s.at))
				if s.approve {
					e.s.Approve(id)
				}
				status, concl := e.runState(id)
				assert.Equal(t, s.wantStatus, status, "at %s", s.at)
				assert.Equal(t, s.wantConcl, concl, "at %s", s.at)
				var jobs jobsPage
				e.getJSON(fmt.Sprintf("/actions/runs/%d/jobs", id), &jobs)
				require.Len(t, jobs.Jobs, 1)
				assert.Equal(t, "deploy (production)", jobs.Jobs[0].Name)
				if s.wantStatus == "waiting" {
					assert.Equal(t, "waiting", jobs.Jobs[0].Status)
					assert.Nil(t, jobs.Jobs[0].StartedAt)
					assert.Nil(t, jobs.Jobs[0].RunnerName)
				}
				p := e.pending(id)
				if !s.wantPending {
					assert.Empty(t, p, "at %s", s.at)
					continue
				}
				require.Len(t, p, 1, "at %s", s.at)
				assert.Equal(t, "production", p[0].Environment.Name)
				assert.NotZero(t, p[0].Environment.ID)
				assert.Equal(t, int(tc.waitTimer/time.Minute), p[0].WaitTimer)
				assert.Equal(t, t0.Format(time.RFC3339), deref(p[0].WaitTimerStartedAt))
				assert.False(t, p[0].CurrentUserCanApprove, "GITHUB_TOKEN cannot approve")
				require.Len(t, p[0].Reviewers, len(tc.reviewers))
				for i, want := range tc.reviewers {
					rv := p[0].Reviewers[i]
					if org, slug, team := strings.Cut(strings.TrimPrefix(want, "@"), "/"); team {
						assert.Equal(t, "Team", rv.Type)
						assert.Equal(t, slug, rv.Reviewer["slug"])
						assert.Contains(t, rv.Reviewer["html_url"], "/orgs/"+org+"/teams/"+slug)
					} else {
						assert.Equal(t, "User", rv.Type)
						assert.Equal(t, strings.TrimPrefix(want, "@"), rv.Reviewer["login"])
					}
				}
			}
		})
	}

	t.Run("an unprotected environment does not wait", func(t *testing.T) {
		e := newEnv(t, ghemu.Options{})
		e.s.LoadAgentMe(shaA)
		e.s.ProtectEnvironment("production", []string{"@alice"}, 0, 0)
		id := e.dispatchDeploy("staging")
		status, _ := e.runState(id)
		assert.Equal(t, "queued", status)
		assert.Empty(t, e.pending(id))
		var runs runsPage
		e.getJSON("/actions/runs?status=waiting", &runs)
		assert.Empty(t, runs.WorkflowRuns)
		e.dispatchDeploy("production")
		e.getJSON("/actions/runs?status=waiting", &runs)
		assert.Len(t, runs.WorkflowRuns, 1)
		assert.Equal(t, http.StatusNotFound, e.get("/actions/runs/1/pending_deployments").StatusCode)
	})
}

func TestFailDeploys(t *testing.T) {
	e := newEnv(t, ghemu.Options{})
	e.s.LoadAgentMe(shaA)
	e.s.FailDeploys("staging", 2)
	type dispatch struct {
		env, wantConcl string
	}
	var ids []int64
	plan := []dispatch{{"staging", "failure"}, {"production", "success"}, {"staging", "failure"}, {"staging", "success"}}
	for _, d := range plan {
		ids = append(ids, e.dispatchDeploy(d.env))
	}
	e.clk.Advance(59 * time.Second)
	for _, id := range ids {
		status, _ := e.runState(id)
		assert.Equal(t, "in_progress", status, "a deploy takes about a minute")
	}
	e.clk.Advance(time.Second)
	for i, d := range plan {
		status, concl := e.runState(ids[i])
		assert.Equal(t, "completed", status)
		assert.Equal(t, d.wantConcl, concl, "dispatch %d (%s)", i, d.env)
		var jobs jobsPage
		e.getJSON(fmt.Sprintf("/actions/runs/%d/jobs", ids[i]), &jobs)
		require.Len(t, jobs.Jobs, 1)
		assert.Equal(t, "deploy ("+d.env+")", jobs.Jobs[0].Name)
	}
	for _, st := range e.s.DeployJobs("staging")[0].Steps {
		assert.Empty(t, st.Conclusion, "no failure left for staging: %s succeeds", st.Name)
	}
	e.s.FailDeploys("production", 1)
	assert.Equal(t, "failure", e.s.DeployJobs("production")[0].Steps[2].Conclusion)
}

func TestTokenStartsWorkflows(t *testing.T) {
	tests := []struct {
		name     string
		starts   bool
		wantRuns int
	}{
		{"GITHUB_TOKEN: a deployment starts nothing", false, 0},
		{"PAT or App token: the deployment event runs", true, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, ghemu.Options{TokenStartsWorkflows: tc.starts})
			e.s.LoadAgentMe(shaA)
			e.s.AddAnnotatedTag("v1-rc.1", shaA, "rc")
			var got []ghemu.DeploymentEvent
			e.s.OnDeployment(ghemu.WorkflowDeploy, func(ev ghemu.DeploymentEvent) []ghemu.JobSpec {
				got = append(got, ev)
				return e.s.DeployJobs(ev.Environment)
			})
			d := e.deploy(map[string]any{"ref": "v1-rc.1", "payload": map[string]any{"tag": "v1-rc.1"}})
			var runs runsPage
			e.getJSON("/actions/runs?event=deployment", &runs)
			require.Len(t, runs.WorkflowRuns, tc.wantRuns)
			ds := e.s.Deployments()
			require.Len(t, ds, 1)
			if tc.wantRuns == 0 {
				assert.Empty(t, got)
				assert.Empty(t, ds[0].RunIDs)
				return
			}
			run := runs.WorkflowRuns[0]
			assert.Equal(t, "Deploy", run.Name)
			assert.Equal(t, shaA, run.HeadSHA)
			assert.Equal(t, "v1-rc.1", run.HeadBranch)
			assert.Equal(t, []int64{run.ID}, ds[0].RunIDs)
			require.Len(t, got, 1)
			assert.Equal(t, d.ID, got[0].DeploymentID)
			assert.Equal(t, "staging", got[0].Environment)
			assert.JSONEq(t, `{"tag":"v1-rc.1"}`, string(got[0].Payload))
			e.clk.Advance(time.Hour)
			var jobs jobsPage
			e.getJSON(fmt.Sprintf("/actions/runs/%d/jobs", run.ID), &jobs)
			require.Len(t, jobs.Jobs, 1)
			assert.Equal(t, "deploy (staging)", jobs.Jobs[0].Name)
			assert.Equal(t, "success", deref(jobs.Jobs[0].Conclusion))
		})
	}

	t.Run("a deployment to a protected environment waits too", func(t *testing.T) {
		e := newEnv(t, ghemu.Options{TokenStartsWorkflows: true})
		e.s.LoadAgentMe(shaA)
		e.s.ProtectEnvironment("production", []string{"@agentme/sre"}, 0, 0)
		e.s.OnDeployment("Deploy on event", func(ev ghemu.DeploymentEvent) []ghemu.JobSpec { return nil })
		e.deploy(map[string]any{"environment": "production"})
		id := e.s.Deployments()[0].RunIDs[0]
		status, _ := e.runState(id)
		assert.Equal(t, "waiting", status)
		require.Len(t, e.pending(id), 1)
		e.s.Approve(id)
		e.clk.Advance(time.Minute)
		status, concl := e.runState(id)
		assert.Equal(t, "completed", status)
		assert.Equal(t, "success", concl)
	})
}

func TestDeploymentETagAndRateLimit(t *testing.T) {
	e := newEnv(t, ghemu.Options{RateLimit: 100})
	e.s.LoadAgentMe(shaA)
	d := e.deploy(nil)
	u := fmt.Sprintf("/deployments/%d/statuses", d.ID)
	first := e.get(u)
	require.Equal(t, http.StatusOK, first.StatusCode)
	assert.Equal(t, "98", first.Header.Get("X-RateLimit-Remaining"), "the POST and the GET count")
	again := e.get(u, "If-None-Match", first.Header.Get("ETag"))
	assert.Equal(t, http.StatusNotModified, again.StatusCode)
	e.deployStatus(d.ID, map[string]any{"state": "queued"})
	changed := e.get(u, "If-None-Match", first.Header.Get("ETag"))
	assert.Equal(t, http.StatusOK, changed.StatusCode, "a new status changes the list")
}
