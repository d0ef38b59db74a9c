// Package gatewayemu emulates the external interface of the Agent Me gateway
// (reference/agentme.md): the control UI and its SPA fallback, Bearer-authenticated
// HTTP APIs (/tools/invoke, bootstrap links) and the WebSocket control protocol
// (challenge, connect, hello-ok, methods, chat streaming, shutdown) on one port.
//
// It exists so smoke probes, the monitor and `release-action sandbox` can run against
// a real server on loopback, and so every behaviour a probe checks can be broken on
// purpose with a switch (SetAuthNotEnforced, SetNoModel, ...). Uptime, bootstrap
// expiry, device signature age and pairing requests are measured on Options.Clock, so
// a clock.Virtual drives them (a client signing a device identity must sign with the
// same clock).
//
// The WebSocket handshake is as strict as the real gateway's (OpenClaw 2026.2.9, of
// which Agent Me is a fork), in the same order:
//
//   - The first frame must be JSON (else close 1000, no reason) and a request frame
//     with exactly {type:"req", id (non-empty string), method (non-empty string),
//     params?}; anything else is closed 1008 "invalid request frame" with no res. A
//     request other than connect gets res INVALID_REQUEST "invalid handshake: first
//     request must be connect" and close 1008. Connect params are checked against
//     the gateway's schema, closed to unknown properties in params, client, device
//     and auth: res INVALID_REQUEST "invalid connect params: <Ajv errors>" (e.g. "at
//     /client/id: must be equal to constant; at /client/id: must match a schema in
//     anyOf") and close 1008 with that text cut to 120 bytes. Client ids: webchat-ui,
//     agentme-control-ui, webchat, cli, gateway-client, agentme-macos, agentme-ios,
//     agentme-android, node-host, test, fingerprint, agentme-probe; modes: webchat,
//     cli, ui, backend, node, probe, test.
//   - Protocol 3 must be in [minProtocol, maxProtocol] (else close 1002); role is
//     "operator" (default) or "node" (else "invalid role").
//   - Browser origin, for the control UI (client id agentme-control-ui) and webchat
//     (mode webchat or id webchat-ui): the Origin must be in
//     Options.ControlUIAllowedOrigins, or its host[:port] must equal the Host
//     header, or both must be loopback; else INVALID_REQUEST "origin not allowed
//     (...gateway.controlUi.allowedOrigins)", close 1008. A missing Origin is refused.
//   - Device identity (params.device {id, publicKey, signature, signedAt, nonce}):
//     the control UI must send one unless Options.AllowInsecureAuth ("control ui
//     requires HTTPS or localhost (secure context)", INVALID_REQUEST, close 1008).
//     Another client may skip it only with a valid shared credential: a wrong one is
//     refused as unauthorized, none at all is NOT_PAIRED "device identity required".
//   - A device is verified: id = hex(sha256(raw ed25519 key)) ("device identity
//     mismatch"), signedAt within DeviceSignatureSkew of the clock ("device signature
//     expired"), nonce = the connect.challenge nonce ("device nonce mismatch";
//     required from non-local clients: "device nonce required"), and an ed25519
//     signature over DeviceAuthPayload ("device signature invalid").
//   - The credential (token or password of the auth mode, or a paired device's own
//     token): "unauthorized: gateway token missing|mismatch (<hint>)", close 1008,
//     where the hint depends on the client (CLI mode, browser, other).
//   - Pairing, for every client that sent a device: an unknown device (or one asking
//     for a role or scope it was not approved for) gets a pairing request, approved
//     on the spot for a local client; otherwise NOT_PAIRED "pairing required" with
//     details {requestId}, close 1008, until ApproveDevice. hello-ok of a paired
//     device carries auth {deviceToken, role, scopes, issuedAtMs}.
//
// A client is local when its peer address is loopback AND the Host header names
// the local host (localhost, 127.0.0.1, ::1 or *.ts.net) AND no X-Forwarded-For,
// X-Real-IP or X-Forwarded-Host header is present: a test makes a loopback client
// remote by sending another Host (websocket.DialOptions.Host).
//
// After hello-ok, an invalid request frame is answered INVALID_REQUEST "invalid
// request frame: <Ajv errors>" (id echoed, else "invalid"), unparseable JSON is
// ignored, and connect again is "connect is only valid as the first request".
//
// Credentials handed to the emulator are never logged; the emulator logs nothing.
package gatewayemu

import (
	"context"
	"crypto/rand"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/agentme/release-action/internal/clock"
)

// Defaults applied by New.
const (
	DefaultVersion        = "2026.2.9"
	DefaultConnectTimeout = 10 * time.Second
	DefaultTickInterval   = 30 * time.Second
	// ProtocolVersion is the only gateway protocol version the emulator speaks.
	ProtocolVersion = 3
)

// Options configure an emulated gateway. Exactly one of Token and Password must be
// set: that is the gateway's auth mode.
type Options struct {
	// Token selects auth mode "token" (gateway.auth.token / AGENTME_GATEWAY_TOKEN).
	Token string
	// Password selects auth mode "password" (gateway.auth.password).
	Password string
	// BootstrapSecret is AGENTME_BOOTSTRAP_SECRET. Empty means the signing key is
	// "agentme-bootstrap:" + the token or password, so rotating the credential
	// invalidates outstanding codes.
	BootstrapSecret string
	// AllowedOrigins is gateway.auth.allowedOrigins, an Agent Me addition ("scheme://
	// host[:port]", "*" for any): when set, the authenticated HTTP APIs (/tools/invoke,
	// bootstrap create) refuse a request that sends another Origin. Empty allows every
	// origin. It does not apply to WebSocket clients: see ControlUIAllowedOrigins.
	AllowedOrigins []string
	// ControlUIAllowedOrigins is gateway.controlUi.allowedOrigins: origins ("scheme://
	// host[:port]", compared case-insensitively, no wildcard) from which control UI
	// and webchat WebSocket clients are accepted besides the gateway's own host.
	ControlUIAllowedOrigins []string
	// AllowInsecureAuth is gateway.controlUi.allowInsecureAuth: a control UI client
	// without a device identity is accepted on the shared credential alone (and a
	// control UI that signs in with the credential skips pairing).
	AllowInsecureAuth bool
	// BasePath is the control UI base path; default "/".
	BasePath string
	// Version is the server version reported in hello-ok; default DefaultVersion.
	Version string
	// Host is reported as hello-ok server.host; default "agentme-gateway".
	Host string
	// Clock measures uptime, bootstrap expiry, the slow start, the age of device
	// signatures and of pairing requests; default clock.Real. A client that signs a
	// device identity must sign with this clock (the gateway allows 10 minutes of skew).
	Clock clock.Clock
	// Tools are the tools /tools/invoke may call; default sessions_list, agents_list.
	Tools []string
	// Channels are the configured outbound channels for the "send" method; the first
	// is the default channel. Default: telegram.
	Channels []string
	// ConnectTimeout closes (1000) a WebSocket that sends no connect request in time.
	// It is wall-clock time, being a network deadline; default DefaultConnectTimeout.
	ConnectTimeout time.Duration
	// TickInterval paces the "tick" event on wall-clock time; default
	// DefaultTickInterval, negative disables ticks.
	TickInterval time.Duration
	// Metrics serves MetricsHandler at GET /metrics on Handler as well. The real
	// gateway has no /metrics (the path falls through to the control UI), so it is off
	// by default.
	Metrics bool
}

// Stats counts what the emulator has seen since New; Restart does not reset them.
type Stats struct {
	HTTPRequests              int // every HTTP request, WebSocket upgrades included
	Refused                   int // requests answered by SetSlowStart or SetHTTP5xx
	Connects                  int // WebSocket handshakes that ended in hello-ok
	ConnectsRejected          int // WebSocket handshakes refused (any reason, timeouts included)
	AuthFailures              int // credentials refused: HTTP 401s and WebSocket "unauthorized: ..." (not NOT_PAIRED)
	BootstrapCreates          int
	BootstrapExchanges        int // successful exchanges
	BootstrapExchangeFailures int
	ChatSends                 int // chat.send runs started (idempotent repeats excluded)
	ChatFinals                int // chat runs that delivered a final event
	Sends                     int // outbound "send" messages accepted
	ToolCalls                 int // successful /tools/invoke calls
	Restarts                  int
	OpenConnections           int // WebSocket connections open now
}

// faults are the switches that break one behaviour each.
type faults struct {
	authNotEnforced         bool
	uiAssetsMissing         bool
	bootstrapReuse          bool
	noModel                 bool
	slowStart               time.Duration
	http5xx                 int
	exchangeWrongCredential bool
	toolsBroken             bool
	originCheckBroken       bool
	controlUIRefused        bool
	allowInsecureAuth       bool
	deliveryLatency         time.Duration
}

// Server is an emulated gateway. Its methods are safe for concurrent use.
type Server struct {
	opts    Options
	clock   clock.Clock
	metrics *metrics

	sched schedule

	mu         sync.Mutex
	cred       string // the token or password; RestartWith changes it
	key        []byte // bootstrap HMAC key; RestartWith changes it
	f          faults
	bootedAt   time.Time
	life       context.Context // ends on Restart and Close: in-flight runs die with it
	endLife    context.CancelFunc
	conns      map[*wsConn]struct{}
	closing    map[*wsConn]struct{} // taken by Restart, close handshake under way
	usedNonces map[string]int64     // nonce -> exp (ms), pruned once expired
	runs       map[string]*run      // idempotencyKey -> run (chat.send, agent)
	sends      map[string]map[string]any
	history    map[string]*session // canonical session key -> transcript
	paired     map[string]*pairedDevice
	pending    map[string]*pendingPairing // by request id
	stats      Stats
	nextMsg    int
	closed     bool
	ts         *httptest.Server

	wg sync.WaitGroup // every goroutine the server owns, WebSocket handlers included
}

// New returns a gateway emulator. It panics when not exactly one of Options.Token and
// Options.Password is set: that is a bug in the caller, not a runtime condition.
func New(o Options) *Server {
	if (o.Token == "") == (o.Password == "") {
		panic("gatewayemu: set exactly one of Options.Token and Options.Password")
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.Version == "" {
		o.Version = DefaultVersion
	}
	if o.Host == "" {
		o.Host = "agentme-gateway"
	}
	o.BasePath = normalizeBasePath(o.BasePath)
	if len(o.Tools) == 0 {
		o.Tools = []string{"sessions_list", "agents_list"}
	}
	if len(o.Channels) == 0 {
		o.Channels = []string{"telegram"}
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.TickInterval == 0 {
		o.TickInterval = DefaultTickInterval
	}
	o.AllowedOrigins = append([]string(nil), o.AllowedOrigins...)
	o.ControlUIAllowedOrigins = append([]string(nil), o.ControlUIAllowedOrigins...)
	o.Tools = append([]string(nil), o.Tools...)
	o.Channels = append([]string(nil), o.Channels...)

	s := &Server{
		opts:       o,
		clock:      o.Clock,
		cred:       o.Token + o.Password,
		conns:      map[*wsConn]struct{}{},
		closing:    map[*wsConn]struct{}{},
		usedNonces: map[string]int64{},
		runs:       map[string]*run{},
		sends:      map[string]map[string]any{},
		history:    map[string]*session{},
		paired:     map[string]*pairedDevice{},
		pending:    map[string]*pendingPairing{},
		bootedAt:   o.Clock.Now(),
	}
	if o.BootstrapSecret != "" {
		s.key = []byte(o.BootstrapSecret)
	} else {
		s.key = []byte("agentme-bootstrap:" + s.cred)
	}
	s.life, s.endLife = context.WithCancel(context.Background())
	s.metrics = newMetrics(s)
	return s
}

func normalizeBasePath(p string) string {
	p = strings.TrimSpace(p)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	if !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p
}

// tokenMode reports whether the gateway runs in auth mode "token".
func (s *Server) tokenMode() bool { return s.opts.Token != "" }

// Handler serves the whole gateway (HTTP and WebSocket upgrades) on one port, as the
// real gateway does. Use it to mount the emulator in your own server.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// Start serves Handler on a loopback port and returns the base URL ("http://127.0.0.1:port").
// The WebSocket URL is the same with "ws://". Uptime counts from Start.
func (s *Server) Start() string { return s.start(false) }

// StartTLS is Start over TLS with httptest's self-signed certificate; HTTPClient
// returns a client that trusts it, so nothing needs to skip verification.
func (s *Server) StartTLS() string { return s.start(true) }

func (s *Server) start(tls bool) string {
	s.mu.Lock()
	if s.ts != nil || s.closed {
		s.mu.Unlock()
		panic("gatewayemu: Start called twice or after Close")
	}
	ts := httptest.NewUnstartedServer(s.Handler())
	// Clients that refuse the test certificate are expected; the emulator stays silent.
	ts.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.ts = ts
	s.bootedAt = s.clock.Now()
	s.mu.Unlock()
	if tls {
		ts.StartTLS()
	} else {
		ts.Start()
	}
	return ts.URL
}

// URL is the base URL returned by Start, or "" before Start.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ts == nil {
		return ""
	}
	return s.ts.URL
}

// WSURL is URL with the ws:// or wss:// scheme.
func (s *Server) WSURL() string {
	u := s.URL()
	if strings.HasPrefix(u, "https://") {
		return "wss://" + strings.TrimPrefix(u, "https://")
	}
	return strings.Replace(u, "http://", "ws://", 1)
}

// HTTPClient returns a client for the started server; after StartTLS it trusts the
// server's certificate (pass it to websocket.DialOptions.HTTPClient too).
func (s *Server) HTTPClient() *http.Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ts == nil {
		return http.DefaultClient
	}
	return s.ts.Client()
}

// Close drops every WebSocket connection without a close handshake, stops the
// listener and waits for all of the emulator's goroutines. Safe to call twice.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	var drop []*wsConn
	for _, set := range []map[*wsConn]struct{}{s.conns, s.closing} {
		for c := range set {
			drop = append(drop, c)
		}
	}
	s.conns = map[*wsConn]struct{}{}
	s.endLife()
	ts := s.ts
	s.mu.Unlock()

	for _, c := range drop {
		c.drop()
		c.ws.CloseNow()
	}
	if ts != nil {
		ts.Close()
	}
	s.wg.Wait()
}

// Restart emulates a gateway process restart: open WebSocket connections receive a
// "shutdown" event and are closed with 1012, in-flight chat runs die without a final
// event, uptime starts again from zero, the in-memory stores (used bootstrap nonces,
// idempotency caches) are forgotten, and a configured slow start applies again.
// Chat history and device pairing (approved devices, their tokens, pending requests)
// survive, as the gateway keeps them on disk.
//
// Restart returns at once: the old connections are already cut off from the new
// process (no broadcasts, no new requests answered after their close) while their
// close handshakes finish in the background; a peer that does not read is dropped
// after a second.
func (s *Server) Restart() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	old := s.conns
	s.conns = map[*wsConn]struct{}{}
	for c := range old {
		s.closing[c] = struct{}{}
	}
	s.endLife()
	s.life, s.endLife = context.WithCancel(context.Background())
	s.bootedAt = s.clock.Now()
	s.usedNonces = map[string]int64{}
	s.runs = map[string]*run{}
	s.sends = map[string]map[string]any{}
	s.stats.Restarts++
	s.mu.Unlock()
	s.metrics.restarts.Inc()

	for c := range old {
		s.track(func() {
			c.sendEvent("shutdown", map[string]any{"reason": "gateway restarting", "restartExpectedMs": 0})
			c.close(statusServiceRestart, "service restart")
			s.mu.Lock()
			delete(s.closing, c)
			s.mu.Unlock()
		})
	}
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.OpenConnections = len(s.conns)
	return st
}

// Uptime is how long the emulated process has been up, on Options.Clock.
func (s *Server) Uptime() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.uptimeLocked()
}

func (s *Server) uptimeLocked() time.Duration {
	d := s.clock.Now().Sub(s.bootedAt)
	if d < 0 {
		return 0
	}
	return d
}

func (s *Server) setFault(fn func(*faults)) {
	s.mu.Lock()
	fn(&s.f)
	s.mu.Unlock()
}

func (s *Server) faults() faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.f
}

// SetAuthNotEnforced makes the gateway accept any credential, a missing one included,
// on WebSocket connect (as if it were a valid shared credential, so no device
// identity is needed either, except by the control UI) and on the HTTP APIs.
func (s *Server) SetAuthNotEnforced(on bool) { s.setFault(func(f *faults) { f.authNotEnforced = on }) }

// SetUIAssetsMissing makes the control UI (and its SPA fallback) answer 503
// "Control UI assets not found", as a build without UI assets does.
func (s *Server) SetUIAssetsMissing(on bool) { s.setFault(func(f *faults) { f.uiAssetsMissing = on }) }

// SetBootstrapReuse stops recording used nonces: a second exchange of a code succeeds.
func (s *Server) SetBootstrapReuse(on bool) { s.setFault(func(f *faults) { f.bootstrapReuse = on }) }

// SetNoModel emulates a gateway without a working model provider: chat.send (and
// agent) answer "started" but never send a final or error event, and the history
// stays empty.
func (s *Server) SetNoModel(on bool) { s.setFault(func(f *faults) { f.noModel = on }) }

// SetSlowStart makes every HTTP request and WebSocket upgrade answer 502 Bad Gateway
// (what Fly.io and Render proxies answer while the app is not listening yet) until d
// has passed on Options.Clock since Start, New when never started, or the last
// Restart. Zero turns it off.
func (s *Server) SetSlowStart(d time.Duration) { s.setFault(func(f *faults) { f.slowStart = d }) }

// SetHTTP5xx makes every HTTP request, WebSocket upgrades included, answer status.
// Zero turns it off. Any 400..599 status is accepted (429 and 404 from a proxy are
// useful too); anything else panics.
func (s *Server) SetHTTP5xx(status int) {
	if status != 0 && (status < 400 || status > 599) {
		panic("gatewayemu: SetHTTP5xx wants 0 or an HTTP error status")
	}
	s.setFault(func(f *faults) { f.http5xx = status })
}

// SetExchangeWrongCredential makes a bootstrap exchange return a credential that
// differs from the configured one (a stale secret on one replica, say).
func (s *Server) SetExchangeWrongCredential(on bool) {
	s.setFault(func(f *faults) { f.exchangeWrongCredential = on })
}

// SetToolsBroken makes every allowed tool fail: /tools/invoke answers 400
// {ok:false, error:{type:"tool_error"}}, the real gateway's answer to a tool that throws.
func (s *Server) SetToolsBroken(on bool) { s.setFault(func(f *faults) { f.toolsBroken = on }) }

// SetOriginCheckBroken removes the browser origin check of control UI and webchat
// clients: they are accepted from any Origin (or none). The device identity and
// pairing rules still apply. A probe that checks the refusal of a foreign origin
// must notice.
func (s *Server) SetOriginCheckBroken(on bool) {
	s.setFault(func(f *faults) { f.originCheckBroken = on })
}

// SetControlUIRefused refuses every control UI client with "control ui requires HTTPS
// or localhost (secure context)", whatever device identity it signs: what a browser
// outside a secure context (plain HTTP from another host, or a TLS-terminating proxy
// the page does not see as https) gets, since it cannot sign one. The page loads but
// cannot connect. It overrides AllowInsecureAuth.
func (s *Server) SetControlUIRefused(on bool) {
	s.setFault(func(f *faults) { f.controlUIRefused = on })
}

// SetAllowInsecureAuth switches gateway.controlUi.allowInsecureAuth on or off at run
// time (Options.AllowInsecureAuth stays in force when set): a control UI client may
// connect without a device identity on the shared credential alone.
func (s *Server) SetAllowInsecureAuth(on bool) {
	s.setFault(func(f *faults) { f.allowInsecureAuth = on })
}

// SetDeliveryLatency delays every chat final by d, slept on Options.Clock (a virtual
// clock moves forward instead of waiting), and the delay shows in
// agentme_channel_delivery_latency_seconds.
func (s *Server) SetDeliveryLatency(d time.Duration) {
	s.setFault(func(f *faults) { f.deliveryLatency = d })
}

// track runs fn as a goroutine owned by the server, so Close can wait for it; it
// reports false (and does not run fn) once the server is closed.
func (s *Server) track(fn func()) bool {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return false
	}
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		fn()
	}()
	return true
}

// inline is track without a new goroutine: fn runs on the caller's goroutine.
func (s *Server) inline(fn func()) bool {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return false
	}
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()
	fn()
	return true
}

func (s *Server) count(fn func(*Stats)) {
	s.mu.Lock()
	fn(&s.stats)
	s.mu.Unlock()
}

// randomID is an unguessable identifier (connection ids, nonces).
func randomID() string { return strings.ToLower(rand.Text()) }

func (s *Server) nowMs() int64 { return s.clock.Now().UnixMilli() }
