package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/agentme/release-action/internal/actions"
	"github.com/agentme/release-action/internal/announce"
	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/rollback"
)

// webhooks resolves the configured announcement webhooks and registers every URL with the
// redactor before anything else is printed; unset variables are warnings.
func (a *app) webhooks(cfg *config.Config) []announce.Webhook {
	var list []announce.Config
	for _, w := range cfg.Announce.Webhooks {
		list = append(list, announce.Config{Env: w.Env, Format: w.Format})
	}
	hooks, secrets, warnings := announce.Resolve(list, a.secretEnv)
	for _, s := range secrets {
		a.runner.Protect(s)
	}
	for _, w := range warnings {
		a.runner.Warning("announcing: "+w, actions.Annotation{Title: "release-action announce"})
	}
	return hooks
}

// announceRollback posts the rollback's status and incident summary (runbook 3.5). A
// webhook that fails is a warning.
func (a *app) announceRollback(ctx context.Context, hooks []announce.Webhook, repo string, res *rollback.Result) {
	if len(hooks) == 0 || res == nil {
		return
	}
	report := RollbackReport{Command: "rollback", Version: Version(), Repository: repo, Result: res.Verdict, Rollback: res}
	var client *http.Client
	if a.env.HTTPClient != nil {
		c := *a.env.HTTPClient
		c.Timeout = announce.DefaultTimeout
		client = &c
	}
	// Nothing secret leaves the process through a webhook either: both bodies pass the
	// one redactor (a receiver's log is no safer than ours).
	red := a.runner.Redactor()
	body, err := json.Marshal(report)
	if err != nil {
		a.runner.Warning(fmt.Sprintf("announcing the rollback: encoding the report failed: %v", err), actions.Annotation{Title: "release-action announce"})
		return
	}
	msg := announce.Message{Text: red.Redact(rollbackText(repo, res)), Report: json.RawMessage(red.Redact(string(body)))}
	if !json.Valid(msg.Report.(json.RawMessage)) {
		msg.Report = map[string]string{"command": "rollback", "result": res.Verdict, "note": "the report held a secret in a form that could not be redacted inside JSON"}
	}
	for _, d := range announce.Send(ctx, client, hooks, msg) {
		if d.OK {
			a.progress(fmt.Sprintf("announced the rollback to webhook %s", d.Webhook))
			continue
		}
		a.runner.Warning(fmt.Sprintf("announcing the rollback to webhook %s failed: %s; the rollback itself is not affected, announce it by hand", d.Webhook, d.Error),
			actions.Annotation{Title: "release-action announce"})
	}
}

// rollbackText is the Slack-compatible announcement: status, why, what was stopped, the
// incident issue and the run.
func rollbackText(repo string, r *rollback.Result) string {
	var b strings.Builder
	icon := ":white_check_mark:"
	if !r.Passed() {
		icon = ":x:"
	}
	fmt.Fprintf(&b, "%s *Rollback of %s (%s): %s*\n%s\n", icon, slack(r.Environment), slack(repo), slack(r.Verdict), slack(r.Reason))
	if !r.Passed() && r.LeftState != "" {
		fmt.Fprintf(&b, "Left state: %s\n", slack(r.LeftState))
	}
	fmt.Fprintf(&b, "Why: %s\n", slack(r.RollbackReason))
	if s := r.Stop; s != nil && len(s.Runs) > 0 {
		var runs []string
		for _, run := range s.Runs {
			runs = append(runs, fmt.Sprintf("run %d (%s, %s)", run.ID, slack(run.Why), slack(string(run.Took.String()))))
		}
		fmt.Fprintf(&b, "Stopped first: %s\n", strings.Join(runs, "; "))
	}
	if w := r.ImpactWindow; w != nil {
		state := "closed"
		if w.Open {
			state = "still open"
		}
		fmt.Fprintf(&b, "Impact window: %s (%s)\n", slack(w.Duration.String()), state)
	}
	if r.IssueURL != "" {
		fmt.Fprintf(&b, "Incident: %s\n", slack(r.IssueURL))
	}
	if r.RunURL != "" {
		fmt.Fprintf(&b, "Run: %s\n", slack(r.RunURL))
	}
	return strings.TrimRight(b.String(), "\n")
}

// slack escapes text for Slack's mrkdwn (&, < and > are its control characters).
func slack(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
