package smoke

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	vocab "github.com/agentme/release-action/internal/outcome"

	"github.com/agentme/release-action/internal/clock"
)

const (
	readyFirstDelay = 500 * time.Millisecond
	readyMaxDelay   = 10 * time.Second
	// maxAttempts bounds the retries of a probe after the gateway came up; only a
	// transient network failure (reset, refused, 502/503/504, restart close) is retried.
	maxAttempts       = 3
	retryFirstDelay   = 500 * time.Millisecond
	progressHeartbeat = 30 * time.Second
)

// credential is the configured gateway credential; kind is "token" or "password", the
// key the gateway expects in connect's auth object and returns from an exchange.
type credential struct {
	kind  string
	value string
}

// session is one Run: resolved options, the HTTP client, the redactor and what the
// gateway said about itself.
type session struct {
	clk            clock.Clock
	httpc          *http.Client
	base           *url.URL // http(s) base with the URL's path prefix, no trailing slash
	wsURL          string
	origin         string
	uiURL          *url.URL
	uiMarker       string
	cred           credential
	probeTimeout   time.Duration
	channelTimeout time.Duration
	ready          time.Duration
	sessionKey     string
	target         *ChannelTarget
	tool           string
	red            *redactor
	progressFn     func(string)

	server     ServerInfo
	haveServer bool
	lastUptime int64
}

// outcome is what one attempt of a probe found.
type outcome struct {
	ok        bool
	detail    string
	transient bool // worth another attempt
}

func passed(format string, args ...any) outcome {
	return outcome{ok: true, detail: fmt.Sprintf(format, args...)}
}

func failed(format string, args ...any) outcome {
	return outcome{detail: fmt.Sprintf(format, args...)}
}

type probeFunc func(s *session, ctx context.Context) outcome

var probeFuncs = map[string]probeFunc{
	ProbeConnectAuth: (*session).probeConnectAuth,
	ProbeControlUI:   (*session).probeControlUI,
	ProbeChannel:     (*session).probeChannel,
	ProbeBootstrap:   (*session).probeBootstrap,
	ProbeToolCall:    (*session).probeToolCall,
}

// Run validates the options, waits for the gateway to come up within the readiness
// budget and runs the selected probes one after another. A failed probe is a result in
// the Report (Verdict "fail"), not an error: Run returns an error only for invalid
// options or when ctx ends, and then no Report.
func Run(ctx context.Context, o Options) (*Report, error) {
	warnings, err := o.Validate()
	if err != nil {
		return nil, vocab.BadInputf("invalid smoke options: %w", err)
	}
	// Validate's warnings are the caller's to print (the CLI makes them annotations);
	// echoing them here too would print each twice.
	_ = warnings
	s := newSession(o)
	rep := &Report{Gateway: cleanURL(o.URL)}
	selected := selectedProbes(o.Probes)
	start := s.clk.Now()

	ready, readyAfter, why := s.waitReady(ctx)
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("smoke run against %s: %w", rep.Gateway, err)
	}
	rep.Ready, rep.ReadyAfter = ready, readyAfter
	for _, name := range selected {
		var res ProbeResult
		if ready {
			res = s.runProbe(ctx, name)
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("smoke run against %s: %s probe: %w", rep.Gateway, name, err)
			}
			if name == ProbeChannel && res.Attempts > 0 {
				rep.SessionKey = s.sessionKey
			}
		} else {
			res = ProbeResult{Name: name, Detail: s.red.clean(why, maxDetail)}
		}
		rep.Probes = append(rep.Probes, res)
	}
	rep.Server = s.server
	rep.Duration = s.clk.Now().Sub(start)
	rep.Verdict = vocab.Pass
	for _, p := range rep.Probes {
		if !p.OK {
			rep.Verdict = vocab.Fail
		}
	}
	if len(rep.Probes) == 0 {
		rep.Verdict = vocab.Fail
	}
	s.progress("smoke %s: %d/%d probes passed against %s", rep.Verdict, countOK(rep.Probes), len(rep.Probes), rep.Gateway)
	return rep, nil
}

func newSession(o Options) *session {
	s := &session{
		clk:            o.Clock,
		origin:         o.Origin,
		uiMarker:       o.UIMarker,
		probeTimeout:   o.ProbeTimeout,
		channelTimeout: o.ChannelTimeout,
		ready:          o.Ready,
		sessionKey:     o.SessionKey,
		target:         o.ChannelTarget,
		tool:           o.Tool,
		red:            newRedactor(o.Redactor),
		progressFn:     o.Progress,
	}
	if s.clk == nil {
		s.clk = clock.Real{}
	}
	if s.probeTimeout == 0 {
		s.probeTimeout = DefaultProbeTimeout
	}
	if s.channelTimeout == 0 {
		s.channelTimeout = DefaultChannelTimeout
	}
	if s.ready == 0 {
		s.ready = DefaultReady
	}
	if s.uiMarker == "" {
		s.uiMarker = DefaultUIMarker
	}
	if s.tool == "" {
		s.tool = DefaultTool
	}
	if s.sessionKey == "" {
		s.sessionKey = DefaultSessionPrefix + strings.ToLower(rand.Text()[:12])
	}
	if s.origin == "" {
		s.origin = defaultOrigin(o.URL)
	} else {
		s.origin, _ = parseOrigin(s.origin) // Validate accepted it
	}
	if o.Token != "" {
		s.cred = credential{kind: "token", value: o.Token}
	} else {
		s.cred = credential{kind: "password", value: o.Password}
	}
	s.red.add(s.cred.value)

	// Redirects are never followed automatically: a redirected POST would carry the
	// bearer credential to wherever the Location points.
	base := http.DefaultClient
	if o.HTTPClient != nil {
		base = o.HTTPClient
	}
	hc := *base
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	s.httpc = &hc

	scheme := strings.ToLower(o.URL.Scheme)
	httpScheme, wsScheme := scheme, scheme
	switch scheme {
	case "https", "wss":
		httpScheme, wsScheme = "https", "wss"
	case "http", "ws":
		httpScheme, wsScheme = "http", "ws"
	}
	prefix := strings.TrimSuffix(o.URL.Path, "/")
	s.base = &url.URL{Scheme: httpScheme, Host: o.URL.Host, Path: prefix}
	ws := url.URL{Scheme: wsScheme, Host: o.URL.Host, Path: prefix + "/"}
	s.wsURL = ws.String()
	basePath := o.BasePath
	if basePath == "" {
		basePath = "/"
	}
	s.uiURL = &url.URL{Scheme: httpScheme, Host: o.URL.Host, Path: prefix + basePath}
	return s
}

// selectedProbes returns the requested probes in canonical order, without duplicates.
func selectedProbes(requested []string) []string {
	if len(requested) == 0 {
		return AllProbes()
	}
	var out []string
	for _, p := range AllProbes() {
		if slices.Contains(requested, p) {
			out = append(out, p)
		}
	}
	return out
}

func countOK(ps []ProbeResult) int {
	n := 0
	for _, p := range ps {
		if p.OK {
			n++
		}
	}
	return n
}

func (s *session) progress(format string, args ...any) {
	if s.progressFn != nil {
		s.progressFn(s.red.clean(fmt.Sprintf(format, args...), maxDetail))
	}
}

// waitReady retries an unauthenticated WebSocket handshake (dial and connect.challenge)
// while the failure looks like a gateway still coming up: refused or reset connections,
// 502/503/504 from a proxy, a restart close. Any other answer ends the wait at once and
// the probes run to explain it. It returns whether the gateway came up, how long that
// took, and why not.
func (s *session) waitReady(ctx context.Context) (bool, time.Duration, string) {
	start := s.clk.Now()
	delay := readyFirstDelay
	lastSaid, lastSaidAt := "", start
	for {
		f := s.readyCheck(ctx)
		elapsed := s.clk.Now().Sub(start)
		if ctx.Err() != nil {
			return false, elapsed, ""
		}
		if f == nil || !f.transient {
			if elapsed > 0 {
				s.progress("gateway at %s is up after %s", cleanURL(s.base), elapsed.Round(time.Millisecond))
			}
			return true, elapsed, ""
		}
		remaining := s.ready - elapsed
		if remaining <= 0 {
			why := fmt.Sprintf("the gateway did not come up within the readiness budget of %s (last: %s): check that the deployment is running and its logs",
				s.ready, f.detail)
			s.progress("%s", why)
			return false, elapsed, why
		}
		wait := min(delay, remaining)
		if f.detail != lastSaid || s.clk.Now().Sub(lastSaidAt) >= progressHeartbeat {
			s.progress("waiting for the gateway at %s to come up (%s); retrying, %s of %s spent",
				cleanURL(s.base), f.detail, elapsed.Round(time.Millisecond), s.ready)
			lastSaid, lastSaidAt = f.detail, s.clk.Now()
		}
		if err := s.clk.Sleep(ctx, wait); err != nil {
			return false, s.clk.Now().Sub(start), ""
		}
		delay = min(delay*2, readyMaxDelay)
	}
}

func (s *session) readyCheck(ctx context.Context) *failure {
	ctx, cancel := context.WithTimeout(ctx, s.probeTimeout)
	defer cancel()
	c, f := s.dial(ctx, "")
	if f != nil {
		return f
	}
	defer c.close()
	_, f = c.awaitChallenge(ctx)
	return f
}

// runProbe runs one probe, retrying a transient failure up to maxAttempts in all.
func (s *session) runProbe(ctx context.Context, name string) ProbeResult {
	fn := probeFuncs[name]
	res := ProbeResult{Name: name}
	delay := retryFirstDelay
	for {
		res.Attempts++
		t0 := s.clk.Now()
		out := s.attempt(ctx, name, fn)
		res.Latency = s.clk.Now().Sub(t0)
		res.OK = out.ok
		res.Detail = s.red.clean(out.detail, maxDetail)
		if out.ok || !out.transient || res.Attempts >= maxAttempts || ctx.Err() != nil {
			break
		}
		s.progress("%s: attempt %d failed (%s); retrying", name, res.Attempts, res.Detail)
		if s.clk.Sleep(ctx, delay) != nil {
			break
		}
		delay *= 2
	}
	if res.OK {
		s.progress("%s: ok in %s: %s", name, res.Latency.Round(time.Millisecond), res.Detail)
	} else {
		s.progress("%s: FAILED after %d attempt(s): %s", name, res.Attempts, res.Detail)
	}
	return res
}

func (s *session) attempt(ctx context.Context, name string, fn probeFunc) outcome {
	budget := s.probeTimeout
	if name == ProbeChannel {
		budget += s.channelTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	return fn(s, ctx)
}

// noteHello records the server info of the first hello-ok and notices a restart.
func (s *session) noteHello(h *helloOK) {
	uptime := int64(h.Snapshot.UptimeMs)
	version := s.red.clean(h.Server.Version, 80)
	if !s.haveServer {
		s.haveServer = true
		s.server = ServerInfo{Version: version, ConnID: s.red.clean(h.Server.ConnID, 80), UptimeMs: uptime}
		s.lastUptime = uptime
		return
	}
	if uptime < s.lastUptime || (version != "" && s.server.Version != "" && version != s.server.Version) {
		if !s.server.Restarted {
			s.progress("the gateway restarted during the smoke run (uptime went from %dms to %dms): probes after this point ran against the new process",
				s.lastUptime, uptime)
		}
		s.server.Restarted = true
	}
	s.lastUptime = uptime
}
