package window

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // zones must load without the system's tzdata

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/config"
)

func wk(days, start, end string) config.WeeklyWindow {
	return config.WeeklyWindow{Days: strings.Split(days, ","), Start: start, End: end}
}

func fz(from, to, reason string) config.Freeze {
	return config.Freeze{From: from, To: to, Reason: reason}
}

func ts(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	require.NoError(t, err)
	return v
}

func mustLoc(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	require.NoError(t, err)
	return loc
}

func mustCompile(t testing.TB, w config.Window) *Schedule {
	t.Helper()
	s, err := Compile(w)
	require.NoError(t, err)
	return s
}

// designWindow is the production window of the example configuration in DESIGN.md.
func designWindow() config.Window {
	return config.Window{
		Timezone: "Australia/Brisbane",
		Weekly:   []config.WeeklyWindow{wk("Tue,Thu", "02:00", "04:00")},
		Freeze:   []config.Freeze{fz("2026-12-20", "2027-01-05", "holidays")},
		MaxWait:  config.Duration(2 * time.Hour),
	}
}

func TestCompileErrors(t *testing.T) {
	base := func(mod func(*config.Window)) config.Window {
		w := designWindow()
		w.Weekly = append([]config.WeeklyWindow(nil), w.Weekly...)
		w.Freeze = append([]config.Freeze(nil), w.Freeze...)
		mod(&w)
		return w
	}
	tests := []struct {
		name string
		win  config.Window
		want []string // substrings of the error
	}{
		{"empty zone", base(func(w *config.Window) { w.Timezone = "" }), []string{"window.timezone", "empty"}},
		{"unknown zone", base(func(w *config.Window) { w.Timezone = "Mars/Olympus" }), []string{"window.timezone", `"Mars/Olympus"`}},
		{"local zone", base(func(w *config.Window) { w.Timezone = "Local" }), []string{"window.timezone", `"Local"`}},
		{"negative max-wait", base(func(w *config.Window) { w.MaxWait = config.Duration(-time.Minute) }), []string{"window.max-wait", "-1m0s"}},
		{"no days", base(func(w *config.Window) { w.Weekly[0].Days = nil }), []string{"window.weekly[0].days", "empty"}},
		{"bad day", base(func(w *config.Window) { w.Weekly[0].Days = []string{"Tue", "Thursd"} }), []string{"window.weekly[0].days[1]", `"Thursd"`}},
		{"hour 25", base(func(w *config.Window) { w.Weekly[0].Start = "25:00" }), []string{"window.weekly[0].start", `"25:00"`}},
		{"start 24:00", base(func(w *config.Window) { w.Weekly[0].Start = "24:00" }), []string{"window.weekly[0].start", `"24:00"`}},
		{"minute 60", base(func(w *config.Window) { w.Weekly[0].End = "12:60" }), []string{"window.weekly[0].end", `"12:60"`}},
		{"end 24:01", base(func(w *config.Window) { w.Weekly[0].End = "24:01" }), []string{"window.weekly[0].end", `"24:01"`}},
		{"one-digit minute", base(func(w *config.Window) { w.Weekly[0].Start = "2:0" }), []string{"window.weekly[0].start", `"2:0"`}},
		{"seconds", base(func(w *config.Window) { w.Weekly[0].Start = "02:00:00" }), []string{"window.weekly[0].start", `"02:00:00"`}},
		{"empty end", base(func(w *config.Window) { w.Weekly[0].End = "" }), []string{"window.weekly[0].end", `""`}},
		{"sign", base(func(w *config.Window) { w.Weekly[0].Start = "+2:00" }), []string{"window.weekly[0].start", `"+2:00"`}},
		{"bad freeze date", base(func(w *config.Window) { w.Freeze[0].To = "2027-13-01" }), []string{"window.freeze[0].to", `"2027-13-01"`}},
		{"empty freeze from", base(func(w *config.Window) { w.Freeze[0].From = "" }), []string{"window.freeze[0].from", "empty"}},
		{"freeze backwards", base(func(w *config.Window) { w.Freeze[0].To = "2026-12-19" }), []string{"window.freeze[0]", `"2026-12-19"`, `"2026-12-20"`}},
		{"freeze empty instant range", base(func(w *config.Window) {
			w.Freeze = append(w.Freeze, fz("2027-02-01T00:00:00Z", "2027-02-01T00:00:00Z", ""))
		}), []string{"window.freeze[1]", "2027-02-01T00:00:00Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Compile(tt.win)
			require.Error(t, err)
			assert.Nil(t, s)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestCompileAccepts(t *testing.T) {
	s, err := Compile(config.Window{
		Timezone: " Europe/Berlin ",
		Weekly: []config.WeeklyWindow{
			{Days: []string{"monday", "TUE", " Wednesday ", "tue"}, Start: "9:00", End: "24:00"},
			{Days: []string{"Sun"}, Start: "22:00", End: "00:00"},
		},
		Freeze: []config.Freeze{fz("2026-12-24", "2026-12-24", ""), fz("2027-01-01T00:00:00+01:00", "2027-01-02", "")},
	})
	require.NoError(t, err)
	assert.Equal(t, "Mon, Tue, Wed 09:00-24:00; Sun 22:00-24:00 Europe/Berlin", s.String())
	assert.Equal(t, "Europe/Berlin", s.Location().String())
	assert.Equal(t, 2*time.Hour, mustCompile(t, designWindow()).MaxWait())
}

// TestWallInstant pins the DST resolution: a skipped wall time opens when the gap ends, a
// repeated one at its first occurrence, whatever time.Date itself picks in that zone.
func TestWallInstant(t *testing.T) {
	tests := []struct {
		zone   string
		day    civil
		minute int
		want   string
	}{
		// spring forward: 02:00-03:00 does not exist
		{"America/New_York", civil{2026, 3, 8}, 2*60 + 30, "2026-03-08T03:00:00-04:00"},
		{"America/New_York", civil{2026, 3, 8}, 2 * 60, "2026-03-08T03:00:00-04:00"},
		{"America/New_York", civil{2026, 3, 8}, 3 * 60, "2026-03-08T03:00:00-04:00"},
		{"America/New_York", civil{2026, 3, 8}, 60 + 59, "2026-03-08T01:59:00-05:00"},
		{"Europe/Berlin", civil{2026, 3, 29}, 2*60 + 30, "2026-03-29T03:00:00+02:00"},
		{"Australia/Sydney", civil{2026, 10, 4}, 2*60 + 30, "2026-10-04T03:00:00+11:00"},
		// fall back: the first occurrence
		{"America/New_York", civil{2026, 11, 1}, 60 + 30, "2026-11-01T01:30:00-04:00"},
		{"America/New_York", civil{2026, 11, 1}, 2 * 60, "2026-11-01T02:00:00-05:00"},
		{"Europe/Berlin", civil{2026, 10, 25}, 2*60 + 30, "2026-10-25T02:30:00+02:00"},
		{"Europe/Berlin", civil{2026, 10, 25}, 2 * 60, "2026-10-25T02:00:00+02:00"},
		{"Europe/Berlin", civil{2026, 10, 25}, 3 * 60, "2026-10-25T03:00:00+01:00"},
		{"Australia/Sydney", civil{2026, 4, 5}, 2*60 + 30, "2026-04-05T02:30:00+11:00"},
		{"Australia/Sydney", civil{2026, 4, 5}, 3 * 60, "2026-04-05T03:00:00+10:00"},
		// no DST; 24:00 is the next midnight
		{"Australia/Brisbane", civil{2026, 12, 1}, 2 * 60, "2026-12-01T02:00:00+10:00"},
		{"Australia/Brisbane", civil{2026, 12, 31}, 24 * 60, "2027-01-01T00:00:00+10:00"},
		// a whole skipped day (Samoa, 2011-12-30): the first instant after it
		{"Pacific/Apia", civil{2011, 12, 30}, 12 * 60, "2011-12-31T00:00:00+14:00"},
	}
	for _, tt := range tests {
		t.Run(tt.zone+" "+tt.want, func(t *testing.T) {
			got := wallInstant(mustLoc(t, tt.zone), tt.day, tt.minute)
			assert.Equal(t, tt.want, got.Format(time.RFC3339))
		})
	}
}

// TestWallInstantMatchesBruteForce compares the resolution with a minute-by-minute search
// on every day around every transition of several zones, including half-hour (Lord Howe)
// and two-hour (Troll) shifts and transitions at midnight (Santiago, Havana).
func TestWallInstantMatchesBruteForce(t *testing.T) {
	zones := []string{"America/New_York", "Europe/Berlin", "Australia/Sydney", "Australia/Lord_Howe",
		"Antarctica/Troll", "America/Santiago", "America/Havana", "Pacific/Apia"}
	for _, zone := range zones {
		loc := mustLoc(t, zone)
		for _, tr := range transitions(loc, time.Date(2011, 6, 1, 0, 0, 0, 0, time.UTC), time.Date(2028, 1, 1, 0, 0, 0, 0, time.UTC)) {
			if tr.Year() < 2025 && zone != "Pacific/Apia" {
				continue
			}
			for _, day := range []civil{dateOf(tr.In(loc)).add(-1), dateOf(tr.In(loc)), dateOf(tr.In(loc)).add(1)} {
				for minute := 0; minute <= 24*60; minute += 15 {
					want := bruteWall(loc, day, minute)
					got := wallInstant(loc, day, minute)
					require.Truef(t, want.Equal(got), "%s %v %s: want %s, got %s", zone, day, fmtClock(minute), want, got)
				}
			}
		}
	}
}

// TestWindowLengths checks that no window occurrence is negative or longer than its
// wall-clock length plus one hour, on every day of two years.
func TestWindowLengths(t *testing.T) {
	ranges := [][2]string{{"00:00", "24:00"}, {"00:00", "00:00"}, {"01:30", "01:30"}, {"02:30", "02:30"},
		{"02:00", "03:00"}, {"01:00", "02:30"}, {"22:00", "02:30"}, {"03:00", "02:00"}}
	for _, zone := range []string{"America/New_York", "Europe/Berlin", "Australia/Sydney", "Australia/Brisbane"} {
		for _, r := range ranges {
			s := mustCompile(t, config.Window{Timezone: zone, Weekly: []config.WeeklyWindow{wk("Mon,Tue,Wed,Thu,Fri,Sat,Sun", r[0], r[1])}})
			e := s.weekly[0]
			wall := time.Duration(e.end-e.start) * time.Minute
			if e.end <= e.start {
				wall += 24 * time.Hour
			}
			var lengths = map[time.Duration]int{}
			for day := (civil{2026, 1, 1}); !day.after(civil{2027, 12, 31}); day = day.add(1) {
				for _, o := range s.occurrences(day, nil) {
					n := o.end.Sub(o.start)
					require.Greaterf(t, n, time.Duration(0), "%s %v %v", zone, r, day)
					require.LessOrEqualf(t, n, wall+time.Hour, "%s %v %v", zone, r, day)
					require.GreaterOrEqualf(t, n, wall-time.Hour, "%s %v %v", zone, r, day)
					require.LessOrEqual(t, n, 25*time.Hour)
					lengths[n]++
				}
			}
			if zone != "Australia/Brisbane" && r[0] == "00:00" {
				// a daily window from midnight to midnight spans both DST nights each year
				assert.Equal(t, 2, lengths[23*time.Hour], "%s %v", zone, r)
				assert.Equal(t, 2, lengths[25*time.Hour], "%s %v", zone, r)
			}
		}
	}
}

func TestDecide(t *testing.T) {
	brisbane := designWindow()
	chained := designWindow()
	chained.Freeze = []config.Freeze{
		fz("2026-12-20", "2027-01-05", "holidays"),
		fz("2027-01-08T12:00:00+10:00", "2027-01-12T01:00:00+10:00", "migration"), // overlaps the next
		fz("2027-01-06", "2027-01-08", "audit"),                                   // adjacent to the first
		fz("2027-01-14T02:30:00+10:00", "2027-01-14T03:00:00+10:00", "later"),     // separate
	}
	cut := designWindow()
	cut.Freeze = []config.Freeze{
		fz("2026-12-17T03:00:00+10:00", "2026-12-17T05:00:00+10:00", "db maintenance"),
		fz("2026-12-20", "2026-12-29T02:30:00+10:00", "holidays"),
	}
	newYork := config.Window{Timezone: "America/New_York", Weekly: []config.WeeklyWindow{
		wk("Sun", "02:30", "03:30"), wk("Friday", "22:00", "02:00"),
	}}
	nyFallBack := config.Window{Timezone: "America/New_York", Weekly: []config.WeeklyWindow{wk("Sun", "01:00", "01:30")}}
	nyFallBack2 := config.Window{Timezone: "America/New_York", Weekly: []config.WeeklyWindow{wk("Sun", "01:30", "02:30")}}
	nySatNight := config.Window{Timezone: "America/New_York", Weekly: []config.WeeklyWindow{wk("sat", "22:00", "02:30")}}
	berlin := config.Window{Timezone: "Europe/Berlin", Weekly: []config.WeeklyWindow{wk("Sun", "02:00", "03:00")}}
	berlinMerged := config.Window{Timezone: "Europe/Berlin", Weekly: []config.WeeklyWindow{
		wk("Sun", "00:00", "01:00"), wk("Sat", "23:00", "24:00"), wk("Sat", "12:00", "23:30"),
	}}
	berlinSunday := config.Window{Timezone: "Europe/Berlin", Weekly: []config.WeeklyWindow{wk("Sun", "00:00", "24:00")}}
	sydney := config.Window{Timezone: "Australia/Sydney", Weekly: []config.WeeklyWindow{wk("Sun", "02:00", "03:00")}}
	sydneyFall := config.Window{Timezone: "Australia/Sydney", Weekly: []config.WeeklyWindow{wk("Sun", "02:30", "03:30")}}
	always := config.Window{Timezone: "Europe/Berlin", Freeze: []config.Freeze{fz("2026-12-24", "2026-12-26", "Christmas")}}
	allWeek := config.Window{Timezone: "UTC", Weekly: []config.WeeklyWindow{wk("Mon,Tue,Wed,Thu,Fri,Sat,Sun", "00:00", "24:00")}}
	allWeekFrozen := allWeek
	allWeekFrozen.Freeze = []config.Freeze{fz("2027-03-01", "2027-03-01", "")}
	never := designWindow()
	never.Freeze = []config.Freeze{fz("2026-01-01", "2028-12-31", "moratorium")}

	tests := []struct {
		name         string
		win          config.Window
		now          string
		open, frozen bool
		next, closes string // RFC 3339 in the window's zone, or ""
		reason       string // the exact reason, or a part of it when partial is set
		partial      bool
	}{
		{name: "design: before the window", win: brisbane, now: "2026-11-30T12:00:00+10:00",
			next:   "2026-12-01T02:00:00+10:00",
			reason: "outside window (Tue, Thu 02:00-04:00 Australia/Brisbane); next opens Tue 2026-12-01 02:00 AEST"},
		{name: "design: other zone in, window zone out", win: brisbane, now: "2026-11-30T16:00:00Z",
			open: true, closes: "2026-12-01T04:00:00+10:00",
			reason: "inside window Tue 02:00-04:00 Australia/Brisbane (closes 2026-12-01T04:00:00+10:00)"},
		{name: "design: at the opening", win: brisbane, now: "2026-12-01T02:00:00+10:00",
			open: true, closes: "2026-12-01T04:00:00+10:00",
			reason: "inside window Tue 02:00-04:00 Australia/Brisbane (closes 2026-12-01T04:00:00+10:00)"},
		{name: "design: last second", win: brisbane, now: "2026-12-01T03:59:59+10:00",
			open: true, closes: "2026-12-01T04:00:00+10:00", reason: "inside window Tue", partial: true},
		{name: "design: at the close", win: brisbane, now: "2026-12-01T04:00:00+10:00",
			next: "2026-12-03T02:00:00+10:00", reason: "next opens Thu 2026-12-03 02:00 AEST", partial: true},
		{name: "design: frozen Tue", win: brisbane, now: "2026-12-22T03:00:00+10:00",
			frozen: true, next: "2027-01-07T02:00:00+10:00",
			reason: "frozen until Wed 2027-01-06 00:00 AEST (freeze 2026-12-20..2027-01-05: holidays); next opens Thu 2027-01-07 02:00 AEST"},
		{name: "design: frozen all of the last day", win: brisbane, now: "2027-01-05T03:00:00+10:00",
			frozen: true, next: "2027-01-07T02:00:00+10:00", reason: "frozen until Wed 2027-01-06 00:00 AEST", partial: true},
		{name: "design: frozen from midnight", win: brisbane, now: "2026-12-20T00:00:00+10:00",
			frozen: true, next: "2027-01-07T02:00:00+10:00", reason: "frozen", partial: true},
		{name: "design: a freeze ahead pushes the opening", win: brisbane, now: "2026-12-18T12:00:00+10:00",
			next:   "2027-01-07T02:00:00+10:00",
			reason: "outside window (Tue, Thu 02:00-04:00 Australia/Brisbane); next opens Thu 2027-01-07 02:00 AEST, after freeze 2026-12-20..2027-01-05: holidays"},
		{name: "chained freezes", win: chained, now: "2026-12-22T03:00:00+10:00",
			frozen: true, next: "2027-01-12T02:00:00+10:00",
			reason: "frozen until Tue 2027-01-12 01:00 AEST (freezes 2026-12-20..2027-01-05: holidays; 2027-01-06..2027-01-08: audit; 2027-01-08T12:00:00+10:00..2027-01-12T01:00:00+10:00: migration); next opens Tue 2027-01-12 02:00 AEST"},
		{name: "a separate freeze cuts a window", win: chained, now: "2027-01-14T02:10:00+10:00",
			open: true, closes: "2027-01-14T02:30:00+10:00",
			reason: "inside window Thu 02:00-04:00 Australia/Brisbane (closes 2027-01-14T02:30:00+10:00 when freeze 2027-01-14T02:30:00+10:00..2027-01-14T03:00:00+10:00 starts)"},
		{name: "opens when a freeze ends inside a window", win: chained, now: "2027-01-14T02:30:00+10:00",
			frozen: true, next: "2027-01-14T03:00:00+10:00", reason: "frozen until Thu 2027-01-14 03:00 AEST", partial: true},
		{name: "freeze starting mid-window closes it", win: cut, now: "2026-12-17T02:30:00+10:00",
			open: true, closes: "2026-12-17T03:00:00+10:00", reason: "when freeze 2026-12-17T03:00:00+10:00..2026-12-17T05:00:00+10:00 starts", partial: true},
		{name: "freeze past the window's end", win: cut, now: "2026-12-17T03:30:00+10:00",
			frozen: true, next: "2026-12-29T02:30:00+10:00", reason: "db maintenance", partial: true},

		{name: "NY: start in the spring-forward gap opens when it ends", win: newYork, now: "2026-03-08T01:59:59-05:00",
			next: "2026-03-08T03:00:00-04:00", reason: "next opens Sun 2026-03-08 03:00 EDT", partial: true},
		{name: "NY: open right after the gap", win: newYork, now: "2026-03-08T03:00:00-04:00",
			open: true, closes: "2026-03-08T03:30:00-04:00", reason: "inside window Sun 02:30-03:30 America/New_York", partial: true},
		{name: "NY: an ordinary Sunday", win: newYork, now: "2026-03-01T02:45:00-05:00",
			open: true, closes: "2026-03-01T03:30:00-05:00", reason: "inside window Sun", partial: true},
		{name: "NY: across midnight, after it", win: newYork, now: "2026-06-06T01:30:00-04:00",
			open: true, closes: "2026-06-06T02:00:00-04:00",
			reason: "inside window Fri 22:00-02:00 America/New_York (closes 2026-06-06T02:00:00-04:00)"},
		{name: "NY: across midnight, before it", win: newYork, now: "2026-06-05T21:59:00-04:00",
			next: "2026-06-05T22:00:00-04:00", reason: "next opens Fri 2026-06-05 22:00 EDT", partial: true},
		{name: "NY: across midnight, ended", win: newYork, now: "2026-06-06T02:00:00-04:00",
			next: "2026-06-07T02:30:00-04:00", reason: "next opens Sun 2026-06-07 02:30 EDT", partial: true},
		{name: "NY: fall-back, first 01:15", win: nyFallBack, now: "2026-11-01T01:15:00-04:00",
			open: true, closes: "2026-11-01T01:30:00-04:00", reason: "inside window Sun 01:00-01:30", partial: true},
		{name: "NY: fall-back, second 01:15 is outside", win: nyFallBack, now: "2026-11-01T01:15:00-05:00",
			next: "2026-11-08T01:00:00-05:00", reason: "next opens Sun 2026-11-08 01:00 EST", partial: true},
		{name: "NY: fall-back window lasts two hours", win: nyFallBack2, now: "2026-11-01T01:45:00-05:00",
			open: true, closes: "2026-11-01T02:30:00-05:00", reason: "inside window Sun 01:30-02:30", partial: true},
		{name: "NY: Saturday night window ends in the gap", win: nySatNight, now: "2026-03-08T01:59:59-05:00",
			open: true, closes: "2026-03-08T03:00:00-04:00", reason: "inside window Sat 22:00-02:30", partial: true},
		{name: "NY: Saturday night window, after the gap", win: nySatNight, now: "2026-03-08T03:00:00-04:00",
			next: "2026-03-14T22:00:00-04:00", reason: "next opens Sat 2026-03-14 22:00 EDT", partial: true},

		{name: "Berlin: window inside the gap does not exist that day", win: berlin, now: "2026-03-29T01:59:00+01:00",
			next: "2026-04-05T02:00:00+02:00", reason: "next opens Sun 2026-04-05 02:00 CEST", partial: true},
		{name: "Berlin: the Sunday before", win: berlin, now: "2026-03-22T02:59:59+01:00",
			open: true, closes: "2026-03-22T03:00:00+01:00", reason: "inside window Sun 02:00-03:00", partial: true},
		{name: "Berlin: fall-back, second 02:30 is inside", win: berlin, now: "2026-10-25T02:30:00+01:00",
			open: true, closes: "2026-10-25T03:00:00+01:00", reason: "inside window Sun 02:00-03:00", partial: true},
		{name: "Berlin: fall-back, first 02:00 opens", win: berlin, now: "2026-10-25T01:59:59+02:00",
			next: "2026-10-25T02:00:00+02:00", reason: "next opens Sun 2026-10-25 02:00 CEST", partial: true},
		{name: "Berlin: touching windows act as one", win: berlinMerged, now: "2026-06-13T23:30:00+02:00",
			open: true, closes: "2026-06-14T01:00:00+02:00", reason: "inside window Sat 23:00-24:00 Europe/Berlin", partial: true},
		{name: "Berlin: overlapping windows act as one", win: berlinMerged, now: "2026-06-13T12:00:00+02:00",
			open: true, closes: "2026-06-14T01:00:00+02:00", reason: "inside window Sat 12:00-23:30 Europe/Berlin", partial: true},
		{name: "Berlin: 24:00 end on the spring-forward eve", win: berlinSunday, now: "2026-03-29T23:59:00+02:00",
			open: true, closes: "2026-03-30T00:00:00+02:00", reason: "inside window Sun 00:00-24:00", partial: true},
		{name: "Berlin: 25h Sunday", win: berlinSunday, now: "2026-10-25T00:00:00+02:00",
			open: true, closes: "2026-10-26T00:00:00+01:00", reason: "inside window Sun 00:00-24:00", partial: true},

		{name: "Sydney: window inside the October gap does not exist", win: sydney, now: "2026-10-04T01:30:00+10:00",
			next: "2026-10-11T02:00:00+11:00", reason: "next opens Sun 2026-10-11 02:00 AEDT", partial: true},
		{name: "Sydney: April fall-back, second 02:45 inside", win: sydneyFall, now: "2026-04-05T02:45:00+10:00",
			open: true, closes: "2026-04-05T03:30:00+10:00", reason: "inside window Sun 02:30-03:30 Australia/Sydney", partial: true},
		{name: "Sydney: April fall-back opens at the first 02:30", win: sydneyFall, now: "2026-04-05T02:29:00+11:00",
			next: "2026-04-05T02:30:00+11:00", reason: "next opens Sun 2026-04-05 02:30 AEDT", partial: true},

		{name: "always open, freeze ahead", win: always, now: "2026-12-23T12:00:00+01:00",
			open: true, closes: "2026-12-24T00:00:00+01:00",
			reason: "no weekly window configured: open at any time outside freezes (closes 2026-12-24T00:00:00+01:00 when freeze 2026-12-24..2026-12-26 starts)"},
		{name: "always open, frozen", win: always, now: "2026-12-25T10:00:00+01:00",
			frozen: true, next: "2026-12-27T00:00:00+01:00",
			reason: "frozen until Sun 2026-12-27 00:00 CET (freeze 2026-12-24..2026-12-26: Christmas); next opens Sun 2026-12-27 00:00 CET"},
		{name: "always open, no freeze ahead", win: always, now: "2026-12-27T00:00:00+01:00",
			open: true, reason: "no weekly window configured: open at any time outside freezes"},
		{name: "every hour of the week", win: allWeek, now: "2026-06-01T12:00:00Z",
			open: true, reason: "inside window Mon 00:00-24:00 UTC (stays open for at least 366 days)"},
		{name: "every hour of the week until a freeze", win: allWeekFrozen, now: "2026-06-01T12:00:00Z",
			open: true, closes: "2027-03-01T00:00:00Z", reason: "(closes 2027-03-01T00:00:00Z when freeze 2027-03-01..2027-03-01 starts)", partial: true},
		{name: "frozen beyond the horizon", win: never, now: "2026-06-01T12:00:00+10:00",
			frozen: true, reason: "frozen until Mon 2029-01-01 00:00 AEST (freeze 2026-01-01..2028-12-31: moratorium); no window (Tue, Thu 02:00-04:00 Australia/Brisbane) opens within 366 days: check the freezes in the configuration"},
		{name: "opening beyond the horizon", win: never, now: "2025-12-31T12:00:00+10:00",
			reason: "no window opens within 366 days", partial: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustCompile(t, tt.win)
			d := s.Decide(ts(t, tt.now))
			assert.Equal(t, tt.open, d.Open, "open: %s", d.Reason)
			assert.Equal(t, tt.frozen, d.Frozen, "frozen: %s", d.Reason)
			assert.Equal(t, tt.next, fmtOpt(d.NextOpen), "next open")
			assert.Equal(t, tt.closes, fmtOpt(d.ClosesAt), "closes at")
			if tt.partial {
				assert.Contains(t, d.Reason, tt.reason)
			} else {
				assert.Equal(t, tt.reason, d.Reason)
			}
		})
	}
}

func fmtOpt(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339)
}

func TestDecisionJSON(t *testing.T) {
	s := mustCompile(t, designWindow())
	open, err := json.Marshal(s.Decide(ts(t, "2026-12-01T02:00:00+10:00")))
	require.NoError(t, err)
	assert.JSONEq(t, `{"open":true,"frozen":false,"closes_at":"2026-12-01T04:00:00+10:00",
		"reason":"inside window Tue 02:00-04:00 Australia/Brisbane (closes 2026-12-01T04:00:00+10:00)"}`, string(open))
	closed, err := json.Marshal(s.Decide(ts(t, "2026-12-22T03:00:00+10:00")))
	require.NoError(t, err)
	assert.Contains(t, string(closed), `"next_open":"2027-01-07T02:00:00+10:00"`)
	assert.NotContains(t, string(closed), "closes_at")
}

func BenchmarkDecide(b *testing.B) {
	s := mustCompile(b, designWindow())
	now := time.Date(2026, 12, 22, 3, 0, 0, 0, s.Location())
	for b.Loop() {
		s.Decide(now)
	}
}
