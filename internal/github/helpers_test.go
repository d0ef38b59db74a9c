package github

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/clock"
)

const (
	testToken = "ghs_SECRETtoken0123456789ABCDEFabcdef"
	testSHA   = "0123456789abcdef0123456789abcdef01234567"
	testUA    = "release-action-test"
)

var testStart = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

// fakeGH is a GitHub API on loopback in the GHES layout (REST under /api/v3, GraphQL at
// /api/graphql). Any request no handler was registered for fails the test, and so does a
// registered handler that was never hit.
type fakeGH struct {
	t        testing.TB
	srv      *httptest.Server
	mux      *http.ServeMux
	wantAuth string

	mu      sync.Mutex
	hits    map[string]int
	gqlSent []gqlRequest
}

type gqlRequest struct {
	Query     string         `json:"query"`
	Variables map[string]any `json:"variables"`
}

func newFake(t testing.TB) *fakeGH {
	f := &fakeGH{t: t, mux: http.NewServeMux(), hits: map[string]int{}, wantAuth: "Bearer " + testToken}
	f.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("unexpected request %s %s", r.Method, r.URL)
		// 418: not retried, so the test fails fast.
		http.Error(w, `{"message":"unexpected"}`, http.StatusTeapot)
	})
	f.srv = httptest.NewServer(f.mux)
	t.Cleanup(f.srv.Close)
	t.Cleanup(func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		for p, n := range f.hits {
			if n == 0 {
				t.Errorf("handler %s was never hit", p)
			}
		}
	})
	return f
}

// handle registers a REST handler under /api/v3 that must be hit at least once.
func (f *fakeGH) handle(pattern string, h http.HandlerFunc) {
	full := "/api/v3" + pattern
	f.mu.Lock()
	f.hits[full] = 0
	f.mu.Unlock()
	f.mux.HandleFunc(full, func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.hits[full]++
		f.mu.Unlock()
		assert.Equal(f.t, f.wantAuth, strings.TrimSpace(r.Header.Get("Authorization")), "Authorization of %s %s", r.Method, r.URL.Path)
		assert.Equal(f.t, testUA, r.Header.Get("User-Agent"))
		assert.Equal(f.t, "2022-11-28", r.Header.Get("X-GitHub-Api-Version"))
		h(w, r)
	})
}

// hitCount says how often the handler of pattern was called.
func (f *fakeGH) hitCount(pattern string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hits["/api/v3"+pattern]
}

// handleGraphQL registers the GraphQL endpoint; every query document is kept for schema checks.
func (f *fakeGH) handleGraphQL(h func(w http.ResponseWriter, q gqlRequest)) {
	const p = "/api/graphql"
	f.mu.Lock()
	f.hits["(graphql)"] = 0
	f.mu.Unlock()
	f.mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.hits["(graphql)"]++
		f.mu.Unlock()
		assert.Equal(f.t, http.MethodPost, r.Method)
		assert.Equal(f.t, f.wantAuth, strings.TrimSpace(r.Header.Get("Authorization")))
		assert.Equal(f.t, testUA, r.Header.Get("User-Agent"))
		assert.Equal(f.t, "application/json", r.Header.Get("Content-Type"))
		var q gqlRequest
		if !assert.NoError(f.t, json.NewDecoder(r.Body).Decode(&q)) {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.gqlSent = append(f.gqlSent, q)
		f.mu.Unlock()
		h(w, q)
	})
}

func (f *fakeGH) graphQLCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.gqlSent)
}

// graphQLSent returns every GraphQL request the server received, in order.
func (f *fakeGH) graphQLSent() []gqlRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.gqlSent)
}

// client builds a Client against the fake with a virtual clock and seeded jitter.
func (f *fakeGH) client(mod ...func(*Options)) (*Client, *clock.Virtual) {
	clk := clock.NewVirtual(testStart)
	o := Options{
		Token:      testToken,
		APIURL:     f.srv.URL + "/api/v3",
		GraphQLURL: f.srv.URL + "/api/graphql",
		HTTPClient: f.srv.Client(),
		Clock:      clk,
		UserAgent:  testUA,
		Debugf:     func(format string, args ...any) { f.t.Logf(format, args...) },
	}
	for _, m := range mod {
		m(&o)
	}
	c, err := New(Repo{Owner: "o", Name: "r"}, o)
	require.NoError(f.t, err)
	rng := rand.New(rand.NewPCG(1, 2))
	var mu sync.Mutex
	c.jitter = func(max time.Duration) time.Duration {
		if max <= 0 {
			return 0
		}
		mu.Lock()
		defer mu.Unlock()
		return time.Duration(rng.Int64N(int64(max)))
	}
	return c, clk
}

// Assertion helpers in the go-github style.

func testMethod(t testing.TB, r *http.Request, want string) {
	t.Helper()
	assert.Equal(t, want, r.Method, "method of %s", r.URL.Path)
}

func testQuery(t testing.TB, r *http.Request, want url.Values) {
	t.Helper()
	assert.Equal(t, want, r.URL.Query(), "query of %s", r.URL.Path)
}

func testJSONBody(t testing.TB, r *http.Request, want string) {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	require.NoError(t, err)
	assert.JSONEq(t, want, string(b), "body of %s %s", r.Method, r.URL.Path)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	switch v := v.(type) {
	case string:
		_, _ = io.WriteString(w, v)
	default:
		_ = json.NewEncoder(w).Encode(v)
	}
}

// linkNext sets a Link header pointing at page next of the same URL.
func linkNext(w http.ResponseWriter, r *http.Request, next, last int) {
	u := *r.URL
	u.Scheme, u.Host = "http", r.Host
	q := u.Query()
	q.Set("page", fmt.Sprint(next))
	u.RawQuery = q.Encode()
	nextURL := u.String()
	q.Set("page", fmt.Sprint(last))
	u.RawQuery = q.Encode()
	w.Header().Set("Link", fmt.Sprintf(`<%s>; rel="next", <%s>; rel="last"`, nextURL, u.String()))
}

func jsonDecode(r *http.Request, v any) error { return json.NewDecoder(r.Body).Decode(v) }
