package summary

import (
	"fmt"
	"strings"

	"github.com/agentme/release-action/internal/markdown"
	"github.com/agentme/release-action/internal/rotate"
	"github.com/agentme/release-action/internal/untrusted"
)

// RotatePlan renders a rotation's dry run: the secrets it would write (name, role, scope,
// key id), the commit and tag it would redeploy with task deploy:rotate, and what the dry
// run cannot check without writing. It holds no value: nothing was generated.
func RotatePlan(p *rotate.PlanResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "## 📝 Rotation plan (dry run) for the %s of %s\n\n", markdown.Escape(p.Kind), markdown.Escape(p.Environment))
	b.WriteString("Nothing was written: no secret, deployment, status or dispatch, and no bootstrap code on the gateway. ")
	b.WriteString("The state was read from GitHub exactly as a rotation would read it.\n\n")
	icon := "▶️"
	if p.Outcome != "pass" {
		icon = "⛔"
	}
	fmt.Fprintf(&b, "%s **%s:** %s\n\n", icon, markdown.Escape(string(p.Outcome)), markdown.Escape(p.Reason))
	t := cellTable{markdown.NewTable("", "")}
	t.Row("Why", p.RotationReason)
	if p.Running.SHA != "" {
		t.Row("Running", fmt.Sprintf("%s %s (deployment %d)", p.Running.Tag, untrusted.ShortSHA(p.Running.SHA), p.Running.DeploymentID))
		how := "dispatch " + p.Workflow
		if p.Event != "" {
			how = "the " + p.Event + " event"
		}
		t.Row("Restart", fmt.Sprintf("task %s on %s, through %s", p.Task, p.Running.Tag, how))
	} else {
		t.Row("Running", "no deployment records a commit it runs")
	}
	b.WriteString(t.String())
	b.WriteString("\n")

	st := markdown.NewTable("Secret", "Holds", "Scope", "Key id", "Would")
	for _, s := range p.Secrets {
		would := "write a new value"
		if p.Outcome != "pass" {
			would = "nothing"
		}
		st.Row(markdown.Code(s.Name), markdown.Escape(s.Role), markdown.Escape(s.Scope), rollbackCell(s.KeyID), would)
	}
	b.WriteString(st.String())
	b.WriteString("\n")
	if len(p.Unchecked) > 0 {
		b.WriteString("**Not checked by a dry run:**\n\n")
		for _, u := range p.Unchecked {
			fmt.Fprintf(&b, "- %s\n", markdown.Escape(u))
		}
		b.WriteString("\n")
	}
	return b.String()
}
