package github

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const runJSON = `{"id":7,"name":"Deploy","status":"completed","conclusion":"success"}`

// sequence answers with the given handlers in turn (the last one repeats).
func sequence(steps ...http.HandlerFunc) (http.HandlerFunc, *atomic.Int32) {
	var n atomic.Int32
	return func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		steps[min(i, len(steps)-1)](w, r)
	}, &n
}

func status(code int, body string, headers ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		writeJSON(w, code, body)
	}
}

func TestRetries(t *testing.T) {
	reset := func(d time.Duration) string { return strconv.FormatInt(testStart.Add(d).Unix(), 10) }
	secondaryBody := `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`
	tests := []struct {
		name        string
		opts        func(*Options)
		steps       []http.HandlerFunc
		wantHits    int
		wantErr     string
		wantIs      error
		wantRetries int
		// minWait and maxWait bound how far the virtual clock moved.
		minWait, maxWait time.Duration
	}{
		{
			name:     "502 then 200",
			steps:    []http.HandlerFunc{status(502, `{"message":"Server Error"}`), status(200, runJSON)},
			wantHits: 2, wantRetries: 1, maxWait: time.Second,
		},
		{
			name:     "500 500 504 then 200",
			steps:    []http.HandlerFunc{status(500, `{}`), status(500, `{}`), status(504, `{}`), status(200, runJSON)},
			wantHits: 4, wantRetries: 3, maxWait: 7 * time.Second,
		},
		{
			name:     "secondary limit with Retry-After: 7",
			steps:    []http.HandlerFunc{status(403, secondaryBody, "Retry-After", "7"), status(200, runJSON)},
			wantHits: 2, wantRetries: 1, minWait: 7 * time.Second, maxWait: 7 * time.Second,
		},
		{
			name: "Retry-After as HTTP date",
			steps: []http.HandlerFunc{
				status(429, `{"message":"slow down"}`, "Retry-After", testStart.Add(20*time.Second).Format(http.TimeFormat)),
				status(200, runJSON),
			},
			wantHits: 2, wantRetries: 1, minWait: 20 * time.Second, maxWait: 20 * time.Second,
		},
		{
			name:     "secondary limit without Retry-After waits a minute, then two",
			steps:    []http.HandlerFunc{status(403, secondaryBody), status(403, secondaryBody), status(200, runJSON)},
			wantHits: 3, wantRetries: 2, minWait: 3 * time.Minute, maxWait: 3 * time.Minute,
		},
		{
			name: "primary limit waits for the reset",
			steps: []http.HandlerFunc{
				status(403, `{"message":"API rate limit exceeded for installation ID 1."}`,
					"X-RateLimit-Remaining", "0", "X-RateLimit-Limit", "1000", "X-RateLimit-Reset", reset(90*time.Second)),
				status(200, runJSON),
			},
			wantHits: 2, wantRetries: 1, minWait: 90 * time.Second, maxWait: 91 * time.Second,
		},
		{
			name: "primary limit beyond the budget fails at once, naming the reset",
			steps: []http.HandlerFunc{status(403, `{"message":"API rate limit exceeded for installation ID 1."}`,
				"X-RateLimit-Remaining", "0", "X-RateLimit-Limit", "1000", "X-RateLimit-Reset", reset(47*time.Minute+5*time.Second))},
			wantHits: 1,
			wantErr:  "get workflow run 7 in o/r: GitHub API rate limit exhausted for this token until 12:47:05 UTC; that is beyond the retry budget of 3m0s",
			wantIs:   ErrRateLimited,
		},
		{
			name:     "secondary limit beyond the budget",
			steps:    []http.HandlerFunc{status(403, secondaryBody, "Retry-After", "3600")},
			wantHits: 1, wantErr: "GitHub secondary rate limit hit; requests may resume at 13:00:00 UTC", wantIs: ErrRateLimited,
		},
		{
			name:     "budget exhausted on 503s is an error",
			opts:     func(o *Options) { o.RetryBudget = 2500 * time.Millisecond },
			steps:    []http.HandlerFunc{status(503, `{"message":"Service Unavailable"}`, "X-GitHub-Request-Id", "ABCD:1234")},
			wantHits: 0, // depends on jitter; checked through the error
			wantErr:  "GET /repos/o/r/actions/runs/7: 503 Service Unavailable: Service Unavailable (after ",
			maxWait:  2500 * time.Millisecond,
		},
		{
			name:     "max attempts",
			opts:     func(o *Options) { o.MaxAttempts = 3 },
			steps:    []http.HandlerFunc{status(500, `{"message":"boom"}`)},
			wantHits: 3, wantRetries: 2, maxWait: 3 * time.Second,
			wantErr: "GET /repos/o/r/actions/runs/7: 500 Internal Server Error: boom (after 3 attempts)",
		},
		{
			name:     "403 without rate limit is not retried",
			steps:    []http.HandlerFunc{status(403, `{"message":"Resource not accessible by integration"}`, "X-RateLimit-Remaining", "500")},
			wantHits: 1, wantErr: "403 Forbidden: Resource not accessible by integration",
		},
		{
			name:     "401 is ErrUnauthorized",
			steps:    []http.HandlerFunc{status(401, `{"message":"Bad credentials"}`)},
			wantHits: 1, wantErr: "401 Unauthorized: Bad credentials", wantIs: ErrUnauthorized,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			h, hits := sequence(tt.steps...)
			f.handle("/repos/o/r/actions/runs/7", func(w http.ResponseWriter, r *http.Request) {
				testMethod(t, r, http.MethodGet)
				h(w, r)
			})
			var mods []func(*Options)
			if tt.opts != nil {
				mods = append(mods, tt.opts)
			}
			c, clk := f.client(mods...)
			run, err := c.GetWorkflowRun(context.Background(), 7)
			waited := clk.Now().Sub(testStart)
			if tt.wantHits > 0 {
				assert.Equal(t, tt.wantHits, int(hits.Load()), "requests sent")
			}
			assert.Equal(t, int(hits.Load()), c.Cost().REST, "every attempt that reached the server is counted")
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Equal(t, WorkflowRun{}, run, "an error is never a verdict")
				assert.Contains(t, err.Error(), tt.wantErr)
				if tt.wantIs != nil {
					assert.ErrorIs(t, err, tt.wantIs)
				}
				assert.NotContains(t, err.Error(), testToken)
			} else {
				require.NoError(t, err)
				assert.Equal(t, int64(7), run.ID)
			}
			if tt.wantRetries > 0 {
				assert.Equal(t, tt.wantRetries, c.Cost().Retries)
			}
			assert.GreaterOrEqual(t, waited, tt.minWait, "virtual time waited")
			assert.LessOrEqual(t, waited, tt.maxWait, "virtual time waited")
		})
	}
}

func TestBudgetBoundsWaiting(t *testing.T) {
	f := newFake(t)
	h, hits := sequence(status(503, `{"message":"Service Unavailable"}`))
	f.handle("/repos/o/r/actions/runs/7", h)
	c, clk := f.client(func(o *Options) { o.RetryBudget = 2500 * time.Millisecond; o.MaxAttempts = 100 })
	c.jitter = func(max time.Duration) time.Duration { return max } // 1s, 2s, ...
	_, err := c.GetWorkflowRun(context.Background(), 7)
	var api *APIError
	require.ErrorAs(t, err, &api)
	assert.Equal(t, 503, api.StatusCode)
	assert.Equal(t, 2, api.Attempts, "1s fits the 2.5s budget, 1s+2s does not")
	assert.Equal(t, 2, int(hits.Load()))
	assert.Equal(t, time.Second, clk.Now().Sub(testStart))
}

func TestWritesAreRetriedOnlyWhenSafe(t *testing.T) {
	t.Run("500 after processing is not retried", func(t *testing.T) {
		f := newFake(t)
		h, hits := sequence(status(500, `{"message":"Server Error"}`), func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
		f.handle("/repos/o/r/actions/workflows/42/dispatches", h)
		c, clk := f.client()
		_, err := c.DispatchWorkflow(context.Background(), 42, "main", nil)
		assert.ErrorContains(t, err, "POST /repos/o/r/actions/workflows/42/dispatches: 500")
		assert.Equal(t, 1, int(hits.Load()))
		assert.Equal(t, 0, c.Cost().Retries)
		assert.Equal(t, testStart, clk.Now())
	})
	t.Run("502 is retried", func(t *testing.T) {
		f := newFake(t)
		h, hits := sequence(status(502, `{"message":"Bad Gateway"}`),
			status(200, `{"workflow_run_id":5,"run_url":"u","html_url":"h"}`))
		f.handle("/repos/o/r/actions/workflows/42/dispatches", func(w http.ResponseWriter, r *http.Request) {
			testJSONBody(t, r, `{"ref":"main","return_run_details":true}`) // the body is sent again intact
			h(w, r)
		})
		c, _ := f.client()
		res, err := c.DispatchWorkflow(context.Background(), 42, "main", nil)
		require.NoError(t, err)
		assert.Equal(t, int64(5), res.RunID)
		assert.Equal(t, 2, int(hits.Load()))
	})
	t.Run("secondary limit on a write is retried", func(t *testing.T) {
		f := newFake(t)
		h, hits := sequence(status(403, `{"message":"You have exceeded a secondary rate limit"}`, "Retry-After", "2"),
			status(201, `{"ref":"refs/tags/v1"}`))
		f.handle("/repos/o/r/git/refs", h)
		c, clk := f.client()
		require.NoError(t, c.CreateRef(context.Background(), "refs/tags/v1", testSHA))
		assert.Equal(t, 2, int(hits.Load()))
		assert.Equal(t, 2*time.Second, clk.Now().Sub(testStart))
	})
}

func TestHungServerIsRetried(t *testing.T) {
	f := newFake(t)
	t.Run("a write that timed out is not sent again", func(t *testing.T) {
		f := newFake(t)
		release := make(chan struct{})
		t.Cleanup(func() { close(release) })
		h, hits := sequence(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body) // so the server notices the client hanging up
			select {
			case <-r.Context().Done():
			case <-release:
			}
		})
		f.handle("/repos/o/r/git/refs", h)
		c, _ := f.client(func(o *Options) { o.AttemptTimeout = 50 * time.Millisecond })
		err := c.CreateRef(context.Background(), "refs/tags/v1", testSHA)
		assert.ErrorContains(t, err, "POST /repos/o/r/git/refs: no answer within 50ms")
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, 1, int(hits.Load()))
	})
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	h, hits := sequence(
		func(w http.ResponseWriter, r *http.Request) {
			select { // hang until the client gives up on the attempt
			case <-r.Context().Done():
			case <-release:
			}
		},
		status(200, runJSON),
	)
	f.handle("/repos/o/r/actions/runs/7", h)
	c, _ := f.client(func(o *Options) { o.AttemptTimeout = 100 * time.Millisecond })
	run, err := c.GetWorkflowRun(context.Background(), 7)
	require.NoError(t, err)
	assert.Equal(t, int64(7), run.ID)
	assert.Equal(t, 2, int(hits.Load()))
	assert.Equal(t, 1, c.Cost().Retries)
}

func TestNetworkErrors(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	var logs []string
	var mu sync.Mutex
	f := newFake(t)
	c, _ := f.client(func(o *Options) {
		o.APIURL = deadURL + "/api/v3"
		o.GraphQLURL = deadURL + "/api/graphql"
		o.MaxAttempts = 3
		o.Debugf = func(format string, args ...any) {
			mu.Lock()
			logs = append(logs, fmt.Sprintf(format, args...))
			mu.Unlock()
		}
	})
	// A connection that cannot be made sent nothing, so even a write is retried.
	err := c.CreateRef(context.Background(), "refs/tags/v1", testSHA)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "create ref refs/tags/v1 at "+testSHA+" in o/r: POST /repos/o/r/git/refs: giving up after 3 attempts")
	assert.Equal(t, 2, c.Cost().Retries)
	assert.Equal(t, 0, c.Cost().REST, "nothing reached the server")
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, logs, 2, "every retry is reported")
	for _, l := range logs {
		assert.NotContains(t, l, testToken)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = c.GetWorkflowRun(ctx, 7)
	assert.ErrorIs(t, err, context.Canceled)
}

func TestGraphQLRateLimitedIsWaitedOut(t *testing.T) {
	f := newFake(t)
	var n atomic.Int32
	f.handleGraphQL(func(w http.ResponseWriter, q gqlRequest) {
		if n.Add(1) == 1 {
			w.Header().Set("X-RateLimit-Remaining", "0")
			w.Header().Set("X-RateLimit-Resource", "graphql")
			w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(testStart.Add(40*time.Second).Unix(), 10))
			writeJSON(w, http.StatusOK, `{"data":null,"errors":[{"type":"RATE_LIMITED","message":"API rate limit exceeded for user ID 1."}]}`)
			return
		}
		writeJSON(w, http.StatusOK, `{"data":{"repository":{"object":{"statusCheckRollup":null}},"rateLimit":{"cost":1,"remaining":999,"resetAt":"2026-03-10T13:00:00Z"}}}`)
	})
	c, clk := f.client()
	_, err := c.Rollup(context.Background(), testSHA)
	require.NoError(t, err)
	assert.Equal(t, 2, c.Cost().GraphQLQueries)
	assert.Equal(t, 1, c.Cost().GraphQLPoints)
	assert.GreaterOrEqual(t, clk.Now().Sub(testStart), 40*time.Second)
	assert.Equal(t, RateLimit{Resource: "graphql", Remaining: 0, Reset: testStart.Add(40 * time.Second), Low: true}, c.RateLimit().GraphQL)
}

func TestGraphQLHTTPErrors(t *testing.T) {
	f := newFake(t)
	f.handleGraphQL(func(w http.ResponseWriter, q gqlRequest) {
		w.Header().Set("X-GitHub-Request-Id", "REQ:1")
		writeJSON(w, http.StatusUnauthorized, `{"message":"Bad credentials"}`)
	})
	c, _ := f.client()
	_, err := c.Rollup(context.Background(), testSHA)
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrUnauthorized)
	assert.Contains(t, err.Error(), "GraphQL query statusCheckRollup: POST /api/graphql: 401 Unauthorized: Bad credentials [request id REQ:1]")
}

func TestAnonymousClientSendsNoToken(t *testing.T) {
	f := newFake(t)
	f.wantAuth = ""
	f.handle("/repos/o/r/actions/runs/7", status(200, runJSON))
	c, _ := f.client(func(o *Options) { o.Token = "" })
	_, err := c.GetWorkflowRun(context.Background(), 7)
	require.NoError(t, err)
}

func TestTokenGoesToAPIPathsOnly(t *testing.T) {
	// Same host and port as the API, but outside /api/v3: no token.
	f := newFake(t)
	var seen atomic.Value
	f.mux.HandleFunc("/storage/log", func(w http.ResponseWriter, r *http.Request) {
		seen.Store(r.Header.Get("Authorization"))
		_, _ = fmt.Fprint(w, "log")
	})
	f.handle("/repos/o/r/actions/jobs/5/logs", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/storage/log", http.StatusFound) // relative location
	})
	c, _ := f.client()
	b, err := c.JobLog(context.Background(), 5)
	require.NoError(t, err)
	assert.Equal(t, "log", string(b))
	assert.Equal(t, "", seen.Load())
}

func TestTokenNeverInErrors(t *testing.T) {
	f := newFake(t)
	var logs strings.Builder
	var mu sync.Mutex
	f.handle("/repos/o/r/actions/runs/{id}", func(w http.ResponseWriter, r *http.Request) {
		// A hostile server echoing the credentials back.
		writeJSON(w, http.StatusBadRequest, fmt.Sprintf(`{"message":"bad header %s"}`, r.Header.Get("Authorization")))
	})
	f.handle("/repos/o/r/actions/workflows/1/dispatches", status(500, `{"message":"x"}`))
	f.handle("/repos/o/r/git/refs", status(403, `{"message":"secondary rate limit"}`, "Retry-After", "100000"))
	c, _ := f.client(func(o *Options) {
		o.Debugf = func(format string, args ...any) {
			mu.Lock()
			fmt.Fprintf(&logs, format+"\n", args...)
			mu.Unlock()
		}
	})
	ctx := context.Background()
	var errs []error
	_, err := c.GetWorkflowRun(ctx, 1)
	errs = append(errs, err)
	_, err = c.DispatchWorkflow(ctx, 1, "main", map[string]string{"token": testToken})
	errs = append(errs, err)
	errs = append(errs, c.CreateRef(ctx, "refs/tags/x", testSHA))
	assert.Contains(t, errs[0].Error(), "bad header Bearer ***")
	for _, err := range errs {
		require.Error(t, err)
		assert.NotContains(t, err.Error(), testToken)
		assert.NotContains(t, fmt.Sprintf("%+v %#v", err, err), testToken)
	}
	mu.Lock()
	defer mu.Unlock()
	assert.NotContains(t, logs.String(), testToken)
}

func TestRateLimitNote(t *testing.T) {
	f := newFake(t)
	f.handle("/repos/o/r/actions/runs/7", status(200, runJSON,
		"X-RateLimit-Limit", "1000", "X-RateLimit-Remaining", "4", "X-RateLimit-Used", "996",
		"X-RateLimit-Reset", strconv.FormatInt(testStart.Add(time.Hour).Unix(), 10), "X-RateLimit-Resource", "core"))
	c, _ := f.client()
	_, err := c.GetWorkflowRun(context.Background(), 7)
	require.NoError(t, err)
	assert.Equal(t, RateLimit{Resource: "core", Limit: 1000, Remaining: 4, Used: 996, Reset: testStart.Add(time.Hour), Low: true}, c.RateLimit().Core)
}

func TestParseRetryAfter(t *testing.T) {
	now := testStart
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"7", 7 * time.Second, true},
		{" 120 ", 2 * time.Minute, true},
		{"0", time.Second, true},
		{"-5", time.Second, true},
		{now.Add(30 * time.Second).Format(http.TimeFormat), 30 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), time.Second, true},
		{"", 0, false},
		{"soon", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseRetryAfter(tt.in, now)
		assert.Equal(t, tt.ok, ok, tt.in)
		assert.Equal(t, tt.want, got, tt.in)
	}
}

func TestETagCacheIsBounded(t *testing.T) {
	c := newETagCache(3, 10)
	for i := range 5 {
		c.put(&cacheEntry{key: fmt.Sprint(i), etag: "e", body: []byte("b")})
	}
	assert.Equal(t, 3, c.len())
	assert.Nil(t, c.get("0"))
	assert.Nil(t, c.get("1"))
	assert.NotNil(t, c.get("2"))
	c.put(&cacheEntry{key: "5", etag: "e", body: []byte("b")}) // evicts 3: 2 was just used
	assert.NotNil(t, c.get("2"))
	assert.Nil(t, c.get("3"))
	c.put(&cacheEntry{key: "big", etag: "e", body: make([]byte, 11)})
	assert.Nil(t, c.get("big"), "bodies over the limit are not kept")
}

func TestConditionalGETsAndConcurrency(t *testing.T) {
	f := newFake(t)
	f.handle("/repos/o/r/actions/runs/{id}", func(w http.ResponseWriter, r *http.Request) {
		serveWithETag(w, r, []byte(runJSON))
	})
	c, _ := f.client()
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			run, err := c.GetWorkflowRun(context.Background(), int64(i%4))
			assert.NoError(t, err)
			assert.Equal(t, int64(7), run.ID)
		}()
	}
	wg.Wait()
	cost := c.Cost()
	assert.Equal(t, 20, cost.REST)
	assert.Equal(t, 20, cost.Billed()+cost.NotModified)
	// Sequentially, the second request for the same URL is always a 304.
	before := c.Cost().NotModified
	_, err := c.GetWorkflowRun(context.Background(), 1)
	require.NoError(t, err)
	assert.Equal(t, before+1, c.Cost().NotModified)
}

func TestErrorsIs(t *testing.T) {
	tests := []struct {
		e    *APIError
		is   []error
		isnt []error
	}{
		{&APIError{StatusCode: 404}, []error{ErrNotFound}, []error{ErrUnauthorized, ErrAlreadyExists}},
		{&APIError{StatusCode: 401}, []error{ErrUnauthorized}, []error{ErrNotFound}},
		{&APIError{StatusCode: 422, Message: "Reference already exists"}, []error{ErrAlreadyExists}, []error{ErrNotFound}},
		{&APIError{StatusCode: 422, Message: "Reference does not exist"}, []error{ErrNotFound}, []error{ErrAlreadyExists}},
		{&APIError{StatusCode: 422, Message: "No commit found for SHA: x"}, []error{ErrNotFound}, nil},
		{&APIError{StatusCode: 422, Message: "Invalid"}, nil, []error{ErrNotFound, ErrAlreadyExists}},
		{&APIError{StatusCode: 403, Message: "API rate limit exceeded"}, []error{ErrRateLimited}, []error{ErrUnauthorized, ErrForbidden}},
		{&APIError{StatusCode: 403, Message: "You have exceeded a secondary rate limit"}, []error{ErrRateLimited}, []error{ErrForbidden}},
		{&APIError{StatusCode: 403, Message: "You have triggered an abuse detection mechanism"}, []error{ErrRateLimited}, []error{ErrForbidden}},
		{&APIError{StatusCode: 403, Message: "Resource not accessible by integration"}, []error{ErrForbidden}, []error{ErrRateLimited, ErrUnauthorized, ErrNotFound}},
		{&APIError{StatusCode: 410, Message: "Gone"}, []error{ErrGone}, []error{ErrNotFound, ErrForbidden}},
		{&APIError{StatusCode: 404}, nil, []error{ErrGone, ErrForbidden}},
	}
	for _, tt := range tests {
		err := fmt.Errorf("wrapped: %w", tt.e)
		for _, target := range tt.is {
			assert.True(t, errors.Is(err, target), "%v is %v", tt.e, target)
		}
		for _, target := range tt.isnt {
			assert.False(t, errors.Is(err, target), "%v is not %v", tt.e, target)
		}
	}
}

func TestGraphQLErrorsIs(t *testing.T) {
	tests := []struct {
		typ  string
		is   error
		isnt []error
	}{
		{"NOT_FOUND", ErrNotFound, []error{ErrForbidden, ErrRateLimited}},
		{"RATE_LIMITED", ErrRateLimited, []error{ErrForbidden}},
		{"UNAUTHORIZED", ErrUnauthorized, []error{ErrForbidden}},
		{"FORBIDDEN", ErrForbidden, []error{ErrNotFound, ErrUnauthorized, ErrRateLimited}},
	}
	for _, tt := range tests {
		t.Run(tt.typ, func(t *testing.T) {
			err := fmt.Errorf("GraphQL query q: %w", graphQLErrors{{Type: tt.typ, Message: "m"}})
			assert.ErrorIs(t, err, tt.is)
			for _, target := range tt.isnt {
				assert.NotErrorIs(t, err, target)
			}
		})
	}
}
