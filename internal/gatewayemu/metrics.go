package gatewayemu

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics live in a registry private to one Server, so several emulators in one test
// binary do not share counters.
//
// The counters survive Restart, as if a supervisor that outlives the gateway process
// exported them; otherwise agentme_gateway_restarts_total could never count anything.
// Every series exists from the start (labelled ones pre-initialised at zero): a
// monitor must be able to tell "zero failures" from "no data".
type metrics struct {
	reg              *prometheus.Registry
	authFailures     *prometheus.CounterVec
	exchangeFailures *prometheus.CounterVec
	exchanges        prometheus.Counter
	restarts         prometheus.Counter
	connections      *prometheus.CounterVec
	chatSends        prometheus.Counter
	toolCalls        prometheus.Counter
	latency          prometheus.Histogram
}

func newMetrics(s *Server) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "agentme_gateway_auth_failures_total",
			Help: "Requests and connections refused for a wrong or missing credential.",
		}, []string{"transport"}),
		exchangeFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "agentme_gateway_bootstrap_exchange_failures_total",
			Help: "Bootstrap code exchanges refused, by reason.",
		}, []string{"reason"}),
		exchanges: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "agentme_gateway_bootstrap_exchanges_total",
			Help: "Successful bootstrap code exchanges.",
		}),
		restarts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "agentme_gateway_restarts_total",
			Help: "Gateway process restarts.",
		}),
		connections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "agentme_gateway_ws_connections_total",
			Help: "WebSocket handshakes, by result.",
		}, []string{"result"}),
		chatSends: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "agentme_gateway_chat_sends_total",
			Help: "chat.send runs started.",
		}),
		toolCalls: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "agentme_gateway_tool_calls_total",
			Help: "Successful /tools/invoke calls.",
		}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "agentme_channel_delivery_latency_seconds",
			Help:    "Time from chat.send to the final reply event.",
			Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60},
		}),
	}
	for _, t := range []string{"http", "ws"} {
		m.authFailures.WithLabelValues(t)
	}
	for _, r := range []string{"format", "signature", "payload", "expired", "used"} {
		m.exchangeFailures.WithLabelValues(r)
	}
	for _, r := range []string{"accepted", "rejected"} {
		m.connections.WithLabelValues(r)
	}
	uptime := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "agentme_gateway_uptime_seconds",
		Help: "Seconds since the gateway process started; a drop means a restart.",
	}, func() float64 { return s.Uptime().Seconds() })
	info := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "agentme_gateway_build_info",
		Help:        "Gateway version, as a label.",
		ConstLabels: prometheus.Labels{"version": s.opts.Version},
	})
	info.Set(1)
	m.reg.MustRegister(m.authFailures, m.exchangeFailures, m.exchanges, m.restarts,
		m.connections, m.chatSends, m.toolCalls, m.latency, uptime, info)
	return m
}

// MetricsHandler serves the emulator's metrics in the Prometheus exposition format.
// It ignores the fault switches; mount it on its own listener to scrape a gateway
// that is failing on purpose, or set Options.Metrics to serve it at /metrics on the
// gateway's own port (where SetSlowStart and SetHTTP5xx apply to it too).
func (s *Server) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{})
}
