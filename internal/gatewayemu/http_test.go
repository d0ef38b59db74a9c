package gatewayemu

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/clock"
)

func TestControlUI(t *testing.T) {
	tests := []struct {
		name       string
		basePath   string
		missing    bool
		method     string
		path       string
		wantStatus int
		wantType   string
		wantBody   string // substring; "" with HEAD means the body must be empty
		wantLoc    string
	}{
		{name: "root", method: "GET", path: "/", wantStatus: 200, wantType: "text/html", wantBody: "<title>Agent Me Control</title>"},
		{name: "head root", method: "HEAD", path: "/", wantStatus: 200, wantType: "text/html"},
		{name: "health is the SPA fallback", method: "GET", path: "/health", wantStatus: 200, wantType: "text/html", wantBody: "<title>Agent Me Control</title>"},
		{name: "healthz is the SPA fallback", method: "GET", path: "/healthz", wantStatus: 200, wantType: "text/html", wantBody: `<div id="app"></div>`},
		{name: "deep link", method: "GET", path: "/chat/session/1", wantStatus: 200, wantType: "text/html", wantBody: "Agent Me Control"},
		{name: "script asset", method: "GET", path: "/assets/index.js", wantStatus: 200, wantType: "application/javascript", wantBody: "Agent Me Control"},
		{name: "page references the script", method: "GET", path: "/", wantStatus: 200, wantBody: `src="/assets/index.js"`},
		{name: "post is not allowed", method: "POST", path: "/", wantStatus: 405},
		{name: "assets missing", missing: true, method: "GET", path: "/", wantStatus: 503, wantType: "text/plain", wantBody: "Control UI assets not found"},
		{name: "assets missing breaks health too", missing: true, method: "GET", path: "/health", wantStatus: 503, wantBody: "Control UI assets not found"},
		{name: "base path", basePath: "/ui", method: "GET", path: "/ui/", wantStatus: 200, wantBody: `window.__AGENTME_CONTROL_UI_BASE_PATH__ = "/ui/"`},
		{name: "base path without slash redirects", basePath: "/ui", method: "GET", path: "/ui", wantStatus: 302, wantLoc: "/ui/"},
		{name: "outside the base path", basePath: "/ui/", method: "GET", path: "/health", wantStatus: 404},
		{name: "metrics path off by default is the SPA", method: "GET", path: "/metrics", wantStatus: 200, wantBody: "Agent Me Control"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := start(t, Options{BasePath: tt.basePath})
			s.SetUIAssetsMissing(tt.missing)
			client := s.HTTPClient()
			client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			req, err := http.NewRequestWithContext(ctxT(t), tt.method, s.URL()+tt.path, nil)
			require.NoError(t, err)
			resp, err := client.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			body := readAll(t, resp)
			assert.Equal(t, tt.wantStatus, resp.StatusCode)
			if tt.wantType != "" {
				assert.True(t, strings.HasPrefix(resp.Header.Get("Content-Type"), tt.wantType), resp.Header.Get("Content-Type"))
			}
			if tt.method == "HEAD" {
				assert.Empty(t, body)
				assert.NotEqual(t, "0", resp.Header.Get("Content-Length"))
			} else {
				assert.Contains(t, body, tt.wantBody)
			}
			if tt.wantLoc != "" {
				assert.Equal(t, tt.wantLoc, resp.Header.Get("Location"))
			}
		})
	}
}

func TestToolsInvoke(t *testing.T) {
	unauthorized := `{"error":{"message":"Unauthorized","type":"unauthorized"}}`
	needsTool := `{"error":{"message":"tools.invoke requires body.tool","type":"invalid_request_error"}}`
	tests := []struct {
		name        string
		opts        Options
		setup       func(*Server)
		method      string
		body        string
		header      map[string]string
		wantStatus  int
		wantType    string // Content-Type prefix, when set
		wantText    string // exact body, when set
		wantBody    string // exact JSON, when set
		wantErrType string // error.type
		wantErrMsg  string // prefix of error.message
		wantDetail  string // key present in result.details
	}{
		{name: "sessions_list", method: "POST", body: `{"tool":"sessions_list"}`, header: bearer(testToken), wantStatus: 200, wantDetail: "sessions"},
		{name: "agents_list with action and args", method: "POST", body: `{"tool":"agents_list","action":"json","args":{},"dryRun":true}`, header: bearer(testToken), wantStatus: 200, wantDetail: "agents"},
		{name: "tool name is trimmed", method: "POST", body: `{"tool":" sessions_list "}`, header: bearer(testToken), wantStatus: 200, wantDetail: "sessions"},
		{name: "custom tool list", opts: Options{Tools: []string{"cron"}}, method: "POST", body: `{"tool":"cron"}`, header: bearer(testToken), wantStatus: 200, wantDetail: "tool"},
		{name: "password mode", opts: Options{Password: "pw-1"}, method: "POST", body: `{"tool":"agents_list"}`, header: bearer("pw-1"), wantStatus: 200, wantDetail: "agents"},
		{name: "bearer scheme is case-insensitive", method: "POST", body: `{"tool":"sessions_list"}`, header: map[string]string{"Authorization": "bearer " + testToken}, wantStatus: 200, wantDetail: "sessions"},
		{name: "wrong token", method: "POST", body: `{"tool":"sessions_list"}`, header: bearer("nope"), wantStatus: 401, wantBody: unauthorized},
		{name: "missing token", method: "POST", body: `{"tool":"sessions_list"}`, wantStatus: 401, wantBody: unauthorized},
		{name: "not a bearer", method: "POST", body: `{"tool":"sessions_list"}`, header: map[string]string{"Authorization": "Basic " + testToken}, wantStatus: 401, wantBody: unauthorized},
		{name: "token of another mode", opts: Options{Password: "pw-1"}, method: "POST", body: `{"tool":"agents_list"}`, header: bearer(testToken), wantStatus: 401, wantBody: unauthorized},
		{name: "auth not enforced", setup: func(s *Server) { s.SetAuthNotEnforced(true) }, method: "POST", body: `{"tool":"sessions_list"}`, header: bearer("nope"), wantStatus: 200, wantDetail: "sessions"},
		{name: "auth not enforced without header", setup: func(s *Server) { s.SetAuthNotEnforced(true) }, method: "POST", body: `{"tool":"sessions_list"}`, wantStatus: 200, wantDetail: "sessions"},
		{name: "GET is 405 in plain text", method: "GET", header: bearer(testToken), wantStatus: 405, wantType: "text/plain", wantText: "Method Not Allowed"},
		{name: "PUT is 405 before auth", method: "PUT", body: `{"tool":"sessions_list"}`, wantStatus: 405, wantType: "text/plain", wantText: "Method Not Allowed"},
		{name: "missing tool", method: "POST", body: `{}`, header: bearer(testToken), wantStatus: 400, wantBody: needsTool},
		{name: "empty body", method: "POST", header: bearer(testToken), wantStatus: 400, wantBody: needsTool},
		{name: "tool not a string", method: "POST", body: `{"tool":5}`, header: bearer(testToken), wantStatus: 400, wantBody: needsTool},
		{name: "body not an object", method: "POST", body: `["sessions_list"]`, header: bearer(testToken), wantStatus: 400, wantBody: needsTool},
		{name: "bad JSON", method: "POST", body: `{`, header: bearer(testToken), wantStatus: 400, wantErrType: "invalid_request_error", wantErrMsg: "SyntaxError: "},
		{name: "tool not allowed", method: "POST", body: `{"tool":"exec"}`, header: bearer(testToken), wantStatus: 404,
			wantBody: `{"ok":false,"error":{"type":"not_found","message":"Tool not available: exec"}}`},
		{name: "tools broken", setup: func(s *Server) { s.SetToolsBroken(true) }, method: "POST", body: `{"tool":"sessions_list"}`, header: bearer(testToken), wantStatus: 400,
			wantBody: `{"ok":false,"error":{"type":"tool_error","message":"sessions_list failed: tool runtime unavailable"}}`},
		{name: "origin not allowed", opts: Options{AllowedOrigins: []string{"https://ui.example"}}, method: "POST", body: `{"tool":"sessions_list"}`,
			header: map[string]string{"Authorization": "Bearer " + testToken, "Origin": "https://evil.example"}, wantStatus: 403,
			wantBody: `{"error":{"message":"Origin not allowed","type":"forbidden"}}`},
		{name: "origin allowed", opts: Options{AllowedOrigins: []string{"https://ui.example"}}, method: "POST", body: `{"tool":"sessions_list"}`,
			header: map[string]string{"Authorization": "Bearer " + testToken, "Origin": "https://ui.example"}, wantStatus: 200, wantDetail: "sessions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := start(t, tt.opts)
			if tt.setup != nil {
				tt.setup(s)
			}
			r := do(t, s, tt.method, "/tools/invoke", tt.body, tt.header)
			require.Equal(t, tt.wantStatus, r.status, r.body)
			if tt.wantType != "" {
				assert.True(t, strings.HasPrefix(r.header.Get("Content-Type"), tt.wantType), r.header.Get("Content-Type"))
			}
			if r.status == 405 {
				assert.Equal(t, "POST", r.header.Get("Allow"))
			}
			if tt.wantText != "" {
				assert.Equal(t, tt.wantText, r.body)
				assert.Zero(t, s.Stats().ToolCalls)
				return
			}
			if tt.wantBody != "" {
				assert.JSONEq(t, tt.wantBody, r.body)
			}
			f := r.json(t)
			if tt.wantErrType != "" {
				assert.Equal(t, tt.wantErrType, f.str("error", "type"))
				assert.True(t, strings.HasPrefix(f.str("error", "message"), tt.wantErrMsg), f.str("error", "message"))
			}
			if tt.wantDetail != "" {
				assert.Equal(t, true, f["ok"])
				content, _ := f.get("result", "content").([]any)
				require.Len(t, content, 1)
				assert.Equal(t, "text", content[0].(map[string]any)["type"])
				assert.Contains(t, f.get("result", "details"), tt.wantDetail)
				assert.Equal(t, 1, s.Stats().ToolCalls)
			} else {
				assert.Zero(t, s.Stats().ToolCalls)
			}
			if tt.wantStatus == 401 {
				assert.Equal(t, 1, s.Stats().AuthFailures)
			}
		})
	}
}

func TestSessionsListShowsChats(t *testing.T) {
	s, _ := start(t, Options{})
	c, _ := connect(t, s)
	res := c.call("chat.send", map[string]any{"sessionKey": "smoke", "message": "hi", "idempotencyKey": "k1"})
	require.Equal(t, true, res["ok"])
	c.readUntil(func(f frame) bool { return f["event"] == "chat" && f.str("payload", "state") == "final" })

	f := do(t, s, "POST", "/tools/invoke", `{"tool":"sessions_list"}`, bearer(testToken)).json(t)
	sessions, _ := f.get("result", "details", "sessions").([]any)
	require.Len(t, sessions, 1)
	assert.Equal(t, "agent:main:smoke", sessions[0].(map[string]any)["key"])
	assert.Contains(t, f.get("result", "content").([]any)[0].(map[string]any)["text"], "agent:main:smoke")
}

func TestFaultStatus(t *testing.T) {
	t.Run("HTTP5xx answers everything, WebSocket upgrades included", func(t *testing.T) {
		s, _ := start(t, Options{})
		s.SetHTTP5xx(503)
		for _, path := range []string{"/", "/health", "/tools/invoke", "/api/bootstrap/exchange?code=x"} {
			assert.Equal(t, 503, do(t, s, "GET", path, "", bearer(testToken)).status, path)
		}
		_, resp, err := dialRaw(t, s)
		require.Error(t, err)
		require.NotNil(t, resp)
		assert.Equal(t, 503, resp.StatusCode)
		assert.Equal(t, 5, s.Stats().Refused)

		s.SetHTTP5xx(0)
		assert.Equal(t, 200, do(t, s, "GET", "/", "", nil).status)
	})
	t.Run("HTTP5xx rejects a non-error status", func(t *testing.T) {
		s, _ := start(t, Options{})
		assert.Panics(t, func() { s.SetHTTP5xx(200) })
	})
	t.Run("slow start refuses until the clock passes it, and again after a restart", func(t *testing.T) {
		vc := clock.NewVirtual(time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC))
		s, _ := start(t, Options{Clock: vc})
		s.SetSlowStart(90 * time.Second)
		assert.Equal(t, 502, do(t, s, "GET", "/", "", nil).status)
		_, resp, err := dialRaw(t, s)
		require.Error(t, err)
		require.NotNil(t, resp)
		assert.Equal(t, 502, resp.StatusCode)

		vc.Advance(89 * time.Second)
		assert.Equal(t, 502, do(t, s, "GET", "/", "", nil).status)
		vc.Advance(time.Second)
		assert.Equal(t, 200, do(t, s, "GET", "/", "", nil).status)
		connect(t, s)

		s.Restart()
		assert.Equal(t, 502, do(t, s, "GET", "/", "", nil).status)
		vc.Advance(90 * time.Second)
		assert.Equal(t, 200, do(t, s, "GET", "/", "", nil).status)
	})
}

func TestNewRequiresExactlyOneCredential(t *testing.T) {
	assert.Panics(t, func() { New(Options{}) })
	assert.Panics(t, func() { New(Options{Token: "a", Password: "b"}) })
	assert.NotPanics(t, func() { New(Options{Password: "b"}).Close() })
}

func TestHandlerWithoutStart(t *testing.T) {
	s := New(Options{Token: testToken})
	defer s.Close()
	mux := http.NewServeMux()
	mux.Handle("/", s.Handler())
	assert.Empty(t, s.URL())
	rec := newRecorder()
	mux.ServeHTTP(rec, mustRequest(t, "GET", "/health"))
	assert.Equal(t, 200, rec.Code)
	assert.Contains(t, rec.Body.String(), "<title>Agent Me Control</title>")

	s.Close()
	rec = newRecorder()
	mux.ServeHTTP(rec, mustRequest(t, "GET", "/"))
	assert.Equal(t, 503, rec.Code)
}
