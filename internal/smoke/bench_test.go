package smoke_test

import (
	"context"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/agentme/release-action/internal/gatewayemu"
	vocab "github.com/agentme/release-action/internal/outcome"
	"github.com/agentme/release-action/internal/smoke"
)

// BenchmarkSuite runs the whole suite against the emulator on loopback, on the wall
// clock, and reports p50/p95 latency per probe and for the suite (readiness included).
func BenchmarkSuite(b *testing.B) {
	emu := gatewayemu.New(gatewayemu.Options{Token: testToken, TickInterval: -1})
	base := emu.Start()
	b.Cleanup(emu.Close)
	u, err := url.Parse(base)
	if err != nil {
		b.Fatal(err)
	}
	latencies := map[string][]time.Duration{}
	var suites []time.Duration
	for b.Loop() {
		start := time.Now()
		rep, err := smoke.Run(context.Background(), smoke.Options{URL: u, Token: testToken})
		if err != nil {
			b.Fatal(err)
		}
		suites = append(suites, time.Since(start))
		if rep.Verdict != vocab.Pass {
			b.Fatalf("suite failed: %+v", rep.Probes)
		}
		for _, p := range rep.Probes {
			latencies[p.Name] = append(latencies[p.Name], p.Latency)
		}
	}
	report := func(name string, ds []time.Duration) {
		slices.Sort(ds)
		b.ReportMetric(ms(percentile(ds, 50)), name+"-p50-ms")
		b.ReportMetric(ms(percentile(ds, 95)), name+"-p95-ms")
	}
	for _, name := range smoke.AllProbes() {
		report(name, latencies[name])
	}
	report("suite", suites)
}

// percentile of sorted durations, nearest rank.
func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p + 99) / 100
	return sorted[max(i-1, 0)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
