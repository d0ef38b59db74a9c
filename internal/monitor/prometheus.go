package monitor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/outcome"
	"github.com/agentme/release-action/internal/redact"
	"github.com/agentme/release-action/internal/untrusted"
)

// QueryTimeout bounds one metric query (a network deadline, not a wait).
const QueryTimeout = 30 * time.Second

// maxAnswer caps how much of one answer is read: a check needs one number per series.
const maxAnswer = 16 << 20

// PromAPI is the part of a Prometheus-compatible HTTP API the monitor uses: an instant
// query evaluated at the server's now.
type PromAPI interface {
	Query(ctx context.Context, query string) (QueryResult, error)
}

// QueryResult is an instant query's answer: its result type (vector, scalar, matrix,
// string) and, for a vector or a scalar, one value per series.
type QueryResult struct {
	Type     string
	Values   []float64
	Warnings []string
}

// APIError is a query the server refused or could not answer, as the API reports it
// (errorType and error), or as the HTTP status says when the answer is not the API's.
type APIError struct {
	Type string
	Msg  string
}

func (e *APIError) Error() string { return e.Type + ": " + e.Msg }

// NewPrometheus returns a client of the Prometheus HTTP API at rawURL (the base URL, the
// one whose /api/v1/query answers). A non-empty token is sent as "Authorization: Bearer"
// on every request; httpClient nil means http.DefaultClient's settings. TLS is verified.
// The token never appears in an error: it is registered with red (the process's one
// redactor, actions.Runner.Redactor; nil means a private one), and every error,
// detail and warning the server sends back is redacted through it.
//
// The client is written here on net/http and encoding/json rather than taken from
// client_golang's api/prometheus/v1: the monitor sends one kind of request, and that
// package (with prometheus/common's model, the protobuf runtime and json-iterator it
// links) was 2.8 MB of the shipped binary. The integration test runs it against a real
// Prometheus.
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
	if red == nil {
		red = redact.New()
	}
	red.Add(token)
	return &scrubbed{api: &promClient{endpoint: u.JoinPath("api", "v1", "query").String(), hc: &hc}, red: red}, nil
}

// promClient sends instant queries: POST with a form body, as Prometheus's own client
// does (long queries fit), and GET when a proxy answers 405 to POST.
type promClient struct {
	endpoint string
	hc       *http.Client
}

func (c *promClient) Query(ctx context.Context, query string) (QueryResult, error) {
	form := url.Values{"query": {query}}.Encode()
	resp, err := c.send(ctx, http.MethodPost, form)
	if err == nil && (resp.StatusCode == http.StatusMethodNotAllowed || resp.StatusCode == http.StatusNotImplemented) {
		resp.Body.Close()
		resp, err = c.send(ctx, http.MethodGet, form)
	}
	if err != nil {
		return QueryResult{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return QueryResult{}, fmt.Errorf("read the answer: %w", err)
	}
	return decodeAnswer(resp.StatusCode, resp.Header.Get("Content-Type"), body)
}

func (c *promClient) send(ctx context.Context, method, form string) (*http.Response, error) {
	var req *http.Request
	var err error
	if method == http.MethodGet {
		req, err = http.NewRequestWithContext(ctx, method, c.endpoint+"?"+form, nil)
	} else {
		req, err = http.NewRequestWithContext(ctx, method, c.endpoint, strings.NewReader(form))
		if req != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	}
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	return c.hc.Do(req)
}

// decodeAnswer reads the API's JSON envelope. An "error" status carries its own type
// and message whatever the HTTP status; an answer that is not the API's JSON is a
// server_error (non-2xx, with the start of the body) or a bad_response.
func decodeAnswer(status int, contentType string, body []byte) (QueryResult, error) {
	var env struct {
		Status    string   `json:"status"`
		ErrorType string   `json:"errorType"`
		Error     string   `json:"error"`
		Warnings  []string `json:"warnings"`
		Data      *struct {
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil || env.Status == "" {
		snippet := strings.TrimSpace(string(body[:min(len(body), 200)]))
		if status/100 != 2 {
			return QueryResult{}, &APIError{Type: "server_error", Msg: fmt.Sprintf("HTTP %d: %s", status, snippet)}
		}
		mt, _, _ := mime.ParseMediaType(contentType)
		return QueryResult{}, &APIError{Type: "bad_response", Msg: fmt.Sprintf("the answer is not Prometheus API JSON (HTTP %d, %s)", status, cmpOr(mt, "no content type"))}
	}
	if env.Status != "success" {
		return QueryResult{}, &APIError{Type: cmpOr(env.ErrorType, "error"), Msg: cmpOr(env.Error, fmt.Sprintf("status %q, HTTP %d", env.Status, status))}
	}
	res := QueryResult{Warnings: env.Warnings}
	if env.Data == nil {
		return res, nil
	}
	res.Type = env.Data.ResultType
	bad := func(err error) (QueryResult, error) {
		return QueryResult{}, &APIError{Type: "bad_response", Msg: fmt.Sprintf("unreadable %s result: %v", res.Type, err)}
	}
	switch res.Type {
	case "vector":
		var samples []struct {
			Value [2]json.RawMessage `json:"value"`
		}
		if err := json.Unmarshal(env.Data.Result, &samples); err != nil {
			return bad(errors.New("not a list of samples"))
		}
		for _, s := range samples {
			v, err := sampleValue(s.Value[1])
			if err != nil {
				return bad(err)
			}
			res.Values = append(res.Values, v)
		}
	case "scalar":
		var pair [2]json.RawMessage
		if err := json.Unmarshal(env.Data.Result, &pair); err != nil {
			return bad(errors.New("not a [time, value] pair"))
		}
		v, err := sampleValue(pair[1])
		if err != nil {
			return bad(err)
		}
		res.Values = []float64{v}
	}
	return res, nil
}

// sampleValue reads a sample's value, a JSON string such as "0.5", "NaN" or "+Inf".
func sampleValue(raw json.RawMessage) (float64, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return 0, fmt.Errorf("sample value %s is not a string", raw)
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("sample value %q is not a number", s)
	}
	return v, nil
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
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

// scrubbed removes registered secrets (the token first of all) from everything a
// Prometheus answer can carry back into the report (error messages, warnings): a hostile
// or misconfigured server may echo the Authorization header, and the report output is
// not masked by the runner.
type scrubbed struct {
	api PromAPI
	red *redact.Redactor
}

func (s *scrubbed) Query(ctx context.Context, query string) (QueryResult, error) {
	res, err := s.api.Query(ctx, query)
	for i := range res.Warnings {
		res.Warnings[i] = s.red.Redact(res.Warnings[i])
	}
	var ae *APIError
	switch {
	case err == nil:
	case errors.As(err, &ae):
		err = &APIError{Type: s.red.Redact(ae.Type), Msg: s.red.Redact(ae.Msg)}
	default:
		err = errors.New(s.red.Redact(err.Error()))
	}
	return res, err
}

// queryCheck evaluates one metric check: an instant query at the server's now. Every
// sample of the answer must be within the bounds; the reported value is the worst one.
// An error, an empty vector, only NaN samples or a non-numeric answer are no data.
func queryCheck(ctx context.Context, p PromAPI, c config.MetricCheck) Reading {
	qctx, cancel := context.WithTimeout(ctx, QueryTimeout)
	defer cancel()
	val, err := p.Query(qctx, c.Query)
	if err != nil {
		if ctx.Err() != nil {
			return Reading{Status: StatusNoData, Detail: "cancelled"}
		}
		return Reading{Status: StatusNoData, Detail: "query failed: " + queryError(err)}
	}
	rd := judge(val, c)
	if len(val.Warnings) > 0 {
		rd.Detail = strings.TrimPrefix(rd.Detail+"; warnings: "+untrusted.OneLine(strings.Join(val.Warnings, "; "), 200), "; ")
	}
	return rd
}

// judge reads a query answer against the check's bounds.
func judge(val QueryResult, c config.MetricCheck) Reading {
	samples := val.Values
	switch val.Type {
	case "vector":
		if len(samples) == 0 {
			return Reading{Status: StatusNoData, Detail: "the query returned no series (empty vector): the metric does not exist, has no samples in the window, or the labels match nothing"}
		}
	case "scalar":
	case "":
		return Reading{Status: StatusNoData, Detail: "the query returned nothing"}
	case "matrix":
		return Reading{Status: StatusNoData, Detail: "the query returned a range vector: wrap it in rate(), increase() or another function that makes one value per series"}
	default:
		return Reading{Status: StatusNoData, Detail: fmt.Sprintf("the query returned a %s, not a number", untrusted.OneLine(val.Type, 40))}
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
