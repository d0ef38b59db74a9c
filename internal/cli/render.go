package cli

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/agentme/release-action/internal/outcome"
	"github.com/agentme/release-action/internal/termtext"
)

// One result, rendered for whoever reads it:
//   - action mode (GITHUB_ACTIONS=true): the Markdown summary goes to GITHUB_STEP_SUMMARY
//     (and, per command, to the check run or the incident issue); nothing else changes;
//   - CLI mode: the same summary rendered by termtext as plain aligned text on stdout,
//     coloured only when stdout is a terminal and NO_COLOR is unset, then "result=...";
//   - CLI mode with --json: the report alone on stdout, the same JSON as the `report`
//     output, one object per line; progress goes to stderr so stdout stays parseable.

// jsonFlag is the CLI-only flag every command takes. It is not an action input: in a
// workflow the report is the `report` output already.
const jsonFlag = "json"

// switchWriter is the runner's stdout. Main points it at stderr once --json is known,
// before anything is written, so progress lines never mix with the JSON on stdout.
type switchWriter struct{ w io.Writer }

func (s *switchWriter) Write(p []byte) (int, error) { return s.w.Write(p) }

// jsonOutput reports whether --json was given (never in action mode).
func (a *app) jsonOutput() bool { return !a.runner.Actions() && a.in[jsonFlag] == "true" }

// printResult prints a command's result in CLI mode: the report JSON alone with --json,
// else the summary as terminal text. Both are redacted: the summary quotes servers'
// text, and no secret is meant to be in either.
func (a *app) printResult(result outcome.Verdict, report []byte, md string) {
	out := a.env.Stdout
	if a.jsonOutput() {
		fmt.Fprintln(out, a.runner.Redact(string(report)))
		return
	}
	opt := termtext.Options{
		Color: termtext.ColorEnabled(a.env.StdoutIsTerminal, a.env.Getenv),
		Width: a.env.TerminalWidth,
	}
	fmt.Fprintln(out)
	fmt.Fprint(out, a.runner.Redact(termtext.Render(md, opt)))
	fmt.Fprintln(out)
	fmt.Fprintf(out, "result=%s\n", result)
}

// printJSON prints v as one line of JSON (commands without a summary: config, version,
// sandbox list).
func (a *app) printJSON(v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s report: %w", a.cmd.name, err)
	}
	fmt.Fprintln(a.env.Stdout, a.runner.Redact(string(data)))
	return nil
}
