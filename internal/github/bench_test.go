package github

import (
	"context"
	"testing"
)

// BenchmarkSnapshotUnchanged measures the poll that costs nothing against GitHub's budget:
// 1,000 check runs (10 pages) and the status, all answered 304 and served from the cache.
func BenchmarkSnapshotUnchanged(b *testing.B) {
	f := newFake(b)
	s := newSnapServer(f, testSHA)
	s.set(manyRuns(1000), []fakeStatus{{"ci/x", "success"}})
	c, _ := f.client(func(o *Options) { o.Debugf = nil })
	ctx := context.Background()
	if _, err := c.Snapshot(ctx, testSHA); err != nil {
		b.Fatal(err)
	}
	queries := f.graphQLCount()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		snap, err := c.Snapshot(ctx, testSHA)
		if err != nil {
			b.Fatal(err)
		}
		if snap.Changed || len(snap.Contexts) != 1001 {
			b.Fatalf("changed=%v contexts=%d", snap.Changed, len(snap.Contexts))
		}
	}
	b.StopTimer()
	if f.graphQLCount() != queries {
		b.Fatalf("an unchanged poll sent GraphQL")
	}
}
