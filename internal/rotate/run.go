package rotate

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/deploy"
	"github.com/agentme/release-action/internal/github"
	"github.com/agentme/release-action/internal/outcome"
	"github.com/agentme/release-action/internal/smoke"
	"github.com/agentme/release-action/internal/untrusted"
)

// Run rotates the credential of one environment. Errors are for bad input (ErrBadInput,
// which includes a token that may not write secrets), and for GitHub or network
// failures while nothing was written yet; everything else — a failed step after the
// first write included — is a Report whose Verdict says fail and whose Problem says
// what state the secrets and the gateway are in.
func Run(ctx context.Context, gh GitHub, r Request) (*Report, error) {
	// 1. Nothing changes here: the same decision a dry run reports (Plan).
	var started time.Time
	if r.Clock != nil { // the duration counts the reads; guarded so a clockless bad request still gets its error
		started = r.Clock.Now()
	}
	d, err := decide(ctx, gh, r)
	if err != nil {
		return nil, err
	}
	p := d.p
	if r.Generate == nil {
		r.Generate = Generate
	}
	if r.Gateway == nil {
		r.Gateway = SmokeGateway{}
	}
	env := r.Environment.Name
	rep := &Report{Environment: env, Kind: p.kind, BootstrapSecret: p.bootSecret != "", Reason: r.Reason,
		Verdict: outcome.Fail, Stage: StagePrepare, Started: started, Secrets: d.secrets()}
	defer func() { rep.Finished = r.Clock.Now() }()
	say := func(format string, args ...any) {
		if r.Progress != nil {
			r.Progress(fmt.Sprintf(format, args...))
		}
	}
	if !d.found {
		rep.Problem = "nothing was changed: " + notRunning(env)
		return rep, nil
	}
	running, key := d.running, d.key
	rep.Running = running
	say("%s runs %s (%s, deployment %d)", env, untrusted.ShortSHA(running.SHA), untrusted.Clean(running.Tag), running.DeploymentID)

	newCred, err := r.Generate()
	if err != nil {
		return nil, err
	}
	r.Mask(newCred)
	var newBoot string
	if p.bootSecret != "" {
		if newBoot, err = r.Generate(); err != nil {
			return nil, err
		}
		r.Mask(newBoot)
	}
	if newCred == r.OldCredential || (newBoot != "" && newBoot == newCred) {
		return nil, errors.New("rotate: the generator returned a value already in use")
	}
	say("generated a new %s (%d random bits)%s; masked", p.kind, ValueBytes*8, map[bool]string{true: " and a new bootstrap secret", false: ""}[newBoot != ""])

	rep.Stage = StageBootstrap
	oldOpts := r.Smoke
	setCred(&oldOpts, p.kind, r.OldCredential)
	code, err := r.Gateway.CreateBootstrapCode(ctx, oldOpts)
	if errors.Is(err, outcome.ErrBadInput) {
		return nil, fmt.Errorf("environment %s: %w", env, err)
	}
	if err != nil {
		rep.Problem = fmt.Sprintf("nothing was changed: the gateway would not create a bootstrap code with the current %s (%v), so the old credential could not be tested before the rotation; check that the environment's %s-env holds the %s %s runs with, then run the rotation again",
			p.kind, err, p.kind, p.kind, env)
		return rep, nil
	}
	r.Mask(code.Secret())
	rep.BootstrapCodeAt = r.Clock.Now()
	say("created a bootstrap code with the current %s; it stays unexchanged until the rotation is verified", p.kind)

	// 2. Write: from the first success on, the report says what changed.
	rep.Stage = StageWrite
	values := []string{newCred, newBoot}
	for i := range rep.Secrets {
		s := &rep.Secrets[i]
		created, err := gh.PutSecret(ctx, p.ghEnv, s.Name, key, []byte(values[i]))
		if err != nil {
			if !rep.Changed && refused(err) {
				return nil, secretsErr(err, p, env)
			}
			if !rep.Changed {
				// No answer, or a server error: GitHub may have stored it all the same.
				return nil, fmt.Errorf("write secret %s: GitHub gave no clear answer, so the secret may or may not hold a new value; %s still runs the old one either way; run the rotation again (it generates another value): %w", s.Name, env, err)
			}
			rep.Problem = fmt.Sprintf("secret %s was written but %s was not (%v): %s holds a new value the gateway does not run with yet, and the bootstrap secret is the old one; run the rotation again (it generates new values for both)",
				rep.Secrets[0].Name, s.Name, err, rep.Secrets[0].Name)
			return rep, nil
		}
		s.Written, s.Created, s.At = true, created, r.Clock.Now()
		rep.Changed = true
		verb := "updated"
		if created {
			verb = "created"
		}
		say("%s %s secret %s (key %s)", verb, p.scope, s.Name, key.KeyID)
	}

	// 3. Restart and prove.
	rep.Stage = StageRestart
	st := &deploy.State{Environment: env, SHA: running.SHA, Stage: deploy.StageNone}
	res, err := deploy.Deploy(ctx, gh, deploy.Options{
		Environment: r.Environment, Trigger: r.Trigger, SHA: running.SHA, Tag: running.Tag, Task: deploy.TaskRotate,
		Payload:    deploy.Payload{Reason: r.Reason, Rotation: true, RunURL: r.RunURL},
		Production: r.Production, Clock: r.Clock, Progress: r.Progress, PollInterval: r.PollInterval, State: st,
	})
	rep.Deploy = res
	if err != nil {
		rep.Problem = fmt.Sprintf("%s; the restart could not be run or followed: %v; run the rotation again (it generates new values)", upper(written(rep)), err)
		return rep, nil
	}
	if res.State != deploy.StateSuccess {
		rep.Problem = fmt.Sprintf("%s; the restart failed: deployment %d %s (%s); fix the deploy and run the rotation again (it generates new values; the old ones are presumed leaked and are never restored)",
			upper(written(rep)), res.DeploymentID, res.State, untrusted.Clean(res.Reason))
		return rep, nil
	}

	rep.Stage = StageVerify
	newOpts := r.Smoke
	setCred(&newOpts, p.kind, newCred)
	vr, err := r.Gateway.VerifyRotation(ctx, newOpts, smoke.Replaced{Credential: r.OldCredential, Code: code})
	if err != nil {
		rep.Problem = fmt.Sprintf("%s was restarted (deployment %d) and %s, but the verification could not run: %v; run the rotation again", env, res.DeploymentID, written(rep), err)
		_ = deploy.MarkRotationFailed(ctx, gh, res.DeploymentID, "verification did not run", r.RunURL)
		return rep, nil
	}
	rep.Verification = vr
	if !vr.Passed() {
		var failed []string
		for _, pr := range vr.Probes {
			if !pr.OK {
				failed = append(failed, pr.Name)
			}
		}
		rep.Problem = fmt.Sprintf("%s was restarted (deployment %d) and %s, but the rotation is NOT proven (%s failed): %s",
			env, res.DeploymentID, written(rep), strings.Join(failed, ", "), verifyProblem(failed, p, r.Environment, env))
		if err := deploy.MarkRotationFailed(ctx, gh, res.DeploymentID, "verify failed: "+strings.Join(failed, ", "), r.RunURL); err != nil {
			say("could not mark deployment %d: %v", res.DeploymentID, err)
		}
		return rep, nil
	}
	if err := deploy.MarkValidated(ctx, gh, res.DeploymentID, r.Environment.URL, r.RunURL); err != nil {
		say("rotation proven, but marking deployment %d validated failed: %v", res.DeploymentID, err)
	}
	rep.Stage, rep.Verdict = StageDone, outcome.Pass
	return rep, nil
}

func setCred(o *smoke.Options, kind, value string) {
	o.Token, o.Password = "", ""
	if kind == KindPassword {
		o.Password = value
	} else {
		o.Token = value
	}
}

// written says which secrets now hold values the gateway may not run with.
func written(rep *Report) string {
	var names []string
	for _, s := range rep.Secrets {
		if s.Written {
			names = append(names, s.Name)
		}
	}
	if len(names) == 1 {
		return fmt.Sprintf("secret %s now holds a new value that %s may not be running with", names[0], rep.Environment)
	}
	return fmt.Sprintf("secrets %s now hold new values that %s may not be running with", strings.Join(names, " and "), rep.Environment)
}

// verifyProblem says what the failed verification probes mean and what to do.
func verifyProblem(failed []string, p plan, e config.Environment, env string) string {
	var newBad, oldLive, linkLive bool
	for _, f := range failed {
		switch f {
		case smoke.ProbeOldCredentialConnect, smoke.ProbeOldCredentialTools:
			oldLive = true
		case smoke.ProbeOldBootstrapCode:
			linkLive = true
		default:
			newBad = true
		}
	}
	var says []string
	if newBad {
		says = append(says, fmt.Sprintf("the new %s does not work on %s yet (did the deploy workflow pass the secret to the gateway, and did the gateway restart?)", p.kind, env))
	}
	if oldLive {
		says = append(says, fmt.Sprintf("the old %s is still accepted: treat it as live", p.kind))
	}
	if linkLive {
		switch {
		case e.Secrets != nil && e.Secrets.Bootstrap != "" && p.bootSecret == "":
			says = append(says, fmt.Sprintf("bootstrap links made with the old %s still exchange, now for the NEW %s, because the dedicated bootstrap secret %s was not rotated: run rotate again with bootstrap-secret: true", p.kind, p.kind, e.Secrets.Bootstrap))
		default:
			says = append(says, fmt.Sprintf("bootstrap links made with the old %s still exchange, now for the NEW %s: the gateway signs them with a key that did not change (a dedicated AGENTME_BOOTSTRAP_SECRET the configuration does not name in secrets.bootstrap?)", p.kind, p.kind))
		}
	}
	return strings.Join(says, "; ") + "; fix the cause and run the rotation again (it generates new values; the old ones are never restored)"
}

// refused reports whether GitHub definitely refused a request (a 4xx answer): nothing
// was stored.
func refused(err error) bool {
	var apiErr *github.APIError
	return errors.As(err, &apiErr) && apiErr.StatusCode >= 400 && apiErr.StatusCode < 500
}

// secretsErr explains a refused secrets request; a 403 is bad input (the token's
// permissions), anything else a GitHub failure.
func secretsErr(err error, p plan, env string) error {
	if errors.Is(err, github.ErrForbidden) {
		where := "the repository's Actions secrets"
		perm := "Secrets: read and write"
		if p.ghEnv != "" {
			where = fmt.Sprintf("the secrets of GitHub environment %s", env)
			perm = "Environments: read and write"
		}
		return outcome.BadInputf("nothing was changed: GitHub refused to let this token write %s (403): GITHUB_TOKEN can never write secrets; pass a GitHub App installation token (actions/create-github-app-token) or a fine-grained personal access token with the repository permission %s as the token input: %w",
			where, perm, err)
	}
	if errors.Is(err, github.ErrNotFound) && p.ghEnv != "" {
		return outcome.BadInputf("nothing was changed: GitHub has no environment %s with secrets in this repository (404), or the token cannot see it: create the environment, or set secrets.scope to repository if the deploy workflow reads repository secrets: %w",
			env, err)
	}
	return fmt.Errorf("nothing was changed: %w", err)
}

func upper(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
