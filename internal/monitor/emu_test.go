package monitor_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/clock"
	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/gatewayemu"
	"github.com/agentme/release-action/internal/monitor"
	"github.com/agentme/release-action/internal/outcome"
	"github.com/agentme/release-action/internal/smoke"
)

const testToken = "tok-monitor-3f9a1c7e5b2d4e6f8a0b"

var epoch = time.Date(2026, 11, 24, 2, 40, 0, 0, time.UTC)

// startGateway starts the emulator on loopback on the virtual clock the monitor uses, up
// for an hour already, and returns smoke options for it.
func startGateway(t testing.TB, vc *clock.Virtual, metrics bool) (*gatewayemu.Server, smoke.Options) {
	t.Helper()
	emu := gatewayemu.New(gatewayemu.Options{Token: testToken, Clock: vc, TickInterval: -1, Metrics: metrics})
	base := emu.Start()
	t.Cleanup(emu.Close)
	vc.Advance(time.Hour)
	u, err := url.Parse(base)
	require.NoError(t, err)
	return emu, smoke.Options{URL: u, Token: testToken, Clock: vc, ProbeTimeout: 2 * time.Second, ChannelTimeout: 2 * time.Second}
}

func statusesOf(r *monitor.Result, signal string) string {
	var b strings.Builder
	for _, iv := range r.Intervals {
		for _, rd := range iv.Readings {
			if rd.Signal == signal {
				b.WriteByte(map[string]byte{monitor.StatusOK: '.', monitor.StatusBad: 'x', monitor.StatusNoData: '-'}[rd.Status])
			}
		}
	}
	return b.String()
}

// TestMonitorAgainstEmulator runs the real smoke probes against the gateway emulator each
// interval, with faults switched on between intervals.
func TestMonitorAgainstEmulator(t *testing.T) {
	cases := []struct {
		name     string
		before   func(n int, emu *gatewayemu.Server) // runs before check n
		verdict  outcome.Verdict
		signal   string
		checks   int
		statuses map[string]string
	}{
		{name: "healthy gateway", verdict: outcome.Pass, checks: 5,
			statuses: map[string]string{"connect-auth": ".....", "channel": ".....", "tool-call": ".....", "restarts": "....."}},
		{name: "restart loop", verdict: outcome.Fail, signal: monitor.SignalRestarts, checks: 4,
			before: func(n int, emu *gatewayemu.Server) {
				if n >= 2 {
					emu.Restart()
				}
			},
			statuses: map[string]string{"restarts": ".xxx", "connect-auth": "...."}},
		{name: "one restart is transient", verdict: outcome.Pass, checks: 5,
			before: func(n int, emu *gatewayemu.Server) {
				if n == 3 {
					emu.Restart()
				}
			},
			statuses: map[string]string{"restarts": "..x..", "channel": "....."}},
		{name: "tools broken for good", verdict: outcome.Fail, signal: "tool-call", checks: 4,
			before:   func(n int, emu *gatewayemu.Server) { emu.SetToolsBroken(n >= 2) },
			statuses: map[string]string{"tool-call": ".xxx", "connect-auth": "....", "restarts": "...."}},
		{name: "tools broken once", verdict: outcome.Pass, checks: 5,
			before:   func(n int, emu *gatewayemu.Server) { emu.SetToolsBroken(n == 2) },
			statuses: map[string]string{"tool-call": ".x..."}},
		{name: "gateway down behind its proxy", verdict: outcome.Fail, signal: "connect-auth", checks: 4,
			before: func(n int, emu *gatewayemu.Server) {
				if n == 2 {
					emu.SetHTTP5xx(502)
				}
			},
			statuses: map[string]string{"connect-auth": ".xxx", "channel": ".xxx", "tool-call": ".xxx", "restarts": ".---"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			vc := clock.NewVirtual(epoch)
			emu, so := startGateway(t, vc, false)
			run := monitor.SmokeWith(so)
			n := 0
			var keys []string
			smokeFn := func(ctx context.Context, probes []string, key string) (*smoke.Report, error) {
				n++
				if tc.before != nil {
					tc.before(n, emu)
				}
				rep, err := run(ctx, probes, key)
				if rep != nil {
					// The key the monitor asked for (a report names it only when the
					// channel probe ran, which it cannot while the gateway is down).
					keys = append(keys, key)
					if rep.SessionKey != "" {
						assert.Equal(t, key, rep.SessionKey)
					}
				}
				return rep, err
			}
			var breach string
			res, err := monitor.Run(context.Background(), monitor.Options{
				Env: config.Environment{Name: "production", URL: so.URL.String()},
				Monitor: config.Monitor{Duration: config.Duration(5 * time.Minute), Interval: config.Duration(time.Minute),
					Sustained: 3, NoData: monitor.NoDataFail, Smoke: smoke.RollbackProbes()},
				Smoke: smokeFn, Clock: vc,
				OnBreach: func(_ context.Context, s string) error { breach = s; return nil },
			})
			require.NoError(t, err)
			assert.Equal(t, tc.verdict, res.Verdict, res.Reason)
			assert.Equal(t, tc.signal, res.Signal)
			assert.Equal(t, tc.signal, breach)
			assert.Len(t, res.Intervals, tc.checks)
			for sig, want := range tc.statuses {
				assert.Equal(t, want, statusesOf(res, sig), "signal %s: %+v", sig, res.Intervals)
			}
			// One chat session for the whole run.
			require.Len(t, keys, tc.checks)
			for _, k := range keys {
				assert.Equal(t, res.SessionKey, k)
			}
			if tc.name == "healthy gateway" {
				// The documented probe load, measured on the emulator: 3 auth failures a check.
				assert.Equal(t, res.ProbeLoad.AuthFailuresPerInterval*tc.checks, emu.Stats().AuthFailures)
				assert.Zero(t, emu.Stats().BootstrapExchangeFailures)
				assert.Equal(t, epoch.Add(time.Hour+5*time.Minute), res.Finished)
			}
		})
	}
}
