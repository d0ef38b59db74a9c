package monitor

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentme/release-action/internal/clock"
	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/outcome"
	"github.com/agentme/release-action/internal/smoke"
)

var epoch = time.Date(2026, 11, 24, 2, 40, 0, 0, time.UTC)

// The interval scripts of the fakes: one rune per interval.
//
//	'.' ok   'x' bad   '-' no data
type script string

func (s script) at(n int) byte {
	if n-1 < len(s) {
		return s[n-1]
	}
	return '.'
}

// fakeSmoke answers each call with a report built from per-probe scripts, and records
// the calls. Uptime grows with the clock unless the restart script says 'x' (a restart
// just before that check).
type fakeSmoke struct {
	t       *testing.T
	clk     clock.Clock
	probes  map[string]script
	restart script
	mu      sync.Mutex
	calls   int
	keys    map[string]int
	asked   [][]string
	boot    time.Time
	hook    func(n int)
}

func newFakeSmoke(t *testing.T, clk clock.Clock) *fakeSmoke {
	return &fakeSmoke{t: t, clk: clk, probes: map[string]script{}, keys: map[string]int{}, boot: clk.Now().Add(-time.Hour)}
}

func (f *fakeSmoke) run(_ context.Context, probes []string, key string) (*smoke.Report, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	n := f.calls
	f.keys[key]++
	f.asked = append(f.asked, append([]string(nil), probes...))
	if f.hook != nil {
		f.hook(n)
	}
	now := f.clk.Now()
	if f.restart.at(n) == 'x' {
		f.boot = now
	}
	rep := &smoke.Report{Verdict: outcome.Pass, Ready: true, SessionKey: key}
	for _, p := range probes {
		pr := smoke.ProbeResult{Name: p, OK: true, Attempts: 1, Latency: 120 * time.Millisecond, Detail: "ok"}
		switch f.probes[p].at(n) {
		case 'x':
			pr.OK, pr.Detail = false, fmt.Sprintf("%s failed on purpose at check %d", p, n)
			rep.Verdict = outcome.Fail
		case '-':
			pr.OK, pr.Attempts, pr.Detail = false, 0, "cancelled before it ran"
			rep.Verdict = outcome.Fail
		}
		rep.Probes = append(rep.Probes, pr)
	}
	rep.Server = smoke.ServerInfo{Version: "2026.2.9", ConnID: fmt.Sprintf("conn-%d", n), UptimeMs: now.Sub(f.boot).Milliseconds()}
	return rep, nil
}

// fakeProm answers each query from a per-query script of values; the n-th call of a query
// reads the n-th entry. NaN means an empty vector; a missing query fails the test.
type fakeProm struct {
	t      *testing.T
	mu     sync.Mutex
	values map[string][]float64
	errs   map[string]error
	calls  map[string]int
}

// empty marks an interval whose query returns an empty vector.
var empty = math.Inf(-1)

func newFakeProm(t *testing.T) *fakeProm {
	return &fakeProm{t: t, values: map[string][]float64{}, errs: map[string]error{}, calls: map[string]int{}}
}

func (f *fakeProm) Query(_ context.Context, q string) (QueryResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[q]++
	if err, ok := f.errs[q]; ok {
		return QueryResult{}, err
	}
	vals, ok := f.values[q]
	if !ok {
		f.t.Errorf("unexpected query %q", q)
		return QueryResult{}, fmt.Errorf("unexpected query %q", q)
	}
	n := f.calls[q]
	v := 0.0
	if n-1 < len(vals) {
		v = vals[n-1]
	}
	if v == empty {
		return QueryResult{Type: "vector"}, nil
	}
	return QueryResult{Type: "vector", Values: []float64{v}}, nil
}

// values builds a query script from a rune script: '.' -> ok, 'x' -> bad, '-' -> empty.
func values(s string, ok, bad float64) []float64 {
	var out []float64
	for _, r := range s {
		switch r {
		case 'x':
			out = append(out, bad)
		case '-':
			out = append(out, empty)
		default:
			out = append(out, ok)
		}
	}
	return out
}

func ptr(f float64) *float64 { return &f }

// lines records progress.
type lines struct {
	mu sync.Mutex
	l  []string
}

func (l *lines) add(s string) {
	l.mu.Lock()
	l.l = append(l.l, s)
	l.mu.Unlock()
}

func (l *lines) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.l, "\n")
}

// statuses renders a signal's readings as a rune script ('.', 'x', '-').
func statuses(r *Result, signal string) string {
	var b strings.Builder
	for _, iv := range r.Intervals {
		for _, rd := range iv.Readings {
			if rd.Signal != signal {
				continue
			}
			switch rd.Status {
			case StatusOK:
				b.WriteByte('.')
			case StatusBad:
				b.WriteByte('x')
			case StatusNoData:
				b.WriteByte('-')
			}
		}
	}
	return b.String()
}

func summaryOf(r *Result, name string) SignalSummary {
	for _, s := range r.Signals {
		if s.Name == name {
			return s
		}
	}
	return SignalSummary{}
}

func monitorCfg(d, i time.Duration, sustained int, probes []string, checks ...config.MetricCheck) config.Monitor {
	m := config.Monitor{Duration: config.Duration(d), Interval: config.Duration(i), Sustained: sustained, NoData: NoDataFail, Smoke: probes}
	if len(checks) > 0 {
		m.Prometheus = &config.Prometheus{URL: "http://prom.invalid", Checks: checks}
	}
	return m
}
