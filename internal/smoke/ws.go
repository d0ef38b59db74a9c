package smoke

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strconv"

	"github.com/coder/websocket"
)

const (
	wsReadLimit = 8 << 20 // hello-ok carries a snapshot; bound what a gateway can make us hold
	maxPending  = 512     // events kept while waiting for an answer
)

// frame is one message of the gateway protocol: a req, a res or an event.
type frame struct {
	Type    string          `json:"type"`
	ID      json.RawMessage `json:"id,omitempty"`
	Method  string          `json:"method,omitempty"`
	Params  any             `json:"params,omitempty"`
	OK      bool            `json:"ok"`
	Payload json.RawMessage `json:"payload,omitempty"`
	Error   *rpcError       `json:"error,omitempty"`
	Event   string          `json:"event,omitempty"`
}

type rpcError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// helloOK is the part of the connect answer the probes read.
type helloOK struct {
	Type     string `json:"type"`
	Protocol int    `json:"protocol"`
	Server   struct {
		Version string `json:"version"`
		ConnID  string `json:"connId"`
	} `json:"server"`
	Snapshot struct {
		UptimeMs float64 `json:"uptimeMs"`
	} `json:"snapshot"`
}

// client is who a connection claims to be in connect.params.client.
type client struct {
	id, mode, origin string
}

// probeClient is the identity of every connection but the control UI's.
var probeClient = client{id: ProbeClientID, mode: "probe"}

// wsConn is one gateway WebSocket. It is used from one goroutine only: requests and
// event waits read the socket themselves, buffering events meant for a later wait.
type wsConn struct {
	s       *session
	c       *websocket.Conn
	seq     int
	pending []frame
}

// dial opens the WebSocket (no authentication yet). origin "" sends no Origin header,
// like the CLI and other non-browser clients.
func (s *session) dial(ctx context.Context, origin string) (*wsConn, *failure) {
	h := http.Header{}
	h.Set("User-Agent", "release-action-smoke")
	if origin != "" {
		h.Set("Origin", origin)
	}
	c, resp, err := websocket.Dial(ctx, s.wsURL, &websocket.DialOptions{HTTPClient: s.httpc, HTTPHeader: h})
	if err != nil {
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			var body []byte
			if resp.Body != nil {
				body, _ = io.ReadAll(io.LimitReader(resp.Body, 1024))
			}
			return nil, s.upgradeFailure(resp, body, origin)
		}
		if ctx.Err() != nil {
			return nil, s.netFailure(context.DeadlineExceeded, "WebSocket handshake")
		}
		return nil, s.netFailure(err, "WebSocket handshake")
	}
	c.SetReadLimit(wsReadLimit)
	return &wsConn{s: s, c: c}, nil
}

func (s *session) upgradeFailure(resp *http.Response, body []byte, origin string) *failure {
	step := "the WebSocket upgrade at " + s.wsURL
	switch code := resp.StatusCode; {
	case code >= 300 && code < 400:
		return &failure{detail: fmt.Sprintf("%s was redirected (HTTP %d to %s): point the smoke URL at the gateway itself", step, code, s.red.quote(locationOrigin(resp)))}
	case code == http.StatusForbidden && origin != "":
		return &failure{detail: fmt.Sprintf("%s was refused with 403 %s for Origin %s: allow that origin in the gateway config (gateway.auth.allowedOrigins) or set the smoke origin",
			step, s.red.quote(errorText(body)), origin)}
	case code == http.StatusNotFound:
		return &failure{detail: fmt.Sprintf("%s answered 404: no gateway WebSocket there; check the URL's host, port and path", step)}
	case code == http.StatusOK:
		return &failure{detail: fmt.Sprintf("%s answered 200 instead of switching protocols: something other than the gateway (a static host, or a proxy without WebSocket support) answers at this URL", step)}
	default:
		return s.httpStatusFailure(step, code, body)
	}
}

func (c *wsConn) close() {
	_ = c.c.Close(websocket.StatusNormalClosure, "")
}

func (c *wsConn) nextID() string {
	c.seq++
	return "smoke-" + strconv.Itoa(c.seq)
}

func (c *wsConn) write(ctx context.Context, f frame) *failure {
	b, err := json.Marshal(f)
	if err != nil {
		return &failure{detail: "encode request: " + err.Error()}
	}
	if err := c.c.Write(ctx, websocket.MessageText, b); err != nil {
		return c.readFailure(ctx, err, "sending "+f.Method)
	}
	return nil
}

// read returns the next frame.
func (c *wsConn) read(ctx context.Context, waitingFor string) (frame, *failure) {
	_, data, err := c.c.Read(ctx)
	if err != nil {
		return frame{}, c.readFailure(ctx, err, waitingFor)
	}
	var f frame
	if err := json.Unmarshal(data, &f); err != nil {
		return frame{}, &failure{detail: fmt.Sprintf("the gateway sent a frame that is not protocol JSON while we waited for %s: something other than an Agent Me gateway answers at this URL", waitingFor)}
	}
	return f, nil
}

func (c *wsConn) readFailure(ctx context.Context, err error, waitingFor string) *failure {
	var ce websocket.CloseError
	if errors.As(err, &ce) {
		return c.s.closeFailure(ce)
	}
	if ctx.Err() != nil {
		err = ctx.Err()
	}
	return c.s.netFailure(err, "waiting for "+waitingFor)
}

func (c *wsConn) keep(f frame) {
	if f.Type == "event" && len(c.pending) < maxPending {
		c.pending = append(c.pending, f)
	}
}

// awaitChallenge reads until the server's connect.challenge event.
func (c *wsConn) awaitChallenge(ctx context.Context) *failure {
	for {
		f, fail := c.read(ctx, "the connect.challenge event")
		if fail != nil {
			return fail
		}
		if f.Type == "event" && f.Event == "connect.challenge" {
			return nil
		}
	}
}

// awaitRes reads until the answer to request id, keeping events for later.
func (c *wsConn) awaitRes(ctx context.Context, id, method string) (frame, *failure) {
	want, _ := json.Marshal(id)
	for {
		f, fail := c.read(ctx, "the answer to "+method)
		if fail != nil {
			return frame{}, fail
		}
		if f.Type == "res" && string(f.ID) == string(want) {
			return f, nil
		}
		c.keep(f)
	}
}

// call sends a request and returns the payload of a successful answer.
func (c *wsConn) call(ctx context.Context, method string, params any) (json.RawMessage, *failure) {
	id := c.nextID()
	if f := c.write(ctx, frame{Type: "req", ID: mustJSON(id), Method: method, Params: params}); f != nil {
		return nil, f
	}
	res, f := c.awaitRes(ctx, id, method)
	if f != nil {
		return nil, f
	}
	if !res.OK {
		return nil, c.s.rpcFailure(method, res.Error)
	}
	return res.Payload, nil
}

func (s *session) rpcFailure(method string, e *rpcError) *failure {
	if e == nil {
		e = &rpcError{}
	}
	return &failure{rpc: e, detail: fmt.Sprintf("%s was refused: %s %s", method, s.red.clean(e.Code, 60), s.red.quote(e.Message))}
}

// waitEvent returns the first event (buffered or new) that match accepts.
func (c *wsConn) waitEvent(ctx context.Context, what string, match func(frame) bool) (frame, *failure) {
	for i, f := range c.pending {
		if match(f) {
			c.pending = append(c.pending[:i], c.pending[i+1:]...)
			return f, nil
		}
	}
	for {
		f, fail := c.read(ctx, what)
		if fail != nil {
			return frame{}, fail
		}
		if f.Type == "event" && match(f) {
			return f, nil
		}
	}
}

// connect dials and completes the handshake as cl with cred. On success the caller
// owns the connection. A refusal has failure.refused set.
func (s *session) connect(ctx context.Context, cl client, cred credential) (*wsConn, *helloOK, *failure) {
	c, f := s.dial(ctx, cl.origin)
	if f != nil {
		return nil, nil, f
	}
	if f := c.awaitChallenge(ctx); f != nil {
		c.close()
		return nil, nil, f
	}
	id := c.nextID()
	params := map[string]any{
		"minProtocol": ProtocolVersion,
		"maxProtocol": ProtocolVersion,
		"client": map[string]string{
			"id": cl.id, "version": ClientVersion, "platform": runtime.GOOS, "mode": cl.mode,
		},
		"auth": map[string]string{cred.kind: cred.value},
	}
	if f := c.write(ctx, frame{Type: "req", ID: mustJSON(id), Method: "connect", Params: params}); f != nil {
		c.close()
		return nil, nil, f
	}
	res, f := c.awaitRes(ctx, id, "connect")
	if f != nil {
		c.close()
		return nil, nil, f
	}
	if !res.OK {
		c.close()
		f := s.rpcFailure("connect", res.Error)
		f.refused = true
		return nil, nil, f
	}
	var h helloOK
	if err := json.Unmarshal(res.Payload, &h); err != nil || h.Type != "hello-ok" {
		c.close()
		return nil, nil, &failure{detail: fmt.Sprintf("connect was answered without hello-ok (payload type %s): the gateway speaks another protocol", s.red.quote(h.Type))}
	}
	if h.Protocol != ProtocolVersion {
		c.close()
		return nil, nil, &failure{detail: fmt.Sprintf("the gateway speaks another protocol version: hello-ok says protocol %d, this probe speaks %d", h.Protocol, ProtocolVersion)}
	}
	s.noteHello(&h)
	return c, &h, nil
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only called with strings
	}
	return b
}

// randomSecret is a wrong credential of the same shape as a generated gateway token.
func randomSecret() string { return "smoke-wrong-" + rand.Text() + rand.Text() }

// randomID is a short unique identifier for markers and idempotency keys.
func randomID() string { return rand.Text()[:16] }
