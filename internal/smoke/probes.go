package smoke

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// probeConnectAuth: the configured credential gets hello-ok on protocol 3, and a random
// wrong credential of the same kind is refused (ok:false and/or close 1008).
func (s *session) probeConnectAuth(ctx context.Context) outcome {
	kind := s.cred.kind
	c, h, f := s.connect(ctx, probeClient, s.cred)
	if f != nil {
		return s.connectFailure("connect with the configured "+kind, f, probeClient)
	}
	c.close()

	wrong := credential{kind: kind, value: randomSecret()}
	s.red.addLocal(wrong.value)
	c2, _, f := s.connect(ctx, probeClient, wrong)
	if f == nil {
		c2.close()
		return failed("auth is not enforced: a random wrong %s was accepted (connect answered hello-ok): anyone who can reach %s can drive the gateway; check gateway.auth on the deployed gateway",
			kind, s.base.Host)
	}
	if !f.refused {
		return f.outcome("connect with a random wrong " + kind + " (expected a refusal)")
	}
	return passed("hello-ok from gateway %s on protocol %d; a random wrong %s was refused",
		s.red.quote(h.Server.Version), ProtocolVersion, kind)
}

// connectFailure adds what to look at to a failed connect with the configured credential.
func (s *session) connectFailure(step string, f *failure, cl client) outcome {
	out := f.outcome(step)
	if !f.refused {
		return out
	}
	msg := strings.ToLower(f.detail)
	switch {
	case f.rpc != nil && (f.rpc.Code == "NOT_PAIRED" || strings.Contains(msg, "pairing required")):
		approve := "approve the pending device on the gateway"
		if id := f.rpc.Details.RequestID; id != "" {
			approve = fmt.Sprintf("approve pairing request %s on the gateway (agentme devices approve %s)", s.red.clean(id, 80), s.red.clean(id, 80))
		}
		out.detail += ": the gateway pairs control UI devices and this smoke device is not paired yet (loopback clients are paired automatically); " +
			approve + " once: the device is derived from the credential, so it stays paired until the credential changes"
	case strings.Contains(msg, "secure context") || strings.Contains(msg, "requires https") || strings.Contains(msg, "device identity"):
		out.detail += ": the gateway refuses a control UI client without a valid signed device identity (whatever the transport); this probe signs one, so the gateway rejected its signature or needs gateway.controlUi.allowInsecureAuth; check the gateway logs for the device error"
	case strings.Contains(msg, "origin"):
		out.detail += fmt.Sprintf(": the gateway does not allow Origin %s for the control UI; add it to gateway.controlUi.allowedOrigins or set the smoke origin to one the gateway allows (the gateway's own host is always allowed)", cl.origin)
	case strings.Contains(msg, "mismatch") || strings.Contains(msg, "unauthorized") || strings.Contains(msg, "auth"):
		out.detail += fmt.Sprintf(": the configured %s does not match gateway.auth.%s of the deployed gateway (or the gateway runs in the other auth mode); check the secret named by the environment's %s-env",
			s.cred.kind, s.cred.kind, s.cred.kind)
	case strings.Contains(msg, "client"):
		out.detail += fmt.Sprintf(": the gateway does not accept client id %q in mode %q; the deployed gateway may predate it", cl.id, cl.mode)
	}
	return out
}

// probeControlUI: the UI page loads as the control UI shell (never /health: it answers
// 200 with the same page whatever state the gateway is in), then a control UI client
// connects with the configured Origin.
func (s *session) probeControlUI(ctx context.Context) outcome {
	res, step, f := s.fetchUI(ctx)
	if f != nil {
		return outcome{detail: f.detail, transient: f.transient}
	}
	ct := res.header.Get("Content-Type")
	mt, _, _ := mime.ParseMediaType(ct)
	switch {
	case res.status == http.StatusServiceUnavailable && bytes.Contains(res.body, []byte("Control UI assets not found")):
		return failed("%s answered 503 \"Control UI assets not found\": the image was built without the control UI assets; rebuild it with the UI build step and redeploy", step)
	case res.status == http.StatusNotFound:
		return failed("%s answered 404: no control UI at this path; check the control UI base path (gateway.controlUi.basePath) against the smoke base path", step)
	case res.status == http.StatusUnauthorized || res.status == http.StatusForbidden:
		return failed("%s answered %d: something in front of the gateway protects the control UI page", step, res.status)
	case res.status != http.StatusOK:
		f := s.httpStatusFailure(step, res.status, res.body)
		return outcome{detail: f.detail, transient: f.transient}
	case mt != "text/html":
		return failed("%s answered 200 with %s instead of text/html: something other than the control UI answers at this path", step, s.red.quote(ct))
	case !bytes.Contains(res.body, []byte(s.uiMarker)):
		return failed("%s answered 200 text/html without %s: another page (a proxy's, another app's) answers at this URL, or the UI base path is wrong", step, s.uiMarker)
	}

	ui := client{id: ControlUIClientID, mode: "ui", origin: s.origin}
	c, _, f := s.connect(ctx, ui, s.cred)
	if f != nil {
		return s.connectFailure("control UI client connect (Origin "+s.origin+")", f, ui)
	}
	c.close()
	return passed("%s served the control UI shell; the control UI client connected with Origin %s", step, s.origin)
}

// fetchUI GETs the control UI page, following redirects only within the same origin
// (a trailing-slash redirect to the base path is normal; another origin is not ours).
func (s *session) fetchUI(ctx context.Context) (*httpRes, string, *failure) {
	u := s.uiURL
	for range 5 {
		step := "GET " + u.Path
		h := http.Header{}
		h.Set("Accept", "text/html")
		res, f := s.do(ctx, http.MethodGet, u, h, nil, step)
		if f != nil {
			return nil, step, f
		}
		if res.status < 300 || res.status >= 400 || res.header.Get("Location") == "" {
			return res, step, nil
		}
		next, err := u.Parse(res.header.Get("Location"))
		if err != nil || next.Scheme != u.Scheme || next.Host != u.Host {
			where := "an unparsable location"
			if err == nil {
				where = (&url.URL{Scheme: next.Scheme, Host: next.Host, Path: next.Path}).String()
			}
			return nil, step, &failure{detail: fmt.Sprintf("%s redirects (HTTP %d) to another origin, %s: point the smoke URL at the gateway itself", step, res.status, s.red.quote(where))}
		}
		next.RawQuery, next.Fragment = "", ""
		u = next
	}
	return nil, "GET " + s.uiURL.Path, &failure{detail: fmt.Sprintf("GET %s redirects more than 5 times: a redirect loop in front of the gateway", s.uiURL.Path)}
}

// chatEvent is the part of a `chat` event the channel probe reads.
type chatEvent struct {
	RunID        string `json:"runId"`
	SessionKey   string `json:"sessionKey"`
	State        string `json:"state"`
	ErrorMessage string `json:"errorMessage"`
}

// sameSession reports whether the gateway's key names our session; the gateway answers
// with the canonical form agent:<agent>:<key> even for a request that used <key>.
func sameSession(got, ours string) bool {
	return got == ours || got == "agent:main:"+ours || (strings.HasPrefix(got, "agent:") && strings.HasSuffix(got, ":"+ours))
}

// probeChannel: chat.send is accepted, a final reply arrives within ChannelTimeout, and
// chat.history holds the message; optionally `send` delivers to ChannelTarget.
func (s *session) probeChannel(ctx context.Context) outcome {
	c, _, f := s.connect(ctx, probeClient, s.cred)
	if f != nil {
		return s.connectFailure("connect", f, probeClient)
	}
	defer c.close()

	marker := "release-action smoke " + randomID()
	payload, f := c.call(ctx, "chat.send", map[string]string{
		"sessionKey": s.sessionKey, "message": marker, "idempotencyKey": randomID(),
	})
	if f != nil {
		return f.outcome("chat.send on session " + s.sessionKey)
	}
	var sent struct {
		RunID  string `json:"runId"`
		Status string `json:"status"`
	}
	_ = json.Unmarshal(payload, &sent)
	if sent.RunID == "" || (sent.Status != "started" && sent.Status != "in_flight") {
		return failed("chat.send answered runId %s status %s, expected a runId with status \"started\"", s.red.quote(sent.RunID), s.red.quote(sent.Status))
	}

	sentAt := s.clk.Now()
	waitCtx, cancel := context.WithTimeout(ctx, s.channelTimeout)
	defer cancel()
	ev, f := c.waitEvent(waitCtx, "the chat reply", func(fr frame) bool {
		if fr.Event != "chat" {
			return false
		}
		var ce chatEvent
		if json.Unmarshal(fr.Payload, &ce) != nil {
			return false
		}
		// The run id is the match; the session key only for a gateway that omits it
		// (a late final of an earlier run on a reused key must not count).
		mine := ce.RunID == sent.RunID || (ce.RunID == "" && sameSession(ce.SessionKey, s.sessionKey))
		return mine && (ce.State == "final" || ce.State == "error" || ce.State == "aborted")
	})
	if f != nil {
		if waitCtx.Err() != nil && ctx.Err() == nil {
			return failed("no reply within %s: the gateway accepted chat.send but sent no final event; the likely cause is no model provider configured (check the agent's model, agents.defaults.model, and the provider API key in the gateway's environment), else a stuck agent run: see the gateway logs for run %s",
				s.channelTimeout, s.red.quote(sent.RunID))
		}
		return f.outcome("waiting for the chat reply")
	}
	replyAfter := s.clk.Now().Sub(sentAt)
	var ce chatEvent
	_ = json.Unmarshal(ev.Payload, &ce)
	switch ce.State {
	case "error":
		return failed("the agent run failed: chat event state \"error\" with %s: check the model provider's configuration and API key, and the gateway logs", s.red.quote(ce.ErrorMessage))
	case "aborted":
		return failed("the agent run was aborted before a final reply: check the gateway logs for run %s", s.red.quote(sent.RunID))
	}

	hist, f := s.historyWithMarker(ctx, c, marker)
	if f != nil {
		return f.outcome("chat.history")
	}
	if !hist {
		return failed("chat.history of session %s does not contain the message just sent: the gateway replied but did not record the session transcript; check the sessions store (disk, permissions) in the gateway logs", s.sessionKey)
	}

	delivered := ""
	if t := s.target; t != nil {
		params := map[string]string{"to": t.To, "message": marker, "idempotencyKey": randomID()}
		if t.Channel != "" {
			params["channel"] = t.Channel
		}
		if _, f := c.call(ctx, "send", params); f != nil {
			out := f.outcome(fmt.Sprintf("send to %s %s", orDefault(t.Channel, "the default channel"), s.red.quote(t.To)))
			if f.rpc != nil {
				out.detail += ": check that channel's configuration and credentials on the gateway"
			}
			return out
		}
		delivered = fmt.Sprintf("; send to %s %s accepted", orDefault(t.Channel, "the default channel"), s.red.quote(t.To))
	}
	return passed("chat.send on session %s got a final reply after %s and chat.history holds the message%s",
		s.sessionKey, replyAfter.Round(time.Millisecond), delivered)
}

// historyWithMarker reads chat.history, giving the transcript a moment to land.
func (s *session) historyWithMarker(ctx context.Context, c *wsConn, marker string) (bool, *failure) {
	for i := range 3 {
		payload, f := c.call(ctx, "chat.history", map[string]string{"sessionKey": s.sessionKey})
		if f != nil {
			return false, f
		}
		// The marker is plain ASCII without JSON escapes, so it appears verbatim in any
		// message shape (string content or content parts).
		if bytes.Contains(payload, []byte(marker)) {
			return true, nil
		}
		if i < 2 && s.clk.Sleep(ctx, 100*time.Millisecond) != nil {
			return false, &failure{detail: "cancelled"}
		}
	}
	return false, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// probeBootstrap: create a bootstrap code; a tampered copy is refused; the code
// exchanges once for exactly the configured credential; a second exchange is refused.
func (s *session) probeBootstrap(ctx context.Context) outcome {
	h := bearer(s.cred.value)
	h.Set("Origin", s.origin)
	const createStep = "POST /api/bootstrap/create"
	res, f := s.do(ctx, http.MethodPost, s.endpoint("/api/bootstrap/create", nil), h, map[string]int{"ttlSec": 60}, createStep)
	if f != nil {
		return outcome{detail: f.detail, transient: f.transient}
	}
	var created struct {
		OK   bool   `json:"ok"`
		Code string `json:"code"`
	}
	if res.status == http.StatusOK {
		_ = json.Unmarshal(res.body, &created)
		s.red.add(created.Code)
	}
	switch {
	case res.status == http.StatusForbidden:
		return failed("%s was refused for Origin %s (403): add that origin to gateway.auth.allowedOrigins, or set the smoke origin to one that is allowed", createStep, s.origin)
	case res.status == http.StatusBadRequest && strings.Contains(errorText(res.body), "secret unavailable"):
		return failed("%s answered 400 \"bootstrap secret unavailable\": the gateway has no bootstrap secret; set AGENTME_BOOTSTRAP_SECRET, or configure the gateway token/password it derives the secret from", createStep)
	case res.status == http.StatusNotFound || res.status == http.StatusMethodNotAllowed:
		return failed("%s answered %d: no bootstrap endpoint; the deployed gateway predates bootstrap links (upstream gateways have none), or the URL points at something else", createStep, res.status)
	case res.status != http.StatusOK:
		f := s.httpStatusFailure(createStep, res.status, res.body)
		return outcome{detail: f.detail, transient: f.transient}
	case !created.OK || created.Code == "":
		return failed("%s answered 200 without ok:true and a code", createStep)
	}
	dot := strings.LastIndexByte(created.Code, '.')
	if dot <= 0 || dot == len(created.Code)-1 {
		return failed("%s returned a code that is not <payload>.<signature>: the gateway uses another bootstrap code format", createStep)
	}

	// Tamper before the genuine exchange, so a refusal can only be the signature's doing
	// (the nonce is still unused). The first signature character carries 6 signature bits
	// (the last one may carry padding bits a decoder ignores).
	sig := []byte(created.Code[dot+1:])
	if sig[0] == 'A' {
		sig[0] = 'B'
	} else {
		sig[0] = 'A'
	}
	tampered := created.Code[:dot+1] + string(sig)
	s.red.addLocal(tampered)
	const exchangeStep = "GET /api/bootstrap/exchange"
	res, f = s.do(ctx, http.MethodGet, s.exchangeURL(tampered), nil, nil, exchangeStep+" with a tampered code")
	if f != nil {
		return outcome{detail: f.detail, transient: f.transient}
	}
	status := res.status
	// A 200 here may carry the credential: only the ok flag is read, then the body is
	// wiped. A 2xx that is not {ok:true} (an SPA page for an unknown path) is no exchange.
	var tamperedAnswer struct {
		OK bool `json:"ok"`
	}
	_ = json.Unmarshal(res.body, &tamperedAnswer)
	clear(res.body)
	if status >= 200 && status < 300 && tamperedAnswer.OK {
		return failed("bootstrap code signatures are not verified: a code with a tampered signature was exchanged for the gateway credential (HTTP %d); rotate the credential and fix the gateway before release", status)
	}
	if o, refused := s.refusal(status, exchangeStep+" with a tampered code"); !refused {
		return o
	}

	res, f = s.do(ctx, http.MethodGet, s.exchangeURL(created.Code), nil, nil, exchangeStep)
	if f != nil {
		return outcome{detail: f.detail, transient: f.transient}
	}
	if res.status != http.StatusOK {
		msg := errorText(res.body)
		clear(res.body)
		switch {
		case strings.Contains(msg, "signature"):
			return failed("%s refused a code the gateway had just issued (%s): replicas behind a load balancer sign with different secrets; set the same AGENTME_BOOTSTRAP_SECRET on every replica", exchangeStep, s.red.quote(msg))
		case strings.Contains(msg, "already used"):
			return failed("%s says a code issued a moment ago was already used (%s): something else redeemed it between create and exchange; check the gateway logs for who exchanged it", exchangeStep, s.red.quote(msg))
		case strings.Contains(msg, "expired"):
			return failed("%s says a code with a 60s lifetime expired (%s): check the gateway host's clock", exchangeStep, s.red.quote(msg))
		}
		f := s.httpStatusFailure(exchangeStep, res.status, []byte(msg))
		return outcome{detail: f.detail, transient: f.transient}
	}
	problem := s.compareExchanged(res.body)
	clear(res.body)
	if problem != "" {
		return failed("%s: %s", exchangeStep, problem)
	}

	res, f = s.do(ctx, http.MethodGet, s.exchangeURL(created.Code), nil, nil, exchangeStep+" again")
	if f != nil {
		return outcome{detail: f.detail, transient: f.transient}
	}
	status = res.status
	clear(res.body)
	if status >= 200 && status < 300 {
		return failed("bootstrap codes are reusable: a second exchange of the same code was accepted (HTTP %d), so a leaked link hands out the credential again and again; the gateway does not remember used codes", status)
	}
	if o, refused := s.refusal(status, exchangeStep+" of a used code"); !refused {
		return o
	}
	return passed("bootstrap code created (Origin %s), exchanged once for the configured %s, a second exchange and a tampered code were refused", s.origin, s.cred.kind)
}

func (s *session) exchangeURL(code string) *url.URL {
	return s.endpoint("/api/bootstrap/exchange", url.Values{"code": {code}})
}

// refusal accepts a 4xx as the expected refusal; 5xx and anything else are failures.
func (s *session) refusal(status int, step string) (outcome, bool) {
	if status >= 400 && status < 500 {
		return outcome{}, true
	}
	f := s.httpStatusFailure(step, status, nil)
	f.detail += " (expected a 400 refusal)"
	return outcome{detail: f.detail, transient: f.transient}, false
}

// compareExchanged checks an exchange answer against the configured credential. The
// returned credential lives only in locals here: it is hashed on both sides so the
// comparison is constant-time whatever the lengths, and then dropped. The problem text
// never quotes the answer.
func (s *session) compareExchanged(body []byte) string {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return "the exchange answer is not JSON"
	}
	defer func() {
		for _, v := range m {
			clear(v)
		}
	}()
	if string(m["ok"]) != "true" {
		return "the exchange answer has no ok:true"
	}
	raw, ok := m[s.cred.kind]
	if !ok {
		other := "password"
		if s.cred.kind == "password" {
			other = "token"
		}
		if _, ok := m[other]; ok {
			return fmt.Sprintf("the exchange returned a %s but the smoke credential is a %s: the gateway's auth mode is not the one the configured secret is for", other, s.cred.kind)
		}
		return fmt.Sprintf("the exchange answered ok:true without a %s", s.cred.kind)
	}
	var got string
	if json.Unmarshal(raw, &got) != nil {
		return fmt.Sprintf("the exchange returned a %s that is not a string", s.cred.kind)
	}
	a, b := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(s.cred.value))
	equal := subtle.ConstantTimeCompare(a[:], b[:]) == 1
	clear(a[:])
	if !equal {
		return "exchange returned a credential that differs from the configured one: the bootstrap secret or auth config is inconsistent (a code signed by one configuration redeemed for another's credential, or replicas with different credentials)"
	}
	return ""
}

// probeToolCall: the tool runs with the credential; without one, and with a random wrong
// one, the gateway answers 401 (403 from a proxy is also a refusal).
func (s *session) probeToolCall(ctx context.Context) outcome {
	const step = "POST /tools/invoke"
	u := s.endpoint("/tools/invoke", nil)
	body := map[string]string{"tool": s.tool}
	res, f := s.do(ctx, http.MethodPost, u, bearer(s.cred.value), body, step)
	if f != nil {
		return outcome{detail: f.detail, transient: f.transient}
	}
	var ans struct {
		OK bool `json:"ok"`
	}
	_ = json.Unmarshal(res.body, &ans)
	switch {
	case res.status == http.StatusNotFound:
		return failed("%s {tool: %q} answered 404 %s: the tool is not allowed on this gateway; allow it in the gateway's tool policy or pick another read-only tool for the smoke", step, s.tool, s.red.quote(errorText(res.body)))
	case res.status == http.StatusBadRequest && strings.Contains(string(res.body), "tool_error"):
		return failed("%s {tool: %q} answered 400 tool_error (%s): the tool itself failed inside the gateway; see the gateway logs for that tool call", step, s.tool, s.red.quote(errorText(res.body)))
	case res.status != http.StatusOK:
		f := s.httpStatusFailure(fmt.Sprintf("%s {tool: %q}", step, s.tool), res.status, res.body)
		return outcome{detail: f.detail, transient: f.transient}
	case !ans.OK:
		return failed("%s {tool: %q} answered 200 without ok:true (%s): the tool failed; see the gateway logs", step, s.tool, s.red.quote(errorText(res.body)))
	}

	wrong := randomSecret()
	s.red.addLocal(wrong)
	for _, try := range []struct {
		what   string
		header http.Header
	}{
		{"without a credential", nil},
		{"with a random wrong " + s.cred.kind, bearer(wrong)},
	} {
		res, f := s.do(ctx, http.MethodPost, u, try.header, body, step+" "+try.what)
		if f != nil {
			return outcome{detail: f.detail, transient: f.transient}
		}
		switch {
		case res.status >= 200 && res.status < 300:
			return failed("tool invocation does not require auth: %s %s answered %d; anyone who can reach the gateway can run its tools; check gateway.auth on the deployed gateway", step, try.what, res.status)
		case res.status == http.StatusUnauthorized || res.status == http.StatusForbidden:
		default:
			f := s.httpStatusFailure(step+" "+try.what, res.status, res.body)
			if !f.transient {
				f.detail += " (expected 401)"
			}
			return outcome{detail: f.detail, transient: f.transient}
		}
	}
	return passed("tool %s ran with the configured %s; without a credential and with a wrong one the gateway answered 401", s.tool, s.cred.kind)
}
