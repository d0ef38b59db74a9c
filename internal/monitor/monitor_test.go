package monitor

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/clock"
	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/outcome"
	"github.com/agentme/release-action/internal/smoke"
)

const authQuery = "sum(rate(agentme_gateway_auth_failures_total[5m]))"

func authCheck() config.MetricCheck {
	return config.MetricCheck{Name: "auth errors", Query: authQuery, Max: ptr(0.5)}
}

func TestRunScenarios(t *testing.T) {
	subset := smoke.RollbackProbes()
	cases := []struct {
		name      string
		duration  time.Duration
		interval  time.Duration
		sustained int
		noData    string
		probes    map[string]script
		restart   script
		auth      string // script of the auth errors check; "" = no metric check
		// want
		verdict   outcome.Verdict
		signal    string
		intervals int
		statuses  map[string]string
		breachN   int // interval number of the breach (0 = none)
	}{
		{name: "healthy for 45m at 1m", duration: 45 * time.Minute, interval: time.Minute, sustained: 3,
			auth: "", verdict: outcome.Pass, intervals: 45},
		{name: "healthy with metrics", duration: 10 * time.Minute, interval: time.Minute, sustained: 3,
			auth: "..........", verdict: outcome.Pass, intervals: 10,
			statuses: map[string]string{"auth errors": "..........", SignalRestarts: ".........."}},
		{name: "a transient single bad interval triggers nothing", duration: 10 * time.Minute, interval: time.Minute, sustained: 3,
			probes: map[string]script{"channel": "....x"}, auth: "..x.......",
			verdict: outcome.Pass, intervals: 10,
			statuses: map[string]string{"channel": "....x.....", "auth errors": "..x.......", "connect-auth": ".........."}},
		{name: "alternating bad intervals are never sustained", duration: 10 * time.Minute, interval: time.Minute, sustained: 3,
			probes: map[string]script{"channel": "x.x.x.x.x."}, verdict: outcome.Pass, intervals: 10},
		{name: "bad intervals of different signals do not add up", duration: 9 * time.Minute, interval: time.Minute, sustained: 3,
			probes: map[string]script{"channel": "x..x..x", "tool-call": ".x..x..x"}, auth: "..x..x..x",
			verdict: outcome.Pass, intervals: 9},
		{name: "breach after 3 bad intervals of one metric", duration: 45 * time.Minute, interval: time.Minute, sustained: 3,
			auth: "...xxxxxx", verdict: outcome.Fail, signal: "auth errors", intervals: 6, breachN: 6,
			statuses: map[string]string{"auth errors": "...xxx", "channel": "......"}},
		{name: "breach of a probe", duration: 45 * time.Minute, interval: time.Minute, sustained: 2,
			probes: map[string]script{"tool-call": ".x.xx"}, verdict: outcome.Fail, signal: "tool-call", intervals: 5, breachN: 5},
		{name: "sustained 1: one bad interval is a breach", duration: 10 * time.Minute, interval: time.Minute, sustained: 1,
			probes: map[string]script{"channel": "..x"}, verdict: outcome.Fail, signal: "channel", intervals: 3, breachN: 3},
		{name: "no data fails after the sustained count by default", duration: 10 * time.Minute, interval: time.Minute, sustained: 3,
			auth: "---", verdict: outcome.Fail, signal: "auth errors", intervals: 3, breachN: 3,
			statuses: map[string]string{"auth errors": "---"}},
		{name: "no data counts as bad between bad intervals", duration: 10 * time.Minute, interval: time.Minute, sustained: 3,
			auth: ".x-x", verdict: outcome.Fail, signal: "auth errors", intervals: 4, breachN: 4},
		{name: "a probe that did not run is no data, bad by default", duration: 10 * time.Minute, interval: time.Minute, sustained: 3,
			probes: map[string]script{"channel": ".---"}, verdict: outcome.Fail, signal: "channel", intervals: 4, breachN: 4},
		{name: "no data ignored", duration: 10 * time.Minute, interval: time.Minute, sustained: 3, noData: NoDataIgnore,
			auth: "------....", verdict: outcome.Pass, intervals: 10,
			statuses: map[string]string{"auth errors": "------...."}},
		{name: "ignored no data neither breaks nor extends a bad run", duration: 10 * time.Minute, interval: time.Minute, sustained: 3,
			noData: NoDataIgnore, auth: "x-x--x", verdict: outcome.Fail, signal: "auth errors", intervals: 6, breachN: 6},
		{name: "a restart loop is a breach", duration: 45 * time.Minute, interval: time.Minute, sustained: 3,
			restart: "..xxxxx", verdict: outcome.Fail, signal: SignalRestarts, intervals: 5, breachN: 5,
			statuses: map[string]string{SignalRestarts: "..xxx", "connect-auth": "....."}},
		{name: "one restart is transient", duration: 10 * time.Minute, interval: time.Minute, sustained: 3,
			restart: "....x", verdict: outcome.Pass, intervals: 10,
			statuses: map[string]string{SignalRestarts: "....x....."}},
		{name: "interval 3m over 10m: 3 checks", duration: 10 * time.Minute, interval: 3 * time.Minute, sustained: 2,
			verdict: outcome.Pass, intervals: 3},
		{name: "interval 10s over 1m: 6 checks", duration: time.Minute, interval: 10 * time.Second, sustained: 3,
			auth: "......", verdict: outcome.Pass, intervals: 6},
		{name: "6h at 1m: 360 checks", duration: 6 * time.Hour, interval: time.Minute, sustained: 3,
			verdict: outcome.Pass, intervals: 360},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			vc := clock.NewVirtual(epoch)
			fs := newFakeSmoke(t, vc)
			fs.probes, fs.restart = tc.probes, tc.restart
			if fs.probes == nil {
				fs.probes = map[string]script{}
			}
			var checks []config.MetricCheck
			fp := newFakeProm(t)
			if tc.auth != "" {
				checks = append(checks, authCheck())
				fp.values[authQuery] = values(tc.auth, 0.1, 0.9)
			}
			m := monitorCfg(tc.duration, tc.interval, tc.sustained, subset, checks...)
			if tc.noData != "" {
				m.NoData = tc.noData
			}
			var breaches []string
			var log lines
			o := Options{
				Env: config.Environment{Name: "production"}, Monitor: m, Smoke: fs.run, Clock: vc, Progress: log.add,
				OnBreach: func(_ context.Context, s string) error { breaches = append(breaches, s); return nil },
			}
			if len(checks) > 0 {
				o.Prometheus = fp
			}
			res, err := Run(context.Background(), o)
			require.NoError(t, err)

			assert.Equal(t, tc.verdict, res.Verdict, res.Reason)
			assert.Equal(t, tc.signal, res.Signal)
			require.Len(t, res.Intervals, tc.intervals)
			assert.Equal(t, int(tc.duration/tc.interval), res.PlannedIntervals)
			assert.Equal(t, tc.intervals < res.PlannedIntervals, res.StoppedEarly)
			for i, iv := range res.Intervals {
				assert.Equal(t, i+1, iv.N)
				assert.Equal(t, epoch.Add(time.Duration(i+1)*tc.interval), iv.At, "check %d is one interval after the previous", i+1)
			}
			assert.Equal(t, epoch, res.Started)
			assert.Equal(t, epoch.Add(time.Duration(tc.intervals)*tc.interval), res.Finished)
			assert.Equal(t, res.Finished.Sub(res.Started), res.Duration.D())
			if tc.verdict == outcome.Pass {
				assert.Equal(t, tc.duration.Truncate(tc.interval), res.Duration.D(), "a passing monitor runs its whole duration")
			}
			for sig, want := range tc.statuses {
				assert.Equal(t, want, statuses(res, sig), "signal %s", sig)
			}

			// One session key for the whole run, the subset in canonical order each time.
			assert.Len(t, fs.keys, 1)
			for k, n := range fs.keys {
				assert.Equal(t, tc.intervals, n)
				assert.Regexp(t, `^release-action-monitor-[a-z2-7]{12}$`, k)
				assert.Equal(t, k, res.SessionKey)
			}
			for _, asked := range fs.asked {
				assert.Equal(t, subset, asked)
			}
			if tc.auth != "" {
				assert.Equal(t, tc.intervals, fp.calls[authQuery])
			}

			if tc.signal == "" {
				assert.Empty(t, breaches, "no breach, no OnBreach")
				assert.Nil(t, res.BreachedAt)
				assert.Contains(t, res.Reason, "stayed healthy")
			} else {
				assert.Equal(t, []string{tc.signal}, breaches, "OnBreach runs once with the breached signal")
				require.NotNil(t, res.BreachedAt)
				assert.Equal(t, epoch.Add(time.Duration(tc.breachN)*tc.interval), *res.BreachedAt)
				s := summaryOf(res, tc.signal)
				assert.True(t, s.Breached)
				assert.GreaterOrEqual(t, s.LongestBadRun, m.Sustained)
				require.NotNil(t, s.BadSince)
				assert.Contains(t, res.Reason, tc.signal+" was bad for")
				assert.Contains(t, log.text(), "monitor fail: "+tc.signal)
				for _, other := range res.Signals {
					if other.Name != tc.signal {
						assert.False(t, other.Breached, other.Name)
					}
				}
			}
			// Counts add up to the intervals for every signal.
			for _, s := range res.Signals {
				assert.Equal(t, tc.intervals, s.OK+s.Bad+s.NoData, s.Name)
			}
		})
	}
}

func TestSignals(t *testing.T) {
	vc := clock.NewVirtual(epoch)
	fs := newFakeSmoke(t, vc)
	fp := newFakeProm(t)
	fp.values[authQuery] = []float64{0.1}
	check := authCheck()
	check.Name = "channel" // collides with a probe signal
	m := monitorCfg(2*time.Minute, time.Minute, 1, []string{"tool-call", "channel", "connect-auth"}, check)
	res, err := Run(context.Background(), Options{Monitor: m, Smoke: fs.run, Prometheus: fp, Clock: vc})
	require.NoError(t, err)
	var names, kinds []string
	for _, s := range res.Signals {
		names, kinds = append(names, s.Name), append(kinds, s.Kind)
	}
	assert.Equal(t, []string{"connect-auth", "channel", "tool-call", "restarts", "metric channel"}, names)
	assert.Equal(t, []string{KindProbe, KindProbe, KindProbe, KindRestart, KindMetric}, kinds)
	assert.Equal(t, authQuery, res.Signals[4].Query)
	assert.Equal(t, 0.5, *res.Signals[4].Max)

	// Only tool-call: no WebSocket probe, so no restart signal (HTTP carries no uptime).
	vc = clock.NewVirtual(epoch)
	res, err = Run(context.Background(), Options{Monitor: monitorCfg(2*time.Minute, time.Minute, 1, []string{"tool-call"}), Smoke: newFakeSmoke(t, vc).run, Clock: vc})
	require.NoError(t, err)
	require.Len(t, res.Signals, 1)
	assert.Equal(t, "tool-call", res.Signals[0].Name)
	assert.Empty(t, res.SessionKey, "no channel probe, no session written to")
}

func TestRestartReading(t *testing.T) {
	info := func(upMs int64) smoke.ServerInfo { return smoke.ServerInfo{Version: "v", ConnID: "c", UptimeMs: upMs} }
	cases := []struct {
		name    string
		prev    *uptimeSeen
		rep     *smoke.Report
		status  string
		detail  string
		elapsed time.Duration
	}{
		{name: "first check, no previous", rep: &smoke.Report{Server: info(5_000)}, status: StatusOK},
		{name: "uptime grew by the interval", prev: &uptimeSeen{uptime: time.Hour}, elapsed: time.Minute,
			rep: &smoke.Report{Server: info((time.Hour + time.Minute).Milliseconds())}, status: StatusOK},
		{name: "uptime grew a little less than the interval (probe timing)", prev: &uptimeSeen{uptime: time.Hour}, elapsed: time.Minute,
			rep: &smoke.Report{Server: info((time.Hour + 50*time.Second).Milliseconds())}, status: StatusOK},
		{name: "uptime went down", prev: &uptimeSeen{uptime: time.Hour}, elapsed: time.Minute,
			rep: &smoke.Report{Server: info(30_000)}, status: StatusBad, detail: "went down from 1h to 30s"},
		{name: "a young gateway that did not age by the interval restarted", prev: &uptimeSeen{uptime: 20 * time.Second}, elapsed: time.Minute,
			rep: &smoke.Report{Server: info(25_000)}, status: StatusBad, detail: "started again in between"},
		{name: "restart seen during the check", rep: &smoke.Report{Server: smoke.ServerInfo{Version: "v", ConnID: "c", UptimeMs: 9, Restarted: true}},
			status: StatusBad, detail: "during this check"},
		{name: "close 1012 seen by a probe", rep: &smoke.Report{Server: info(10),
			Probes: []smoke.ProbeResult{{Name: "channel", Detail: "the gateway closed the connection (1012 StatusServiceRestart, reason \"service restart\"): it is restarting"}}},
			status: StatusBad, detail: "channel probe's connection was closed with 1012"},
		{name: "close 1012 without any hello-ok", rep: &smoke.Report{
			Probes: []smoke.ProbeResult{{Name: "connect-auth", Detail: "connect: the gateway closed the connection (1012 StatusServiceRestart, reason \"\")"}}},
			status: StatusBad, detail: "restarting"},
		{name: "no hello-ok: no data", rep: &smoke.Report{Probes: []smoke.ProbeResult{{Name: "connect-auth", Detail: "connection refused"}}},
			status: StatusNoData, detail: "uptime is unknown"},
		{name: "no report: no data", status: StatusNoData},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mon := &monitor{}
			if tc.prev != nil {
				p := *tc.prev
				p.at = epoch
				mon.lastUp = &p
			}
			rd := mon.restartReading(tc.rep, epoch.Add(tc.elapsed))
			assert.Equal(t, tc.status, rd.Status, rd.Detail)
			assert.Contains(t, rd.Detail, tc.detail)
			if tc.rep != nil && tc.rep.Server.ConnID != "" {
				require.NotNil(t, mon.lastUp, "the uptime is remembered for the next check")
			} else {
				assert.Equal(t, tc.prev != nil, mon.lastUp != nil, "without a hello-ok the previous uptime stays")
			}
		})
	}
}

func TestProbeReading(t *testing.T) {
	notReady := &smoke.Report{Ready: false, Probes: []smoke.ProbeResult{{Name: "channel", Detail: "the gateway did not come up"}}}
	rd := probeReading(notReady, "channel")
	assert.Equal(t, StatusBad, rd.Status, "a gateway that is down is bad, not no data")
	assert.Equal(t, StatusNoData, probeReading(&smoke.Report{Ready: true}, "channel").Status)
	ok := probeReading(&smoke.Report{Ready: true, Probes: []smoke.ProbeResult{{Name: "channel", OK: true, Attempts: 1, Latency: 1500 * time.Millisecond}}}, "channel")
	assert.Equal(t, StatusOK, ok.Status)
	assert.Equal(t, 1.5, *ok.Value)
}

func TestHeartbeat(t *testing.T) {
	vc := clock.NewVirtual(epoch)
	var at []time.Time
	m := monitorCfg(30*time.Minute, 10*time.Minute, 2, []string{"connect-auth"})
	res, err := Run(context.Background(), Options{Monitor: m, Smoke: newFakeSmoke(t, vc).run, Clock: vc,
		Progress: func(string) { at = append(at, vc.Now()) }})
	require.NoError(t, err)
	assert.Len(t, res.Intervals, 3)
	require.NotEmpty(t, at)
	assert.Equal(t, epoch, at[0])
	for i := 1; i < len(at); i++ {
		assert.LessOrEqual(t, at[i].Sub(at[i-1]), time.Minute, "never silent for more than a minute (line %d)", i)
	}
	assert.Equal(t, epoch.Add(30*time.Minute), at[len(at)-1])
}

func TestNothingMeasured(t *testing.T) {
	vc := clock.NewVirtual(epoch)
	fp := newFakeProm(t)
	fp.errs[authQuery] = errors.New("connection refused")
	m := monitorCfg(5*time.Minute, time.Minute, 3, nil, authCheck())
	m.NoData = NoDataIgnore
	res, err := Run(context.Background(), Options{Monitor: m, Prometheus: fp, Clock: vc})
	require.NoError(t, err)
	assert.Equal(t, outcome.Fail, res.Verdict, "all measurements errored: not a pass (argo-rollouts#4479)")
	assert.Empty(t, res.Signal)
	assert.Contains(t, res.Reason, "no signal produced any data")
	assert.Len(t, res.Intervals, 5)
	assert.Equal(t, 5, res.Signals[0].NoData)
	assert.Contains(t, res.Intervals[0].Readings[0].Detail, "query failed: connection refused")
}

func TestOnBreachError(t *testing.T) {
	vc := clock.NewVirtual(epoch)
	fs := newFakeSmoke(t, vc)
	fs.probes["channel"] = "xxx"
	boom := errors.New("rollback could not start")
	res, err := Run(context.Background(), Options{Monitor: monitorCfg(10*time.Minute, time.Minute, 3, []string{"channel"}), Smoke: fs.run, Clock: vc,
		OnBreach: func(context.Context, string) error { return boom }})
	require.ErrorIs(t, err, boom)
	assert.Contains(t, err.Error(), "after the breach of channel")
	require.NotNil(t, res)
	assert.Equal(t, outcome.Fail, res.Verdict)
	assert.Equal(t, "channel", res.Signal)
}

func TestCancelled(t *testing.T) {
	vc := clock.NewVirtual(epoch)
	fs := newFakeSmoke(t, vc)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fs.hook = func(n int) {
		if n == 3 {
			cancel()
		}
	}
	called := false
	res, err := Run(ctx, Options{Monitor: monitorCfg(10*time.Minute, time.Minute, 3, []string{"channel"}), Smoke: fs.run, Clock: vc,
		OnBreach: func(context.Context, string) error { called = true; return nil }})
	require.ErrorIs(t, err, context.Canceled)
	require.NotNil(t, res)
	assert.Equal(t, outcome.Fail, res.Verdict)
	assert.Len(t, res.Intervals, 3)
	assert.True(t, res.StoppedEarly)
	assert.Contains(t, res.Reason, "did not finish (3 of 10 checks ran)")
	assert.False(t, called)
}

func TestSmokeError(t *testing.T) {
	vc := clock.NewVirtual(epoch)
	bad := func(context.Context, []string, string) (*smoke.Report, error) {
		return nil, errors.Join(outcome.ErrBadInput, errors.New("no gateway credential"))
	}
	res, err := Run(context.Background(), Options{Monitor: monitorCfg(10*time.Minute, time.Minute, 3, []string{"channel"}), Smoke: bad, Clock: vc})
	require.ErrorIs(t, err, outcome.ErrBadInput)
	assert.Equal(t, outcome.Fail, res.Verdict)
	assert.Empty(t, res.Intervals)
}

func TestInvalidOptions(t *testing.T) {
	vc := clock.NewVirtual(epoch)
	fs := newFakeSmoke(t, vc)
	fp := newFakeProm(t)
	cases := []struct {
		name string
		mod  func(*Options)
		want string
	}{
		{"duration too short", func(o *Options) { o.Monitor.Duration = config.Duration(30 * time.Second) }, "outside 1m..6h"},
		{"duration too long", func(o *Options) { o.Monitor.Duration = config.Duration(7 * time.Hour) }, "outside 1m..6h"},
		{"interval longer than duration", func(o *Options) { o.Monitor.Interval = config.Duration(time.Hour) }, "at most the duration"},
		{"negative sustained", func(o *Options) { o.Monitor.Sustained = -1 }, "at least 1"},
		{"sustained beyond the intervals", func(o *Options) { o.Monitor.Sustained = 11 }, "could never be seen"},
		{"no-data policy", func(o *Options) { o.Monitor.NoData = "pass" }, `no-data "pass"`},
		{"unknown probe", func(o *Options) { o.Monitor.Smoke = []string{"health"} }, `unknown monitor probe "health"`},
		{"probes without a runner", func(o *Options) { o.Smoke = nil }, "no smoke runner"},
		{"checks without a client", func(o *Options) {
			o.Monitor.Prometheus = &config.Prometheus{Checks: []config.MetricCheck{authCheck()}}
		}, "no Prometheus client"},
		{"nothing watched", func(o *Options) { o.Monitor.Smoke = nil }, "watches nothing"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := Options{Env: config.Environment{Name: "production"}, Monitor: monitorCfg(10*time.Minute, time.Minute, 3, []string{"channel"}), Smoke: fs.run, Clock: vc}
			tc.mod(&o)
			_, err := Run(context.Background(), o)
			require.ErrorIs(t, err, outcome.ErrBadInput)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	assert.Zero(t, fs.calls, "nothing ran")
	assert.Empty(t, fp.calls)

	// Zero fields take the defaults.
	res, err := Run(context.Background(), Options{Monitor: config.Monitor{Smoke: []string{"channel"}}, Smoke: fs.run, Clock: vc})
	require.NoError(t, err)
	assert.Equal(t, 45, res.PlannedIntervals)
	assert.Equal(t, 3, res.Sustained)
	assert.Equal(t, NoDataFail, res.NoData)
}

func TestResultJSON(t *testing.T) {
	vc := clock.NewVirtual(epoch)
	fs := newFakeSmoke(t, vc)
	fs.probes["channel"] = "..x"
	fp := newFakeProm(t)
	fp.values[authQuery] = values("...", 0.1, 0.9)
	res, err := Run(context.Background(), Options{Env: config.Environment{Name: "production"},
		Monitor: monitorCfg(3*time.Minute, time.Minute, 3, smoke.RollbackProbes(), authCheck()), Smoke: fs.run, Prometheus: fp, Clock: vc})
	require.NoError(t, err)
	b, err := json.Marshal(res)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	for _, k := range []string{"environment", "verdict", "reason", "started", "finished", "duration", "planned_duration", "interval",
		"sustained", "no_data", "stopped_early", "planned_intervals", "intervals", "signals", "restarts_seen", "probe_load", "session_key"} {
		assert.Contains(t, m, k)
	}
	assert.Equal(t, "3m", m["duration"])
	load := m["probe_load"].(map[string]any)
	assert.EqualValues(t, 3, load["auth_failures_per_interval"], "connect-auth 1 + tool-call 2")
	assert.EqualValues(t, 0, load["bootstrap_exchange_failures_per_interval"])
	assert.InDelta(t, 0.05, load["auth_failures_per_second"], 1e-9)
	iv := m["intervals"].([]any)[2].(map[string]any)
	rd := iv["readings"].([]any)[1].(map[string]any)
	assert.Equal(t, "channel", rd["signal"])
	assert.Equal(t, "bad", rd["status"])
	assert.EqualValues(t, 1, rd["streak"])
	var back Result
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, res.Intervals, back.Intervals)
	assert.Equal(t, res.Duration, back.Duration)
}

func TestLoad(t *testing.T) {
	assert.Equal(t, ProbeLoad{AuthFailuresPerInterval: 3, AuthFailuresPerSecond: 0.05}, Load(smoke.RollbackProbes(), time.Minute))
	assert.Equal(t, ProbeLoad{AuthFailuresPerInterval: 3, BootstrapExchangeFailuresPerInterval: 1, AuthFailuresPerSecond: 0.1},
		Load(smoke.AllProbes(), 30*time.Second))
	assert.Equal(t, ProbeLoad{}, Load([]string{"channel"}, time.Minute))
}
