// Package summary renders release-action's decisions as Markdown for people: the step
// summary, the release-gate check run and the GitHub release body. Every piece of text
// that came from GitHub or a gateway goes through internal/markdown, so a check name
// holding "|", "::", HTML or newlines can neither break a table nor inject anything.
package summary

import (
	"fmt"
	"strings"
	"time"

	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/github"
	"github.com/agentme/release-action/internal/markdown"
)

// Icons for verdicts. Text follows every icon so the meaning survives without emoji.
func icon[T ~string](verdict T) string {
	switch string(verdict) {
	case "pass", "success", "passed", "ok":
		return "✅"
	case "fail", "failure", "failed", "error":
		return "❌"
	case "scheduled":
		return "🗓️"
	case "skipped", "not configured", "not run":
		return "⏭️"
	default:
		return "⏳"
	}
}

// Dur prints a duration rounded for people: 850ms, 12s, 3m4s, 1h2m0s.
func Dur(d time.Duration) string {
	switch {
	case d <= 0:
		return "0s"
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	default:
		return d.Round(time.Second).String()
	}
}

// Cost renders the API cost line: what the decision spent of GitHub's budgets.
func Cost(c github.Cost) string {
	s := fmt.Sprintf("API cost: %d REST requests (%d answered 304 Not Modified, free against the rate limit; %d billed), %d GraphQL points in %d queries",
		c.REST, c.NotModified, c.Billed(), c.GraphQLPoints, c.GraphQLQueries)
	if c.Retries > 0 {
		s += fmt.Sprintf(", %d retries", c.Retries)
	}
	return s + "."
}

// Owners renders the runbook's ownership section, or "" when no owner is configured.
func Owners(o config.Owners) string {
	var parts []string
	add := func(role, who string) {
		if who != "" {
			parts = append(parts, role+": "+markdown.Escape(who))
		}
	}
	add("release owner (go/no-go, rollback)", o.Release)
	add("security reviewer", o.Security)
	add("on-call", o.OnCall)
	if len(parts) == 0 {
		return ""
	}
	return "Owners: " + strings.Join(parts, " · ") + "\n"
}

// CommitLink links a commit by its short SHA.
func CommitLink(serverURL string, repo github.Repo, sha string) string {
	short := sha
	if len(short) > 7 {
		short = short[:7]
	}
	if serverURL == "" || repo.Owner == "" {
		return markdown.Code(short)
	}
	return markdown.Link(short, fmt.Sprintf("%s/%s/commit/%s", serverURL, repo, sha))
}
