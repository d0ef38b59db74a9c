package incident

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/config"
)

func sampleRecord() *Record {
	r := newRecord("production-20260310T120000Z", "production")
	r.Severity, r.ClassifiedBy, r.ClassifiedAt = SeverityActiveExploit, "alice", time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	r.Since, r.SinceFrom = r.ClassifiedAt.Add(-time.Hour), "given"
	r.RegressionTests = []string{"src/gateway/auth.test.ts"}
	return r
}

func TestMarkerRoundTrip(t *testing.T) {
	r := sampleRecord()
	body, err := Render(r, nil, config.Default())
	require.NoError(t, err)
	got, ok := ParseMarker(body)
	require.True(t, ok)
	assert.Equal(t, r.ID, got.ID)
	assert.Equal(t, r.RegressionTests, got.RegressionTests)
	assert.Equal(t, StateOpen, got.Items[ItemEndpoints].State)
}

// TestUntrustedTextCannotForgeAMarker: a summary, note or test path carrying a marker line
// renders escaped (or inside a code span on a list line), so the body still has exactly
// the one marker the action wrote.
func TestUntrustedTextCannotForgeAMarker(t *testing.T) {
	evil := sampleRecord()
	evil.RegressionTests = nil
	evilMarker, err := Marker(evil)
	require.NoError(t, err)
	r := sampleRecord()
	r.Summary = "line one\n" + evilMarker + "\n-->"
	r.Items[ItemEndpoints].Notes = []Note{{By: "mallory", At: r.ClassifiedAt, Text: evilMarker}}
	r.Events = []Entry{{At: r.ClassifiedAt, Source: "note", Text: "\n" + evilMarker}}
	r.RegressionTests = []string{"`" + evilMarker + "`"}
	body, err := Render(r, r.Events, config.Default())
	require.NoError(t, err)
	got, ok := ParseMarker(body)
	require.True(t, ok, "the action's own marker still reads")
	assert.Equal(t, r.RegressionTests, got.RegressionTests)
	assert.Equal(t, 1, len(markerRe.FindAllString(body, -1)))
}

func TestParseMarkerRejects(t *testing.T) {
	m, err := Marker(sampleRecord())
	require.NoError(t, err)
	for name, body := range map[string]string{
		"none":      "just an issue",
		"two":       m + "\n" + m,
		"indented":  " " + m,
		"garbage":   "<!-- release-action:incident v1 !!!! -->",
		"not json":  "<!-- release-action:incident v1 aGVsbG8 -->",
		"no id":     "<!-- release-action:incident v1 eyJ2IjoxfQ -->",
		"truncated": strings.TrimSuffix(m, " -->"),
	} {
		_, ok := ParseMarker(body)
		assert.False(t, ok, name)
	}
}

func FuzzParseMarker(f *testing.F) {
	m, _ := Marker(sampleRecord())
	f.Add(m)
	f.Add("<!-- release-action:incident v1 eyJ2IjoxfQ -->")
	f.Add("text\n" + m + "\nmore")
	f.Fuzz(func(t *testing.T, body string) {
		r, ok := ParseMarker(body)
		if !ok {
			return
		}
		require.NotEmpty(t, r.ID)
		for _, k := range Items {
			require.NotNil(t, r.Items[k])
		}
		// A record re-renders into a body that reads back as the same record.
		out, err := Render(r, nil, nil)
		require.NoError(t, err)
		back, ok := ParseMarker(out)
		require.True(t, ok)
		require.Equal(t, r.ID, back.ID)
	})
}

// TestRenderStaysUnderGitHubsLimit: a huge timeline and evidence list are cut, and the
// marker still reads.
func TestRenderStaysUnderGitHubsLimit(t *testing.T) {
	r := sampleRecord()
	var tl []Entry
	for i := range 5000 {
		tl = append(tl, Entry{At: r.Since.Add(time.Duration(i) * time.Second), Source: "deployment status", Text: strings.Repeat("x", 200)})
	}
	r.Evidence = &EvidenceDigest{Dir: "incident-evidence/x/y"}
	for i := range 2000 {
		r.Evidence.Files = append(r.Evidence.Files, File{Path: "logs/" + strings.Repeat("a", 40) + string(rune('a'+i%26)), SHA256: strings.Repeat("0", 64)})
	}
	body, err := Render(r, tl, config.Default())
	require.NoError(t, err)
	assert.Less(t, len(body), 65536)
	_, ok := ParseMarker(body)
	assert.True(t, ok)
}
