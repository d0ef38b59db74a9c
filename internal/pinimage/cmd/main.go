// Command pinimage points action.yml's runs.image at an image pinned by digest; the
// release workflow runs it on the release commit. See package pinimage.
package main

import (
	"os"

	"github.com/agentme/release-action/internal/pinimage"
)

func main() {
	os.Exit(pinimage.Main(os.Args[1:], os.Stdout, os.Stderr))
}
