package smoke_test

import (
	"context"
	"encoding/json"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/gatewayemu"
	"github.com/agentme/release-action/internal/outcome"
	"github.com/agentme/release-action/internal/smoke"
)

// TestVerifyRotation rotates an emulated gateway's credential and checks what
// VerifyRotation proves: the new credential works, the old one and the pre-rotation
// bootstrap code are refused; and that each way a rotation goes wrong fails the probe
// that should catch it.
func TestVerifyRotation(t *testing.T) {
	const newToken = "tok-new-0c2f6a9e4b1d8c3a7e5f9b2d6a0c4e8f"
	const newPassword = "pw-new-4e8f2a6c0b9d3f7a1e5c9b3d7f1a5e9c"
	tests := []struct {
		name     string
		emu      gatewayemu.Options
		restart  *gatewayemu.Credentials // nil: the gateway is not restarted at all
		setup    func(*gatewayemu.Server)
		password bool
		failing  map[string]string // probe -> detail substring; the others pass
	}{
		{name: "token rotated", restart: &gatewayemu.Credentials{Credential: newToken}},
		{name: "password rotated", emu: gatewayemu.Options{Password: testPassword}, password: true,
			restart: &gatewayemu.Credentials{Credential: newPassword}},
		{name: "token and dedicated bootstrap secret rotated", emu: gatewayemu.Options{BootstrapSecret: "bs-old-secret"},
			restart: &gatewayemu.Credentials{Credential: newToken, BootstrapSecret: "bs-new-secret"}},
		{name: "dedicated bootstrap secret left as it was", emu: gatewayemu.Options{BootstrapSecret: "bs-old-secret"},
			restart: &gatewayemu.Credentials{Credential: newToken, BootstrapSecret: "bs-old-secret"},
			failing: map[string]string{smoke.ProbeOldBootstrapCode: "was ACCEPTED"}},
		{name: "stale secret and the old code already used", emu: gatewayemu.Options{BootstrapSecret: "bs-old-secret"},
			restart: &gatewayemu.Credentials{Credential: newToken, BootstrapSecret: "bs-old-secret"},
			setup:   func(g *gatewayemu.Server) {}, // the code is exchanged before the check below
			failing: map[string]string{smoke.ProbeOldBootstrapCode: "signature is still valid"}},
		{name: "gateway not restarted", failing: map[string]string{
			smoke.ProbeConnectAuth: "does not match", smoke.ProbeControlUI: "", smoke.ProbeBootstrap: "", smoke.ProbeToolCall: "401",
			smoke.ProbeOldCredentialConnect: "still authenticates", smoke.ProbeOldCredentialTools: "still runs tools",
			smoke.ProbeOldBootstrapCode: "was ACCEPTED"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := tt.emu
			oldCred := testToken
			if tt.password {
				oldCred = testPassword
			} else {
				o.Token = testToken
			}
			g := gatewayemu.New(o)
			base := g.Start()
			t.Cleanup(g.Close)
			u, _ := url.Parse(base)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()

			oldOpts := smoke.Options{URL: u, Ready: time.Second}
			newOpts := smoke.Options{URL: u, Ready: time.Second}
			if tt.password {
				oldOpts.Password, newOpts.Password = testPassword, newPassword
			} else {
				oldOpts.Token, newOpts.Token = testToken, newToken
			}
			code, err := smoke.CreateBootstrapCode(ctx, oldOpts)
			require.NoError(t, err)
			require.False(t, code.IsZero())
			if tt.restart != nil {
				require.NoError(t, g.RestartWith(*tt.restart))
			}
			if tt.setup != nil {
				// Use the old code once after the restart: its nonce is then spent.
				resp, err := g.HTTPClient().Get(base + "/api/bootstrap/exchange?code=" + url.QueryEscape(code.Secret()))
				require.NoError(t, err)
				resp.Body.Close()
				require.Equal(t, 200, resp.StatusCode)
			}

			rep, err := smoke.VerifyRotation(ctx, newOpts, smoke.Replaced{Credential: oldCred, Code: code})
			require.NoError(t, err)
			names := []string{}
			for _, p := range rep.Probes {
				names = append(names, p.Name)
				want, bad := tt.failing[p.Name]
				if bad {
					assert.False(t, p.OK, "%s should fail: %s", p.Name, p.Detail)
					assert.Contains(t, p.Detail, want, p.Name)
				} else {
					assert.True(t, p.OK, "%s should pass: %s", p.Name, p.Detail)
				}
			}
			assert.Equal(t, []string{smoke.ProbeConnectAuth, smoke.ProbeControlUI, smoke.ProbeBootstrap, smoke.ProbeToolCall,
				smoke.ProbeOldCredentialConnect, smoke.ProbeOldCredentialTools, smoke.ProbeOldBootstrapCode}, names)
			if len(tt.failing) == 0 {
				assert.Equal(t, outcome.Pass, rep.Verdict)
			} else {
				assert.Equal(t, outcome.Fail, rep.Verdict)
			}
			b, err := json.Marshal(rep)
			require.NoError(t, err)
			for _, secret := range []string{testToken, testPassword, newToken, newPassword, code.Secret(), "bs-old-secret", "bs-new-secret"} {
				assert.NotContains(t, string(b), secret)
			}
		})
	}
}

func TestCreateBootstrapCodeRefused(t *testing.T) {
	g := gatewayemu.New(gatewayemu.Options{Token: testToken})
	u, _ := url.Parse(g.Start())
	t.Cleanup(g.Close)
	_, err := smoke.CreateBootstrapCode(context.Background(), smoke.Options{URL: u, Token: "tok-wrong-credential-123"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "401")
	assert.NotContains(t, err.Error(), "tok-wrong-credential-123")
}
