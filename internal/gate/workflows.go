package gate

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/agentme/release-action/internal/github"
)

// A workflow is its file. Two files may declare the same `name:` (a copied file never
// renamed, or a new file that is easier to slip past review than an edit to the real
// one), so a gate's evidence comes only from runs of the one file it names:
//
//   - A gate names its workflow by file (".github/workflows/security-gate.yml" or
//     "security-gate.yml") or by display name. Both are resolved once, at the start, with
//     one listing of the repository's workflows (ListWorkflows): a file that does not
//     exist, a name no file declares and a name more than one file declares are
//     configuration errors (bad input, exit 2) that name the files and how to pick one.
//   - A check run counts for the gate only when its workflow run's workflow is that file:
//     GraphQL gives each check suite's workflow run with the workflow's database id (the
//     REST workflow id) and the run's file path. A check run whose workflow cannot be
//     identified is never evidence for a gate that names a workflow.

// wfRef is the one workflow file a gate reads.
type wfRef struct {
	ID   int64
	Path string
	Name string
}

// matches tells whether c is a check run of this workflow file.
func (w *wfRef) matches(c github.CheckContext) bool {
	if w == nil || isStatus(c) {
		return false
	}
	if c.WorkflowID != 0 && w.ID != 0 {
		return c.WorkflowID == w.ID
	}
	return c.WorkflowPath != "" && c.WorkflowPath == w.Path
}

// label is "'Security Gate' (.github/workflows/security-gate.yml)".
func (w *wfRef) label() string {
	if w == nil {
		return ""
	}
	return quote(w.Name) + " (" + clean(w.Path) + ")"
}

func looksLikeFile(s string) bool {
	return strings.HasSuffix(s, ".yml") || strings.HasSuffix(s, ".yaml")
}

// resolveWorkflow finds the one workflow file that spec (a file or a display name) names
// among ws; gate names the gate for messages.
func resolveWorkflow(ws []github.Workflow, spec, gate string) (*wfRef, error) {
	want := strings.TrimPrefix(strings.TrimSpace(spec), "./")
	var found []github.Workflow
	if looksLikeFile(want) {
		for _, w := range ws {
			if w.Path == want || (!strings.Contains(want, "/") && path.Base(w.Path) == want) {
				found = append(found, w)
			}
		}
		if len(found) == 0 {
			return nil, &configError{msg: fmt.Sprintf(
				"gate %s: workflow file %s does not exist in the repository: check the gate's workflow (a file under .github/workflows/, or the workflow's name:)",
				quote(gate), quote(spec))}
		}
	} else {
		for _, w := range ws {
			if w.Name == want {
				found = append(found, w)
			}
		}
		if len(found) == 0 {
			var files []string
			for _, w := range ws {
				if strings.EqualFold(w.Name, want) {
					files = append(files, clean(w.Path)+" (name: "+quote(w.Name)+")")
				}
			}
			hint := "name the workflow by its file instead (workflow: .github/workflows/<file>.yml)"
			if len(files) > 0 {
				hint = "names differ in case only: " + strings.Join(files, ", ") + "; name the file instead"
			}
			return nil, &configError{msg: fmt.Sprintf(
				"gate %s: no workflow file in the repository declares name: %s; %s",
				quote(gate), quote(spec), hint)}
		}
	}
	if len(found) > 1 {
		paths := make([]string, len(found))
		for i, w := range found {
			paths[i] = clean(w.Path)
		}
		slices.Sort(paths)
		return nil, &configError{msg: fmt.Sprintf(
			"gate %s: workflow %s matches %d workflow files (%s), so a run of any of them could satisfy it: name the one file the gate trusts, e.g. workflow: %s",
			quote(gate), quote(spec), len(found), strings.Join(paths, ", "), paths[0])}
	}
	w := found[0]
	return &wfRef{ID: w.ID, Path: w.Path, Name: w.Name}, nil
}

// resolveWorkflows resolves every workflow the gates name with one listing.
func (r *runner) resolveWorkflows(ctx context.Context) error {
	var ws []github.Workflow
	listed := false
	for _, g := range r.gates {
		spec := g.cfg.Workflow
		if g.cfg.Tests != nil {
			spec = g.cfg.Tests.Workflow
		}
		if spec == "" {
			continue
		}
		if !listed {
			var err error
			if ws, err = r.gh.ListWorkflows(ctx); err != nil {
				return fmt.Errorf("list the workflows of %s to find the files the gates name: %w", r.gh.Repo(), err)
			}
			listed = true
		}
		ref, err := resolveWorkflow(ws, spec, g.cfg.Name)
		if err != nil {
			return err
		}
		g.wf = ref
		if g.disp != nil {
			g.disp.wf = github.Workflow{ID: ref.ID, Name: ref.Name, Path: ref.Path}
			g.disp.haveWF = true
		}
		r.say(fmt.Sprintf("%s: reads workflow %s", g.cfg.Name, ref.label()))
	}
	return nil
}
