package pinimage

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Exit codes of Main, the action's own: 0 done, 1 -check found no digest pin, 2 bad input.
const (
	exitOK      = 0
	exitFail    = 1
	exitBadArgs = 2
)

const usage = `usage:
  pinimage -image ghcr.io/OWNER/NAME@sha256:<64 hex> [-file action.yml]
      rewrite runs.image to docker://<image>, in place; every other byte stays
  pinimage -check [-file action.yml]
      exit 0 and print runs.image when it is pinned by digest, else exit 1
`

// Main is the command line of cmd/pinimage (go run ./internal/pinimage/cmd).
func Main(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("pinimage", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	file := fs.String("file", "action.yml", "the action metadata file")
	image := fs.String("image", "", "image reference pinned by digest (name@sha256:<hex>)")
	check := fs.Bool("check", false, "only check that runs.image is pinned by digest")
	if err := fs.Parse(args); err != nil {
		return exitBadArgs
	}
	if fs.NArg() > 0 || (*image == "") == !*check {
		fmt.Fprint(stderr, usage)
		return exitBadArgs
	}
	src, err := os.ReadFile(*file)
	if err != nil {
		fmt.Fprintf(stderr, "pinimage: %v\n", err)
		return exitBadArgs
	}
	if *check {
		img, err := Image(src)
		if err != nil {
			fmt.Fprintf(stderr, "pinimage: %s: %v\n", *file, err)
			return exitBadArgs
		}
		if !IsPinned(img) {
			fmt.Fprintf(stderr, "pinimage: %s: runs.image is %q, not an image pinned by digest (docker://name@sha256:<hex>): run the release workflow, which pins it\n", *file, img)
			return exitFail
		}
		fmt.Fprintln(stdout, img)
		return exitOK
	}
	out, err := Pin(src, *image)
	if err != nil {
		fmt.Fprintf(stderr, "pinimage: %s: %v\n", *file, err)
		if errors.Is(err, ErrInvalid) {
			return exitBadArgs
		}
		return exitFail
	}
	if err := writeFile(*file, out); err != nil {
		fmt.Fprintf(stderr, "pinimage: %v\n", err)
		return exitFail
	}
	img, _ := Image(out)
	fmt.Fprintf(stdout, "%s: runs.image is now %s\n", *file, img)
	return exitOK
}

// writeFile replaces path atomically (temporary file in the same directory, then
// rename), keeping its mode: a failed write never leaves half a file.
func writeFile(path string, data []byte) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".pinimage-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(fi.Mode().Perm()); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
