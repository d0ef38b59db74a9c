// Package window decides whether a deployment to an environment may start now: weekly
// maintenance windows in a named IANA time zone, and freeze periods that win over them.
//
// Wall-clock times are always turned into instants with time.Date in the window's zone,
// one calendar day at a time; an instant is never moved by adding 24h, so a window keeps
// its wall-clock meaning across daylight-saving changes.
//
// DST rules. A wall time (a window's start or end, or the midnight of a freeze date) is
// resolved to the first instant whose local wall clock reads that time or later:
//   - A wall time that does not exist (spring-forward gap, e.g. 02:30 in America/New_York
//     on 2026-03-08) resolves to the instant the gap ends (03:00 EDT). Go's time.Date does
//     not do this consistently: for that example it returns 01:30 EST (before the gap),
//     while for 02:30 in Europe/Berlin on 2026-03-29 it returns 03:30 CEST; so the gap is
//     detected and resolved here explicitly.
//   - A wall time that happens twice (fall-back) resolves to its first occurrence; Go's
//     time.Date returns the first in New York but the second in Berlin and Sydney, so this
//     too is resolved here explicitly.
//
// A window starts at its start's resolved instant and ends at its end's resolved instant,
// which is therefore never before the start. A window that lies entirely inside a gap (for
// example 02:00-02:30 on a spring-forward night) is empty that day: the wall-clock interval
// it names does not exist, so it never opens. Otherwise a window lasts its wall-clock length
// plus or minus the day's DST shift: at most 25h for a 24h window in every zone with a
// one-hour shift (Antarctica/Troll, which shifts by two hours, is the one exception).
package window

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/agentme/release-action/internal/config"
)

// Horizon is how far ahead Decide looks for the next opening (and for the end of an open
// window); an opening further away than this is reported as none (zero NextOpen).
const Horizon = 366 * 24 * time.Hour

// Schedule is a compiled config.Window: when deployments may start. Safe for concurrent use.
type Schedule struct {
	loc     *time.Location
	zone    string
	weekly  []weekly
	freezes []freezeSpan // sorted, overlapping and adjacent freezes merged
	maxWait time.Duration
}

// weekly is one entry of window.weekly.
type weekly struct {
	days     [7]bool // indexed by time.Weekday
	start    int     // minutes after midnight, 0..1439
	end      int     // minutes after midnight, 1..1440; end <= start runs into the next day
	text     string  // "02:00-04:00"
	dayNames string  // "Tue, Thu"
}

// freeze is one entry of window.freeze: frozen while from <= t < to.
type freeze struct {
	from, to time.Time
	name     string // "2026-12-20..2027-01-05", as configured
	reason   string
}

// freezeSpan is a run of overlapping or adjacent freezes.
type freezeSpan struct {
	from, to time.Time
	parts    []freeze
}

// Decision says whether a deployment may start at a given instant, and why.
type Decision struct {
	// Open reports whether a deployment may start now.
	Open bool `json:"open"`
	// Reason is a sentence for people: the window or freeze that decided, and when that changes.
	Reason string `json:"reason"`
	// Frozen reports that a freeze covers now.
	Frozen bool `json:"frozen"`
	// NextOpen is, when closed, the first instant after now at which a deployment may start
	// (after any freezes); zero when there is none within Horizon.
	NextOpen time.Time `json:"next_open,omitzero"`
	// ClosesAt is, when open, the end of the current window or the start of the next freeze,
	// whichever comes first; zero when no freeze lies ahead and the window (or windows
	// touching it) stays open for the whole Horizon, or when there are no weekly windows.
	ClosesAt time.Time `json:"closes_at,omitzero"`
}

// Compile checks w and prepares it for Decide. Errors name the field and the value.
//
// Semantics:
//   - timezone is required and must be an IANA zone name ("UTC" is accepted; "Local" is
//     refused because it would depend on the machine running the release).
//   - weekly entries open on each of their days (Mon..Sun or full names, any case) from
//     start to end, "HH:MM" (or "H:MM") local wall-clock time; end may be "24:00"; an end
//     at or before the start means the window runs into the next day (22:00-02:00 on Fri
//     is Fri 22:00 to Sat 02:00, 00:00-00:00 is the whole day). The day is the day of the
//     start. Overlapping or touching windows act as one.
//   - no weekly entries means always open, except during freezes.
//   - a freeze date (YYYY-MM-DD) in from means 00:00 of that day, in to the end of that
//     day (00:00 of the next day), in the window's zone; an RFC 3339 value is that exact
//     instant, and a to instant is exclusive. Freezes win over windows.
//   - max-wait must not be negative.
func Compile(w config.Window) (*Schedule, error) {
	zone := strings.TrimSpace(w.Timezone)
	if zone == "" {
		return nil, fmt.Errorf("window.timezone: empty; name an IANA time zone such as \"Australia/Brisbane\" or \"UTC\"")
	}
	if strings.EqualFold(zone, "Local") {
		return nil, fmt.Errorf("window.timezone: %q depends on the machine running the release; name an IANA time zone such as \"Australia/Brisbane\"", w.Timezone)
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return nil, fmt.Errorf("window.timezone: %q is not a known IANA time zone: %w", w.Timezone, err)
	}
	if w.MaxWait < 0 {
		return nil, fmt.Errorf("window.max-wait: %s is negative", w.MaxWait.D())
	}
	s := &Schedule{loc: loc, zone: zone, maxWait: w.MaxWait.D()}

	for i, ww := range w.Weekly {
		e, err := compileWeekly(ww)
		if err != nil {
			return nil, fmt.Errorf("window.weekly[%d].%w", i, err)
		}
		s.weekly = append(s.weekly, e)
	}

	var fs []freeze
	for i, f := range w.Freeze {
		from, err := parseFreezeBound(f.From, loc, false)
		if err != nil {
			return nil, fmt.Errorf("window.freeze[%d].from: %w", i, err)
		}
		to, err := parseFreezeBound(f.To, loc, true)
		if err != nil {
			return nil, fmt.Errorf("window.freeze[%d].to: %w", i, err)
		}
		if !to.After(from) {
			return nil, fmt.Errorf("window.freeze[%d]: to %q is not after from %q; a freeze needs a from before its to", i, f.To, f.From)
		}
		fs = append(fs, freeze{
			from:   from,
			to:     to,
			name:   strings.TrimSpace(f.From) + ".." + strings.TrimSpace(f.To),
			reason: strings.TrimSpace(f.Reason),
		})
	}
	s.freezes = mergeFreezes(fs)
	return s, nil
}

// Location returns the window's time zone.
func (s *Schedule) Location() *time.Location { return s.loc }

// MaxWait returns the configured window.max-wait (zero when unset).
func (s *Schedule) MaxWait() time.Duration { return s.maxWait }

// String describes the weekly windows, e.g. "Tue, Thu 02:00-04:00 Australia/Brisbane".
func (s *Schedule) String() string {
	if len(s.weekly) == 0 {
		return "any time outside freezes (" + s.zone + ")"
	}
	parts := make([]string, len(s.weekly))
	for i, e := range s.weekly {
		parts[i] = e.dayNames + " " + e.text
	}
	return strings.Join(parts, "; ") + " " + s.zone
}

var dayNames = map[string]time.Weekday{}

func init() {
	for d := time.Sunday; d <= time.Saturday; d++ {
		full := strings.ToLower(d.String())
		dayNames[full] = d
		dayNames[full[:3]] = d
	}
}

func compileWeekly(ww config.WeeklyWindow) (weekly, error) {
	var e weekly
	if len(ww.Days) == 0 {
		return e, fmt.Errorf("days: empty; list the days the window opens, such as [Tue, Thu]")
	}
	var names []string
	for j, d := range ww.Days {
		wd, ok := dayNames[strings.ToLower(strings.TrimSpace(d))]
		if !ok {
			return e, fmt.Errorf("days[%d]: %q is not a day of the week (want Mon..Sun or Monday..Sunday)", j, d)
		}
		if !e.days[wd] {
			names = append(names, wd.String()[:3])
		}
		e.days[wd] = true
	}
	var err error
	if e.start, err = parseClock(ww.Start, false); err != nil {
		return e, fmt.Errorf("start: %w", err)
	}
	if e.end, err = parseClock(ww.End, true); err != nil {
		return e, fmt.Errorf("end: %w", err)
	}
	if e.end == 0 {
		e.end = 24 * 60 // "00:00" as an end is the same midnight as "24:00"
	}
	e.text = fmtClock(e.start) + "-" + fmtClock(e.end)
	e.dayNames = strings.Join(names, ", ")
	return e, nil
}

// parseClock reads "HH:MM" (or "H:MM") as minutes after midnight; allow24 admits "24:00".
func parseClock(v string, allow24 bool) (int, error) {
	want := "HH:MM from 00:00 to 23:59"
	if allow24 {
		want = "HH:MM from 00:00 to 24:00"
	}
	bad := fmt.Errorf("%q is not a time of day; want %s", v, want)
	hs, ms, ok := strings.Cut(strings.TrimSpace(v), ":")
	if !ok || len(hs) < 1 || len(hs) > 2 || len(ms) != 2 || !digits(hs) || !digits(ms) {
		return 0, bad
	}
	h, _ := strconv.Atoi(hs)
	m, _ := strconv.Atoi(ms)
	switch {
	case m > 59, h > 24, h == 24 && (m != 0 || !allow24):
		return 0, bad
	}
	return h*60 + m, nil
}

func digits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func fmtClock(min int) string { return fmt.Sprintf("%02d:%02d", min/60, min%60) }

// parseFreezeBound reads a freeze bound: a date is 00:00 of that day in loc (of the next
// day when end is set, so the date is frozen through its end); RFC 3339 is exact.
func parseFreezeBound(v string, loc *time.Location, end bool) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, fmt.Errorf("empty; want a date (YYYY-MM-DD) or an RFC 3339 time")
	}
	if d, err := time.Parse(time.DateOnly, v); err == nil {
		c := dateOf(d)
		if end {
			c = c.add(1)
		}
		return wallInstant(loc, c, 0), nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither a date (YYYY-MM-DD) nor an RFC 3339 time (2026-12-20T00:00:00+10:00)", v)
	}
	return t.In(loc), nil
}

func mergeFreezes(fs []freeze) []freezeSpan {
	slices.SortStableFunc(fs, func(a, b freeze) int { return a.from.Compare(b.from) })
	var out []freezeSpan
	for _, f := range fs {
		if n := len(out); n > 0 && !f.from.After(out[n-1].to) {
			last := &out[n-1]
			if f.to.After(last.to) {
				last.to = f.to
			}
			last.parts = append(last.parts, f)
			continue
		}
		out = append(out, freezeSpan{from: f.from, to: f.to, parts: []freeze{f}})
	}
	return out
}

// civil is a calendar date without a zone.
type civil struct {
	y int
	m time.Month
	d int
}

func dateOf(t time.Time) civil {
	y, m, d := t.Date()
	return civil{y, m, d}
}

func (c civil) add(days int) civil {
	return dateOf(time.Date(c.y, c.m, c.d+days, 0, 0, 0, 0, time.UTC))
}

func (c civil) after(o civil) bool {
	return time.Date(c.y, c.m, c.d, 0, 0, 0, 0, time.UTC).After(time.Date(o.y, o.m, o.d, 0, 0, 0, 0, time.UTC))
}

func (c civil) weekday() time.Weekday {
	return time.Date(c.y, c.m, c.d, 12, 0, 0, 0, time.UTC).Weekday()
}

// wallOf is t's local wall clock as a zone-free value, for comparing wall times.
func wallOf(t time.Time) time.Time {
	y, m, d := t.Date()
	hh, mm, ss := t.Clock()
	return time.Date(y, m, d, hh, mm, ss, t.Nanosecond(), time.UTC)
}

// wallInstant resolves the wall time minute minutes after the start of day (minute may be
// 1440: the next midnight) in loc to the first instant whose wall clock reads that time or
// later: the first occurrence of an ambiguous time, the end of the gap for a skipped one.
func wallInstant(loc *time.Location, day civil, minute int) time.Time {
	want := time.Date(day.y, day.m, day.d, 0, minute, 0, 0, time.UTC)
	t := time.Date(day.y, day.m, day.d, 0, minute, 0, 0, loc)
	got := wallOf(t)
	switch {
	case got.Equal(want):
		// In a fall-back overlap time.Date may return the second occurrence; the first
		// lies in the previous zone, earlier by the difference of the two offsets.
		start, _ := t.ZoneBounds()
		if start.IsZero() {
			return t
		}
		_, off := t.Zone()
		_, prevOff := start.Add(-time.Nanosecond).Zone()
		if prevOff > off {
			if e := t.Add(-time.Duration(prevOff-off) * time.Second); e.Before(start) && wallOf(e).Equal(want) {
				return e
			}
		}
		return t
	case got.Before(want):
		// time.Date used the offset from after the gap and landed before it: the gap
		// ends where t's zone ends.
		_, end := t.ZoneBounds()
		return end
	default:
		// time.Date used the offset from before the gap and landed after it: the gap
		// ends where t's zone starts.
		start, _ := t.ZoneBounds()
		return start
	}
}

// occurrence is one window on one day.
type occurrence struct {
	start, end time.Time
	day        time.Weekday // of the start's calendar day
	entry      *weekly
}

// label is the occurrence's window as people read it: "Tue 02:00-04:00".
func (o occurrence) label() string {
	return o.day.String()[:3] + " " + o.entry.text
}

// occurrences returns the non-empty windows that start on day, by start.
func (s *Schedule) occurrences(day civil, buf []occurrence) []occurrence {
	buf = buf[:0]
	wd := day.weekday()
	for i := range s.weekly {
		e := &s.weekly[i]
		if !e.days[wd] {
			continue
		}
		start := wallInstant(s.loc, day, e.start)
		endDay := day
		if e.end <= e.start {
			endDay = day.add(1)
		}
		end := wallInstant(s.loc, endDay, e.end)
		if !end.After(start) {
			continue // the whole window falls in a DST gap: it does not exist that day
		}
		buf = append(buf, occurrence{start: start, end: end, day: wd, entry: e})
	}
	slices.SortFunc(buf, func(a, b occurrence) int { return a.start.Compare(b.start) })
	return buf
}

// span is a union of overlapping or touching window occurrences.
type span struct {
	start, end time.Time
	// endless: the union was still going when the search reached its limit.
	endless bool
	// at is an occurrence containing the instant asked about, if any.
	at occurrence
}

// windowSpan returns the first union of windows that ends after t (it contains t, or
// starts after it), looking no further than limit.
func (s *Schedule) windowSpan(t, limit time.Time) (span, bool) {
	// A window lasts at most about a day, so one that contains t started at most two
	// calendar days before t's date.
	day := dateOf(t.In(s.loc)).add(-2)
	last := dateOf(limit.In(s.loc)).add(2)
	var cur span
	have := false
	var buf []occurrence
	for ; !day.after(last); day = day.add(1) {
		buf = s.occurrences(day, buf)
		for _, o := range buf {
			switch {
			case have && !o.start.After(cur.end):
				if o.end.After(cur.end) {
					cur.end = o.end
				}
			case have && cur.end.After(t):
				return cur, true
			default:
				if o.start.After(limit) {
					return span{}, false
				}
				cur, have = span{start: o.start, end: o.end}, true
			}
			if cur.at.entry == nil && !o.start.After(t) && o.end.After(t) {
				cur.at = o
			}
		}
	}
	if have && cur.end.After(t) {
		cur.endless = true
		return cur, true
	}
	return span{}, false
}

// frozenAt returns the freeze span covering t.
func (s *Schedule) frozenAt(t time.Time) (freezeSpan, bool) {
	for _, f := range s.freezes {
		if !t.Before(f.from) && t.Before(f.to) {
			return f, true
		}
	}
	return freezeSpan{}, false
}

// nextFreeze returns the first freeze span starting after t.
func (s *Schedule) nextFreeze(t time.Time) (freezeSpan, bool) {
	for _, f := range s.freezes {
		if f.from.After(t) {
			return f, true
		}
	}
	return freezeSpan{}, false
}

// nextOpen returns the first instant >= t that is inside a window and outside every
// freeze, or zero when there is none up to limit.
func (s *Schedule) nextOpen(t, limit time.Time) time.Time {
	for !t.After(limit) {
		if f, frozen := s.frozenAt(t); frozen {
			t = f.to
			continue
		}
		if len(s.weekly) == 0 {
			return t
		}
		sp, ok := s.windowSpan(t, limit)
		if !ok || sp.start.After(limit) {
			return time.Time{}
		}
		if !sp.start.After(t) {
			return t
		}
		t = sp.start
	}
	return time.Time{}
}

// Decide says whether a deployment may start at now (see Compile for the semantics).
// Times in the decision are in the window's zone.
func (s *Schedule) Decide(now time.Time) Decision {
	now = now.In(s.loc)
	limit := now.Add(Horizon)

	if f, frozen := s.frozenAt(now); frozen {
		next := s.nextOpen(f.to, limit)
		reason := fmt.Sprintf("frozen until %s (%s)", fmtWhen(f.to), freezeText(f, true))
		if next.IsZero() {
			reason += fmt.Sprintf("; no window (%s) opens within %d days: check the freezes in the configuration", s, days(Horizon))
		} else {
			reason += "; next opens " + fmtWhen(next)
		}
		return Decision{Reason: reason, Frozen: true, NextOpen: next}
	}

	if len(s.weekly) == 0 {
		d := Decision{Open: true, Reason: "no weekly window configured: open at any time outside freezes"}
		if f, ok := s.nextFreeze(now); ok {
			d.ClosesAt = f.from
			d.Reason += fmt.Sprintf(" (closes %s when %s starts)", f.from.Format(time.RFC3339), freezeText(f, false))
		}
		return d
	}

	if sp, ok := s.windowSpan(now, limit); ok && !sp.start.After(now) {
		d := Decision{Open: true}
		var closes string
		if !sp.endless {
			d.ClosesAt = sp.end
			closes = "closes " + sp.end.Format(time.RFC3339)
		}
		if f, ok := s.nextFreeze(now); ok && (d.ClosesAt.IsZero() || f.from.Before(d.ClosesAt)) {
			d.ClosesAt = f.from
			closes = fmt.Sprintf("closes %s when %s starts", f.from.Format(time.RFC3339), freezeText(f, false))
		}
		if d.ClosesAt.IsZero() {
			closes = fmt.Sprintf("stays open for at least %d days", days(Horizon))
		}
		d.Reason = fmt.Sprintf("inside window %s %s (%s)", sp.at.label(), s.zone, closes)
		return d
	}

	next := s.nextOpen(now, limit)
	d := Decision{NextOpen: next}
	if next.IsZero() {
		d.Reason = fmt.Sprintf("outside window (%s); no window opens within %d days: check the window and freezes in the configuration", s, days(Horizon))
		return d
	}
	d.Reason = fmt.Sprintf("outside window (%s); next opens %s", s, fmtWhen(next))
	// Say so when a freeze pushed the opening back, or the wait looks unexplained.
	if f, ok := s.nextFreeze(now); ok && f.from.Before(next) {
		d.Reason += fmt.Sprintf(", after %s", freezeText(f, true))
	}
	return d
}

// fmtWhen formats an instant for people, in its zone: "Tue 2026-12-01 02:00 AEST".
func fmtWhen(t time.Time) string {
	if t.Second() != 0 || t.Nanosecond() != 0 {
		return t.Format("Mon 2006-01-02 15:04:05 MST")
	}
	return t.Format("Mon 2006-01-02 15:04 MST")
}

// freezeText names the freezes of a span: "freeze 2026-12-20..2027-01-05: holidays".
func freezeText(f freezeSpan, withReason bool) string {
	texts := make([]string, len(f.parts))
	for i, p := range f.parts {
		texts[i] = p.name
		if withReason && p.reason != "" {
			texts[i] += ": " + p.reason
		}
	}
	if len(texts) == 1 {
		return "freeze " + texts[0]
	}
	return "freezes " + strings.Join(texts, "; ")
}

func days(d time.Duration) int { return int(d / (24 * time.Hour)) }
