package redact_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/agentme/release-action/internal/redact"
)

// BenchmarkRedactSummary: a 64 KiB Markdown summary (backslash escapes, entities,
// percent escapes in links) against ten registered secrets, none present.
func BenchmarkRedactSummary(b *testing.B) {
	r := redact.New()
	for i := range 10 {
		r.Add(fmt.Sprintf("ghs_secret%02dTOKENvalue0123456789", i))
	}
	line := `| build\-artifacts \(CI\) | ❌ fail &amp; more | [open](https://example.com/a%20b?x=1) | gh\_s 1m3s |` + "\n"
	text := strings.Repeat(line, 65536/len(line))
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		_ = r.Redact(text)
	}
}
