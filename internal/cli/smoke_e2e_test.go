package cli_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/cli"
	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/gatewayemu"
	"github.com/agentme/release-action/internal/markdown"
	"github.com/agentme/release-action/internal/outcome"
	"github.com/agentme/release-action/internal/smoke"
)

// The gateway credentials the smoke tests hand the action. Like knownToken they must
// never show up in anything the action writes. They are letters and digits only, so
// neither Markdown nor JSON escaping can disguise a leak from the checks.
const (
	gatewayToken    = "gwtE2EgatewaySECRETtoken0123456789abcdef"
	gatewayPassword = "E2EgatewayPASSWORDs3cret7d41c9"
	// urlQuerySecret is pasted into a gateway URL's query: the action ignores the query
	// and must not repeat it.
	urlQuerySecret = "qE2EsecretInTheURLquery42"
)

// smokeHarness is the action-mode harness with INPUT_COMMAND=smoke pointed at a gateway
// emulator on loopback that shares the harness's virtual clock (slow starts and
// readiness backoff cost no wall time).
type smokeHarness struct {
	*harness
	gw       *gatewayemu.Server
	gwURL    string
	cred     string
	password bool
}

func newSmokeHarness(t *testing.T, password bool) *smokeHarness {
	t.Helper()
	h := newHarness(t, nil)
	o := gatewayemu.Options{Clock: h.clk, TickInterval: -1}
	cred := gatewayToken
	if password {
		cred = gatewayPassword
		o.Password = cred
	} else {
		o.Token = cred
	}
	gw := gatewayemu.New(o)
	base := gw.Start()
	t.Cleanup(gw.Close)

	h.env["INPUT_COMMAND"] = "smoke"
	h.env["INPUT_GATEWAY-URL"] = base
	if password {
		h.env["INPUT_GATEWAY-PASSWORD"] = cred
	} else {
		h.env["INPUT_GATEWAY-TOKEN"] = cred
	}
	// A missing chat reply shows after 1s of wall time; readiness waits are virtual.
	h.env["INPUT_CHANNEL-TIMEOUT"] = "1s"
	h.env["INPUT_PROBE-TIMEOUT"] = "5s"
	h.env["INPUT_READY-TIMEOUT"] = "30s"
	return &smokeHarness{harness: h, gw: gw, gwURL: base, cred: cred, password: password}
}

// exchangedCredential asks the emulator itself, over HTTP, what a bootstrap exchange
// hands out right now, so the leak checks look for the value the action really saw
// rather than a copy of the emulator's formula.
func (h *smokeHarness) exchangedCredential(t *testing.T) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.gwURL+"/api/bootstrap/create", strings.NewReader(`{"ttlSec":60}`))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+h.cred)
	req.Header.Set("Content-Type", "application/json")
	var created struct {
		Code string `json:"code"`
	}
	getJSON(t, req, &created)
	require.NotEmpty(t, created.Code)

	req, err = http.NewRequest(http.MethodGet, h.gwURL+"/api/bootstrap/exchange?code="+url.QueryEscape(created.Code), nil)
	require.NoError(t, err)
	var ans map[string]any
	getJSON(t, req, &ans)
	field := "token"
	if h.password {
		field = "password"
	}
	got, _ := ans[field].(string)
	require.NotEmpty(t, got, "the exchange answers with a %s", field)
	return got
}

func getJSON(t *testing.T, req *http.Request, v any) {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode, "%s %s", req.Method, req.URL.Path)
	require.NoError(t, json.Unmarshal(b, v))
}

// hygiene holds a run to the security rules: no gateway credential (nor any other
// secret given) in stdout, stderr, outputs or the summary, and no workflow command on
// stdout beyond the harmless ones.
func (r result) hygiene(t *testing.T, secrets ...string) {
	t.Helper()
	secrets = append([]string{gatewayToken, gatewayPassword}, secrets...)
	r.noSecret(t, secrets...)
	// The summary escapes Markdown ("_" becomes "\_"): a leak there would not contain the
	// raw value, and the runner's masker would not catch it either.
	for _, s := range append(secrets, knownToken) {
		require.NotContains(t, r.summary, markdown.Escape(s), "summary leaks a secret in Markdown-escaped form")
	}
	for _, c := range r.commands() {
		switch c.Name {
		case "group", "endgroup", "error", "warning", "notice", "debug":
		default:
			t.Errorf("stdout line %d issues workflow command %q", c.Line, c.Name)
		}
	}
}

// smokeRow returns the summary's table row of a probe, or "".
func smokeRow(summary, probe string) string {
	for _, l := range lines(summary) {
		if strings.HasPrefix(l, "| `"+probe+"` |") {
			return l
		}
	}
	return ""
}

// smokeRows counts the summary's probe rows.
func smokeRows(summary string) int {
	n := 0
	for _, l := range lines(summary) {
		if strings.HasPrefix(l, "| `") {
			n++
		}
	}
	return n
}

// probeErrors maps each "Smoke probe failed" annotation to the probe it names.
func probeErrors(r result) map[string]string {
	out := map[string]string{}
	for _, c := range r.commands() {
		if c.Name != "error" || c.Properties["title"] != "Smoke probe failed" {
			continue
		}
		name, detail, _ := strings.Cut(c.Data, ": ")
		out[name] = detail
	}
	return out
}

type smokeCase struct {
	name     string
	password bool
	env      map[string]string
	setup    func(*gatewayemu.Server)
	// probes the run reports, in order (default all five).
	probes []string
	// fail lists the probes that must fail; all others must pass.
	fail []string
	// detail: substring of each failing probe's detail.
	detail map[string]string
	// notReady: the gateway never came up, no probe ran.
	notReady bool
	// slow: the gateway took a while to come up, so ready_after > 0.
	slow bool
	// staleCredential: the exchange hands out another credential; it must not leak either.
	staleCredential bool
	// urlSuffix is appended to the gateway URL input.
	urlSuffix string
	// warning: substring of the one warning annotation expected (none when empty).
	warning string
	// down: nothing listens at the gateway URL, so the gateway never sees a request.
	down bool
}

func smokeCases() []smokeCase {
	all := smoke.AllProbes()
	every := func(s string) map[string]string {
		m := map[string]string{}
		for _, p := range all {
			m[p] = s
		}
		return m
	}
	return []smokeCase{
		{name: "healthy token"},
		{name: "healthy password", password: true},
		{name: "auth not enforced", setup: func(s *gatewayemu.Server) { s.SetAuthNotEnforced(true) },
			fail: []string{smoke.ProbeConnectAuth, smoke.ProbeToolCall},
			detail: map[string]string{
				smoke.ProbeConnectAuth: "auth is not enforced",
				smoke.ProbeToolCall:    "does not require auth",
			}},
		{name: "auth not enforced password", password: true, setup: func(s *gatewayemu.Server) { s.SetAuthNotEnforced(true) },
			fail: []string{smoke.ProbeConnectAuth, smoke.ProbeToolCall},
			detail: map[string]string{
				smoke.ProbeConnectAuth: "random wrong password was accepted",
				smoke.ProbeToolCall:    "does not require auth",
			}},
		{name: "ui assets missing", setup: func(s *gatewayemu.Server) { s.SetUIAssetsMissing(true) },
			fail: []string{smoke.ProbeControlUI}, detail: map[string]string{smoke.ProbeControlUI: "Control UI assets not found"}},
		{name: "control UI refused", setup: func(s *gatewayemu.Server) { s.SetControlUIRefused(true) },
			fail: []string{smoke.ProbeControlUI}, detail: map[string]string{smoke.ProbeControlUI: "secure context"}},
		{name: "no model", setup: func(s *gatewayemu.Server) { s.SetNoModel(true) },
			fail: []string{smoke.ProbeChannel}, detail: map[string]string{smoke.ProbeChannel: "model provider"}},
		{name: "bootstrap reuse", setup: func(s *gatewayemu.Server) { s.SetBootstrapReuse(true) },
			fail: []string{smoke.ProbeBootstrap}, detail: map[string]string{smoke.ProbeBootstrap: "second exchange of the same code was accepted"}},
		{name: "exchange wrong credential", setup: func(s *gatewayemu.Server) { s.SetExchangeWrongCredential(true) },
			fail: []string{smoke.ProbeBootstrap}, detail: map[string]string{smoke.ProbeBootstrap: "differs from the configured one"}, staleCredential: true},
		{name: "exchange wrong credential password", password: true, setup: func(s *gatewayemu.Server) { s.SetExchangeWrongCredential(true) },
			fail: []string{smoke.ProbeBootstrap}, detail: map[string]string{smoke.ProbeBootstrap: "differs from the configured one"}, staleCredential: true},
		{name: "tools broken", setup: func(s *gatewayemu.Server) { s.SetToolsBroken(true) },
			fail: []string{smoke.ProbeToolCall}, detail: map[string]string{smoke.ProbeToolCall: "400 tool_error"}},
		{name: "slow start within budget", setup: func(s *gatewayemu.Server) { s.SetSlowStart(20 * time.Second) },
			env: map[string]string{"INPUT_READY-TIMEOUT": "1m"}, slow: true},
		{name: "slow start beyond budget", setup: func(s *gatewayemu.Server) { s.SetSlowStart(10 * time.Minute) },
			env: map[string]string{"INPUT_READY-TIMEOUT": "20s"}, fail: all, notReady: true,
			detail: every("did not come up within the readiness budget of 20s")},
		{name: "http 500", setup: func(s *gatewayemu.Server) { s.SetHTTP5xx(http.StatusInternalServerError) },
			fail: all, detail: every("HTTP 500")},
		{name: "http 503 until the budget ends", setup: func(s *gatewayemu.Server) { s.SetHTTP5xx(http.StatusServiceUnavailable) },
			env: map[string]string{"INPUT_READY-TIMEOUT": "5s"}, fail: all, notReady: true, detail: every("HTTP 503")},
		{name: "gateway not running", setup: func(s *gatewayemu.Server) { s.Close() }, down: true,
			env: map[string]string{"INPUT_READY-TIMEOUT": "3s"}, fail: all, notReady: true, detail: every("connection refused")},
		{name: "query in the URL", urlSuffix: "/?token=" + urlQuerySecret + "#frag", warning: "query and fragment of the gateway URL are ignored"},
		{name: "subset", env: map[string]string{"INPUT_PROBES": "tool-call, connect-auth"},
			probes: []string{smoke.ProbeConnectAuth, smoke.ProbeToolCall}},
		{name: "subset skips the broken probe", setup: func(s *gatewayemu.Server) { s.SetNoModel(true) },
			env:    map[string]string{"INPUT_PROBES": "control-ui,bootstrap"},
			probes: []string{smoke.ProbeControlUI, smoke.ProbeBootstrap}},
		{name: "subset with a failing probe", setup: func(s *gatewayemu.Server) { s.SetUIAssetsMissing(true) },
			env:    map[string]string{"INPUT_PROBES": "control-ui\nchannel"},
			probes: []string{smoke.ProbeControlUI, smoke.ProbeChannel}, fail: []string{smoke.ProbeControlUI}},
	}
}

// runSmokeCase sets the case up and runs the action once; it also returns the
// credentials a leak check must look for.
func runSmokeCase(t *testing.T, tc smokeCase) (*smokeHarness, result, []string) {
	t.Helper()
	h := newSmokeHarness(t, tc.password)
	for k, v := range tc.env {
		h.env[k] = v
	}
	h.env["INPUT_GATEWAY-URL"] += tc.urlSuffix
	if tc.setup != nil {
		tc.setup(h.gw)
	}
	secrets := []string{h.cred, urlQuerySecret}
	if tc.staleCredential {
		stale := h.exchangedCredential(t)
		require.NotEqual(t, h.cred, stale, "the switch hands out another credential")
		secrets = append(secrets, stale)
	}
	return h, h.run(), secrets
}

// TestSmokeScenarios runs `release-action smoke` in action mode against a healthy
// gateway and against each broken behaviour: exactly the probe that checks the
// behaviour fails, with an annotation naming it and a failed summary row.
func TestSmokeScenarios(t *testing.T) {
	for _, tc := range smokeCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h, r, secrets := runSmokeCase(t, tc)
			wantProbes := tc.probes
			if wantProbes == nil {
				wantProbes = smoke.AllProbes()
			}
			wantCode, wantResult := cli.ExitOK, string(outcome.Pass)
			if len(tc.fail) > 0 {
				wantCode, wantResult = cli.ExitFailed, string(outcome.Fail)
			}
			require.Equal(t, wantCode, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
			assert.Equal(t, wantResult, r.outputs["result"])

			// The report's JSON field names are part of the output contract: read it raw.
			var raw struct {
				Command string `json:"command"`
				Result  string `json:"result"`
				Smoke   struct {
					Verdict    string           `json:"verdict"`
					Gateway    string           `json:"gateway"`
					Ready      bool             `json:"ready"`
					ReadyAfter config.Duration  `json:"ready_after"`
					SessionKey string           `json:"session_key"`
					Probes     []map[string]any `json:"probes"`
				} `json:"smoke"`
			}
			require.NoError(t, json.Unmarshal([]byte(r.outputs["report"]), &raw), "report output is JSON")
			assert.Equal(t, "smoke", raw.Command)
			assert.Equal(t, wantResult, raw.Result)
			assert.Equal(t, wantResult, raw.Smoke.Verdict)
			gwURL, err := url.Parse(h.env["INPUT_GATEWAY-URL"])
			require.NoError(t, err)
			gwURL.RawQuery, gwURL.Fragment = "", ""
			assert.Equal(t, gwURL.String(), raw.Smoke.Gateway, "the gateway URL without query and fragment")
			assert.Equal(t, !tc.notReady, raw.Smoke.Ready)
			if tc.slow {
				assert.Positive(t, raw.Smoke.ReadyAfter.D(), "the report says how long the gateway took to come up")
				assert.Contains(t, r.summary, "came up after")
			} else if !tc.notReady {
				assert.Zero(t, raw.Smoke.ReadyAfter.D(), "a gateway that is up at once has no readiness wait")
			}
			// The session key is reported only when the channel probe ran.
			switch {
			case tc.notReady:
				assert.Empty(t, raw.Smoke.SessionKey, "the channel probe never ran")
			case slices.Contains(wantProbes, smoke.ProbeChannel):
				assert.True(t, strings.HasPrefix(raw.Smoke.SessionKey, smoke.DefaultSessionPrefix), "session %q", raw.Smoke.SessionKey)
			default:
				assert.Empty(t, raw.Smoke.SessionKey, "no chat session is used without the channel probe")
			}

			var got []string
			for _, p := range raw.Smoke.Probes {
				for _, k := range []string{"name", "ok", "latency", "attempts", "detail"} {
					assert.Contains(t, p, k, "probe %v lacks %s", p["name"], k)
				}
				name, _ := p["name"].(string)
				ok, _ := p["ok"].(bool)
				attempts, _ := p["attempts"].(float64)
				detail, _ := p["detail"].(string)
				got = append(got, name)
				assert.Equal(t, !slices.Contains(tc.fail, name), ok, "probe %s: %s", name, detail)
				assert.NotEmpty(t, detail, "probe %s explains itself", name)
				if tc.notReady {
					assert.Zero(t, attempts, "probe %s cannot have run: the gateway never came up", name)
				} else {
					assert.GreaterOrEqual(t, attempts, 1.0, "probe %s ran", name)
				}
				if want := tc.detail[name]; want != "" {
					assert.Contains(t, detail, want, "probe %s", name)
				}
			}
			assert.Equal(t, wantProbes, got, "exactly the selected probes, in canonical order")

			// One annotation per failed probe, naming it; nothing else is an error.
			errs := probeErrors(r)
			var named []string
			for name := range errs {
				named = append(named, name)
			}
			assert.ElementsMatch(t, tc.fail, named, "error annotations name exactly the failed probes")
			for _, c := range r.commands() {
				if c.Name == "error" {
					assert.Equal(t, "Smoke probe failed", c.Properties["title"], "unexpected error: %s", c.Data)
				}
			}
			for name, want := range tc.detail {
				assert.Contains(t, errs[name], want, "annotation of %s", name)
			}
			var warnings []string
			for _, c := range r.commands() {
				if c.Name == "warning" {
					warnings = append(warnings, c.Data)
				}
			}
			if tc.warning == "" {
				assert.Empty(t, warnings)
			} else if assert.Len(t, warnings, 1) {
				assert.Contains(t, warnings[0], tc.warning)
			}

			// The summary has one row per selected probe, showing its result.
			assert.Equal(t, len(wantProbes), smokeRows(r.summary), "summary:\n%s", r.summary)
			for _, p := range wantProbes {
				row := smokeRow(r.summary, p)
				require.NotEmpty(t, row, "summary row of %s:\n%s", p, r.summary)
				if slices.Contains(tc.fail, p) {
					assert.Contains(t, row, "❌ fail")
				} else {
					assert.Contains(t, row, "✅ pass")
				}
			}
			if len(tc.fail) > 0 {
				assert.Contains(t, lines(r.summary)[0], "failed")
			} else {
				assert.Contains(t, lines(r.summary)[0], "passed")
			}
			r.hygiene(t, secrets...)
		})
	}
}

// TestSmokeNeverLeaksCredentials runs every scenario and every bad input and holds each
// run to the security rules alone, so the property survives edits to the behavioural
// assertions above. It also proves the check is not vacuous: the credential was in use
// (the gateway saw the action) and, with the stale-credential switch, the action really
// received the other credential from an exchange.
func TestSmokeNeverLeaksCredentials(t *testing.T) {
	for _, tc := range smokeCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h, r, secrets := runSmokeCase(t, tc)
			if !tc.down {
				require.Positive(t, h.gw.Stats().HTTPRequests, "the action talked to the gateway")
			}
			if tc.staleCredential {
				// Two exchanges: ours in runSmokeCase and the action's own.
				require.GreaterOrEqual(t, h.gw.Stats().BootstrapExchanges, 2, "the action received the stale credential")
			}
			r.hygiene(t, secrets...)
		})
	}
	for _, tc := range smokeBadInputs() {
		t.Run("bad input/"+tc.name, func(t *testing.T) {
			t.Parallel()
			_, r := runBadInput(t, tc)
			r.hygiene(t)
		})
	}
}

type badInputCase struct {
	name    string
	env     map[string]string
	wantErr string
}

func smokeBadInputs() []badInputCase {
	return []badInputCase{
		{name: "missing gateway-url", env: map[string]string{"INPUT_GATEWAY-URL": ""}, wantErr: "no gateway URL"},
		{name: "token and password", env: map[string]string{"INPUT_GATEWAY-PASSWORD": gatewayPassword}, wantErr: "both a gateway token and a password"},
		{name: "no credential", env: map[string]string{"INPUT_GATEWAY-TOKEN": ""}, wantErr: "no gateway credential"},
		{name: "http to a remote host", env: map[string]string{"INPUT_GATEWAY-URL": "http://gateway.agentme.example"}, wantErr: "plain http to a non-loopback host"},
		{name: "unknown probe", env: map[string]string{"INPUT_PROBES": "connect-auth,health"}, wantErr: `unknown smoke probe "health"`},
		{name: "bad channel timeout", env: map[string]string{"INPUT_CHANNEL-TIMEOUT": "soon"}, wantErr: "input channel-timeout"},
		{name: "bad ready timeout", env: map[string]string{"INPUT_READY-TIMEOUT": "-5s"}, wantErr: "input ready-timeout"},
		{name: "bad allow-insecure", env: map[string]string{"INPUT_ALLOW-INSECURE": "maybe"}, wantErr: "input allow-insecure"},
		{name: "session main", env: map[string]string{"INPUT_SESSION-KEY": "main"}, wantErr: "main chat session"},
		{name: "credential in the URL", env: map[string]string{"INPUT_GATEWAY-URL": "https://user:" + gatewayPassword + "@gateway.agentme.example"}, wantErr: "must not carry user info"},
	}
}

func runBadInput(t *testing.T, tc badInputCase) (*smokeHarness, result) {
	t.Helper()
	h := newSmokeHarness(t, false)
	for k, v := range tc.env {
		h.env[k] = v
	}
	return h, h.run()
}

// TestSmokeBadInput: input the user must fix is exit 2 with an error annotation that
// says what is wrong, before any request reaches the gateway.
func TestSmokeBadInput(t *testing.T) {
	for _, tc := range smokeBadInputs() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h, r := runBadInput(t, tc)
			require.Equal(t, cli.ExitBadInput, r.code, "stdout:\n%s", r.stdout)
			var msgs []string
			for _, c := range r.commands() {
				if c.Name == "error" {
					msgs = append(msgs, c.Data)
				}
			}
			require.NotEmpty(t, msgs, "bad input is reported as an error annotation")
			assert.Contains(t, strings.Join(msgs, "\n"), tc.wantErr)
			assert.Empty(t, r.outputs["result"], "no verdict is claimed when the smoke could not run")
			assert.Empty(t, r.summary, "no summary for a run that never started")
			assert.Zero(t, h.gw.Stats().HTTPRequests, "bad input is caught before the network")
			r.hygiene(t)
		})
	}
}

// TestSmokeGoldenSummary pins the healthy summary, run several times on fresh
// gateways: anything that varies between runs beyond ports and session keys (which
// golden normalises) makes it fail.
func TestSmokeGoldenSummary(t *testing.T) {
	for i := range 3 {
		h := newSmokeHarness(t, false)
		r := h.run()
		require.Equal(t, cli.ExitOK, r.code, "run %d stdout:\n%s", i, r.stdout)
		golden(t, "smoke-healthy.md", r.summary)
	}
}
