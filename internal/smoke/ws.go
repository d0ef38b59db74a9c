package smoke

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/coder/websocket"
)

const (
	wsReadLimit = 8 << 20 // hello-ok carries a snapshot; bound what a gateway can make us hold
	maxPending  = 512     // events kept while waiting for an answer
)

// frame is one message the gateway sends: a res or an event.
type frame struct {
	Type    string          `json:"type"`
	ID      json.RawMessage `json:"id,omitempty"`
	OK      bool            `json:"ok"`
	Payload json.RawMessage `json:"payload,omitempty"`
	Error   *rpcError       `json:"error,omitempty"`
	Event   string          `json:"event,omitempty"`
}

// request is what the probes send. The gateway's request schema is strict: exactly
// these four keys (any other, even "ok": false, makes it close the socket with 1008
// "invalid request frame" before it answers).
type request struct {
	Type   string `json:"type"`
	ID     string `json:"id"`
	Method string `json:"method"`
	Params any    `json:"params"`
}

type rpcError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	// Details carries, for NOT_PAIRED, the pairing requestId an operator approves.
	Details struct {
		RequestID string `json:"requestId"`
	} `json:"details"`
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

func (c *wsConn) write(ctx context.Context, r request) *failure {
	b, err := json.Marshal(r)
	if err != nil {
		return &failure{detail: "encode request: " + err.Error()}
	}
	if err := c.c.Write(ctx, websocket.MessageText, b); err != nil {
		return c.readFailure(ctx, err, "sending "+r.Method)
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

// awaitChallenge reads until the server's connect.challenge event and returns its nonce
// (a device identity signs it).
func (c *wsConn) awaitChallenge(ctx context.Context) (string, *failure) {
	for {
		f, fail := c.read(ctx, "the connect.challenge event")
		if fail != nil {
			return "", fail
		}
		if f.Type == "event" && f.Event == "connect.challenge" {
			var p struct {
				Nonce string `json:"nonce"`
			}
			_ = json.Unmarshal(f.Payload, &p)
			return p.Nonce, nil
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
	if f := c.write(ctx, request{Type: "req", ID: id, Method: method, Params: params}); f != nil {
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
	nonce, f := c.awaitChallenge(ctx)
	if f != nil {
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
	if cl.id == ControlUIClientID {
		params["device"] = deviceIdentity(cl, cred, nonce, s.clk.Now())
	}
	if f := c.write(ctx, request{Type: "req", ID: id, Method: "connect", Params: params}); f != nil {
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

// deviceIdentity is the signed device the gateway requires from a control-UI client
// (it refuses one without, whatever the transport, with "control ui requires HTTPS or
// localhost (secure context)"). The ed25519 key is derived from the credential, so every
// run presents the same device for the same gateway credential: a gateway that pairs
// loopback clients automatically accepts it at once, and a remote one needs its pairing
// approved once per credential (rotating the credential makes a new device). The
// signature covers the v2 payload with the challenge nonce, so it cannot be replayed.
func deviceIdentity(cl client, cred credential, nonce string, now time.Time) map[string]any {
	seed := sha256.Sum256([]byte("release-action-smoke-device-v1:" + cred.kind + ":" + cred.value))
	priv := ed25519.NewKeyFromSeed(seed[:])
	pub := priv.Public().(ed25519.PublicKey)
	idSum := sha256.Sum256(pub)
	id := hex.EncodeToString(idSum[:])
	signedAt := now.UnixMilli()
	token := ""
	if cred.kind == "token" {
		token = cred.value
	}
	payload := strings.Join([]string{"v2", id, cl.id, cl.mode, "operator", "", strconv.FormatInt(signedAt, 10), token, nonce}, "|")
	b64 := base64.RawURLEncoding
	return map[string]any{
		"id": id, "publicKey": b64.EncodeToString(pub), "signature": b64.EncodeToString(ed25519.Sign(priv, []byte(payload))),
		"signedAt": signedAt, "nonce": nonce,
	}
}

// randomSecret is a wrong credential of the same shape as a generated gateway token.
func randomSecret() string { return "smoke-wrong-" + rand.Text() + rand.Text() }

// randomID is a short unique identifier for markers and idempotency keys.
func randomID() string { return rand.Text()[:16] }
