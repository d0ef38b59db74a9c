package ghemu_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentme/release-action/internal/clock"
	"github.com/agentme/release-action/internal/ghemu"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func fuzzServer() *ghemu.Server {
	s := ghemu.New(ghemu.Options{Clock: clock.NewVirtual(t0), RateLimit: 1 << 30})
	s.AddCommit(shaA, "main")
	s.AddRun("CI", shaA, "push", ghemu.JobSpec{Name: "check", Steps: steps(2)})
	s.AddStatus(shaA, "ext", "success", "", "")
	return s
}

// FuzzGraphQL sends arbitrary documents: the answer is always 200 JSON with data
// and/or errors, never a panic.
func FuzzGraphQL(f *testing.F) {
	f.Add(snapshotQuery, `{"owner":"agentme","name":"agentme","sha":"`+shaA+`"}`)
	f.Add(`{ repository(owner: "agentme", name: "agentme") { object(expression: "main") { ... on Commit { checkSuites(first: 2) { edges { cursor node { checkRuns(first: 3, filterBy: {checkType: ALL}) { nodes { steps(first: 5) { nodes { name } } } } } } } } } } }`, `{}`)
	f.Add(`query($c: String) { repository(owner: "agentme", name: "agentme") { ref(qualifiedName: "main") { target { oid } } } rateLimit { cost } }`, `{"c": 5}`)
	f.Add(`{ __typename }`, `null`)
	f.Add(`{ repository`, `{}`)
	h := fuzzServer().Handler()
	f.Fuzz(func(t *testing.T, query, vars string) {
		body, _ := json.Marshal(map[string]any{"query": query, "variables": json.RawMessage(validJSONOr(vars))})
		req := httptest.NewRequest("POST", "/api/graphql", strings.NewReader(string(body)))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code == http.StatusBadRequest {
			return // the body was not JSON
		}
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		var out map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &out), rec.Body.String())
		_, hasData := out["data"]
		_, hasErrors := out["errors"]
		assert.True(t, hasData || hasErrors, rec.Body.String())
	})
}

func validJSONOr(s string) string {
	if json.Valid([]byte(s)) {
		return s
	}
	return "null"
}

// FuzzRunsCreatedFilter feeds the created= qualifier parser arbitrary text.
func FuzzRunsCreatedFilter(f *testing.F) {
	for _, s := range []string{">=2026-11-20T10:00:00Z", "<2026-11-20", "2026-11-19..2026-11-21", "*..2026-11-21",
		"2026-11-20", "..", ">=", "2026-13-40"} {
		f.Add(s)
	}
	h := fuzzServer().Handler()
	f.Fuzz(func(t *testing.T, created string) {
		req := httptest.NewRequest("GET", "/api/v3/repos/agentme/agentme/actions/runs?created="+url.QueryEscape(created), nil)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		assert.Contains(t, []int{200, 422}, rec.Code, rec.Body.String())
		assert.True(t, json.Valid(rec.Body.Bytes()))
	})
}

// TestConcurrentUse builds a scenario while clients poll (run with -race).
func TestConcurrentUse(t *testing.T) {
	e := newEnv(t, ghemu.Options{})
	e.s.LoadAgentMe(shaA)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				switch (g + i) % 4 {
				case 0:
					e.s.AddRun("CI", shaA, "push", ghemu.JobSpec{Name: fmt.Sprintf("j%d-%d", g, i), RunFor: time.Second})
				case 1:
					e.get("/commits/" + shaA + "/check-runs?per_page=100")
				case 2:
					e.graphql(snapshotQuery, snapshotVars(shaA, nil))
				case 3:
					e.do("POST", "/actions/workflows/install-smoke.yml/dispatches", map[string]any{"ref": "main"})
					e.clk.Advance(time.Second)
				}
			}
		}()
	}
	wg.Wait()
	var p checkRunsPage
	e.getJSON("/commits/"+shaA+"/check-runs?per_page=1", &p)
	assert.Equal(t, 40+len(e.s.Dispatches())*3, p.TotalCount)
}

func BenchmarkSnapshotQuery(b *testing.B) {
	s := ghemu.New(ghemu.Options{Clock: clock.NewVirtual(t0), RateLimit: 1 << 30})
	s.AddCommit(shaA, "main")
	var jobs []ghemu.JobSpec
	for i := range 100 {
		jobs = append(jobs, ghemu.JobSpec{Name: fmt.Sprintf("job-%d", i)})
	}
	s.AddRun("CI", shaA, "push", jobs...)
	body, _ := json.Marshal(map[string]any{"query": snapshotQuery, "variables": snapshotVars(shaA, nil)})
	h := s.Handler()
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", "/api/graphql", strings.NewReader(string(body))))
		if rec.Code != 200 {
			b.Fatal(rec.Body.String())
		}
	}
}

func BenchmarkConditionalCheckRuns(b *testing.B) {
	s := ghemu.New(ghemu.Options{Clock: clock.NewVirtual(t0), RateLimit: 1 << 30})
	var jobs []ghemu.JobSpec
	for i := range 100 {
		jobs = append(jobs, ghemu.JobSpec{Name: fmt.Sprintf("job-%d", i)})
	}
	s.AddRun("CI", shaA, "push", jobs...)
	h := s.Handler()
	u := "/api/v3/repos/agentme/agentme/commits/" + shaA + "/check-runs?filter=latest&per_page=100"
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", u, nil))
	etag := rec.Header().Get("ETag")
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("GET", u, nil)
		req.Header.Set("If-None-Match", etag)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusNotModified {
			b.Fatal(rec.Code)
		}
	}
}
