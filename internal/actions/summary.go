package actions

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"unicode/utf8"
)

const (
	// SummaryLimit is the runner's limit for one step's summary; above it the runner
	// drops the whole summary with an error.
	SummaryLimit = 1 << 20
	// SummaryCap is how much Markdown the Runner writes to the summary before it
	// truncates. The margin to SummaryLimit leaves room for the truncation note and for
	// the closing lines of an unfinished code block or <details>.
	SummaryCap = 1_000_000
)

// AppendSummary appends Markdown to the step summary (GITHUB_STEP_SUMMARY), or keeps it
// in memory when that is unset (see Summary). Registered secrets are redacted, and a
// newline is added if markdown does not end with one, so each append is a block of its
// own and no secret can be split across two appends.
//
// Size: the file's existing size plus everything appended is kept within SummaryCap.
// The append that would cross it is cut at a line boundary (a UTF-8 boundary if it has
// no line break), an unclosed code fence or <details> is closed, and a note says how
// many bytes were omitted; a warning annotation says so in the log. Later appends are
// dropped and counted in SummaryOmitted.
func (r *Runner) AppendSummary(markdown string) error {
	if markdown == "" {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	// Redact before and after the UTF-8 repair: a secret with invalid bytes must
	// match as given, and the repair must not rebuild one.
	text := r.redact(sanitizeUTF8(r.redact(markdown)))
	if !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	if r.summaryFull {
		r.summaryOmitted += int64(len(text))
		return nil
	}
	if !r.summarySized && r.summaryPath != "" {
		info, err := os.Stat(r.summaryPath)
		switch {
		case err == nil:
			r.summaryUsed = info.Size()
		case !errors.Is(err, fs.ErrNotExist):
			return fmt.Errorf("read size of step summary %s: %w", r.summaryPath, err)
		}
	}
	r.summarySized = true

	if r.summaryUsed+int64(len(text)) <= r.summaryCap {
		return r.writeSummary(text)
	}

	budget := max(r.summaryCap-r.summaryUsed, 0)
	kept := cutAt(text, int(min(budget, int64(len(text)))))
	omitted := int64(len(text) - len(kept))
	note := fmt.Sprintf("\n> **Note:** summary truncated: %d bytes omitted (GitHub limits a step summary to 1 MiB). The full report is in the `report` output.\n", omitted)
	closing := closeOpenBlocks(kept)
	composed := r.redact(kept + closing + note)
	if r.summaryUsed+int64(len(composed)) > r.summaryHard {
		composed = ""
		if r.summaryUsed+int64(len(note)) <= r.summaryHard {
			composed = note
		}
	}
	r.summaryFull = true
	r.summaryOmitted += omitted
	r.annotateLocked("warning", fmt.Sprintf("The step summary was truncated: %d bytes omitted because GitHub limits a step summary to 1 MiB. The full report is in the report output.", omitted), Annotation{Title: "Step summary truncated"})
	if composed == "" {
		return nil
	}
	return r.writeSummary(composed)
}

// Summary returns the Markdown this Runner appended (after redaction and truncation),
// so the CLI can print it in terminal mode.
func (r *Runner) Summary() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.summary.String()
}

// SummaryOmitted is the number of summary bytes dropped by truncation.
func (r *Runner) SummaryOmitted() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.summaryOmitted
}

func (r *Runner) writeSummary(s string) error {
	if r.summaryPath != "" {
		if err := appendFile(r.summaryPath, []byte(s)); err != nil {
			return fmt.Errorf("append to step summary %s: %w", r.summaryPath, err)
		}
	}
	r.summary.WriteString(s)
	r.summaryUsed += int64(len(s))
	return nil
}

// cutAt returns the longest prefix of s of at most n bytes that ends at a line break,
// or, when there is none, at a UTF-8 character boundary.
func cutAt(s string, n int) string {
	if n >= len(s) {
		return s
	}
	if i := strings.LastIndexByte(s[:n], '\n'); i >= 0 {
		return s[:i+1]
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// closeOpenBlocks returns what to append to a truncated piece of Markdown so that the
// note after it renders as a note: a newline if the piece ends mid-line, a closing
// fence if it ends inside a fenced code block, and </details> for each unclosed
// <details> outside code.
func closeOpenBlocks(md string) string {
	var fenceChar byte
	fenceLen, openDetails := 0, 0
	for _, line := range strings.Split(md, "\n") {
		trimmed := strings.TrimLeft(line, " ")
		indent := len(line) - len(trimmed)
		if c, n := fenceRun(trimmed); indent <= 3 && n >= 3 {
			if fenceLen == 0 && (c == '~' || !strings.Contains(trimmed[n:], "`")) {
				fenceChar, fenceLen = c, n
				continue
			}
			if fenceLen > 0 && c == fenceChar && n >= fenceLen && strings.TrimSpace(trimmed[n:]) == "" {
				fenceLen = 0
				continue
			}
		}
		if fenceLen > 0 {
			continue
		}
		lower := strings.ToLower(line)
		openDetails += strings.Count(lower, "<details") - strings.Count(lower, "</details")
		openDetails = max(openDetails, 0)
	}
	var b strings.Builder
	if md != "" && !strings.HasSuffix(md, "\n") {
		b.WriteString("\n")
	}
	if fenceLen > 0 {
		b.WriteString(strings.Repeat(string(fenceChar), fenceLen) + "\n")
	}
	for range openDetails {
		b.WriteString("\n</details>\n")
	}
	return b.String()
}

// fenceRun reports the fence character and run length at the start of s.
func fenceRun(s string) (byte, int) {
	if s == "" || (s[0] != '`' && s[0] != '~') {
		return 0, 0
	}
	n := 0
	for n < len(s) && s[n] == s[0] {
		n++
	}
	return s[0], n
}
