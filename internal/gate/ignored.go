package gate

import (
	"fmt"
	"slices"
	"strings"

	"github.com/agentme/release-action/internal/config"
)

// Ignored is a check run or commit status that carries a gate's name (the check name, the
// job name, or the workflow's display name) but was not evidence for it, with the reason:
// the commit page shows a green "check" from elsewhere, and the summary says why it did
// not count.
type Ignored struct {
	Name string `json:"name"`
	// Kind is "check_run" or "status".
	Kind         string `json:"kind"`
	Workflow     string `json:"workflow,omitempty"`
	WorkflowPath string `json:"workflow_path,omitempty"`
	RunID        int64  `json:"run_id,omitempty"`
	Conclusion   string `json:"conclusion,omitempty"`
	URL          string `json:"url,omitempty"`
	Reason       string `json:"reason"`
}

// maxIgnored bounds the list per gate (the report is an output; a commit can hold
// thousands of check runs).
const maxIgnored = 20

// ignoredFor lists what carries the gate's name but is not from the workflow file it
// reads. Only gates that name a workflow ignore anything this way.
func ignoredFor(g *gateState, v *view) []Ignored {
	if g.wf == nil {
		return nil
	}
	var out []Ignored
	for _, c := range v.all {
		var named bool
		switch g.kind {
		case config.KindCheck:
			named = g.check.match(c.Name)
		case config.KindTests:
			named = !isStatus(c) && g.job.match(c.Name)
		case config.KindWorkflow:
			named = !isStatus(c) && c.Workflow == g.wf.Name
		}
		if !named || g.wf.matches(c) {
			continue
		}
		ig := Ignored{Name: clean(c.Name), Kind: string(c.Kind), Workflow: clean(c.Workflow), WorkflowPath: clean(c.WorkflowPath),
			RunID: c.RunID, Conclusion: clean(c.Conclusion), URL: c.DetailsURL}
		switch {
		case isStatus(c):
			ig.Reason = fmt.Sprintf("a commit status; the gate reads check runs of %s only", clean(g.wf.Path))
		case c.RunID == 0 && c.WorkflowPath == "" && c.WorkflowID == 0:
			ig.Reason = fmt.Sprintf("a check run of another app, not of a workflow run; the gate reads %s only", clean(g.wf.Path))
		case c.WorkflowPath != "":
			ig.Reason = fmt.Sprintf("from workflow file %s, not %s", clean(c.WorkflowPath), clean(g.wf.Path))
		default:
			ig.Reason = fmt.Sprintf("from another workflow (id %d), not %s", c.WorkflowID, clean(g.wf.Path))
		}
		out = append(out, ig)
	}
	slices.SortFunc(out, func(a, b Ignored) int {
		return strings.Compare(a.Name+a.WorkflowPath+a.Kind, b.Name+b.WorkflowPath+b.Kind)
	})
	if len(out) > maxIgnored {
		out = out[:maxIgnored]
	}
	return out
}
