package github

import (
	"context"
	"testing"
)

// BenchmarkCheckStatesUnchanged measures the poll that costs nothing against GitHub's
// budget: 1,000 check runs (10 pages) and the status, all answered 304 and served from the
// cache.
func BenchmarkCheckStatesUnchanged(b *testing.B) {
	f := newFake(b)
	s := newSnapServer(f, testSHA)
	s.set(manyRuns(1000), []fakeStatus{{"ci/x", "success"}})
	c, _ := f.client(func(o *Options) { o.Debugf = nil })
	ctx := context.Background()
	if _, err := c.CheckRunStates(ctx, testSHA); err != nil {
		b.Fatal(err)
	}
	if _, err := c.StatusStates(ctx, testSHA); err != nil {
		b.Fatal(err)
	}
	billed := c.Cost().Billed()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		runs, err := c.CheckRunStates(ctx, testSHA)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.StatusStates(ctx, testSHA); err != nil {
			b.Fatal(err)
		}
		if len(runs) != 1000 {
			b.Fatalf("%d check runs", len(runs))
		}
	}
	b.StopTimer()
	if cost := c.Cost(); cost.Billed() != billed {
		b.Fatalf("unchanged polls were billed: %+v", cost)
	}
}
