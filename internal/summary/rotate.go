package summary

import (
	"fmt"
	"strings"

	"github.com/agentme/release-action/internal/github"
	"github.com/agentme/release-action/internal/markdown"
	"github.com/agentme/release-action/internal/rotate"
)

// RotateInfo is what the rotation summary shows besides the report.
type RotateInfo struct {
	Level     string // heading prefix, "##" by default
	Repo      github.Repo
	ServerURL string
	RunURL    string
}

// Rotate renders a credential rotation: verdict, what changed (secret names, scope,
// key_id, when), the restart, and the proof (the verification probes). It holds no
// value: the report has none.
func Rotate(r *rotate.Report, info RotateInfo) string {
	level := info.Level
	if level == "" {
		level = "##"
	}
	env := markdown.Escape(r.Environment)
	var b strings.Builder
	switch {
	case r.Passed():
		fmt.Fprintf(&b, "%s ✅ Rotated the %s of %s: proven\n\n", level, markdown.Escape(r.Kind), env)
	case r.Changed:
		fmt.Fprintf(&b, "%s ❌ Rotation of the %s of %s failed after a secret was written\n\n", level, markdown.Escape(r.Kind), env)
	default:
		fmt.Fprintf(&b, "%s ❌ Rotation of the %s of %s failed: nothing was changed\n\n", level, markdown.Escape(r.Kind), env)
	}
	if r.Problem != "" {
		fmt.Fprintf(&b, "> ⚠️ %s\n\n", markdown.Escape(r.Problem))
	}
	facts := []string{"**Why:** " + markdown.Escape(r.Reason), "**Stage reached:** " + markdown.Escape(r.Stage)}
	if r.Running.SHA != "" {
		facts = append(facts, "**Running:** "+markdown.Code(r.Running.Tag)+" "+CommitLink(info.ServerURL, info.Repo, r.Running.SHA))
	}
	if !r.Finished.IsZero() {
		facts = append(facts, Dur(r.Finished.Sub(r.Started)))
	}
	if info.RunURL != "" {
		if l := markdown.Link("rotation run", info.RunURL); l != "rotation run" {
			facts = append(facts, l)
		}
	}
	b.WriteString(strings.Join(facts, " · "))
	b.WriteString("\n\n")

	t := markdown.NewTable("Secret", "Holds", "Scope", "Key id", "Written")
	for _, s := range r.Secrets {
		w := "not written"
		if s.Written {
			w = "✅ " + markdown.Escape(s.At.UTC().Format("15:04:05 UTC"))
			if s.Created {
				w += " (created)"
			}
		}
		t.Row(markdown.Code(s.Name), markdown.Escape(s.Role), markdown.Escape(s.Scope), rollbackCell(s.KeyID), w)
	}
	b.WriteString(t.String())
	b.WriteString("\n")
	if !r.BootstrapCodeAt.IsZero() {
		fmt.Fprintf(&b, "A bootstrap code was made with the old %s at %s and kept unexchanged, to prove the old links dead.\n\n",
			markdown.Escape(r.Kind), markdown.Escape(r.BootstrapCodeAt.UTC().Format("15:04:05 UTC")))
	}
	if d := r.Deploy; d != nil {
		s := fmt.Sprintf("**Restart:** deployment %d (`deploy:rotate`) %s %s", d.DeploymentID, icon(d.State), markdown.Escape(d.State))
		if d.RunURL != "" {
			s += " · " + markdown.Link(fmt.Sprintf("run %d", d.RunID), d.RunURL)
		}
		if d.Reason != "" && d.State != "success" {
			s += ": " + markdown.Escape(d.Reason)
		}
		b.WriteString(s + "\n\n")
	}
	if v := r.Verification; v != nil {
		verdict := "✅ proven"
		if !v.Passed() {
			verdict = "❌ not proven"
		}
		fmt.Fprintf(&b, "%s# Verification against the restarted gateway: %s\n\n", level, verdict)
		b.WriteString(SmokeTable(v))
		b.WriteString("\n")
	}
	return b.String()
}
