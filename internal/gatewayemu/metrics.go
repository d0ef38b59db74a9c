package gatewayemu

import (
	"bytes"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// metrics live in a registry private to one Server, so several emulators in one test
// binary do not share counters.
//
// The counters survive Restart, as if a supervisor that outlives the gateway process
// exported them; otherwise agentme_gateway_restarts_total could never count anything.
// Every series exists from the start (labelled ones pre-initialised at zero): a
// monitor must be able to tell "zero failures" from "no data".
//
// They are written in the Prometheus text exposition format (version 0.0.4) by hand
// rather than with client_golang's registry: ten fixed series do not need it, and the
// registry (with the protobuf runtime it links) was 0.8 MB of the shipped binary, which
// carries this emulator for the sandbox. The monitor's integration test scrapes this
// output with a real Prometheus.
type metrics struct {
	mu               sync.Mutex
	authFailures     *counterVec
	exchangeFailures *counterVec
	exchanges        *counter
	restarts         *counter
	connections      *counterVec
	chatSends        *counter
	toolCalls        *counter
	latency          *histogram
	uptime           func() float64
	version          string
}

// counter only goes up by one; its value is read under the registry's lock.
type counter struct {
	mu *sync.Mutex
	v  float64
}

func (c *counter) Inc() {
	c.mu.Lock()
	c.v++
	c.mu.Unlock()
}

// counterVec is a counter per value of one label.
type counterVec struct {
	mu     *sync.Mutex
	values map[string]*counter
}

// WithLabelValues returns the counter of one label value, creating it at zero.
func (v *counterVec) WithLabelValues(value string) *counter {
	v.mu.Lock()
	defer v.mu.Unlock()
	c, ok := v.values[value]
	if !ok {
		c = &counter{mu: v.mu}
		v.values[value] = c
	}
	return c
}

// histogram counts observations per upper bound (cumulated when written).
type histogram struct {
	mu       *sync.Mutex
	bounds   []float64
	counts   []uint64 // per bucket, not cumulative; one more for +Inf
	sum      float64
	observed uint64
}

func (h *histogram) Observe(v float64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	i, _ := slices.BinarySearch(h.bounds, v) // le: a value equal to a bound is in it
	h.counts[i]++
	h.sum += v
	h.observed++
}

func newMetrics(s *Server) *metrics {
	m := &metrics{uptime: func() float64 { return s.Uptime().Seconds() }, version: s.opts.Version}
	vec := func(values ...string) *counterVec {
		v := &counterVec{mu: &m.mu, values: map[string]*counter{}}
		for _, value := range values {
			v.WithLabelValues(value)
		}
		return v
	}
	m.authFailures = vec("http", "ws")
	m.exchangeFailures = vec("format", "signature", "payload", "expired", "used")
	m.connections = vec("accepted", "rejected")
	m.exchanges = &counter{mu: &m.mu}
	m.restarts = &counter{mu: &m.mu}
	m.chatSends = &counter{mu: &m.mu}
	m.toolCalls = &counter{mu: &m.mu}
	bounds := []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}
	m.latency = &histogram{mu: &m.mu, bounds: bounds, counts: make([]uint64, len(bounds)+1)}
	return m
}

// MetricsHandler serves the emulator's metrics in the Prometheus exposition format.
// It ignores the fault switches; mount it on its own listener to scrape a gateway
// that is failing on purpose, or set Options.Metrics to serve it at /metrics on the
// gateway's own port (where SetSlowStart and SetHTTP5xx apply to it too).
func (s *Server) MetricsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		body := s.metrics.exposition()
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		if r.Method != http.MethodHead {
			_, _ = w.Write(body)
		}
	})
}

// exposition writes every series, one family after the other, labelled series sorted by
// label value (as client_golang does).
func (m *metrics) exposition() []byte {
	uptime := m.uptime() // takes the server's lock: not under ours
	m.mu.Lock()
	defer m.mu.Unlock()
	var b bytes.Buffer
	family := func(name, typ, help string) {
		b.WriteString("# HELP " + name + " " + strings.NewReplacer(`\`, `\\`, "\n", `\n`).Replace(help) + "\n")
		b.WriteString("# TYPE " + name + " " + typ + "\n")
	}
	sample := func(name, label, value string, v float64) {
		b.WriteString(name)
		if label != "" {
			b.WriteString("{" + label + `="` + labelValue(value) + `"}`)
		}
		b.WriteString(" " + number(v) + "\n")
	}
	counterFamily := func(name, help string, c *counter) {
		family(name, "counter", help)
		sample(name, "", "", c.v)
	}
	vecFamily := func(name, help, label string, v *counterVec) {
		family(name, "counter", help)
		for _, value := range slices.Sorted(func(yield func(string) bool) {
			for k := range v.values {
				if !yield(k) {
					return
				}
			}
		}) {
			sample(name, label, value, v.values[value].v)
		}
	}
	vecFamily("agentme_gateway_auth_failures_total", "Requests and connections refused for a wrong or missing credential.", "transport", m.authFailures)
	vecFamily("agentme_gateway_bootstrap_exchange_failures_total", "Bootstrap code exchanges refused, by reason.", "reason", m.exchangeFailures)
	counterFamily("agentme_gateway_bootstrap_exchanges_total", "Successful bootstrap code exchanges.", m.exchanges)
	counterFamily("agentme_gateway_restarts_total", "Gateway process restarts.", m.restarts)
	vecFamily("agentme_gateway_ws_connections_total", "WebSocket handshakes, by result.", "result", m.connections)
	counterFamily("agentme_gateway_chat_sends_total", "chat.send runs started.", m.chatSends)
	counterFamily("agentme_gateway_tool_calls_total", "Successful /tools/invoke calls.", m.toolCalls)

	const lat = "agentme_channel_delivery_latency_seconds"
	family(lat, "histogram", "Time from chat.send to the final reply event.")
	var cum uint64
	for i, le := range m.latency.bounds {
		cum += m.latency.counts[i]
		sample(lat+"_bucket", "le", number(le), float64(cum))
	}
	sample(lat+"_bucket", "le", "+Inf", float64(m.latency.observed))
	sample(lat+"_sum", "", "", m.latency.sum)
	sample(lat+"_count", "", "", float64(m.latency.observed))

	family("agentme_gateway_uptime_seconds", "gauge", "Seconds since the gateway process started; a drop means a restart.")
	sample("agentme_gateway_uptime_seconds", "", "", uptime)
	family("agentme_gateway_build_info", "gauge", "Gateway version, as a label.")
	sample("agentme_gateway_build_info", "version", m.version, 1)
	return b.Bytes()
}

// number formats a sample value or bucket bound as the exposition format spells it.
func number(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// labelValue escapes a label value: backslash, double quote and line feed.
func labelValue(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}
