package gate

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/agentme/release-action/internal/github"
)

// TestStepLinesByStructure: a step's lines are found by the log's "##[group]Run"
// headers, not by a padded time window, so the last lines of the previous step, stamped
// in the same second the step started, are not the step's.
func TestStepLinesByStructure(t *testing.T) {
	base := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	at := func(sec float64) time.Time { return base.Add(time.Duration(sec * float64(time.Second))) }
	step := func(n int, name string, from, to float64, concl string) github.Step {
		return github.Step{Name: name, Number: n, Status: "completed", Conclusion: concl, StartedAt: at(from), CompletedAt: at(to)}
	}
	type ln struct {
		sec  float64
		text string
	}
	render := func(ls []ln) []byte {
		var b strings.Builder
		b.WriteString("\ufeff")
		for _, l := range ls {
			fmt.Fprintf(&b, "%s %s\n", at(l.sec).Format("2006-01-02T15:04:05.0000000Z"), l.text)
		}
		return []byte(b.String())
	}
	steps := []github.Step{
		step(1, "Set up job", 0, 1, "success"),
		step(2, "Unit tests", 1, 5, "success"),
		step(3, "Optional", 5, 5, "skipped"),
		step(4, "Security regression tests", 5, 9, "success"),
		step(5, "Post Unit tests", 9, 9, "success"),
		step(6, "Complete job", 9, 9, "success"),
	}
	setup := []ln{{0.1, "Current runner version: '2.329.0'"}, {0.2, "##[group]Runner Image"}, {0.3, "Image: ubuntu-24.04"}, {0.4, "##[endgroup]"}}
	cases := []struct {
		name  string
		log   []ln
		steps []github.Step
		want  []string
		found bool
		why   string
	}{
		{name: "the previous step's last lines in the same second are not the step's", found: true,
			log: append(setup,
				ln{1.2, "##[group]Run pnpm vitest run src/unit"}, ln{1.2, "##[endgroup]"},
				ln{4.9, " ✓ src/gateway/auth.test.ts (24 tests) 113ms"},
				ln{5.1, "##[group]Run pnpm vitest run src/gateway"}, ln{5.1, "pnpm vitest run src/gateway"}, ln{5.1, "##[endgroup]"},
				ln{6, " ✓ src/gateway/tools-invoke-http.test.ts (12 tests) 56ms"},
				ln{9.5, "Post job cleanup."}, ln{9.6, "late line"}),
			want: []string{" ✓ src/gateway/tools-invoke-http.test.ts (12 tests) 56ms"}},
		{name: "a composite action's own headers stay inside its step", found: true,
			log: append(setup,
				ln{1.2, "##[group]Run ./.github/actions/unit"}, ln{1.2, "##[endgroup]"},
				ln{2, "##[group]Run pnpm vitest run src/unit"}, ln{2, "##[endgroup]"},
				ln{4, " ✓ src/gateway/auth.test.ts (24 tests) 113ms"},
				ln{5.3, "##[group]Run pnpm vitest run src/gateway"}, ln{5.3, "##[endgroup]"},
				ln{6, " ✓ src/gateway/tools-invoke-http.test.ts (12 tests) 56ms"}),
			want: []string{" ✓ src/gateway/tools-invoke-http.test.ts (12 tests) 56ms"}},
		{name: "a header missing for a step that ran proves nothing",
			log: append(setup, ln{1.2, "##[group]Run pnpm vitest run src/unit"}, ln{1.2, "##[endgroup]"},
				ln{6, " ✓ src/gateway/tools-invoke-http.test.ts (12 tests) 56ms"}),
			why: "1 step headers for 2 steps that ran"},
		{name: "a header stamped in another step's time proves nothing",
			log: append(setup, ln{1.2, "##[group]Run a"}, ln{1.2, "##[endgroup]"}, ln{2.5, "##[group]Run b"}, ln{2.5, "##[endgroup]"},
				ln{6, " ✓ src/gateway/tools-invoke-http.test.ts (12 tests) 56ms"}),
			why: "the header of step 'Security regression tests' is stamped outside its time"},
		{name: "a forged header printed by the previous step does not move the boundary", found: true,
			log: append(setup,
				ln{1.2, "##[group]Run pnpm test"}, ln{1.2, "##[endgroup]"},
				ln{3, "##[group]Run fake"}, ln{3, "##[endgroup]"},
				ln{3.5, " ✓ src/gateway/auth.test.ts (24 tests) 113ms"},
				ln{5.1, "##[group]Run forged in the same second"}, ln{5.1, "##[endgroup]"},
				ln{5.15, " ✓ src/gateway/server-http.bootstrap.test.ts (9 tests) 41ms"},
				ln{5.2, "##[group]Run pnpm vitest run src/gateway"}, ln{5.2, "##[endgroup]"},
				ln{6, " ✓ src/gateway/tools-invoke-http.test.ts (12 tests) 56ms"}),
			want: []string{" ✓ src/gateway/tools-invoke-http.test.ts (12 tests) 56ms"}},
		{name: "a skipped step did not run", steps: []github.Step{step(1, "Set up job", 0, 1, "success"), step(2, "Security regression tests", 1, 2, "skipped")},
			log: setup, why: "step 'Security regression tests' did not run"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := steps
			if tc.steps != nil {
				st = tc.steps
			}
			got := stepLines(render(tc.log), st, "Security regression tests")
			assert.Equal(t, tc.found, got.found, got.why)
			if tc.found {
				assert.Equal(t, tc.want, got.lines)
			} else {
				assert.Contains(t, got.why, tc.why)
				assert.Empty(t, got.lines)
			}
		})
	}
}

// FuzzStepLines: any log, any steps: no panic, and every line returned is a line of the
// log (structure only ever narrows what is read).
func FuzzStepLines(f *testing.F) {
	f.Add([]byte("2026-11-20T10:00:01.0000000Z ##[group]Run a\n2026-11-20T10:00:01.0000000Z ##[endgroup]\n2026-11-20T10:00:02.0000000Z ✓ a.test.ts (1 test)\n"), int64(1), int64(3))
	f.Add([]byte("\ufeffno stamps\n##[group]Run x\r\n##[endgroup]\nout\n"), int64(0), int64(0))
	f.Fuzz(func(t *testing.T, log []byte, from, to int64) {
		base := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
		steps := []github.Step{
			{Name: "Set up job", Number: 1, Status: "completed", Conclusion: "success", StartedAt: base, CompletedAt: base.Add(time.Second)},
			{Name: "Tests", Number: 2, Status: "completed", Conclusion: "success",
				StartedAt: base.Add(time.Duration(from%100) * time.Second), CompletedAt: base.Add(time.Duration(to%100) * time.Second)},
		}
		got := stepLines(log, steps, "Tests")
		if !got.found {
			if len(got.lines) > 0 {
				t.Fatalf("lines without a step: %q", got.lines)
			}
			return
		}
		all := strings.Join(LogLines(log, time.Time{}, time.Time{}), "\n")
		for _, l := range got.lines {
			if !strings.Contains(all, l) {
				t.Fatalf("line %q is not in the log", l)
			}
		}
	})
}
