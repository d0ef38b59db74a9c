package summary

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/monitor"
	"github.com/agentme/release-action/internal/outcome"
)

var monStart = time.Date(2026, 11, 23, 16, 40, 0, 0, time.UTC) // 02:40 in Brisbane

func monF(f float64) *float64 { return &f }

// monResult builds a monitor result from per-signal scripts ('.' ok, 'x' bad, '-' no data)
// and metric values, the way monitor.Run fills it.
func monResult(sustained int, noData string, scripts map[string]string, order []string, metric map[string][]float64) *monitor.Result {
	n := len(scripts[order[0]])
	r := &monitor.Result{
		Environment: "production", Started: monStart, Interval: config.Duration(time.Minute), Sustained: sustained, NoData: noData,
		Planned: config.Duration(45 * time.Minute), PlannedIntervals: 45, Duration: config.Duration(time.Duration(n) * time.Minute),
		Intervals: []monitor.Interval{}, ProbeLoad: monitor.Load([]string{"connect-auth", "tool-call"}, time.Minute),
	}
	sums := map[string]*monitor.SignalSummary{}
	streak := map[string]int{}
	for _, name := range order {
		kind := monitor.KindProbe
		switch {
		case name == monitor.SignalRestarts:
			kind = monitor.KindRestart
		case metric[name] != nil:
			kind = monitor.KindMetric
		}
		sums[name] = &monitor.SignalSummary{Name: name, Kind: kind}
		if kind == monitor.KindMetric {
			sums[name].Query, sums[name].Max = "sum(rate(x[5m]))", monF(0.5)
		}
	}
	for i := range n {
		at := monStart.Add(time.Duration(i+1) * time.Minute)
		iv := monitor.Interval{N: i + 1, At: at}
		for _, name := range order {
			s := sums[name]
			rd := monitor.Reading{Signal: name}
			switch scripts[name][i] {
			case '.':
				rd.Status = monitor.StatusOK
				s.OK++
				streak[name] = 0
			case 'x':
				rd.Status = monitor.StatusBad
				s.Bad++
				streak[name]++
			case '-':
				rd.Status = monitor.StatusNoData
				s.NoData++
				if noData == monitor.NoDataFail {
					streak[name]++
				}
			}
			if streak[name] == 1 {
				since := at
				s.BadSince = &since
			}
			s.LongestBadRun = max(s.LongestBadRun, streak[name])
			if rd.Status != monitor.StatusNoData {
				v := 0.12
				if vs := metric[name]; vs != nil {
					v = vs[i]
				} else if s.Kind == monitor.KindRestart {
					v = 3600 + float64(i*60)
				}
				rd.Value = &v
			}
			rd.Streak = streak[name]
			iv.Readings = append(iv.Readings, rd)
			if streak[name] >= sustained && r.Signal == "" {
				r.Signal = name
				s.Breached = true
				b := at
				s.BreachedAt, r.BreachedAt = &b, &b
			}
		}
		r.Intervals = append(r.Intervals, iv)
	}
	for _, name := range order {
		r.Signals = append(r.Signals, *sums[name])
	}
	r.Verdict = outcome.Pass
	if r.Signal != "" {
		r.Verdict = outcome.Fail
		r.StoppedEarly = true
		r.Reason = r.Signal + " was bad for 3 checks in a row"
	} else {
		r.Reason = "production stayed healthy"
	}
	r.Finished = monStart.Add(r.Duration.D())
	return r
}

// assertTables checks that every table row has as many cells as its header and that no
// line reads as a workflow command.
func assertTables(t *testing.T, md string) {
	t.Helper()
	cols := 0
	for _, line := range strings.Split(md, "\n") {
		assert.False(t, strings.HasPrefix(strings.TrimSpace(line), "::"), "workflow command in %q", line)
		if !strings.HasPrefix(line, "|") {
			cols = 0
			continue
		}
		n := strings.Count(line, "|") - strings.Count(line, `\|`) - 1
		if cols == 0 {
			cols = n
		}
		assert.Equal(t, cols, n, "row %q", line)
	}
}

func timelineRow(t *testing.T, md, signal string) string {
	t.Helper()
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(line, "| "+signal+" |") {
			return line
		}
	}
	t.Fatalf("no row for %s in:\n%s", signal, md)
	return ""
}

func TestMonitorSummaryBreach(t *testing.T) {
	r := monResult(3, monitor.NoDataFail,
		map[string]string{"connect-auth": "......", "restarts": "..x...", "auth errors": "...xxx"},
		[]string{"connect-auth", "restarts", "auth errors"},
		map[string][]float64{"auth errors": {0.1, 0.1, 0.2, 0.9, 0.8, 0.9}})
	md := Monitor(r, MonitorInfo{Location: time.FixedZone("AEST", 10*3600)})
	assertTables(t, md)

	assert.True(t, strings.HasPrefix(md, "## ❌ Monitor of production failed: auth errors\n\n"), md)
	assert.Contains(t, md, "Watched 6m of 45m · 6 of 45 checks, one every 1m · breach = 3 bad checks in a row of one signal · no data counts as bad · **stopped early**")
	assert.Contains(t, md, "| Signal | Bounds | Checks 02:41 → 02:46 AEST | OK | Bad | No data | Result |")
	assert.Equal(t, "| `connect-auth` | passes | `▁▁▁▁▁▁` | 6 | 0 | 0 | ✅ ok |", timelineRow(t, md, "`connect-auth`"))
	assert.Equal(t, "| `restarts` | none | `▁▁█▁▁▁` | 5 | 1 | 0 | ⚠️ 1 bad, at most 1 in a row |", timelineRow(t, md, "`restarts`"))
	// Heights over 0..0.9 (the highest value; the bound 0.5 is lower): 0.1 -> ▂, 0.2 -> ▃, 0.8 -> ▇.
	assert.Equal(t, "| auth errors | ≤ 0.5 | `▂▂▃█▇█` | 3 | 3 | 0 | ❌ 3 bad in a row from 02:44 to 02:46 |", timelineRow(t, md, "auth errors"))
	assert.Contains(t, md, "- auth errors: `sum(rate(x[5m]))`")
	assert.Contains(t, md, "> ℹ️ The monitor's own probes cause 3 auth failures (0.05/s) and 0 bootstrap exchange failures per check")
	assert.Contains(t, md, "<details><summary>Every check (6)</summary>")
	assert.Contains(t, md, "| 4 | 02:44:00 | ✅ 120ms | ✅ up 1h3m | ❌ 0.9 |")
	assert.Contains(t, md, "| 3 | 02:43:00 | ✅ 120ms | ❌ up 1h2m | ✅ 0.2 |")
}

func TestMonitorSummaryPassAndNoData(t *testing.T) {
	r := monResult(3, monitor.NoDataIgnore,
		map[string]string{"channel": "..x.....", "latency p95": "--------", "auth errors": "..--...."},
		[]string{"channel", "latency p95", "auth errors"},
		map[string][]float64{"latency p95": make([]float64, 8), "auth errors": {0, 0.1, 0, 0, 0.1, 0.3, 0.5, 0.1}})
	md := Monitor(r, MonitorInfo{Level: "###"})
	assertTables(t, md)
	assert.True(t, strings.HasPrefix(md, "### ✅ Monitor of production passed\n\n"), md)
	assert.Contains(t, md, "no data is skipped")
	assert.NotContains(t, md, "stopped early")
	assert.Contains(t, md, "Checks 16:41 → 16:48 UTC")
	assert.Equal(t, "| `channel` | passes | `▁▁█▁▁▁▁▁` | 7 | 1 | 0 | ⚠️ 1 bad, at most 1 in a row |", timelineRow(t, md, "`channel`"))
	assert.Equal(t, "| latency p95 | ≤ 0.5 | `········` | 0 | 0 | 8 | ⚪ no data in all 8 checks |", timelineRow(t, md, "latency p95"))
	// 0..0.5 (the bound is the highest): 0.1 -> ▂ (1.4), 0.3 -> ▅ (4.2), 0.5 -> █.
	assert.Equal(t, "| auth errors | ≤ 0.5 | `▁▂··▂▅█▂` | 6 | 0 | 2 | ✅ ok (2 checks without data skipped) |", timelineRow(t, md, "auth errors"))
	assert.Contains(t, md, "⚪ no data")
}

func TestMonitorSummaryLongRun(t *testing.T) {
	script := strings.Repeat(".", 360)
	bad := []byte(script)
	bad[100] = 'x' // one bad check among 360: its 6-check group shows bad
	r := monResult(3, monitor.NoDataFail, map[string]string{"tool-call": string(bad)}, []string{"tool-call"}, nil)
	md := Monitor(r, MonitorInfo{})
	row := timelineRow(t, md, "`tool-call`")
	line := strings.Split(row, "`")[3]
	assert.Equal(t, 60, utf8.RuneCountInString(line), "360 checks fit in 60 characters")
	assert.Equal(t, strings.Repeat("▁", 16)+"█"+strings.Repeat("▁", 43), line)
	assert.Contains(t, md, "one character per 6 checks (the worst of them)")
	assert.Contains(t, md, "Every check (360)")
}

func TestMonitorSummaryEscapes(t *testing.T) {
	name := "auth | errors <b>x</b> ::error::"
	r := monResult(2, monitor.NoDataFail, map[string]string{name: ".xx"}, []string{name}, map[string][]float64{name: {0.1, 1, 2}})
	r.Reason = "::set-output name=x:: <img src=x>"
	md := Monitor(r, MonitorInfo{})
	assertTables(t, md)
	assert.NotContains(t, md, "<b>")
	assert.NotContains(t, md, "<img")
	assert.Contains(t, md, "- auth \\| errors &lt;b&gt;x&lt;/b&gt; ::error::: `sum")
	require.Contains(t, md, "## ❌ Monitor of production failed: auth \\| errors")
}

func TestMonitorSummaryEmpty(t *testing.T) {
	r := &monitor.Result{Environment: "production", Verdict: outcome.Fail, Reason: "the monitor of production did not finish (0 of 45 checks ran): context canceled",
		Planned: config.Duration(45 * time.Minute), PlannedIntervals: 45, Interval: config.Duration(time.Minute), Sustained: 3, NoData: monitor.NoDataFail, StoppedEarly: true}
	md := Monitor(r, MonitorInfo{})
	assert.Contains(t, md, "## ❌ Monitor of production failed\n\n")
	assert.Contains(t, md, "did not finish")
	assert.NotContains(t, md, "| Signal |")
}

// FuzzMonitorSummary: whatever a signal is named and whatever the reason says, every
// table keeps its shape and no HTML tag or workflow command gets through.
func FuzzMonitorSummary(f *testing.F) {
	f.Add("auth errors", "3 bad")
	f.Add("a|b\n::error::x", "<script>alert(1)</script>\n## heading")
	f.Add("`code`|", "\x00\u202e")
	f.Fuzz(func(t *testing.T, name, reason string) {
		if name == "" {
			return
		}
		r := monResult(2, monitor.NoDataFail, map[string]string{name: ".x-x"}, []string{name}, map[string][]float64{name: {0.1, 1, 0, 2}})
		r.Reason = reason
		md := Monitor(r, MonitorInfo{})
		assertTables(t, md)
		for _, tag := range []string{"<script", "<b>", "<img"} {
			assert.NotContains(t, strings.ReplaceAll(md, "<details><summary>", ""), tag)
		}
	})
}
