package ghemu_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/agentme/release-action/internal/clock"
	"github.com/agentme/release-action/internal/ghemu"
)

func BenchmarkSnapshotQuery(b *testing.B) {
	s := ghemu.New(ghemu.Options{Clock: clock.NewVirtual(t0), RateLimit: 1 << 30})
	s.AddCommit(shaA, "main")
	var jobs []ghemu.JobSpec
	for i := range 100 {
		jobs = append(jobs, ghemu.JobSpec{Name: fmt.Sprintf("job-%d", i)})
	}
	s.AddRun("CI", shaA, "push", jobs...)
	body, _ := json.Marshal(map[string]any{"query": snapshotQuery, "variables": snapshotVars(shaA, nil)})
	h := s.Handler()
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", "/api/graphql", strings.NewReader(string(body))))
		if rec.Code != 200 {
			b.Fatal(rec.Body.String())
		}
	}
}

func BenchmarkConditionalCheckRuns(b *testing.B) {
	s := ghemu.New(ghemu.Options{Clock: clock.NewVirtual(t0), RateLimit: 1 << 30})
	var jobs []ghemu.JobSpec
	for i := range 100 {
		jobs = append(jobs, ghemu.JobSpec{Name: fmt.Sprintf("job-%d", i)})
	}
	s.AddRun("CI", shaA, "push", jobs...)
	h := s.Handler()
	u := "/api/v3/repos/agentme/agentme/commits/" + shaA + "/check-runs?filter=latest&per_page=100"
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", u, nil))
	etag := rec.Header().Get("ETag")
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("GET", u, nil)
		req.Header.Set("If-None-Match", etag)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusNotModified {
			b.Fatal(rec.Code)
		}
	}
}
