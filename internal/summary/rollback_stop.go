package summary

import (
	"fmt"
	"strings"

	"github.com/agentme/release-action/internal/markdown"
	"github.com/agentme/release-action/internal/rollback"
	"github.com/agentme/release-action/internal/untrusted"
)

// rollbackStop renders what the rollback stopped before it deployed (runbook 3.1), or the
// rollback it followed; "" when neither happened.
func rollbackStop(r *rollback.Result) string {
	var b strings.Builder
	if f := r.Followed; f != nil {
		run := "another run"
		if l := markdown.Link("another run", f.RunURL); l != "another run" {
			run = l
		}
		fmt.Fprintf(&b, "**Followed** the rollback already under way in %s (deployment %d to %s, %s) instead of starting a second.\n\n",
			run, f.DeploymentID, markdown.Code(f.Tag), markdown.Escape(string(f.Stage)))
	}
	s := r.Stop
	if s == nil || (len(s.Runs) == 0 && len(s.Records) == 0) {
		return b.String()
	}
	fmt.Fprintf(&b, "**Stopped first** (runbook 3.1: stop the rollout) in %s:\n\n", markdown.Escape(s.Duration.String()))
	if len(s.Runs) > 0 {
		t := markdown.NewTable("Run", "Found as", "Stopped", "Took")
		for _, run := range s.Runs {
			name := fmt.Sprintf("run %d", run.ID)
			if run.Workflow != "" {
				name = fmt.Sprintf("%s run %d", run.Workflow, run.ID)
			}
			state := "❌ still running"
			switch {
			case run.AlreadyCompleted:
				state = "✅ had already completed"
			case run.Stopped && run.Forced:
				state = "✅ " + markdown.Escape(run.Conclusion) + " (force-cancelled)"
			case run.Stopped:
				state = "✅ " + markdown.Escape(run.Conclusion)
			}
			took := "—"
			if run.Stopped && !run.AlreadyCompleted {
				took = markdown.Escape(run.Took.String())
			}
			t.Row(markdown.Link(name, run.URL), markdown.Escape(run.Why), state, took)
		}
		b.WriteString(t.String())
		b.WriteString("\n")
	}
	for _, rec := range s.Records {
		mark := "marked `error` \"stopped by rollback\""
		if !rec.Marked {
			mark = "⚠️ could not be marked"
		}
		fmt.Fprintf(&b, "- Deployment %d (%s), which was %s: %s\n", rec.ID, markdown.Code(untrusted.ShortSHA(rec.SHA)), markdown.Escape(rec.Was), mark)
	}
	if len(s.Records) > 0 {
		b.WriteString("\n")
	}
	return b.String()
}
