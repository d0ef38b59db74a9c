package monitor

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/outcome"
	"github.com/agentme/release-action/internal/redact"
	"github.com/agentme/release-action/internal/untrusted"
)

// QueryTimeout bounds one metric query (a network deadline, not a wait).
const QueryTimeout = 30 * time.Second

// PromAPI is the part of a Prometheus-compatible query API the monitor uses; v1.API
// (github.com/prometheus/client_golang/api/prometheus/v1) satisfies it.
type PromAPI interface {
	Query(ctx context.Context, query string, ts time.Time, opts ...v1.Option) (model.Value, v1.Warnings, v1.Infos, error)
}

// NewPrometheus returns a client of the Prometheus HTTP API at rawURL (the base URL, the
// one whose /api/v1/query answers). A non-empty token is sent as "Authorization: Bearer"
// on every request; httpClient nil means http.DefaultClient's settings. TLS is verified.
// The token never appears in an error: it is registered with red (the process's one
// redactor, actions.Runner.Redactor; nil means a private one), and every error,
// detail and warning the server sends back is redacted through it.
func NewPrometheus(rawURL, token string, httpClient *http.Client, red *redact.Redactor) (PromAPI, error) {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, outcome.BadInputf("invalid monitor options: prometheus url %q is not an http(s) URL like https://prometheus.example", rawURL)
	}
	if u.User != nil {
		return nil, outcome.BadInputf("invalid monitor options: prometheus url must not carry user info: pass the token through prometheus.token-env (credentials in URLs end up in logs)")
	}
	if strings.ContainsAny(token, "\r\n") || strings.TrimSpace(token) != token {
		return nil, outcome.BadInputf("invalid monitor options: the prometheus token has whitespace or line breaks at its ends or inside (a trailing newline from a secret file?): store it without them")
	}
	hc := http.Client{}
	if httpClient != nil {
		hc = *httpClient
	}
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	hc.Transport = &bearer{token: token, scheme: u.Scheme, host: u.Host, base: base}
	c, err := api.NewClient(api.Config{Address: u.String(), Client: &hc})
	if err != nil {
		return nil, outcome.BadInputf("invalid monitor options: prometheus client for %s: %v", u.Redacted(), err)
	}
	if red == nil {
		red = redact.New()
	}
	red.Add(token)
	return &scrubbed{api: v1.NewAPI(c), red: red}, nil
}

// bearer adds the token to requests for the configured Prometheus only (scheme and host
// as configured): a redirect to another host, or from https to http, never carries it.
// It sets it on a copy: RoundTrippers must not change the caller's request.
type bearer struct {
	token        string
	scheme, host string
	base         http.RoundTripper
}

func (b *bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	if b.token == "" || r.URL.Scheme != b.scheme || !strings.EqualFold(r.URL.Host, b.host) {
		return b.base.RoundTrip(r)
	}
	r2 := r.Clone(r.Context())
	r2.Header.Set("Authorization", "Bearer "+b.token)
	return b.base.RoundTrip(r2)
}

// scrubbed removes registered secrets (the token first of all) from everything a Prometheus answer can carry back into
// the report (error messages and details, warnings): a hostile or misconfigured server
// may echo the Authorization header, and the report output is not masked by the runner.
type scrubbed struct {
	api v1.API
	red *redact.Redactor
}

func (s *scrubbed) Query(ctx context.Context, query string, ts time.Time, opts ...v1.Option) (model.Value, v1.Warnings, v1.Infos, error) {
	val, warnings, infos, err := s.api.Query(ctx, query, ts, opts...)
	for i := range warnings {
		warnings[i] = s.scrub(warnings[i])
	}
	var pe *v1.Error
	switch {
	case err == nil:
	case errors.As(err, &pe):
		err = &v1.Error{Type: pe.Type, Msg: s.scrub(pe.Msg), Detail: s.scrub(pe.Detail)}
	default:
		err = errors.New(s.scrub(err.Error()))
	}
	return val, warnings, infos, err
}

func (s *scrubbed) scrub(text string) string { return s.red.Redact(text) }

// queryCheck evaluates one metric check: an instant query at the server's now. Every
// sample of the answer must be within the bounds; the reported value is the worst one.
// An error, an empty vector, only NaN samples or a non-numeric answer are no data.
func queryCheck(ctx context.Context, p PromAPI, c config.MetricCheck) Reading {
	qctx, cancel := context.WithTimeout(ctx, QueryTimeout)
	defer cancel()
	val, warnings, _, err := p.Query(qctx, c.Query, time.Time{})
	if err != nil {
		if ctx.Err() != nil {
			return Reading{Status: StatusNoData, Detail: "cancelled"}
		}
		return Reading{Status: StatusNoData, Detail: "query failed: " + queryError(err)}
	}
	rd := judge(val, c)
	if len(warnings) > 0 {
		rd.Detail = strings.TrimPrefix(rd.Detail+"; warnings: "+untrusted.OneLine(strings.Join(warnings, "; "), 200), "; ")
	}
	return rd
}

// judge reads a query answer against the check's bounds.
func judge(val model.Value, c config.MetricCheck) Reading {
	var samples []float64
	switch v := val.(type) {
	case model.Vector:
		for _, s := range v {
			samples = append(samples, float64(s.Value))
		}
		if len(samples) == 0 {
			return Reading{Status: StatusNoData, Detail: "the query returned no series (empty vector): the metric does not exist, has no samples in the window, or the labels match nothing"}
		}
	case *model.Scalar:
		samples = []float64{float64(v.Value)}
	case nil:
		return Reading{Status: StatusNoData, Detail: "the query returned nothing"}
	case model.Matrix:
		return Reading{Status: StatusNoData, Detail: "the query returned a range vector: wrap it in rate(), increase() or another function that makes one value per series"}
	default:
		return Reading{Status: StatusNoData, Detail: fmt.Sprintf("the query returned a %s, not a number", val.Type())}
	}
	var real []float64
	for _, f := range samples {
		if !math.IsNaN(f) {
			real = append(real, f)
		}
	}
	if len(real) == 0 {
		return Reading{Status: StatusNoData, Detail: "the query returned only NaN (a quantile or ratio over no observations)"}
	}
	lo, hi := real[0], real[0]
	for _, f := range real[1:] {
		lo, hi = min(lo, f), max(hi, f)
	}
	series := ""
	if len(real) > 1 {
		series = fmt.Sprintf(" (worst of %d series)", len(real))
	}
	switch {
	case c.Max != nil && hi > *c.Max:
		return Reading{Status: StatusBad, Value: &hi, Detail: fmt.Sprintf("%s > max %s%s", num(hi), num(*c.Max), series)}
	case c.Min != nil && lo < *c.Min:
		return Reading{Status: StatusBad, Value: &lo, Detail: fmt.Sprintf("%s < min %s%s", num(lo), num(*c.Min), series)}
	}
	v := hi
	if c.Max == nil && c.Min != nil {
		v = lo
	}
	return Reading{Status: StatusOK, Value: &v}
}

// queryError explains a failed query in one line.
func queryError(err error) string {
	var pe *v1.Error
	if errors.As(err, &pe) {
		msg := string(pe.Type) + ": " + pe.Msg
		if pe.Detail != "" && pe.Detail != pe.Msg {
			msg += " (" + pe.Detail + ")"
		}
		return untrusted.OneLine(msg, 300)
	}
	return untrusted.OneLine(err.Error(), 300)
}

// num prints a value compactly (0.5, 12, 1.25e-05).
func num(f float64) string { return strconv.FormatFloat(f, 'g', 4, 64) }

// RunbookChecks are metric checks for the runbook's post-release signals (section 6),
// over the metric names the gateway emulator exports; copy and adapt them to your
// exporter. Thresholds allow for the monitor's own probes at a 1m interval (3 auth
// failures a minute, 0.05/s).
func RunbookChecks() []config.MetricCheck {
	f := func(v float64) *float64 { return &v }
	return []config.MetricCheck{
		{ // "no sustained auth errors in logs"
			Name:  "auth errors",
			Query: "sum(rate(agentme_gateway_auth_failures_total[5m]))",
			Max:   f(0.5),
		},
		{ // "no repeated bootstrap exchange failures beyond expected invalid attempts"
			Name:  "bootstrap exchange failures",
			Query: "sum(increase(agentme_gateway_bootstrap_exchange_failures_total[10m]))",
			Max:   f(10),
		},
		{ // "channel delivery latency normal"; the monitor's channel probe keeps it fed
			Name:  "channel delivery latency p95",
			Query: "histogram_quantile(0.95, sum by (le) (rate(agentme_channel_delivery_latency_seconds_bucket[5m])))",
			Max:   f(10),
		},
		{ // "no unexpected crash/restart loops"
			Name:  "restart loops",
			Query: "sum(increase(agentme_gateway_restarts_total[15m]))",
			Max:   f(1),
		},
	}
}
