package gatewayemu

import (
	"net/http/httptest"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMetricsExpositionParses reads the hand-written exposition with Prometheus's own
// text parser: every family has its type and help, labels are escaped, histogram
// buckets are cumulative.
func TestMetricsExpositionParses(t *testing.T) {
	s := New(Options{Token: testToken, Version: "2026.2.9 \"beta\"\n\\x", TickInterval: -1})
	t.Cleanup(s.Close)
	for _, v := range []float64{0.05, 0.07, 3, 100} {
		s.metrics.latency.Observe(v)
	}
	s.metrics.exchangeFailures.WithLabelValues("used").Inc()

	rec := httptest.NewRecorder()
	s.MetricsHandler().ServeHTTP(rec, mustRequest(t, "GET", "/metrics"))
	require.Equal(t, 200, rec.Code)
	assert.Equal(t, "text/plain; version=0.0.4; charset=utf-8", rec.Header().Get("Content-Type"))
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(rec.Body.String()))
	require.NoError(t, err, rec.Body.String())

	types := map[string]dto.MetricType{}
	for name, f := range families {
		types[name] = f.GetType()
		assert.NotEmpty(t, f.GetHelp(), name)
	}
	assert.Equal(t, map[string]dto.MetricType{
		"agentme_gateway_auth_failures_total":               dto.MetricType_COUNTER,
		"agentme_gateway_bootstrap_exchange_failures_total": dto.MetricType_COUNTER,
		"agentme_gateway_bootstrap_exchanges_total":         dto.MetricType_COUNTER,
		"agentme_gateway_restarts_total":                    dto.MetricType_COUNTER,
		"agentme_gateway_ws_connections_total":              dto.MetricType_COUNTER,
		"agentme_gateway_chat_sends_total":                  dto.MetricType_COUNTER,
		"agentme_gateway_tool_calls_total":                  dto.MetricType_COUNTER,
		"agentme_channel_delivery_latency_seconds":          dto.MetricType_HISTOGRAM,
		"agentme_gateway_uptime_seconds":                    dto.MetricType_GAUGE,
		"agentme_gateway_build_info":                        dto.MetricType_GAUGE,
	}, types)

	info := families["agentme_gateway_build_info"].GetMetric()
	require.Len(t, info, 1)
	assert.Equal(t, "2026.2.9 \"beta\"\n\\x", info[0].GetLabel()[0].GetValue(), "the label value round-trips through escaping")

	h := families["agentme_channel_delivery_latency_seconds"].GetMetric()[0].GetHistogram()
	assert.Equal(t, uint64(4), h.GetSampleCount())
	assert.InDelta(t, 103.12, h.GetSampleSum(), 1e-9)
	cum := map[float64]uint64{}
	for _, b := range h.GetBucket() {
		cum[b.GetUpperBound()] = b.GetCumulativeCount()
	}
	assert.Equal(t, uint64(1), cum[0.05], "a value equal to a bound is in that bucket")
	assert.Equal(t, uint64(2), cum[0.1])
	assert.Equal(t, uint64(2), cum[2.5])
	assert.Equal(t, uint64(3), cum[5])
	assert.Equal(t, uint64(3), cum[60], "100 is only in +Inf, which the parser folds into the count")

	var reasons []string
	for _, m := range families["agentme_gateway_bootstrap_exchange_failures_total"].GetMetric() {
		reasons = append(reasons, m.GetLabel()[0].GetValue())
		if m.GetLabel()[0].GetValue() == "used" {
			assert.Equal(t, 1.0, m.GetCounter().GetValue())
		}
	}
	assert.Equal(t, []string{"expired", "format", "payload", "signature", "used"}, reasons, "labelled series pre-initialised and sorted")

	head := httptest.NewRecorder()
	s.MetricsHandler().ServeHTTP(head, mustRequest(t, "HEAD", "/metrics"))
	assert.Equal(t, 200, head.Code)
	assert.Empty(t, head.Body.String())
}
