package smoke_test

import (
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	vocab "github.com/agentme/release-action/internal/outcome"
	"github.com/agentme/release-action/internal/smoke"
)

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	require.NoError(t, err)
	return u
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name    string
		url     string
		mod     func(*smoke.Options)
		errs    []string // substrings of the error; none means valid
		warning string   // substring of a warning
	}{
		{name: "https", url: "https://gateway.agentme.example"},
		{name: "wss with port and path", url: "wss://gateway.agentme.example:8443/gw"},
		{name: "http on 127.0.0.1", url: "http://127.0.0.1:18789"},
		{name: "http anywhere in 127/8", url: "http://127.5.6.7:18789"},
		{name: "ws on localhost", url: "ws://localhost:18789"},
		{name: "http on ::1", url: "http://[::1]:18789"},
		{name: "http to a remote host is refused", url: "http://gateway.agentme.example",
			errs: []string{"http://gateway.agentme.example is plain http to a non-loopback host", "use https:// or wss://"}},
		{name: "ws to a private address is refused", url: "ws://10.0.0.5:18789",
			errs: []string{"plain ws to a non-loopback host"}},
		{name: "localhost lookalike is not loopback", url: "http://localhost.evil.example",
			errs: []string{"non-loopback host"}},
		{name: "http to a remote host with AllowInsecure warns", url: "http://gateway.agentme.example",
			mod: func(o *smoke.Options) { o.AllowInsecure = true }, warning: "INSECURE: http://gateway.agentme.example is plain http"},
		{name: "unsupported scheme", url: "ftp://gateway.agentme.example", errs: []string{`scheme "ftp" is not supported`}},
		{name: "no host", url: "https:///path", errs: []string{"has no host"}},
		{name: "user info refused", url: "https://admin:hunter2@gateway.agentme.example",
			errs: []string{"must not carry user info"}},
		{name: "query ignored with a warning", url: "https://gateway.agentme.example/?x=1", warning: "query and fragment"},
		{name: "missing URL", mod: func(o *smoke.Options) { o.URL = nil }, errs: []string{"gateway URL is missing"}},
		{name: "token and password", url: "https://gw.example",
			mod: func(o *smoke.Options) { o.Password = testPassword }, errs: []string{"both a gateway token and a password are set"}},
		{name: "no credential", url: "https://gw.example",
			mod: func(o *smoke.Options) { o.Token = "" }, errs: []string{"no gateway credential"}},
		{name: "password alone", url: "https://gw.example",
			mod: func(o *smoke.Options) { o.Token, o.Password = "", testPassword }},
		{name: "token with a trailing newline", url: "https://gw.example",
			mod: func(o *smoke.Options) { o.Token = testToken + "\n" }, errs: []string{"gateway token contains whitespace or control characters"}},
		{name: "unknown probe", url: "https://gw.example",
			mod:  func(o *smoke.Options) { o.Probes = []string{"connect-auth", "health"} },
			errs: []string{`unknown smoke probe "health": known probes are connect-auth, control-ui, channel, bootstrap, tool-call`}},
		{name: "negative durations", url: "https://gw.example",
			mod:  func(o *smoke.Options) { o.ProbeTimeout, o.Ready = -time.Second, -time.Minute },
			errs: []string{"probe timeout -1s is negative", "readiness budget -1m0s is negative"}},
		{name: "main session refused", url: "https://gw.example",
			mod: func(o *smoke.Options) { o.SessionKey = "main" }, errs: []string{"operator's main chat session"}},
		{name: "canonical main session refused", url: "https://gw.example",
			mod: func(o *smoke.Options) { o.SessionKey = "agent:main:main" }, errs: []string{"operator's main chat session"}},
		{name: "origin with a path", url: "https://gw.example",
			mod: func(o *smoke.Options) { o.Origin = "https://gw.example/app" }, errs: []string{"is not an origin"}},
		{name: "origin with a trailing slash", url: "https://gw.example",
			mod: func(o *smoke.Options) { o.Origin = "https://ops.example/" }},
		{name: "relative base path", url: "https://gw.example",
			mod: func(o *smoke.Options) { o.BasePath = "ui" }, errs: []string{"must be a path starting with /"}},
		{name: "channel target without recipient", url: "https://gw.example",
			mod: func(o *smoke.Options) { o.ChannelTarget = &smoke.ChannelTarget{Channel: "slack"} }, errs: []string{"channel target has no recipient"}},
		{name: "client that skips TLS verification", url: "https://gw.example",
			mod: func(o *smoke.Options) {
				// Only to prove Validate refuses it.
				o.HTTPClient = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec
			}, errs: []string{"skips TLS verification"}},
		{name: "every problem is reported", url: "ftp://gw.example",
			mod:  func(o *smoke.Options) { o.Password = testPassword; o.Probes = []string{"x"} },
			errs: []string{"scheme", "both a gateway token", `unknown smoke probe "x"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := smoke.Options{Token: testToken}
			if tc.url != "" {
				o.URL = mustURL(t, tc.url)
			}
			if tc.mod != nil {
				tc.mod(&o)
			}
			warnings, err := o.Validate()
			if len(tc.errs) == 0 {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
				for _, e := range tc.errs {
					assert.Contains(t, err.Error(), e)
				}
				assert.NotContains(t, err.Error(), testToken)
				assert.NotContains(t, err.Error(), testPassword)
				assert.NotContains(t, err.Error(), "hunter2")
			}
			if tc.warning == "" {
				assert.Empty(t, warnings)
			} else {
				assert.Contains(t, strings.Join(warnings, "\n"), tc.warning)
			}
		})
	}
}

func TestReportJSON(t *testing.T) {
	rep := smoke.Report{
		Verdict: vocab.Fail, Gateway: "https://gw.example", Ready: true,
		ReadyAfter: 1500 * time.Millisecond, Duration: 3 * time.Second, SessionKey: "release-action-smoke-x",
		Probes: []smoke.ProbeResult{{Name: smoke.ProbeChannel, OK: false, Latency: 250 * time.Millisecond, Attempts: 2, Detail: "no reply"}},
		Server: smoke.ServerInfo{Version: "2026.2.9", ConnID: "c1", UptimeMs: 42, Restarted: true},
	}
	b, err := json.Marshal(rep)
	require.NoError(t, err)
	assert.JSONEq(t, `{
		"verdict": "fail", "gateway": "https://gw.example", "ready": true,
		"ready_after": "1.5s", "duration": "3s", "session_key": "release-action-smoke-x",
		"probes": [{"name": "channel", "ok": false, "latency": "250ms", "attempts": 2, "detail": "no reply"}],
		"server": {"version": "2026.2.9", "conn_id": "c1", "uptime": "42ms", "restarted": true}
	}`, string(b))

	var back smoke.Report
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, rep, back)

	empty, err := json.Marshal(smoke.Report{Verdict: vocab.Fail})
	require.NoError(t, err)
	assert.Contains(t, string(empty), `"probes":[]`, "an empty probe list is a list, not null")
}

func TestProbeSets(t *testing.T) {
	assert.Equal(t, []string{"connect-auth", "control-ui", "channel", "bootstrap", "tool-call"}, smoke.AllProbes())
	assert.Equal(t, []string{"connect-auth", "channel", "tool-call"}, smoke.RollbackProbes())
	smoke.AllProbes()[0] = "changed"
	assert.Equal(t, "connect-auth", smoke.AllProbes()[0], "callers get a copy")
}
