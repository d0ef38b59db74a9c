package environment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/agentme/release-action/internal/announce"
	"github.com/agentme/release-action/internal/outcome"
	"github.com/agentme/release-action/internal/rollback"
)

const announceTitle = "release-action announce"

// webhooks resolves the configuration's announce.webhooks. Their URLs are read through
// Secrets, so each is registered with the redactor before anything else is printed;
// unset variables are warnings.
func (s *Service) webhooks() []announce.Webhook {
	var list []announce.Config
	for _, w := range s.o.Config.Announce.Webhooks {
		list = append(list, announce.Config{Env: w.Env, Format: w.Format})
	}
	hooks, _, warnings := announce.Resolve(list, s.o.Secrets.Get)
	for _, w := range warnings {
		s.o.Warn("announcing: "+w, announceTitle)
	}
	return hooks
}

// rollbackAnnouncement is the body of FormatJSON webhooks: the rollback command's report
// without the API cost.
type rollbackAnnouncement struct {
	Command    string           `json:"command"`
	Repository string           `json:"repository"`
	Result     outcome.Verdict  `json:"result"`
	Rollback   *rollback.Result `json:"rollback"`
}

// announceRollback posts the rollback's status and incident summary (runbook 3.5). A
// webhook that fails is a warning, never a failed rollback.
func (s *Service) announceRollback(ctx context.Context, hooks []announce.Webhook, res *rollback.Result) {
	if len(hooks) == 0 || res == nil {
		return
	}
	repo := s.o.Repo.String()
	// Nothing secret leaves the process through a webhook either: both bodies pass the
	// one redactor (a receiver's log is no safer than ours).
	body, err := json.Marshal(rollbackAnnouncement{Command: "rollback", Repository: repo, Result: res.Verdict, Rollback: res})
	if err != nil {
		s.o.Warn(fmt.Sprintf("announcing the rollback: encoding the report failed: %v", err), announceTitle)
		return
	}
	report := json.RawMessage(s.o.Redactor.Redact(string(body)))
	msg := announce.Message{Text: s.o.Redactor.Redact(rollbackText(repo, res)), Report: report}
	if !json.Valid(report) {
		msg.Report = map[string]string{"command": "rollback", "result": string(res.Verdict),
			"note": "the report held a secret in a form that could not be redacted inside JSON"}
	}
	c := *s.o.HTTPClient
	c.Timeout = announce.DefaultTimeout
	for _, d := range announce.Send(ctx, &c, hooks, msg) {
		if d.OK {
			s.o.Progress(fmt.Sprintf("announced the rollback to webhook %s", d.Webhook))
			continue
		}
		s.o.Warn(fmt.Sprintf("announcing the rollback to webhook %s failed: %s; the rollback itself is not affected, announce it by hand", d.Webhook, d.Error), announceTitle)
	}
}

// rollbackText is the Slack-compatible announcement: status, why, what was stopped, the
// impact window, the incident issue and the run.
func rollbackText(repo string, r *rollback.Result) string {
	var b strings.Builder
	icon := ":white_check_mark:"
	if !r.Passed() {
		icon = ":x:"
	}
	fmt.Fprintf(&b, "%s *Rollback of %s (%s): %s*\n%s\n", icon, slack(r.Environment), slack(repo), slack(string(r.Verdict)), slack(r.Reason))
	if !r.Passed() && r.LeftState != "" {
		fmt.Fprintf(&b, "Left state: %s\n", slack(r.LeftState))
	}
	fmt.Fprintf(&b, "Why: %s\n", slack(r.RollbackReason))
	if st := r.Stop; st != nil && len(st.Runs) > 0 {
		var runs []string
		for _, run := range st.Runs {
			runs = append(runs, fmt.Sprintf("run %d (%s, %s)", run.ID, slack(run.Why), slack(run.Took.String())))
		}
		fmt.Fprintf(&b, "Stopped first: %s\n", strings.Join(runs, "; "))
	}
	if f := r.Followed; f != nil {
		fmt.Fprintf(&b, "Followed the rollback already under way in %s\n", slack(f.RunURL))
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

// ErrNoWebhooks: the configuration names no announce webhook (or none is set).
var ErrNoWebhooks = errors.New("no announce webhook is configured (announce.webhooks)")

// Announce posts text (Slack-compatible webhooks) and report (JSON webhooks) through the
// configuration's announce.webhooks, both redacted first. It is for the incident record
// and anything else that must tell the channel the rollback tells. It returns nil when at
// least one webhook took it; a failed webhook is also a warning, never a failed command.
func (s *Service) Announce(ctx context.Context, what, text string, report any) error {
	hooks := s.webhooks()
	if len(hooks) == 0 {
		return ErrNoWebhooks
	}
	body, err := json.Marshal(report)
	if err != nil {
		return fmt.Errorf("announce %s: encode the report: %w", what, err)
	}
	msg := announce.Message{Text: s.o.Redactor.Redact(text), Report: json.RawMessage(s.o.Redactor.Redact(string(body)))}
	if !json.Valid(msg.Report.(json.RawMessage)) {
		msg.Report = map[string]string{"event": what, "note": "the report held a secret in a form that could not be redacted inside JSON"}
	}
	c := *s.o.HTTPClient
	c.Timeout = announce.DefaultTimeout
	var failed []string
	delivered := 0
	for _, d := range announce.Send(ctx, &c, hooks, msg) {
		if d.OK {
			delivered++
			s.o.Progress(fmt.Sprintf("announced %s to webhook %s", what, d.Webhook))
			continue
		}
		failed = append(failed, fmt.Sprintf("webhook %s: %s", d.Webhook, d.Error))
		s.o.Warn(fmt.Sprintf("announcing %s to webhook %s failed: %s; announce it by hand", what, d.Webhook, d.Error), announceTitle)
	}
	if delivered == 0 {
		return fmt.Errorf("announce %s: every webhook failed: %s", what, strings.Join(failed, "; "))
	}
	return nil
}
