package smoke

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRequestFrameHasExactlyTheSchemaKeys: the gateway's request schema is strict; any
// extra key (an "ok": false from a shared frame type once) closes the socket with 1008
// before the gateway answers.
func TestRequestFrameHasExactlyTheSchemaKeys(t *testing.T) {
	b, err := json.Marshal(request{Type: "req", ID: "smoke-1", Method: "connect", Params: map[string]any{"a": 1}})
	require.NoError(t, err)
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(b, &m))
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	assert.ElementsMatch(t, []string{"type", "id", "method", "params"}, keys)
	assert.JSONEq(t, `"smoke-1"`, string(m["id"]), "the id is a string")
}

// TestDeviceIdentityVerifies checks the control UI's device the way the gateway does:
// id = hex(sha256(public key)), an ed25519 signature over the v2 payload with the
// challenge nonce, stable per credential.
func TestDeviceIdentityVerifies(t *testing.T) {
	now := time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC)
	cl := client{id: ControlUIClientID, mode: "ui"}
	for _, cred := range []credential{{kind: "token", value: "tok-123456"}, {kind: "password", value: "pw-123456"}} {
		d := deviceIdentity(cl, cred, "nonce-1", now)
		pub, err := base64.RawURLEncoding.DecodeString(d["publicKey"].(string))
		require.NoError(t, err)
		sum := sha256.Sum256(pub)
		assert.Equal(t, hex.EncodeToString(sum[:]), d["id"])
		sig, err := base64.RawURLEncoding.DecodeString(d["signature"].(string))
		require.NoError(t, err)
		token := ""
		if cred.kind == "token" {
			token = cred.value
		}
		payload := strings.Join([]string{"v2", d["id"].(string), cl.id, cl.mode, "operator", "", strconv.FormatInt(now.UnixMilli(), 10), token, "nonce-1"}, "|")
		assert.True(t, ed25519.Verify(ed25519.PublicKey(pub), []byte(payload), sig), cred.kind)
		assert.Equal(t, d["id"], deviceIdentity(cl, cred, "nonce-2", now.Add(time.Hour))["id"], "the same device for the same credential")
		for _, v := range d {
			if s, ok := v.(string); ok {
				assert.NotContains(t, s, cred.value, "the device never carries the credential")
			}
		}
	}
	assert.NotEqual(t, deviceIdentity(cl, credential{kind: "token", value: "a-123456"}, "n", now)["id"],
		deviceIdentity(cl, credential{kind: "token", value: "b-123456"}, "n", now)["id"], "a new credential is a new device")
}
