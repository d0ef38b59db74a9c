package config

import (
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"
)

// Rollback is how a rollback treats what is still rolling out (runbook 3.1, "stop rollout").
type Rollback struct {
	// StopRollout: the rollback first stops the release and deploy runs rolling out to the
	// environment (default true). false keeps the refusal of older versions ("stop that
	// deploy first").
	StopRollout *bool `yaml:"stop-rollout,omitempty" json:"stop-rollout,omitempty"`
	// StopWorkflows are workflows (name or file) whose queued or running runs are stopped too.
	StopWorkflows []string `yaml:"stop-workflows,omitempty" json:"stop-workflows,omitempty"`
	// StopGrace is how long a cancelled run may keep going before a force-cancel (default 60s).
	StopGrace Duration `yaml:"stop-grace,omitempty" json:"stop-grace,omitempty"`
	// StopTimeout bounds the whole stop; a run still going then fails the rollback (default 5m).
	StopTimeout Duration `yaml:"stop-timeout,omitempty" json:"stop-timeout,omitempty"`
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
	Webhooks []Webhook `yaml:"webhooks,omitempty" json:"webhooks,omitempty"`
}

// Webhook is one announcement receiver: the environment variable holding its URL (a
// secret: pass it from secrets.*), and its format, "slack" ({"text": ...}, default) or
// "json" (the command's report).
type Webhook struct {
	Env    string `yaml:"env" json:"env"`
	Format string `yaml:"format,omitempty" json:"format,omitempty"`
}

var (
	rollbackKeys = []string{"stop-rollout", "stop-workflows", "stop-grace", "stop-timeout"}
	announceKeys = []string{"webhooks"}
	webhookKeys  = []string{"env", "format"}
)

func (d *decoder) rollback(path string, n ast.Node, r *Rollback) {
	d.object(path, n, rollbackKeys, func(key, p string, v ast.Node) {
		switch key {
		case "stop-rollout":
			b := d.boolean(p, v)
			r.StopRollout = &b
		case "stop-workflows":
			d.strs(p, v, "workflow names or files", &r.StopWorkflows)
		case "stop-grace":
			d.duration(p, v, "60s", &r.StopGrace)
		case "stop-timeout":
			d.duration(p, v, "5m", &r.StopTimeout)
		}
	})
}

func (d *decoder) announce(path string, n ast.Node, a *Announce) {
	d.object(path, n, announceKeys, func(key, p string, v ast.Node) {
		if key == "webhooks" {
			a.Webhooks = nilIfEmpty(list(d, p, v, "webhooks (mappings with env and format)", func(p string, v ast.Node) Webhook {
				var w Webhook
				d.object(p, v, webhookKeys, func(key, p string, v ast.Node) {
					switch key {
					case "env":
						d.str(p, v, &w.Env)
					case "format":
						d.str(p, v, &w.Format)
					}
				})
				return w
			}))
		}
	})
}

func (v *validator) rollback(r *Rollback) {
	for i, w := range r.StopWorkflows {
		if strings.TrimSpace(w) == "" {
			v.fail(index("rollback.stop-workflows", i), "empty: name a workflow (its name: or its file, like release.yml)")
		}
	}
	if r.StopGrace < 0 || r.StopGrace.D() > time.Hour {
		v.fail("rollback.stop-grace", "must be between 0s and 1h (default 60s)")
	}
	if r.StopTimeout < 0 || r.StopTimeout.D() > time.Hour {
		v.fail("rollback.stop-timeout", "must be between 0s and 1h (default 5m): a rollback must not wait longer for a run to stop")
	}
}

func (v *validator) announce(a *Announce) {
	seen := map[string]bool{}
	for i, w := range a.Webhooks {
		p := index("announce.webhooks", i)
		switch {
		case w.Env == "":
			v.fail(p+".env", "required: the environment variable that holds the webhook URL (set it from a secret)")
		case !envVarRE.MatchString(w.Env):
			// The value is not echoed: a URL written here by mistake is a secret.
			v.fail(p+".env", "not an environment variable name (letters, digits and _): put the webhook URL in a secret, pass it to the step's env, and name that variable here")
		case seen[w.Env]:
			v.fail(p+".env", "%s is listed twice", w.Env)
		}
		seen[w.Env] = true
		switch strings.ToLower(w.Format) {
		case "", "slack", "json":
		default:
			v.fail(p+".format", "%s is not a format: use slack ({\"text\": ...}) or json (the report)", quote(w.Format))
		}
	}
}
