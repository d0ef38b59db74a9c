package rollback

import (
	"fmt"
	"strings"
	"time"

	"github.com/agentme/release-action/internal/outcome"
	"github.com/agentme/release-action/internal/untrusted"

	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/deploy"
	"github.com/agentme/release-action/internal/markdown"
)

// incident renders the runbook's post-incident note (section 5, step 6: root cause, impact
// window, mitigations, follow-up actions) as a skeleton for people to complete. Every
// piece of text from GitHub or the request is escaped.
func (r *runner) incident() string {
	res := r.res
	var b strings.Builder
	from := markdown.Code(untrusted.ShortSHA(res.From.SHA))
	if res.From.SHA == "" {
		from = "its current deployment"
	} else if res.From.Tag != "" {
		from = markdown.Code(res.From.Tag) + " (" + from + ")"
	}
	to := "–"
	if res.To.SHA != "" {
		to = markdown.Code(res.To.Tag) + " (" + markdown.Code(untrusted.ShortSHA(res.To.SHA)) + ")"
	}
	env := markdown.Escape(r.env.Name)

	if res.Verdict == outcome.Pass {
		fmt.Fprintf(&b, "### Incident: %s rolled back from %s to %s\n\n", env, from, to)
	} else {
		fmt.Fprintf(&b, "### Incident: rollback of %s from %s failed\n\n", env, from)
	}
	line := func(label, text string) { fmt.Fprintf(&b, "- **%s:** %s\n", label, text) }

	status := "✅ rolled back and validated"
	if res.Verdict != outcome.Pass {
		status = "❌ " + markdown.Escape(res.Reason)
		if res.LeftState != "" {
			status += ". **Left state:** " + markdown.Escape(res.LeftState)
		}
	}
	line("Status", status)
	line("Why the rollback", markdown.Escape(res.RollbackReason))
	line("Root cause", "_to fill in_")
	line("Impact window", r.windowText())

	var mit []string
	if d := res.Deploy; d != nil && d.DeploymentID != 0 && d.State != deploy.StateSuccess {
		m := fmt.Sprintf("none: the rollback deployment %d of %s failed", d.DeploymentID, to)
		if d.RunURL != "" {
			m += " (" + markdown.Link("deploy run", d.RunURL) + ")"
		}
		mit = append(mit, m)
	} else if res.Deploy != nil && res.Deploy.DeploymentID != 0 {
		what := "the last known good release"
		if res.Source == SourceExplicit {
			what = "the release asked for"
		}
		m := fmt.Sprintf("%s redeployed %s, %s (deployment %d", env, to, what, res.Deploy.DeploymentID)
		if res.Deploy.RunURL != "" {
			m += ", " + markdown.Link("deploy run", res.Deploy.RunURL)
		}
		mit = append(mit, m+")")
	}
	if res.Smoke != nil {
		word := "passed"
		if !res.Smoke.Passed() {
			word = "FAILED"
		}
		mit = append(mit, fmt.Sprintf("smoke probes %s %s after the rollback", markdown.Escape(strings.Join(res.Probes, ", ")), word))
	}
	if res.BadMarked {
		mit = append(mit, fmt.Sprintf("deployment %d of %s marked rolled back: a release refuses to deploy %s again unless forced",
			res.From.DeploymentID, from, markdown.Code(untrusted.ShortSHA(res.From.SHA))))
	}
	if len(mit) == 0 {
		mit = append(mit, "none yet: "+markdown.Escape(r.env.Name)+" was not changed")
	}
	line("Mitigations", strings.Join(mit, "; "))

	b.WriteString("- **Follow-up actions:**\n")
	for _, f := range []string{
		"Find the root cause and fill it in above; preserve logs and timestamps of the impact window (runbook 5.2)",
		"Classify the severity; for an auth or bootstrap incident (active exploit vs attempted abuse), rotate the gateway token or password and the bootstrap secret (runbook 5.1, 5.3 and section 4)",
		"Fix it and add a regression test before the next release (runbook 5.5)",
		"Release the fix through the gate; the rolled-back commit is refused without force",
	} {
		fmt.Fprintf(&b, "  - [ ] %s\n", markdown.Escape(f))
	}
	if res.RunURL != "" {
		fmt.Fprintf(&b, "\n%s\n", markdown.Link("Rollback run", res.RunURL))
	}
	return b.String()
}

// windowText renders the impact window.
func (r *runner) windowText() string {
	w := r.res.ImpactWindow
	if w == nil {
		return "unknown: no deployment record of the rolled-back commit (fill it in from the gateway's logs)"
	}
	start := stamp(w.Start)
	if w.Open {
		return fmt.Sprintf("from %s (%s), **still open**: the rollback was not validated (%s so far)",
			start, markdown.Escape(w.StartFrom), config.Duration(w.Duration.D().Round(time.Second)))
	}
	return fmt.Sprintf("%s to %s (%s), from the %s to the validation of rollback deployment %d",
		start, stamp(*w.End), config.Duration(w.Duration.D().Round(time.Second)), markdown.Escape(w.StartFrom), r.res.To.DeploymentID)
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }
