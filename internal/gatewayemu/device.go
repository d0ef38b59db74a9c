package gatewayemu

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DeviceSignatureSkew is how far a device signature's signedAt may be from the
// gateway's clock, either way (the gateway's DEVICE_SIGNATURE_SKEW_MS).
const DeviceSignatureSkew = 10 * time.Minute

// PendingPairingTTL is how long an unanswered pairing request is kept.
const PendingPairingTTL = 5 * time.Minute

// PendingDevice is a device pairing request waiting for ApproveDevice.
type PendingDevice struct {
	RequestID   string // details.requestId of the NOT_PAIRED answer
	DeviceID    string
	ClientID    string
	ClientMode  string
	Role        string
	Scopes      []string
	RequestedAt time.Time // on Options.Clock
}

type pendingPairing struct {
	PendingDevice
	publicKey string
	silent    bool // requested by a local client: approved on the spot
}

// pairedDevice is an approved device. Device tokens are credentials: they only ever
// go to the device itself, in hello-ok.
type pairedDevice struct {
	publicKey string
	roles     []string
	scopes    []string
	tokens    map[string]*deviceToken // by role
}

type deviceToken struct {
	token     string
	scopes    []string
	createdAt int64
	rotatedAt int64 // 0 if never rotated
}

// decodeB64URL decodes base64url as Node's Buffer does (padding optional), falling
// back to standard base64.
func decodeB64URL(s string) ([]byte, error) {
	if b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "=")); err == nil {
		return b, nil
	}
	return base64.StdEncoding.DecodeString(s)
}

// rawPublicKey is the raw key bytes of a device public key: base64url of the raw
// ed25519 key, or a PEM SPKI block.
func rawPublicKey(publicKey string) ([]byte, error) {
	if !strings.Contains(publicKey, "BEGIN") {
		return decodeB64URL(publicKey)
	}
	block, _ := pem.Decode([]byte(publicKey))
	if block == nil {
		return nil, fmt.Errorf("no PEM block")
	}
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	ek, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("not an ed25519 key")
	}
	return ek, nil
}

// DeviceID is the id the gateway derives from a device's raw ed25519 public key:
// hex(sha256(key)).
func DeviceID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:])
}

// DeviceAuthPayload is the text a device signs: "v2|deviceId|clientId|clientMode|
// role|scopes|signedAtMs|token|nonce" with scopes comma-joined (the scopes the client
// requested, empty by default) and token = auth.token or "" (so "" in password mode).
// Without a nonce it is the legacy "v1|...|token" form, accepted from local clients.
func DeviceAuthPayload(deviceID, clientID, clientMode, role string, scopes []string, signedAtMs int64, token, nonce string) string {
	version := "v1"
	if nonce != "" {
		version = "v2"
	}
	parts := []string{version, deviceID, clientID, clientMode, role, strings.Join(scopes, ","), strconv.FormatInt(signedAtMs, 10), token}
	if version == "v2" {
		parts = append(parts, nonce)
	}
	return strings.Join(parts, "|")
}

func verifyDeviceSignature(raw []byte, payload, signature string) bool {
	if len(raw) != ed25519.PublicKeySize {
		return false
	}
	sig, err := decodeB64URL(signature)
	if err != nil {
		return false
	}
	return ed25519.Verify(ed25519.PublicKey(raw), []byte(payload), sig)
}

// verifyDevice applies the gateway's device checks in its order and returns the
// device's normalized public key, or the refusal text.
func verifyDevice(d *deviceParams, p *connectParams, role string, requestedScopes []string, connectNonce string, now time.Time, local bool) (string, string) {
	raw, err := rawPublicKey(d.PublicKey)
	if err != nil || DeviceID(raw) != d.ID {
		return "", "device identity mismatch"
	}
	if skew := float64(now.UnixMilli()) - d.SignedAt; skew > float64(DeviceSignatureSkew.Milliseconds()) || -skew > float64(DeviceSignatureSkew.Milliseconds()) {
		return "", "device signature expired"
	}
	nonce := ""
	if d.Nonce != nil {
		nonce = strings.TrimSpace(*d.Nonce)
	}
	if !local && nonce == "" {
		return "", "device nonce required"
	}
	if nonce != "" && nonce != connectNonce {
		return "", "device nonce mismatch"
	}
	token := ""
	if p.Auth != nil && p.Auth.Token != nil {
		token = *p.Auth.Token
	}
	payload := DeviceAuthPayload(d.ID, p.Client.ID, p.Client.Mode, role, requestedScopes, int64(d.SignedAt), token, nonce)
	if !verifyDeviceSignature(raw, payload, d.Signature) {
		return "", "device signature invalid"
	}
	return base64.RawURLEncoding.EncodeToString(raw), ""
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

func newDeviceToken() string { return strings.ReplaceAll(newUUID(), "-", "") }

// normalizeScopes trims, drops empty and repeated scopes, and sorts.
func normalizeScopes(scopes []string) []string {
	var out []string
	for _, s := range scopes {
		if s = strings.TrimSpace(s); s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out
}

func scopesAllow(requested, allowed []string) bool {
	if len(requested) == 0 {
		return true
	}
	if len(allowed) == 0 {
		return false
	}
	for _, s := range requested {
		if !slices.Contains(allowed, s) {
			return false
		}
	}
	return true
}

func mergeUnique(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		for _, s := range l {
			if s = strings.TrimSpace(s); s != "" && !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}

func (s *Server) prunePendingLocked(now int64) {
	for id, p := range s.pending {
		if now-p.RequestedAt.UnixMilli() > PendingPairingTTL.Milliseconds() {
			delete(s.pending, id)
		}
	}
}

// checkPairing decides whether a verified device may connect with role and scopes.
// A device that is not paired (or asks for a role or scope it was not approved
// for) gets a pairing request; a local client's request is approved on the spot.
// It returns the id of the request that still waits for approval, or "".
func (s *Server) checkPairing(deviceID, publicKey, clientID, clientMode, role string, scopes []string, local bool) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.paired[deviceID]
	if p != nil && p.publicKey == publicKey && slices.Contains(p.roles, role) && scopesAllow(scopes, p.scopes) {
		return ""
	}
	now := s.clock.Now()
	s.prunePendingLocked(now.UnixMilli())
	var req *pendingPairing
	for _, r := range s.pending {
		if r.DeviceID == deviceID {
			req = r // one request per device: a retry finds the first one
			break
		}
	}
	if req == nil {
		req = &pendingPairing{
			PendingDevice: PendingDevice{
				RequestID: newUUID(), DeviceID: deviceID, ClientID: clientID, ClientMode: clientMode,
				Role: role, Scopes: slices.Clone(scopes), RequestedAt: now,
			},
			publicKey: publicKey,
			silent:    local,
		}
		s.pending[req.RequestID] = req
	}
	if !req.silent {
		return req.RequestID
	}
	s.approveLocked(req)
	return ""
}

// approveLocked turns a pending request into a paired device, adding its role and
// scopes to what the device had and issuing a new token for the role.
func (s *Server) approveLocked(req *pendingPairing) {
	now := s.clock.Now().UnixMilli()
	old := s.paired[req.DeviceID]
	p := &pairedDevice{publicKey: req.publicKey, tokens: map[string]*deviceToken{}}
	var created int64 = now
	var rotated int64
	if old != nil {
		p.roles, p.scopes = old.roles, old.scopes
		for role, t := range old.tokens {
			p.tokens[role] = t
		}
		if t := old.tokens[req.Role]; t != nil {
			created, rotated = t.createdAt, now
		}
	}
	p.roles = mergeUnique(p.roles, []string{req.Role})
	p.scopes = mergeUnique(p.scopes, req.Scopes)
	p.tokens[req.Role] = &deviceToken{token: newDeviceToken(), scopes: normalizeScopes(req.Scopes), createdAt: created, rotatedAt: rotated}
	s.paired[req.DeviceID] = p
	delete(s.pending, req.RequestID)
}

// ApproveDevice approves the pending pairing request of a device (what `devices
// approve` does on the gateway host); the device's next connect is accepted. It
// reports false when the device has no pending request.
func (s *Server) ApproveDevice(deviceID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.prunePendingLocked(s.clock.Now().UnixMilli())
	for _, r := range s.pending {
		if r.DeviceID == deviceID {
			s.approveLocked(r)
			return true
		}
	}
	return false
}

// PendingDevices lists the pairing requests waiting for approval, oldest first.
func (s *Server) PendingDevices() []PendingDevice {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.prunePendingLocked(s.clock.Now().UnixMilli())
	out := make([]PendingDevice, 0, len(s.pending))
	for _, r := range s.pending {
		d := r.PendingDevice
		d.Scopes = slices.Clone(d.Scopes)
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b PendingDevice) int {
		if c := a.RequestedAt.Compare(b.RequestedAt); c != 0 {
			return c
		}
		return strings.Compare(a.RequestID, b.RequestID)
	})
	return out
}

// deviceTokenValid is the gateway's device-token auth: a paired device may present
// its own token as auth.token instead of the shared credential.
func (s *Server) deviceTokenValid(deviceID, token, role string, scopes []string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.paired[deviceID]
	if p == nil {
		return false
	}
	t := p.tokens[role]
	return t != nil && secretEqual(t.token, token) && scopesAllow(normalizeScopes(scopes), t.scopes)
}

// ensureDeviceToken returns the hello-ok "auth" block of a paired device, issuing a
// token for the role when it has none that covers scopes; nil for an unpaired device.
func (s *Server) ensureDeviceToken(deviceID, role string, scopes []string) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.paired[deviceID]
	if p == nil {
		return nil
	}
	want := normalizeScopes(scopes)
	t := p.tokens[role]
	if t == nil || !scopesAllow(want, t.scopes) {
		now := s.clock.Now().UnixMilli()
		next := &deviceToken{token: newDeviceToken(), scopes: want, createdAt: now}
		if t != nil {
			next.createdAt, next.rotatedAt = t.createdAt, now
		}
		p.tokens[role] = next
		t = next
	}
	issued := t.createdAt
	if t.rotatedAt != 0 {
		issued = t.rotatedAt
	}
	return map[string]any{"deviceToken": t.token, "role": role, "scopes": slices.Clone(t.scopes), "issuedAtMs": issued}
}

// ---- locality and browser origins ----

// hostName is the host part of a Host header, lowercased ("[::1]:80" -> "::1").
func hostName(host string) string {
	host = strings.ToLower(strings.TrimSpace(host))
	if strings.HasPrefix(host, "[") {
		if end := strings.Index(host, "]"); end != -1 {
			return host[1:end]
		}
	}
	name, _, _ := strings.Cut(host, ":")
	return name
}

func isLoopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// isLocalClient is the gateway's isLocalDirectRequest (without trusted proxies): the
// peer address is loopback AND the Host header names the local host (localhost,
// 127.0.0.1, ::1, or a Tailscale Serve *.ts.net name) AND no proxy forwarded it.
// A loopback connection with another Host is treated as remote.
func isLocalClient(r *http.Request) bool {
	if !isLoopbackAddr(r.RemoteAddr) {
		return false
	}
	h := hostName(r.Host)
	hostLocal := h == "localhost" || h == "127.0.0.1" || h == "::1" || strings.HasSuffix(h, ".ts.net")
	forwarded := r.Header.Get("X-Forwarded-For") != "" || r.Header.Get("X-Real-IP") != "" || r.Header.Get("X-Forwarded-Host") != ""
	return hostLocal && !forwarded
}

// isLoopbackHostname is the origin check's loopback test; like the gateway's (which
// sees URL hostnames, brackets included) it does not recognise a bracketed "[::1]".
func isLoopbackHostname(h string) bool {
	return h == "localhost" || h == "::1" || strings.HasPrefix(h, "127.")
}

// browserOriginAllowed is the gateway's checkBrowserOrigin for control UI and webchat
// clients: the Origin must be listed in gateway.controlUi.allowedOrigins, or name the
// host the request was sent to (Origin host:port == Host), or both must be loopback.
// A missing or unparseable Origin is refused.
func browserOriginAllowed(origin, host string, allowed []string) bool {
	origin = strings.TrimSpace(origin)
	if origin == "" || origin == "null" {
		return false
	}
	u, err := url.Parse(origin)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return false
	}
	scheme := strings.ToLower(u.Scheme)
	hostname := strings.ToLower(u.Hostname())
	if strings.Contains(hostname, ":") {
		hostname = "[" + hostname + "]" // as a WHATWG URL's hostname shows an IPv6 address
	}
	port := u.Port()
	if (port == "80" && (scheme == "http" || scheme == "ws")) || (port == "443" && (scheme == "https" || scheme == "wss")) {
		port = ""
	}
	urlHost := hostname
	if port != "" {
		urlHost += ":" + port
	}
	normalized := scheme + "://" + urlHost
	for _, a := range allowed {
		if strings.ToLower(strings.TrimSpace(a)) == normalized {
			return true
		}
	}
	reqHost := strings.ToLower(strings.TrimSpace(host))
	if reqHost != "" && urlHost == reqHost {
		return true
	}
	return isLoopbackHostname(hostname) && isLoopbackHostname(hostName(reqHost))
}
