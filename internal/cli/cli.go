// Package cli is release-action's command layer: it parses inputs (action inputs under
// GITHUB_ACTIONS=true, flags otherwise) once into typed options, runs one command, renders
// its result, and is the only place that maps outcomes to exit codes (exitCode). Commands
// return error (nil: passed or scheduled; an *outcome.Decision: the verdict fail/error;
// outcome.ErrBadInput: input to fix; anything else: GitHub or network failure). What is
// done to an environment lives in internal/environment; cli does not orchestrate.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/agentme/release-action/internal/actions"
	"github.com/agentme/release-action/internal/clock"
	"github.com/agentme/release-action/internal/environment"
	"github.com/agentme/release-action/internal/outcome"
	"github.com/agentme/release-action/internal/untrusted"
)

// Exit codes, as DESIGN.md fixes them.
const (
	ExitOK       = 0 // done, passed
	ExitFailed   = 1 // the gate blocked or a step failed
	ExitBadInput = 2 // bad input or configuration
	ExitAPI      = 3 // GitHub or network failure that retries could not overcome
)

// Env is everything a command may touch of the outside world. main passes the real
// process; tests pass buffers, a map-backed environment, a virtual clock and the
// emulators' HTTP clients.
type Env struct {
	Args   []string
	Getenv func(string) string
	Stdout io.Writer
	Stderr io.Writer
	// StdoutIsTerminal is whether Stdout is a terminal (main asks the OS): results are
	// coloured only then, and only when NO_COLOR is unset.
	StdoutIsTerminal bool
	// TerminalWidth is Stdout's width in cells when known (0: termtext.DefaultWidth).
	TerminalWidth int
	// Clock defaults to the wall clock.
	Clock clock.Clock
	// HTTPClient is the base client for GitHub and gateways (default: a fresh client
	// with TLS verification on and no global state).
	HTTPClient *http.Client
	// Dir is the working directory that relative paths in inputs and the environment
	// (the config input, GITHUB_EVENT_PATH) are read from; "" is the process's. Tests set
	// it instead of changing the process's directory. The runner's own files
	// (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY) are absolute on every runner and taken as given.
	Dir string
}

// path resolves a path from an input or the environment against Env.Dir.
func (a *app) path(p string) string {
	if a.env.Dir == "" || p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(a.env.Dir, p)
}

// githubContext reads the workflow run's context (GITHUB_*, the repository input), with
// the event payload's path resolved against Env.Dir.
func (a *app) githubContext() (ghContext, error) {
	c, err := readGitHubContext(a.env.Getenv, a.in.str("repository"))
	c.EventPath = a.path(c.EventPath)
	return c, err
}

type command struct {
	name    string
	summary string
	inputs  []input
	// outputs are the outputs the command writes besides result and report. End-to-end
	// runs check that nothing else is written, and action.yml must declare them all.
	outputs []string
	run     func(ctx context.Context, a *app) error
}

// app is one command invocation: its runner, parsed inputs and injected dependencies.
type app struct {
	env    Env
	runner *actions.Runner
	cmd    *command
	in     values
	stderr io.Writer
	// elapsed, when set, prefixes progress lines (the sandbox shows virtual time).
	elapsed func() string
	// secrets overrides environment variables named by the configuration (the sandbox
	// hands its emulators' credentials in this way).
	secrets map[string]string
	// channelTimeout bounds the channel probe's wait for a reply (0: smoke's default).
	channelTimeout time.Duration
	// pollInterval is how often deploy runs are checked (0: deploy's default).
	pollInterval time.Duration
	// secretStore reads and masks the credentials the configuration names, once per value.
	secretStore *environment.Secrets
}

func commands() []*command {
	return []*command{
		gateCommand(),
		releaseCommand(),
		rollbackCommand(),
		monitorCommand(),
		smokeCommand(),
		configCommand(),
		sandboxCommand(),
		versionCommand(),
	}
}

func findCommand(name string) *command {
	for _, c := range commands() {
		if c.name == name {
			return c
		}
	}
	return nil
}

// Main runs release-action and returns its exit code.
func Main(ctx context.Context, env Env) int {
	if env.Getenv == nil {
		env.Getenv = func(string) string { return "" }
	}
	if env.Stdout == nil {
		env.Stdout = io.Discard
	}
	if env.Stderr == nil {
		env.Stderr = io.Discard
	}
	if env.Clock == nil {
		env.Clock = clock.Real{}
	}
	if env.HTTPClient == nil {
		env.HTTPClient = &http.Client{}
	}
	stdout := &switchWriter{w: env.Stdout}
	runner := actions.New(stdout, env.Getenv)

	var (
		name string
		args []string
	)
	if runner.Actions() {
		name = runner.Input("command")
		if name == "" && len(env.Args) > 0 {
			name, args = env.Args[0], env.Args[1:]
		}
		if name == "" {
			name = "gate"
		}
	} else {
		if len(env.Args) == 0 || env.Args[0] == "-h" || env.Args[0] == "--help" || env.Args[0] == "help" {
			if len(env.Args) > 1 {
				if c := findCommand(env.Args[1]); c != nil {
					printCommandHelp(env.Stdout, c)
					return ExitOK
				}
			}
			printUsage(env.Stdout)
			if len(env.Args) == 0 {
				return ExitBadInput
			}
			return ExitOK
		}
		name, args = env.Args[0], env.Args[1:]
	}
	cmd := findCommand(name)
	if cmd == nil {
		a := &app{env: env, runner: runner, stderr: env.Stderr}
		return a.exit(outcome.BadInputf("unknown command %q: use one of %s", name, strings.Join(commandNames(), ", ")))
	}
	a := &app{env: env, runner: runner, cmd: cmd, stderr: env.Stderr}
	in, help, err := parseInputs(cmd, runner, env.Getenv, args, env.Stdout)
	if help {
		return ExitOK
	}
	if err != nil {
		return a.exit(outcome.BadInput(err))
	}
	a.in = in
	if a.jsonOutput() {
		stdout.w = env.Stderr
	}
	return a.exit(cmd.run(ctx, a))
}

func commandNames() []string {
	var names []string
	for _, c := range commands() {
		names = append(names, c.name)
	}
	sort.Strings(names)
	return names
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "release-action: the Agent Me release runbook, executable.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: release-action <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'release-action <command> --help' for its flags. As a GitHub Action the")
	fmt.Fprintln(w, "`command` input picks the command and flags come from the action's inputs.")
	fmt.Fprintln(w, "Exit codes: 0 pass, 1 blocked or failed, 2 bad input or configuration, 3 GitHub or network failure.")
}

// exit reports how the command ended and returns its exit code: the one place a command's
// end becomes a code. A verdict (outcome.Decision) was already reported by the command;
// any other error is printed here, redacted.
func (a *app) exit(err error) int {
	code := exitCode(err)
	var d *outcome.Decision
	if err == nil || errors.As(err, &d) {
		return code
	}
	msg := a.runner.Redact(err.Error())
	if a.runner.Actions() {
		a.runner.Error(msg, actions.Annotation{Title: "release-action"})
	} else {
		// Messages can quote a server's text: keep terminal escapes and control
		// characters out of the user's terminal, line by line.
		prefix := "error: "
		for _, line := range strings.Split(msg, "\n") {
			fmt.Fprintln(a.stderr, prefix+untrusted.Clean(line))
			prefix = "  "
		}
	}
	return code
}

// exitCode maps how a command ended to its exit code: nil passed (0); a verdict
// (outcome.Decision) fail is 1 and error 3 (an API failure stopped it); bad input the user
// fixes (outcome.ErrBadInput) is 2; anything else is a GitHub or network failure (3).
func exitCode(err error) int {
	var d *outcome.Decision
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &d):
		switch d.Verdict {
		case outcome.Pass, outcome.Scheduled:
			return ExitOK
		case outcome.Error:
			return ExitAPI
		}
		return ExitFailed
	case errors.Is(err, outcome.ErrBadInput):
		return ExitBadInput
	}
	return ExitAPI
}
