package announce

import (
	"strings"
	"testing"
)

// FuzzScrub: whatever text wraps it, a webhook URL never survives scrub.
func FuzzScrub(f *testing.F) {
	f.Add("post: dial tcp: ", "https://hooks.slack.com/services/T0/B0/SECRET", " refused")
	f.Add("", "http://127.0.0.1:1/x?token=abcd", "")
	f.Fuzz(func(t *testing.T, before, raw, after string) {
		if len(raw) < 4 {
			return
		}
		got := scrub(before+raw+after, raw)
		if strings.Contains(got, raw) {
			t.Fatalf("scrub(%q) kept the URL: %q", before+raw+after, got)
		}
	})
}
