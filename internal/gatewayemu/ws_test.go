package gatewayemu

import (
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/clock"
)

func TestHandshakeSuccess(t *testing.T) {
	vc := clock.NewVirtual(time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC))
	s, _ := start(t, Options{Clock: vc, Version: "2026.3.1"})
	vc.Advance(90 * time.Second)

	c := dial(t, s, nil)
	ch := c.read()
	assert.Equal(t, "event", ch["type"])
	assert.Equal(t, "connect.challenge", ch["event"])
	assert.NotEmpty(t, ch.str("payload", "nonce"))
	assert.EqualValues(t, vc.Now().UnixMilli(), ch.get("payload", "ts"))

	id := c.request("connect", probeConnect(map[string]any{"token": testToken}))
	res := c.read() // hello-ok comes before any event
	require.Equal(t, "res", res["type"])
	require.Equal(t, id, res["id"])
	require.Equal(t, true, res["ok"])
	hello := frame(res["payload"].(map[string]any))
	assert.Equal(t, "hello-ok", hello["type"])
	assert.EqualValues(t, 3, hello["protocol"])
	assert.Equal(t, "2026.3.1", hello.str("server", "version"))
	connID := hello.str("server", "connId")
	assert.NotEmpty(t, connID)
	assert.Contains(t, hello.get("features", "methods"), "chat.send")
	assert.Contains(t, hello.get("features", "events"), "chat")
	assert.EqualValues(t, 90_000, hello.get("snapshot", "uptimeMs"))
	assert.Equal(t, true, hello.get("snapshot", "health", "ok"))
	assert.Equal(t, []any{}, hello.get("snapshot", "presence"))
	assert.EqualValues(t, 30_000, hello.get("policy", "tickIntervalMs"))

	health := c.read()
	assert.Equal(t, "health", health["event"])
	assert.Equal(t, true, health.get("payload", "ok"))

	_, hello2 := connect(t, s)
	assert.NotEqual(t, connID, hello2.str("server", "connId"), "connId is new per connection")

	st := s.Stats()
	assert.Equal(t, 2, st.Connects)
	assert.Equal(t, 2, st.OpenConnections)
	assert.Zero(t, st.ConnectsRejected)
}

func TestHandshakeFailures(t *testing.T) {
	params := func(mut func(map[string]any)) map[string]any {
		p := probeConnect(map[string]any{"token": testToken})
		if mut != nil {
			mut(p)
		}
		return p
	}
	client := func(id, mode string) func(map[string]any) {
		return func(p map[string]any) {
			p["client"] = map[string]any{"id": id, "version": "1", "platform": "web", "mode": mode}
		}
	}
	set := func(k string, v any) func(map[string]any) { return func(p map[string]any) { p[k] = v } }
	setClient := func(k string, v any) func(map[string]any) {
		return func(p map[string]any) { p["client"].(map[string]any)[k] = v }
	}
	const (
		tokenHint = " (provide gateway auth token)"
		badID     = "invalid connect params: at /client/id: must be equal to constant; at /client/id: must match a schema in anyOf"
		// json.Marshal sorts map keys; the errors follow the frame's key order
		manyExtras = "invalid connect params: at root: unexpected property 'extraPropertyNumberOne'; at root: unexpected property 'extraPropertyNumberThree'; at root: unexpected property 'extraPropertyNumberTwo'"
	)
	tests := []struct {
		name       string
		opts       Options
		setup      func(*Server)
		header     http.Header
		first      any // frame sent first; nil sends nothing
		wantCode   websocket.StatusCode
		wantReason string // exact close reason
		wantErr    string // exact message of the res error; "" means no res before the close
		wantErrTyp string // error code; INVALID_REQUEST unless set
		wantAuth   int    // AuthFailures after
		wantOK     bool
	}{
		{name: "wrong token", first: req("connect", params(set("auth", map[string]any{"token": "wrong"}))),
			wantCode: 1008, wantReason: "unauthorized: gateway token mismatch" + tokenHint, wantErr: "unauthorized: gateway token mismatch" + tokenHint, wantAuth: 1},
		{name: "wrong token from a CLI client names gateway.remote.token", first: req("connect", params(func(p map[string]any) {
			client("cli", "cli")(p)
			p["auth"] = map[string]any{"token": "wrong"}
		})),
			wantCode: 1008, wantReason: "unauthorized: gateway token mismatch (set gateway.remote.token to match gateway.auth.token)",
			wantErr: "unauthorized: gateway token mismatch (set gateway.remote.token to match gateway.auth.token)", wantAuth: 1},
		{name: "no auth and no device", first: req("connect", params(func(p map[string]any) { delete(p, "auth") })),
			wantCode: 1008, wantReason: "device identity required", wantErr: "device identity required", wantErrTyp: "NOT_PAIRED"},
		{name: "empty token counts as no auth", first: req("connect", params(set("auth", map[string]any{"token": ""}))),
			wantCode: 1008, wantReason: "device identity required", wantErr: "device identity required", wantErrTyp: "NOT_PAIRED"},
		{name: "password sent in token mode", first: req("connect", params(set("auth", map[string]any{"password": testToken}))),
			wantCode: 1008, wantReason: "unauthorized: gateway token missing" + tokenHint, wantErr: "unauthorized: gateway token missing" + tokenHint, wantAuth: 1},
		{name: "wrong password", opts: Options{Password: "pw-1"}, first: req("connect", params(set("auth", map[string]any{"password": "pw-2"}))),
			wantCode: 1008, wantReason: "unauthorized: gateway password mismatch (provide gateway auth password)",
			wantErr: "unauthorized: gateway password mismatch (provide gateway auth password)", wantAuth: 1},
		{name: "right password", opts: Options{Password: "pw-1"}, first: req("connect", params(set("auth", map[string]any{"password": "pw-1"}))), wantOK: true},
		{name: "auth not enforced accepts a wrong token", setup: func(s *Server) { s.SetAuthNotEnforced(true) },
			first: req("connect", params(set("auth", map[string]any{"token": "wrong"}))), wantOK: true},
		{name: "auth not enforced accepts no auth", setup: func(s *Server) { s.SetAuthNotEnforced(true) },
			first: req("connect", params(func(p map[string]any) { delete(p, "auth") })), wantOK: true},
		{name: "protocol too new", first: req("connect", params(func(p map[string]any) { p["minProtocol"], p["maxProtocol"] = 4, 5 })),
			wantCode: 1002, wantReason: "protocol mismatch", wantErr: "protocol mismatch"},
		{name: "protocol too old", first: req("connect", params(func(p map[string]any) { p["minProtocol"], p["maxProtocol"] = 1, 2 })),
			wantCode: 1002, wantReason: "protocol mismatch", wantErr: "protocol mismatch"},
		{name: "protocol range containing 3", first: req("connect", params(func(p map[string]any) { p["minProtocol"], p["maxProtocol"] = 2, 4 })), wantOK: true},
		{name: "non-JSON", first: "hello gateway", wantCode: 1000},
		{name: "first request not connect", first: req("health", map[string]any{}),
			wantCode: 1008, wantReason: "invalid handshake: first request must be connect", wantErr: "invalid handshake: first request must be connect"},
		{name: "JSON but not a frame", first: `[1,2]`, wantCode: 1008, wantReason: "invalid request frame"},
		{name: "frame with an extra property", first: map[string]any{"type": "req", "id": "1", "method": "connect", "params": params(nil), "meta": 1},
			wantCode: 1008, wantReason: "invalid request frame"},
		{name: "frame with a numeric id", first: map[string]any{"type": "req", "id": 1, "method": "connect", "params": params(nil)},
			wantCode: 1008, wantReason: "invalid request frame"},
		{name: "frame with an empty id", first: map[string]any{"type": "req", "id": "", "method": "connect", "params": params(nil)},
			wantCode: 1008, wantReason: "invalid request frame"},
		{name: "frame of another type", first: map[string]any{"type": "request", "id": "1", "method": "connect", "params": params(nil)},
			wantCode: 1008, wantReason: "invalid request frame"},
		{name: "connect without params", first: map[string]any{"type": "req", "id": "1", "method": "connect"},
			wantCode: 1008, wantReason: "invalid connect params: must be object", wantErr: "invalid connect params: must be object"},
		{name: "unknown client id", first: req("connect", params(client("my-bot", "cli"))), wantCode: 1008, wantReason: badID, wantErr: badID},
		{name: "upstream client id", first: req("connect", params(client("openclaw-probe", "probe"))), wantCode: 1008, wantReason: badID, wantErr: badID},
		{name: "unknown client mode", first: req("connect", params(client("cli", "operator"))), wantCode: 1008,
			wantReason: "invalid connect params: at /client/mode: must be equal to constant; at /client/mode: must match a schema in anyOf",
			wantErr:    "invalid connect params: at /client/mode: must be equal to constant; at /client/mode: must match a schema in anyOf"},
		{name: "unknown params property", first: req("connect", params(set("foo", 1))), wantCode: 1008,
			wantReason: "invalid connect params: at root: unexpected property 'foo'", wantErr: "invalid connect params: at root: unexpected property 'foo'"},
		{name: "unknown client property", first: req("connect", params(setClient("os", "linux"))), wantCode: 1008,
			wantReason: "invalid connect params: at /client: unexpected property 'os'", wantErr: "invalid connect params: at /client: unexpected property 'os'"},
		{name: "unknown auth property", first: req("connect", params(set("auth", map[string]any{"token": testToken, "user": "me"}))), wantCode: 1008,
			wantReason: "invalid connect params: at /auth: unexpected property 'user'", wantErr: "invalid connect params: at /auth: unexpected property 'user'"},
		{name: "unknown device property", first: req("connect", params(set("device", map[string]any{"id": "a", "publicKey": "b", "signature": "c", "signedAt": 1, "alg": "x"}))),
			wantCode: 1008, wantReason: "invalid connect params: at /device: unexpected property 'alg'", wantErr: "invalid connect params: at /device: unexpected property 'alg'"},
		{name: "optional client fields are allowed", first: req("connect", params(func(p map[string]any) {
			cl := p["client"].(map[string]any)
			cl["displayName"], cl["instanceId"], cl["deviceFamily"], cl["modelIdentifier"] = "smoke", "i-1", "Linux", "x64"
			p["caps"], p["locale"], p["userAgent"], p["role"] = []string{"tool-events"}, "en", "release-action", "operator"
		})), wantOK: true},
		{name: "missing client", first: req("connect", params(func(p map[string]any) { delete(p, "client") })),
			wantCode: 1008, wantReason: "invalid connect params: must have required property 'client'", wantErr: "invalid connect params: must have required property 'client'"},
		{name: "long errors are cut in the close reason only", first: req("connect", params(func(p map[string]any) {
			p["extraPropertyNumberOne"], p["extraPropertyNumberTwo"], p["extraPropertyNumberThree"] = 1, 2, 3
		})), wantCode: 1008, wantReason: manyExtras[:120], wantErr: manyExtras},
		{name: "unknown role", first: req("connect", params(set("role", "admin"))),
			wantCode: 1008, wantReason: "invalid role", wantErr: "invalid role"},
		{name: "no connect in time", opts: Options{ConnectTimeout: 50 * time.Millisecond}, wantCode: 1000},
		{name: "ui mode is not the control UI", header: http.Header{"Origin": {"http://gateway.example.com"}},
			first: req("connect", params(client("cli", "ui"))), wantOK: true},
		{name: "a CLI client ignores origin rules", header: http.Header{"Origin": {"http://gateway.example.com"}},
			first: req("connect", params(client("cli", "cli"))), wantOK: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.opts.Token == "" && tt.opts.Password == "" {
				tt.opts.Token = testToken
			}
			s, _ := start(t, tt.opts)
			if tt.setup != nil {
				tt.setup(s)
			}
			c := dial(t, s, tt.header)
			c.challenge()
			if tt.first != nil {
				c.sendRaw(tt.first)
			}
			if tt.wantOK {
				res := c.read()
				require.Equal(t, true, res["ok"], "%v", res["error"])
				assert.Equal(t, "hello-ok", res.str("payload", "type"))
				assert.Nil(t, res.get("payload", "auth"), "no device, no device token")
				assert.Equal(t, 1, s.Stats().Connects)
				return
			}
			if tt.wantErr != "" {
				res := c.read()
				assert.Equal(t, "res", res["type"])
				assert.Equal(t, "1", res["id"])
				assert.Equal(t, false, res["ok"])
				code := tt.wantErrTyp
				if code == "" {
					code = "INVALID_REQUEST"
				}
				assert.Equal(t, code, res.str("error", "code"))
				assert.Equal(t, tt.wantErr, res.str("error", "message"))
			}
			code, reason := c.closed() // fails the test if any other frame came first
			assert.Equal(t, tt.wantCode, code)
			assert.Equal(t, tt.wantReason, reason)
			st := s.Stats()
			assert.Equal(t, tt.wantAuth, st.AuthFailures)
			assert.Zero(t, st.Connects)
			assert.Equal(t, 1, st.ConnectsRejected)
		})
	}
}

func req(method string, params any) map[string]any {
	return map[string]any{"type": "req", "id": "1", "method": method, "params": params}
}

func TestMethods(t *testing.T) {
	tests := []struct {
		name      string
		method    string
		params    any
		wantOK    bool
		wantKey   string // key present in the payload
		wantError string
	}{
		{name: "health", method: "health", wantOK: true, wantKey: "ok"},
		{name: "status", method: "status", params: map[string]any{}, wantOK: true, wantKey: "uptimeMs"},
		{name: "channels.status", method: "channels.status", wantOK: true, wantKey: "channels"},
		{name: "send", method: "send", params: map[string]any{"to": "+15550001", "message": "hi", "idempotencyKey": "s1"}, wantOK: true, wantKey: "messageId"},
		{name: "send on a named channel", method: "send", params: map[string]any{"to": "@me", "message": "hi", "channel": "Telegram", "accountId": "a", "idempotencyKey": "s2"}, wantOK: true, wantKey: "messageId"},
		{name: "send without to", method: "send", params: map[string]any{"message": "hi", "idempotencyKey": "s3"}, wantError: "required property 'to'"},
		{name: "send on an unconfigured channel", method: "send", params: map[string]any{"to": "x", "message": "hi", "channel": "slack", "idempotencyKey": "s4"}, wantError: "unsupported channel: slack"},
		{name: "send with a wrong type", method: "send", params: map[string]any{"to": 5, "message": "hi", "idempotencyKey": "s5"}, wantError: "at /to"},
		{name: "chat.send without idempotencyKey", method: "chat.send", params: map[string]any{"sessionKey": "a", "message": "hi"}, wantError: "required property 'idempotencyKey'"},
		{name: "chat.history without sessionKey", method: "chat.history", params: map[string]any{}, wantError: "required property 'sessionKey'"},
		{name: "chat.history of an unknown session", method: "chat.history", params: map[string]any{"sessionKey": "nobody"}, wantOK: true, wantKey: "messages"},
		{name: "wake", method: "wake", params: map[string]any{"mode": "now", "text": "check"}, wantOK: true, wantKey: "ok"},
		{name: "wake without text", method: "wake", params: map[string]any{"mode": "now"}, wantError: "required property 'text'"},
		{name: "unknown method", method: "sessions.nuke", params: map[string]any{}, wantError: "unknown method: sessions.nuke"},
	}
	s, _ := start(t, Options{})
	c, _ := connect(t, s)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.t = t
			res := c.call(tt.method, tt.params)
			require.Equal(t, tt.wantOK, res["ok"], "%v", res["error"])
			if tt.wantOK {
				assert.Contains(t, res["payload"], tt.wantKey)
			} else {
				assert.Equal(t, "INVALID_REQUEST", res.str("error", "code"))
				assert.Contains(t, res.str("error", "message"), tt.wantError)
			}
		})
	}
	c.t = t

	t.Run("send is idempotent", func(t *testing.T) {
		c.t = t
		p := map[string]any{"to": "+1", "message": "x", "idempotencyKey": "same"}
		a, b := c.call("send", p), c.call("send", p)
		assert.Equal(t, a["payload"], b["payload"])
		assert.Equal(t, "telegram", a.str("payload", "channel"))
	})
	c.t = t
	assert.Equal(t, 3, s.Stats().Sends)
}

func TestChatFlow(t *testing.T) {
	s, _ := start(t, Options{})
	c, _ := connect(t, s)
	watcher, _ := connect(t, s) // events go to every connected client

	const marker = "smoke-7f3a"
	res := c.call("chat.send", map[string]any{"sessionKey": "release-smoke", "message": "reply with " + marker, "idempotencyKey": "run-1"})
	require.Equal(t, true, res["ok"], "%v", res["error"])
	assert.Equal(t, "run-1", res.str("payload", "runId"))
	assert.Equal(t, "started", res.str("payload", "status"))

	var states []string
	var sawAgent bool
	final := c.readUntil(func(f frame) bool {
		if f["event"] == "agent" && f.str("payload", "runId") == "run-1" {
			sawAgent = true
		}
		if f["event"] != "chat" || f.str("payload", "runId") != "run-1" {
			return false
		}
		assert.Equal(t, "agent:main:release-smoke", f.str("payload", "sessionKey"), "sessionKey is canonical")
		states = append(states, f.str("payload", "state"))
		return f.str("payload", "state") == "final"
	})
	assert.True(t, sawAgent)
	assert.Equal(t, []string{"delta", "final"}, states)
	assert.Equal(t, "assistant", final.str("payload", "message", "role"))
	content := final.get("payload", "message", "content").([]any)
	assert.Contains(t, content[0].(map[string]any)["text"], marker)
	watcher.readUntil(func(f frame) bool { return f["event"] == "chat" && f.str("payload", "state") == "final" })

	for _, key := range []string{"release-smoke", "agent:main:release-smoke"} {
		h := c.call("chat.history", map[string]any{"sessionKey": key})
		require.Equal(t, true, h["ok"])
		msgs := h.get("payload", "messages").([]any)
		require.Len(t, msgs, 2, key)
		assert.Equal(t, "user", msgs[0].(map[string]any)["role"])
		assert.Equal(t, "assistant", msgs[1].(map[string]any)["role"])
		assert.Equal(t, "agent:main:release-smoke", h.str("payload", "sessionKey"))
	}
	limited := c.call("chat.history", map[string]any{"sessionKey": "release-smoke", "limit": 1})
	assert.Len(t, limited.get("payload", "messages"), 1)

	again := c.call("chat.send", map[string]any{"sessionKey": "release-smoke", "message": "reply with " + marker, "idempotencyKey": "run-1"})
	assert.Equal(t, "ok", again.str("payload", "status"), "a repeated idempotencyKey answers from the cache")
	assert.Len(t, c.call("chat.history", map[string]any{"sessionKey": "release-smoke"}).get("payload", "messages"), 2)

	st := s.Stats()
	assert.Equal(t, 1, st.ChatSends)
	assert.Equal(t, 1, st.ChatFinals)
}

func TestChatNoModel(t *testing.T) {
	s, _ := start(t, Options{})
	s.SetNoModel(true)
	c, _ := connect(t, s)

	res := c.call("chat.send", map[string]any{"sessionKey": "dead", "message": "anyone?", "idempotencyKey": "nm-1"})
	require.Equal(t, true, res["ok"])
	assert.Equal(t, "started", res.str("payload", "status"))
	again := c.call("chat.send", map[string]any{"sessionKey": "dead", "message": "anyone?", "idempotencyKey": "nm-1"})
	assert.Equal(t, "in_flight", again.str("payload", "status"))

	// A run sent after the model comes back streams to the end; nothing of the first
	// run may arrive before that final.
	s.SetNoModel(false)
	c.call("chat.send", map[string]any{"sessionKey": "alive", "message": "hi", "idempotencyKey": "ok-1"})
	c.readUntil(func(f frame) bool {
		if f["event"] == "chat" || f["event"] == "agent" {
			require.NotEqual(t, "nm-1", f.str("payload", "runId"), "no-model run produced an event")
		}
		return f["event"] == "chat" && f.str("payload", "state") == "final"
	})
	h := c.call("chat.history", map[string]any{"sessionKey": "dead"})
	assert.Empty(t, h.get("payload", "messages"))
	assert.Equal(t, 1, s.Stats().ChatFinals)
}

func TestAgentMethod(t *testing.T) {
	s, _ := start(t, Options{})
	c, _ := connect(t, s)
	id := c.request("agent", map[string]any{"message": "ping-42", "idempotencyKey": "ag-1"})
	accepted := c.response(id)
	require.Equal(t, true, accepted["ok"])
	assert.Equal(t, "accepted", accepted.str("payload", "status"))
	done := c.response(id)
	assert.Equal(t, "ok", done.str("payload", "status"))
	payloads := done.get("payload", "result", "payloads").([]any)
	assert.Contains(t, payloads[0].(map[string]any)["text"], "ping-42")
	h := c.call("chat.history", map[string]any{"sessionKey": "main"})
	assert.Len(t, h.get("payload", "messages"), 2)
}

func TestRestart(t *testing.T) {
	vc := clock.NewVirtual(time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC))
	s, _ := start(t, Options{Clock: vc})
	vc.Advance(time.Hour)
	c, hello := connect(t, s)
	assert.EqualValues(t, time.Hour.Milliseconds(), hello.get("snapshot", "uptimeMs"))
	idle, _ := connect(t, s) // never reads again: must not hold the restart up

	s.Restart()
	ev := c.readUntil(func(f frame) bool { return f["type"] == "event" && f["event"] != "health" })
	assert.Equal(t, "shutdown", ev["event"])
	code, reason := c.closed()
	assert.Equal(t, websocket.StatusCode(1012), code)
	assert.Equal(t, "service restart", reason)
	_ = idle

	vc.Advance(5 * time.Second)
	_, hello2 := connect(t, s)
	assert.EqualValues(t, 5000, hello2.get("snapshot", "uptimeMs"), "uptime restarts from zero")
	assert.Equal(t, 5*time.Second, s.Uptime())
	st := s.Stats()
	assert.Equal(t, 1, st.Restarts)
	assert.Equal(t, 1, st.OpenConnections)
}

func TestRestartKillsRunsInFlight(t *testing.T) {
	s, _ := start(t, Options{}) // real clock: the run waits for a real hour
	s.SetDeliveryLatency(time.Hour)
	c, _ := connect(t, s)
	res := c.call("chat.send", map[string]any{"sessionKey": "k", "message": "m", "idempotencyKey": "slow"})
	require.Equal(t, "started", res.str("payload", "status"))
	c.readUntil(func(f frame) bool { return f["event"] == "chat" && f.str("payload", "state") == "delta" })

	s.Restart()
	c.readUntil(func(f frame) bool {
		require.NotEqual(t, "final", f.str("payload", "state"))
		return f["event"] == "shutdown"
	})
	code, _ := c.closed()
	assert.Equal(t, websocket.StatusCode(1012), code)
	assert.Zero(t, s.Stats().ChatFinals)

	c2, _ := connect(t, s)
	again := c2.call("chat.send", map[string]any{"sessionKey": "k", "message": "m", "idempotencyKey": "slow"})
	assert.Equal(t, "started", again.str("payload", "status"), "the idempotency cache died with the process")
	h := c2.call("chat.history", map[string]any{"sessionKey": "k"})
	assert.Len(t, h.get("payload", "messages"), 2, "history survives: the user message of each attempt")
}

func TestTicks(t *testing.T) {
	s, _ := start(t, Options{TickInterval: 10 * time.Millisecond})
	c, hello := connect(t, s)
	assert.EqualValues(t, 10, hello.get("policy", "tickIntervalMs"))
	a := c.readUntil(func(f frame) bool { return f["event"] == "tick" })
	b := c.readUntil(func(f frame) bool { return f["event"] == "tick" })
	assert.Greater(t, b["seq"], a["seq"])
}

func TestAfterHandshake(t *testing.T) {
	s, _ := start(t, Options{})
	c, _ := connect(t, s)
	tests := []struct {
		name    string
		frame   any
		wantID  any
		wantMsg string
	}{
		{name: "connect again", frame: req("connect", probeConnect(map[string]any{"token": testToken})), wantID: "1",
			wantMsg: "connect is only valid as the first request"},
		{name: "not a request", frame: map[string]any{"type": "bogus", "id": "x1"}, wantID: "x1",
			wantMsg: "invalid request frame: must have required property 'method'; at /type: must be equal to constant"},
		{name: "extra property", frame: map[string]any{"type": "req", "id": "x2", "method": "health", "params": map[string]any{}, "extra": true}, wantID: "x2",
			wantMsg: "invalid request frame: at root: unexpected property 'extra'"},
		{name: "numeric id is echoed", frame: map[string]any{"type": "req", "id": 7, "method": "health"}, wantID: float64(7),
			wantMsg: "invalid request frame: at /id: must be string"},
		{name: "no id", frame: map[string]any{"type": "req", "method": "health"}, wantID: "invalid",
			wantMsg: "invalid request frame: must have required property 'id'"},
		{name: "not an object", frame: `[1]`, wantID: "invalid", wantMsg: "invalid request frame: must be object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.t = t
			c.sendRaw(tt.frame)
			res := c.readUntil(func(f frame) bool { return f["type"] == "res" })
			assert.Equal(t, tt.wantID, res["id"])
			assert.Equal(t, false, res["ok"])
			assert.Equal(t, "INVALID_REQUEST", res.str("error", "code"))
			assert.Equal(t, tt.wantMsg, res.str("error", "message"))
		})
	}
	c.t = t

	c.sendRaw("{not json") // the gateway ignores it and keeps the client
	assert.Equal(t, true, c.call("health", nil)["ok"])
	require.NoError(t, c.c.Write(ctxT(t), websocket.MessageBinary, []byte(`{"type":"req","id":"b1","method":"health"}`)))
	assert.Equal(t, true, c.response("b1")["ok"], "a binary frame is read as text")
	assert.Zero(t, s.Stats().ConnectsRejected)
}

func TestCloseDropsConnections(t *testing.T) {
	s := New(Options{Token: testToken, TickInterval: time.Millisecond})
	s.Start()
	c, _ := connect(t, s)
	idle := dial(t, s, nil) // mid-handshake
	_ = idle
	s.Close()
	s.Close()
	ctx := ctxT(t)
	var err error
	for err == nil { // frames sent before Close may still be buffered
		_, _, err = c.c.Read(ctx)
	}
	assert.NoError(t, ctx.Err(), "the connection ended because the server dropped it")
	assert.Equal(t, 0, s.Stats().OpenConnections)
}

// TestNoGoroutineLeak runs every kind of connection through a server and checks
// that Close leaves nothing behind (client goroutines end with their subtest).
func TestNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Run("scenario", func(t *testing.T) {
		// The connect timeout is generous: a loaded machine (CI under -race) can take tens of
		// milliseconds to finish a handshake, and Close ends the idle dial anyway.
		s := New(Options{Token: testToken, TickInterval: time.Millisecond, ConnectTimeout: 2 * time.Second})
		s.Start()
		c, _ := connect(t, s)
		c.call("chat.send", map[string]any{"sessionKey": "a", "message": "b", "idempotencyKey": "c"})
		connect(t, s)   // idle, never read again
		dial(t, s, nil) // never sends connect: the timer closes it
		s.SetDeliveryLatency(time.Hour)
		c.call("chat.send", map[string]any{"sessionKey": "a", "message": "b", "idempotencyKey": "d"})
		s.Restart()
		c2, _ := connect(t, s)
		c2.call("chat.send", map[string]any{"sessionKey": "a", "message": "b", "idempotencyKey": "e"})
		do(t, s, "GET", "/", "", nil)
		s.Close()
	})
	var after int
	for range 100 { // goroutines of closed client connections take a moment to exit
		if after = runtime.NumGoroutine(); after <= before {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	buf := make([]byte, 1<<20)
	t.Fatalf("%d goroutines before, %d after Close:\n%s", before, after, buf[:runtime.Stack(buf, true)])
}
