package smoke_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/clock"
	"github.com/agentme/release-action/internal/gatewayemu"
	vocab "github.com/agentme/release-action/internal/outcome"
	"github.com/agentme/release-action/internal/smoke"
)

// Small hand-written gateways for behaviours the emulator does not produce: protocol
// mismatches, hostile answers that echo secrets, odd bootstrap and chat answers.

type req struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
}

// wsGateway speaks the handshake; connect decides the connect answer (nil: hello-ok)
// and handle answers every later request.
type wsGateway struct {
	connect func(ctx context.Context, c *websocket.Conn, r req) bool
	handle  func(ctx context.Context, c *websocket.Conn, r req)
}

func send(ctx context.Context, c *websocket.Conn, v any) {
	b, _ := json.Marshal(v)
	_ = c.Write(ctx, websocket.MessageText, b)
}

func res(id json.RawMessage, payload any) map[string]any {
	return map[string]any{"type": "res", "id": id, "ok": true, "payload": payload}
}

func resErr(id json.RawMessage, msg string) map[string]any {
	return map[string]any{"type": "res", "id": id, "ok": false, "error": map[string]any{"code": "INVALID_REQUEST", "message": msg}}
}

func hello(id json.RawMessage) map[string]any {
	return res(id, map[string]any{"type": "hello-ok", "protocol": 3,
		"server": map[string]any{"version": "fake-1", "connId": "c1"}, "snapshot": map[string]any{"uptimeMs": 5}})
}

func (g wsGateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: []string{"*"}})
	if err != nil {
		return
	}
	defer c.CloseNow()
	ctx := r.Context()
	send(ctx, c, map[string]any{"type": "event", "event": "connect.challenge", "payload": map[string]any{"nonce": "n", "ts": 1}})
	var first req
	if _, b, err := c.Read(ctx); err != nil || json.Unmarshal(b, &first) != nil {
		return
	}
	if g.connect != nil && !g.connect(ctx, c, first) {
		return
	}
	if g.connect == nil {
		send(ctx, c, hello(first.ID))
	}
	for {
		_, b, err := c.Read(ctx)
		if err != nil {
			return
		}
		var rq req
		if json.Unmarshal(b, &rq) != nil {
			return
		}
		if g.handle != nil {
			g.handle(ctx, c, rq)
		}
	}
}

// authorizedConnect is a connect answer that checks the token like a gateway.
func authorizedConnect(token string) func(ctx context.Context, c *websocket.Conn, r req) bool {
	return func(ctx context.Context, c *websocket.Conn, r req) bool {
		var p struct {
			Auth struct {
				Token string `json:"token"`
			} `json:"auth"`
		}
		_ = json.Unmarshal(r.Params, &p)
		if p.Auth.Token != token {
			send(ctx, c, resErr(r.ID, "unauthorized: gateway token mismatch"))
			_ = c.Close(websocket.StatusPolicyViolation, "unauthorized")
			return false
		}
		send(ctx, c, hello(r.ID))
		return true
	}
}

// mux routes WebSocket upgrades to ws and everything else to the HTTP handlers; an
// unknown path is 404 (unlike the gateway's SPA fallback, so tests see stray requests).
func mux(ws http.Handler, routes map[string]http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			if ws == nil {
				http.NotFound(w, r)
				return
			}
			ws.ServeHTTP(w, r)
			return
		}
		if h, ok := routes[r.URL.Path]; ok {
			h(w, r)
			return
		}
		http.NotFound(w, r)
	})
}

func jsonAnswer(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
}

func runFake(t *testing.T, h http.Handler, mod func(*smoke.Options)) (*smoke.Report, string) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL)
	require.NoError(t, err)
	rec := &recorder{}
	o := smoke.Options{URL: u, Token: testToken, Clock: clock.NewVirtual(epoch), ProbeTimeout: 2 * time.Second,
		ChannelTimeout: time.Second, Progress: rec.progress}
	if mod != nil {
		mod(&o)
	}
	rep, err := smoke.Run(context.Background(), o)
	require.NoError(t, err)
	b, err := json.Marshal(rep)
	require.NoError(t, err)
	for _, out := range []string{string(b), rec.text()} {
		assert.NotContains(t, out, testToken, "the token leaked")
	}
	return rep, string(b)
}

func only(probes ...string) func(*smoke.Options) {
	return func(o *smoke.Options) { o.Probes = probes }
}

func TestProbeDetails(t *testing.T) {
	uiPage := func(status int, contentType, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", contentType)
			w.WriteHeader(status)
			_, _ = w.Write([]byte(body))
		}
	}
	const shell = `<!doctype html><html><head><title>Agent Me Control</title></head></html>`
	chatGateway := func(final func(ctx context.Context, c *websocket.Conn, runID, key string), history func(id json.RawMessage) map[string]any) wsGateway {
		return wsGateway{handle: func(ctx context.Context, c *websocket.Conn, r req) {
			switch r.Method {
			case "chat.send":
				var p struct {
					SessionKey string `json:"sessionKey"`
				}
				_ = json.Unmarshal(r.Params, &p)
				send(ctx, c, res(r.ID, map[string]any{"runId": "run-1", "status": "started"}))
				final(ctx, c, "run-1", "agent:main:"+p.SessionKey)
			case "chat.history":
				send(ctx, c, history(r.ID))
			}
		}}
	}

	cases := []struct {
		name    string
		handler http.Handler
		mod     func(*smoke.Options)
		probe   string
		ok      bool
		detail  string
	}{
		{name: "protocol mismatch closes 1002",
			handler: mux(wsGateway{connect: func(ctx context.Context, c *websocket.Conn, r req) bool {
				_ = c.Close(websocket.StatusProtocolError, "protocol mismatch")
				return false
			}}, nil),
			mod: only(smoke.ProbeConnectAuth), probe: smoke.ProbeConnectAuth,
			detail: `the gateway speaks another protocol version (closed 1002, reason "protocol mismatch")`},
		{name: "hello-ok with another protocol",
			handler: mux(wsGateway{connect: func(ctx context.Context, c *websocket.Conn, r req) bool {
				send(ctx, c, res(r.ID, map[string]any{"type": "hello-ok", "protocol": 4}))
				return true
			}}, nil),
			mod: only(smoke.ProbeConnectAuth), probe: smoke.ProbeConnectAuth,
			detail: "hello-ok says protocol 4, this probe speaks 3"},
		{name: "a refusal that echoes the token is redacted",
			handler: mux(wsGateway{connect: func(ctx context.Context, c *websocket.Conn, r req) bool {
				send(ctx, c, resErr(r.ID, "unauthorized: token "+testToken+" is not "+url.QueryEscape(testToken)))
				_ = c.Close(websocket.StatusPolicyViolation, testToken)
				return false
			}}, nil),
			mod: only(smoke.ProbeConnectAuth), probe: smoke.ProbeConnectAuth,
			detail: `connect was refused: INVALID_REQUEST "unauthorized: token *** is not ***": the configured token does not match gateway.auth.token`},
		{name: "a close-only refusal of the wrong token counts as refused",
			handler: mux(wsGateway{connect: func(ctx context.Context, c *websocket.Conn, r req) bool {
				if !strings.Contains(string(r.Params), testToken) {
					_ = c.Close(websocket.StatusPolicyViolation, "unauthorized")
					return false
				}
				send(ctx, c, hello(r.ID))
				return true
			}}, nil),
			mod: only(smoke.ProbeConnectAuth), probe: smoke.ProbeConnectAuth, ok: true,
			detail: `hello-ok from gateway "fake-1" on protocol 3; a random wrong token was refused`},
		{name: "non-JSON frames",
			handler: mux(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				c, err := websocket.Accept(w, r, nil)
				if err != nil {
					return
				}
				defer c.CloseNow()
				_ = c.Write(r.Context(), websocket.MessageText, []byte("hello there"))
				_, _, _ = c.Read(r.Context())
			}), nil),
			mod: only(smoke.ProbeConnectAuth), probe: smoke.ProbeConnectAuth,
			detail: "the gateway sent a frame that is not protocol JSON while we waited for the connect.challenge event"},
		{name: "no WebSocket at the URL",
			handler: mux(nil, nil), mod: only(smoke.ProbeConnectAuth), probe: smoke.ProbeConnectAuth,
			detail: "answered 404: no gateway WebSocket there"},
		{name: "a static host answers 200 to the upgrade",
			handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("hi")) }),
			mod:     only(smoke.ProbeConnectAuth), probe: smoke.ProbeConnectAuth,
			detail: "answered 200 instead of switching protocols"},
		{name: "UI page without the marker",
			handler: mux(nil, map[string]http.HandlerFunc{"/": uiPage(200, "text/html", "<html><title>Welcome to nginx!</title></html>")}),
			mod:     only(smoke.ProbeControlUI), probe: smoke.ProbeControlUI,
			detail: "GET / answered 200 text/html without <title>Agent Me Control</title>"},
		{name: "UI page that is not HTML",
			handler: mux(nil, map[string]http.HandlerFunc{"/": uiPage(200, "application/json", `{}`)}),
			mod:     only(smoke.ProbeControlUI), probe: smoke.ProbeControlUI,
			detail: `GET / answered 200 with "application/json" instead of text/html`},
		{name: "UI marker is configurable",
			handler: mux(wsGateway{}, map[string]http.HandlerFunc{"/": uiPage(200, "text/html; charset=utf-8", "<title>Custom</title>")}),
			mod: func(o *smoke.Options) {
				o.Probes, o.UIMarker = []string{smoke.ProbeControlUI}, "<title>Custom</title>"
			}, probe: smoke.ProbeControlUI, ok: true,
			detail: "GET / served the control UI shell; the control UI client connected with Origin http://127.0.0.1:"},
		{name: "UI behind a same-origin redirect to the base path",
			handler: mux(wsGateway{}, map[string]http.HandlerFunc{
				"/ui":  func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/ui/", http.StatusFound) },
				"/ui/": uiPage(200, "text/html", shell),
			}),
			mod: func(o *smoke.Options) { o.Probes, o.BasePath = []string{smoke.ProbeControlUI}, "/ui" },
			ok:  true, probe: smoke.ProbeControlUI, detail: "GET /ui/ served the control UI shell"},
		{name: "UI redirect to another origin is not followed",
			handler: mux(nil, map[string]http.HandlerFunc{
				"/": func(w http.ResponseWriter, r *http.Request) {
					http.Redirect(w, r, "https://login.example/sso?token=abc", http.StatusFound)
				},
			}),
			mod: only(smoke.ProbeControlUI), probe: smoke.ProbeControlUI,
			detail: `GET / redirects (HTTP 302) to another origin, "https://login.example/sso": point the smoke URL at the gateway itself`},
		{name: "UI assets missing page echoing the token is redacted",
			handler: mux(nil, map[string]http.HandlerFunc{"/": uiPage(500, "text/plain", "boom "+testToken)}),
			mod:     only(smoke.ProbeControlUI), probe: smoke.ProbeControlUI,
			detail: `GET / answered HTTP 500 "boom ***"`},
		{name: "bootstrap secret unavailable",
			handler: mux(nil, map[string]http.HandlerFunc{
				"/api/bootstrap/create": jsonAnswer(400, `{"ok":false,"error":"bootstrap secret unavailable"}`),
			}),
			mod: only(smoke.ProbeBootstrap), probe: smoke.ProbeBootstrap,
			detail: "the gateway has no bootstrap secret; set AGENTME_BOOTSTRAP_SECRET"},
		{name: "bootstrap endpoint missing",
			handler: mux(nil, nil), mod: only(smoke.ProbeBootstrap), probe: smoke.ProbeBootstrap,
			detail: "POST /api/bootstrap/create answered 404: no bootstrap endpoint"},
		{name: "bootstrap code in an unknown format",
			handler: mux(nil, map[string]http.HandlerFunc{
				"/api/bootstrap/create": jsonAnswer(200, `{"ok":true,"code":"nodothere"}`),
			}),
			mod: only(smoke.ProbeBootstrap), probe: smoke.ProbeBootstrap,
			detail: "returned a code that is not <payload>.<signature>"},
		{name: "tampered bootstrap code accepted",
			handler: mux(nil, map[string]http.HandlerFunc{
				"/api/bootstrap/create":   jsonAnswer(200, `{"ok":true,"code":"eyJub25jZSI6Im4ifQ.QUJDREVGR0g"}`),
				"/api/bootstrap/exchange": jsonAnswer(200, `{"ok":true,"token":"`+testToken+`"}`),
			}),
			mod: only(smoke.ProbeBootstrap), probe: smoke.ProbeBootstrap,
			detail: "bootstrap code signatures are not verified: a code with a tampered signature was exchanged"},
		{name: "exchange returns a password to a token client",
			handler: mux(nil, map[string]http.HandlerFunc{
				"/api/bootstrap/create": jsonAnswer(200, `{"ok":true,"code":"eyJub25jZSI6Im4ifQ.QUJDREVGR0g"}`),
				"/api/bootstrap/exchange": func(w http.ResponseWriter, r *http.Request) {
					if r.URL.Query().Get("code") != "eyJub25jZSI6Im4ifQ.QUJDREVGR0g" {
						jsonAnswer(400, `{"ok":false,"error":"invalid bootstrap code signature"}`)(w, r)
						return
					}
					jsonAnswer(200, `{"ok":true,"password":"`+testToken+`"}`)(w, r)
				},
			}),
			mod: only(smoke.ProbeBootstrap), probe: smoke.ProbeBootstrap,
			detail: "the exchange returned a password but the smoke credential is a token"},
		{name: "fresh code refused for its signature (replicas with different secrets)",
			handler: mux(nil, map[string]http.HandlerFunc{
				"/api/bootstrap/create":   jsonAnswer(200, `{"ok":true,"code":"eyJub25jZSI6Im4ifQ.QUJDREVGR0g"}`),
				"/api/bootstrap/exchange": jsonAnswer(400, `{"ok":false,"error":"invalid bootstrap code signature"}`),
			}),
			mod: only(smoke.ProbeBootstrap), probe: smoke.ProbeBootstrap,
			detail: "set the same AGENTME_BOOTSTRAP_SECRET on every replica"},
		{name: "tool call 401 body echoing the bearer is redacted",
			handler: mux(nil, map[string]http.HandlerFunc{
				"/tools/invoke": jsonAnswer(401, `{"error":{"message":"bad Bearer `+testToken+`","type":"unauthorized"}}`),
			}),
			mod: only(smoke.ProbeToolCall), probe: smoke.ProbeToolCall,
			detail: `answered 401 "bad Bearer ***": the configured token was rejected`},
		{name: "tool call refused with 404 when unauthenticated",
			handler: mux(nil, map[string]http.HandlerFunc{
				"/tools/invoke": func(w http.ResponseWriter, r *http.Request) {
					if r.Header.Get("Authorization") != "Bearer "+testToken {
						jsonAnswer(404, `{"ok":false,"error":{"type":"not_found"}}`)(w, r)
						return
					}
					jsonAnswer(200, `{"ok":true}`)(w, r)
				},
			}),
			mod: only(smoke.ProbeToolCall), probe: smoke.ProbeToolCall,
			detail: `POST /tools/invoke without a credential answered HTTP 404 "not_found" (expected 401)`},
		{name: "chat run ends in error",
			handler: mux(chatGateway(func(ctx context.Context, c *websocket.Conn, runID, key string) {
				send(ctx, c, map[string]any{"type": "event", "event": "chat", "payload": map[string]any{
					"runId": runID, "sessionKey": key, "state": "error", "errorMessage": "model quota exceeded"}})
			}, nil), nil),
			mod: only(smoke.ProbeChannel), probe: smoke.ProbeChannel,
			detail: `the agent run failed: chat event state "error" with "model quota exceeded"`},
		{name: "history without the message",
			handler: mux(chatGateway(func(ctx context.Context, c *websocket.Conn, runID, key string) {
				// matched by the canonical session key, without a runId
				send(ctx, c, map[string]any{"type": "event", "event": "chat", "payload": map[string]any{"sessionKey": key, "state": "final"}})
			}, func(id json.RawMessage) map[string]any {
				return res(id, map[string]any{"messages": []any{}})
			}), nil),
			mod:    func(o *smoke.Options) { o.Probes, o.SessionKey = []string{smoke.ProbeChannel}, "smoke-fixed" },
			probe:  smoke.ProbeChannel,
			detail: "chat.history of session smoke-fixed does not contain the message just sent"},
		{name: "chat.send refused",
			handler: mux(wsGateway{handle: func(ctx context.Context, c *websocket.Conn, r req) {
				send(ctx, c, resErr(r.ID, "chat disabled"))
			}}, nil),
			mod: only(smoke.ProbeChannel), probe: smoke.ProbeChannel,
			detail: `chat.send on session release-action-smoke-`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rep, _ := runFake(t, tc.handler, tc.mod)
			p := probe(t, rep, tc.probe)
			assert.Equal(t, tc.ok, p.OK, p.Detail)
			assert.Contains(t, p.Detail, tc.detail)
			if !tc.ok {
				assert.Equal(t, vocab.Fail, rep.Verdict)
			}
		})
	}
}

// What the probes send, seen by a recording proxy in front of the emulator: never a
// /health request, never the credential in a URL, Origin and Bearer where they belong.
func TestWhatProbesSend(t *testing.T) {
	// The gateway checks the control UI device's signature time against its clock: share it.
	vc := clock.NewVirtual(epoch)
	emu := gatewayemu.New(gatewayemu.Options{Token: testToken, TickInterval: -1, Clock: vc})
	t.Cleanup(emu.Close)
	type seen struct {
		method, path, query, auth, origin, upgrade string
	}
	var mu sync.Mutex
	var reqs []seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		reqs = append(reqs, seen{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("Authorization"), r.Header.Get("Origin"), r.Header.Get("Upgrade")})
		mu.Unlock()
		emu.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL)
	require.NoError(t, err)
	rep, err := smoke.Run(context.Background(), smoke.Options{URL: u, Token: testToken, Clock: vc})
	require.NoError(t, err)
	require.Equal(t, vocab.Pass, rep.Verdict, "%+v", rep.Probes)

	mu.Lock()
	defer mu.Unlock()
	var upgrades, uiOrigins, creates, exchanges, tools int
	for _, r := range reqs {
		assert.NotContains(t, []string{"/health", "/healthz", "/readyz"}, r.path, "/health lies: never probe it")
		assert.NotContains(t, r.query, testToken)
		assert.NotContains(t, r.path, testToken)
		switch {
		case r.upgrade != "":
			upgrades++
			assert.Empty(t, r.auth, "the WebSocket authenticates in connect, not in a header")
			if r.origin != "" {
				uiOrigins++
				assert.Equal(t, srv.URL, r.origin)
			}
		case r.path == "/api/bootstrap/create":
			creates++
			assert.Equal(t, "Bearer "+testToken, r.auth)
			assert.Equal(t, srv.URL, r.origin)
		case r.path == "/api/bootstrap/exchange":
			exchanges++
			assert.Empty(t, r.auth)
			assert.True(t, strings.HasPrefix(r.query, "code="), r.query)
		case r.path == "/tools/invoke":
			tools++
		}
	}
	// readiness, connect-auth (right and wrong), control UI, channel
	assert.Equal(t, 5, upgrades)
	assert.Equal(t, 1, uiOrigins, "only the control UI client sends an Origin")
	assert.Equal(t, 1, creates)
	assert.Equal(t, 3, exchanges, "tampered, genuine, reused")
	assert.Equal(t, 3, tools, "with the token, without, with a wrong one")
}
