package gatewayemu

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/clock"
)

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

func create(t *testing.T, s *Server, body string) (code string, expiresAt int64) {
	t.Helper()
	r := do(t, s, "POST", "/api/bootstrap/create", body, bearer(s.cred))
	require.Equal(t, 200, r.status, r.body)
	f := r.json(t)
	require.Equal(t, true, f["ok"])
	return f.str("code"), int64(f["expiresAt"].(float64))
}

func exchange(t *testing.T, s *Server, code string) httpResult {
	t.Helper()
	return do(t, s, "GET", "/api/bootstrap/exchange?code="+url.QueryEscape(code), "", nil)
}

// resign builds a code over arbitrary payload bytes with a valid signature.
func resign(key []byte, raw []byte) string {
	seg := b64.EncodeToString(raw)
	return seg + "." + b64.EncodeToString(mac(key, seg))
}

func TestBootstrapExchange(t *testing.T) {
	tests := []struct {
		name       string
		opts       Options
		setup      func(*Server)
		code       func(t *testing.T, s *Server, vc *clock.Virtual) string
		wantStatus int
		wantError  string
		wantField  string // "token" or "password" on success
		wantCred   string // "" means: must differ from the configured credential
	}{
		{name: "fresh code", code: fresh, wantStatus: 200, wantField: "token", wantCred: testToken},
		{name: "password mode", opts: Options{Password: "pw-9"}, code: fresh, wantStatus: 200, wantField: "password", wantCred: "pw-9"},
		{name: "second exchange", code: func(t *testing.T, s *Server, _ *clock.Virtual) string {
			c := fresh(t, s, nil)
			require.Equal(t, 200, exchange(t, s, c).status)
			return c
		}, wantStatus: 400, wantError: "bootstrap code already used"},
		{name: "second exchange with reuse broken", setup: func(s *Server) { s.SetBootstrapReuse(true) }, code: func(t *testing.T, s *Server, _ *clock.Virtual) string {
			c := fresh(t, s, nil)
			require.Equal(t, 200, exchange(t, s, c).status)
			return c
		}, wantStatus: 200, wantField: "token", wantCred: testToken},
		{name: "restart forgets used nonces", code: func(t *testing.T, s *Server, _ *clock.Virtual) string {
			c := fresh(t, s, nil)
			require.Equal(t, 200, exchange(t, s, c).status)
			s.Restart()
			return c
		}, wantStatus: 200, wantField: "token", wantCred: testToken},
		{name: "wrong credential returned", setup: func(s *Server) { s.SetExchangeWrongCredential(true) }, code: fresh, wantStatus: 200, wantField: "token"},
		{name: "tampered signature", code: func(t *testing.T, s *Server, _ *clock.Virtual) string {
			c := fresh(t, s, nil)
			seg, _, _ := strings.Cut(c, ".")
			return seg + "." + b64.EncodeToString(mac([]byte("other key"), seg))
		}, wantStatus: 400, wantError: "invalid bootstrap code signature"},
		{name: "tampered payload", code: func(t *testing.T, s *Server, _ *clock.Virtual) string {
			c := fresh(t, s, nil)
			_, sig, _ := strings.Cut(c, ".")
			raw, err := json.Marshal(codePayload{Nonce: "n", Exp: t0.Add(24 * time.Hour).UnixMilli()})
			require.NoError(t, err)
			return b64.EncodeToString(raw) + "." + sig
		}, wantStatus: 400, wantError: "invalid bootstrap code signature"},
		{name: "garbage", code: constant("not-a-code"), wantStatus: 400, wantError: "invalid bootstrap code format"},
		{name: "empty", code: constant(""), wantStatus: 400, wantError: "invalid bootstrap code format"},
		{name: "three parts", code: constant("a.b.c"), wantStatus: 400, wantError: "invalid bootstrap code format"},
		{name: "not base64url", code: constant("e30.!!!"), wantStatus: 400, wantError: "invalid bootstrap code format"},
		{name: "signed but not JSON", code: func(_ *testing.T, s *Server, _ *clock.Virtual) string { return resign(s.key, []byte("nonce=1")) },
			wantStatus: 400, wantError: "invalid bootstrap code payload"},
		{name: "signed but no nonce", code: func(_ *testing.T, s *Server, _ *clock.Virtual) string {
			return resign(s.key, []byte(`{"exp":99999999999999}`))
		}, wantStatus: 400, wantError: "invalid bootstrap code payload"},
		{name: "expired", code: func(t *testing.T, s *Server, vc *clock.Virtual) string {
			c := fresh(t, s, nil)
			vc.Advance(301 * time.Second)
			return c
		}, wantStatus: 400, wantError: "bootstrap code expired"},
		{name: "not yet expired", code: func(t *testing.T, s *Server, vc *clock.Virtual) string {
			c := fresh(t, s, nil)
			vc.Advance(299 * time.Second)
			return c
		}, wantStatus: 200, wantField: "token", wantCred: testToken},
		{name: "rotated token invalidates the code", code: func(t *testing.T, s *Server, vc *clock.Virtual) string {
			old := New(Options{Token: "old-token", Clock: vc})
			old.Start()
			defer old.Close()
			return fresh(t, old, nil)
		}, wantStatus: 400, wantError: "invalid bootstrap code signature"},
		{name: "a dedicated secret survives rotation", opts: Options{BootstrapSecret: "bs-1"}, code: func(t *testing.T, s *Server, vc *clock.Virtual) string {
			old := New(Options{Token: "old-token", BootstrapSecret: "bs-1", Clock: vc})
			old.Start()
			defer old.Close()
			return fresh(t, old, nil)
		}, wantStatus: 200, wantField: "token", wantCred: testToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vc := clock.NewVirtual(t0)
			tt.opts.Clock = vc
			s, _ := start(t, tt.opts)
			if tt.setup != nil {
				tt.setup(s)
			}
			code := tt.code(t, s, vc)
			before := s.Stats()
			r := exchange(t, s, code)
			require.Equal(t, tt.wantStatus, r.status, r.body)
			f := r.json(t)
			after := s.Stats()
			if tt.wantError != "" {
				assert.JSONEq(t, `{"ok":false,"error":"`+tt.wantError+`"}`, r.body)
				assert.Equal(t, before.BootstrapExchangeFailures+1, after.BootstrapExchangeFailures)
				return
			}
			assert.Equal(t, true, f["ok"])
			cred := f.str(tt.wantField)
			require.NotEmpty(t, cred)
			if tt.wantCred != "" {
				assert.Equal(t, tt.wantCred, cred)
			} else {
				assert.NotEqual(t, s.cred, cred)
			}
			assert.Equal(t, before.BootstrapExchanges+1, after.BootstrapExchanges)
		})
	}
}

func fresh(t *testing.T, s *Server, _ *clock.Virtual) string {
	c, _ := create(t, s, "")
	return c
}

func constant(code string) func(*testing.T, *Server, *clock.Virtual) string {
	return func(*testing.T, *Server, *clock.Virtual) string { return code }
}

func TestBootstrapCreate(t *testing.T) {
	tests := []struct {
		name       string
		opts       Options
		method     string
		body       string
		header     map[string]string
		wantStatus int
		wantTTL    time.Duration
		wantError  string
	}{
		{name: "default ttl", method: "POST", header: bearer(testToken), wantStatus: 200, wantTTL: 300 * time.Second},
		{name: "explicit ttl", method: "POST", body: `{"ttlSec":120}`, header: bearer(testToken), wantStatus: 200, wantTTL: 120 * time.Second},
		{name: "ttl clamped up", method: "POST", body: `{"ttlSec":5}`, header: bearer(testToken), wantStatus: 200, wantTTL: 30 * time.Second},
		{name: "ttl clamped down", method: "POST", body: `{"ttlSec":86400}`, header: bearer(testToken), wantStatus: 200, wantTTL: 600 * time.Second},
		{name: "wrong token", method: "POST", header: bearer("nope"), wantStatus: 401},
		{name: "no token", method: "POST", wantStatus: 401},
		{name: "origin not allowed", opts: Options{AllowedOrigins: []string{"https://ui.example"}}, method: "POST",
			header: map[string]string{"Authorization": "Bearer " + testToken, "Origin": "https://evil.example"}, wantStatus: 403, wantError: "origin not allowed"},
		{name: "allowed origin", opts: Options{AllowedOrigins: []string{"https://ui.example/"}}, method: "POST",
			header: map[string]string{"Authorization": "Bearer " + testToken, "Origin": "https://UI.example"}, wantStatus: 200, wantTTL: 300 * time.Second},
		{name: "no origin with allowed origins set", opts: Options{AllowedOrigins: []string{"https://ui.example"}}, method: "POST",
			header: bearer(testToken), wantStatus: 200, wantTTL: 300 * time.Second},
		{name: "bad JSON", method: "POST", body: `{"ttlSec":`, header: bearer(testToken), wantStatus: 400, wantError: "invalid JSON body"},
		{name: "GET", method: "GET", header: bearer(testToken), wantStatus: 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Clock = clock.NewVirtual(t0)
			s, _ := start(t, tt.opts)
			r := do(t, s, tt.method, "/api/bootstrap/create", tt.body, tt.header)
			require.Equal(t, tt.wantStatus, r.status, r.body)
			f := r.json(t)
			if tt.wantError != "" {
				assert.Equal(t, tt.wantError, f["error"])
			}
			if tt.wantStatus == 401 {
				assert.JSONEq(t, `{"error":{"message":"Unauthorized","type":"unauthorized"}}`, r.body)
				assert.Equal(t, 1, s.Stats().AuthFailures)
			}
			if tt.wantStatus != 200 {
				assert.Zero(t, s.Stats().BootstrapCreates)
				return
			}
			assert.EqualValues(t, t0.Add(tt.wantTTL).UnixMilli(), f["expiresAt"])
			p, err := verifyCode(s.key, f.str("code"))
			require.NoError(t, err)
			assert.Equal(t, t0.Add(tt.wantTTL).UnixMilli(), p.Exp)
			assert.Equal(t, 1, s.Stats().BootstrapCreates)
			assert.NotContains(t, r.body, testToken)
		})
	}
}

func TestBootstrapExchangeRequestForms(t *testing.T) {
	s, _ := start(t, Options{})
	c1, c2 := fresh(t, s, nil), fresh(t, s, nil)
	assert.NotEqual(t, c1, c2, "every code has its own nonce")
	assert.Equal(t, 200, do(t, s, "POST", "/api/bootstrap/exchange?code="+url.QueryEscape(c1), "", nil).status)
	assert.Equal(t, 200, do(t, s, "POST", "/api/bootstrap/exchange", `{"code":"`+c2+`"}`, nil).status)
	assert.Equal(t, 405, do(t, s, "DELETE", "/api/bootstrap/exchange?code=x", "", nil).status)
}

func TestSignVerifyRoundTrip(t *testing.T) {
	key := []byte("agentme-bootstrap:" + testToken)
	p := codePayload{Nonce: "n-1", Exp: t0.UnixMilli()}
	code, err := signCode(key, p)
	require.NoError(t, err)
	got, err := verifyCode(key, code)
	require.NoError(t, err)
	assert.Equal(t, p, got)
	_, err = verifyCode([]byte("agentme-bootstrap:other"), code)
	assert.ErrorIs(t, err, errCodeSignature)
}

func FuzzVerifyCode(f *testing.F) {
	key := []byte("agentme-bootstrap:fuzz")
	good, err := signCode(key, codePayload{Nonce: "abc", Exp: 1})
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{good, "", ".", "a.b", "a.b.c", "e30.e30", good + "x", resign(key, []byte(`{"nonce":"","exp":1}`))} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, code string) {
		p, err := verifyCode(key, code)
		if err != nil {
			for _, known := range []error{errCodeFormat, errCodeSignature, errCodePayload} {
				if err == known {
					return
				}
			}
			t.Fatalf("unexpected error %v", err)
		}
		if p.Nonce == "" {
			t.Fatalf("accepted a code without a nonce: %q", code)
		}
		// Whatever verifies is bound to the key: another key must refuse it.
		if _, err := verifyCode([]byte("agentme-bootstrap:other"), code); err != errCodeSignature {
			t.Fatalf("code %q verified under another key (err %v)", code, err)
		}
	})
}
