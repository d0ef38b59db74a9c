package rollback

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/gatewayemu"
	"github.com/agentme/release-action/internal/monitor"
	"github.com/agentme/release-action/internal/outcome"
	"github.com/agentme/release-action/internal/smoke"
)

const emuToken = "tok-rollback-8d1f0c2b7a6e5d4c3b2a"

// startEmu starts the gateway emulator on the fake's virtual clock and points production
// at it; smokeFn runs the real smoke probes against it.
func startEmu(t *testing.T, f *fakeGH, cfg *config.Config) (*gatewayemu.Server, SmokeFunc) {
	t.Helper()
	emu := gatewayemu.New(gatewayemu.Options{Token: emuToken, Clock: f.clk, TickInterval: -1})
	base := emu.Start()
	t.Cleanup(emu.Close)
	cfg.Environments[1].URL = base
	u, err := url.Parse(base)
	require.NoError(t, err)
	return emu, func(ctx context.Context, env config.Environment, probes []string) (*smoke.Report, error) {
		require.Equal(t, base, env.URL, "smoke runs against the environment's URL")
		return smoke.Run(ctx, smoke.Options{URL: u, Token: emuToken, Probes: probes, Clock: f.clk,
			ProbeTimeout: 2 * time.Second, ChannelTimeout: 2 * time.Second})
	}
}

// TestRollbackSmokeAgainstEmulator validates the rollback with the real smoke probes.
func TestRollbackSmokeAgainstEmulator(t *testing.T) {
	for _, tc := range []struct {
		name    string
		broken  bool
		verdict outcome.Verdict
	}{
		{name: "healthy after the rollback", verdict: outcome.Pass},
		{name: "tools still broken after the rollback", broken: true, verdict: outcome.Fail},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			history(f)
			o := newOpts(f, &fakeSmoke{})
			emu, smokeFn := startEmu(t, f, o.Config)
			emu.SetToolsBroken(tc.broken)
			o.Smoke = smokeFn
			res, err := Run(context.Background(), f, o)
			require.NoError(t, err)
			assert.Equal(t, tc.verdict, res.Verdict, res.Reason)
			require.NotNil(t, res.Smoke)
			require.Len(t, res.Smoke.Probes, 3)
			for _, p := range res.Smoke.Probes {
				assert.Equal(t, !(tc.broken && p.Name == smoke.ProbeToolCall), p.OK, "%s: %s", p.Name, p.Detail)
			}
			states := f.statesOf(res.To.DeploymentID)
			if tc.broken {
				assert.Equal(t, "failure smoke failed: probes tool-call", states[len(states)-1])
				assert.Contains(t, res.LeftState, "the smoke probes tool-call failed")
			} else {
				assert.Equal(t, "success deployed and validated", states[len(states)-1])
				assert.Equal(t, 3, emu.Stats().AuthFailures, "the subset's own refused attempts")
			}
		})
	}
}

// TestMonitorBreachRollsBack is the automatic path the CLI wires: the monitor watches the
// emulated production gateway, its tools break after the bad release, the sustained
// breach calls OnBreach, which rolls back with reason "monitor: <signal>"; the deploy of
// the good tag restarts the gateway with working tools and the smoke subset passes.
func TestMonitorBreachRollsBack(t *testing.T) {
	f := newFake(t)
	badID, _ := history(f)
	cfg := testConfig()
	emu, smokeFn := startEmu(t, f, cfg)
	u, err := url.Parse(cfg.Environments[1].URL)
	require.NoError(t, err)
	f.onDeployed = func(tag string) {
		if tag == goodTag {
			emu.SetToolsBroken(false)
			emu.Restart()
		}
	}
	checks := 0
	watch := monitor.SmokeWith(smoke.Options{URL: u, Token: emuToken, Clock: f.clk, ProbeTimeout: 2 * time.Second, ChannelTimeout: 2 * time.Second})
	var rb *Result
	mres, err := monitor.Run(context.Background(), monitor.Options{
		Env: cfg.Environments[1],
		Monitor: config.Monitor{Duration: config.Duration(45 * time.Minute), Interval: config.Duration(time.Minute), Sustained: 3,
			NoData: monitor.NoDataFail, AutoRollback: true, Smoke: smoke.RollbackProbes()},
		Smoke: func(ctx context.Context, probes []string, key string) (*smoke.Report, error) {
			checks++
			if checks == 4 {
				emu.SetToolsBroken(true)
			}
			return watch(ctx, probes, key)
		},
		Clock: f.clk,
		OnBreach: func(ctx context.Context, signal string) error {
			var err error
			rb, err = Run(ctx, f, Options{Config: cfg, Environment: "production", Reason: "monitor: " + signal, CurrentSHA: badSHA,
				Smoke: smokeFn, Clock: f.clk, PollInterval: 10 * time.Second, OpenIssue: true, RunURL: runURL})
			return err
		},
	})
	require.NoError(t, err)
	assert.Equal(t, outcome.Fail, mres.Verdict)
	assert.Equal(t, "tool-call", mres.Signal)
	assert.Len(t, mres.Intervals, 6, "breach on the third bad check (4, 5, 6)")

	require.NotNil(t, rb, "the breach rolled back")
	assert.Equal(t, outcome.Pass, rb.Verdict, rb.Reason)
	assert.Equal(t, "monitor: tool-call", rb.RollbackReason)
	assert.Equal(t, badID, rb.From.DeploymentID)
	assert.Equal(t, goodTag, rb.To.Tag)
	assert.True(t, rb.Smoke.Passed())
	badStates := f.statesOf(badID)
	assert.Equal(t, fmt.Sprintf("failure rolled back: by deployment %d (v1.2.2): monitor: tool-call", rb.To.DeploymentID), badStates[len(badStates)-1])
	require.Len(t, f.issues, 1)
	assert.Equal(t, []string{DefaultIssueLabel}, f.issues[0].labels)
	assert.True(t, strings.HasPrefix(f.issues[0].body, "### Incident: production rolled back"))
	assert.Equal(t, 1, emu.Stats().Restarts)
}
