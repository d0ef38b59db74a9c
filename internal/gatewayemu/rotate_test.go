package gatewayemu

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRestartWith(t *testing.T) {
	const newToken = "tok-rotated-77"
	tests := []struct {
		name string
		opts Options
		next Credentials
		// oldCode is what an exchange of a code made before the restart answers.
		oldCodeStatus int
		oldCodeError  string
	}{
		{name: "derived bootstrap key dies with the token", next: Credentials{Credential: newToken},
			oldCodeStatus: 400, oldCodeError: "invalid bootstrap code signature"},
		{name: "a dedicated secret that stays keeps old codes alive", opts: Options{BootstrapSecret: "bs-1"},
			next: Credentials{Credential: newToken, BootstrapSecret: "bs-1"}, oldCodeStatus: 200},
		{name: "a rotated dedicated secret kills old codes", opts: Options{BootstrapSecret: "bs-1"},
			next: Credentials{Credential: newToken, BootstrapSecret: "bs-2"}, oldCodeStatus: 400, oldCodeError: "invalid bootstrap code signature"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := start(t, tt.opts)
			old, _ := create(t, s, "")
			require.NoError(t, s.RestartWith(tt.next))
			assert.Equal(t, 1, s.Stats().Restarts)

			assert.Equal(t, 401, do(t, s, "POST", "/tools/invoke", `{"tool":"sessions_list"}`, bearer(testToken)).status, "old token on /tools/invoke")
			assert.Equal(t, 200, do(t, s, "POST", "/tools/invoke", `{"tool":"sessions_list"}`, bearer(newToken)).status, "new token on /tools/invoke")

			r := exchange(t, s, old)
			assert.Equal(t, tt.oldCodeStatus, r.status, r.body)
			if tt.oldCodeError != "" {
				assert.Equal(t, tt.oldCodeError, r.json(t).str("error"))
			} else {
				assert.Equal(t, newToken, r.json(t).str("token"), "a surviving old code hands out the NEW credential")
			}

			fresh, _ := create(t, s, "")
			r = exchange(t, s, fresh)
			require.Equal(t, 200, r.status, r.body)
			assert.Equal(t, newToken, r.json(t).str("token"))
		})
	}
}

func TestRestartWithOldTokenRefusedOnConnect(t *testing.T) {
	s, _ := start(t, Options{})
	require.NoError(t, s.RestartWith(Credentials{Credential: "tok-new"}))
	c := dial(t, s, nil)
	c.challenge()
	res := c.call("connect", probeConnect(map[string]any{"token": testToken}))
	assert.Equal(t, false, res["ok"])
	assert.Contains(t, res.str("error", "message"), "unauthorized: gateway token mismatch")
	c2 := dial(t, s, nil)
	c2.challenge()
	res = c2.call("connect", probeConnect(map[string]any{"token": "tok-new"}))
	assert.Equal(t, true, res["ok"], res)
}

func TestRestartWithNeedsCredential(t *testing.T) {
	s, _ := start(t, Options{})
	require.Error(t, s.RestartWith(Credentials{}))
	assert.Equal(t, 0, s.Stats().Restarts)
}
