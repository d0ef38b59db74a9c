package summary

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/github"
	"github.com/agentme/release-action/internal/markdown"
	"github.com/agentme/release-action/internal/outcome"
	"github.com/agentme/release-action/internal/release"
	"github.com/agentme/release-action/internal/untrusted"
)

// ReleaseInfo is what the release summary shows besides the result.
type ReleaseInfo struct {
	Repo github.Repo
	// ServerURL is the GitHub web root (GITHUB_SERVER_URL), for commit and tag links.
	ServerURL string
	Owners    config.Owners
	// Cost is the rendered API cost line (Cost), "" to leave it out.
	Cost string
}

// Release renders a release: the verdict and why, the candidate commit, version and tags,
// a table of every step (result, duration, detail and link), each environment (deployment,
// run, window decision and any forced override, smoke probes, monitor verdict), the gate,
// the owners and the API cost. It is the step summary and the GitHub release body.
func Release(r *release.Result, info ReleaseInfo) string {
	var b strings.Builder
	commit := CommitLink(info.ServerURL, info.Repo, r.SHA)
	fmt.Fprintf(&b, "## %s\n\n", releaseTitle(r))

	var facts []string
	facts = append(facts, "Candidate "+commit)
	if r.Version != "" {
		facts = append(facts, "version "+markdown.Code(r.Version))
	}
	if r.Tag != "" {
		facts = append(facts, "candidate tag "+tagLink(info, r.Tag, r.PrereleaseURL))
	}
	if r.ReleaseTag != "" {
		facts = append(facts, "release tag "+tagLink(info, r.ReleaseTag, r.ReleaseURL))
	}
	if !r.AlreadyComplete {
		facts = append(facts, Dur(r.Duration.D()))
	}
	if r.RunURL != "" {
		if l := markdown.Link("release run", r.RunURL); l != "release run" {
			facts = append(facts, l)
		}
	}
	b.WriteString(strings.Join(facts, " · "))
	b.WriteString("\n\n")

	if r.Reason != "" {
		fmt.Fprintf(&b, "%s\n\n", markdown.Escape(r.Reason))
	}
	if r.Verdict == outcome.Scheduled && !r.NextWindow.IsZero() {
		fmt.Fprintf(&b, "**Next window:** %s (%s)\n\n", markdown.Escape(r.NextWindow.Format(time.RFC3339)),
			markdown.Escape(r.NextWindow.UTC().Format("Mon 2006-01-02 15:04 UTC")))
	}
	switch {
	case r.AlreadyComplete:
		b.WriteString("> ♻️ The release was already complete: this run wrote nothing, and this summary was rebuilt from GitHub's records.\n\n")
	case r.Resumed:
		b.WriteString("> ♻️ Resumed: steps marked *reused* were done by an earlier run of this release.\n\n")
	}

	b.WriteString("### Steps\n\n")
	t := markdown.NewTable("Step", "Result", "Duration", "Detail")
	for _, s := range r.Steps {
		t.Row(markdown.Cell(s.Name), stepIcon(s.Result)+" "+markdown.Cell(s.Result), stepDur(s), detailCell(s.Detail, s.Link))
	}
	b.WriteString(t.String())
	b.WriteString("\n")

	for _, e := range r.Environments {
		if env := environment(e); env != "" {
			b.WriteString(env)
		}
	}

	if r.Gate != nil {
		b.WriteString(Gate(r.Gate, GateInfo{Commit: commit, Level: "###"}))
	}
	if o := Owners(info.Owners); o != "" {
		b.WriteString(o)
		b.WriteString("\n")
	}
	if info.Cost != "" {
		b.WriteString(info.Cost)
		b.WriteString("\n")
	}
	return b.String()
}

func releaseTitle(r *release.Result) string {
	name := "Release"
	if r.ReleaseTag != "" {
		name = "Release " + markdown.Escape(r.ReleaseTag)
	} else if r.SHA != "" {
		name = "Release of " + markdown.Escape(untrusted.ShortSHA(r.SHA))
	}
	switch {
	case r.AlreadyComplete:
		return "✅ " + name + " already complete"
	case r.Verdict == outcome.Pass:
		return "✅ " + name + " passed"
	case r.Verdict == outcome.Scheduled:
		return "🗓️ " + name + " scheduled for the next window"
	case r.Verdict == outcome.Error:
		return "⚠️ " + name + " stopped by an error"
	default:
		return "❌ " + name + " failed"
	}
}

// environment renders one environment's section, or "" when nothing happened there.
func environment(e release.EnvResult) string {
	if e.Deploy == nil && e.Window == nil && e.Smoke == nil && e.Monitor == nil {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "### %s\n\n", markdown.Escape(e.Name))

	var facts []string
	if d := e.Deploy; d != nil {
		if d.DeploymentID != 0 {
			s := fmt.Sprintf("Deployment %d", d.DeploymentID)
			if d.Reused {
				s += " (reused)"
			}
			facts = append(facts, s)
		}
		if d.RunID != 0 {
			facts = append(facts, markdown.Link(fmt.Sprintf("deploy run %d", d.RunID), d.RunURL))
		}
		if d.State != "" && d.State != "success" {
			facts = append(facts, icon(d.State)+" "+markdown.Escape(d.State))
		}
	}
	if u := envURL(e); u != "" {
		facts = append(facts, markdown.Link(urlLabel(u), u))
	}
	if len(facts) > 0 {
		b.WriteString(strings.Join(facts, " · "))
		b.WriteString("\n\n")
	}
	if d := e.Deploy; d != nil && d.WaitedApproval.D() > 0 {
		s := "Waited " + Dur(d.WaitedApproval.D()) + " for approval"
		if len(d.Approvers) > 0 {
			s += " by " + markdown.Escape(strings.Join(d.Approvers, ", "))
		}
		fmt.Fprintf(&b, "%s\n\n", s)
	}
	if d := e.Deploy; d != nil && d.State != "" && d.State != "success" && d.Reason != "" {
		fmt.Fprintf(&b, "%s\n\n", markdown.Escape(d.Reason))
	}

	if w := e.Window; w != nil {
		switch {
		case e.Forced:
			fmt.Fprintf(&b, "**Window:** ⚠️ closed, **overridden by force-window**: %s. Reason given: %s\n\n",
				markdown.Escape(w.Reason), markdown.Escape(e.ForcedReason))
		case w.Open:
			s := "**Window:** ✅ open: " + markdown.Escape(w.Reason)
			if e.WindowWaited.D() > 0 {
				s += " (waited " + Dur(e.WindowWaited.D()) + ")"
			}
			fmt.Fprintf(&b, "%s\n\n", s)
		default:
			fmt.Fprintf(&b, "**Window:** 🗓️ closed: %s\n\n", markdown.Escape(w.Reason))
		}
	}

	if s := e.Smoke; s != nil {
		verdict := "✅ passed"
		if !s.Passed() {
			verdict = "❌ failed"
		}
		passed := 0
		for _, p := range s.Probes {
			if p.OK {
				passed++
			}
		}
		fmt.Fprintf(&b, "**Smoke:** %s, %d of %d probes passed", verdict, passed, len(s.Probes))
		if !s.Ready {
			fmt.Fprintf(&b, " · **the gateway did not come up** within %s", Dur(s.ReadyAfter))
		}
		if s.Server.Version != "" {
			fmt.Fprintf(&b, " · gateway version %s", markdown.Code(s.Server.Version))
		}
		if s.Server.Restarted {
			b.WriteString(" · ⚠️ restarted during the probes")
		}
		b.WriteString("\n\n")
		b.WriteString(SmokeTable(s))
		b.WriteString("\n")
	}

	if m := e.Monitor; m != nil {
		fmt.Fprintf(&b, "**Monitor:** %s %s", icon(m.Verdict()), markdown.Escape(string(m.Verdict())))
		if m.Reason() != "" {
			b.WriteString(": " + markdown.Escape(m.Reason()))
		}
		switch {
		case m.RolledBack() && m.RollbackTo() != "":
			b.WriteString(" · **rolled back** to " + markdown.Code(m.RollbackTo()))
		case m.RolledBack():
			b.WriteString(" · **rolled back**")
		case m.RollbackFailed():
			b.WriteString(" · ⚠️ **auto-rollback FAILED**: " + markdown.Escape(strings.TrimPrefix(m.RollbackText(e.Name), "auto-rollback FAILED: ")))
		}
		b.WriteString("\n\n")
		if strings.TrimSpace(m.Summary) != "" {
			// The monitor renders its own summary with these helpers: it is Markdown already.
			b.WriteString(markdown.Details("Monitor details", m.Summary))
			b.WriteString("\n\n")
		}
	}
	return b.String()
}

func envURL(e release.EnvResult) string {
	if e.Deploy != nil && e.Deploy.EnvironmentURL != "" {
		return e.Deploy.EnvironmentURL
	}
	return e.URL
}

// stepIcon adds the icon for "reused" to the verdict icons.
func stepIcon(result string) string {
	switch result {
	case release.StepReused:
		return "♻️"
	case release.StepError:
		return "⚠️"
	}
	return icon(result)
}

// stepDur shows the time a step ran; steps that did not run show none.
func stepDur(s release.Step) string {
	switch s.Result {
	case release.StepNotRun, release.StepReused, release.StepNotConfigured:
		if s.Duration.D() == 0 {
			return markdown.EmptyCell
		}
	}
	return Dur(s.Duration.D())
}

func detailCell(detail, link string) string {
	cell := markdown.Cell(detail)
	if l := linkCell(link); l != markdown.EmptyCell {
		if cell == markdown.EmptyCell {
			return l
		}
		return cell + " · " + l
	}
	return cell
}

// tagLink links a tag to its GitHub release when there is one, else to its tree.
func tagLink(info ReleaseInfo, tag, releaseURL string) string {
	code := markdown.Code(tag)
	target := releaseURL
	if target == "" && info.ServerURL != "" && info.Repo.Owner != "" {
		parts := strings.Split(tag, "/")
		for i, p := range parts {
			parts[i] = url.PathEscape(p)
		}
		target = fmt.Sprintf("%s/%s/tree/%s", strings.TrimRight(info.ServerURL, "/"), info.Repo, strings.Join(parts, "/"))
	}
	if target == "" {
		return code
	}
	if l := markdown.Link(tag, target); l != markdown.Escape(tag) {
		return l
	}
	return code
}

// urlLabel shows a URL without its scheme: "gateway.agentme.example".
func urlLabel(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return raw
	}
	return u.Host + strings.TrimSuffix(u.EscapedPath(), "/")
}
