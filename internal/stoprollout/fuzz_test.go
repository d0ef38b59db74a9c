package stoprollout_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/agentme/release-action/internal/stoprollout"
)

// FuzzRunIDOfURL: a run id is only ever read from a /actions/runs/<digits> segment, and
// is then exactly those digits.
func FuzzRunIDOfURL(f *testing.F) {
	for _, s := range []string{"https://github.com/o/r/actions/runs/12/attempts/2", "/actions/runs/0", "/actions/runs/", "x/actions/runs/9?y", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id := stoprollout.RunIDOfURL(s)
		if id < 0 {
			t.Fatalf("negative id %d from %q", id, s)
		}
		if id > 0 && !strings.Contains(s, "/actions/runs/"+strconv.FormatInt(id, 10)) {
			t.Fatalf("id %d not in %q", id, s)
		}
	})
}
