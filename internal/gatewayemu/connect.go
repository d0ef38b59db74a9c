package gatewayemu

import (
	"fmt"
	"net/http"

	"github.com/coder/websocket"
)

// Client ids and modes of the gateway's connect schema (GATEWAY_CLIENT_IDS and
// GATEWAY_CLIENT_MODES, with Agent Me's names), in the schema's order.
const (
	ControlUIClientID = "agentme-control-ui"
	WebchatUIClientID = "webchat-ui"
	ProbeClientID     = "agentme-probe"
)

var (
	clientIDs = []string{
		WebchatUIClientID, ControlUIClientID, "webchat", "cli", "gateway-client",
		"agentme-macos", "agentme-ios", "agentme-android", "node-host", "test", "fingerprint", ProbeClientID,
	}
	clientModes = []string{"webchat", "cli", "ui", "backend", "node", "probe", "test"}
)

const (
	originNotAllowedMessage = "origin not allowed (open the Control UI from the gateway host or allow it in gateway.controlUi.allowedOrigins)"
	// secureContextMessage is what the gateway says to a control UI that sent no device
	// identity, which a browser can only sign in a secure context.
	secureContextMessage = "control ui requires HTTPS or localhost (secure context)"
	defaultRole          = "operator"
	defaultOperatorScope = "operator.admin"
)

// connectParams is a connect request's params, once they passed connectParamsSchema.
type connectParams struct {
	MinProtocol float64 `json:"minProtocol"`
	MaxProtocol float64 `json:"maxProtocol"`
	Client      struct {
		ID          string `json:"id"`
		DisplayName string `json:"displayName"`
		Version     string `json:"version"`
		Platform    string `json:"platform"`
		Mode        string `json:"mode"`
	} `json:"client"`
	Role   *string       `json:"role"`
	Scopes []string      `json:"scopes"`
	Device *deviceParams `json:"device"`
	Auth   *struct {
		Token    *string `json:"token"`
		Password *string `json:"password"`
	} `json:"auth"`
}

// deviceParams is a signed device identity (connect params.device).
type deviceParams struct {
	ID        string  `json:"id"`
	PublicKey string  `json:"publicKey"`
	Signature string  `json:"signature"`
	SignedAt  float64 `json:"signedAt"` // ms; validated as an integer
	Nonce     *string `json:"nonce"`
}

func (p *connectParams) token() string {
	if p.Auth == nil || p.Auth.Token == nil {
		return ""
	}
	return *p.Auth.Token
}

func (p *connectParams) password() string {
	if p.Auth == nil || p.Auth.Password == nil {
		return ""
	}
	return *p.Auth.Password
}

// refusal is a failed connect: the error answered and the close code.
func refusal(code, msg string, status websocket.StatusCode) (map[string]any, *rpcError, websocket.StatusCode) {
	return nil, &rpcError{Code: code, Message: msg}, status
}

// admit runs the gateway's connect checks, in its order, on params that passed the
// schema: protocol, role, browser origin (control UI and webchat), device identity
// (required for the control UI, and for anyone without a valid shared credential),
// device signature, credential, device pairing. It returns the hello-ok "auth" block
// (a device token, for a paired device) or the refusal.
func (s *Server) admit(r *http.Request, p *connectParams, nonce string) (map[string]any, *rpcError, websocket.StatusCode) {
	if p.MaxProtocol < ProtocolVersion || p.MinProtocol > ProtocolVersion {
		rerr := invalidRequest("protocol mismatch")
		rerr.Details = map[string]any{"expectedProtocol": ProtocolVersion}
		return nil, rerr, websocket.StatusProtocolError
	}
	role := defaultRole
	if p.Role != nil {
		role = *p.Role
	}
	if role != "operator" && role != "node" {
		return refusal(codeInvalidRequest, "invalid role", websocket.StatusPolicyViolation)
	}
	requested := p.Scopes
	scopes := requested
	if len(scopes) == 0 && role == "operator" {
		scopes = []string{defaultOperatorScope}
	}

	fl := s.faults()
	isControlUI := p.Client.ID == ControlUIClientID
	isWebchat := p.Client.Mode == "webchat" || p.Client.ID == WebchatUIClientID
	if (isControlUI || isWebchat) && !fl.originCheckBroken &&
		!browserOriginAllowed(r.Header.Get("Origin"), r.Host, s.opts.ControlUIAllowedOrigins) {
		return refusal(codeInvalidRequest, originNotAllowedMessage, websocket.StatusPolicyViolation)
	}

	device := p.Device
	bypass := isControlUI && (s.opts.AllowInsecureAuth || fl.allowInsecureAuth)
	if isControlUI && fl.controlUIRefused {
		device, bypass = nil, false // the identity a browser outside a secure context cannot sign
	}
	hasShared := p.token() != "" || p.password() != ""
	authOK, authReason := s.checkCredential(p)
	sharedOK := hasShared && authOK
	if fl.authNotEnforced {
		authOK, sharedOK = true, true
	}
	local := isLocalClient(r)
	rejectUnauthorized := func() (map[string]any, *rpcError, websocket.StatusCode) {
		s.count(func(st *Stats) { st.AuthFailures++ })
		s.metrics.authFailures.WithLabelValues("ws").Inc()
		return refusal(codeInvalidRequest, authFailureMessage(s.tokenMode(), authReason, p), websocket.StatusPolicyViolation)
	}

	if device == nil {
		if isControlUI && !bypass {
			return refusal(codeInvalidRequest, secureContextMessage, websocket.StatusPolicyViolation)
		}
		if !sharedOK {
			if !authOK && hasShared {
				return rejectUnauthorized()
			}
			return refusal(codeNotPaired, "device identity required", websocket.StatusPolicyViolation)
		}
	}
	var publicKey string
	if device != nil {
		key, msg := verifyDevice(device, p, role, requested, nonce, s.clock.Now(), local)
		if msg != "" {
			return refusal(codeInvalidRequest, msg, websocket.StatusPolicyViolation)
		}
		publicKey = key
		if !authOK && p.token() != "" && s.deviceTokenValid(device.ID, p.token(), role, scopes) {
			authOK = true
		}
	}
	if !authOK {
		return rejectUnauthorized()
	}
	if device == nil {
		return nil, nil, 0
	}
	if !(bypass && sharedOK) {
		if requestID := s.checkPairing(device.ID, publicKey, p.Client.ID, p.Client.Mode, role, scopes, local); requestID != "" {
			rerr := &rpcError{Code: codeNotPaired, Message: "pairing required", Details: map[string]any{"requestId": requestID}}
			return nil, rerr, websocket.StatusPolicyViolation
		}
	}
	return s.ensureDeviceToken(device.ID, role, scopes), nil, 0
}

// checkCredential is the gateway's shared-credential check for its auth mode; the
// reason names the failure ("token_missing", "password_mismatch", ...).
func (s *Server) checkCredential(p *connectParams) (bool, string) {
	kind, got := "password", p.password()
	if s.tokenMode() {
		kind, got = "token", p.token()
	}
	switch {
	case got == "":
		return false, kind + "_missing"
	case !secretEqual(got, s.credential()):
		return false, kind + "_mismatch"
	}
	return true, ""
}

// authFailureMessage is the gateway's text for a refused credential; the hint
// depends on the kind of client (CLI mode, browser, anything else).
func authFailureMessage(tokenMode bool, reason string, p *connectParams) string {
	isCLI := p.Client.Mode == "cli"
	isBrowser := p.Client.ID == ControlUIClientID || p.Client.Mode == "webchat" || p.Client.ID == WebchatUIClientID
	kind := "password"
	hint := "provide gateway auth password"
	switch {
	case isCLI:
		hint = "set gateway.remote.password to match gateway.auth.password"
	case isBrowser:
		hint = "enter the password in Control UI settings"
	}
	if tokenMode {
		kind = "token"
		hint = "provide gateway auth token"
		switch {
		case isCLI:
			hint = "set gateway.remote.token to match gateway.auth.token"
		case isBrowser:
			hint = "open the dashboard URL and paste the token in Control UI settings"
		}
	}
	what := "missing"
	if reason == kind+"_mismatch" {
		what = "mismatch"
	}
	return fmt.Sprintf("unauthorized: gateway %s %s (%s)", kind, what, hint)
}
