package gatewayemu

import (
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/clock"
)

// deviceFn builds params.device for connect params p; nil sends none.
type deviceFn func(d testDevice, p map[string]any, now time.Time, nonce string) map[string]any

var (
	signedNow deviceFn = func(d testDevice, p map[string]any, now time.Time, nonce string) map[string]any {
		return d.signed(p, now, nonce)
	}
	signedAt = func(offset time.Duration) deviceFn {
		return func(d testDevice, p map[string]any, now time.Time, nonce string) map[string]any {
			return d.signed(p, now.Add(offset), nonce)
		}
	}
	tweak = func(fn func(d testDevice, dev map[string]any, p map[string]any, now time.Time, nonce string)) deviceFn {
		return func(d testDevice, p map[string]any, now time.Time, nonce string) map[string]any {
			dev := d.signed(p, now, nonce)
			fn(d, dev, p, now, nonce)
			return dev
		}
	}
)

const (
	loopbackOrigin = "http://127.0.0.1:18789"
	remoteHost     = "gw.example.com:18789"
	remoteOrigin   = "http://gw.example.com:18789"
)

func TestControlUIAndDevices(t *testing.T) {
	other := newDevice("other")
	tests := []struct {
		name     string
		opts     Options
		setup    func(*Server)
		tls      bool
		origin   string // "" sends no Origin
		host     string // Host header; "" keeps 127.0.0.1:port
		header   http.Header
		id, mode string // default agentme-control-ui / ui
		auth     map[string]any
		noAuth   bool
		device   deviceFn
		wantOK   bool
		wantCode string // error code; INVALID_REQUEST unless set
		wantMsg  string // exact error message and close reason
		wantAuth bool   // hello-ok carries a device token
		pairing  bool   // NOT_PAIRED pairing required with a request id
	}{
		// (a) origin
		{name: "control UI from the gateway's loopback origin", origin: loopbackOrigin, device: signedNow, wantOK: true, wantAuth: true},
		{name: "control UI from localhost to 127.0.0.1 (both loopback)", origin: "http://localhost:5173", device: signedNow, wantOK: true, wantAuth: true},
		{name: "control UI without Origin", device: signedNow, wantMsg: originNotAllowedMessage},
		{name: "control UI from a foreign origin", origin: "https://evil.example", device: signedNow, wantMsg: originNotAllowedMessage},
		{name: "the origin is checked before the device", origin: "https://evil.example", wantMsg: originNotAllowedMessage},
		{name: "control UI from an allowed origin", opts: Options{ControlUIAllowedOrigins: []string{" HTTPS://Ops.Example "}},
			origin: "https://ops.example", device: signedNow, wantOK: true, wantAuth: true},
		{name: "default port is not part of the origin", opts: Options{ControlUIAllowedOrigins: []string{"https://ops.example"}},
			origin: "https://ops.example:443", device: signedNow, wantOK: true, wantAuth: true},
		{name: "gateway.auth.allowedOrigins does not apply to the control UI", opts: Options{AllowedOrigins: []string{"https://ops.example"}},
			origin: "https://ops.example", device: signedNow, wantMsg: originNotAllowedMessage},
		{name: "origin check broken", setup: func(s *Server) { s.SetOriginCheckBroken(true) },
			origin: "https://evil.example", device: signedNow, wantOK: true, wantAuth: true},
		{name: "webchat-ui needs an origin", id: WebchatUIClientID, mode: "webchat", wantMsg: originNotAllowedMessage},
		{name: "webchat mode needs an origin whatever the id", id: "cli", mode: "webchat", wantMsg: originNotAllowedMessage},
		{name: "webchat from loopback needs no device", id: WebchatUIClientID, mode: "webchat", origin: loopbackOrigin, wantOK: true},
		{name: "webchat with a wrong token gets the dashboard hint", id: WebchatUIClientID, mode: "webchat", origin: loopbackOrigin,
			auth: map[string]any{"token": "wrong"}, wantMsg: "unauthorized: gateway token mismatch (open the dashboard URL and paste the token in Control UI settings)"},

		// (b) a device is required of the control UI
		{name: "control UI without a device", origin: loopbackOrigin, wantMsg: secureContextMessage},
		{name: "TLS does not replace the device", tls: true, origin: loopbackOrigin, wantMsg: secureContextMessage},
		{name: "a proxy saying https does not replace the device", origin: loopbackOrigin,
			header: http.Header{"X-Forwarded-Proto": {"https"}}, wantMsg: secureContextMessage},
		{name: "allowInsecureAuth accepts no device", opts: Options{AllowInsecureAuth: true}, origin: loopbackOrigin, wantOK: true},
		{name: "SetAllowInsecureAuth accepts no device", setup: func(s *Server) { s.SetAllowInsecureAuth(true) }, origin: loopbackOrigin, wantOK: true},
		{name: "allowInsecureAuth still wants the credential", opts: Options{AllowInsecureAuth: true}, origin: loopbackOrigin,
			auth: map[string]any{"token": "wrong"}, wantMsg: "unauthorized: gateway token mismatch (open the dashboard URL and paste the token in Control UI settings)"},
		{name: "allowInsecureAuth skips pairing of a remote control UI", opts: Options{AllowInsecureAuth: true},
			origin: remoteOrigin, host: remoteHost, device: signedNow, wantOK: true},
		{name: "control UI refused despite a valid device", setup: func(s *Server) { s.SetControlUIRefused(true) },
			origin: loopbackOrigin, device: signedNow, wantMsg: secureContextMessage},
		{name: "control UI refused overrides allowInsecureAuth", opts: Options{AllowInsecureAuth: true}, setup: func(s *Server) { s.SetControlUIRefused(true) },
			origin: loopbackOrigin, wantMsg: secureContextMessage},

		// (c) device verification
		{name: "device signed over another nonce", origin: loopbackOrigin,
			device: tweak(func(d testDevice, dev, p map[string]any, now time.Time, _ string) {
				for k, v := range d.signed(p, now, "another-nonce") {
					dev[k] = v
				}
			}), wantMsg: "device nonce mismatch"},
		{name: "device signature 11 minutes old", origin: loopbackOrigin, device: signedAt(-11 * time.Minute), wantMsg: "device signature expired"},
		{name: "device signature 11 minutes ahead", origin: loopbackOrigin, device: signedAt(11 * time.Minute), wantMsg: "device signature expired"},
		{name: "device signature 9 minutes old", origin: loopbackOrigin, device: signedAt(-9 * time.Minute), wantOK: true, wantAuth: true},
		{name: "device id of another key", origin: loopbackOrigin,
			device: tweak(func(_ testDevice, dev, _ map[string]any, _ time.Time, _ string) { dev["id"] = other.id }), wantMsg: "device identity mismatch"},
		{name: "device public key unreadable", origin: loopbackOrigin,
			device: tweak(func(_ testDevice, dev, _ map[string]any, _ time.Time, _ string) { dev["publicKey"] = "%%%" }), wantMsg: "device identity mismatch"},
		{name: "device signed by another key", origin: loopbackOrigin,
			device: tweak(func(_ testDevice, dev, p map[string]any, now time.Time, nonce string) {
				dev["signature"] = other.signed(p, now, nonce)["signature"]
			}), wantMsg: "device signature invalid"},
		{name: "device signed without the token", origin: loopbackOrigin,
			device: tweak(func(d testDevice, dev, p map[string]any, now time.Time, nonce string) {
				q := clientParams(ControlUIClientID, "ui", nil)
				dev["signature"] = d.signed(q, now, nonce)["signature"]
			}), wantMsg: "device signature invalid"},
		{name: "device signed for another mode", origin: loopbackOrigin,
			device: tweak(func(d testDevice, dev, _ map[string]any, now time.Time, nonce string) {
				q := clientParams(ControlUIClientID, "webchat", map[string]any{"token": testToken})
				dev["signature"] = d.signed(q, now, nonce)["signature"]
			}), wantMsg: "device signature invalid"},
		{name: "device without nonce from a local client (v1 payload)", origin: loopbackOrigin,
			device: tweak(func(d testDevice, dev, p map[string]any, now time.Time, _ string) {
				for k, v := range d.signed(p, now, "") {
					dev[k] = v
				}
				delete(dev, "nonce")
			}), wantOK: true, wantAuth: true},
		{name: "device without nonce from a remote client", origin: remoteOrigin, host: remoteHost,
			device: tweak(func(d testDevice, dev, p map[string]any, now time.Time, _ string) {
				for k, v := range d.signed(p, now, "") {
					dev[k] = v
				}
				delete(dev, "nonce")
			}), wantMsg: "device nonce required"},
		{name: "device with a PEM public key", origin: loopbackOrigin,
			device: tweak(func(d testDevice, dev, _ map[string]any, _ time.Time, _ string) {
				der, err := x509.MarshalPKIXPublicKey(d.pub)
				if err != nil {
					panic(err)
				}
				dev["publicKey"] = string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
			}), wantOK: true, wantAuth: true},
		{name: "the device is verified before the credential", origin: loopbackOrigin, auth: map[string]any{"token": "wrong"},
			device: tweak(func(_ testDevice, dev, _ map[string]any, _ time.Time, _ string) { dev["id"] = other.id }), wantMsg: "device identity mismatch"},
		{name: "password mode signs an empty token", opts: Options{Password: "pw-1"}, origin: loopbackOrigin,
			auth: map[string]any{"password": "pw-1"}, device: signedNow, wantOK: true, wantAuth: true},

		// (e) credential, with a device
		{name: "valid device, wrong token", origin: loopbackOrigin, auth: map[string]any{"token": "wrong"}, device: signedNow,
			wantMsg: "unauthorized: gateway token mismatch (open the dashboard URL and paste the token in Control UI settings)"},
		{name: "probe with a device and no credential", id: ProbeClientID, mode: "probe", noAuth: true, device: signedNow,
			wantMsg: "unauthorized: gateway token missing (provide gateway auth token)"},
		{name: "probe with a device and a token", id: ProbeClientID, mode: "probe", device: signedNow, wantOK: true, wantAuth: true},

		// (d) pairing
		{name: "remote control UI needs pairing", origin: remoteOrigin, host: remoteHost, device: signedNow, pairing: true},
		{name: "remote probe with a device needs pairing", id: ProbeClientID, mode: "probe", host: remoteHost, device: signedNow, pairing: true},
		{name: "a proxy header makes a loopback client remote", origin: loopbackOrigin, header: http.Header{"X-Forwarded-For": {"203.0.113.7"}},
			device: signedNow, pairing: true},
		{name: "remote probe without a device needs no pairing", id: ProbeClientID, mode: "probe", host: remoteHost, wantOK: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vc := clock.NewVirtual(time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC))
			o := tt.opts
			o.Clock = vc
			if o.Token == "" && o.Password == "" {
				o.Token = testToken
			}
			s := New(o)
			if tt.tls {
				s.StartTLS()
			} else {
				s.Start()
			}
			t.Cleanup(s.Close)
			if tt.setup != nil {
				tt.setup(s)
			}
			header := tt.header.Clone()
			if header == nil {
				header = http.Header{}
			}
			if tt.origin != "" {
				header.Set("Origin", tt.origin)
			}
			c := dialHost(t, s, header, tt.host)
			nonce := c.challenge()

			id, mode := tt.id, tt.mode
			if id == "" {
				id, mode = ControlUIClientID, "ui"
			}
			auth := tt.auth
			if auth == nil && !tt.noAuth {
				auth = map[string]any{"token": testToken}
			}
			p := clientParams(id, mode, auth)
			dev := newDevice("control-ui")
			if tt.device != nil {
				p["device"] = tt.device(dev, p, vc.Now(), nonce)
			}
			c.sendRaw(req("connect", p))
			res := c.read()
			require.Equal(t, "res", res["type"])
			if tt.wantOK {
				require.Equal(t, true, res["ok"], "%v", res["error"])
				assert.Equal(t, 1, s.Stats().Connects)
				assert.Empty(t, s.PendingDevices())
				if tt.wantAuth {
					assert.NotEmpty(t, res.str("payload", "auth", "deviceToken"))
					assert.Equal(t, "operator", res.str("payload", "auth", "role"))
					assert.Equal(t, []any{"operator.admin"}, res.get("payload", "auth", "scopes"))
				} else {
					assert.Nil(t, res.get("payload", "auth"))
				}
				return
			}
			require.Equal(t, false, res["ok"])
			code, reason := c.closed()
			assert.Equal(t, websocket.StatusPolicyViolation, code)
			if tt.pairing {
				assert.Equal(t, "NOT_PAIRED", res.str("error", "code"))
				assert.Equal(t, "pairing required", res.str("error", "message"))
				assert.Equal(t, "pairing required", reason)
				pending := s.PendingDevices()
				require.Len(t, pending, 1)
				assert.Equal(t, res.str("error", "details", "requestId"), pending[0].RequestID)
				assert.Equal(t, dev.id, pending[0].DeviceID)
				assert.Equal(t, id, pending[0].ClientID)
				return
			}
			wantCode := tt.wantCode
			if wantCode == "" {
				wantCode = "INVALID_REQUEST"
			}
			assert.Equal(t, wantCode, res.str("error", "code"))
			assert.Equal(t, tt.wantMsg, res.str("error", "message"))
			assert.Equal(t, tt.wantMsg, reason)
			assert.Empty(t, s.PendingDevices())
			assert.Zero(t, s.Stats().Connects)
		})
	}
}

// TestPairing follows one remote device from its first refusal to approval, device
// token sign-in, a scope upgrade and request expiry.
func TestPairing(t *testing.T) {
	vc := clock.NewVirtual(time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC))
	s, _ := start(t, Options{Clock: vc})
	dev := newDevice("laptop")

	// try connects as the control UI from host (remote unless loopback) and returns
	// the connect answer; the connection is closed on return.
	try := func(t *testing.T, host string, auth map[string]any, scopes []string) frame {
		t.Helper()
		origin := "http://" + host
		if host == "" {
			origin = loopbackOrigin
		}
		c := dialHost(t, s, http.Header{"Origin": {origin}}, host)
		nonce := c.challenge()
		p := clientParams(ControlUIClientID, "ui", auth)
		if scopes != nil {
			p["scopes"] = scopes
		}
		p["device"] = dev.signed(p, vc.Now(), nonce)
		c.sendRaw(req("connect", p))
		res := c.read()
		c.c.Close(websocket.StatusNormalClosure, "")
		return res
	}
	token := map[string]any{"token": testToken}

	first := try(t, remoteHost, token, nil)
	require.Equal(t, "NOT_PAIRED", first.str("error", "code"))
	requestID := first.str("error", "details", "requestId")
	require.NotEmpty(t, requestID)
	pending := s.PendingDevices()
	require.Len(t, pending, 1)
	assert.Equal(t, PendingDevice{RequestID: requestID, DeviceID: dev.id, ClientID: ControlUIClientID, ClientMode: "ui",
		Role: "operator", Scopes: []string{"operator.admin"}, RequestedAt: vc.Now()}, pending[0])

	again := try(t, remoteHost, token, nil)
	assert.Equal(t, requestID, again.str("error", "details", "requestId"), "a retry finds the same request")
	local := try(t, "", token, nil)
	assert.Equal(t, "pairing required", local.str("error", "message"),
		"a request made remotely is not approved silently when the device comes back locally")

	assert.False(t, s.ApproveDevice(newDevice("stranger").id))
	require.True(t, s.ApproveDevice(dev.id))
	assert.Empty(t, s.PendingDevices())
	assert.False(t, s.ApproveDevice(dev.id), "nothing left to approve")

	ok := try(t, remoteHost, token, nil)
	require.Equal(t, true, ok["ok"], "%v", ok["error"])
	deviceToken := ok.str("payload", "auth", "deviceToken")
	require.NotEmpty(t, deviceToken)
	assert.NotEqual(t, testToken, deviceToken)
	assert.EqualValues(t, vc.Now().UnixMilli(), ok.get("payload", "auth", "issuedAtMs"))

	s.Restart() // pairing lives on disk
	withDeviceToken := try(t, remoteHost, map[string]any{"token": deviceToken}, nil)
	require.Equal(t, true, withDeviceToken["ok"], "a paired device signs in with its own token: %v", withDeviceToken["error"])
	assert.Equal(t, deviceToken, withDeviceToken.str("payload", "auth", "deviceToken"))
	wrong := try(t, remoteHost, map[string]any{"token": "not-a-device-token"}, nil)
	assert.Contains(t, wrong.str("error", "message"), "unauthorized: gateway token mismatch")

	upgrade := try(t, remoteHost, token, []string{"operator.admin", "operator.pairing"})
	require.Equal(t, "pairing required", upgrade.str("error", "message"), "a scope beyond the approved ones needs approval again")
	require.Len(t, s.PendingDevices(), 1)
	assert.Equal(t, []string{"operator.admin", "operator.pairing"}, s.PendingDevices()[0].Scopes)

	vc.Advance(PendingPairingTTL + time.Second)
	assert.Empty(t, s.PendingDevices(), "an unanswered request expires")
	assert.Equal(t, 1, s.Stats().AuthFailures, "only the wrong device token was an auth failure")
}

// TestLocalDeviceIsPairedSilently: a local client's device is approved on its first
// connect, and stays paired when it later connects from elsewhere.
func TestLocalDeviceIsPairedSilently(t *testing.T) {
	s, _ := start(t, Options{})
	dev := newDevice("desk")
	for _, host := range []string{"", "localhost", remoteHost} {
		origin := loopbackOrigin
		if host != "" {
			origin = "http://" + host
		}
		c := dialHost(t, s, http.Header{"Origin": {origin}}, host)
		nonce := c.challenge()
		p := clientParams(ControlUIClientID, "ui", map[string]any{"token": testToken})
		p["device"] = dev.signed(p, time.Now(), nonce)
		res := c.call("connect", p)
		require.Equal(t, true, res["ok"], "host %q: %v", host, res["error"])
		assert.NotEmpty(t, res.str("payload", "auth", "deviceToken"))
	}
	assert.Empty(t, s.PendingDevices())
}

func TestBrowserOriginAllowed(t *testing.T) {
	tests := []struct {
		origin, host string
		allowed      []string
		want         bool
	}{
		{origin: "http://127.0.0.1:18789", host: "127.0.0.1:18789", want: true},
		{origin: "http://localhost:5173", host: "127.0.0.1:18789", want: true},
		{origin: "http://127.0.0.2", host: "localhost", want: true},
		{origin: "http://[::1]:18789", host: "[::1]:18789", want: true}, // same host
		{origin: "http://[::1]:5173", host: "[::1]:18789", want: false}, // the gateway's loopback test misses bracketed IPv6
		{origin: "https://gw.example.com", host: "gw.example.com", want: true},
		{origin: "https://GW.example.com:443", host: "gw.example.com", want: true},
		{origin: "https://gw.example.com:8443", host: "gw.example.com", want: false},
		{origin: "https://evil.example", host: "127.0.0.1:18789", want: false},
		{origin: "https://ops.example", host: "gw.example.com", allowed: []string{"https://ops.example"}, want: true},
		{origin: "https://ops.example", host: "gw.example.com", allowed: []string{"*"}, want: false},
		{origin: "", host: "127.0.0.1:18789", want: false},
		{origin: "null", host: "127.0.0.1:18789", want: false},
		{origin: "not a url", host: "127.0.0.1:18789", want: false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, browserOriginAllowed(tt.origin, tt.host, tt.allowed), "origin %q host %q allowed %v", tt.origin, tt.host, tt.allowed)
	}
}

func TestIsLocalClient(t *testing.T) {
	tests := []struct {
		remote, host string
		header       http.Header
		want         bool
	}{
		{remote: "127.0.0.1:50000", host: "127.0.0.1:18789", want: true},
		{remote: "[::1]:50000", host: "[::1]:18789", want: true},
		{remote: "127.0.0.1:50000", host: "localhost", want: true},
		{remote: "127.0.0.1:50000", host: "box.tail1234.ts.net", want: true},
		{remote: "127.0.0.1:50000", host: "gw.example.com", want: false},
		{remote: "127.0.0.1:50000", host: "127.0.0.2:18789", want: false},
		{remote: "192.0.2.10:50000", host: "127.0.0.1:18789", want: false},
		{remote: "127.0.0.1:50000", host: "127.0.0.1", header: http.Header{"X-Real-Ip": {"203.0.113.7"}}, want: false},
		{remote: "127.0.0.1:50000", host: "127.0.0.1", header: http.Header{"X-Forwarded-Host": {"gw.example.com"}}, want: false},
	}
	for _, tt := range tests {
		r := &http.Request{RemoteAddr: tt.remote, Host: tt.host, Header: tt.header}
		if r.Header == nil {
			r.Header = http.Header{}
		}
		assert.Equal(t, tt.want, isLocalClient(r), "remote %s host %s header %v", tt.remote, tt.host, tt.header)
	}
}
