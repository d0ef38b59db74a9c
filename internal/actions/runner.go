// Package actions is release-action's I/O layer towards the GitHub Actions runner:
// inputs, outputs, step summary, masking, annotations, log groups and progress lines.
// It is built from injected I/O (a writer and an environment lookup), never from the
// process environment, so every byte it writes can be tested.
//
// Two modes: Actions (GITHUB_ACTIONS=true) prints workflow commands; Terminal prints
// the same information for a person. In both modes untrusted text can never start a
// workflow command, and registered secrets (one redact.Redactor, see Redactor) are
// redacted from every line written to stdout, from the step summary and from outputs.
package actions

import (
	"crypto/rand"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/agentme/release-action/internal/redact"
)

// Annotation locates an error, warning or notice. Zero values are omitted.
type Annotation struct {
	Title     string
	File      string
	Line      int
	EndLine   int
	Col       int
	EndColumn int
}

// Runner talks to the Actions runner (or to a terminal). It is safe for concurrent
// use; each method writes whole lines.
type Runner struct {
	mu      sync.Mutex
	out     io.Writer
	getenv  func(string) string
	actions bool
	debug   bool
	rand    io.Reader

	outputPath string
	outputs    map[string]string

	summaryPath    string
	summaryCap     int64
	summaryHard    int64
	summarySized   bool
	summaryUsed    int64
	summaryFull    bool
	summaryOmitted int64
	summary        strings.Builder

	red       *redact.Redactor
	groupOpen bool
}

// New builds a runner. getenv is the environment lookup (the CLI passes os.Getenv;
// tests pass a map). Mode is Actions when getenv("GITHUB_ACTIONS") == "true", else
// Terminal. GITHUB_OUTPUT, GITHUB_STEP_SUMMARY and RUNNER_DEBUG are read here, once.
// A nil stdout discards output.
func New(stdout io.Writer, getenv func(string) string) *Runner {
	if stdout == nil {
		stdout = io.Discard
	}
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	return &Runner{
		out:         stdout,
		getenv:      getenv,
		actions:     getenv("GITHUB_ACTIONS") == "true",
		debug:       getenv("RUNNER_DEBUG") == "1",
		rand:        rand.Reader,
		outputPath:  getenv("GITHUB_OUTPUT"),
		outputs:     map[string]string{},
		summaryPath: getenv("GITHUB_STEP_SUMMARY"),
		summaryCap:  SummaryCap,
		summaryHard: SummaryLimit,
		red:         redact.New(),
	}
}

// Actions reports whether the runner is the GitHub Actions runner.
func (r *Runner) Actions() bool { return r.actions }

// Input returns the action input name from INPUT_<NAME> (spaces become '_', letters
// are upper-cased, hyphens are kept: "gateway-url" reads INPUT_GATEWAY-URL), trimmed
// of surrounding whitespace.
func (r *Runner) Input(name string) string {
	key := "INPUT_" + strings.ToUpper(strings.ReplaceAll(name, " ", "_"))
	return strings.TrimSpace(r.getenv(key))
}

// Getenv is the injected environment lookup, for the GITHUB_* context variables.
func (r *Runner) Getenv(name string) string { return r.getenv(name) }

// Infof prints one plain progress line. Line breaks and control characters in the
// formatted text are shown as escapes (\n, \x1b, ...) so the line stays one line, and
// a line that could read as a workflow command is defused with a backslash.
func (r *Runner) Infof(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.writeLine(neutralize(sanitizeLine(r.redact(msg))))
}

// Debugf prints a debug line, only when the runner's debug logging is on
// (RUNNER_DEBUG=1): ::debug::msg in Actions mode, "debug: msg" in a terminal.
func (r *Runner) Debugf(format string, args ...any) {
	if !r.debug {
		return
	}
	msg := fmt.Sprintf(format, args...)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.actions {
		r.writeLine("::debug::" + EscapeData(sanitizeUTF8(r.redact(msg))))
		return
	}
	r.writeLine(neutralize("debug: " + sanitizeLine(r.redact(msg))))
}

// Group starts a collapsible log group (▶ title in a terminal). The runner cannot nest
// groups, so an open group is ended first.
func (r *Runner) Group(title string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t := sanitizeLine(r.redact(title))
	if !r.actions {
		r.writeLine(neutralize("▶ " + t))
		return
	}
	if r.groupOpen {
		r.writeLine("::endgroup::")
	}
	r.writeLine("::group::" + EscapeData(t))
	r.groupOpen = true
}

// EndGroup ends the open group; without one it does nothing.
func (r *Runner) EndGroup() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.actions && r.groupOpen {
		r.writeLine("::endgroup::")
	}
	r.groupOpen = false
}

// Error reports an error annotation (::error ...::msg; "error: title: msg" in a
// terminal). msg may span lines: the runner shows them in the annotation.
func (r *Runner) Error(msg string, p Annotation) { r.annotate("error", msg, p) }

// Warning reports a warning annotation.
func (r *Runner) Warning(msg string, p Annotation) { r.annotate("warning", msg, p) }

// Notice reports a notice annotation.
func (r *Runner) Notice(msg string, p Annotation) { r.annotate("notice", msg, p) }

func (r *Runner) annotate(kind, msg string, p Annotation) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.annotateLocked(kind, msg, p)
}

func (r *Runner) annotateLocked(kind, msg string, p Annotation) {
	if r.actions {
		var props []string
		add := func(k, v string) {
			if v = propertyValue(sanitizeUTF8(r.redact(v))); v != "" {
				props = append(props, k+"="+EscapeProperty(v))
			}
		}
		addInt := func(k string, v int) {
			if v > 0 {
				props = append(props, k+"="+strconv.Itoa(v))
			}
		}
		add("title", p.Title)
		add("file", p.File)
		addInt("line", p.Line)
		addInt("endLine", p.EndLine)
		addInt("col", p.Col)
		addInt("endColumn", p.EndColumn)
		head := "::" + kind
		if len(props) > 0 {
			head += " " + strings.Join(props, ",")
		}
		r.writeLine(head + "::" + EscapeData(sanitizeUTF8(r.redact(msg))))
		return
	}
	prefix := kind + ": "
	if p.File != "" {
		loc := p.File
		if p.Line > 0 {
			loc += ":" + strconv.Itoa(p.Line)
			if p.Col > 0 {
				loc += ":" + strconv.Itoa(p.Col)
			}
		}
		prefix += sanitizeLine(r.redact(loc)) + ": "
	}
	if p.Title != "" {
		prefix += sanitizeLine(r.redact(p.Title)) + ": "
	}
	// Continuation lines are indented under the first, each one defused on its own.
	lines := splitRunnerLines(r.redact(msg))
	if len(lines) == 0 {
		lines = []string{""}
	}
	for i, l := range lines {
		if i == 0 {
			r.writeLine(neutralize(prefix + sanitizeLine(l)))
		} else {
			r.writeLine(neutralize("  " + sanitizeLine(l)))
		}
	}
}

// Raw prints untrusted multi-line text (a job log excerpt, a gateway response) as
// lines. In Actions mode the block is wrapped in ::stop-commands::TOKEN ... ::TOKEN::
// with a fresh random token absent from the text, so the runner executes nothing in
// it; lines keep their text apart from control and invisible characters, which are
// shown as escapes. In a terminal (or if no token can be drawn) every line is defused
// like an Infof line instead.
func (r *Runner) Raw(untrusted string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	lines := splitRunnerLines(r.redact(untrusted))
	if len(lines) == 0 {
		return
	}
	for i, l := range lines {
		lines[i] = sanitizeLine(l)
	}
	if r.actions {
		if token, err := r.stopToken(lines); err == nil {
			r.writeLine("::stop-commands::" + token)
			for _, l := range lines {
				r.writeLine(l)
			}
			r.writeLine("::" + token + "::")
			return
		}
	}
	for _, l := range lines {
		r.writeLine(neutralize(l))
	}
}

// stopToken draws a token that no line contains in any letter case: the runner
// resumes at a "::token::" or "##[token]" matched case-insensitively.
func (r *Runner) stopToken(lines []string) (string, error) {
	lower := strings.ToLower(strings.Join(lines, "\n"))
	for range maxDelimiterDraws {
		tok, err := r.randomHex()
		if err != nil {
			return "", err
		}
		if !strings.Contains(lower, tok) {
			return tok, nil
		}
	}
	return "", fmt.Errorf("could not draw a stop-commands token absent from the text")
}

// writeLine writes one line after a last redaction pass: escaping can rebuild a
// secret (a literal "%0A" plus text, a visible "\x01" escape), and "***" contains
// none of the characters that could turn the line into a command. Write errors are
// ignored: stdout is the only place to report them.
func (r *Runner) writeLine(line string) {
	_, _ = io.WriteString(r.out, r.redact(line)+"\n")
}

// propertyValue adapts a value to how the runner splits properties: it trims the
// property list (so trailing whitespace of the last value would vanish) and splits
// "k=v" with RemoveEmptyEntries (so a value's leading '=' would vanish, and a value of
// only '=' would drop the property). Values are trimmed here, and one starting with
// '=' gets a space in front.
func propertyValue(v string) string {
	v = strings.TrimSpace(v)
	if strings.HasPrefix(v, "=") {
		v = " " + v
	}
	return v
}

// sanitizeUTF8 replaces invalid UTF-8 with U+FFFD, as the runner's decoder would.
func sanitizeUTF8(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }
