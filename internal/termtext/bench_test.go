package termtext_test

import (
	"os"
	"testing"

	"github.com/agentme/release-action/internal/termtext"
)

// BenchmarkRender renders the largest summary golden (a release with monitor, rollback
// and incident note), as a terminal run does once per command.
func BenchmarkRender(b *testing.B) {
	md, err := os.ReadFile("../cli/testdata/golden/release-release-monitor-rollback.md")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(md)))
	for b.Loop() {
		termtext.Render(string(md), termtext.Options{Color: true})
	}
}
