package smoke_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/clock"
	"github.com/agentme/release-action/internal/gatewayemu"
	"github.com/agentme/release-action/internal/outcome"
	vocab "github.com/agentme/release-action/internal/outcome"
	"github.com/agentme/release-action/internal/smoke"
)

const (
	testToken    = "tok-7f3a9c1e5b2d4e6f8a0b1c2d3e4f5a6b"
	testPassword = "pw-correct-horse-battery-staple-42"
)

var epoch = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

// recorder collects progress lines; safe for the concurrent use some tests make of it.
type recorder struct {
	mu    sync.Mutex
	lines []string
	hook  func(string)
}

func (r *recorder) progress(line string) {
	r.mu.Lock()
	r.lines = append(r.lines, line)
	hook := r.hook
	r.mu.Unlock()
	if hook != nil {
		hook(line)
	}
}

func (r *recorder) text() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.lines, "\n")
}

// emuCase is one gateway state and what the probes must say about it.
type emuCase struct {
	name     string
	emu      gatewayemu.Options       // Token/Password default to testToken
	setup    func(*gatewayemu.Server) // switches flipped after Start
	opts     func(*smoke.Options)     // option changes
	verdict  vocab.Verdict
	ready    bool
	failing  map[string]string // probe -> substring of its Detail; every other probe must pass
	check    func(t *testing.T, rep *smoke.Report, emu *gatewayemu.Server, rec *recorder)
	realTime bool
}

func emuCases() []emuCase {
	all := smoke.AllProbes()
	failAll := func(detail string) map[string]string {
		m := map[string]string{}
		for _, p := range all {
			m[p] = detail
		}
		return m
	}
	return []emuCase{
		{name: "healthy token gateway", verdict: vocab.Pass, ready: true,
			check: func(t *testing.T, rep *smoke.Report, emu *gatewayemu.Server, _ *recorder) {
				assert.Equal(t, gatewayemu.DefaultVersion, rep.Server.Version)
				assert.NotEmpty(t, rep.Server.ConnID)
				assert.Equal(t, time.Hour.Milliseconds(), rep.Server.UptimeMs)
				assert.False(t, rep.Server.Restarted)
				assert.Zero(t, rep.ReadyAfter)
				for _, p := range rep.Probes {
					assert.Equal(t, 1, p.Attempts, p.Name)
				}
				st := emu.Stats()
				assert.Equal(t, 1, st.ChatSends)
				assert.Equal(t, 1, st.ChatFinals)
				assert.Equal(t, 1, st.BootstrapExchanges, "exactly one successful exchange")
				assert.Equal(t, 2, st.BootstrapExchangeFailures, "tampered and reused code")
				assert.Equal(t, 1, st.ToolCalls)
				assert.Eventually(t, func() bool { return emu.Stats().OpenConnections == 0 }, 2*time.Second, time.Millisecond,
					"every probe connection is closed")
				assert.True(t, strings.HasPrefix(rep.SessionKey, smoke.DefaultSessionPrefix), rep.SessionKey)
			}},
		{name: "healthy password gateway", emu: gatewayemu.Options{Password: testPassword},
			opts:    func(o *smoke.Options) { o.Token, o.Password = "", testPassword },
			verdict: vocab.Pass, ready: true},
		{name: "channel target delivery", opts: func(o *smoke.Options) {
			o.ChannelTarget = &smoke.ChannelTarget{Channel: "telegram", To: "@release-smoke"}
		}, verdict: vocab.Pass, ready: true,
			check: func(t *testing.T, rep *smoke.Report, emu *gatewayemu.Server, _ *recorder) {
				assert.Equal(t, 1, emu.Stats().Sends)
				assert.Contains(t, probe(t, rep, smoke.ProbeChannel).Detail, "send to telegram")
			}},
		{name: "channel target on an unknown channel", opts: func(o *smoke.Options) {
			o.ChannelTarget = &smoke.ChannelTarget{Channel: "pigeon", To: "@release-smoke"}
		}, verdict: vocab.Fail, ready: true,
			failing: map[string]string{smoke.ProbeChannel: "unsupported channel: pigeon"}},
		{name: "auth not enforced", setup: func(e *gatewayemu.Server) { e.SetAuthNotEnforced(true) },
			verdict: vocab.Fail, ready: true,
			failing: map[string]string{
				smoke.ProbeConnectAuth: "auth is not enforced: a random wrong token was accepted",
				smoke.ProbeToolCall:    "tool invocation does not require auth",
			}},
		{name: "UI assets missing", setup: func(e *gatewayemu.Server) { e.SetUIAssetsMissing(true) },
			verdict: vocab.Fail, ready: true,
			failing: map[string]string{smoke.ProbeControlUI: "the image was built without the control UI assets"}},
		{name: "control UI refused (secure context)", setup: func(e *gatewayemu.Server) { e.SetControlUIRefused(true) },
			verdict: vocab.Fail, ready: true,
			failing: map[string]string{smoke.ProbeControlUI: "without a valid signed device identity"}},
		{name: "control UI from an origin the gateway does not allow", opts: func(o *smoke.Options) { o.Origin = "http://gateway.example" },
			verdict: vocab.Fail, ready: true,
			failing: map[string]string{smoke.ProbeControlUI: "add it to gateway.controlUi.allowedOrigins"}},
		{name: "origin not in allowedOrigins", emu: gatewayemu.Options{AllowedOrigins: []string{"https://ops.example"}},
			verdict: vocab.Fail, ready: true,
			// gateway.auth.allowedOrigins guards the HTTP APIs; the control UI at the
			// gateway's own origin is still allowed.
			failing: map[string]string{
				smoke.ProbeBootstrap: "gateway.auth.allowedOrigins",
			},
			check: func(t *testing.T, rep *smoke.Report, _ *gatewayemu.Server, _ *recorder) {
				assert.Contains(t, probe(t, rep, smoke.ProbeBootstrap).Detail, "refused for Origin http://127.0.0.1:")
			}},
		{name: "bootstrap codes reusable", setup: func(e *gatewayemu.Server) { e.SetBootstrapReuse(true) },
			verdict: vocab.Fail, ready: true,
			failing: map[string]string{smoke.ProbeBootstrap: "bootstrap codes are reusable"}},
		{name: "exchange returns another credential", setup: func(e *gatewayemu.Server) { e.SetExchangeWrongCredential(true) },
			verdict: vocab.Fail, ready: true,
			failing: map[string]string{smoke.ProbeBootstrap: "exchange returned a credential that differs from the configured one"}},
		{name: "no model provider", setup: func(e *gatewayemu.Server) { e.SetNoModel(true) },
			opts:    func(o *smoke.Options) { o.ChannelTimeout = 150 * time.Millisecond },
			verdict: vocab.Fail, ready: true,
			failing: map[string]string{smoke.ProbeChannel: "no reply within 150ms: the gateway accepted chat.send but sent no final event; the likely cause is no model provider configured"},
			check: func(t *testing.T, rep *smoke.Report, _ *gatewayemu.Server, _ *recorder) {
				assert.Equal(t, 1, probe(t, rep, smoke.ProbeChannel).Attempts, "a missing reply is not retried")
			}},
		{name: "tools broken", setup: func(e *gatewayemu.Server) { e.SetToolsBroken(true) },
			verdict: vocab.Fail, ready: true,
			failing: map[string]string{smoke.ProbeToolCall: `answered 400 tool_error ("sessions_list failed: tool runtime unavailable"): the tool itself failed`}},
		{name: "tool not allowed", opts: func(o *smoke.Options) { o.Tool = "exec" },
			verdict: vocab.Fail, ready: true,
			failing: map[string]string{smoke.ProbeToolCall: "the tool is not allowed on this gateway"}},
		{name: "wrong configured token", opts: func(o *smoke.Options) { o.Token = "tok-not-the-deployed-one" },
			verdict: vocab.Fail, ready: true,
			failing: map[string]string{
				smoke.ProbeConnectAuth: "does not match gateway.auth.token",
				smoke.ProbeControlUI:   "does not match gateway.auth.token",
				smoke.ProbeChannel:     "does not match gateway.auth.token",
				smoke.ProbeBootstrap:   "answered 401",
				smoke.ProbeToolCall:    "answered 401",
			}},
		{name: "password configured for a token gateway", opts: func(o *smoke.Options) { o.Token, o.Password = "", testPassword },
			verdict: vocab.Fail, ready: true,
			failing: map[string]string{
				smoke.ProbeConnectAuth: "gateway token missing",
				smoke.ProbeControlUI:   "gateway token missing",
				smoke.ProbeChannel:     "gateway token missing",
				smoke.ProbeBootstrap:   "answered 401",
				smoke.ProbeToolCall:    "answered 401",
			}},
		{name: "proxy answers 503 for the whole budget", setup: func(e *gatewayemu.Server) { e.SetHTTP5xx(503) },
			verdict: vocab.Fail, ready: false,
			failing: failAll("the gateway did not come up within the readiness budget of 2m0s (last: the WebSocket upgrade"),
			check: func(t *testing.T, rep *smoke.Report, _ *gatewayemu.Server, rec *recorder) {
				assert.Equal(t, 2*time.Minute, rep.ReadyAfter, "the whole budget was spent, on the virtual clock")
				for _, p := range rep.Probes {
					assert.Zero(t, p.Attempts, "probes do not run against a gateway that never came up")
				}
				assert.Contains(t, rec.text(), "waiting for the gateway")
			}},
		{name: "gateway answers 500", setup: func(e *gatewayemu.Server) { e.SetHTTP5xx(500) },
			verdict: vocab.Fail, ready: true,
			failing: failAll("answered HTTP 500"),
			check: func(t *testing.T, rep *smoke.Report, _ *gatewayemu.Server, _ *recorder) {
				assert.Zero(t, rep.ReadyAfter, "a 500 is an answer, not a gateway coming up")
				for _, p := range rep.Probes {
					assert.Equal(t, 1, p.Attempts, "a 500 is not retried: %s", p.Name)
				}
			}},
		{name: "slow start within the budget", setup: func(e *gatewayemu.Server) { e.SetSlowStart(20 * time.Second); e.Restart() },
			verdict: vocab.Pass, ready: true,
			check: func(t *testing.T, rep *smoke.Report, _ *gatewayemu.Server, rec *recorder) {
				assert.GreaterOrEqual(t, rep.ReadyAfter, 20*time.Second)
				assert.Less(t, rep.ReadyAfter, 40*time.Second, "backoff is capped")
				assert.Contains(t, rec.text(), "HTTP 502")
				assert.Contains(t, rec.text(), "is up after")
			}},
		{name: "slow start over the budget", setup: func(e *gatewayemu.Server) { e.SetSlowStart(5 * time.Minute); e.Restart() },
			opts:    func(o *smoke.Options) { o.Ready = time.Minute },
			verdict: vocab.Fail, ready: false,
			failing: failAll("did not come up within the readiness budget of 1m0s (last: the WebSocket upgrade at ws://127.0.0.1"),
		},
		{name: "slow start on the wall clock", realTime: true, setup: func(e *gatewayemu.Server) { e.SetSlowStart(100 * time.Millisecond) },
			opts:    func(o *smoke.Options) { o.Ready = 5 * time.Second },
			verdict: vocab.Pass, ready: true,
			check: func(t *testing.T, rep *smoke.Report, _ *gatewayemu.Server, _ *recorder) {
				assert.GreaterOrEqual(t, rep.ReadyAfter, 100*time.Millisecond)
			}},
		{name: "restart between probes", verdict: vocab.Pass, ready: true,
			check: func(t *testing.T, rep *smoke.Report, emu *gatewayemu.Server, rec *recorder) {
				assert.Equal(t, 1, emu.Stats().Restarts)
				assert.True(t, rep.Server.Restarted, "uptime went down between connections")
				assert.Equal(t, time.Hour.Milliseconds(), rep.Server.UptimeMs, "server info is the first hello's")
				assert.Contains(t, rec.text(), "the gateway restarted during the smoke run")
			}},
	}
}

func probe(t *testing.T, rep *smoke.Report, name string) smoke.ProbeResult {
	t.Helper()
	for _, p := range rep.Probes {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("no %s probe in the report", name)
	return smoke.ProbeResult{}
}

// startEmu starts an emulator on loopback with the given options (token mode unless a
// password is set) and returns it with smoke options aimed at it.
func startEmu(t testing.TB, eo gatewayemu.Options, realTime bool) (*gatewayemu.Server, smoke.Options, *clock.Virtual) {
	t.Helper()
	if eo.Token == "" && eo.Password == "" {
		eo.Token = testToken
	}
	var clk clock.Clock = clock.Real{}
	var v *clock.Virtual
	if !realTime {
		v = clock.NewVirtual(epoch)
		clk = v
	}
	eo.Clock = clk
	eo.TickInterval = -1
	emu := gatewayemu.New(eo)
	base := emu.Start()
	t.Cleanup(emu.Close)
	if v != nil {
		v.Advance(time.Hour) // a gateway that has been up for an hour
	}
	u, err := url.Parse(base)
	require.NoError(t, err)
	return emu, smoke.Options{
		URL: u, Token: testToken, Clock: clk,
		ProbeTimeout: 2 * time.Second, ChannelTimeout: 2 * time.Second,
	}, v
}

func TestRunAgainstEmulator(t *testing.T) {
	for _, tc := range emuCases() {
		t.Run(tc.name, func(t *testing.T) {
			rep, emu, rec := runEmuCase(t, tc)
			assert.Equal(t, tc.verdict, rep.Verdict)
			assert.Equal(t, tc.ready, rep.Ready)
			require.Len(t, rep.Probes, len(smoke.AllProbes()))
			for i, p := range rep.Probes {
				assert.Equal(t, smoke.AllProbes()[i], p.Name, "probes run in canonical order")
				want, mustFail := tc.failing[p.Name]
				if mustFail {
					assert.False(t, p.OK, "%s should fail", p.Name)
					assert.Contains(t, p.Detail, want, p.Name)
				} else {
					assert.True(t, p.OK, "%s should pass: %s", p.Name, p.Detail)
					assert.NotEmpty(t, p.Detail, "a passing probe says what it verified")
				}
			}
			if tc.check != nil {
				tc.check(t, rep, emu, rec)
			}
		})
	}
}

func runEmuCase(t *testing.T, tc emuCase) (*smoke.Report, *gatewayemu.Server, *recorder) {
	t.Helper()
	emu, o, _ := startEmu(t, tc.emu, tc.realTime)
	if tc.emu.Password != "" {
		o.Token, o.Password = "", tc.emu.Password
	}
	if tc.setup != nil {
		tc.setup(emu)
	}
	rec := &recorder{}
	if tc.name == "restart between probes" {
		var once sync.Once
		rec.hook = func(line string) {
			if strings.HasPrefix(line, smoke.ProbeConnectAuth+": ok") {
				once.Do(emu.Restart)
			}
		}
	}
	o.Progress = rec.progress
	if tc.opts != nil {
		tc.opts(&o)
	}
	rep, err := smoke.Run(context.Background(), o)
	require.NoError(t, err)
	return rep, emu, rec
}

// A restart while the channel probe waits for its reply closes the socket with 1012;
// the probe retries and passes on the restarted gateway.
func TestChannelSurvivesRestartMidProbe(t *testing.T) {
	emu, o, _ := startEmu(t, gatewayemu.Options{}, false)
	emu.SetNoModel(true) // the first run hangs until the restart kills it
	done := make(chan struct{})
	go func() {
		defer close(done)
		for emu.Stats().ChatSends == 0 {
			runtime.Gosched()
		}
		emu.SetNoModel(false)
		emu.Restart()
	}()
	o.Probes = []string{smoke.ProbeConnectAuth, smoke.ProbeChannel}
	rec := &recorder{}
	o.Progress = rec.progress
	rep, err := smoke.Run(context.Background(), o)
	<-done
	require.NoError(t, err)
	ch := probe(t, rep, smoke.ProbeChannel)
	assert.True(t, ch.OK, ch.Detail)
	assert.Equal(t, 2, ch.Attempts)
	assert.Contains(t, rec.text(), "channel: attempt 1 failed")
	assert.Contains(t, rec.text(), "1012")
	assert.True(t, rep.Server.Restarted)
	assert.Equal(t, vocab.Pass, rep.Verdict)
}

func TestNothingListening(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())

	v := clock.NewVirtual(epoch)
	rep, err := smoke.Run(context.Background(), smoke.Options{
		URL: &url.URL{Scheme: "http", Host: addr}, Token: testToken, Clock: v, Ready: 30 * time.Second,
	})
	require.NoError(t, err)
	assert.Equal(t, vocab.Fail, rep.Verdict)
	assert.False(t, rep.Ready)
	assert.Equal(t, 30*time.Second, rep.ReadyAfter)
	for _, p := range rep.Probes {
		assert.Contains(t, p.Detail, "connection refused at "+addr)
	}
}

func TestTLSGateway(t *testing.T) {
	emu := gatewayemu.New(gatewayemu.Options{Token: testToken, TickInterval: -1})
	base := emu.StartTLS()
	t.Cleanup(emu.Close)
	u, err := url.Parse(base)
	require.NoError(t, err)

	t.Run("trusted certificate", func(t *testing.T) {
		rep, err := smoke.Run(context.Background(), smoke.Options{URL: u, Token: testToken, HTTPClient: emu.HTTPClient()})
		require.NoError(t, err)
		assert.Equal(t, vocab.Pass, rep.Verdict, "%+v", rep.Probes)
	})
	t.Run("wss scheme", func(t *testing.T) {
		wss := *u
		wss.Scheme = "wss"
		rep, err := smoke.Run(context.Background(), smoke.Options{URL: &wss, Token: testToken, HTTPClient: emu.HTTPClient()})
		require.NoError(t, err)
		assert.Equal(t, vocab.Pass, rep.Verdict, "%+v", rep.Probes)
	})
	t.Run("untrusted certificate fails at once", func(t *testing.T) {
		v := clock.NewVirtual(epoch)
		rep, err := smoke.Run(context.Background(), smoke.Options{URL: u, Token: testToken, Clock: v})
		require.NoError(t, err)
		assert.Equal(t, vocab.Fail, rep.Verdict)
		assert.Zero(t, rep.ReadyAfter, "a certificate problem is not waited out")
		for _, p := range rep.Probes {
			assert.Contains(t, p.Detail, "TLS certificate of "+u.Host+" is not valid")
			assert.Equal(t, 1, p.Attempts)
		}
	})
}

func TestRunCancelled(t *testing.T) {
	emu, o, _ := startEmu(t, gatewayemu.Options{}, false)
	emu.SetHTTP5xx(503)
	ctx, cancel := context.WithCancel(context.Background())
	o.Progress = func(string) { cancel() }
	rep, err := smoke.Run(ctx, o)
	require.ErrorIs(t, err, context.Canceled)
	assert.Nil(t, rep)
	assert.NotContains(t, err.Error(), testToken)
}

func TestRollbackSubset(t *testing.T) {
	emu, o, _ := startEmu(t, gatewayemu.Options{}, false)
	emu.SetUIAssetsMissing(true) // not part of the rollback subset
	o.Probes = smoke.RollbackProbes()
	rep, err := smoke.Run(context.Background(), o)
	require.NoError(t, err)
	assert.Equal(t, vocab.Pass, rep.Verdict)
	var names []string
	for _, p := range rep.Probes {
		names = append(names, p.Name)
	}
	assert.Equal(t, []string{smoke.ProbeConnectAuth, smoke.ProbeChannel, smoke.ProbeToolCall}, names)
	assert.Equal(t, 0, emu.Stats().BootstrapCreates)
}

// The credential, the password, and whatever an exchange returned must not appear in
// the report, the progress lines or an error, whatever state the gateway is in.
func TestSecretsNeverLeak(t *testing.T) {
	staleToken := staleCredential(testToken)
	stalePassword := staleCredential(testPassword)
	for _, tc := range emuCases() {
		t.Run(tc.name, func(t *testing.T) {
			rep, _, rec := runEmuCase(t, tc)
			b, err := json.Marshal(rep)
			require.NoError(t, err)
			for _, out := range []string{string(b), rec.text(), strings.Join(detailsOf(rep), "\n")} {
				for _, secret := range []string{testToken, testPassword, staleToken, stalePassword, "tok-not-the-deployed-one"} {
					assert.NotContains(t, out, secret)
				}
				assert.NotContains(t, out, "Bearer")
				assert.NotContains(t, out, "code=")
			}
		})
	}
	t.Run("validation errors", func(t *testing.T) {
		_, err := smoke.Run(context.Background(), smoke.Options{
			URL:   &url.URL{Scheme: "ftp", Host: "gw.example", User: url.UserPassword("u", testPassword)},
			Token: testToken, Password: testPassword + "\n",
		})
		require.ErrorIs(t, err, outcome.ErrBadInput)
		assert.Contains(t, err.Error(), "invalid smoke options: ")
		assert.NotContains(t, err.Error(), testToken)
		assert.NotContains(t, err.Error(), testPassword)
	})
}

// staleCredential is what gatewayemu's SetExchangeWrongCredential hands out.
func staleCredential(cred string) string {
	sum := sha256.Sum256([]byte("stale:" + cred))
	return hex.EncodeToString(sum[:16])
}

func detailsOf(rep *smoke.Report) []string {
	var out []string
	for _, p := range rep.Probes {
		out = append(out, p.Detail)
	}
	return out
}
