package smoke

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	vocab "github.com/agentme/release-action/internal/outcome"
)

// Probes a credential rotation adds to the smoke probes run with the new credential.
const (
	ProbeOldCredentialConnect = "old-credential-connect"
	ProbeOldCredentialTools   = "old-credential-tools-invoke"
	ProbeOldBootstrapCode     = "old-bootstrap-code"
)

// RotationProbes are the probes run with the new credential after a rotation: connect
// and auth, the control UI client, a bootstrap code made with the new credential that
// exchanges exactly once for it, and a tool call.
func RotationProbes() []string {
	return []string{ProbeConnectAuth, ProbeControlUI, ProbeBootstrap, ProbeToolCall}
}

// BootstrapCode is a bootstrap link's code. It is a secret (it exchanges for the gateway
// credential): it has no String method, and Secret exists only to mask it.
type BootstrapCode struct{ value string }

// Secret returns the code, for the runner's mask only.
func (c BootstrapCode) Secret() string { return c.value }

// IsZero reports whether no code was created.
func (c BootstrapCode) IsZero() bool { return c.value == "" }

// bootstrapMaxTTL is the gateway's upper bound on a code's lifetime (seconds). The
// pre-rotation code asks for the most, though its check does not depend on it: the
// gateway verifies the signature before the expiry, so an expired code still tells a
// valid signature ("expired") from a dead key ("invalid bootstrap code signature").
const bootstrapMaxTTL = 600

// CreateBootstrapCode creates one bootstrap code with the configured credential
// (POST /api/bootstrap/create, the longest lifetime the gateway allows) and returns it
// unexchanged. An error explains why the gateway would not make one (it never quotes a
// credential); it is a finding about the gateway, not a program failure.
func CreateBootstrapCode(ctx context.Context, o Options) (BootstrapCode, error) {
	if _, err := o.Validate(); err != nil {
		return BootstrapCode{}, vocab.BadInputf("invalid smoke options: %w", err)
	}
	s := newSession(o)
	ctx, cancel := context.WithTimeout(ctx, s.probeTimeout)
	defer cancel()
	h := bearer(s.cred.value)
	h.Set("Origin", s.origin)
	const step = "POST /api/bootstrap/create"
	res, f := s.do(ctx, http.MethodPost, s.endpoint("/api/bootstrap/create", nil), h, map[string]int{"ttlSec": bootstrapMaxTTL}, step)
	if f != nil {
		return BootstrapCode{}, fmt.Errorf("%s", s.red.clean(f.detail, maxDetail))
	}
	var created struct {
		OK   bool   `json:"ok"`
		Code string `json:"code"`
	}
	_ = json.Unmarshal(res.body, &created)
	clear(res.body)
	if res.status != http.StatusOK || !created.OK || created.Code == "" {
		f := s.httpStatusFailure(step+" with the current "+s.cred.kind, res.status, nil)
		return BootstrapCode{}, fmt.Errorf("%s", s.red.clean(f.detail, maxDetail))
	}
	return BootstrapCode{value: created.Code}, nil
}

// Replaced is what a rotation replaced: the old credential (of the same kind as the
// Options' new one) and a bootstrap code made with it before the rotation.
type Replaced struct {
	Credential string
	Code       BootstrapCode
}

// VerifyRotation proves a rotation against the restarted gateway. With the new
// credential of o it runs RotationProbes (readiness wait included, o.Probes is
// ignored); then the old credential must be refused on the WebSocket connect and on
// /tools/invoke, and the pre-rotation code must be refused on exchange as badly
// signed. A code refused as expired or already used still carries a valid signature,
// so the old signing key is still in force: that fails, as does an exchange that
// succeeds (whose answer, the gateway's credential, is dropped unread). Neither
// credential nor the codes appear in the Report.
func VerifyRotation(ctx context.Context, o Options, old Replaced) (*Report, error) {
	o.Probes = RotationProbes()
	rep, err := Run(ctx, o)
	if err != nil {
		return nil, err
	}
	s := newSession(o)
	s.red.add(old.Credential)
	s.red.add(old.Code.value)
	if !rep.Ready {
		for _, name := range []string{ProbeOldCredentialConnect, ProbeOldCredentialTools, ProbeOldBootstrapCode} {
			rep.Probes = append(rep.Probes, ProbeResult{Name: name, Detail: "not run: the gateway did not come up"})
		}
		return rep, nil
	}
	start := s.clk.Now()
	checks := []struct {
		name string
		fn   probeFunc
	}{
		{ProbeOldCredentialConnect, func(s *session, ctx context.Context) outcome { return s.probeOldConnect(ctx, old.Credential) }},
		{ProbeOldCredentialTools, func(s *session, ctx context.Context) outcome { return s.probeOldTools(ctx, old.Credential) }},
		{ProbeOldBootstrapCode, func(s *session, ctx context.Context) outcome { return s.probeOldCode(ctx, old.Code) }},
	}
	for _, c := range checks {
		res := s.runFunc(ctx, c.name, c.fn)
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("verify the rotation against %s: %s: %w", rep.Gateway, c.name, err)
		}
		rep.Probes = append(rep.Probes, res)
		if !res.OK {
			rep.Verdict = vocab.Fail
		}
	}
	rep.Duration += s.clk.Now().Sub(start)
	return rep, nil
}

func (s *session) probeOldConnect(ctx context.Context, old string) outcome {
	if old == "" {
		return failed("no old %s to try", s.cred.kind)
	}
	c, _, f := s.connect(ctx, probeClient, credential{kind: s.cred.kind, value: old})
	if f == nil {
		c.close()
		return failed("the old %s still authenticates on the WebSocket connect (hello-ok): the gateway did not restart with the new secret, or takes its %s from gateway.auth.%s in a config file rather than from the secret the deploy passes",
			s.cred.kind, s.cred.kind, s.cred.kind)
	}
	if !f.refused {
		return f.outcome("connect with the old " + s.cred.kind + " (expected a refusal)")
	}
	return passed("connect with the old %s was refused (%s)", s.cred.kind, f.detail)
}

func (s *session) probeOldTools(ctx context.Context, old string) outcome {
	const step = "POST /tools/invoke"
	res, f := s.do(ctx, http.MethodPost, s.endpoint("/tools/invoke", nil), bearer(old), map[string]string{"tool": s.tool}, step+" with the old "+s.cred.kind)
	if f != nil {
		return outcome{detail: f.detail, transient: f.transient}
	}
	clear(res.body)
	switch {
	case res.status == http.StatusUnauthorized || res.status == http.StatusForbidden:
		return passed("%s with the old %s answered %d", step, s.cred.kind, res.status)
	case res.status >= 200 && res.status < 300:
		return failed("%s with the old %s answered %d: the old %s still runs tools on the gateway; it did not restart with the new secret",
			step, s.cred.kind, res.status, s.cred.kind)
	}
	fl := s.httpStatusFailure(step+" with the old "+s.cred.kind, res.status, nil)
	fl.detail += " (expected 401)"
	return outcome{detail: fl.detail, transient: fl.transient}
}

func (s *session) probeOldCode(ctx context.Context, code BootstrapCode) outcome {
	if code.IsZero() {
		return failed("no pre-rotation bootstrap code to try")
	}
	const step = "GET /api/bootstrap/exchange of the pre-rotation code"
	res, f := s.do(ctx, http.MethodGet, s.exchangeURL(code.value), nil, nil, step)
	if f != nil {
		return outcome{detail: f.detail, transient: f.transient}
	}
	// A 200 carries the gateway's credential: read nothing but the status, wipe the body.
	msg := ""
	if res.status != http.StatusOK {
		msg = errorText(res.body)
	}
	clear(res.body)
	const stale = "a bootstrap link made before the rotation would still hand out the gateway's (new) credential: the signing key did not change, which is what happens when a dedicated AGENTME_BOOTSTRAP_SECRET is set and was not rotated; rotate it too (bootstrap-secret: true) and run the rotation again"
	switch {
	case res.status >= 200 && res.status < 300:
		return failed("%s was ACCEPTED (HTTP %d): %s", step, res.status, stale)
	case res.status == http.StatusBadRequest && strings.Contains(msg, "signature"):
		return passed("the pre-rotation bootstrap code was refused: %s", s.red.quote(msg))
	case res.status == http.StatusBadRequest && (strings.Contains(msg, "expired") || strings.Contains(msg, "already used")):
		return failed("%s answered 400 %s: the gateway checks the signature first, so the old code's signature is still valid; %s", step, s.red.quote(msg), stale)
	}
	fl := s.httpStatusFailure(step, res.status, []byte(msg))
	fl.detail += " (expected 400 \"invalid bootstrap code signature\")"
	return outcome{detail: fl.detail, transient: fl.transient}
}
