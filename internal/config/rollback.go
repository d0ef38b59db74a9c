package config

import (
	"strings"
	"time"
)

// Rollback is how a rollback treats what is still rolling out (runbook 3.1, "stop rollout").
type Rollback struct {
	// StopRollout: the rollback first stops the release and deploy runs rolling out to the
	// environment (default true). false keeps the refusal of older versions ("stop that
	// deploy first").
	StopRollout *bool
	// StopWorkflows are workflows (name or file) whose queued or running runs are stopped too.
	StopWorkflows []string
	// StopGrace is how long a cancelled run may keep going before a force-cancel (default 60s).
	StopGrace Duration
	// StopTimeout bounds the whole stop; a run still going then fails the rollback (default 5m).
	StopTimeout Duration
}

// Defaults of Rollback.
const (
	DefaultStopGrace   = 60 * time.Second
	DefaultStopTimeout = 5 * time.Minute
)

// ShouldStopRollout reports the effective stop-rollout setting.
func (r Rollback) ShouldStopRollout() bool { return r.StopRollout == nil || *r.StopRollout }

// Grace is StopGrace or its default.
func (r Rollback) Grace() time.Duration {
	if r.StopGrace > 0 {
		return r.StopGrace.D()
	}
	return DefaultStopGrace
}

// Timeout is StopTimeout or its default.
func (r Rollback) Timeout() time.Duration {
	if r.StopTimeout > 0 {
		return r.StopTimeout.D()
	}
	return DefaultStopTimeout
}

// Announce lists where rollbacks (and incidents) are announced.
type Announce struct {
	Webhooks []Webhook
}

// Webhook is one announcement receiver: the environment variable holding its URL (a
// secret: pass it from secrets.*), and its format, "slack" ({"text": ...}, default) or
// "json" (the command's report).
type Webhook struct {
	Env    string
	Format string
}

func (v *validator) rollback(r *Rollback) {
	for i, w := range r.StopWorkflows {
		if strings.TrimSpace(w) == "" {
			v.fail(index(v.path(&r.StopWorkflows), i), "empty: name a workflow (its name: or its file, like release.yml)")
		}
	}
}

func (v *validator) announce(a *Announce) {
	seen := map[string]bool{}
	for i := range a.Webhooks {
		w := &a.Webhooks[i]
		switch p := v.path(&w.Env); {
		case w.Env == "":
			v.fail(p, "required: the environment variable that holds the webhook URL (set it from a secret)")
		case !envVarRE.MatchString(w.Env):
			// The value is not echoed: a URL written here by mistake is a secret.
			v.fail(p, "not an environment variable name (letters, digits and _): put the webhook URL in a secret, pass it to the step's env, and name that variable here")
		case seen[w.Env]:
			v.fail(p, "%s is listed twice", w.Env)
		}
		seen[w.Env] = true
	}
}
