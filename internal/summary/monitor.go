package summary

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/markdown"
	"github.com/agentme/release-action/internal/monitor"
)

// MonitorInfo is what the monitor summary shows besides the result.
type MonitorInfo struct {
	// Level is the heading prefix, "##" by default ("###" inside a release summary).
	Level string
	// Location shows times in a zone people use (the environment's window zone); UTC when nil.
	Location *time.Location
}

// monitorTimelineWidth is the most characters a signal's timeline gets; longer runs put several
// checks in one character (the worst of them).
const monitorTimelineWidth = 60

var monitorSparkLevels = []rune("▁▂▃▄▅▆▇█")

// Monitor renders a monitor run: the verdict and why, one row per signal with a
// sparkline-like timeline (one character per check), and every check in a collapsed table.
func Monitor(r *monitor.Result, info MonitorInfo) string {
	level := info.Level
	if level == "" {
		level = "##"
	}
	loc := info.Location
	if loc == nil {
		loc = time.UTC
	}
	env := r.Environment
	if env == "" {
		env = "the environment"
	}
	var b strings.Builder
	if r.Passed() {
		fmt.Fprintf(&b, "%s ✅ Monitor of %s passed\n\n", level, markdown.Escape(env))
	} else if r.Signal != "" {
		fmt.Fprintf(&b, "%s ❌ Monitor of %s failed: %s\n\n", level, markdown.Escape(env), markdown.Escape(r.Signal))
	} else {
		fmt.Fprintf(&b, "%s ❌ Monitor of %s failed\n\n", level, markdown.Escape(env))
	}
	if r.Reason != "" {
		fmt.Fprintf(&b, "%s\n\n", markdown.Escape(r.Reason))
	}
	noData := "no data counts as bad"
	if r.NoData == monitor.NoDataIgnore {
		noData = "no data is skipped"
	}
	fmt.Fprintf(&b, "Watched %s of %s · %d of %d checks, one every %s · breach = %d bad checks in a row of one signal · %s",
		r.Duration, r.Planned, len(r.Intervals), r.PlannedIntervals, r.Interval, r.Sustained, noData)
	if r.StoppedEarly {
		b.WriteString(" · **stopped early**")
	}
	if r.RestartsSeen > 0 {
		fmt.Fprintf(&b, " · ⚠️ gateway restarts seen in %d checks", r.RestartsSeen)
	}
	b.WriteString("\n\n")

	if len(r.Intervals) > 0 {
		b.WriteString(monitorSignalTable(r, loc))
		b.WriteString("\n")
		per := (len(r.Intervals) + monitorTimelineWidth - 1) / monitorTimelineWidth
		legend := "Timeline: one character per check, oldest first"
		if per > 1 {
			legend = fmt.Sprintf("Timeline: one character per %d checks (the worst of them), oldest first", per)
		}
		b.WriteString(legend + "; probes and restarts ▁ ok, █ bad; metrics: the height of the value (█ is the highest value or bound); · no data.\n\n")
	}
	var queries []string
	for _, s := range r.Signals {
		if s.Kind == monitor.KindMetric {
			queries = append(queries, fmt.Sprintf("- %s: %s", markdown.Escape(s.Name), markdown.Code(s.Query)))
		}
	}
	if len(queries) > 0 {
		fmt.Fprintf(&b, "Metric queries:\n\n%s\n\n", strings.Join(queries, "\n"))
	}
	if l := r.ProbeLoad; l.AuthFailuresPerInterval > 0 || l.BootstrapExchangeFailuresPerInterval > 0 {
		fmt.Fprintf(&b, "> ℹ️ The monitor's own probes cause %d auth failures (%s/s) and %d bootstrap exchange failures per check; they are not subtracted, so thresholds must allow for them.\n\n",
			l.AuthFailuresPerInterval, strconv.FormatFloat(l.AuthFailuresPerSecond, 'g', 3, 64), l.BootstrapExchangeFailuresPerInterval)
	}
	if len(r.Intervals) > 0 {
		b.WriteString(markdown.Details(fmt.Sprintf("Every check (%d)", len(r.Intervals)), monitorChecksTable(r, loc)))
		b.WriteString("\n")
	}
	return b.String()
}

func monitorSignalTable(r *monitor.Result, loc *time.Location) string {
	first, last := r.Intervals[0].At.In(loc), r.Intervals[len(r.Intervals)-1].At.In(loc)
	span := fmt.Sprintf("Checks %s → %s %s", monitorClock(first, r.Interval.D()), monitorClock(last, r.Interval.D()), last.Format("MST"))
	t := markdown.NewTable("Signal", "Bounds", markdown.Escape(span), "OK", "Bad", "No data", "Result")
	for _, s := range r.Signals {
		name := markdown.Code(s.Name)
		if s.Kind == monitor.KindMetric {
			name = markdown.Cell(s.Name)
		}
		t.Row(name, monitorBounds(s), markdown.Code(MonitorTimeline(r, s)), strconv.Itoa(s.OK), strconv.Itoa(s.Bad), strconv.Itoa(s.NoData),
			monitorSignalResult(r, s, loc))
	}
	return t.String()
}

func monitorBounds(s monitor.SignalSummary) string {
	var parts []string
	if s.Min != nil {
		parts = append(parts, "≥ "+monitorNum(*s.Min))
	}
	if s.Max != nil {
		parts = append(parts, "≤ "+monitorNum(*s.Max))
	}
	if len(parts) == 0 {
		switch s.Kind {
		case monitor.KindProbe:
			return "passes"
		case monitor.KindRestart:
			return "none"
		}
		return markdown.EmptyCell
	}
	return strings.Join(parts, ", ")
}

func monitorSignalResult(r *monitor.Result, s monitor.SignalSummary, loc *time.Location) string {
	switch {
	case s.Breached && s.BreachedAt != nil:
		from := ""
		if s.BadSince != nil {
			from = " from " + monitorClock(s.BadSince.In(loc), r.Interval.D())
		}
		return fmt.Sprintf("❌ %d bad in a row%s to %s", s.LongestBadRun, from, monitorClock(s.BreachedAt.In(loc), r.Interval.D()))
	case s.Bad > 0 || (s.NoData > 0 && r.NoData != monitor.NoDataIgnore):
		return fmt.Sprintf("⚠️ %d bad, at most %d in a row", s.Bad+monitorNoDataBad(r, s), s.LongestBadRun)
	case s.NoData > 0 && s.OK == 0:
		return fmt.Sprintf("⚪ no data in all %d checks", s.NoData)
	case s.NoData > 0:
		return fmt.Sprintf("✅ ok (%d checks without data skipped)", s.NoData)
	}
	return "✅ ok"
}

func monitorNoDataBad(r *monitor.Result, s monitor.SignalSummary) int {
	if r.NoData == monitor.NoDataIgnore {
		return 0
	}
	return s.NoData
}

// MonitorTimeline renders one signal's readings as a row of block characters: for probes and
// restarts ▁ ok and █ bad, for metrics the value's height between 0 (or the lowest value)
// and the highest value or bound; · no data. Runs longer than 60 checks put several
// checks in one character, the worst of them.
func MonitorTimeline(r *monitor.Result, s monitor.SignalSummary) string {
	type cell struct {
		status string
		value  *float64
	}
	var cells []cell
	for _, iv := range r.Intervals {
		c := cell{status: ""}
		for _, rd := range iv.Readings {
			if rd.Signal == s.Name {
				c = cell{status: rd.Status, value: rd.Value}
			}
		}
		cells = append(cells, c)
	}
	per := max((len(cells)+monitorTimelineWidth-1)/monitorTimelineWidth, 1)
	var merged []cell
	for i := 0; i < len(cells); i += per {
		m := cells[i]
		for _, c := range cells[i+1 : min(i+per, len(cells))] {
			if monitorRank(c.status) > monitorRank(m.status) {
				m.status = c.status
			}
			if c.value != nil && (m.value == nil || *c.value > *m.value) {
				m.value = c.value
			}
		}
		merged = append(merged, m)
	}

	lo, hi := 0.0, math.Inf(-1)
	for _, c := range merged {
		if c.value != nil && !math.IsInf(*c.value, 0) {
			lo, hi = math.Min(lo, *c.value), math.Max(hi, *c.value)
		}
	}
	if s.Max != nil {
		hi = math.Max(hi, *s.Max)
	}
	if s.Min != nil {
		hi = math.Max(hi, *s.Min)
	}
	var b strings.Builder
	for _, c := range merged {
		switch {
		case c.status == monitor.StatusNoData || c.status == "":
			b.WriteRune('·')
		case s.Kind != monitor.KindMetric || c.value == nil:
			if c.status == monitor.StatusBad {
				b.WriteRune(monitorSparkLevels[len(monitorSparkLevels)-1])
			} else {
				b.WriteRune(monitorSparkLevels[0])
			}
		default:
			b.WriteRune(monitorSpark(*c.value, lo, hi))
		}
	}
	return b.String()
}

func monitorSpark(v, lo, hi float64) rune {
	top := len(monitorSparkLevels) - 1
	switch {
	case math.IsInf(v, 1):
		return monitorSparkLevels[top]
	case math.IsInf(v, -1), hi <= lo, math.IsInf(hi, 0):
		return monitorSparkLevels[0]
	}
	i := int(math.Round((v - lo) / (hi - lo) * float64(top)))
	return monitorSparkLevels[max(0, min(top, i))]
}

func monitorRank(status string) int {
	switch status {
	case monitor.StatusBad:
		return 3
	case monitor.StatusNoData:
		return 2
	case monitor.StatusOK:
		return 1
	}
	return 0
}

func monitorChecksTable(r *monitor.Result, loc *time.Location) string {
	headers := []string{"#", "Time"}
	for _, s := range r.Signals {
		headers = append(headers, markdown.Cell(s.Name))
	}
	t := markdown.NewTable(headers...)
	for _, iv := range r.Intervals {
		row := []string{strconv.Itoa(iv.N), iv.At.In(loc).Format("15:04:05")}
		for _, s := range r.Signals {
			cell := markdown.EmptyCell
			for _, rd := range iv.Readings {
				if rd.Signal == s.Name {
					cell = monitorReadingCell(s, rd)
				}
			}
			row = append(row, cell)
		}
		t.Row(row...)
	}
	return t.String()
}

func monitorReadingCell(s monitor.SignalSummary, rd monitor.Reading) string {
	mark := "✅"
	switch rd.Status {
	case monitor.StatusBad:
		mark = "❌"
	case monitor.StatusNoData:
		return "⚪ no data"
	}
	if rd.Value == nil {
		return mark
	}
	v := *rd.Value
	switch s.Kind {
	case monitor.KindProbe:
		return mark + " " + Dur(time.Duration(v*float64(time.Second)))
	case monitor.KindRestart:
		return mark + " up " + config.Duration(time.Duration(v*float64(time.Second)).Round(time.Second)).String()
	}
	return mark + " " + monitorNum(v)
}

// monitorClock prints a time of day, with seconds when checks are less than a minute apart.
func monitorClock(t time.Time, interval time.Duration) string {
	if interval < time.Minute || t.Second() != 0 {
		return t.Format("15:04:05")
	}
	return t.Format("15:04")
}

func monitorNum(f float64) string { return strconv.FormatFloat(f, 'g', 4, 64) }
