package ghemu_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

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

// FuzzContents round-trips any file through AddFile and GET /contents: the base64
// GitHub-style answer always decodes to the bytes put in.
func FuzzContents(f *testing.F) {
	f.Add("package.json", []byte(`{"version":"2026.2.9"}`))
	f.Add("a/b/c.bin", []byte{0, 0xff, '\n', '\r'})
	f.Add("empty", []byte{})
	f.Fuzz(func(t *testing.T, path string, content []byte) {
		path = strings.Trim(path, "/")
		if path == "" || strings.Contains(path, "//") || strings.ContainsAny(path, "?#%\\") || !utf8.ValidString(path) ||
			len(content) > 1<<20 || strings.Contains("/"+path+"/", "/../") || strings.Contains("/"+path+"/", "/./") {
			return
		}
		s := fuzzServer()
		s.AddFile(shaA, path, content)
		u := &url.URL{Path: "/api/v3/repos/agentme/agentme/contents/" + path, RawQuery: "ref=" + shaA}
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", u.String(), nil))
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		var out struct {
			Content string `json:"content"`
			Size    int    `json:"size"`
		}
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &out))
		got, err := base64.StdEncoding.DecodeString(out.Content)
		require.NoError(t, err)
		assert.Equal(t, len(content), out.Size)
		if len(content) == 0 {
			assert.Empty(t, got)
		} else {
			assert.Equal(t, content, got)
		}
	})
}

// FuzzPhase2Bodies posts arbitrary bodies to the release, deploy and issue endpoints:
// the answer is always one of GitHub's statuses with a JSON body, never a panic.
func FuzzPhase2Bodies(f *testing.F) {
	f.Add(0, `{"ref":"main","required_contexts":[],"payload":{"a":1}}`)
	f.Add(1, `{"state":"success","description":"ok","auto_inactive":false}`)
	f.Add(2, `{"tag_name":"v1","generate_release_notes":true,"make_latest":"legacy"}`)
	f.Add(3, `{"tag":"v1","message":"m","object":"`+shaA+`","type":"commit","tagger":{"name":"a","email":"b"}}`)
	f.Add(4, `{"title":7,"labels":["x",{"name":"y"}]}`)
	f.Add(0, `{"ref":null,"payload":[1]}`)
	f.Fuzz(func(t *testing.T, which int, body string) {
		s := fuzzServer()
		id := s.AddDeployment("staging", shaA, "main", false, "success")
		paths := []string{"/deployments", fmt.Sprintf("/deployments/%d/statuses", id), "/releases", "/git/tags", "/issues"}
		if which < 0 {
			which = -which
		}
		p := "/api/v3/repos/agentme/agentme" + paths[which%len(paths)]
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, httptest.NewRequest("POST", p, strings.NewReader(body)))
		assert.Contains(t, []int{201, 400, 409, 422}, rec.Code, rec.Body.String())
		assert.True(t, json.Valid(rec.Body.Bytes()), rec.Body.String())
	})
}
