package github_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/nacl/box"

	"github.com/agentme/release-action/internal/ghemu"
	"github.com/agentme/release-action/internal/github"
)

// TestEmulatorSecrets writes secrets through the client: the emulator opens the sealed
// box with its private key, so the value read back proves the encryption is right.
func TestEmulatorSecrets(t *testing.T) {
	tests := []struct {
		name  string
		scope string
	}{
		{"repository", ghemu.RepoScope},
		{"environment", "production"},
		{"environment with a space", "prod eu"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, s, _ := emulatorClient(t)
			ctx := context.Background()
			key, err := c.SecretsPublicKey(ctx, tt.scope)
			require.NoError(t, err)
			assert.Equal(t, s.SecretsKeyID(tt.scope), key.KeyID)

			created, err := c.PutSecret(ctx, tt.scope, "AGENTME_GATEWAY_TOKEN", key, []byte("v1-secret"))
			require.NoError(t, err)
			assert.True(t, created, "first write creates (201)")
			got, ok := s.Secret(tt.scope, "AGENTME_GATEWAY_TOKEN")
			require.True(t, ok)
			assert.Equal(t, "v1-secret", got)

			created, err = c.PutSecret(ctx, tt.scope, "AGENTME_GATEWAY_TOKEN", key, []byte("v2-secret"))
			require.NoError(t, err)
			assert.False(t, created, "second write updates (204)")
			got, _ = s.Secret(tt.scope, "AGENTME_GATEWAY_TOKEN")
			assert.Equal(t, "v2-secret", got)
			assert.Equal(t, 2, s.SecretWrites())
		})
	}
}

func TestEmulatorSecretsRefused(t *testing.T) {
	tests := []struct {
		name      string
		setup     func(*ghemu.Server)
		key       func(github.SecretsKey) github.SecretsKey
		secret    string
		forbidden bool
		wantErr   string
	}{
		{name: "GITHUB_TOKEN cannot write secrets", setup: func(s *ghemu.Server) { s.SetSecretsForbidden(true) },
			forbidden: true, wantErr: "Resource not accessible by integration"},
		{name: "wrong key id", key: func(k github.SecretsKey) github.SecretsKey { k.KeyID = "1"; return k }, wantErr: "key_id does not match"},
		{name: "sealed for another key", key: func(k github.SecretsKey) github.SecretsKey { k.Key[0] ^= 1; return k }, wantErr: "could not be decrypted"},
		{name: "reserved name", secret: "GITHUB_X", wantErr: "not a valid secret name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, s, _ := emulatorClient(t)
			ctx := context.Background()
			if tt.setup != nil {
				tt.setup(s)
			}
			key, err := c.SecretsPublicKey(ctx, "production")
			if tt.forbidden {
				require.Error(t, err)
				assert.True(t, errors.Is(err, github.ErrForbidden), err)
				key = github.SecretsKey{KeyID: "x"}
			} else {
				require.NoError(t, err)
			}
			if tt.key != nil {
				key = tt.key(key)
			}
			name := tt.secret
			if name == "" {
				name = "TOKEN"
			}
			_, err = c.PutSecret(ctx, "production", name, key, []byte("never-shown-value"))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
			assert.NotContains(t, err.Error(), "never-shown-value")
			if tt.forbidden {
				assert.True(t, errors.Is(err, github.ErrForbidden))
			}
			assert.Equal(t, 0, s.SecretWrites())
		})
	}
}

func TestValidSecretName(t *testing.T) {
	for name, want := range map[string]bool{
		"AGENTME_GATEWAY_TOKEN": true, "_x": true, "a1": true,
		"": false, "1A": false, "A-B": false, "github_token": false, "A B": false,
	} {
		assert.Equal(t, want, github.ValidSecretName(name), name)
	}
}

// FuzzSealSecret: whatever the value, the sealed box opens with the scope's private key
// to exactly that value, and the base64 never contains it.
func FuzzSealSecret(f *testing.F) {
	for _, s := range []string{"", "x", "tok-" + strings.Repeat("a", 40), "pw with spaces\n", "\x00\xff"} {
		f.Add([]byte(s))
	}
	pub, priv, err := box.GenerateKey(rand.Reader)
	require.NoError(f, err)
	key := github.SecretsKey{KeyID: "1", Key: *pub}
	f.Fuzz(func(t *testing.T, value []byte) {
		enc, err := github.SealSecret(key, value)
		require.NoError(t, err)
		raw, err := base64.StdEncoding.DecodeString(enc)
		require.NoError(t, err)
		assert.Len(t, raw, len(value)+box.AnonymousOverhead)
		got, ok := box.OpenAnonymous(nil, raw, pub, priv)
		require.True(t, ok)
		assert.Equal(t, string(value), string(got))
		if len(value) >= 8 {
			assert.NotContains(t, enc, string(value))
		}
	})
}
