package rotate

import (
	"cmp"
	"context"
	"fmt"
	"strings"

	"github.com/agentme/release-action/internal/deploy"
	"github.com/agentme/release-action/internal/github"
	"github.com/agentme/release-action/internal/outcome"
	"github.com/agentme/release-action/internal/untrusted"
)

// decision is everything a rotation reads before it changes anything: the validated
// request, the commit the environment runs, and the secrets public key. decide makes it
// and never writes; Run acts on it and Plan reports it, so the two cannot disagree.
type decision struct {
	p       plan
	running Running
	// found is false when no deployment records a commit the environment runs: the
	// rotation cannot restart it (and the key is not read).
	found bool
	key   github.SecretsKey
}

// decide validates the request, finds the commit the environment runs and reads the
// secrets public key (which is also the check that the token may reach the secrets API).
// Errors wrapping outcome.ErrBadInput are bad requests (a 403 on the key included);
// others are API failures.
func decide(ctx context.Context, gh GitHub, r Request) (decision, error) {
	var d decision
	var err error
	if d.p, err = r.plan(); err != nil {
		return d, err
	}
	if d.running, d.found, err = current(ctx, gh, r.Environment.Name); err != nil || !d.found {
		return d, err
	}
	if d.key, err = gh.SecretsPublicKey(ctx, d.p.ghEnv); err != nil {
		return d, secretsErr(err, d.p, r.Environment.Name)
	}
	return d, nil
}

// secrets lists the secrets the decision would write, in the order Run writes them.
func (d decision) secrets() []SecretWrite {
	ss := []SecretWrite{{Name: d.p.credSecret, Role: d.p.kind, Scope: d.p.scope, KeyID: d.key.KeyID}}
	if d.p.bootSecret != "" {
		ss = append(ss, SecretWrite{Name: d.p.bootSecret, Role: "bootstrap", Scope: d.p.scope, KeyID: d.key.KeyID})
	}
	return ss
}

// notRunning is the problem of a rotation that finds no commit to redeploy.
func notRunning(env string) string {
	return fmt.Sprintf("no deployment of %s records a commit it runs, and rotation restarts the environment by redeploying that commit; release to %s first (or deploy it with release-action) and rotate then", env, env)
}

// PlanResult is what a rotation would do if it started now, decided by the function the
// rotation acts on (decide), writing nothing: no secret, deployment, status or dispatch,
// and no bootstrap code on the gateway (creating one is a write there).
type PlanResult struct {
	Environment     string `json:"environment"`
	Kind            string `json:"credential"`
	BootstrapSecret bool   `json:"bootstrap_secret"`
	RotationReason  string `json:"rotation_reason"`
	// Running is the deployment whose commit and tag the restart would redeploy (empty
	// when none is found: the rotation would stop before changing anything).
	Running Running `json:"running"`
	// Secrets are the secrets a run would write (Written false), with the key id read.
	Secrets []SecretWrite `json:"secrets"`
	// Deploy is the restart: Task on Running.Tag through Workflow (or the deployment event).
	Task     string `json:"task"`
	Workflow string `json:"workflow,omitempty"`
	Event    string `json:"event,omitempty"`
	// Unchecked is what the dry run cannot prove without writing.
	Unchecked []string `json:"unchecked"`
	// Outcome: pass when the rotation would go ahead, fail when it would stop (Reason).
	Outcome outcome.Verdict `json:"outcome"`
	Reason  string          `json:"reason"`
}

// Plan decides what Run would do now without writing. The client should be read-only
// (github.Options.ReadOnly); the gateway is not contacted. Errors are bad requests
// (outcome.ErrBadInput: the same ones Run returns) and API failures.
func Plan(ctx context.Context, gh GitHub, r Request) (*PlanResult, error) {
	d, err := decide(ctx, gh, r)
	if err != nil {
		return nil, err
	}
	env := r.Environment.Name
	pr := &PlanResult{
		Environment: env, Kind: d.p.kind, BootstrapSecret: d.p.bootSecret != "", RotationReason: r.Reason,
		Secrets: d.secrets(), Task: deploy.TaskRotate, Event: r.Trigger.Event,
	}
	if r.Trigger.Event == "" {
		pr.Workflow = cmp.Or(r.Trigger.Workflow, "deploy.yml")
	}
	if !d.found {
		pr.Outcome, pr.Reason = outcome.Fail, "a rotation started now would change nothing: "+notRunning(env)
		return pr, nil
	}
	pr.Running = d.running
	where := "the repository's Actions secrets"
	if d.p.ghEnv != "" {
		where = "the secrets of GitHub environment " + env
	}
	pr.Unchecked = []string{
		fmt.Sprintf("the token read the public key of %s (key %s), but reading is not writing: a token with read-only secrets permission passes here and is refused (403) at the write, before anything changes", where, untrusted.Clean(d.key.KeyID)),
		fmt.Sprintf("the gateway was not contacted: a run first creates a bootstrap code with the current %s (a write on the gateway) and stops, changing nothing, if the gateway refuses it", d.p.kind),
	}
	names := make([]string, 0, len(pr.Secrets))
	for _, s := range pr.Secrets {
		names = append(names, s.Name)
	}
	how := "dispatch " + pr.Workflow
	if pr.Event != "" {
		how = "the " + pr.Event + " event"
	}
	pr.Outcome = outcome.Pass
	noun := "secret"
	if len(names) > 1 {
		noun = "secrets"
	}
	pr.Reason = fmt.Sprintf("a rotation started now would generate a new %s, write %s %s %s (key %s), redeploy %s (%s, deployment %d) with task %s through %s, and prove the old %s and its bootstrap links dead",
		d.p.kind, d.p.scope, noun, strings.Join(names, " and "), untrusted.Clean(d.key.KeyID), untrusted.Clean(d.running.Tag),
		untrusted.ShortSHA(d.running.SHA), d.running.DeploymentID, deploy.TaskRotate, how, d.p.kind)
	return pr, nil
}
