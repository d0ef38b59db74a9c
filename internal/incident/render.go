package incident

import (
	"cmp"
	"fmt"
	"strings"
	"time"

	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/markdown"
	"github.com/agentme/release-action/internal/untrusted"
)

// maxBody keeps the issue body, marker included, under GitHub's 65,536 characters.
const maxBody = 65000

// maxTimelineRows bounds the timeline table in the body; the evidence bundle has all.
const maxTimelineRows = 200

func itemTitle(k string) string {
	switch k {
	case ItemClassify:
		return "1. Classify severity"
	case ItemLogs:
		return "2. Preserve logs and timestamps"
	case ItemRotate:
		return "3. Rotate token/password and bootstrap secret"
	case ItemEndpoints:
		return "4. Disable high-risk endpoints"
	case ItemPatch:
		return "5. Patch and add regression tests before re-release"
	default:
		return "6. Publish post-incident notes"
	}
}

func checkbox(state string) string {
	if state == StateDone {
		return "[x]"
	}
	return "[ ]"
}

func escapeText(s string) string { return markdown.Escape(untrusted.OneLine(s, 2000)) }

func escapeLogin(s string) string { return markdown.Escape(untrusted.OneLine(s, 60)) }

// paragraphs renders multi-line text as escaped lines of one block.
func paragraphs(s, indent string) string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, indent+markdown.Escape(untrusted.OneLine(l, 2000)))
		}
	}
	return strings.Join(out, "\n")
}

// TestsGate is where the incident's regression tests must be proven: the configuration's
// first tests gate (the runbook's targeted regression tests), else the built-in one.
func TestsGate(cfg *config.Config) config.TestsGate {
	if cfg != nil {
		for _, g := range cfg.Gates {
			if g.Tests != nil {
				return *g.Tests
			}
		}
	}
	for _, g := range config.Default().Gates {
		if g.Tests != nil {
			return *g.Tests
		}
	}
	return config.TestsGate{Workflow: "Security Gate", Job: "hardening", Step: "Security regression tests"}
}

// Render renders the issue body: the checklist with states and facts, the timeline, the
// evidence with sha256 sums, the post-incident notes once closed, and the marker.
func Render(rec *Record, timeline []Entry, cfg *config.Config) (string, error) {
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	state := "open"
	if rec.Closure != nil {
		state = "closed"
	}
	w("## Incident %s: %s\n\n", markdown.Code(rec.ID), markdown.Escape(rec.Environment))
	if s := strings.TrimSpace(rec.Summary); s != "" {
		w("%s\n\n", paragraphs(s, ""))
	}
	w("- **Severity:** %s (runbook 5.1: active exploit vs attempted abuse)\n", markdown.Code(cmp.Or(rec.Severity, "unclassified")))
	w("- **Environment:** %s\n", markdown.Escape(rec.Environment))
	w("- **Since:** %s, %s\n", stamp(rec.Since), escapeText(rec.SinceFrom))
	w("- **Status:** %s (opened by @%s at %s)\n\n", state, escapeLogin(rec.OpenedBy), stamp(rec.OpenedAt))

	w("### Checklist (runbook section 5)\n\n")
	for _, k := range Items {
		it := rec.Items[k]
		w("- %s **%s**: %s\n", checkbox(it.State), itemTitle(k), itemFacts(rec, k, cfg))
		for _, n := range it.Notes {
			w("  - %s @%s: %s\n", stamp(n.At), escapeLogin(n.By), escapeText(n.Text))
		}
	}
	w("\n")

	w("### Timeline (from GitHub's records, UTC)\n\n")
	if len(timeline) == 0 {
		w("No deployment, status or release run recorded since %s.\n\n", stamp(rec.Since))
	} else {
		t := markdown.NewTable("Time", "Source", "Event")
		for i, e := range timeline {
			if i == maxTimelineRows {
				t.Row("…", "", markdown.Escape(fmt.Sprintf("%d more entries: see the evidence bundle", len(timeline)-maxTimelineRows)))
				break
			}
			ev := escapeText(e.Text)
			if e.URL != "" {
				ev = markdown.Link(untrusted.OneLine(e.Text, 300), e.URL)
			}
			if e.By != "" {
				ev += " (@" + escapeLogin(e.By) + ")"
			}
			t.Row(stamp(e.At), markdown.Escape(e.Source), ev)
		}
		w("%s\n", t.String())
	}

	if ev := rec.Evidence; ev != nil {
		w("### Evidence bundle\n\n")
		where := markdown.Code(ev.Dir)
		if ev.RunURL != "" {
			where += " of " + markdown.Link("the collecting run", ev.RunURL) + " (its artifact)"
		}
		w("Collected at %s by @%s into %s. A later change to any file shows as a different sha256.\n\n", stamp(ev.CollectedAt), escapeLogin(ev.CollectedBy), where)
		t := markdown.NewTable("File", "sha256", "Bytes")
		for _, f := range ev.Files {
			t.Row(markdown.Code(f.Path), markdown.Code(f.SHA256), fmt.Sprint(f.Bytes))
		}
		w("%s\n", t.String())
		if len(ev.Missing) > 0 {
			w("Not available from GitHub:\n")
			for _, m := range ev.Missing {
				w("- %s\n", escapeText(m))
			}
			w("\n")
		}
	}

	if c := rec.Closure; c != nil {
		w("### Post-incident notes\n\n")
		w("Closed by @%s at %s.\n\n", escapeLogin(c.By), stamp(c.At))
		w("**Root cause**\n\n%s\n\n", paragraphs(c.RootCause, ""))
		w("**Impact window**\n\n%s\n\n", windowText(c.Impact))
		w("**Mitigations**\n\n%s\n\n", paragraphs(c.Mitigations, ""))
		w("**Follow-up actions**\n\n%s\n\n", paragraphs(c.FollowUps, ""))
	}

	w("<sub>Written by release-action. The hidden record below keeps this checklist's state; edit the issue through `release-action incident` (action: update or close).</sub>\n\n")
	m, err := Marker(rec)
	if err != nil {
		return "", err
	}
	body := b.String()
	if limit := maxBody - len(m); len(body) > limit {
		if limit < 0 {
			return "", fmt.Errorf("incident record %s is too large for an issue body (%d characters of state)", rec.ID, len(m))
		}
		body = body[:limit]
		if i := strings.LastIndex(body, "\n"); i > 0 {
			body = body[:i]
		}
		body += "\n\n_The body was cut to fit GitHub's limit; the evidence bundle has everything._\n\n"
	}
	return body + m + "\n", nil
}

// itemFacts renders what the action established for a checklist item.
func itemFacts(rec *Record, k string, cfg *config.Config) string {
	it := rec.Items[k]
	switch k {
	case ItemClassify:
		if rec.Severity == "" {
			return "**not classified yet**: run incident (action: update) with severity: active-exploit or attempted-abuse"
		}
		return fmt.Sprintf("%s, classified by @%s at %s", markdown.Code(rec.Severity), escapeLogin(rec.ClassifiedBy), stamp(rec.ClassifiedAt))
	case ItemLogs:
		if ev := rec.Evidence; ev != nil {
			return fmt.Sprintf("timeline below; evidence bundle of %d files with sha256 sums (collected %s)", len(ev.Files), stamp(ev.CollectedAt))
		}
		return "not collected yet"
	case ItemRotate:
		p := rec.Rotation
		switch {
		case p != nil && p.Done:
			s := fmt.Sprintf("done by the rotate command, proven at %s: %s", stamp(p.ProvenAt), escapeText(cmp.Or(p.Summary, "credentials rotated")))
			for _, f := range p.Facts {
				s += "; " + escapeText(f)
			}
			if p.RunURL != "" {
				s += " (" + markdown.Link("run", p.RunURL) + ")"
			}
			return s
		case p != nil && p.Failure != "":
			return "**pending**: the rotate command did not finish: " + escapeText(p.Failure) + "; run it again (action: update with rotate: true)"
		case it.State == StateDone:
			return "done by hand (not proven by the rotate command)"
		}
		return "**pending**: rotate the gateway token or password and the bootstrap secret (runbook section 4): run `incident` with rotate: true, or tick it with a note after rotating by hand"
	case ItemEndpoints:
		var ps []string
		for _, p := range HighRiskEndpoints {
			ps = append(ps, markdown.Code(p))
		}
		s := "the gateway has no switch to turn off " + strings.Join(ps, " and ") + ": block them at the edge (reverse proxy, WAF, load balancer)"
		if it.State != StateDone {
			s += "; open until an update ticks it (tick: endpoints)"
		}
		return s
	case ItemPatch:
		if len(rec.RegressionTests) == 0 {
			return "no regression test named yet: add them with regression-tests (update); the gate then requires them before any re-release"
		}
		var ts []string
		for _, t := range rec.RegressionTests {
			ts = append(ts, markdown.Code(t))
		}
		tg := TestsGate(cfg)
		where := "workflow " + markdown.Code(tg.Workflow) + ", job " + markdown.Code(tg.Job)
		if tg.Step != "" {
			where += ", step " + markdown.Code(tg.Step)
		}
		s := "the release gate requires " + strings.Join(ts, ", ") + " to be proven run and passed in " + where
		if rec.Closure == nil {
			return s + " until this incident is closed"
		}
		return s + " while the incident was open (lifted at close)"
	default:
		if rec.Closure != nil {
			return "published below"
		}
		return "on close (root cause, impact window, mitigations, follow-up actions)"
	}
}

// windowText renders an impact window in Markdown.
func windowText(w *Window) string {
	if w == nil {
		return "unknown"
	}
	start := fmt.Sprintf("from %s (%s)", stamp(w.Start), escapeText(w.StartFrom))
	if w.Open || w.End == nil {
		return start + " with **no verified mitigation in the records** (no validated rollback deployment, no rotation proof): the end is unknown"
	}
	s := fmt.Sprintf("%s to %s (%s): %s, %s", stamp(w.Start), stamp(*w.End), config.Duration(time.Duration(w.Seconds)*time.Second), start, "to "+escapeText(w.EndFrom))
	if len(w.Mitigations) > 1 {
		var ms []string
		for _, m := range w.Mitigations {
			ms = append(ms, fmt.Sprintf("%s at %s", escapeText(m.What), stamp(m.At)))
		}
		s += "; verified mitigations: " + strings.Join(ms, "; ")
	}
	return s
}

// plainWindow is the window as plain text (announcements).
func plainWindow(w *Window) string {
	if w == nil {
		return "unknown"
	}
	if w.Open || w.End == nil {
		return "from " + stamp(w.Start) + ", end unknown (no verified mitigation)"
	}
	return fmt.Sprintf("%s to %s (%s)", stamp(w.Start), stamp(*w.End), time.Duration(w.Seconds)*time.Second)
}

// Summary renders the step summary of an incident run: what was done, the record's link,
// the checklist states, the impact window (close) and the evidence.
func Summary(res *Result) string {
	var b strings.Builder
	rec := res.Record
	verb := map[string]string{ActionOpen: "opened", ActionUpdate: "updated", ActionClose: "closed"}[res.Action]
	if res.Action == ActionOpen && !res.Created {
		verb = "updated (it was already open)"
	}
	fmt.Fprintf(&b, "## Incident %s: %s\n\n", markdown.Code(res.ID), markdown.Escape(verb))
	icon := "✅"
	if res.Verdict != VerdictPass {
		icon = "❌"
	}
	fmt.Fprintf(&b, "%s %s: %s\n\n", icon, markdown.Link(fmt.Sprintf("issue #%d", res.Issue), res.IssueURL), escapeText(res.Reason))
	fmt.Fprintf(&b, "- **Environment:** %s · **Severity:** %s · **Since:** %s\n", markdown.Escape(rec.Environment),
		markdown.Code(cmp.Or(rec.Severity, "unclassified")), stamp(rec.Since))
	if w := res.Impact; w != nil {
		fmt.Fprintf(&b, "- **Impact window:** %s\n", windowText(w))
	}
	if ev := res.Evidence; ev != nil {
		fmt.Fprintf(&b, "- **Evidence:** %d files in %s (sha256 in the issue)", len(ev.Files), markdown.Code(ev.Dir))
		if len(ev.Missing) > 0 {
			fmt.Fprintf(&b, ", %d not available", len(ev.Missing))
		}
		b.WriteString("\n")
	}
	if len(rec.RegressionTests) > 0 && rec.Closure == nil {
		var ts []string
		for _, t := range rec.RegressionTests {
			ts = append(ts, markdown.Code(t))
		}
		fmt.Fprintf(&b, "- **Gate:** until this incident is closed, every release requires %s\n", strings.Join(ts, ", "))
	}
	if !res.Announced {
		b.WriteString("- **Announced:** no (no announce webhook is configured, or none took it: see the warnings)\n")
	}
	b.WriteString("\n")
	t := markdown.NewTable("Runbook 5", "State")
	for _, k := range Items {
		t.Row(markdown.Escape(itemTitle(k)), markdown.Escape(rec.Items[k].State))
	}
	b.WriteString(t.String())
	for _, w := range res.Warnings {
		fmt.Fprintf(&b, "\n> ⚠️ %s\n", escapeText(w))
	}
	return b.String()
}
