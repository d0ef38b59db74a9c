package ghemu_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/agentme/release-action/internal/clock"
	"github.com/agentme/release-action/internal/ghemu"
	"github.com/stretchr/testify/require"
)

const (
	shaA = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
	shaB = "b1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
	shaC = "c1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
)

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

// env is one emulator on loopback with a virtual clock.
type env struct {
	t    *testing.T
	s    *ghemu.Server
	clk  *clock.Virtual
	base string
	api  string // base + /api/v3/repos/agentme/agentme
	auth string // Authorization header sent by do
	hc   *http.Client
}

func newEnv(t *testing.T, o ghemu.Options) *env {
	t.Helper()
	clk := clock.NewVirtual(t0)
	o.Clock = clk
	s := ghemu.New(o)
	base := s.Start()
	t.Cleanup(s.Close)
	e := &env{t: t, s: s, clk: clk, base: base, api: base + "/api/v3/repos/agentme/agentme",
		hc: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	if o.Token != "" {
		e.auth = "Bearer " + o.Token
	}
	return e
}

type resp struct {
	*http.Response
	body []byte
}

func (r resp) json(t *testing.T, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(r.body, v), string(r.body))
}

func (r resp) message(t *testing.T) string {
	t.Helper()
	var m struct {
		Message string `json:"message"`
	}
	r.json(t, &m)
	return m.Message
}

// do sends a request; url is absolute or relative to e.api; header pairs follow.
func (e *env) do(method, url string, body any, header ...string) resp {
	e.t.Helper()
	if !strings.HasPrefix(url, "http") {
		url = e.api + url
	}
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		require.NoError(e.t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, url, rd)
	require.NoError(e.t, err)
	if e.auth != "" {
		req.Header.Set("Authorization", e.auth)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := e.hc.Do(req)
	require.NoError(e.t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(e.t, err)
	return resp{Response: res, body: raw}
}

func (e *env) get(url string, header ...string) resp { return e.do("GET", url, nil, header...) }

// getJSON GETs url, requires 200 and decodes the body into v.
func (e *env) getJSON(url string, v any) resp {
	e.t.Helper()
	r := e.get(url)
	require.Equal(e.t, http.StatusOK, r.StatusCode, string(r.body))
	r.json(e.t, v)
	return r
}

// graphql posts a query with variables and returns the decoded answer.
func (e *env) graphql(query string, vars map[string]any) (gqlAnswer, resp) {
	e.t.Helper()
	r := e.do("POST", e.base+"/api/graphql", map[string]any{"query": query, "variables": vars})
	require.Equal(e.t, http.StatusOK, r.StatusCode, string(r.body))
	var a gqlAnswer
	r.json(e.t, &a)
	return a, r
}

type gqlAnswer struct {
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Type      string         `json:"type"`
		Message   string         `json:"message"`
		Path      []any          `json:"path"`
		Locations []any          `json:"locations"`
		Ext       map[string]any `json:"extensions"`
	} `json:"errors"`
}

type checkRunsPage struct {
	TotalCount int `json:"total_count"`
	CheckRuns  []struct {
		ID          int64   `json:"id"`
		Name        string  `json:"name"`
		HeadSHA     string  `json:"head_sha"`
		Status      string  `json:"status"`
		Conclusion  *string `json:"conclusion"`
		StartedAt   *string `json:"started_at"`
		CompletedAt *string `json:"completed_at"`
		DetailsURL  *string `json:"details_url"`
		HTMLURL     string  `json:"html_url"`
		CheckSuite  struct {
			ID int64 `json:"id"`
		} `json:"check_suite"`
		App struct {
			Slug string `json:"slug"`
		} `json:"app"`
	} `json:"check_runs"`
}

type jobsPage struct {
	TotalCount int   `json:"total_count"`
	Jobs       []job `json:"jobs"`
}

type job struct {
	ID          int64   `json:"id"`
	RunID       int64   `json:"run_id"`
	RunAttempt  int     `json:"run_attempt"`
	Name        string  `json:"name"`
	Status      string  `json:"status"`
	Conclusion  *string `json:"conclusion"`
	StartedAt   *string `json:"started_at"`
	CompletedAt *string `json:"completed_at"`
	HTMLURL     string  `json:"html_url"`
	CheckRunURL string  `json:"check_run_url"`
	RunnerName  *string `json:"runner_name"`
	Steps       []struct {
		Name        string  `json:"name"`
		Status      string  `json:"status"`
		Conclusion  *string `json:"conclusion"`
		Number      int     `json:"number"`
		StartedAt   *string `json:"started_at"`
		CompletedAt *string `json:"completed_at"`
	} `json:"steps"`
}

type workflowRun struct {
	ID           int64   `json:"id"`
	Name         string  `json:"name"`
	WorkflowID   int64   `json:"workflow_id"`
	HeadSHA      string  `json:"head_sha"`
	HeadBranch   string  `json:"head_branch"`
	Event        string  `json:"event"`
	Status       string  `json:"status"`
	Conclusion   *string `json:"conclusion"`
	RunNumber    int     `json:"run_number"`
	RunAttempt   int     `json:"run_attempt"`
	HTMLURL      string  `json:"html_url"`
	CreatedAt    string  `json:"created_at"`
	UpdatedAt    string  `json:"updated_at"`
	CheckSuiteID int64   `json:"check_suite_id"`
}

type runsPage struct {
	TotalCount   int           `json:"total_count"`
	WorkflowRuns []workflowRun `json:"workflow_runs"`
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func steps(n int) []ghemu.StepSpec {
	var out []ghemu.StepSpec
	for i := 1; i <= n; i++ {
		out = append(out, ghemu.StepSpec{Name: "step " + string(rune('0'+i)), Log: "line one of " + string(rune('0'+i)) + "\nline two"})
	}
	return out
}
