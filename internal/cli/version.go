package cli

import (
	"context"
	"fmt"
	"runtime/debug"
	"strings"
)

// Set at build time (see .ci/build-binaries):
//
//	-ldflags "-X .../internal/cli.version=v1.2.3 -X .../internal/cli.commit=<sha> -X .../internal/cli.image=<ref@sha256:…>"
//
// image is set only on binaries built after their image was pushed (the release's CLI
// downloads): a binary inside an image cannot name that image's digest, which depends on
// the binary itself. For the action, the release tag's action.yml names it.
var version, commit, image string

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

// versionText is what `release-action version` prints: the version, then the commit and
// the image when they are known (the linker's values, else the VCS stamp of the build).
func versionText(bi *debug.BuildInfo, ok bool) string {
	c := buildCommit(bi, ok)
	var b strings.Builder
	fmt.Fprintf(&b, "release-action %s\n", Version())
	if c != "" {
		fmt.Fprintf(&b, "commit: %s\n", c)
	}
	if image != "" {
		fmt.Fprintf(&b, "image:  %s\n", image)
	}
	return b.String()
}

// buildCommit is the linker's commit, else the VCS stamp of the build, else "".
func buildCommit(bi *debug.BuildInfo, ok bool) string {
	c := commit
	if c == "" && ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				c = s.Value
			}
			if s.Key == "vcs.modified" && s.Value == "true" && c != "" {
				c += " (modified)"
			}
		}
	}
	return c
}

func versionCommand() *command {
	return &command{
		name:    "version",
		summary: "print the version, commit and image digest of this build",
		run: func(_ context.Context, a *app) error {
			bi, ok := debug.ReadBuildInfo()
			if a.jsonOutput() {
				return a.printJSON(map[string]string{"command": "version", "version": Version(), "commit": buildCommit(bi, ok), "image": image})
			}
			fmt.Fprint(a.env.Stdout, versionText(bi, ok))
			return nil
		},
	}
}
