package gatewayemu

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
)

const maxBodyBytes = 1 << 20

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	s.runDue()
	if !s.inline(func() { s.route(w, r) }) {
		http.Error(w, "gateway emulator closed", http.StatusServiceUnavailable)
	}
}

func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	s.count(func(st *Stats) { st.HTTPRequests++ })
	if status := s.refusal(); status != 0 {
		s.count(func(st *Stats) { st.Refused++ })
		http.Error(w, http.StatusText(status), status)
		return
	}
	if isWebSocketUpgrade(r) {
		s.serveWS(w, r)
		return
	}
	switch r.URL.Path {
	case "/metrics":
		if s.opts.Metrics && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			s.MetricsHandler().ServeHTTP(w, r)
			return
		}
	case "/tools/invoke":
		s.serveToolsInvoke(w, r)
		return
	case "/api/bootstrap/create":
		s.serveBootstrapCreate(w, r)
		return
	case "/api/bootstrap/exchange":
		s.serveBootstrapExchange(w, r)
		return
	}
	s.serveControlUI(w, r)
}

// refusal is the status a slow start or an injected error answers with, else 0.
func (s *Server) refusal() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f.slowStart > 0 && s.uptimeLocked() < s.f.slowStart {
		return http.StatusBadGateway
	}
	return s.f.http5xx
}

func isWebSocketUpgrade(r *http.Request) bool {
	return headerHasToken(r.Header, "Connection", "upgrade") && headerHasToken(r.Header, "Upgrade", "websocket")
}

func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encode response", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// apiError is the error body of the gateway's authenticated HTTP APIs.
func apiError(message, typ string) map[string]any {
	return map[string]any{"error": map[string]any{"message": message, "type": typ}}
}

// secretEqual compares in constant time (for equal lengths, which is all a
// comparison of secrets may reveal).
func secretEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// authorized checks the Bearer credential and answers 401 itself when it is wrong.
func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	if s.faults().authNotEnforced {
		return true
	}
	scheme, got, ok := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	if ok && strings.EqualFold(scheme, "Bearer") && secretEqual(strings.TrimSpace(got), s.credential()) {
		return true
	}
	s.count(func(st *Stats) { st.AuthFailures++ })
	s.metrics.authFailures.WithLabelValues("http").Inc()
	writeJSON(w, http.StatusUnauthorized, apiError("Unauthorized", "unauthorized"))
	return false
}

// originAllowed applies gateway.auth.allowedOrigins to a request's Origin (a request
// without one, from a non-browser client, passes).
func (s *Server) originAllowed(origin string) bool {
	if origin == "" || len(s.opts.AllowedOrigins) == 0 {
		return true
	}
	origin = strings.TrimSuffix(origin, "/")
	for _, o := range s.opts.AllowedOrigins {
		if o == "*" || strings.EqualFold(strings.TrimSuffix(o, "/"), origin) {
			return true
		}
	}
	return false
}

// readJSONBody decodes an optional JSON object body; an empty body leaves v untouched.
func readJSONBody(r *http.Request, v any) error {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes))
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	return json.Unmarshal(b, v)
}

// ---- control UI ----

// indexPage renders the control UI's index page for a base path, escaped exactly as
// html/template would (a JSON string in the script, a normalised URL in the attribute).
// It is written without html/template on purpose: text/template's reflection makes the
// linker keep every exported method of every type in the binary, which cost the shipped
// binary (it carries this emulator for the sandbox) 7.8 MB of go-github's methods. A
// test compares it with the template it replaces.
func indexPage(basePath string) []byte {
	js, _ := json.Marshal(basePath) // escapes <, > and & as \u003c, \u003e, \u0026
	// After normalizeURL only & and + need HTML escaping in the attribute.
	src := strings.NewReplacer("&", "&amp;", "+", "&#43;").Replace(normalizeURL(basePath))
	return []byte(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Agent Me Control</title>
<script>window.__AGENTME_CONTROL_UI_BASE_PATH__ = ` + string(js) + `;</script>
<script type="module" crossorigin src="` + src + `assets/index.js"></script>
</head>
<body>
<div id="app"></div>
</body>
</html>
`)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// normalizeURL percent-encodes the bytes a URL may not hold as they are, keeping
// reserved characters and existing escapes (html/template's URL normaliser).
func normalizeURL(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			strings.IndexByte("-._~!#$&*+,/:;=?@[]", c) >= 0,
			c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b.WriteByte(c)
		default:
			b.WriteString("%" + string("0123456789abcdef"[c>>4]) + string("0123456789abcdef"[c&15]))
		}
	}
	return b.String()
}

// appScript stands in for the bundled control UI so the page's script tag resolves.
const appScript = `// Agent Me control UI (emulator stand-in)
document.getElementById("app").textContent = "Agent Me Control";
`

func (s *Server) serveControlUI(w http.ResponseWriter, r *http.Request) {
	base := s.opts.BasePath
	if base != "/" && r.URL.Path == strings.TrimSuffix(base, "/") {
		http.Redirect(w, r, base, http.StatusFound)
		return
	}
	if !strings.HasPrefix(r.URL.Path, base) {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	if s.faults().uiAssetsMissing {
		http.Error(w, "Control UI assets not found", http.StatusServiceUnavailable)
		return
	}
	var body []byte
	contentType := "text/html; charset=utf-8"
	if r.URL.Path == base+"assets/index.js" {
		body, contentType = []byte(appScript), "application/javascript; charset=utf-8"
	} else {
		// Every other path under the base path is the SPA fallback: /health included.
		body = indexPage(base)
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// ---- /tools/invoke ----

type toolsInvokeRequest struct {
	Tool       string         `json:"tool"`
	Action     string         `json:"action,omitempty"`
	Args       map[string]any `json:"args,omitempty"`
	SessionKey string         `json:"sessionKey,omitempty"`
	DryRun     bool           `json:"dryRun,omitempty"`
}

func toolError(typ, message string) map[string]any {
	return map[string]any{"ok": false, "error": map[string]any{"type": typ, "message": message}}
}

// invalidRequestError is the gateway's 400 for a malformed API request.
func invalidRequestError(message string) map[string]any {
	return apiError(message, "invalid_request_error")
}

func (s *Server) serveToolsInvoke(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusMethodNotAllowed)
		_, _ = io.WriteString(w, "Method Not Allowed")
		return
	}
	if !s.authorized(w, r) {
		return
	}
	if !s.originAllowed(r.Header.Get("Origin")) {
		writeJSON(w, http.StatusForbidden, apiError("Origin not allowed", "forbidden"))
		return
	}
	body, problem := readAPIBody(r)
	if problem != "" {
		writeJSON(w, http.StatusBadRequest, invalidRequestError(problem))
		return
	}
	var req toolsInvokeRequest
	if m, ok := body.(map[string]any); ok {
		str := func(k string) string { v, _ := m[k].(string); return strings.TrimSpace(v) }
		req.Tool, req.Action, req.SessionKey = str("tool"), str("action"), str("sessionKey")
		req.Args, _ = m["args"].(map[string]any)
		req.DryRun, _ = m["dryRun"].(bool)
	}
	if req.Tool == "" {
		writeJSON(w, http.StatusBadRequest, invalidRequestError("tools.invoke requires body.tool"))
		return
	}
	if !contains(s.opts.Tools, req.Tool) {
		writeJSON(w, http.StatusNotFound, toolError("not_found", "Tool not available: "+req.Tool))
		return
	}
	if s.faults().toolsBroken {
		writeJSON(w, http.StatusBadRequest, toolError("tool_error", req.Tool+" failed: tool runtime unavailable"))
		return
	}
	details := s.toolDetails(req)
	text, err := json.Marshal(details)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, toolError("tool_error", "encode tool result"))
		return
	}
	s.count(func(st *Stats) { st.ToolCalls++ })
	s.metrics.toolCalls.Inc()
	writeJSON(w, http.StatusOK, map[string]any{
		"ok": true,
		"result": map[string]any{
			"content": []map[string]any{{"type": "text", "text": string(text)}},
			"details": details,
		},
	})
}

// readAPIBody reads a JSON body as the gateway's API handlers do: an empty body is
// {}, a body over the limit is "payload too large", unparseable JSON is the parser's
// complaint (the gateway's says "SyntaxError: ..." in JavaScript's words).
func readAPIBody(r *http.Request) (any, string) {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil {
		return nil, "SyntaxError: could not read the body"
	}
	if len(b) > maxBodyBytes {
		return nil, "payload too large"
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return map[string]any{}, ""
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, "SyntaxError: " + err.Error()
	}
	if v == nil {
		v = map[string]any{}
	}
	return v, ""
}

func (s *Server) toolDetails(req toolsInvokeRequest) map[string]any {
	switch req.Tool {
	case "sessions_list":
		return map[string]any{"count": len(s.sessionList()), "sessions": s.sessionList()}
	case "agents_list":
		return map[string]any{
			"requester": "main",
			"agents":    []map[string]any{{"id": "main", "name": "main", "default": true, "configured": true}},
		}
	default:
		return map[string]any{"tool": req.Tool, "action": req.Action, "dryRun": req.DryRun, "ok": true}
	}
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// ---- bootstrap links ----

func bootstrapError(msg string) map[string]any { return map[string]any{"ok": false, "error": msg} }

const (
	defaultTTLSec = 300
	minTTLSec     = 30
	maxTTLSec     = 600
)

func (s *Server) serveBootstrapCreate(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeJSON(w, http.StatusMethodNotAllowed, bootstrapError("method not allowed"))
		return
	}
	if !s.authorized(w, r) {
		return
	}
	if !s.originAllowed(r.Header.Get("Origin")) {
		writeJSON(w, http.StatusForbidden, bootstrapError("origin not allowed"))
		return
	}
	var body struct {
		TTLSec *float64 `json:"ttlSec"`
	}
	if err := readJSONBody(r, &body); err != nil {
		writeJSON(w, http.StatusBadRequest, bootstrapError("invalid JSON body"))
		return
	}
	key := s.bootstrapKey()
	if len(key) == 0 {
		writeJSON(w, http.StatusBadRequest, bootstrapError("bootstrap secret unavailable"))
		return
	}
	exp := s.nowMs() + int64(clampTTL(body.TTLSec))*1000
	code, err := signCode(key, codePayload{Nonce: randomID(), Exp: exp})
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, bootstrapError("could not create bootstrap code"))
		return
	}
	s.count(func(st *Stats) { st.BootstrapCreates++ })
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "code": code, "expiresAt": exp})
}

// clampTTL applies the gateway's default (300 s) and bounds (30..600 s).
func clampTTL(ttl *float64) int {
	if ttl == nil || math.IsNaN(*ttl) || *ttl <= 0 {
		return defaultTTLSec
	}
	return int(math.Min(maxTTLSec, math.Max(minTTLSec, math.Floor(*ttl))))
}

func (s *Server) serveBootstrapExchange(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		writeJSON(w, http.StatusMethodNotAllowed, bootstrapError("method not allowed"))
		return
	}
	code := r.URL.Query().Get("code")
	if code == "" && r.Method == http.MethodPost {
		var body struct {
			Code string `json:"code"`
		}
		_ = readJSONBody(r, &body) // a bad body is just a missing code
		code = body.Code
	}
	if err := s.redeem(code); err != nil {
		reason := failureReason(err)
		s.count(func(st *Stats) { st.BootstrapExchangeFailures++ })
		s.metrics.exchangeFailures.WithLabelValues(reason).Inc()
		writeJSON(w, http.StatusBadRequest, bootstrapError(err.Error()))
		return
	}
	s.count(func(st *Stats) { st.BootstrapExchanges++ })
	s.metrics.exchanges.Inc()
	cred := s.credential()
	if s.faults().exchangeWrongCredential {
		sum := sha256.Sum256([]byte("stale:" + cred))
		cred = hex.EncodeToString(sum[:16])
	}
	field := "password"
	if s.tokenMode() {
		field = "token"
	}
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, field: cred})
}

// redeem verifies a code and marks its nonce used.
func (s *Server) redeem(code string) error {
	p, err := verifyCode(s.bootstrapKey(), code)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now().UnixMilli()
	if p.Exp <= now {
		return errCodeExpired
	}
	if _, used := s.usedNonces[p.Nonce]; used && !s.f.bootstrapReuse {
		return errCodeUsed
	}
	for n, exp := range s.usedNonces {
		if exp <= now {
			delete(s.usedNonces, n) // an expired code fails on expiry first
		}
	}
	s.usedNonces[p.Nonce] = p.Exp
	return nil
}

func failureReason(err error) string {
	switch {
	case errors.Is(err, errCodeFormat):
		return "format"
	case errors.Is(err, errCodeSignature):
		return "signature"
	case errors.Is(err, errCodePayload):
		return "payload"
	case errors.Is(err, errCodeExpired):
		return "expired"
	default:
		return "used"
	}
}
