package summary

import (
	"fmt"
	"sort"
	"strings"

	"github.com/agentme/release-action/internal/gate"
	"github.com/agentme/release-action/internal/markdown"
)

// GateInfo is what the gate summary shows besides the result.
type GateInfo struct {
	// Commit is the rendered link to the candidate commit.
	Commit string
	// Heading level prefix, e.g. "##" for a step summary, "###" inside a release summary.
	Level string
}

// Gate renders the gate decision: the verdict, a table with one row per gate (gate,
// evidence, conclusion, duration, link), the blocking reasons, and test-file details.
func Gate(r *gate.Result, info GateInfo) string {
	if info.Level == "" {
		info.Level = "##"
	}
	var b strings.Builder
	title := "✅ Release gate passed"
	if r.Verdict != gate.Pass {
		title = "❌ Release gate blocked"
	}
	fmt.Fprintf(&b, "%s %s\n\n", info.Level, title)
	fmt.Fprintf(&b, "Candidate %s · decided in %s after %d polls", info.Commit, Dur(r.Duration.D()), r.Polls)
	if r.TimedOut {
		b.WriteString(" · **timed out**")
	}
	b.WriteString("\n\n")
	if r.Reason != "" {
		fmt.Fprintf(&b, "%s\n\n", markdown.Escape(r.Reason))
	}

	t := markdown.NewTable("Gate", "Evidence", "Conclusion", "Duration", "Link")
	for _, g := range r.Gates {
		t.Row(
			markdown.Cell(g.Name),
			evidenceCell(g),
			icon(g.Verdict)+" "+markdown.Cell(conclusionText(g)),
			Dur(g.Duration.D())+waitedNote(g),
			linkCell(g.Link),
		)
	}
	b.WriteString(t.String())
	b.WriteString("\n")
	b.WriteString(workflowFiles(r))
	b.WriteString(ignoredList(r))

	var blocking []string
	for _, g := range r.Gates {
		if g.Verdict == gate.Fail {
			blocking = append(blocking, fmt.Sprintf("- **%s**: %s", markdown.Escape(g.Name), markdown.Escape(g.Reason)))
		}
	}
	if len(blocking) > 0 {
		fmt.Fprintf(&b, "**Blocking:**\n\n%s\n\n", strings.Join(blocking, "\n"))
	}
	for _, g := range r.Gates {
		if g.Tests != nil && len(g.Tests.Files) > 0 {
			b.WriteString(testsDetails(g))
			b.WriteString("\n\n")
		}
	}
	for _, w := range r.Warnings {
		fmt.Fprintf(&b, "> ⚠️ %s\n\n", markdown.Escape(w))
	}
	return b.String()
}

// workflowFiles says which workflow file each gate read: a name can be shared by several
// files, the file cannot.
func workflowFiles(r *gate.Result) string {
	var lines []string
	for _, g := range r.Gates {
		if g.WorkflowFile != "" {
			lines = append(lines, fmt.Sprintf("- **%s** read runs of %s only", markdown.Escape(g.Name), markdown.Code(g.WorkflowFile)))
		}
	}
	if len(lines) == 0 {
		return ""
	}
	return "**Workflow files:**\n\n" + strings.Join(lines, "\n") + "\n\n"
}

// ignoredList names what carried a gate's name but did not count, and why: the commit
// page shows those checks too.
func ignoredList(r *gate.Result) string {
	var lines []string
	for _, g := range r.Gates {
		for _, ig := range g.Ignored {
			what := "check run " + markdown.Code(ig.Name)
			if ig.Kind == "status" {
				what = "status " + markdown.Code(ig.Name)
			}
			if ig.Conclusion != "" {
				what += " (" + markdown.Escape(ig.Conclusion) + ")"
			}
			lines = append(lines, fmt.Sprintf("- **%s** ignored %s: %s", markdown.Escape(g.Name), what, markdown.Escape(ig.Reason)))
		}
	}
	if len(lines) == 0 {
		return ""
	}
	return "**Ignored (not evidence):**\n\n" + strings.Join(lines, "\n") + "\n\n"
}

func conclusionText(g gate.GateResult) string {
	if g.Reason != "" {
		return string(g.Verdict) + ": " + g.Reason
	}
	return string(g.Verdict)
}

// evidenceCell lists the latest evidence a gate counted (superseded attempts are in the report).
func evidenceCell(g gate.GateResult) string {
	var names []string
	seen := map[string]bool{}
	for _, e := range g.Evidence {
		if !e.Latest {
			continue
		}
		label := e.Name
		if e.Workflow != "" {
			label += " (" + e.Workflow + ")"
		}
		if e.Conclusion != "" {
			label += ": " + e.Conclusion
		} else if e.Status != "" {
			label += ": " + e.Status
		}
		if !seen[label] {
			seen[label] = true
			names = append(names, label)
		}
	}
	if len(names) == 0 {
		return "none"
	}
	sort.Strings(names)
	const most = 6
	more := ""
	if len(names) > most {
		more = fmt.Sprintf(" … and %d more", len(names)-most)
		names = names[:most]
	}
	return markdown.Cell(strings.Join(names, ", ") + more)
}

func waitedNote(g gate.GateResult) string {
	var parts []string
	if d := g.WaitedQueued.D(); d > 0 {
		parts = append(parts, "queued "+Dur(d))
	}
	if d := g.WaitedRunning.D(); d > 0 {
		parts = append(parts, "running "+Dur(d))
	}
	if d := g.WaitedAbsent.D(); d > 0 {
		parts = append(parts, "absent "+Dur(d))
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

func linkCell(u string) string {
	if u == "" {
		return markdown.EmptyCell
	}
	l := markdown.Link("open", u)
	if l == "open" {
		return markdown.EmptyCell
	}
	return l
}

func testsDetails(g gate.GateResult) string {
	t := markdown.NewTable("Test file", "Result", "Source")
	failed := 0
	for _, f := range g.Tests.Files {
		if f.Result != "passed" {
			failed++
		}
		t.Row(markdown.Code(f.File), icon(fileVerdict(f.Result))+" "+markdown.Cell(strings.ReplaceAll(f.Result, "_", " ")), markdown.Cell(f.Source))
	}
	head := fmt.Sprintf("%s: %d of %d test files passed", g.Name, len(g.Tests.Files)-failed, len(g.Tests.Files))
	body := t.String()
	for _, n := range g.Tests.Notes {
		body += "\n- " + markdown.Escape(n)
	}
	return markdown.Details(head, body)
}

func fileVerdict(result string) string {
	switch result {
	case "passed":
		return "pass"
	case "failed":
		return "fail"
	}
	return "skipped"
}
