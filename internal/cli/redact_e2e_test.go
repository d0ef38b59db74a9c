package cli_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/cli"
	"github.com/agentme/release-action/internal/ghemu"
	"github.com/agentme/release-action/internal/redact"
	"github.com/agentme/release-action/internal/sandbox"
)

// TestHostileEchoOfEscapedToken: a GitHub-compatible server echoes the token it was sent
// back into an error, escaped in ways a plain search for the token misses. Whatever
// reaches stdout, stderr, the outputs and the step summary carries the marker instead.
func TestHostileEchoOfEscapedToken(t *testing.T) {
	green, err := sandbox.Find("all-green")
	require.NoError(t, err)
	var forms []string
	h := newHarness(t, green.Setup)
	h.emu.Inject(ghemu.Fault{PathPrefix: "/repos/agentme/agentme/commits", Status: http.StatusUnprocessableEntity,
		Message: func(r *http.Request) string {
			tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
			var uni, pct, ent strings.Builder
			for _, c := range tok {
				fmt.Fprintf(&uni, `\u%04X`, c)
				fmt.Fprintf(&pct, "%%%02x", c)
				fmt.Fprintf(&ent, "&#%d;", c)
			}
			forms = []string{uni.String(), pct.String(), ent.String(), tok[:len(tok)-5]}
			return "echo json=" + forms[0] + " pct=" + forms[1] + " html=" + forms[2] + " cut=" + forms[3]
		}})
	r := h.run()
	require.NotEqual(t, cli.ExitOK, r.code, r.stdout)
	require.Len(t, forms, 4, "the hostile answer was sent")
	assert.Contains(t, r.stdout, "echo json="+redact.Marker+" pct="+redact.Marker+" html="+redact.Marker+" cut="+redact.Marker,
		"the echo reached stdout, redacted")
	r.noSecret(t, append(forms, knownToken[4:14], knownToken[len(knownToken)-10:])...)
	for _, where := range []string{r.stdout, r.stderr, r.summary, r.outputs["report"]} {
		assert.NotContains(t, where, `\u0045\u0032`, "no escaped piece of the token")
	}
}

// TestHostileCheckNamesCarryEscapedToken: check names are GitHub text that lands in the
// summary table and in the report output; a name carrying the token in an escaped
// spelling is shown with the marker there.
func TestHostileCheckNamesCarryEscapedToken(t *testing.T) {
	var uni, pct strings.Builder
	for _, c := range knownToken {
		fmt.Fprintf(&uni, `\u%04x`, c)
		fmt.Fprintf(&pct, "%%%02X", c)
	}
	names := []string{"deploy " + uni.String(), "lint " + pct.String(), "docs " + strings.ReplaceAll(knownToken, "_", `\_`)}
	h := newHarness(t, func(s *ghemu.Server) {
		s.LoadAgentMe(sandbox.Candidate)
		s.AgentMePush(sandbox.Candidate)
		for _, n := range names {
			s.AddCheckRun(sandbox.Candidate, n, ghemu.JobSpec{Name: n, RunFor: time.Minute, Conclusion: "failure"})
		}
	})
	path := filepath.Join(h.dir, "release-action.yml")
	require.NoError(t, os.WriteFile(path, []byte("gates:\n  - name: everything\n    check: \"*\"\n"), 0o644))
	h.env["INPUT_CONFIG"] = path
	r := h.run()
	require.Equal(t, cli.ExitFailed, r.code, r.stdout)
	for _, n := range []string{"deploy", "lint", "docs"} {
		assert.Contains(t, r.summary, n+" "+redact.Marker, "the check name reached the summary, redacted")
		assert.Contains(t, r.outputs["report"], n+" "+redact.Marker, "the check name reached the report, redacted")
	}
	r.noSecret(t, append(names[:0:0], uni.String(), pct.String(), knownToken[4:14])...)
}
