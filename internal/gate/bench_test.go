package gate_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/clock"
	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/gate"
	"github.com/agentme/release-action/internal/ghemu"
	"github.com/agentme/release-action/internal/github"
)

// BenchmarkGateDecision measures what one gate decision costs against GitHub's budgets,
// over real HTTP against the emulator: n check runs of one workflow on the commit finish
// at staggered times over 10 minutes, and a workflow gate waits for all of them. It
// reports REST requests, how many of them were free 304s, GraphQL points, and how long
// after the last check run completed the decision came (virtual time).
//
//	go test ./internal/gate -run '^$' -bench GateDecision -benchtime 3x
func BenchmarkGateDecision(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("checks=%d", n), func(b *testing.B) {
			var cost github.Cost
			var latency time.Duration
			for i := 0; i < b.N; i++ {
				cost, latency = decideOnce(b, n)
			}
			b.ReportMetric(float64(cost.REST), "rest-requests")
			b.ReportMetric(float64(cost.NotModified), "rest-304s")
			b.ReportMetric(float64(cost.Billed()), "rest-billed")
			b.ReportMetric(float64(cost.GraphQLPoints), "graphql-points")
			b.ReportMetric(latency.Seconds(), "decision-lag-s")
		})
	}
}

const benchSHA = "1111111111111111111111111111111111111111"

func decideOnce(b *testing.B, n int) (github.Cost, time.Duration) {
	start := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	clk := clock.NewVirtual(start)
	emu := ghemu.New(ghemu.Options{Clock: clk})
	base := emu.Start()
	defer emu.Close()
	emu.AddCommit(benchSHA, "main")
	emu.AddWorkflow("CI", ".github/workflows/ci.yml")
	jobs := make([]ghemu.JobSpec, n)
	var last time.Duration
	for i := range jobs {
		// Spread completions over 10 minutes so the gate sees many changes.
		run := time.Minute + time.Duration(i)*9*time.Minute/time.Duration(n)
		jobs[i] = ghemu.JobSpec{Name: fmt.Sprintf("job %04d", i), QueueFor: 5 * time.Second, RunFor: run, Conclusion: "success"}
		last = max(last, 5*time.Second+run.Round(time.Second))
	}
	emu.AddRun("CI", benchSHA, "push", jobs...)

	client, err := github.New(github.Repo{Owner: emu.Owner(), Name: emu.Repo()}, github.Options{
		APIURL: base + "/api/v3", GraphQLURL: base + "/api/graphql", Clock: clk,
	})
	require.NoError(b, err)
	res, err := gate.Run(context.Background(), client, gate.Options{
		SHA:    benchSHA,
		Gates:  []config.Gate{{Name: "CI", Workflow: "CI"}},
		Policy: config.Policy{Timeout: config.Duration(time.Hour), AppearTimeout: config.Duration(5 * time.Minute)},
		Clock:  clk,
	})
	require.NoError(b, err)
	require.Equal(b, gate.Pass, res.Verdict, res.Reason)
	return client.Cost(), res.Finished.Sub(start.Add(last))
}

// waitUnchanged runs a gate that waits on a commit whose n check runs stay queued, for
// d (virtual time), and returns what the client spent.
func waitUnchanged(t testing.TB, n int, d time.Duration) github.Cost {
	start := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	clk := clock.NewVirtual(start)
	emu := ghemu.New(ghemu.Options{Clock: clk})
	base := emu.Start()
	defer emu.Close()
	emu.AddCommit(benchSHA, "main")
	emu.AddWorkflow("CI", ".github/workflows/ci.yml")
	jobs := make([]ghemu.JobSpec, n)
	for i := range jobs {
		jobs[i] = ghemu.JobSpec{Name: fmt.Sprintf("job %04d", i), QueueFor: 10 * time.Hour, RunFor: time.Minute}
	}
	emu.AddRun("CI", benchSHA, "push", jobs...)
	client, err := github.New(github.Repo{Owner: emu.Owner(), Name: emu.Repo()}, github.Options{
		APIURL: base + "/api/v3", GraphQLURL: base + "/api/graphql", Clock: clk,
	})
	require.NoError(t, err)
	res, err := gate.Run(context.Background(), client, gate.Options{
		SHA:    benchSHA,
		Gates:  []config.Gate{{Name: "CI", Workflow: ".github/workflows/ci.yml"}},
		Policy: config.Policy{Timeout: config.Duration(d), AppearTimeout: config.Duration(5 * time.Minute)},
		Clock:  clk,
	})
	require.NoError(t, err)
	require.True(t, res.TimedOut)
	return client.Cost()
}

// TestUnchangedMinuteCost: a minute of waiting on an unchanged commit costs at most 4
// paid requests or points, whatever its size (304s are free).
func TestUnchangedMinuteCost(t *testing.T) {
	for _, n := range []int{10, 150} {
		short, long := waitUnchanged(t, n, time.Minute), waitUnchanged(t, n, 2*time.Minute)
		paid := func(c github.Cost) int { return c.Billed() + c.GraphQLPoints }
		perMinute := float64(paid(long) - paid(short))
		t.Logf("n=%d: %.1f paid per unchanged minute (%+v then %+v)", n, perMinute, short, long)
		assert.LessOrEqual(t, perMinute, 4.0, "n=%d", n)
		assert.Greater(t, long.NotModified, short.NotModified, "it kept polling")
	}
}
