package deploy

import (
	"context"
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/github"
)

func TestDescription(t *testing.T) {
	long := strings.Repeat("x", 200)
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"short", "deploying (run 5)", "release-action: deploying (run 5)"},
		{"exactly 140", strings.Repeat("y", 124), "release-action: " + strings.Repeat("y", 124)},
		{"141 is cut", strings.Repeat("y", 125), "release-action: " + strings.Repeat("y", 123) + "…"},
		{"long", long, "release-action: " + strings.Repeat("x", 123) + "…"},
		{"cut on a rune boundary", strings.Repeat("ü", 130), "release-action: " + strings.Repeat("ü", 123) + "…"},
		{"emoji", strings.Repeat("🚀", 200), "release-action: " + strings.Repeat("🚀", 123) + "…"},
		{"control characters", "smoke failed: a\nb\r\n::error::x\x1b[31mred\x7f", "release-action: smoke failed: a b  ::error::x [31mred "},
		{"format characters and invalid UTF-8", "rolled back: \u202eevil\u200b \xff\xfeok", "release-action: rolled back: evil ok"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Description(tc.in)
			assert.Equal(t, tc.want, got)
			assert.LessOrEqual(t, utf8.RuneCountInString(got), MaxDescription)
			assert.True(t, utf8.ValidString(got))
		})
	}
}

func FuzzDescription(f *testing.F) {
	for _, s := range []string{"", "deploying (run 5)", strings.Repeat("é", 150), "a\nb\u202e", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Description(s)
		if !strings.HasPrefix(got, Prefix) {
			t.Fatalf("%q lost the prefix", got)
		}
		if n := utf8.RuneCountInString(got); n > MaxDescription {
			t.Fatalf("%q has %d characters", got, n)
		}
		if !utf8.ValidString(got) {
			t.Fatalf("%q is not valid UTF-8", got)
		}
		for _, r := range got {
			if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
				t.Fatalf("%q keeps %U", got, r)
			}
		}
		// The stage of a status is what its text starts with, whatever follows.
		if StageOf(github.DeploymentStatus{State: "failure", Description: Description("smoke failed: " + s)}) != StageSmokeFailed {
			t.Fatalf("smoke failed + %q is not read back as smoke failed", s)
		}
	})
}

func FuzzRunOf(f *testing.F) {
	for _, s := range []string{"deploying (run 5)", "deploy failed: run 7 concluded failure", "deploy error: run 99999999999999999999 ran x", "deploy (run -1)"} {
		f.Add(s, "https://github.example/o/r/actions/runs/12")
	}
	f.Fuzz(func(t *testing.T, desc, logURL string) {
		id := runOf(github.DeploymentStatus{State: "in_progress", Description: Prefix + desc, LogURL: logURL})
		if id < 0 {
			t.Fatalf("negative run %d", id)
		}
		if id != 0 && !strings.HasPrefix(desc, "deploy") {
			t.Fatalf("run %d read from %q, which Deploy never writes", id, desc)
		}
	})
}

func TestRunOf(t *testing.T) {
	tests := []struct {
		state, desc, log string
		want             int64
	}{
		{"in_progress", "release-action: deploying (run 555)", "", 555},
		{"in_progress", "release-action: deploying", runURL(12), 12},
		{"in_progress", "release-action: deploying", runURL(12) + "/job/3", 12},
		{"in_progress", "release-action: deployed; validating", runURL(13), 13},
		{"failure", "release-action: deploy failed: run 14 concluded failure", runURL(99), 14},
		{"error", "release-action: deploy error: run 15 ran fedcba9, not the candidate 0123456", "", 15},
		{"error", "release-action: deploy error: timed out after 30m; run 16 was in_progress", "", 0},
		{"success", "release-action: deployed and validated", runURL(1), 0},
		{"failure", "release-action: smoke failed: probe (run 5)", runURL(1), 0},
		{"in_progress", "deploying (run 5)", runURL(5), 0},
		{"in_progress", "release-action: deploying", "https://github.example/o/r/actions/runs/12abc", 0},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			assert.Equal(t, tc.want, runOf(github.DeploymentStatus{State: tc.state, Description: tc.desc, LogURL: tc.log}))
		})
	}
}

func TestMark(t *testing.T) {
	logURL := "https://github.example/o/r/actions/runs/1"
	f := newFake(t)
	id := f.addDeployment("production", testSHA, t0, true)
	ctx := context.Background()
	require.NoError(t, MarkValidated(ctx, f, id, envURL, logURL))
	require.NoError(t, MarkSmokeFailed(ctx, f, id, "probes channel, tool-call failed:\n"+strings.Repeat("z", 200), logURL))
	require.NoError(t, MarkSmokeFailed(ctx, f, id, " ", logURL))
	require.NoError(t, MarkRolledBack(ctx, f, id, "error rate 5% for 3 intervals", logURL))
	require.NoError(t, MarkRolledBack(ctx, f, id, "", ""))
	const smokeHead = "release-action: smoke failed: probes channel, tool-call failed: "
	assert.Equal(t, []written{
		{"success", "release-action: deployed and validated", logURL, envURL},
		{"failure", smokeHead + strings.Repeat("z", MaxDescription-1-len(smokeHead)) + "…", logURL, ""},
		{"failure", "release-action: smoke failed", logURL, ""},
		{"failure", "release-action: rolled back: error rate 5% for 3 intervals", logURL, ""},
		{"failure", "release-action: rolled back", "", ""},
	}, f.statusesOf(id))

	st, err := Inspect(ctx, f, "production", testSHA, 0, t0)
	require.NoError(t, err)
	assert.Equal(t, StageRolledBack, st.Stage)

	f.statusErr = errors.New("boom")
	err = MarkRolledBack(ctx, f, id, "x", "")
	require.EqualError(t, err, `add status failure "rolled back: x" to deployment 1001: boom`)
}
