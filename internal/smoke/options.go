// Package smoke is the probe engine that validates a running Agent Me gateway: the
// runbook's "validate" step after a deploy (connect/auth, control UI load/connect,
// channel send/receive, bootstrap link create/exchange) and its post-rollback subset
// (connect/auth, channel send/receive, basic tool call).
//
// There is deliberately no /health probe: the gateway has no health endpoint, and any
// unknown GET (/health, /healthz) falls through to the control UI's SPA fallback and
// answers 200 with index.html, so a /health check passes even when the gateway cannot
// authenticate anyone or answer a chat. Every probe here exercises the real protocol.
//
// The gateway credential (token or password), the bootstrap codes and the credential a
// bootstrap exchange returns never reach a URL (bootstrap codes excepted: the exchange
// API takes them in the query), a log line, a Detail, an error or the Report.
package smoke

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/agentme/release-action/internal/clock"
	"github.com/agentme/release-action/internal/redact"
)

// Probe names, in the order Run executes them.
const (
	ProbeConnectAuth = "connect-auth"
	ProbeControlUI   = "control-ui"
	ProbeChannel     = "channel"
	ProbeBootstrap   = "bootstrap"
	ProbeToolCall    = "tool-call"
)

// Defaults applied by Run when the matching Options field is zero.
const (
	DefaultProbeTimeout   = 10 * time.Second
	DefaultChannelTimeout = 30 * time.Second
	DefaultReady          = 2 * time.Minute
	DefaultTool           = "sessions_list"
	DefaultUIMarker       = "<title>Agent Me Control</title>"
	DefaultSessionPrefix  = "release-action-smoke-"
)

// Protocol facts of the Agent Me gateway this package speaks.
const (
	ProtocolVersion   = 3
	ProbeClientID     = "agentme-probe"
	ControlUIClientID = "agentme-control-ui"
	ClientVersion     = "release-action"
)

// AllProbes returns every probe name in execution order (the default probe set).
func AllProbes() []string {
	return []string{ProbeConnectAuth, ProbeControlUI, ProbeChannel, ProbeBootstrap, ProbeToolCall}
}

// RollbackProbes returns the runbook's post-rollback subset: connect/auth, channel
// send/receive, basic tool call.
func RollbackProbes() []string {
	return []string{ProbeConnectAuth, ProbeChannel, ProbeToolCall}
}

// ChannelTarget is an optional outbound delivery the channel probe also performs with
// the gateway's `send` method (for example a Slack channel or a test phone number).
type ChannelTarget struct {
	Channel string // gateway channel name, optional (the gateway's default channel when empty)
	To      string // recipient, required
}

// Options configure one smoke run. The zero value of every field but URL and the
// credential is a usable default.
type Options struct {
	// URL is the gateway base URL. https and wss are always accepted; http and ws only
	// for loopback hosts (127.0.0.0/8, ::1, localhost) or with AllowInsecure. A path is a
	// prefix for every endpoint (a gateway behind a path-routing proxy). User info is
	// refused (a credential in a URL ends up in logs); query and fragment are ignored.
	URL *url.URL
	// AllowInsecure permits plain http/ws to a non-loopback host. Validate then returns a
	// warning the caller must print: the credential crosses the network unencrypted.
	AllowInsecure bool
	// Token or Password: exactly one, matching the gateway's auth mode. Secret.
	Token, Password string
	// Origin sent by the control UI client and on bootstrap create; default the URL's
	// origin (scheme://host[:port], https for wss, default port omitted like a browser).
	Origin string
	// BasePath is the control UI base path (gateway.controlUi.basePath), default "/".
	BasePath string
	// UIMarker is the text the control UI page must contain, default DefaultUIMarker.
	UIMarker string
	// Probes to run, default AllProbes(). They always run in AllProbes() order, so the
	// connect-auth check (which records the server info) comes first.
	Probes []string
	// ProbeTimeout bounds one attempt of a probe (default 10s). The channel probe's wait
	// for the reply has its own bound, ChannelTimeout (default 30s). Both are wall-clock
	// network deadlines, not waits, so they are not taken from Clock.
	ProbeTimeout   time.Duration
	ChannelTimeout time.Duration
	// Ready is the readiness budget (default 2m): while the gateway refuses connections or
	// a proxy answers 502/503/504 (a fresh deploy coming up), Run retries with exponential
	// backoff (500ms doubling, capped at 10s) before running the probes. A caller that
	// expects the gateway to be up already (monitor) passes a tiny budget such as 1ns:
	// one attempt, no wait.
	Ready time.Duration
	// SessionKey is the chat session the channel probe writes to, default
	// "release-action-smoke-<random>". "main" is refused: it is the operator's own session.
	SessionKey string
	// ChannelTarget, when set, makes the channel probe also `send` a message there.
	ChannelTarget *ChannelTarget
	// Tool is the tool the tool-call probe invokes, default "sessions_list" (read-only).
	Tool string
	// Clock provides time for backoff and latencies, default clock.Real.
	Clock clock.Clock
	// HTTPClient is used for HTTP and the WebSocket upgrade (tests pass one that trusts a
	// test CA). It is copied, never changed; redirects are not followed except
	// same-origin ones for the control UI page. TLS verification cannot be turned off.
	HTTPClient *http.Client
	// Redactor is the process's one redactor (actions.Runner.Redactor): Run registers the
	// credential and the bootstrap codes it creates with it and redacts all gateway text
	// through it. Nil means a private one.
	Redactor *redact.Redactor
	// Progress receives one operator-facing line per state change. Never a secret.
	Progress func(string)
}

// Validate checks the options without touching the network. It returns every problem
// found, joined; warnings are things the caller must print but that do not stop a run.
// No message contains a credential.
func (o Options) Validate() (warnings []string, err error) {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if o.URL == nil {
		bad("gateway URL is missing: set the environment's url (https://...) in the configuration or pass --url")
	} else {
		u := o.URL
		scheme := strings.ToLower(u.Scheme)
		switch {
		case u.User != nil:
			bad("gateway URL must not carry user info: pass the credential as a token or password secret (credentials in URLs end up in logs)")
		case scheme != "https" && scheme != "wss" && scheme != "http" && scheme != "ws":
			bad("gateway URL scheme %q is not supported: use https:// (or wss://)", u.Scheme)
		case u.Hostname() == "":
			bad("gateway URL %q has no host: use https://<gateway host>", cleanURL(u))
		case (scheme == "http" || scheme == "ws") && !isLoopback(u.Hostname()):
			if o.AllowInsecure {
				warnings = append(warnings, fmt.Sprintf("INSECURE: %s is plain %s to a non-loopback host: the gateway credential is sent unencrypted and can be read on the network; use https:// as soon as possible",
					cleanURL(u), scheme))
			} else {
				bad("gateway URL %s is plain %s to a non-loopback host: the credential would cross the network unencrypted; use https:// or wss://, or allow insecure explicitly if you accept that risk",
					cleanURL(u), scheme)
			}
		}
		if u.RawQuery != "" || u.Fragment != "" {
			warnings = append(warnings, "the query and fragment of the gateway URL are ignored")
		}
	}

	switch {
	case o.Token != "" && o.Password != "":
		bad("both a gateway token and a password are set: give exactly one, matching the gateway's auth mode (gateway.auth.token or gateway.auth.password)")
	case o.Token == "" && o.Password == "":
		bad("no gateway credential: set the token (or password) secret named by the environment's token-env (or password-env)")
	default:
		kind, value := "token", o.Token
		if o.Password != "" {
			kind, value = "password", o.Password
		}
		if strings.IndexFunc(value, unicode.IsControl) >= 0 || strings.TrimSpace(value) != value {
			bad("the gateway %s contains whitespace or control characters at its ends or inside (a trailing newline from a secret file?): store it without them", kind)
		}
	}

	if o.Origin != "" {
		if _, err := parseOrigin(o.Origin); err != nil {
			bad("smoke origin: %w", err)
		}
	}
	if o.BasePath != "" && (!strings.HasPrefix(o.BasePath, "/") || strings.ContainsAny(o.BasePath, "?#")) {
		bad("control UI base path %q must be a path starting with / (like gateway.controlUi.basePath)", o.BasePath)
	}
	known := AllProbes()
	for _, p := range o.Probes {
		if !slices.Contains(known, p) {
			bad("unknown smoke probe %q: known probes are %s", p, strings.Join(known, ", "))
		}
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"probe timeout", o.ProbeTimeout}, {"channel timeout", o.ChannelTimeout}, {"readiness budget", o.Ready}} {
		if d.v < 0 {
			bad("%s %s is negative: use a positive duration or leave it unset for the default", d.name, d.v)
		}
	}
	if k := strings.TrimSpace(o.SessionKey); o.SessionKey != "" {
		if k == "main" || k == "agent:main:main" {
			bad("session key %q is the operator's main chat session: smoke messages would land in it; use a dedicated key or leave it unset", o.SessionKey)
		} else if k != o.SessionKey || strings.IndexFunc(k, unicode.IsControl) >= 0 {
			bad("session key %q has surrounding whitespace or control characters", o.SessionKey)
		}
	}
	if o.ChannelTarget != nil && strings.TrimSpace(o.ChannelTarget.To) == "" {
		bad("channel target has no recipient: set its \"to\" (or drop the target)")
	}
	if o.HTTPClient != nil {
		if t, ok := o.HTTPClient.Transport.(*http.Transport); ok && t.TLSClientConfig != nil && t.TLSClientConfig.InsecureSkipVerify {
			bad("the HTTP client skips TLS verification: smoke probes always verify the gateway's certificate (trust a CA instead)")
		}
	}
	return warnings, errors.Join(errs...)
}

// isLoopback reports whether host is localhost or a loopback IP (127.0.0.0/8, ::1).
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// cleanURL is u without user info, query and fragment: safe to print.
func cleanURL(u *url.URL) string {
	c := url.URL{Scheme: strings.ToLower(u.Scheme), Host: u.Host, Path: u.Path, RawPath: u.RawPath}
	return c.String()
}

// defaultOrigin is what a browser would send for a page served from u.
func defaultOrigin(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	switch scheme {
	case "wss":
		scheme = "https"
	case "ws":
		scheme = "http"
	}
	host := strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if p := u.Port(); p != "" && !(scheme == "https" && p == "443") && !(scheme == "http" && p == "80") {
		host += ":" + p
	}
	return scheme + "://" + host
}

// parseOrigin accepts scheme://host[:port] with an optional trailing slash.
func parseOrigin(s string) (string, error) {
	u, err := url.Parse(strings.TrimSuffix(s, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || u.User != nil || u.RawQuery != "" {
		return "", fmt.Errorf("%q is not an origin: use scheme://host[:port], e.g. https://gateway.example", s)
	}
	return u.Scheme + "://" + u.Host, nil
}
