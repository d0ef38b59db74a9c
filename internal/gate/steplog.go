package gate

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/agentme/release-action/internal/github"
)

// A step's evidence is that step's output, found by the log's own structure: the runner
// opens the output of every step it runs with a "##[group]Run …" line (the command or
// the action, never the step's name) and closes that header with "##[endgroup]". Steps
// that did not run (skipped) print nothing; "Set up job" prints groups of its own that
// are not "Run" groups; post steps and "Complete job" come after every main step.
//
// The k-th header therefore opens the k-th main step that ran. When the log holds as many
// headers as there are such steps, that is the mapping, and each header's timestamp must
// fall inside its step's [started_at-1s, completed_at+1s] (the jobs API has second
// precision): a log whose structure disagrees with the jobs API proves nothing. A
// composite action prints a header for each of its own run steps, so with more headers
// than steps each header goes, in order, to the step whose window holds its timestamp,
// moving on to the next step as soon as the header can be its first; of several headers
// in the first second of the step, the last opens it. The step's lines
// are those after its first header's group, up to the next step's first header (or the
// first post-job line). Lines stamped outside the step's window are dropped as well: the
// timestamps are a cross-check, never the only boundary.

// stepLog is what the log says about one step.
type stepLog struct {
	lines []string
	// found is false when the step's output cannot be told from the log; why says why.
	found bool
	why   string
	// dropped counts lines inside the step's section stamped outside its window.
	dropped int
}

type logLine struct {
	t    time.Time
	has  bool
	text string // timestamp removed, escapes kept
}

func splitStamped(log []byte) []logLine {
	text := strings.TrimPrefix(string(log), "\ufeff")
	var out []logLine
	var cur time.Time
	var have bool
	for raw := range strings.SplitSeq(text, "\n") {
		raw = strings.TrimSuffix(raw, "\r")
		if m := tsRe.FindStringSubmatch(raw); m != nil {
			if t, err := time.Parse(time.RFC3339Nano, m[1]); err == nil {
				cur, have = t, true
				raw = raw[len(m[0]):]
			}
		}
		out = append(out, logLine{t: cur, has: have, text: raw})
	}
	return out
}

func isRunHeader(s string) bool { return strings.HasPrefix(StripANSI(s), "##[group]Run ") }

func isPostJob(s string) bool {
	s = StripANSI(s)
	return s == "Post job cleanup." || s == "Cleaning up orphan processes"
}

// mainSteps are the steps that ran and print a "Run" header: not "Set up job", not
// "Complete job", not a post step ("Post X" after a step X), not skipped.
func mainSteps(steps []github.Step) []github.Step {
	s := slices.Clone(steps)
	slices.SortStableFunc(s, func(a, b github.Step) int { return a.Number - b.Number })
	var out []github.Step
	names := map[string]bool{}
	for i, st := range s {
		post := false
		if rest, ok := strings.CutPrefix(st.Name, "Post "); ok && names[rest] {
			post = true
		}
		names[st.Name] = true
		switch {
		case i == 0 && st.Name == "Set up job", st.Name == "Complete job" && i == len(s)-1, post:
			continue
		case st.Conclusion == "skipped" || st.Status != "completed" && st.StartedAt.IsZero():
			continue
		}
		out = append(out, st)
	}
	return out
}

// inWindow: t within [from-1s, to+1s].
func inWindow(t time.Time, st github.Step) bool {
	if st.StartedAt.IsZero() || st.CompletedAt.IsZero() {
		return true
	}
	return !t.Before(st.StartedAt.Add(-time.Second)) && !t.After(st.CompletedAt.Add(time.Second))
}

// StepLines returns the output lines of the step named name (terminal escapes removed,
// carriage returns splitting lines) from a job log and the job's steps.
func stepLines(log []byte, steps []github.Step, name string) stepLog {
	main := mainSteps(steps)
	target := slices.IndexFunc(main, func(s github.Step) bool { return s.Name == name })
	if target < 0 {
		return stepLog{why: fmt.Sprintf("step %s did not run", quote(name))}
	}
	lines := splitStamped(log)
	var headers []int
	for i, l := range lines {
		if isRunHeader(l.text) {
			headers = append(headers, i)
		}
	}
	owner := make([]int, len(headers)) // step index of each header
	mismatch := func(why string) stepLog {
		return stepLog{why: "the log's step structure does not match the job's steps (" + why + "), so its output cannot be attributed to step " + quote(name)}
	}
	switch {
	case len(headers) < len(main):
		return mismatch(fmt.Sprintf("%d step headers for %d steps that ran", len(headers), len(main)))
	case len(headers) == len(main):
		for k, h := range headers {
			if !lines[h].has || !inWindow(lines[h].t, main[k]) {
				return mismatch(fmt.Sprintf("the header of step %s is stamped outside its time", quote(main[k].Name)))
			}
			owner[k] = k
		}
	default:
		j, seen := 0, false
		for k, h := range headers {
			l := lines[h]
			if !l.has {
				return mismatch("a step header without a timestamp")
			}
			for j+1 < len(main) && (seen || !inWindow(l.t, main[j])) && inWindow(l.t, main[j+1]) && !l.t.Before(main[j+1].StartedAt) {
				j, seen = j+1, false
			}
			if !inWindow(l.t, main[j]) {
				return mismatch("a step header stamped outside every step's time")
			}
			owner[k], seen = j, true
		}
		for j := range main {
			if !slices.Contains(owner, j) {
				return mismatch(fmt.Sprintf("no header for step %s", quote(main[j].Name)))
			}
		}
	}
	first := slices.Index(owner, target)
	st := main[target]
	// A header printed by the previous step in the second this step started would pass
	// for this step's own: of the headers in that first second, the last opens the step
	// (a composite action's first inner header may then be taken for it, which only
	// leaves lines out).
	for k := first + 1; k < len(headers) && owner[k] == target && lines[headers[k]].t.Before(st.StartedAt.Add(time.Second)); k++ {
		first = k
	}
	start := headers[first]
	end := len(lines)
	for k := first; k < len(headers); k++ {
		if owner[k] > target {
			end = headers[k]
			break
		}
	}
	out := stepLog{found: true}
	inHeader := true
	for _, l := range lines[start+1 : end] {
		if isPostJob(l.text) {
			break
		}
		if inHeader {
			// The header group echoes the command and its environment, not output.
			if StripANSI(l.text) == "##[endgroup]" {
				inHeader = false
			}
			continue
		}
		if isRunHeader(l.text) {
			inHeader = true // a composite action's own step header
			continue
		}
		if !l.has || !inWindow(l.t, st) {
			out.dropped++
			continue
		}
		for seg := range strings.SplitSeq(l.text, "\r") {
			if seg = StripANSI(seg); strings.TrimSpace(seg) != "" {
				out.lines = append(out.lines, seg)
			}
		}
	}
	return out
}

// otherSteps parses the output of every other main step of the job, by step name, to
// tell a file that ran in another step from one that did not run at all. Never evidence.
func otherSteps(log []byte, steps []github.Step, name, reporter string) map[string]TestReport {
	out := map[string]TestReport{}
	for _, st := range mainSteps(steps) {
		if st.Name == name {
			continue
		}
		if sl := stepLines(log, steps, st.Name); sl.found {
			if rep := ParseTestLog(sl.lines, reporter); len(rep.Files) > 0 {
				out[st.Name] = rep
			}
		}
	}
	return out
}
