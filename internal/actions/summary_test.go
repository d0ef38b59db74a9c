package actions

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var noteRE = regexp.MustCompile("\n> \\*\\*Note:\\*\\* summary truncated: ([0-9]+) bytes omitted \\(GitHub limits a step summary to 1 MiB\\)\\. The full report is in the `report` output\\.\n$")

func TestAppendSummaryFile(t *testing.T) {
	h := newHarness(t, true, nil)
	require.NoError(t, h.r.AppendSummary("## Gate\n"))
	require.NoError(t, h.r.AppendSummary("no trailing newline"))
	require.NoError(t, h.r.AppendSummary(""))
	want := "## Gate\nno trailing newline\n"
	assert.Equal(t, want, h.file(t, h.summaryFile))
	assert.Equal(t, want, h.r.Summary())
	assert.Empty(t, h.out.String())
}

func TestAppendSummaryTerminalKeepsInMemory(t *testing.T) {
	h := newHarness(t, false, nil)
	require.NoError(t, h.r.AppendSummary("| a |\n| --- |\n"))
	assert.Equal(t, "| a |\n| --- |\n", h.r.Summary())
}

func TestAppendSummaryRedacts(t *testing.T) {
	h := newHarness(t, true, nil)
	h.r.AddMask("ghp_secretTOKEN123")
	require.NoError(t, h.r.AppendSummary("token ghp_secretTOKEN123 and escaped ghp\\_secretTOKEN123\n"))
	assert.Equal(t, "token *** and escaped ***\n", h.file(t, h.summaryFile))
}

func TestAppendSummaryReportsFileErrors(t *testing.T) {
	dir := t.TempDir()
	r := New(nil, func(k string) string {
		return map[string]string{"GITHUB_STEP_SUMMARY": dir}[k] // a directory cannot be appended to
	})
	err := r.AppendSummary("x")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "append to step summary "+dir)
}

// TestSummaryCapWithRealLimit fills the summary past 1 MiB and checks the file the
// runner would upload stays within its limit and ends with the note.
func TestSummaryCapWithRealLimit(t *testing.T) {
	h := newHarness(t, true, nil)
	line := "| gate | ✓ success | [run](https://github.com/o/r/actions/runs/1) |\n"
	var section strings.Builder
	for section.Len() < 100_000 {
		section.WriteString(line)
	}
	total := 0
	for range 12 {
		require.NoError(t, h.r.AppendSummary(section.String()))
		total += section.Len()
	}
	content := h.file(t, h.summaryFile)
	assert.LessOrEqual(t, len(content), SummaryLimit)
	assert.LessOrEqual(t, len(content), SummaryCap+1024, "cap plus the note")
	assert.True(t, utf8.ValidString(content))
	m := noteRE.FindStringSubmatch(content)
	require.NotNil(t, m, "note missing at the end: %q", content[len(content)-300:])
	kept := strings.TrimSuffix(content, m[0])
	assert.True(t, strings.HasSuffix(kept, "|\n"), "cut at a line boundary")
	omittedInNote, err := strconv.Atoi(m[1])
	require.NoError(t, err)
	assert.Equal(t, int64(total-len(kept)), h.r.SummaryOmitted(), "every byte is either kept or counted")
	assert.Less(t, int64(omittedInNote), h.r.SummaryOmitted(), "the note counts the cut append; later drops are counted too")
	assert.Equal(t, content, h.r.Summary())

	cmds := ParseCommands(h.out.String())
	require.Len(t, cmds, 1, "one warning, not one per dropped append")
	assert.Equal(t, "warning", cmds[0].Name)
	assert.Contains(t, cmds[0].Data, fmt.Sprintf("%d bytes omitted", omittedInNote))
}

func TestSummaryCapCountsExistingFile(t *testing.T) {
	h := newHarness(t, true, nil)
	existing := strings.Repeat("x", 99) + "\n"
	require.NoError(t, os.WriteFile(h.summaryFile, []byte(existing), 0o644))
	h.r.summaryCap = 200
	require.NoError(t, h.r.AppendSummary("line one\nline two\n"))      // 18 bytes: fits (118)
	require.NoError(t, h.r.AppendSummary(strings.Repeat("y", 50)+"\n"+ // 51: fits (169)
		strings.Repeat("z", 50)+"\n")) // would reach 220: cut after the y line
	require.NoError(t, h.r.AppendSummary("dropped\n"))

	content := h.file(t, h.summaryFile)
	m := noteRE.FindStringSubmatch(content)
	require.NotNil(t, m, content)
	assert.Equal(t, "51", m[1])
	assert.Equal(t, existing+"line one\nline two\n"+strings.Repeat("y", 50)+"\n"+m[0], content)
	assert.Equal(t, int64(51+8), h.r.SummaryOmitted())
	assert.Equal(t, strings.TrimPrefix(content, existing), h.r.Summary())
}

func TestSummaryTruncationClosesOpenBlocks(t *testing.T) {
	tests := []struct {
		name, md, wantKept string
	}{
		{
			name:     "code fence",
			md:       "```text\n" + strings.Repeat("log line\n", 30),
			wantKept: "```text\n" + strings.Repeat("log line\n", 10) + "```\n",
		},
		{
			name:     "tilde fence inside details",
			md:       "<details><summary>Logs</summary>\n\n~~~~\n" + strings.Repeat("log line\n", 30),
			wantKept: "<details><summary>Logs</summary>\n\n~~~~\n" + strings.Repeat("log line\n", 6) + "~~~~\n\n</details>\n",
		},
		{
			name:     "closed fence is left alone",
			md:       "```\nx\n```\n" + strings.Repeat("text line\n", 30),
			wantKept: "```\nx\n```\n" + strings.Repeat("text line\n", 9),
		},
		{
			name:     "one long line is cut at a character boundary",
			md:       strings.Repeat("é", 200),
			wantKept: strings.Repeat("é", 50) + "\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, false, nil)
			h.r.summaryCap = 100
			require.NoError(t, h.r.AppendSummary(tt.md))
			got := h.r.Summary()
			m := noteRE.FindStringSubmatch(got)
			require.NotNil(t, m, got)
			assert.Equal(t, tt.wantKept, strings.TrimSuffix(got, m[0]))
			assert.True(t, utf8.ValidString(got))
		})
	}
}

func TestSummaryNoteAloneWhenNothingFits(t *testing.T) {
	h := newHarness(t, true, nil)
	require.NoError(t, os.WriteFile(h.summaryFile, []byte(strings.Repeat("x\n", SummaryCap/2)), 0o644))
	require.NoError(t, h.r.AppendSummary("## More\n"))
	m := noteRE.FindStringSubmatch(h.r.Summary())
	require.NotNil(t, m)
	assert.Equal(t, m[0], h.r.Summary(), "only the note is added")
	assert.Equal(t, "8", m[1])
}

func TestCloseOpenBlocks(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"text", "\n"},
		{"```go\ncode\n", "```\n"},
		{"````\n```\n", "````\n"},
		{"```\n````\n", ""},
		{"``` not `a fence\n", ""},
		{"    ```\n", ""},
		{"<details>\n<DETAILS><summary>x</summary>\n</details>\n", "\n</details>\n"},
		{"```\n<details>\n", "```\n"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, closeOpenBlocks(tt.in), "%q", tt.in)
	}
}
