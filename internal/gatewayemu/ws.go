package gatewayemu

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
)

const (
	statusServiceRestart = websocket.StatusCode(1012)
	maxPayload           = 512 * 1024
	maxBufferedBytes     = 1536 * 1024
	writeTimeout         = 2 * time.Second
	closeGrace           = time.Second
	controlUIClientID    = "agentme-control-ui"
	secureContextMessage = "control ui requires HTTPS or localhost (secure context)"
)

// Client ids and modes the gateway's connect schema accepts.
var (
	knownClientIDs = []string{
		"cli", "gateway-client", "test", "agentme-probe", controlUIClientID,
		"webchat", "webchat-ui", "node-host", "agentme-macos", "agentme-ios", "agentme-android",
	}
	knownClientModes = []string{"cli", "backend", "probe", "ui", "webchat", "node", "test"}
	serverMethods    = []string{"health", "status", "channels.status", "send", "chat.send", "chat.history", "agent", "wake"}
	serverEvents     = []string{"connect.challenge", "health", "tick", "shutdown", "presence", "chat", "agent"}
)

// Frames of the gateway protocol. Request ids are echoed back byte for byte.
type reqFrame struct {
	Type   string          `json:"type"`
	ID     json.RawMessage `json:"id,omitempty"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params,omitempty"`
}

type resFrame struct {
	Type    string          `json:"type"`
	ID      json.RawMessage `json:"id"`
	OK      bool            `json:"ok"`
	Payload any             `json:"payload,omitempty"`
	Error   *rpcError       `json:"error,omitempty"`
}

type eventFrame struct {
	Type    string `json:"type"`
	Event   string `json:"event"`
	Payload any    `json:"payload,omitempty"`
	Seq     int64  `json:"seq,omitempty"`
}

type rpcError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Details any    `json:"details,omitempty"`
}

func invalidRequest(format string, args ...any) *rpcError {
	return &rpcError{Code: "INVALID_REQUEST", Message: fmt.Sprintf(format, args...)}
}

type connectParams struct {
	MinProtocol *int `json:"minProtocol"`
	MaxProtocol *int `json:"maxProtocol"`
	Client      *struct {
		ID       string `json:"id"`
		Version  string `json:"version"`
		Platform string `json:"platform"`
		Mode     string `json:"mode"`
	} `json:"client"`
	Auth *struct {
		Token    *string `json:"token"`
		Password *string `json:"password"`
	} `json:"auth"`
}

// Connection states; the connect timer and the handshake race for the first change.
const (
	stateHandshake = iota
	stateConnecting
	stateTimedOut
)

type wsConn struct {
	s      *Server
	ws     *websocket.Conn
	connID string
	// raw is the hijacked TCP connection; closing it drops the WebSocket at once,
	// even in the middle of a close handshake with a peer that does not read.
	raw net.Conn

	mu    sync.Mutex
	state int
	ready bool // hello-ok sent: the connection receives broadcasts

	writeMu   sync.Mutex // keeps seq in wire order
	seq       int64
	closeOnce sync.Once
}

func (c *wsConn) write(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	return c.ws.Write(ctx, websocket.MessageText, b)
}

func (c *wsConn) respond(id json.RawMessage, payload any, rerr *rpcError) {
	if len(id) == 0 {
		id = json.RawMessage("null")
	}
	f := resFrame{Type: "res", ID: id, OK: rerr == nil, Payload: payload, Error: rerr}
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	_ = c.write(f) // a failed write means the peer is gone; the read loop notices
}

func (c *wsConn) sendEvent(event string, payload any) {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	f := eventFrame{Type: "event", Event: event, Payload: payload}
	if event != "connect.challenge" {
		c.seq++
		f.Seq = c.seq
	}
	_ = c.write(f)
}

// close ends the connection with a close handshake, once; the reason is cut to the
// 123 bytes a close frame can carry. A peer that does not answer the close frame
// within closeGrace is dropped (when the connection's reader is waiting).
func (c *wsConn) close(code websocket.StatusCode, reason string) {
	if len(reason) > 123 {
		reason = reason[:123]
	}
	c.closeOnce.Do(func() {
		t := time.AfterFunc(closeGrace, c.drop)
		defer t.Stop()
		_ = c.ws.Close(code, reason)
	})
}

// drop cuts the TCP connection without a close frame.
func (c *wsConn) drop() { _ = c.raw.Close() }

// hijackRecorder hands the hijacked net.Conn back to the emulator, which the
// WebSocket library otherwise keeps to itself.
type hijackRecorder struct {
	http.ResponseWriter
	conn net.Conn
}

func (h *hijackRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	h.conn = conn
	return conn, brw, err
}

func (h *hijackRecorder) Unwrap() http.ResponseWriter { return h.ResponseWriter }

// reject answers a failed connect and closes the connection.
func (c *wsConn) reject(id json.RawMessage, rerr *rpcError, code websocket.StatusCode, reason string) {
	c.s.count(func(st *Stats) { st.ConnectsRejected++ })
	c.s.metrics.connections.WithLabelValues("rejected").Inc()
	if rerr != nil {
		c.respond(id, nil, rerr)
	}
	c.close(code, reason)
}

func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	// The gateway applies its own origin rules per client (control UI only), so the
	// library's same-origin check is switched off by allowing every origin host.
	hw := &hijackRecorder{ResponseWriter: w}
	ws, err := websocket.Accept(hw, r, &websocket.AcceptOptions{OriginPatterns: []string{"*"}})
	if err != nil {
		return // Accept has answered the HTTP request
	}
	ws.SetReadLimit(maxPayload)
	c := &wsConn{s: s, ws: ws, raw: hw.conn, connID: randomID()}
	defer ws.CloseNow()

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.conns[c] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
	}()

	c.sendEvent("connect.challenge", map[string]any{"nonce": randomID(), "ts": s.nowMs()})
	timer := time.AfterFunc(s.opts.ConnectTimeout, func() {
		s.inline(func() {
			c.mu.Lock()
			waiting := c.state == stateHandshake
			if waiting {
				c.state = stateTimedOut
			}
			c.mu.Unlock()
			if waiting {
				c.reject(nil, nil, websocket.StatusNormalClosure, "connect timeout")
			}
		})
	})
	ok := c.handshake(r)
	timer.Stop()
	if !ok {
		return
	}
	var tickDone chan struct{}
	if s.opts.TickInterval > 0 {
		tickDone = make(chan struct{})
		defer close(tickDone)
		s.track(func() { c.tick(tickDone) })
	}
	c.serve()
}

// handshake reads the connect request and answers hello-ok or a refusal.
func (c *wsConn) handshake(r *http.Request) bool {
	s := c.s
	typ, data, err := c.ws.Read(context.Background())
	c.mu.Lock()
	timedOut := c.state == stateTimedOut
	c.state = stateConnecting
	c.mu.Unlock()
	if err != nil || timedOut {
		return false // closed by the peer, the connect timer, Restart or Close
	}

	if typ != websocket.MessageText || !json.Valid(data) {
		c.reject(nil, nil, websocket.StatusNormalClosure, "invalid JSON")
		return false
	}
	var f reqFrame
	if err := json.Unmarshal(data, &f); err != nil || f.Type != "req" || f.Method != "connect" {
		msg := "invalid handshake: first request must be connect"
		c.reject(f.ID, invalidRequest("%s", msg), websocket.StatusPolicyViolation, msg)
		return false
	}
	var p connectParams
	if err := json.Unmarshal(f.Params, &p); err != nil || p.MinProtocol == nil || p.MaxProtocol == nil ||
		p.Client == nil || p.Client.ID == "" || p.Client.Version == "" || p.Client.Platform == "" || p.Client.Mode == "" {
		c.reject(f.ID, invalidRequest("invalid connect params: minProtocol, maxProtocol and client{id, version, platform, mode} are required"),
			websocket.StatusPolicyViolation, "invalid connect params")
		return false
	}
	if *p.MinProtocol > ProtocolVersion || *p.MaxProtocol < ProtocolVersion {
		rerr := invalidRequest("protocol mismatch")
		rerr.Details = map[string]any{"expectedProtocol": ProtocolVersion}
		c.reject(f.ID, rerr, websocket.StatusProtocolError, "protocol mismatch")
		return false
	}
	if !contains(knownClientIDs, p.Client.ID) {
		c.reject(f.ID, invalidRequest("invalid connect params: at /client/id: must be equal to one of the allowed values"),
			websocket.StatusPolicyViolation, "invalid connect params: unknown client id")
		return false
	}
	if !contains(knownClientModes, p.Client.Mode) {
		c.reject(f.ID, invalidRequest("invalid connect params: at /client/mode: must be equal to one of the allowed values"),
			websocket.StatusPolicyViolation, "invalid connect params: unknown client mode")
		return false
	}
	fl := s.faults()
	if isControlUI(p.Client.ID, p.Client.Mode) {
		if msg := s.controlUIRefusal(r, fl); msg != "" {
			c.reject(f.ID, invalidRequest("%s", msg), websocket.StatusPolicyViolation, msg)
			return false
		}
	}
	if msg := s.wsAuthFailure(p, fl); msg != "" {
		s.count(func(st *Stats) { st.AuthFailures++ })
		s.metrics.authFailures.WithLabelValues("ws").Inc()
		c.reject(f.ID, invalidRequest("%s", msg), websocket.StatusPolicyViolation, msg)
		return false
	}

	s.mu.Lock()
	if _, current := s.conns[c]; !current {
		s.mu.Unlock()
		return false // Restart or Close took the connection while it was connecting
	}
	hello := map[string]any{
		"type":     "hello-ok",
		"protocol": ProtocolVersion,
		"server":   map[string]any{"version": s.opts.Version, "host": s.opts.Host, "connId": c.connID},
		"features": map[string]any{"methods": serverMethods, "events": serverEvents},
		"snapshot": map[string]any{
			"uptimeMs":     s.uptimeLocked().Milliseconds(),
			"health":       s.healthLocked(),
			"presence":     []any{},
			"stateVersion": map[string]any{"presence": 0, "health": 0},
		},
		"policy": map[string]any{
			"maxPayload":       maxPayload,
			"maxBufferedBytes": maxBufferedBytes,
			"tickIntervalMs":   max(s.opts.TickInterval, 0).Milliseconds(),
		},
	}
	health := s.healthLocked()
	s.stats.Connects++
	s.mu.Unlock()
	s.metrics.connections.WithLabelValues("accepted").Inc()

	// The connection joins the broadcasts before its client can see hello-ok (so no
	// event sent after hello-ok is missed), and holding writeMu meanwhile keeps those
	// broadcasts behind hello-ok and the health push on the wire.
	c.writeMu.Lock()
	c.mu.Lock()
	c.ready = true
	c.mu.Unlock()
	_ = c.write(resFrame{Type: "res", ID: f.ID, OK: true, Payload: hello})
	c.seq++
	_ = c.write(eventFrame{Type: "event", Event: "health", Payload: health, Seq: c.seq})
	c.writeMu.Unlock()
	return true
}

func isControlUI(id, mode string) bool {
	return id == controlUIClientID || mode == "ui" || mode == "webchat"
}

// controlUIRefusal applies the control UI's origin rules: a browser client needs a
// secure context (TLS, a proxy that says https, or a loopback origin) and, when
// configured, an allowed Origin.
func (s *Server) controlUIRefusal(r *http.Request, fl faults) string {
	if fl.controlUIRefused {
		return secureContextMessage
	}
	if fl.originCheckBroken {
		return ""
	}
	origin := r.Header.Get("Origin")
	secure := r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
	if !secure {
		if origin != "" {
			secure = isLoopbackOrigin(origin)
		} else {
			secure = isLoopbackAddr(r.RemoteAddr)
		}
	}
	if !secure {
		return secureContextMessage
	}
	if !s.originAllowed(origin) {
		return "origin not allowed (open the Control UI from the gateway host or allow it in gateway.auth.allowedOrigins)"
	}
	return ""
}

func isLoopbackOrigin(origin string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	h := u.Hostname()
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

func isLoopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// wsAuthFailure is the refusal message for a connect's credential, or "".
func (s *Server) wsAuthFailure(p connectParams, fl faults) string {
	if fl.authNotEnforced {
		return ""
	}
	kind, field := "password", (*string)(nil)
	if s.tokenMode() {
		kind = "token"
	}
	if p.Auth != nil {
		field = p.Auth.Password
		if s.tokenMode() {
			field = p.Auth.Token
		}
	}
	hint := fmt.Sprintf("(set gateway.remote.%s to match gateway.auth.%s)", kind, kind)
	switch {
	case field == nil || *field == "":
		return fmt.Sprintf("unauthorized: gateway %s missing %s", kind, hint)
	case !secretEqual(*field, s.cred):
		return fmt.Sprintf("unauthorized: gateway %s mismatch %s", kind, hint)
	}
	return ""
}

// serve reads requests after hello-ok until the connection ends.
func (c *wsConn) serve() {
	for {
		typ, data, err := c.ws.Read(context.Background())
		if err != nil {
			return
		}
		if typ != websocket.MessageText || !json.Valid(data) {
			c.close(websocket.StatusNormalClosure, "invalid JSON")
			return
		}
		var f reqFrame
		if err := json.Unmarshal(data, &f); err != nil || f.Type != "req" || f.Method == "" {
			if len(f.ID) > 0 {
				c.respond(f.ID, nil, invalidRequest("invalid request frame"))
			}
			continue
		}
		if f.Method == "connect" {
			c.respond(f.ID, nil, invalidRequest("already connected"))
			continue
		}
		c.s.dispatch(c, f)
	}
}

func (c *wsConn) tick(done <-chan struct{}) {
	t := time.NewTicker(c.s.opts.TickInterval)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			c.sendEvent("tick", map[string]any{"ts": c.s.nowMs()})
		}
	}
}

// broadcast sends an event to every connected client of the running process.
func (s *Server) broadcast(event string, payload any) {
	s.mu.Lock()
	targets := make([]*wsConn, 0, len(s.conns))
	for c := range s.conns {
		targets = append(targets, c)
	}
	s.mu.Unlock()
	for _, c := range targets {
		c.mu.Lock()
		ready := c.ready
		c.mu.Unlock()
		if ready {
			c.sendEvent(event, payload)
		}
	}
}
