// Command release-action runs the Agent Me release runbook: as a GitHub Action when
// GITHUB_ACTIONS=true, otherwise as a CLI. Everything lives in internal/cli.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // maintenance windows name IANA zones; the image has no zoneinfo

	"golang.org/x/term"

	"github.com/agentme/release-action/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// Whether stdout is a terminal decides colour; it is asked here, once, so nothing
	// below main looks at the process.
	fd := int(os.Stdout.Fd())
	tty := term.IsTerminal(fd)
	width := 0
	if tty {
		if w, _, err := term.GetSize(fd); err == nil {
			width = w
		}
	}
	code := cli.Main(ctx, cli.Env{
		Args:             os.Args[1:],
		Getenv:           os.Getenv,
		Stdout:           os.Stdout,
		Stderr:           os.Stderr,
		StdoutIsTerminal: tty,
		TerminalWidth:    width,
	})
	stop()
	os.Exit(code)
}
