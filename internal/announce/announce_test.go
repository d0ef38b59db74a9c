package announce_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/announce"
)

// receiver is a real HTTP webhook receiver on loopback that keeps what it got.
type receiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	bodies map[string][]byte // path -> body
	types  map[string]string
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{bodies: map[string][]byte{}, types: map[string]string{}}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.bodies[req.URL.Path] = b
		r.types[req.URL.Path] = req.Header.Get("Content-Type")
		r.mu.Unlock()
		switch {
		case req.Method != http.MethodPost:
			http.Error(w, "want POST", http.StatusMethodNotAllowed)
		case strings.Contains(req.URL.Path, "broken"):
			// A receiver that echoes its own address, as some do.
			http.Error(w, "no such hook "+req.URL.Path, http.StatusNotFound)
		case strings.Contains(req.URL.Path, "moved"):
			http.Redirect(w, req, "/elsewhere", http.StatusFound)
		default:
			w.Write([]byte("ok"))
		}
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func TestSend(t *testing.T) {
	rcv := newReceiver(t)
	slackURL := rcv.srv.URL + "/services/T000/B000/SECRETslackPATH"
	jsonURL := rcv.srv.URL + "/hooks/json?token=SECRETquery"
	brokenURL := rcv.srv.URL + "/broken/SECRETbrokenPATH"
	movedURL := rcv.srv.URL + "/moved/SECRETmovedPATH"
	// A port nothing listens on: connection refused.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	deadURL := "http://" + l.Addr().String() + "/SECRETdeadPATH"
	l.Close()

	env := map[string]string{"SLACK_HOOK": slackURL, "JSON_HOOK": jsonURL, "BROKEN_HOOK": brokenURL, "MOVED_HOOK": movedURL,
		"DEAD_HOOK": deadURL, "NOT_A_URL": "SECRETnotaurl"}
	hooks, secrets, warnings := announce.Resolve([]announce.Config{
		{Env: "SLACK_HOOK", Format: "slack"}, {Env: "JSON_HOOK", Format: "json"}, {Env: "BROKEN_HOOK"},
		{Env: "MOVED_HOOK", Format: "slack"}, {Env: "DEAD_HOOK", Format: "slack"}, {Env: "UNSET_HOOK"}, {Env: "NOT_A_URL"},
	}, func(k string) string { return env[k] })
	require.Len(t, hooks, 5)
	assert.ElementsMatch(t, []string{slackURL, jsonURL, brokenURL, movedURL, deadURL, "SECRETnotaurl"}, secrets)
	require.Len(t, warnings, 2)
	assert.Contains(t, warnings[0], "UNSET_HOOK")
	assert.Contains(t, warnings[1], "NOT_A_URL")

	report := map[string]any{"command": "rollback", "result": "pass"}
	ds := announce.Send(context.Background(), nil, hooks, announce.Message{Text: "production rolled back to v1.0.0", Report: report})
	require.Len(t, ds, 5)
	assert.True(t, ds[0].OK, "%+v", ds[0])
	assert.True(t, ds[1].OK, "%+v", ds[1])
	assert.False(t, ds[2].OK)
	assert.Equal(t, http.StatusNotFound, ds[2].Status)
	assert.False(t, ds[3].OK, "a redirect is not a delivery")
	assert.False(t, ds[4].OK)
	assert.NotEmpty(t, ds[4].Error)

	rcv.mu.Lock()
	assert.JSONEq(t, `{"text":"production rolled back to v1.0.0"}`, string(rcv.bodies["/services/T000/B000/SECRETslackPATH"]))
	assert.JSONEq(t, `{"command":"rollback","result":"pass"}`, string(rcv.bodies["/hooks/json"]))
	assert.Equal(t, "application/json", rcv.types["/hooks/json"])
	_, followed := rcv.bodies["/elsewhere"]
	rcv.mu.Unlock()
	assert.False(t, followed)

	all, _ := json.Marshal(ds)
	all = append(all, strings.Join(warnings, "\n")...)
	for _, secret := range []string{"SECRET", rcv.srv.URL + "/"} {
		assert.NotContains(t, string(all), secret, "a webhook URL leaked into deliveries or warnings")
	}
	assert.Equal(t, "SLACK_HOOK", ds[0].Webhook)
}

func TestUnknownFormat(t *testing.T) {
	rcv := newReceiver(t)
	ds := announce.Send(context.Background(), nil, []announce.Webhook{{Name: "X", URL: rcv.srv.URL + "/x", Format: "teams"}}, announce.Message{Text: "t"})
	require.Len(t, ds, 1)
	assert.False(t, ds[0].OK)
	assert.Contains(t, ds[0].Error, `unknown format "teams"`)
}
