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

// harness is a Runner wired to a buffer and, in Actions mode, to real GITHUB_OUTPUT and
// GITHUB_STEP_SUMMARY files in a temporary directory, as the runner provides them.
type harness struct {
	r           *Runner
	out         *bytes.Buffer
	outputFile  string
	summaryFile string
}

func newHarness(t testing.TB, actions bool, env map[string]string) *harness {
	t.Helper()
	h := &harness{out: &bytes.Buffer{}}
	e := map[string]string{}
	if actions {
		dir := t.TempDir()
		h.outputFile = filepath.Join(dir, "set_output")
		h.summaryFile = filepath.Join(dir, "step_summary")
		// The runner creates both files empty before the step starts.
		require.NoError(t, os.WriteFile(h.outputFile, nil, 0o644))
		require.NoError(t, os.WriteFile(h.summaryFile, nil, 0o644))
		e["GITHUB_ACTIONS"] = "true"
		e["GITHUB_OUTPUT"] = h.outputFile
		e["GITHUB_STEP_SUMMARY"] = h.summaryFile
	}
	for k, v := range env {
		e[k] = v
	}
	h.r = New(h.out, func(k string) string { return e[k] })
	return h
}

func (h *harness) file(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}

func TestNewMode(t *testing.T) {
	tests := []struct {
		value string
		want  bool
	}{{"true", true}, {"", false}, {"false", false}, {"TRUE", false}, {"1", false}}
	for _, tt := range tests {
		r := New(nil, func(k string) string {
			if k == "GITHUB_ACTIONS" {
				return tt.value
			}
			return ""
		})
		assert.Equal(t, tt.want, r.Actions(), "GITHUB_ACTIONS=%q", tt.value)
	}
	// nil writer and nil lookup are usable.
	r := New(nil, nil)
	assert.False(t, r.Actions())
	r.Infof("nothing to see")
	assert.Equal(t, "", r.Input("token"))
}

func TestInput(t *testing.T) {
	env := map[string]string{
		"INPUT_GATEWAY-URL":    "  https://gw.example.test \n",
		"INPUT_COMMAND":        "gate",
		"INPUT_MAX_WAIT":       "30m",
		"INPUT_ENV FILE":       "wrong key: spaces are replaced",
		"INPUT_ENV_FILE":       "right",
		"GITHUB_SHA":           "abc",
		"INPUT_GATEWAY_URL":    "wrong key: hyphens are kept",
		"INPUT_MULTI-LINE-VAL": "\n  a\n  b\n",
	}
	h := newHarness(t, false, env)
	tests := []struct{ name, want string }{
		{"gateway-url", "https://gw.example.test"},
		{"command", "gate"},
		{"Command", "gate"},
		{"max_wait", "30m"},
		{"env file", "right"},
		{"multi-line-val", "a\n  b"},
		{"absent", ""},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, h.r.Input(tt.name), "Input(%q)", tt.name)
	}
	assert.Equal(t, "abc", h.r.Getenv("GITHUB_SHA"))
}

func TestTerminalOutput(t *testing.T) {
	h := newHarness(t, false, map[string]string{"RUNNER_DEBUG": "1"})
	r := h.r
	r.Group("Gate")
	r.Infof("checking %d gates", 3)
	r.Debugf("etag %s", "W/\"x\"")
	r.Error("check failed", Annotation{Title: "Security Gate", File: "a.go", Line: 3, Col: 2})
	r.Warning("two\nlines", Annotation{})
	r.Notice("fyi", Annotation{Title: "t"})
	r.EndGroup()
	r.Raw("log 1\n::error::inside raw\n")
	want := "▶ Gate\n" +
		"checking 3 gates\n" +
		"debug: etag W/\"x\"\n" +
		"error: a.go:3:2: Security Gate: check failed\n" +
		"warning: two\n" +
		"  lines\n" +
		"notice: t: fyi\n" +
		"log 1\n" +
		"\\::error::inside raw\n"
	assert.Equal(t, want, h.out.String())
	assert.Empty(t, ParseCommands(h.out.String()))
}

func TestActionsOutput(t *testing.T) {
	h := newHarness(t, true, map[string]string{"RUNNER_DEBUG": "1"})
	r := h.r
	r.Group("Gate: 100% done")
	r.Group("Tag") // ends the open group first
	r.Infof("tagging %s", "v1.2.3")
	r.Debugf("multi\nline")
	r.Error("check failed\nsee log", Annotation{Title: "Security: Gate, main", File: "a,b.go", Line: 3, EndLine: 4, Col: 2, EndColumn: 9})
	r.Warning("w", Annotation{Title: "=starts with equals  "})
	r.Notice("n", Annotation{})
	r.EndGroup()
	r.EndGroup() // no group open: nothing
	want := "::group::Gate: 100%25 done\n" +
		"::endgroup::\n" +
		"::group::Tag\n" +
		"tagging v1.2.3\n" +
		"::debug::multi%0Aline\n" +
		"::error title=Security%3A Gate%2C main,file=a%2Cb.go,line=3,endLine=4,col=2,endColumn=9::check failed%0Asee log\n" +
		"::warning title= =starts with equals::w\n" +
		"::notice::n\n" +
		"::endgroup::\n"
	assert.Equal(t, want, h.out.String())

	cmds := ParseCommands(h.out.String())
	require.Len(t, cmds, 8)
	assert.Equal(t, Command{Name: "error", Line: 6, Data: "check failed\nsee log", Properties: map[string]string{
		"title": "Security: Gate, main", "file": "a,b.go", "line": "3", "endLine": "4", "col": "2", "endColumn": "9",
	}}, cmds[4])
	assert.Equal(t, " =starts with equals", cmds[5].Properties["title"])
	assert.Equal(t, "Gate: 100% done", cmds[0].Data)
}

func TestDebugOff(t *testing.T) {
	for _, actions := range []bool{true, false} {
		h := newHarness(t, actions, map[string]string{"RUNNER_DEBUG": "0"})
		h.r.Debugf("hidden %d", 1)
		assert.Empty(t, h.out.String())
	}
}

var stopTokenRE = regexp.MustCompile(`^[0-9a-f]{32}$`)

func TestRawActions(t *testing.T) {
	h := newHarness(t, true, nil)
	text := "step 1 ok\r\n::set-output name=x::y\n##[add-mask]z\n\x1b[31mred\x1b[0m\n\u200b::error::zw\n"
	h.r.Raw(text)
	lines := strings.Split(strings.TrimSuffix(h.out.String(), "\n"), "\n")
	require.Len(t, lines, 7)
	token := strings.TrimPrefix(lines[0], "::stop-commands::")
	require.Regexp(t, stopTokenRE, token)
	assert.Equal(t, []string{
		"step 1 ok",
		"::set-output name=x::y",
		"##[add-mask]z",
		`\x1b[31mred\x1b[0m`,
		`\u200b::error::zw`,
		"::" + token + "::",
	}, lines[1:])

	cmds := ParseCommands(h.out.String())
	require.Len(t, cmds, 2, "only the stop and resume lines are commands")
	assert.Equal(t, "stop-commands", cmds[0].Name)
	assert.Equal(t, token, cmds[0].Data)
	assert.Equal(t, token, cmds[1].Name)

	// Commands after the block work again.
	h.r.Error("after", Annotation{})
	cmds = ParseCommands(h.out.String())
	require.Len(t, cmds, 3)
	assert.Equal(t, "error", cmds[2].Name)

	h.out.Reset()
	h.r.Raw("")
	assert.Empty(t, h.out.String())
}

// sequence is a random source that hands out fixed blocks, to force collisions.
type sequence struct{ blocks [][]byte }

func (s *sequence) Read(p []byte) (int, error) {
	b := s.blocks[0]
	s.blocks = s.blocks[1:]
	return copy(p, b), nil
}

func TestRawTokenRedrawnWhenTextContainsIt(t *testing.T) {
	h := newHarness(t, true, nil)
	first := bytes.Repeat([]byte{0xab}, 16)
	second := bytes.Repeat([]byte{0xcd}, 16)
	h.r.rand = &sequence{blocks: [][]byte{first, second}}
	// The text names the first token in upper case: the runner compares tokens
	// ignoring case, so the first draw must be refused.
	h.r.Raw("##[" + strings.Repeat("AB", 16) + "]\n::error::x")
	out := h.out.String()
	assert.True(t, strings.HasPrefix(out, "::stop-commands::"+strings.Repeat("cd", 16)+"\n"), out)
	cmds := ParseCommands(out)
	require.Len(t, cmds, 2)
	assert.Equal(t, strings.Repeat("cd", 16), cmds[1].Name)
}

func TestRawWithoutRandomnessFallsBackToDefusedLines(t *testing.T) {
	h := newHarness(t, true, nil)
	h.r.rand = strings.NewReader("") // every draw fails
	h.r.Raw("::error::x\nok ##[warning]y")
	assert.Equal(t, "\\::error::x\nok ##\\[warning]y\n", h.out.String())
	assert.Empty(t, ParseCommands(h.out.String()))
}

// injections are untrusted strings that try to become workflow commands.
var injections = []string{
	"evil::error::pwned",
	"::error::pwned",
	"  ::add-mask::x",
	"\t::warning::tab",
	"\u00a0\u2003::notice::unicode spaces",
	"\u200b::error::zero width",
	"\ufeff::error::bom",
	"\u00ad::error::soft hyphen",
	":\u200b:error::split colons",
	": :error::spaced colons",
	"%0A::add-mask::x",
	"%0D%0A::error::x%25",
	"a\n::set-output name=x::y",
	"a\r::error::carriage return",
	"a\r\n  ::error::crlf",
	"a\u2028::error::line separator",
	"a\x85::error::next line",
	"##[error]legacy",
	"text ##[set-output name=x;]y",
	"##[stop-commands]tok",
	"::stop-commands::tok",
	"\x1b[31m::error::ansi",
	"\xff::error::invalid utf8",
	"::ERROR::upper case",
	"x\n\n::endgroup::",
}

func TestNoInjection(t *testing.T) {
	for _, s := range injections {
		t.Run(s, func(t *testing.T) {
			h := newHarness(t, true, map[string]string{"RUNNER_DEBUG": "1"})
			got := writeEverything(h.r, s)
			checkOnlyIntended(t, s, h.out.String(), got)

			h = newHarness(t, false, map[string]string{"RUNNER_DEBUG": "1"})
			writeEverything(h.r, s)
			assert.Empty(t, ParseCommands(h.out.String()), "terminal output:\n%s", h.out.String())
		})
	}
}

// writeEverything sends s through every method that prints untrusted text.
func writeEverything(r *Runner, s string) string {
	r.Infof("progress: %s", s)
	r.Infof("%s", s)
	r.Group(s)
	r.EndGroup()
	r.Error(s, Annotation{Title: s, File: s, Line: 1})
	r.Warning(s, Annotation{Title: s})
	r.Notice(s, Annotation{})
	r.Debugf("%s", s)
	r.Raw(s)
	return s
}

// checkOnlyIntended asserts that stdout holds exactly the commands writeEverything
// means to write, carrying s intact where it is data.
func checkOnlyIntended(t *testing.T, s, stdout, _ string) {
	t.Helper()
	cmds := ParseCommands(stdout)
	valid := sanitizeUTF8(s)
	prop := func(k string) map[string]string {
		if v := propertyValue(valid); v != "" {
			return map[string]string{k: v}
		}
		return map[string]string{}
	}
	errProps := prop("title")
	if v := propertyValue(valid); v != "" {
		errProps["file"] = v
	}
	errProps["line"] = "1"
	want := []Command{
		{Name: "group", Data: sanitizeLine(s), Properties: map[string]string{}},
		{Name: "endgroup", Properties: map[string]string{}},
		{Name: "error", Data: valid, Properties: errProps},
		{Name: "warning", Data: valid, Properties: prop("title")},
		{Name: "notice", Data: valid, Properties: map[string]string{}},
		{Name: "debug", Data: valid, Properties: map[string]string{}},
	}
	raw := len(splitRunnerLines(s)) > 0
	if raw {
		want = append(want, Command{Name: "stop-commands", Properties: map[string]string{}})
	}
	require.Len(t, cmds, len(want)+boolInt(raw), "stdout:\n%s", stdout)
	for i := range cmds {
		cmds[i].Line = 0
	}
	if raw {
		token := cmds[len(want)-1].Data
		require.Regexp(t, stopTokenRE, token)
		want[len(want)-1].Data = token
		want = append(want, Command{Name: token, Properties: map[string]string{}})
	}
	assert.Equal(t, want, cmds, "stdout:\n%s", stdout)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestConcurrentUseKeepsLinesWhole(t *testing.T) {
	h := newHarness(t, true, nil)
	done := make(chan struct{})
	for g := range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range 50 {
				h.r.Infof("worker %d line %d", g, i)
				h.r.Warning("w", Annotation{Title: "t"})
				_ = h.r.SetOutput("o", "v")
				_ = h.r.AppendSummary("s\n")
			}
		}()
	}
	for range 4 {
		<-done
	}
	lines := strings.Split(strings.TrimSuffix(h.out.String(), "\n"), "\n")
	require.Len(t, lines, 400)
	lineRE := regexp.MustCompile(`^(worker [0-3] line [0-9]+|::warning title=t::w)$`)
	for _, l := range lines {
		assert.Regexp(t, lineRE, l)
	}
	got, err := ParseOutputFile([]byte(h.file(t, h.outputFile)))
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"o": "v"}, got)
	assert.Equal(t, strings.Repeat("s\n", 200), h.file(t, h.summaryFile))
}
