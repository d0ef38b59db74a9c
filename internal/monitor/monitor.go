package monitor

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/agentme/release-action/internal/outcome"
	"github.com/agentme/release-action/internal/untrusted"

	"github.com/agentme/release-action/internal/clock"
	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/smoke"
)

// Defaults applied by Run to zero Monitor fields (config fills them already; a caller
// building Options by hand gets the same).
const (
	DefaultDuration  = 45 * time.Minute
	DefaultInterval  = time.Minute
	DefaultSustained = 3
	MinDuration      = time.Minute
	MaxDuration      = 6 * time.Hour
	// SessionPrefix starts the chat session key every probe of one monitor run writes to.
	SessionPrefix = "release-action-monitor-"
)

// No-data policies (config.Monitor.NoData).
const (
	NoDataFail   = "fail"
	NoDataIgnore = "ignore"
)

// Reading statuses.
const (
	StatusOK     = "ok"
	StatusBad    = "bad"
	StatusNoData = "no_data"
)

// Signal kinds.
const (
	KindProbe   = "probe"
	KindRestart = "restart"
	KindMetric  = "metric"
)

// SignalRestarts is the name of the restart signal.
const SignalRestarts = "restarts"

// SmokeFunc runs the given probes against the monitored gateway once, writing chat
// messages to sessionKey. The CLI builds it from the environment (see SmokeWith). Like
// smoke.Run it returns an error only for invalid options or when ctx ends.
type SmokeFunc func(ctx context.Context, probes []string, sessionKey string) (*smoke.Report, error)

// SmokeWith returns a SmokeFunc that runs smoke.Run with base, overriding Probes and
// SessionKey per call and, when base.Ready is zero, setting a readiness budget of 1ns:
// the monitored gateway is expected to be up, so one attempt and no wait.
func SmokeWith(base smoke.Options) SmokeFunc {
	return func(ctx context.Context, probes []string, sessionKey string) (*smoke.Report, error) {
		o := base
		o.Probes = append([]string(nil), probes...)
		o.SessionKey = sessionKey
		if o.Ready == 0 {
			o.Ready = time.Nanosecond
		}
		return smoke.Run(ctx, o)
	}
}

// Options configure one monitor run.
type Options struct {
	// Env is the monitored environment (its Name names the run).
	Env config.Environment
	// Monitor is the environment's monitor configuration, defaults filled by config.
	// Smoke lists the probes (nil = none); Prometheus lists the metric checks.
	Monitor config.Monitor
	// Smoke runs the probes; required when Monitor.Smoke is not empty.
	Smoke SmokeFunc
	// Prometheus answers the metric checks; required when Monitor.Prometheus has checks
	// (the CLI builds it with NewPrometheus).
	Prometheus PromAPI
	// Clock paces the intervals. The restart signal compares the gateway's uptime with
	// the time that passed on this clock, so it must run at the gateway's pace (both real,
	// or the same clock.Virtual in tests and the sandbox).
	Clock clock.Clock
	// Progress receives one line per interval and a heartbeat at least every minute.
	Progress func(string)
	// SessionKey is the chat session of every channel probe in this run; default
	// SessionPrefix + random.
	SessionKey string
	// OnBreach, when set, is called once after a sustained breach, with the breached
	// signal's name, before Run returns (the CLI rolls back here). Its error is returned
	// by Run along with the Result.
	OnBreach func(ctx context.Context, signal string) error
}

// Result is the outcome of a monitor run. Its JSON field names are stable: they are part
// of the action's `report` output.
type Result struct {
	Environment string          `json:"environment"`
	Verdict     outcome.Verdict `json:"verdict"`
	// Reason says why, in one sentence an operator acts on.
	Reason string `json:"reason"`
	// Signal is the breached signal ("" on a pass).
	Signal string `json:"signal,omitempty"`
	// BreachedAt is the interval at which Signal's run of bad intervals reached Sustained.
	BreachedAt *time.Time `json:"breached_at,omitempty"`
	Started    time.Time  `json:"started"`
	Finished   time.Time  `json:"finished"`
	// Duration is how long the monitor ran; Planned how long it was to run.
	Duration  config.Duration `json:"duration"`
	Planned   config.Duration `json:"planned_duration"`
	Interval  config.Duration `json:"interval"`
	Sustained int             `json:"sustained"`
	NoData    string          `json:"no_data"`
	// StoppedEarly is true when a breach (or cancellation) ended the run before Planned.
	StoppedEarly bool `json:"stopped_early"`
	// PlannedIntervals is Planned / Interval; len(Intervals) is how many ran.
	PlannedIntervals int             `json:"planned_intervals"`
	Intervals        []Interval      `json:"intervals"`
	Signals          []SignalSummary `json:"signals"`
	// RestartsSeen counts intervals whose restart signal was bad.
	RestartsSeen int       `json:"restarts_seen"`
	ProbeLoad    ProbeLoad `json:"probe_load"`
	SessionKey   string    `json:"session_key,omitempty"`
}

// Interval is what one check found.
type Interval struct {
	N        int       `json:"n"` // 1-based
	At       time.Time `json:"at"`
	Readings []Reading `json:"readings"`
}

// Reading is one signal in one interval.
type Reading struct {
	Signal string `json:"signal"`
	Status string `json:"status"` // ok | bad | no_data
	// Value: a metric's value, a probe's latency in seconds, the gateway's uptime in seconds.
	Value *float64 `json:"value,omitempty"`
	// Streak is the signal's run of consecutive bad intervals after this reading.
	Streak int    `json:"streak"`
	Detail string `json:"detail,omitempty"`
}

// SignalSummary is one signal over the whole run.
type SignalSummary struct {
	Name  string   `json:"name"`
	Kind  string   `json:"kind"` // probe | restart | metric
	Query string   `json:"query,omitempty"`
	Max   *float64 `json:"max,omitempty"`
	Min   *float64 `json:"min,omitempty"`
	OK    int      `json:"ok"`
	Bad   int      `json:"bad"`
	// NoData counts intervals without data (bad too under no-data "fail").
	NoData        int  `json:"no_data"`
	LongestBadRun int  `json:"longest_bad_run"`
	Breached      bool `json:"breached"`
	// BadSince is the start of the run of bad intervals that breached.
	BadSince *time.Time `json:"bad_since,omitempty"`
	// BreachedAt is the interval at which the run reached Sustained.
	BreachedAt *time.Time `json:"breached_at,omitempty"`
}

// ProbeLoad is what the monitor's own probes add to the gateway's metrics per interval;
// thresholds must allow for it (it is not subtracted).
type ProbeLoad struct {
	AuthFailuresPerInterval              int     `json:"auth_failures_per_interval"`
	BootstrapExchangeFailuresPerInterval int     `json:"bootstrap_exchange_failures_per_interval"`
	AuthFailuresPerSecond                float64 `json:"auth_failures_per_second"`
}

// Load returns the probe load of probes run once per interval. connect-auth causes one
// auth failure (its wrong-credential connect), tool-call two (no credential, wrong
// credential), bootstrap one exchange failure (the refused second exchange).
func Load(probes []string, interval time.Duration) ProbeLoad {
	var l ProbeLoad
	for _, p := range probes {
		switch p {
		case smoke.ProbeConnectAuth:
			l.AuthFailuresPerInterval++
		case smoke.ProbeToolCall:
			l.AuthFailuresPerInterval += 2
		case smoke.ProbeBootstrap:
			l.BootstrapExchangeFailuresPerInterval++
		}
	}
	if interval > 0 {
		l.AuthFailuresPerSecond = float64(l.AuthFailuresPerInterval) / interval.Seconds()
	}
	return l
}

// Passed reports whether the verdict is a pass.
func (r *Result) Passed() bool { return r != nil && r.Verdict == outcome.Pass }

// signal is one thing watched each interval.
type signal struct {
	name   string
	kind   string
	probe  string             // KindProbe
	check  config.MetricCheck // KindMetric
	streak int
	sum    SignalSummary
	runAt  time.Time // start of the current bad run
}

type monitor struct {
	o         Options
	clk       clock.Clock
	m         config.Monitor
	probes    []string
	signals   []*signal
	restart   *signal
	lastUp    *uptimeSeen
	res       *Result
	lastSaid  time.Time
	measured  bool // some signal produced data at least once
	sessionID string
}

// uptimeSeen is the gateway's uptime at an interval.
type uptimeSeen struct {
	at     time.Time
	uptime time.Duration
}

// Run watches the environment for Monitor.Duration, reading every signal once per
// Monitor.Interval (the first reading one interval after the start, the last at the end),
// and returns the verdict. It stops at the first sustained breach. A bad signal is a
// result, not an error: Run returns an error for invalid options (wrapping
// outcome.ErrBadInput), when a smoke run reports invalid options, when ctx ends (with
// the Result so far), or when OnBreach fails (with the full Result).
func Run(ctx context.Context, o Options) (*Result, error) {
	mon, err := newMonitor(o)
	if err != nil {
		return nil, err
	}
	return mon.run(ctx)
}

func newMonitor(o Options) (*monitor, error) {
	m := o.Monitor
	m.Duration = cmp.Or(m.Duration, config.Duration(DefaultDuration))
	m.Interval = cmp.Or(m.Interval, config.Duration(DefaultInterval))
	m.Sustained = cmp.Or(m.Sustained, DefaultSustained)
	m.NoData = cmp.Or(m.NoData, NoDataFail)
	env := cmp.Or(o.Env.Name, "the environment")

	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if d := m.Duration.D(); d < MinDuration || d > MaxDuration {
		bad("monitor duration %s is outside %s..%s", m.Duration, config.Duration(MinDuration), config.Duration(MaxDuration))
	}
	if i := m.Interval.D(); i <= 0 || i > m.Duration.D() {
		bad("monitor interval %s must be positive and at most the duration %s", m.Interval, m.Duration)
	}
	if m.Sustained < 1 {
		bad("monitor sustained %d: want at least 1 consecutive bad interval", m.Sustained)
	} else if m.Interval > 0 && m.Sustained > int(m.Duration.D()/max(m.Interval.D(), 1)) {
		bad("monitor sustained %d is more intervals than the %s duration holds at %s each: a breach could never be seen", m.Sustained, m.Duration, m.Interval)
	}
	if m.NoData != NoDataFail && m.NoData != NoDataIgnore {
		bad("monitor no-data %q: want %q or %q", m.NoData, NoDataFail, NoDataIgnore)
	}
	var probes []string
	for _, p := range smoke.AllProbes() { // canonical order, no duplicates
		if slices.Contains(m.Smoke, p) {
			probes = append(probes, p)
		}
	}
	for _, p := range m.Smoke {
		if !slices.Contains(smoke.AllProbes(), p) {
			bad("unknown monitor probe %q: known probes are %s", p, strings.Join(smoke.AllProbes(), ", "))
		}
	}
	if len(probes) > 0 && o.Smoke == nil {
		bad("monitor of %s lists smoke probes but no smoke runner was given", env)
	}
	var checks []config.MetricCheck
	if m.Prometheus != nil {
		checks = m.Prometheus.Checks
	}
	if len(checks) > 0 && o.Prometheus == nil {
		bad("monitor of %s has prometheus checks but no Prometheus client was given", env)
	}
	if len(probes) == 0 && len(checks) == 0 {
		bad("the monitor of %s watches nothing: list smoke probes or add prometheus checks", env)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, outcome.BadInputf("invalid monitor options: %w", err)
	}

	mon := &monitor{o: o, clk: o.Clock, m: m, probes: probes}
	if mon.clk == nil {
		mon.clk = clock.Real{}
	}
	mon.sessionID = cmp.Or(o.SessionKey, SessionPrefix+strings.ToLower(rand.Text()[:12]))
	taken := map[string]bool{}
	add := func(s *signal) {
		s.sum = SignalSummary{Name: s.name, Kind: s.kind}
		taken[s.name] = true
		mon.signals = append(mon.signals, s)
	}
	for _, p := range probes {
		add(&signal{name: p, kind: KindProbe, probe: p})
	}
	if slices.ContainsFunc(probes, func(p string) bool {
		return p == smoke.ProbeConnectAuth || p == smoke.ProbeControlUI || p == smoke.ProbeChannel
	}) {
		mon.restart = &signal{name: SignalRestarts, kind: KindRestart}
		add(mon.restart)
	}
	for _, c := range checks {
		name := c.Name
		if taken[name] { // a check named like a built-in signal
			name = "metric " + name
		}
		s := &signal{name: name, kind: KindMetric, check: c}
		add(s)
		s.sum.Query, s.sum.Max, s.sum.Min = c.Query, c.Max, c.Min
	}
	mon.res = &Result{
		Environment: o.Env.Name,
		Planned:     m.Duration, Interval: m.Interval, Sustained: m.Sustained, NoData: m.NoData,
		PlannedIntervals: int(m.Duration.D() / m.Interval.D()),
		ProbeLoad:        Load(probes, m.Interval.D()),
		Intervals:        []Interval{},
	}
	if slices.Contains(probes, smoke.ProbeChannel) {
		mon.res.SessionKey = mon.sessionID
	}
	return mon, nil
}

func (mon *monitor) say(format string, args ...any) {
	if mon.o.Progress != nil {
		mon.o.Progress(fmt.Sprintf(format, args...))
	}
	mon.lastSaid = mon.clk.Now()
}

func (mon *monitor) run(ctx context.Context) (*Result, error) {
	res := mon.res
	env := cmp.Or(mon.o.Env.Name, "the environment")
	interval := mon.m.Interval.D()
	res.Started = mon.clk.Now()
	var names []string
	for _, s := range mon.signals {
		names = append(names, s.name)
	}
	mon.say("monitoring %s for %s, one check every %s (%d checks); breach = %d bad checks in a row of one signal; no data counts as %s; signals: %s",
		env, mon.m.Duration, mon.m.Interval, res.PlannedIntervals, mon.m.Sustained, noDataWord(mon.m.NoData), strings.Join(names, ", "))
	if l := res.ProbeLoad; l.AuthFailuresPerInterval > 0 && mon.hasMetrics() {
		mon.say("note: the monitor's own probes cause %d auth failures per check (%.3g/s): metric thresholds must allow for them",
			l.AuthFailuresPerInterval, l.AuthFailuresPerSecond)
	}

	var breached *signal
	for n := 1; n <= res.PlannedIntervals; n++ {
		if err := mon.waitUntil(ctx, res.Started.Add(time.Duration(n)*interval), n); err != nil {
			return mon.finish(ctx, nil, fmt.Errorf("monitor of %s stopped after %d of %d checks: %w", env, n-1, res.PlannedIntervals, err))
		}
		iv, err := mon.check(ctx, n)
		if err != nil {
			return mon.finish(ctx, nil, fmt.Errorf("monitor of %s, check %d of %d: %w", env, n, res.PlannedIntervals, err))
		}
		res.Intervals = append(res.Intervals, iv)
		mon.report(iv)
		if breached = mon.breach(); breached != nil {
			break
		}
	}
	return mon.finish(ctx, breached, nil)
}

func (mon *monitor) hasMetrics() bool {
	return slices.ContainsFunc(mon.signals, func(s *signal) bool { return s.kind == KindMetric })
}

// waitUntil sleeps until t, saying every minute how far the run is when the wait is long.
func (mon *monitor) waitUntil(ctx context.Context, t time.Time, next int) error {
	for {
		now := mon.clk.Now()
		left := t.Sub(now)
		if left <= 0 {
			return ctx.Err()
		}
		if now.Sub(mon.lastSaid) >= time.Minute {
			mon.say("monitoring %s: %s of %s done, check %d of %d in %s",
				cmp.Or(mon.o.Env.Name, "the environment"), short(now.Sub(mon.res.Started)), mon.m.Duration, next, mon.res.PlannedIntervals, short(left))
		}
		step := min(left, time.Minute-now.Sub(mon.lastSaid))
		if step <= 0 {
			step = min(left, time.Minute)
		}
		if err := mon.clk.Sleep(ctx, step); err != nil {
			return err
		}
	}
}

// check reads every signal once.
func (mon *monitor) check(ctx context.Context, n int) (Interval, error) {
	at := mon.clk.Now()
	iv := Interval{N: n, At: at}
	var rep *smoke.Report
	if len(mon.probes) > 0 {
		r, err := mon.o.Smoke(ctx, mon.probes, mon.sessionID)
		if err != nil {
			return iv, fmt.Errorf("smoke probes: %w", err)
		}
		if r == nil {
			return iv, errors.New("smoke probes: the smoke runner returned no report")
		}
		rep = r
	}
	for _, s := range mon.signals {
		var rd Reading
		switch s.kind {
		case KindProbe:
			rd = probeReading(rep, s.probe)
		case KindRestart:
			rd = mon.restartReading(rep, at)
		case KindMetric:
			rd = queryCheck(ctx, mon.o.Prometheus, s.check)
			if err := ctx.Err(); err != nil {
				return iv, err
			}
		}
		rd.Signal = s.name
		mon.count(s, &rd, at)
		iv.Readings = append(iv.Readings, rd)
	}
	return iv, nil
}

// count applies the no-data policy and updates the signal's run of bad intervals.
func (mon *monitor) count(s *signal, rd *Reading, at time.Time) {
	switch rd.Status {
	case StatusOK:
		s.sum.OK++
		s.streak = 0
		mon.measured = true
	case StatusBad:
		s.sum.Bad++
		mon.measured = true
		mon.extend(s, at)
	case StatusNoData:
		s.sum.NoData++
		if mon.m.NoData == NoDataFail {
			mon.extend(s, at)
		}
	}
	if s.kind == KindRestart && rd.Status == StatusBad {
		mon.res.RestartsSeen++
	}
	rd.Streak = s.streak
}

func (mon *monitor) extend(s *signal, at time.Time) {
	if s.streak == 0 {
		s.runAt = at
	}
	s.streak++
	s.sum.LongestBadRun = max(s.sum.LongestBadRun, s.streak)
}

// breach returns the first signal (in signal order) whose bad run reached Sustained.
func (mon *monitor) breach() *signal {
	for _, s := range mon.signals {
		if s.streak >= mon.m.Sustained {
			return s
		}
	}
	return nil
}

// report prints one line for the interval: what is not ok, or that all is.
func (mon *monitor) report(iv Interval) {
	var notOK []string
	for _, rd := range iv.Readings {
		if rd.Status == StatusOK {
			continue
		}
		word := "BAD"
		if rd.Status == StatusNoData {
			word = "NO DATA"
		}
		line := fmt.Sprintf("%s %s", rd.Signal, word)
		if rd.Streak > 0 {
			line += fmt.Sprintf(" (%d in a row)", rd.Streak)
		}
		if rd.Detail != "" {
			line += ": " + untrusted.OneLine(rd.Detail, 160)
		}
		notOK = append(notOK, line)
	}
	head := fmt.Sprintf("check %d/%d at %s", iv.N, mon.res.PlannedIntervals, iv.At.UTC().Format("15:04:05 UTC"))
	if len(notOK) == 0 {
		mon.say("%s: all %d signals ok", head, len(iv.Readings))
		return
	}
	mon.say("%s: %s", head, strings.Join(notOK, "; "))
}

// finish fills the verdict and the summaries, calls OnBreach on a breach, and returns.
func (mon *monitor) finish(ctx context.Context, breached *signal, runErr error) (*Result, error) {
	res := mon.res
	res.Finished = mon.clk.Now()
	res.Duration = config.Duration(res.Finished.Sub(res.Started))
	res.StoppedEarly = len(res.Intervals) < res.PlannedIntervals
	for _, s := range mon.signals {
		if s == breached {
			s.sum.Breached = true
			since, at := s.runAt, res.Intervals[len(res.Intervals)-1].At
			s.sum.BadSince, s.sum.BreachedAt = &since, &at
		}
		res.Signals = append(res.Signals, s.sum)
	}
	env := cmp.Or(mon.o.Env.Name, "the environment")
	switch {
	case runErr != nil:
		res.Verdict = outcome.Fail
		res.Reason = fmt.Sprintf("the monitor of %s did not finish (%d of %d checks ran): %v", env, len(res.Intervals), res.PlannedIntervals, runErr)
		return res, runErr
	case breached != nil:
		res.Verdict = outcome.Fail
		res.Signal = breached.name
		res.BreachedAt = breached.sum.BreachedAt
		last := res.Intervals[len(res.Intervals)-1].Readings
		detail := ""
		for _, rd := range last {
			if rd.Signal == breached.name && rd.Detail != "" {
				detail = ": " + untrusted.OneLine(rd.Detail, 200)
			}
		}
		res.Reason = fmt.Sprintf("%s was bad for %d checks in a row (%s to %s)%s; the monitor of %s stopped after %s of %s",
			breached.name, breached.streak, breached.runAt.UTC().Format("15:04:05"), res.BreachedAt.UTC().Format("15:04:05 UTC"),
			detail, env, short(res.Duration.D()), mon.m.Duration)
	case !mon.measured:
		res.Verdict = outcome.Fail
		res.Reason = fmt.Sprintf("no signal produced any data in %d checks over %s: nothing proved %s healthy (no data is not a pass); check the probes' gateway URL and credential and the Prometheus queries",
			len(res.Intervals), short(res.Duration.D()), env)
	default:
		res.Verdict = outcome.Pass
		res.Reason = mon.passReason(env)
	}
	mon.say("monitor %s: %s", res.Verdict, res.Reason)
	if breached != nil && mon.o.OnBreach != nil {
		if err := mon.o.OnBreach(ctx, breached.name); err != nil {
			return res, fmt.Errorf("after the breach of %s in %s: %w", breached.name, env, err)
		}
	}
	return res, nil
}

func (mon *monitor) passReason(env string) string {
	var notes []string
	for _, s := range mon.signals {
		if s.sum.Bad > 0 || s.sum.NoData > 0 {
			n := fmt.Sprintf("%s had %d bad", s.name, s.sum.Bad)
			if s.sum.NoData > 0 {
				n += fmt.Sprintf(" and %d no-data", s.sum.NoData)
			}
			n += fmt.Sprintf(" checks, at most %d in a row", s.sum.LongestBadRun)
			notes = append(notes, n)
		}
	}
	r := fmt.Sprintf("%s stayed healthy for %s: no signal was bad for %d checks in a row (%d checks)",
		env, short(mon.res.Duration.D()), mon.m.Sustained, len(mon.res.Intervals))
	if len(notes) > 0 {
		r += "; transient: " + strings.Join(notes, "; ")
	}
	return r
}

func noDataWord(policy string) string {
	if policy == NoDataIgnore {
		return "nothing (ignored)"
	}
	return "bad"
}

// short prints a duration without zero tails ("45m", "1h30m", "12s").
func short(d time.Duration) string { return config.Duration(d.Round(time.Second)).String() }
