package window

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/clock"
	"github.com/agentme/release-action/internal/config"
)

func TestWait(t *testing.T) {
	christmas := config.Window{Timezone: "Europe/Berlin", Freeze: []config.Freeze{fz("2026-12-24", "2026-12-26", "")}}
	never := designWindow()
	never.Freeze = []config.Freeze{fz("2026-01-01", "2028-12-31", "moratorium")}
	tests := []struct {
		name    string
		win     config.Window
		start   string
		maxWait time.Duration
		open    bool
		waited  bool
		end     string // the clock after Wait
		reports int
	}{
		{name: "waits for the window", win: designWindow(), start: "2026-11-30T23:30:00+10:00", maxWait: 3 * time.Hour,
			open: true, waited: true, end: "2026-12-01T02:00:00+10:00", reports: 150},
		{name: "opening exactly max-wait away", win: designWindow(), start: "2026-12-01T00:00:00+10:00", maxWait: 2 * time.Hour,
			open: true, waited: true, end: "2026-12-01T02:00:00+10:00", reports: 120},
		{name: "part of a minute", win: designWindow(), start: "2026-12-01T01:58:30+10:00", maxWait: time.Hour,
			open: true, waited: true, end: "2026-12-01T02:00:00+10:00", reports: 2},
		{name: "opening beyond max-wait", win: designWindow(), start: "2026-11-30T23:30:00+10:00", maxWait: 2 * time.Hour,
			end: "2026-11-30T23:30:00+10:00"},
		{name: "already open", win: designWindow(), start: "2026-12-01T03:00:00+10:00", maxWait: 2 * time.Hour,
			open: true, end: "2026-12-01T03:00:00+10:00"},
		{name: "no max-wait", win: designWindow(), start: "2026-12-01T01:59:00+10:00",
			end: "2026-12-01T01:59:00+10:00"},
		{name: "waits out a freeze", win: christmas, start: "2026-12-26T23:00:30+01:00", maxWait: time.Hour,
			open: true, waited: true, end: "2026-12-27T00:00:00+01:00", reports: 60},
		{name: "no opening within the horizon", win: never, start: "2026-06-01T00:00:00+10:00", maxWait: 10000 * time.Hour,
			end: "2026-06-01T00:00:00+10:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustCompile(t, tt.win)
			start := ts(t, tt.start)
			clk := clock.NewVirtual(start)
			var at []time.Time
			var msgs []string
			d, waited, err := s.Wait(context.Background(), clk, tt.maxWait, func(msg string) {
				at = append(at, clk.Now())
				msgs = append(msgs, msg)
			})
			require.NoError(t, err)
			assert.Equal(t, tt.open, d.Open, d.Reason)
			assert.Equal(t, tt.waited, waited)
			assert.True(t, ts(t, tt.end).Equal(clk.Now()), "clock at %s", clk.Now())
			assert.Len(t, at, tt.reports)
			if tt.reports == 0 {
				return
			}
			// never silent for more than a minute of waiting
			assert.True(t, at[0].Equal(start))
			for i := 1; i < len(at); i++ {
				assert.LessOrEqual(t, at[i].Sub(at[i-1]), time.Minute)
			}
			assert.LessOrEqual(t, clk.Now().Sub(at[len(at)-1]), time.Minute)
			assert.Contains(t, msgs[0], "waiting until it opens")
			assert.Contains(t, msgs[0], fmtWhen(ts(t, tt.end).In(s.Location())))
		})
	}
}

func TestWaitNilReport(t *testing.T) {
	s := mustCompile(t, designWindow())
	clk := clock.NewVirtual(ts(t, "2026-12-01T01:00:00+10:00"))
	d, waited, err := s.Wait(context.Background(), clk, time.Hour, nil)
	require.NoError(t, err)
	assert.True(t, d.Open)
	assert.True(t, waited)
}

func TestWaitCancelled(t *testing.T) {
	s := mustCompile(t, designWindow())
	start := ts(t, "2026-12-01T01:00:00+10:00")
	clk := clock.NewVirtual(start)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reports := 0
	d, waited, err := s.Wait(ctx, clk, 2*time.Hour, func(string) {
		if reports++; reports == 3 {
			cancel()
		}
	})
	require.ErrorIs(t, err, context.Canceled)
	assert.Contains(t, err.Error(), "Tue 2026-12-01 02:00 AEST")
	assert.False(t, d.Open)
	assert.True(t, waited)
	assert.Equal(t, 2*time.Minute, clk.Now().Sub(start), "two sleeps before the cancel")

	done, cancelDone := context.WithCancel(context.Background())
	cancelDone()
	d, waited, err = s.Wait(done, clk, 2*time.Hour, nil)
	require.ErrorIs(t, err, context.Canceled)
	assert.False(t, d.Open)
	assert.False(t, waited)
}

// oversleeper is a clock whose first sleep overruns by a lot, like a suspended runner.
type oversleeper struct {
	*clock.Virtual
	extra time.Duration
}

func (o *oversleeper) Sleep(ctx context.Context, d time.Duration) error {
	extra := o.extra
	o.extra = 0
	return o.Virtual.Sleep(ctx, d+extra)
}

// TestWaitRedecides checks that Wait decides again after waking instead of trusting the
// opening it computed before sleeping.
func TestWaitRedecides(t *testing.T) {
	s := mustCompile(t, designWindow())
	clk := &oversleeper{Virtual: clock.NewVirtual(ts(t, "2026-12-01T01:30:00+10:00")), extra: 3 * time.Hour}
	var msgs []string
	d, waited, err := s.Wait(context.Background(), clk, time.Hour, func(m string) { msgs = append(msgs, m) })
	require.NoError(t, err)
	assert.True(t, waited)
	assert.False(t, d.Open, "the window closed while the clock overran")
	assert.Equal(t, "2026-12-03T02:00:00+10:00", d.NextOpen.Format(time.RFC3339))
	require.Len(t, msgs, 1)
	assert.True(t, strings.HasPrefix(msgs[0], "deployment window closed; waiting until it opens Tue 2026-12-01 02:00 AEST (30m left"), msgs[0])
}
