package window

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/config"
)

// bruteWall is the specification of wall-time resolution, searched minute by minute: the
// first instant whose wall clock in loc reads minute minutes after the start of day or
// later. Far from any offset change it is the plain arithmetic answer.
func bruteWall(loc *time.Location, day civil, minute int) time.Time {
	want := time.Date(day.y, day.m, day.d, 0, minute, 0, 0, time.UTC)
	_, off := want.In(loc).Zone()
	if _, end := want.Add(-30 * time.Hour).In(loc).ZoneBounds(); end.IsZero() || end.After(want.Add(30*time.Hour)) {
		return want.Add(-time.Duration(off) * time.Second).In(loc)
	}
	maxOff := off
	for _, p := range []time.Duration{-30 * time.Hour, 30 * time.Hour} {
		if _, o := want.Add(p).In(loc).Zone(); o > maxOff {
			maxOff = o
		}
	}
	u := want.Add(-time.Duration(maxOff)*time.Second - 3*time.Hour)
	if !wallOf(u.In(loc)).Before(want) {
		u = want.Add(-16 * time.Hour)
	}
	for ; wallOf(u.In(loc)).Before(want); u = u.Add(time.Minute) {
	}
	return u.In(loc)
}

// transitions lists the instants in [from, to) at which loc's offset or abbreviation changes.
func transitions(loc *time.Location, from, to time.Time) []time.Time {
	var out []time.Time
	for t := from; ; {
		_, end := t.In(loc).ZoneBounds()
		if end.IsZero() || !end.Before(to) {
			return out
		}
		out = append(out, end)
		t = end
	}
}

// oracle decides by the letter of the semantics, independently of Schedule: windows from
// bruteWall, freezes parsed on their own.
type oracle struct {
	loc     *time.Location
	weekly  []oracleEntry
	freezes [][2]time.Time
}

type oracleEntry struct {
	days       map[time.Weekday]bool
	start, end int
}

type interval struct{ start, end time.Time }

func newOracle(t *testing.T, w config.Window) oracle {
	o := oracle{loc: mustLoc(t, w.Timezone)}
	for _, e := range w.Weekly {
		oe := oracleEntry{days: map[time.Weekday]bool{}}
		for _, d := range e.Days {
			for wd := time.Sunday; wd <= time.Saturday; wd++ {
				if strings.HasPrefix(strings.ToLower(wd.String()), strings.ToLower(d)) {
					oe.days[wd] = true
				}
			}
		}
		var h, m int
		_, err := fmt.Sscanf(e.Start, "%d:%d", &h, &m)
		require.NoError(t, err)
		oe.start = h*60 + m
		_, err = fmt.Sscanf(e.End, "%d:%d", &h, &m)
		require.NoError(t, err)
		oe.end = h*60 + m
		o.weekly = append(o.weekly, oe)
	}
	bound := func(v string, end bool) time.Time {
		if d, err := time.Parse(time.DateOnly, v); err == nil {
			if end {
				d = d.AddDate(0, 0, 1)
			}
			return bruteWall(o.loc, dateOf(d), 0)
		}
		i, err := time.Parse(time.RFC3339, v)
		require.NoError(t, err)
		return i
	}
	for _, f := range w.Freeze {
		o.freezes = append(o.freezes, [2]time.Time{bound(f.From, false), bound(f.To, true)})
	}
	return o
}

// occurrences are the windows starting on the days from first to last.
func (o oracle) occurrences(first, last civil) []interval {
	var out []interval
	for day := first; !day.after(last); day = day.add(1) {
		for _, e := range o.weekly {
			if !e.days[day.weekday()] {
				continue
			}
			endDay := day
			if e.end <= e.start {
				endDay = day.add(1)
			}
			iv := interval{bruteWall(o.loc, day, e.start), bruteWall(o.loc, endDay, e.end)}
			if iv.end.After(iv.start) {
				out = append(out, iv)
			}
		}
	}
	return out
}

func (o oracle) frozen(t time.Time) bool {
	for _, f := range o.freezes {
		if !t.Before(f[0]) && t.Before(f[1]) {
			return true
		}
	}
	return false
}

func (o oracle) inWindow(t time.Time) bool {
	if len(o.weekly) == 0 {
		return true
	}
	day := dateOf(t.In(o.loc))
	for _, iv := range o.occurrences(day.add(-2), day) {
		if !t.Before(iv.start) && t.Before(iv.end) {
			return true
		}
	}
	return false
}

func (o oracle) open(t time.Time) bool { return o.inWindow(t) && !o.frozen(t) }

// boundaries are the instants in (from, to) where openness can change.
func (o oracle) boundaries(from, to time.Time) []time.Time {
	var out []time.Time
	add := func(b time.Time) {
		if b.After(from) && b.Before(to) {
			out = append(out, b)
		}
	}
	for _, iv := range o.occurrences(dateOf(from.In(o.loc)).add(-2), dateOf(to.In(o.loc)).add(1)) {
		add(iv.start)
		add(iv.end)
	}
	for _, f := range o.freezes {
		add(f[0])
		add(f[1])
	}
	return out
}

// TestDecideProperties checks Decide against the oracle at thousands of seeded random
// instants over two years, a quarter each near DST changes, near freeze edges, and on
// quarter hours.
func TestDecideProperties(t *testing.T) {
	brisbane := designWindow()
	brisbane.Freeze = append(brisbane.Freeze,
		fz("2027-01-06", "2027-01-06", "adjacent"),
		fz("2027-03-02T02:30:00+10:00", "2027-03-04T03:00:00+10:00", "instants"))
	configs := []config.Window{
		brisbane,
		{Timezone: "America/New_York", Weekly: []config.WeeklyWindow{
			wk("Sun", "01:30", "02:30"), wk("Fri", "22:00", "02:00"), wk("mon,Wednesday", "09:00", "17:00"), wk("Sat", "02:15", "02:45"),
		}, Freeze: []config.Freeze{fz("2026-11-25", "2026-11-29", ""), fz("2027-07-03T12:00:00-04:00", "2027-07-05", "")}},
		{Timezone: "Europe/Berlin", Weekly: []config.WeeklyWindow{
			wk("Sun", "02:00", "03:00"), wk("Sat", "23:00", "24:00"), wk("Sunday", "00:00", "01:00"), wk("Tue", "02:30", "02:00"),
		}, Freeze: []config.Freeze{fz("2026-12-24", "2027-01-01", ""), fz("2027-01-01", "2027-01-03", "")}},
		{Timezone: "Australia/Sydney", Weekly: []config.WeeklyWindow{
			wk("Sun", "02:30", "03:30"), wk("Thu", "03:00", "02:00"), wk("Sat", "00:00", "00:00"),
		}, Freeze: []config.Freeze{fz("2026-10-03", "2026-10-05", "")}},
		{Timezone: "Europe/Berlin", Freeze: []config.Freeze{
			fz("2026-03-29", "2026-03-29", ""), fz("2026-10-25T02:30:00+01:00", "2026-10-26", ""), fz("2027-06-01", "2027-06-14", ""),
		}},
		{Timezone: "Australia/Lord_Howe", Weekly: []config.WeeklyWindow{wk("Sun", "01:45", "02:15"), wk("Sun", "02:15", "02:45")}},
	}
	const perConfig = 800
	rng := rand.New(rand.NewPCG(20261201, 2))
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	to := time.Date(2028, 1, 1, 0, 0, 0, 0, time.UTC)
	for ci, w := range configs {
		s := mustCompile(t, w)
		o := newOracle(t, w)
		// Edges worth hitting: DST changes and the ends of freezes.
		trs := transitions(o.loc, from, to)
		var edges []time.Time
		for _, f := range o.freezes {
			edges = append(edges, f[0], f[1])
		}
		for i := range perConfig {
			now := from.Add(time.Duration(rng.Int64N(int64(to.Sub(from)/time.Second))) * time.Second)
			switch {
			case i%4 == 1 && len(trs) > 0:
				now = trs[rng.IntN(len(trs))].Add(time.Duration(rng.Int64N(72*3600)-36*3600) * time.Second)
			case i%4 == 2 && len(edges) > 0:
				spread := int64(36 * 3600) // seconds either side
				if i%8 == 2 {
					spread = 90 * 60
				}
				now = edges[rng.IntN(len(edges))].Add(time.Duration(rng.Int64N(2*spread)-spread) * time.Second)
			case i%4 == 3:
				now = now.Truncate(15 * time.Minute)
			}
			checkDecision(t, fmt.Sprintf("config %d (%s) at %s", ci, w.Timezone, now.In(o.loc).Format(time.RFC3339)), s, o, now)
		}
	}
}

func checkDecision(t *testing.T, where string, s *Schedule, o oracle, now time.Time) {
	t.Helper()
	d := s.Decide(now)
	require.Equalf(t, o.open(now), d.Open, "%s: open (%s)", where, d.Reason)
	require.Equalf(t, o.frozen(now), d.Frozen, "%s: frozen (%s)", where, d.Reason)
	require.NotEmptyf(t, d.Reason, "%s", where)
	if d.Open {
		require.Truef(t, d.NextOpen.IsZero(), "%s: next open while open", where)
		if d.ClosesAt.IsZero() {
			require.Emptyf(t, o.weekly, "%s: a weekly window never closes", where)
			for _, f := range o.freezes {
				require.Falsef(t, f[0].After(now), "%s: no close despite freeze at %s", where, f[0])
			}
			return
		}
		require.Truef(t, d.ClosesAt.After(now), "%s: closes at %s", where, d.ClosesAt)
		require.Falsef(t, o.open(d.ClosesAt), "%s: still open at close %s", where, d.ClosesAt)
		require.Falsef(t, s.Decide(d.ClosesAt).Open, "%s: Decide open at close %s", where, d.ClosesAt)
		if last := d.ClosesAt.Add(-time.Second); last.After(now) {
			require.Truef(t, s.Decide(last).Open, "%s: closed before close %s", where, d.ClosesAt)
		}
		for _, b := range o.boundaries(now, d.ClosesAt) {
			require.Truef(t, o.open(b), "%s: closed at %s before close %s", where, b, d.ClosesAt)
		}
		return
	}
	require.Truef(t, d.ClosesAt.IsZero(), "%s: closes at while closed", where)
	if d.NextOpen.IsZero() {
		for _, b := range o.boundaries(now, now.Add(Horizon)) {
			require.Falsef(t, o.open(b), "%s: no next open but open at %s", where, b)
		}
		return
	}
	require.Truef(t, d.NextOpen.After(now), "%s: next open %s", where, d.NextOpen)
	require.LessOrEqualf(t, d.NextOpen.Sub(now), Horizon, "%s", where)
	require.Equalf(t, o.loc, d.NextOpen.Location(), "%s", where)
	require.Truef(t, o.open(d.NextOpen), "%s: not open at next open %s", where, d.NextOpen)
	require.Truef(t, s.Decide(d.NextOpen).Open, "%s: Decide closed at next open %s", where, d.NextOpen)
	if before := d.NextOpen.Add(-time.Second); before.After(now) {
		require.Falsef(t, o.open(before), "%s: open before next open %s", where, d.NextOpen)
		require.Falsef(t, s.Decide(before).Open, "%s: Decide open before next open %s", where, d.NextOpen)
	}
	for _, b := range o.boundaries(now, d.NextOpen) {
		require.Falsef(t, o.open(b), "%s: open at %s before next open %s", where, b, d.NextOpen)
	}
}
