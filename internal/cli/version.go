package cli

import (
	"context"
	"fmt"
	"runtime/debug"
)

// version is set at build time with -ldflags "-X .../internal/cli.version=v1.2.3".
var version = ""

// Version reports the build's version: the linker-set value, else the module version
// recorded by `go install`, else "dev".
func Version() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

func versionCommand() *command {
	return &command{
		name:    "version",
		summary: "print the version",
		run: func(_ context.Context, a *app) error {
			if a.jsonOutput() {
				return a.printJSON(map[string]string{"command": "version", "version": Version()})
			}
			fmt.Fprintln(a.env.Stdout, "release-action "+Version())
			return nil
		},
	}
}
