package termtext_test

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/termtext"
)

var update = flag.Bool("update", false, "rewrite the .txt goldens from the Markdown goldens")

// leftovers are Markdown that must never reach a terminal: a backslash escape, an HTML
// entity, a link or a code fence. None of the goldens' texts holds them literally.
var leftovers = regexp.MustCompile("\\\\[!-/:-@\\[-`{-~]|&(amp|lt|gt|quot|#[0-9]+|#x[0-9a-fA-F]+);|\\]\\(https?:|`|<details>|</?summary>")

// TestGoldenSummaries renders every golden step summary (the summary package's unit
// goldens and the CLI's end-to-end goldens) as terminal text and compares it with the
// committed .txt golden. A summary golden that changes makes this test fail until its
// text rendering is looked at and regenerated with -update.
func TestGoldenSummaries(t *testing.T) {
	sources := []struct{ dir, glob, out string }{
		{"../summary/testdata", "*.md.golden", "testdata/summary"},
		{"../cli/testdata/golden", "*.md", "testdata/cli"},
	}
	seen := 0
	for _, src := range sources {
		files, err := filepath.Glob(filepath.Join(src.dir, src.glob))
		require.NoError(t, err)
		require.NotEmpty(t, files, "no goldens in %s", src.dir)
		for _, f := range files {
			name := strings.TrimSuffix(strings.TrimSuffix(filepath.Base(f), ".golden"), ".md") + ".txt"
			t.Run(filepath.Base(src.out)+"/"+name, func(t *testing.T) {
				md, err := os.ReadFile(f)
				require.NoError(t, err)
				got := termtext.Render(string(md), termtext.Options{})
				assertPlain(t, got)
				coloured := termtext.Render(string(md), termtext.Options{Color: true})
				assert.Equal(t, got, stripSGR(coloured), "colour must only add SGR codes")

				path := filepath.Join(src.out, name)
				if *update {
					require.NoError(t, os.MkdirAll(src.out, 0o755))
					require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
				}
				want, err := os.ReadFile(path)
				require.NoError(t, err, "run go test ./internal/termtext -update")
				assert.Equal(t, string(want), got)
			})
			seen++
		}
	}
	// Every committed .txt golden has a Markdown golden behind it: a removed summary
	// golden must not leave a stale rendering behind.
	txt, err := filepath.Glob("testdata/*/*.txt")
	require.NoError(t, err)
	assert.Len(t, txt, seen)
}

func assertPlain(t *testing.T, got string) {
	t.Helper()
	for i, ln := range strings.Split(got, "\n") {
		assert.False(t, leftovers.MatchString(ln), "line %d keeps Markdown: %q", i+1, ln)
		for _, r := range ln {
			assert.False(t, r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0), "line %d holds control character %U", i+1, r)
		}
	}
}

var sgr = regexp.MustCompile(`\x1b\[[0-9;]*m`)

func stripSGR(s string) string { return sgr.ReplaceAllString(s, "") }
