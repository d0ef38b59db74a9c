package gate

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/github"
)

// TestRealReporterOutput runs the parser on what the real tools printed: vitest 2, 3, 4
// and 5 and jest 29 and 30, with and without projects, plain, FORCE_COLOR and CI colour,
// with retries (testdata/reporters/generate.sh made them; VERSIONS says with what). Each
// output is wrapped in a job log the way the runner writes it (timestamps, a previous
// step, the step's "##[group]Run" header) and read through the step's structure.
//
// The contract: a file passed only when it ran at least one test and none failed; a
// file whose tests were all skipped is "skipped" (vitest prints it; jest prints nothing
// for it, so it did not run); a file absent from the output did not run.
func TestRealReporterOutput(t *testing.T) {
	logs, err := filepath.Glob("../../testdata/reporters/out/*.log")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(logs), 72, "run testdata/reporters/generate.sh")
	majors := map[string]bool{}
	for _, path := range logs {
		name := strings.TrimSuffix(filepath.Base(path), ".log")
		parts := strings.Split(name, "-") // tool, major, layout, suite, colour
		require.Len(t, parts, 5, name)
		tool, suite := parts[0], parts[3]
		majors[parts[0]+parts[1]] = true
		t.Run(name, func(t *testing.T) {
			out, err := os.ReadFile(path)
			require.NoError(t, err)
			log, steps := wrapInJobLog(out)
			sl := stepLines(log, steps, "Tests")
			require.True(t, sl.found, sl.why)
			want := map[string]string{
				"test/unit/passing.test.js":        FilePassed,
				"test/unit/partly-skipped.test.js": FilePassed,
				"test/security/auth.test.js":       FilePassed,
				"test/security/flaky.test.js":      FilePassed, // failed once, passed on a retry
				"test/unit/failing.test.js":        FileDidNotRun,
				"test/security/skipped.test.js":    FileDidNotRun,
				"test/unit/absent.test.js":         FileDidNotRun,
			}
			if suite == "mixed" {
				want["test/unit/failing.test.js"] = FileFailed
				if tool == "vitest" {
					want["test/security/skipped.test.js"] = FileSkipped
				}
			}
			for _, reporter := range []string{ReporterAuto, tool} {
				rep := ParseTestLog(sl.lines, reporter)
				for file, res := range want {
					got := FileDidNotRun
					for _, o := range rep.Matching(file) {
						got = o.Result()
					}
					assert.Equal(t, res, got, "%s with reporter %s", file, reporter)
				}
				// The same output read as the whole log must agree: the structure only
				// narrows what is read.
				whole := ParseTestLog(LogLines(log, time.Time{}, time.Time{}), reporter)
				for file, res := range want {
					if file == "test/unit/absent.test.js" {
						continue // the previous step printed it: only the step's structure tells
					}
					got := FileDidNotRun
					for _, o := range whole.Matching(file) {
						got = o.Result()
					}
					assert.Equal(t, res, got, "%s in the whole log", file)
				}
			}
		})
	}
	for _, m := range []string{"vitest2", "vitest3", "vitest4", "vitest5", "jest29", "jest30"} {
		assert.True(t, majors[m], "no fixture from %s", m)
	}
}

// wrapInJobLog stamps a tool's output as the runner would: a "Set up job", a previous
// step that prints a pass line for a file of its own, then the step "Tests".
func wrapInJobLog(out []byte) ([]byte, []github.Step) {
	base := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	var b strings.Builder
	b.WriteString("\ufeff")
	stamp := func(at time.Time, l string) {
		fmt.Fprintf(&b, "%s %s\n", at.Format("2006-01-02T15:04:05.0000000Z"), l)
	}
	stamp(base, "Current runner version: '2.329.0'")
	stamp(base.Add(time.Second), "##[group]Run pnpm lint")
	stamp(base.Add(time.Second), "##[endgroup]")
	stamp(base.Add(2*time.Second+900*time.Millisecond), " ✓ test/unit/absent.test.js (3 tests) 4ms")
	stamp(base.Add(3*time.Second+100*time.Millisecond), "##[group]Run npx vitest run")
	stamp(base.Add(3*time.Second+100*time.Millisecond), "npx vitest run")
	stamp(base.Add(3*time.Second+100*time.Millisecond), "shell: /usr/bin/bash -e {0}")
	stamp(base.Add(3*time.Second+200*time.Millisecond), "##[endgroup]")
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	for i, l := range lines {
		stamp(base.Add(4*time.Second+time.Duration(i)*time.Millisecond), l)
	}
	stamp(base.Add(9*time.Second), "Cleaning up orphan processes")
	step := func(n int, name string, from, to int) github.Step {
		return github.Step{Name: name, Number: n, Status: "completed", Conclusion: "success",
			StartedAt: base.Add(time.Duration(from) * time.Second), CompletedAt: base.Add(time.Duration(to) * time.Second)}
	}
	return []byte(b.String()), []github.Step{step(1, "Set up job", 0, 1), step(2, "Lint", 1, 3), step(3, "Tests", 3, 8), step(4, "Complete job", 9, 9)}
}
