package summary

import (
	"cmp"
	"fmt"
	"strings"
	"time"

	"github.com/agentme/release-action/internal/markdown"
	"github.com/agentme/release-action/internal/release"
	"github.com/agentme/release-action/internal/rollback"
	"github.com/agentme/release-action/internal/untrusted"
)

// planIcon marks what a plan step would do at a glance.
func planIcon(action string) string {
	switch action {
	case release.PlanRefuse:
		return "⛔"
	case release.PlanSchedule, release.PlanWait:
		return "🕒"
	case release.PlanSkip, release.PlanReuse:
		return "♻️"
	case "":
		return "·"
	}
	return "▶️"
}

// ReleasePlan renders a release's dry run: the gate so far, the tags, each environment
// with its action and why, the window, the monitor, and where a run would stop.
func ReleasePlan(p *release.PlanResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "## 📝 Release plan (dry run) for %s\n\n", markdown.Code(untrusted.ShortSHA(p.SHA)))
	b.WriteString("Nothing was written: no tag, deployment, status, issue, check run, dispatch or release. ")
	b.WriteString("The state was read from GitHub exactly as a release would read it.\n\n")
	fmt.Fprintf(&b, "**Outcome now:** %s: %s\n\n", markdown.Escape(string(p.Outcome)), markdown.Escape(p.Reason))
	if !p.NextWindow.IsZero() {
		fmt.Fprintf(&b, "**Next window:** %s\n\n", markdown.Escape(p.NextWindow.UTC().Format(time.RFC3339)))
	}
	t := (cellTable{markdown.NewTable("", "Step", "Would", "Why")})
	if g := p.Gate; g != nil {
		t.Row(gateIcon(string(g.Verdict)), "gate", string(g.Verdict), g.Reason)
		for _, gr := range g.Gates {
			t.Row("", "· "+gr.Name, string(gr.Verdict), gr.Reason)
		}
	} else {
		t.Row("·", "gate", "skipped", "no gate runs on the candidate")
	}
	tagRow := func(step string, tp release.TagPlan) {
		if tp.Action == "" {
			return
		}
		t.Row(planIcon(tp.Action), step, strings.TrimSpace(tp.Action+" "+tp.Name), tp.Reason)
	}
	tagRow("candidate tag", p.CandidateTag)
	for _, e := range p.Environments {
		why := e.Reason
		if e.Window != nil {
			why = "window: " + e.Window.Reason + "; " + why
		}
		t.Row(planIcon(e.Action), e.Name, e.Action, why)
	}
	if p.Monitor != "" {
		t.Row("·", "monitor", "", p.Monitor)
	}
	tagRow("release tag", p.ReleaseTag)
	b.WriteString(t.String())
	b.WriteString("\n")
	return b.String()
}

func gateIcon(v string) string {
	switch v {
	case "pass":
		return "✅"
	case "fail":
		return "❌"
	}
	return "⏳"
}

// RollbackPlan renders a rollback's dry run: from, to, how, and what it would mark.
func RollbackPlan(p *rollback.PlanResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "## 📝 Rollback plan (dry run) for %s\n\n", markdown.Escape(p.Environment))
	b.WriteString("Nothing was written: no deployment, status or issue. The state was read from GitHub exactly as a rollback would read it.\n\n")
	fmt.Fprintf(&b, "%s **%s:** %s\n\n", planIcon(p.Action), markdown.Escape(p.Action), markdown.Escape(p.Reason))
	t := (cellTable{markdown.NewTable("", "")})
	t.Row("Why", p.RollbackReason)
	from := "none found"
	if p.From.SHA != "" {
		from = strings.TrimSpace(p.From.Tag + " " + untrusted.ShortSHA(p.From.SHA))
		if p.From.DeploymentID != 0 {
			from += fmt.Sprintf(" (deployment %d)", p.From.DeploymentID)
		}
	}
	t.Row("From", from)
	if p.Stop != nil {
		for _, r := range p.Stop.Runs {
			t.Row("Would stop", fmt.Sprintf("run %d (%s, %s): %s", r.ID, r.Status, r.Why, cmp.Or(r.URL, "no link")))
		}
		for _, rec := range p.Stop.Records {
			t.Row("Would mark stopped", fmt.Sprintf("deployment %d of %s (now %s)", rec.ID, untrusted.ShortSHA(rec.SHA), rec.Was))
		}
		if len(p.Stop.Runs) == 0 && len(p.Stop.Records) == 0 {
			t.Row("Would stop", "nothing: nothing is rolling out to "+p.Environment)
		}
	}
	if p.To.SHA != "" {
		to := strings.TrimSpace(p.To.Tag + " " + untrusted.ShortSHA(p.To.SHA))
		switch p.Source {
		case rollback.SourceLastKnownGood:
			to += " — the last known good"
			if p.To.LastGoodDeploymentID != 0 {
				to += fmt.Sprintf(" (deployment %d)", p.To.LastGoodDeploymentID)
			}
		case rollback.SourceExplicit:
			to += " — as asked"
		}
		t.Row("To", to)
	}
	if len(p.Probes) > 0 {
		t.Row("Smoke after", strings.Join(p.Probes, ", "))
	}
	if p.Issue != "" {
		t.Row("Incident issue", "labelled "+p.Issue)
	}
	b.WriteString(t.String())
	b.WriteString("\n")
	return b.String()
}

// cellTable is a table whose cells are plain text (escaped as they are added).
type cellTable struct{ *markdown.Table }

func (t cellTable) Row(cells ...string) {
	for i := range cells {
		cells[i] = markdown.Cell(cells[i])
	}
	t.Table.Row(cells...)
}
