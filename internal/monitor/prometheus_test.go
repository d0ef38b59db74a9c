package monitor

import (
	"context"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/clock"
	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/outcome"
)

// promServer serves canned answers of the Prometheus HTTP API at /api/v1/query, keyed
// by query text, and records the requests.
type promServer struct {
	mu      sync.Mutex
	answers map[string]cannedAnswer
	auth    []string
	queries []url.Values
}

type cannedAnswer struct {
	status int
	body   string
}

func newPromServer(t *testing.T, answers map[string]cannedAnswer) (*promServer, string) {
	ps := &promServer{answers: answers}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/query" {
			http.NotFound(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(body))
		for k, v := range r.URL.Query() {
			form[k] = v
		}
		ps.mu.Lock()
		ps.auth = append(ps.auth, r.Header.Get("Authorization"))
		ps.queries = append(ps.queries, form)
		a, ok := ps.answers[form.Get("query")]
		ps.mu.Unlock()
		if !ok {
			a = cannedAnswer{400, `{"status":"error","errorType":"bad_data","error":"unknown query in test"}`}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(a.status)
		_, _ = io.WriteString(w, a.body)
	}))
	t.Cleanup(ts.Close)
	return ps, ts.URL
}

func vector(samples ...string) string {
	return `{"status":"success","data":{"resultType":"vector","result":[` + strings.Join(samples, ",") + `]}}`
}

func sample(labels, value string) string {
	return `{"metric":{` + labels + `},"value":[1764000000.123,"` + value + `"]}`
}

func TestPrometheusCannedAnswers(t *testing.T) {
	answers := map[string]cannedAnswer{
		"one_low":     {200, vector(sample(`"job":"gw"`, "0.1"))},
		"one_high":    {200, vector(sample(`"job":"gw"`, "0.9"))},
		"empty":       {200, vector()},
		"error":       {400, `{"status":"error","errorType":"bad_data","error":"1:5: parse error: unexpected <EOF>"}`},
		"unavailable": {503, `{"status":"error","errorType":"unavailable","error":"TSDB not ready"}`},
		"html":        {200, `<html>not prometheus</html>`},
		"scalar":      {200, `{"status":"success","data":{"resultType":"scalar","result":[1764000000,"2"]}}`},
		"matrix":      {200, `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1764000000,"1"]]}]}}`},
		"nan":         {200, vector(sample(`"le":"x"`, "NaN"))},
		"two_series":  {200, vector(sample(`"instance":"a"`, "0.2"), sample(`"instance":"b"`, "0.7"))},
		"warn":        {200, `{"status":"success","warnings":["partial response"],"data":{"resultType":"vector","result":[` + sample(``, "0.1") + `]}}`},
		"inf":         {200, vector(sample(``, "+Inf"))},
		"low_for_min": {200, vector(sample(``, "0.5"))},
		"two_for_min": {200, vector(sample(`"i":"a"`, "3"), sample(`"i":"b"`, "0.5"))},
	}
	_, base := newPromServer(t, answers)
	p, err := NewPrometheus(base, "", nil, nil)
	require.NoError(t, err)

	max := ptr(0.5)
	cases := []struct {
		query  string
		max    *float64
		min    *float64
		status string
		value  float64
		detail string
	}{
		{"one_low", max, nil, StatusOK, 0.1, ""},
		{"one_high", max, nil, StatusBad, 0.9, "0.9 > max 0.5"},
		{"empty", max, nil, StatusNoData, 0, "no series (empty vector)"},
		{"error", max, nil, StatusNoData, 0, "query failed: bad_data: 1:5: parse error"},
		{"unavailable", max, nil, StatusNoData, 0, "TSDB not ready"},
		{"html", max, nil, StatusNoData, 0, "query failed"},
		{"scalar", max, nil, StatusBad, 2, "2 > max 0.5"},
		{"matrix", max, nil, StatusNoData, 0, "range vector"},
		{"nan", max, nil, StatusNoData, 0, "only NaN"},
		{"two_series", max, nil, StatusBad, 0.7, "worst of 2 series"},
		{"two_series", ptr(1), nil, StatusOK, 0.7, ""},
		{"warn", max, nil, StatusOK, 0.1, "warnings: partial response"},
		{"inf", max, nil, StatusBad, math.Inf(1), "+Inf > max"},
		{"low_for_min", nil, ptr(1), StatusBad, 0.5, "0.5 < min 1"},
		{"two_for_min", nil, ptr(1), StatusBad, 0.5, "< min 1 (worst of 2 series)"},
		{"two_for_min", nil, ptr(0.1), StatusOK, 0.5, ""},
		{"two_for_min", ptr(5), ptr(0.1), StatusOK, 3, ""},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			rd := queryCheck(context.Background(), p, config.MetricCheck{Name: tc.query, Query: tc.query, Max: tc.max, Min: tc.min})
			assert.Equal(t, tc.status, rd.Status, rd.Detail)
			assert.Contains(t, rd.Detail, tc.detail)
			if tc.status == StatusNoData {
				assert.Nil(t, rd.Value)
			} else {
				require.NotNil(t, rd.Value)
				assert.Equal(t, tc.value, *rd.Value)
			}
		})
	}
}

func TestPrometheusBearer(t *testing.T) {
	const token = "prom-secret-token-123"
	ps, base := newPromServer(t, map[string]cannedAnswer{"up": {200, vector(sample(``, "1"))}})
	for _, tc := range []struct{ token, want string }{{token, "Bearer " + token}, {"", ""}} {
		p, err := NewPrometheus(base+"/", tc.token, &http.Client{Timeout: 5 * time.Second}, nil)
		require.NoError(t, err)
		rd := queryCheck(context.Background(), p, config.MetricCheck{Query: "up", Min: ptr(1)})
		assert.Equal(t, StatusOK, rd.Status, rd.Detail)
		ps.mu.Lock()
		assert.Equal(t, tc.want, ps.auth[len(ps.auth)-1])
		assert.Empty(t, ps.queries[len(ps.queries)-1].Get("time"), "evaluated at the server's now")
		ps.mu.Unlock()
	}

	// The token never shows in an error.
	p, err := NewPrometheus("http://127.0.0.1:1", token, nil, nil)
	require.NoError(t, err)
	rd := queryCheck(context.Background(), p, config.MetricCheck{Query: "up", Min: ptr(1)})
	assert.Equal(t, StatusNoData, rd.Status)
	assert.Contains(t, rd.Detail, "query failed")
	assert.NotContains(t, rd.Detail, token)
}

func TestNewPrometheusRefuses(t *testing.T) {
	for _, tc := range []struct{ url, token, want string }{
		{"ftp://prom.example", "", "not an http(s) URL"},
		{"prom.example:9090", "", "not an http(s) URL"},
		{"https://user:pw@prom.example", "", "must not carry user info"},
		{"https://prom.example", "tok\n", "whitespace or line breaks"},
	} {
		_, err := NewPrometheus(tc.url, tc.token, nil, nil)
		require.ErrorIs(t, err, outcome.ErrBadInput, tc.url)
		assert.Contains(t, err.Error(), tc.want)
		assert.NotContains(t, err.Error(), "pw@")
	}
}

// TestMonitorWithPrometheus runs the whole monitor against the canned server: the check
// breaches on the third high answer; the empty vector check is no data every time.
func TestMonitorWithPrometheus(t *testing.T) {
	ps, base := newPromServer(t, map[string]cannedAnswer{
		"high":    {200, vector(sample(``, "0.9"))},
		"missing": {200, vector()},
	})
	p, err := NewPrometheus(base, "", nil, nil)
	require.NoError(t, err)
	vc := clock.NewVirtual(epoch)
	m := monitorCfg(10*time.Minute, time.Minute, 3, nil,
		config.MetricCheck{Name: "auth errors", Query: "high", Max: ptr(0.5)},
		config.MetricCheck{Name: "ghost", Query: "missing", Max: ptr(1)})
	m.NoData = NoDataIgnore
	res, err := Run(context.Background(), Options{Monitor: m, Prometheus: p, Clock: vc})
	require.NoError(t, err)
	assert.Equal(t, outcome.Fail, res.Verdict)
	assert.Equal(t, "auth errors", res.Signal)
	assert.Equal(t, "xxx", statuses(res, "auth errors"))
	assert.Equal(t, "---", statuses(res, "ghost"))
	assert.Equal(t, 3, summaryOf(res, "ghost").NoData)
	assert.False(t, summaryOf(res, "ghost").Breached, "ignored no data never breaches")
	ps.mu.Lock()
	assert.Len(t, ps.queries, 6)
	ps.mu.Unlock()
}
