package summary

import (
	"fmt"
	"strings"
	"time"

	"github.com/agentme/release-action/internal/github"
	"github.com/agentme/release-action/internal/markdown"
	"github.com/agentme/release-action/internal/rollback"
)

// RollbackInfo is what the rollback summary shows besides the result.
type RollbackInfo struct {
	// Level is the heading prefix, "##" by default.
	Level string
	Repo  github.Repo
	// ServerURL is the GitHub web root (GITHUB_SERVER_URL), for commit links.
	ServerURL string
}

// Rollback renders a rollback: the verdict and why, what the environment is left running
// when it failed, the bad and the target deployment, the impact window, the smoke probes
// after the rollback, the incident issue, and the incident note (runbook section 5).
func Rollback(r *rollback.Result, info RollbackInfo) string {
	level := info.Level
	if level == "" {
		level = "##"
	}
	env := markdown.Escape(r.Environment)
	var b strings.Builder
	if r.Passed() {
		fmt.Fprintf(&b, "%s ✅ Rolled back %s to %s\n\n", level, env, markdown.Code(r.To.Tag))
	} else {
		fmt.Fprintf(&b, "%s ❌ Rollback of %s failed\n\n", level, env)
	}
	if r.Reason != "" {
		fmt.Fprintf(&b, "%s\n\n", markdown.Escape(r.Reason))
	}
	if !r.Passed() && r.LeftState != "" {
		fmt.Fprintf(&b, "> ⚠️ **Left state:** %s\n\n", markdown.Escape(r.LeftState))
	}

	var facts []string
	facts = append(facts, "**Why:** "+markdown.Escape(r.RollbackReason))
	switch r.Source {
	case rollback.SourceLastKnownGood:
		s := "**Target:** the last known good deployment"
		if r.To.LastGoodDeploymentID != 0 {
			s += fmt.Sprintf(" (%d", r.To.LastGoodDeploymentID)
			if r.To.LastGoodAt != nil {
				s += ", success at " + markdown.Escape(r.To.LastGoodAt.UTC().Format("2006-01-02 15:04 UTC"))
			}
			s += ")"
		}
		facts = append(facts, s)
	case rollback.SourceExplicit:
		facts = append(facts, "**Target:** as asked")
	}
	facts = append(facts, Dur(r.Duration.D()))
	if r.RunURL != "" {
		if l := markdown.Link("rollback run", r.RunURL); l != "rollback run" {
			facts = append(facts, l)
		}
	}
	b.WriteString(strings.Join(facts, " · "))
	b.WriteString("\n\n")
	b.WriteString(rollbackStop(r))

	t := markdown.NewTable("", "Commit", "Tag", "Deployment", "State")
	if r.From.SHA != "" {
		state := "not marked"
		if r.BadMarked {
			state = "✅ marked rolled back: release refuses it without force"
		}
		t.Row("From (bad)", CommitLink(info.ServerURL, info.Repo, r.From.SHA), rollbackCell(r.From.Tag), rollbackID(r.From.DeploymentID), state)
	}
	if r.To.SHA != "" {
		dep, state := rollbackID(r.To.DeploymentID), "not deployed"
		if d := r.Deploy; d != nil {
			if d.RunURL != "" {
				dep += " · " + markdown.Link(fmt.Sprintf("run %d", d.RunID), d.RunURL)
			}
			state = icon(d.State) + " deploy " + markdown.Escape(d.State)
			if r.Validated {
				state += ", validated"
			} else if r.Smoke != nil && !r.Smoke.Passed() {
				state += ", smoke failed"
			}
		}
		if f := r.Followed; f != nil && r.Deploy == nil {
			state = "deployed by the rollback followed: " + markdown.Escape(string(f.Stage))
		}
		t.Row("To", CommitLink(info.ServerURL, info.Repo, r.To.SHA), rollbackCell(r.To.Tag), dep, state)
	}
	if t.Len() > 0 {
		b.WriteString(t.String())
		b.WriteString("\n")
	}

	if w := r.ImpactWindow; w != nil {
		if w.Open {
			fmt.Fprintf(&b, "**Impact window:** from %s (%s), **still open** (%s so far)\n\n",
				markdown.Escape(w.Start.UTC().Format("2006-01-02 15:04:05 UTC")), markdown.Escape(w.StartFrom), Dur(w.Duration.D()))
		} else if w.End != nil {
			fmt.Fprintf(&b, "**Impact window:** %s to %s (%s), from the %s to the rollback's validation\n\n",
				markdown.Escape(w.Start.UTC().Format("2006-01-02 15:04:05 UTC")), markdown.Escape(w.End.UTC().Format("15:04:05 UTC")),
				Dur(w.Duration.D().Round(time.Second)), markdown.Escape(w.StartFrom))
		}
	}
	if r.Smoke != nil {
		verdict := "✅ passed"
		if !r.Smoke.Passed() {
			verdict = "❌ failed"
		}
		fmt.Fprintf(&b, "%s# Smoke after the rollback: %s\n\n", level, verdict)
		b.WriteString(SmokeTable(r.Smoke))
		b.WriteString("\n")
	}
	if r.IssueURL != "" {
		fmt.Fprintf(&b, "**Incident issue:** %s\n\n", markdown.Link(fmt.Sprintf("#%d", r.IssueNumber), r.IssueURL))
	}
	for _, w := range r.Warnings {
		fmt.Fprintf(&b, "> ⚠️ %s\n\n", markdown.Escape(w))
	}
	if r.Incident != "" {
		// Built by the rollback package with internal/markdown: already escaped.
		b.WriteString(r.Incident)
		if !strings.HasSuffix(r.Incident, "\n") {
			b.WriteString("\n")
		}
	}
	return b.String()
}

func rollbackCell(s string) string {
	if s == "" {
		return markdown.EmptyCell
	}
	return markdown.Code(s)
}

func rollbackID(id int64) string {
	if id == 0 {
		return markdown.EmptyCell
	}
	return fmt.Sprint(id)
}
