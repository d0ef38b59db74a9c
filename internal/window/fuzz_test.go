package window

import (
	"strings"
	"testing"
	"time"

	"github.com/agentme/release-action/internal/config"
)

// FuzzCompile feeds arbitrary window text to Compile: it must refuse with an error naming
// the field, or compile into a schedule whose decisions keep their invariants.
func FuzzCompile(f *testing.F) {
	f.Add("Tue", "02:00", "04:00", "2026-12-20", "2027-01-05", int64(0))
	f.Add("sunday", "2:30", "24:00", "2026-03-08T02:30:00-05:00", "2026-03-09", int64(3600*24*90))
	f.Add("Fri", "22:00", "02:00", "", "", int64(-3600*24*40))
	f.Add("x", "24:00", "12:60", "2026-02-30", "tomorrow", int64(1))
	start := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, day, from, to, freezeFrom, freezeTo string, offset int64) {
		w := config.Window{Timezone: "America/New_York", Weekly: []config.WeeklyWindow{{Days: []string{day}, Start: from, End: to}}}
		if freezeFrom != "" || freezeTo != "" {
			w.Freeze = []config.Freeze{{From: freezeFrom, To: freezeTo}}
		}
		s, err := Compile(w)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "window.") {
				t.Fatalf("error does not name the field: %v", err)
			}
			return
		}
		now := start.Add(time.Duration(offset%(3*365*24*3600)) * time.Second)
		d := s.Decide(now)
		switch {
		case d.Open && !d.ClosesAt.IsZero():
			if !d.ClosesAt.After(now) || s.Decide(d.ClosesAt).Open {
				t.Fatalf("at %s open until %s, which is not a later closed instant", now, d.ClosesAt)
			}
		case !d.Open && !d.NextOpen.IsZero():
			if !d.NextOpen.After(now) || !s.Decide(d.NextOpen).Open || s.Decide(d.NextOpen.Add(-time.Nanosecond)).Open {
				t.Fatalf("at %s closed until %s, which is not where it opens", now, d.NextOpen)
			}
		}
	})
}
