package gatewayemu

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"
)

const (
	statusServiceRestart = websocket.StatusCode(1012)
	maxPayload           = 512 * 1024
	maxBufferedBytes     = 1536 * 1024
	writeTimeout         = 2 * time.Second
	closeGrace           = time.Second
	// closeReasonMax is the gateway's cut for close reasons (bytes).
	closeReasonMax = 120
)

var (
	serverMethods = []string{"health", "status", "channels.status", "send", "chat.send", "chat.history", "agent", "wake"}
	serverEvents  = []string{"connect.challenge", "health", "tick", "shutdown", "presence", "chat", "agent"}
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

// Error codes of the gateway protocol the emulator answers with.
const (
	codeInvalidRequest = "INVALID_REQUEST"
	codeNotPaired      = "NOT_PAIRED"
)

func invalidRequest(format string, args ...any) *rpcError {
	return &rpcError{Code: codeInvalidRequest, Message: fmt.Sprintf(format, args...)}
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
	nonce  string // of connect.challenge; a signed device identity must echo it
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

// close ends the connection with a close handshake, once; the reason is cut to 120
// bytes as the gateway cuts it (on a character boundary, where the gateway may leave
// half a character). A peer that does not answer the close frame within closeGrace
// is dropped (when the connection's reader is waiting).
func (c *wsConn) close(code websocket.StatusCode, reason string) {
	reason = truncateCloseReason(reason)
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
	// The gateway applies its own origin rules per client (control UI and webchat), so the
	// library's same-origin check is switched off by allowing every origin host.
	hw := &hijackRecorder{ResponseWriter: w}
	ws, err := websocket.Accept(hw, r, &websocket.AcceptOptions{OriginPatterns: []string{"*"}})
	if err != nil {
		return // Accept has answered the HTTP request
	}
	ws.SetReadLimit(maxPayload)
	c := &wsConn{s: s, ws: ws, raw: hw.conn, connID: newUUID(), nonce: newUUID()}
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

	c.sendEvent("connect.challenge", map[string]any{"nonce": c.nonce, "ts": s.nowMs()})
	timer := time.AfterFunc(s.opts.ConnectTimeout, func() {
		s.inline(func() {
			c.mu.Lock()
			waiting := c.state == stateHandshake
			if waiting {
				c.state = stateTimedOut
			}
			c.mu.Unlock()
			if waiting {
				c.reject(nil, nil, websocket.StatusNormalClosure, "") // as the gateway: no reason
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
	_, data, err := c.ws.Read(context.Background()) // binary frames are read as text, as the gateway does
	c.mu.Lock()
	timedOut := c.state == stateTimedOut
	c.state = stateConnecting
	c.mu.Unlock()
	if err != nil || timedOut {
		return false // closed by the peer, the connect timer, Restart or Close
	}

	v, err := parseJSON(data)
	if err != nil {
		// JSON.parse threw: the gateway closes with its default 1000 and no reason.
		c.reject(nil, nil, websocket.StatusNormalClosure, "")
		return false
	}
	if validate(requestFrameSchema, v) != "" {
		c.reject(nil, nil, websocket.StatusPolicyViolation, "invalid request frame")
		return false
	}
	var f reqFrame
	_ = json.Unmarshal(data, &f) // valid by the schema
	if f.Method != "connect" {
		msg := "invalid handshake: first request must be connect"
		c.reject(f.ID, invalidRequest("%s", msg), websocket.StatusPolicyViolation, msg)
		return false
	}
	if problems := validate(connectParamsSchema, v.obj["params"]); problems != "" {
		msg := "invalid connect params: " + problems
		c.reject(f.ID, invalidRequest("%s", msg), websocket.StatusPolicyViolation, msg)
		return false
	}
	var p connectParams
	_ = json.Unmarshal(f.Params, &p) // valid by the schema
	auth, rerr, code := c.s.admit(r, &p, c.nonce)
	if rerr != nil {
		c.reject(f.ID, rerr, code, rerr.Message)
		return false
	}
	return c.hello(f.ID, auth)
}

// hello sends hello-ok and the first health event; auth is the device block or nil.
func (c *wsConn) hello(id json.RawMessage, auth map[string]any) bool {
	s := c.s
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
	if auth != nil {
		hello["auth"] = auth
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
	_ = c.write(resFrame{Type: "res", ID: id, OK: true, Payload: hello})
	c.seq++
	_ = c.write(eventFrame{Type: "event", Event: "health", Payload: health, Seq: c.seq})
	c.writeMu.Unlock()
	return true
}

// serve reads requests after hello-ok until the connection ends.
func (c *wsConn) serve() {
	for {
		_, data, err := c.ws.Read(context.Background())
		if err != nil {
			return
		}
		v, err := parseJSON(data)
		if err != nil {
			continue // the gateway logs a parse error and keeps a connected client
		}
		if problems := validate(requestFrameSchema, v); problems != "" {
			c.respond(invalidFrameID(data, v), nil, invalidRequest("invalid request frame: %s", problems))
			continue
		}
		var f reqFrame
		_ = json.Unmarshal(data, &f) // valid by the schema
		if f.Method == "connect" {
			c.respond(f.ID, nil, invalidRequest("connect is only valid as the first request"))
			continue
		}
		c.s.dispatch(c, f)
	}
}

// invalidFrameID is the id the gateway answers an invalid frame with: the frame's
// own "id" whatever its type (parsed?.id), else "invalid".
func invalidFrameID(data []byte, v *jsonValue) json.RawMessage {
	if v.kind == jsonObject {
		var m map[string]json.RawMessage
		if json.Unmarshal(data, &m) == nil {
			if id, ok := m["id"]; ok && string(id) != "null" {
				return id
			}
		}
	}
	return json.RawMessage(`"invalid"`)
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

func truncateCloseReason(reason string) string {
	if len(reason) <= closeReasonMax {
		return reason
	}
	cut := closeReasonMax
	for cut > 0 && !utf8.RuneStart(reason[cut]) {
		cut--
	}
	return reason[:cut]
}
