package summary

import (
	"fmt"
	"strings"
	"time"

	"github.com/agentme/release-action/internal/markdown"
	"github.com/agentme/release-action/internal/smoke"
)

// Smoke renders a smoke run: verdict, readiness, and one row per probe with its result,
// latency, attempts and the detail an operator acts on.
func Smoke(r *smoke.Report, title, level string) string {
	if level == "" {
		level = "##"
	}
	var b strings.Builder
	verdict := "✅ passed"
	if !r.Passed() {
		verdict = "❌ failed"
	}
	fmt.Fprintf(&b, "%s %s: %s\n\n", level, markdown.Escape(title), verdict)
	fmt.Fprintf(&b, "Gateway %s", markdown.Code(r.Gateway))
	if r.Server.Version != "" {
		fmt.Fprintf(&b, " · version %s", markdown.Code(r.Server.Version))
	}
	switch {
	case !r.Ready:
		fmt.Fprintf(&b, " · **did not come up** within %s", Dur(r.ReadyAfter))
	case r.ReadyAfter > 0:
		fmt.Fprintf(&b, " · came up after %s", Dur(r.ReadyAfter))
	}
	if r.Server.Restarted {
		b.WriteString(" · ⚠️ restarted during the probes")
	}
	fmt.Fprintf(&b, " · %s in all\n\n", Dur(r.Duration))
	b.WriteString(SmokeTable(r))
	return b.String()
}

// SmokeTable is the per-probe table alone (release and rollback summaries embed it).
func SmokeTable(r *smoke.Report) string {
	t := markdown.NewTable("Probe", "Result", "Latency", "Attempts", "Detail")
	for _, p := range r.Probes {
		res := "✅ pass"
		if !p.OK {
			res = "❌ fail"
		}
		lat := markdown.EmptyCell
		if p.Attempts > 0 {
			lat = Dur(p.Latency.Round(time.Millisecond))
		}
		t.Row(markdown.Code(p.Name), res, lat, fmt.Sprint(p.Attempts), markdown.Cell(p.Detail))
	}
	return t.String()
}
