package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/agentme/release-action/internal/actions"
	"github.com/agentme/release-action/internal/outcome"
)

// input is one action input, mirrored as a CLI flag of the same name.
type input struct {
	name string
	def  string
	help string
	// secret inputs are masked before anything else is printed.
	secret bool
	// env lists environment variables read when the input is empty (CLI mode and
	// actions alike), e.g. GITHUB_TOKEN for token.
	env []string
}

// values holds a command's inputs after parsing: every declared input has an entry.
type values map[string]string

func (v values) str(name string) string { return v[name] }

func (v values) boolean(name string) (bool, error) {
	s := strings.ToLower(strings.TrimSpace(v[name]))
	switch s {
	case "", "false", "no", "0", "off":
		return false, nil
	case "true", "yes", "1", "on":
		return true, nil
	}
	return false, outcome.BadInputf("input %s: %q is not a boolean; use true or false", name, v[name])
}

// duration parses a Go duration; "" gives zero (meaning: use the configured default).
func (v values) duration(name string) (time.Duration, error) {
	s := strings.TrimSpace(v[name])
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, outcome.BadInputf("input %s: %q is not a positive duration; write it like 45m or 1h30m", name, s)
	}
	return d, nil
}

func (v values) list(name string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(v[name], func(r rune) bool { return r == ',' || r == '\n' || r == ' ' }) {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func (v values) integer(name string) (int, error) {
	s := strings.TrimSpace(v[name])
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, outcome.BadInputf("input %s: %q is not a whole number", name, s)
	}
	return n, nil
}

// parseInputs reads the command's inputs from the action's INPUT_* variables or from
// flags, masks secrets, and reports whether help was asked for.
func parseInputs(cmd *command, r *actions.Runner, getenv func(string) string, args []string, stdout io.Writer) (values, bool, error) {
	vals := values{}
	if r.Actions() {
		for _, in := range cmd.inputs {
			vals[in.name] = r.Input(in.name)
		}
		if len(args) > 0 {
			return nil, false, outcome.BadInputf("%s: unexpected arguments %q: in a workflow, pass everything as inputs (with:)", cmd.name, args)
		}
	} else {
		fs := flag.NewFlagSet(cmd.name, flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		ptrs := map[string]*string{}
		for _, in := range cmd.inputs {
			ptrs[in.name] = fs.String(in.name, "", in.help)
		}
		asJSON := fs.Bool(jsonFlag, false, "")
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				printCommandHelp(stdout, cmd)
				return nil, true, nil
			}
			return nil, false, outcome.BadInputf("%s: %v (see 'release-action %s --help')", cmd.name, err, cmd.name)
		}
		if fs.NArg() > 0 {
			return nil, false, outcome.BadInputf("%s: unexpected arguments %q (see 'release-action %s --help')", cmd.name, fs.Args(), cmd.name)
		}
		for name, p := range ptrs {
			vals[name] = strings.TrimSpace(*p)
		}
		if *asJSON {
			vals[jsonFlag] = "true"
		}
	}
	for _, in := range cmd.inputs {
		if vals[in.name] == "" {
			for _, e := range in.env {
				if v := strings.TrimSpace(getenv(e)); v != "" {
					vals[in.name] = v
					break
				}
			}
		}
		if vals[in.name] == "" {
			vals[in.name] = in.def
		}
		if in.secret && vals[in.name] != "" {
			r.Protect(vals[in.name])
		}
	}
	return vals, false, nil
}

func printCommandHelp(w io.Writer, cmd *command) {
	fmt.Fprintf(w, "release-action %s: %s\n\nUsage: release-action %s [flags]\n\nFlags (the action's inputs of the same names):\n", cmd.name, cmd.summary, cmd.name)
	for _, in := range cmd.inputs {
		line := fmt.Sprintf("  --%s", in.name)
		fmt.Fprintf(w, "%-24s %s", line, in.help)
		if in.def != "" {
			fmt.Fprintf(w, " (default %q)", in.def)
		}
		if len(in.env) > 0 {
			fmt.Fprintf(w, " [env %s]", strings.Join(in.env, ", "))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "%-24s %s\n", "  --"+jsonFlag, "print only the report as JSON on stdout (progress goes to stderr); CLI only")
}

// Inputs shared by GitHub-facing commands.
var (
	inToken  = input{name: "token", help: "GitHub token (prefer the environment variable; never pass it on a shared machine's command line)", secret: true, env: []string{"GITHUB_TOKEN", "GH_TOKEN"}}
	inConfig = input{name: "config", def: ".github/release-action.yml", help: "configuration file; a missing file means the built-in Agent Me defaults"}
	inRepo   = input{name: "repository", help: "owner/name of the repository", env: []string{"GITHUB_REPOSITORY"}}
	// Inputs of every command that deploys or validates a configured environment.
	inPollInterval   = input{name: "poll-interval", help: "how often a deploy run is checked (default 10s)"}
	inChannelTimeout = input{name: "channel-timeout", help: "how long the channel probe waits for the model's reply (default 30s)"}
)

// environmentTimings reads poll-interval and channel-timeout into the app.
func (a *app) environmentTimings() error {
	var err error
	if a.pollInterval, err = a.in.duration("poll-interval"); err != nil {
		return err
	}
	a.channelTimeout, err = a.in.duration("channel-timeout")
	return err
}
