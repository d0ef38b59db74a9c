package actions

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var heredocRE = regexp.MustCompile(`^result<<(ghadelimiter_[0-9a-f]{32})\npass\n(ghadelimiter_[0-9a-f]{32})\n$`)

func TestSetOutputWritesHeredoc(t *testing.T) {
	h := newHarness(t, true, nil)
	require.NoError(t, h.r.SetOutput("result", "pass"))
	m := heredocRE.FindStringSubmatch(h.file(t, h.outputFile))
	require.NotNil(t, m, "file: %q", h.file(t, h.outputFile))
	assert.Equal(t, m[1], m[2])

	report := "{\n  \"gates\": [\"a=b\", \"x<<y\"]\n}\nEOF\n"
	require.NoError(t, h.r.SetOutput("report", report))
	require.NoError(t, h.r.SetOutput("deployment-id", ""))
	require.NoError(t, h.r.SetOutput("result", "fail")) // last one wins, as in the runner

	got, err := ParseOutputFile([]byte(h.file(t, h.outputFile)))
	require.NoError(t, err)
	want := map[string]string{"result": "fail", "report": report, "deployment-id": ""}
	assert.Equal(t, want, got)
	assert.Equal(t, want, h.r.Outputs())
	assert.Empty(t, h.out.String(), "outputs print nothing")

	delims := regexp.MustCompile(`ghadelimiter_[0-9a-f]{32}`).FindAllString(h.file(t, h.outputFile), -1)
	seen := map[string]bool{}
	for _, d := range delims {
		seen[d] = true
	}
	assert.Len(t, seen, 4, "a fresh delimiter per value")
}

func TestSetOutputRedrawsDelimiterFoundInValue(t *testing.T) {
	h := newHarness(t, true, nil)
	zero := make([]byte, 16)
	one := bytes.Repeat([]byte{0x11}, 16)
	h.r.rand = &sequence{blocks: [][]byte{zero, one}}
	value := "before\nghadelimiter_" + strings.Repeat("0", 32) + "\nafter"
	require.NoError(t, h.r.SetOutput("report", value))
	content := h.file(t, h.outputFile)
	assert.True(t, strings.HasPrefix(content, "report<<ghadelimiter_"+strings.Repeat("11", 16)+"\n"), content)
	got, err := ParseOutputFile([]byte(content))
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"report": value}, got)
}

func TestSetOutputFailsWithoutRandomness(t *testing.T) {
	h := newHarness(t, true, nil)
	h.r.rand = strings.NewReader("short")
	err := h.r.SetOutput("result", "pass")
	require.ErrorContains(t, err, `set output "result": read random bytes`)
	assert.Empty(t, h.r.Outputs())
}

func TestSetOutputRejects(t *testing.T) {
	h := newHarness(t, true, nil)
	for _, name := range []string{"", "a=b", "a<<b", "a<", "a\nb", "a\rb", "1st", "-x", "a b", "a.b", "né", "a\x00"} {
		err := h.r.SetOutput(name, "v")
		assert.Error(t, err, "name %q", name)
	}
	err := h.r.SetOutput("a<<EOF", "v")
	assert.EqualError(t, err, `set output "a<<EOF": invalid output name: use letters, digits, '_' and '-', starting with a letter or '_'`)
	assert.EqualError(t, h.r.SetOutput("", "v"), "set output: the output name is empty")
	assert.EqualError(t, h.r.SetOutput("report", "a\xffb"), `set output "report": value is not valid UTF-8`)
	for _, name := range []string{"a", "_x", "next-window", "A_1-b"} {
		assert.NoError(t, h.r.SetOutput(name, "v"), "name %q", name)
	}
	assert.Equal(t, "a<<", h.file(t, h.outputFile)[:3])
}

func TestSetOutputTerminalKeepsInMemory(t *testing.T) {
	h := newHarness(t, false, nil)
	require.NoError(t, h.r.SetOutput("result", "pass"))
	out := h.r.Outputs()
	assert.Equal(t, map[string]string{"result": "pass"}, out)
	out["result"] = "changed"
	assert.Equal(t, "pass", h.r.Outputs()["result"], "Outputs returns a copy")
	assert.Empty(t, h.out.String())
}

func TestSetOutputReportsFileErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "missing-dir", "out")
	r := New(nil, func(k string) string {
		return map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": path}[k]
	})
	err := r.SetOutput("result", "pass")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `set output "result" in `+path)
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestParseOutputFile(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    map[string]string
		wantErr string
	}{
		{name: "empty", in: "", want: map[string]string{}},
		{name: "key value", in: "a=1\nb=x=y\n", want: map[string]string{"a": "1", "b": "x=y"}},
		{name: "no final newline", in: "a=1", want: map[string]string{"a": "1"}},
		{name: "empty lines skipped", in: "\n\na=1\n\n", want: map[string]string{"a": "1"}},
		{name: "heredoc", in: "a<<EOF\nline1\nline2\nEOF\n", want: map[string]string{"a": "line1\nline2"}},
		{name: "heredoc empty value", in: "a<<EOF\nEOF\n", want: map[string]string{"a": ""}},
		{name: "heredoc empty line value", in: "a<<EOF\n\nEOF\n", want: map[string]string{"a": ""}},
		{name: "heredoc trailing newline value", in: "a<<EOF\nx\n\nEOF\n", want: map[string]string{"a": "x\n"}},
		{name: "heredoc delimiter at EOF", in: "a<<EOF\nx\nEOF", want: map[string]string{"a": "x"}},
		{name: "equals before heredoc", in: "a=b<<c\n", want: map[string]string{"a": "b<<c"}},
		{name: "heredoc before equals", in: "a<<=\nv\n=\n", want: map[string]string{"a": "v"}},
		{name: "delimiter must match the whole line", in: "a<<EOF\nEOF \nxEOF\nEOF\n", want: map[string]string{"a": "EOF \nxEOF"}},
		{name: "later wins", in: "a=1\na<<E\n2\nE\n", want: map[string]string{"a": "2"}},
		{name: "empty name accepted by the runner", in: "=v\n", want: map[string]string{"": "v"}},
		{name: "CRLF key value keeps CR", in: "a=1\r\nb=2\r\n", want: map[string]string{"a": "1\r", "b": "2\r"}},
		{name: "CRLF heredoc keeps CR", in: "a<<EOF\r\nv\r\nEOF\r\n", want: map[string]string{"a": "v\r"}},
		{name: "lone CR is not a line break", in: "a=1\rb=2\n", want: map[string]string{"a": "1\rb=2"}},
		{name: "NUL kept", in: "a<<E\nx\x00y\nE\n", want: map[string]string{"a": "x\x00y"}},
		{name: "BOM dropped", in: "\xEF\xBB\xBFa=1\n", want: map[string]string{"a": "1"}},
		{name: "invalid UTF-8 replaced per maximal subpart", in: "a=\xE2\x82|\xFF\xFE|\xF0\x9F\x98\n", want: map[string]string{"a": "\uFFFD|\uFFFD\uFFFD|\uFFFD"}},
		{name: "surrogate bytes", in: "a=\xED\xA0\x80\n", want: map[string]string{"a": "\uFFFD\uFFFD\uFFFD"}},
		{name: "missing delimiter", in: "ok=1\na<<EOF\nv\n", want: map[string]string{"ok": "1"}, wantErr: `invalid value of "a": matching delimiter "EOF" not found`},
		{name: "CRLF delimiter never matches LF file", in: "a<<EOF\r\nv\nEOF\n", want: map[string]string{}, wantErr: `invalid value of "a": matching delimiter "EOF\r" not found`},
		{name: "value line without newline at EOF", in: "a<<EOF\nv", want: map[string]string{}, wantErr: `invalid value of "a": EOF marker missing new line`},
		{name: "empty heredoc name", in: "<<EOF\nv\nEOF\n", want: map[string]string{}, wantErr: `invalid format "<<EOF": name must not be empty and delimiter must not be empty`},
		{name: "empty delimiter", in: "a<<\nv\n\n", want: map[string]string{}, wantErr: `invalid format "a<<": name must not be empty and delimiter must not be empty`},
		{name: "no separator", in: "just text\n", want: map[string]string{}, wantErr: `invalid format "just text"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseOutputFile([]byte(tt.in))
			if tt.wantErr != "" {
				assert.EqualError(t, err, tt.wantErr)
			} else {
				assert.NoError(t, err)
			}
			assert.Equal(t, tt.want, got)
		})
	}
	_, err := ParseOutputFile([]byte("\xFF\xFEa\x00=\x001\x00"))
	assert.EqualError(t, err, "parse output file: UTF-16/UTF-32 files are not supported")
}

func TestParseKeyValueWindowsLineEndings(t *testing.T) {
	got, err := parseKeyValueText("a=1\r\nb<<EOF\r\nx\r\ny\r\nEOF\r\n", true)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"a": "1", "b": "x\r\ny"}, got)
}
