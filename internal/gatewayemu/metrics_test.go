package gatewayemu

import (
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/clock"
)

// sample returns the value of one series in a text exposition, or fails the test.
func sample(t *testing.T, exposition, series string) float64 {
	t.Helper()
	for line := range strings.SplitSeq(exposition, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			require.NoError(t, err, line)
			return f
		}
	}
	t.Fatalf("series %s not in exposition:\n%s", series, exposition)
	return 0
}

func TestMetrics(t *testing.T) {
	vc := clock.NewVirtual(t0)
	s, _ := start(t, Options{Clock: vc, Metrics: true})

	scrape := func() string {
		r := do(t, s, "GET", "/metrics", "", nil)
		require.Equal(t, 200, r.status)
		assert.True(t, strings.HasPrefix(r.header.Get("Content-Type"), "text/plain"), r.header.Get("Content-Type"))
		return r.body
	}

	// Every series exists at zero before anything happened: "no data" is not "zero".
	m := scrape()
	for _, series := range []string{
		`agentme_gateway_auth_failures_total{transport="http"}`,
		`agentme_gateway_auth_failures_total{transport="ws"}`,
		`agentme_gateway_bootstrap_exchange_failures_total{reason="used"}`,
		`agentme_gateway_bootstrap_exchanges_total`,
		`agentme_gateway_restarts_total`,
		`agentme_gateway_ws_connections_total{result="accepted"}`,
		`agentme_gateway_chat_sends_total`,
		`agentme_gateway_tool_calls_total`,
		`agentme_channel_delivery_latency_seconds_count`,
	} {
		assert.Zero(t, sample(t, m, series), series)
	}
	assert.Equal(t, 1.0, sample(t, m, `agentme_gateway_build_info{version="2026.2.9"}`))

	// Drive each counter once.
	vc.Advance(10 * time.Minute)
	do(t, s, "POST", "/tools/invoke", `{"tool":"sessions_list"}`, bearer("wrong"))
	do(t, s, "POST", "/tools/invoke", `{"tool":"sessions_list"}`, bearer(testToken))
	bad := dial(t, s, nil)
	bad.read()
	bad.sendRaw(req("connect", probeConnect(map[string]any{"token": "wrong"})))
	bad.closed()
	code := fresh(t, s, nil)
	exchange(t, s, code)
	exchange(t, s, code)
	exchange(t, s, "garbage")

	s.SetDeliveryLatency(2 * time.Second) // slept on the virtual clock: instant
	c, _ := connect(t, s)
	c.call("chat.send", map[string]any{"sessionKey": "m", "message": "x", "idempotencyKey": "lat-1"})
	c.readUntil(func(f frame) bool { return f["event"] == "chat" && f.str("payload", "state") == "final" })

	m = scrape()
	assert.Equal(t, 1.0, sample(t, m, `agentme_gateway_auth_failures_total{transport="http"}`))
	assert.Equal(t, 1.0, sample(t, m, `agentme_gateway_auth_failures_total{transport="ws"}`))
	assert.Equal(t, 1.0, sample(t, m, `agentme_gateway_bootstrap_exchanges_total`))
	assert.Equal(t, 1.0, sample(t, m, `agentme_gateway_bootstrap_exchange_failures_total{reason="used"}`))
	assert.Equal(t, 1.0, sample(t, m, `agentme_gateway_bootstrap_exchange_failures_total{reason="format"}`))
	assert.Equal(t, 1.0, sample(t, m, `agentme_gateway_ws_connections_total{result="accepted"}`))
	assert.Equal(t, 1.0, sample(t, m, `agentme_gateway_ws_connections_total{result="rejected"}`))
	assert.Equal(t, 1.0, sample(t, m, `agentme_gateway_tool_calls_total`))
	assert.Equal(t, 1.0, sample(t, m, `agentme_gateway_chat_sends_total`))
	assert.Equal(t, 1.0, sample(t, m, `agentme_channel_delivery_latency_seconds_count`))
	assert.InDelta(t, 2.0, sample(t, m, `agentme_channel_delivery_latency_seconds_sum`), 0.001)
	assert.Equal(t, 0.0, sample(t, m, `agentme_channel_delivery_latency_seconds_bucket{le="1"}`))
	assert.Equal(t, 1.0, sample(t, m, `agentme_channel_delivery_latency_seconds_bucket{le="2.5"}`))
	// 10 minutes, plus the 2 s the delivery latency slept on the shared virtual clock.
	assert.InDelta(t, 602.0, sample(t, m, `agentme_gateway_uptime_seconds`), 0.001)

	// A restart resets uptime but not the counters.
	s.Restart()
	m = scrape()
	assert.Equal(t, 1.0, sample(t, m, `agentme_gateway_restarts_total`))
	assert.Equal(t, 0.0, sample(t, m, `agentme_gateway_uptime_seconds`))
	assert.Equal(t, 1.0, sample(t, m, `agentme_gateway_auth_failures_total{transport="http"}`))

	// On the gateway's port the fault switches apply; the standalone handler ignores them.
	s.SetHTTP5xx(503)
	assert.Equal(t, 503, do(t, s, "GET", "/metrics", "", nil).status)
	rec := httptest.NewRecorder()
	s.MetricsHandler().ServeHTTP(rec, mustRequest(t, "GET", "/metrics"))
	assert.Equal(t, 200, rec.Code)
	assert.Contains(t, rec.Body.String(), "agentme_gateway_restarts_total 1")
}

func TestMetricsArePerServer(t *testing.T) {
	a, _ := start(t, Options{Metrics: true})
	b, _ := start(t, Options{Metrics: true})
	do(t, a, "POST", "/tools/invoke", `{"tool":"x"}`, bearer("wrong"))
	assert.Equal(t, 1.0, sample(t, do(t, a, "GET", "/metrics", "", nil).body, `agentme_gateway_auth_failures_total{transport="http"}`))
	assert.Equal(t, 0.0, sample(t, do(t, b, "GET", "/metrics", "", nil).body, `agentme_gateway_auth_failures_total{transport="http"}`))
}
