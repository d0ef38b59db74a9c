package termtext_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/markdown"
	"github.com/agentme/release-action/internal/termtext"
)

func TestRenderInline(t *testing.T) {
	tests := []struct {
		name, md, want string
	}{
		{"backslash escapes", `hello\-ok from http\://127.0.0.1 via sessions\_list \(1\)`, "hello-ok from http://127.0.0.1 via sessions_list (1)"},
		{"entities", `a &lt;b&gt; &amp; &quot;c&quot; &#39;d&#39; &#x41;`, `a <b> & "c" 'd' A`},
		{"not an entity", `AT&T &nosuch; &`, `AT&T &nosuch; &`},
		{"backslash before a letter stays", `C:\path`, `C:\path`},
		{"code span", "version `1.2.3` ok", "version 1.2.3 ok"},
		{"code span keeps escapes literal", "`a\\-b &amp;`", `a\-b &amp;`},
		{"code span with backticks", markdown.Code("a`b"), "a`b"},
		{"code span padded", markdown.Code("`x`"), "`x`"},
		{"code span of spaces", markdown.Code("   "), ""},
		{"unmatched backticks", "a `` b ` c", "a `` b ` c"},
		{"link", "[open](https://example.test/a?b=1&amp;c=2)", "open (https://example.test/a?b=1&c=2)"},
		{"link equal to url", markdown.Link("", "https://example.test/x"), "https://example.test/x"},
		{"link text is the url without scheme", markdown.Link("gateway.example.test", "https://gateway.example.test/"), "https://gateway.example.test/"},
		{"link text is another host", markdown.Link("gateway.example.test", "https://evil.test/"), "gateway.example.test (https://evil.test/)"},
		{"link label escaped", markdown.Link("v1.2\\-rc [x]", "https://example.test/t"), `v1.2\-rc [x] (https://example.test/t)`},
		{"unsafe link is text", markdown.Link("click", "javascript:alert(1)"), "click"},
		{"task box is no link", "[ ] do it", "[ ] do it"},
		{"bracket without destination", "[x] y", "[x] y"},
		{"bold", "**Window:** open", "Window: open"},
		{"italic star", "steps marked *reused* were", "steps marked reused were"},
		{"italic underscore", "_to fill in_", "to fill in"},
		{"snake case is literal", "a_b_c", "a_b_c"},
		{"unclosed bold", "** not bold", "** not bold"},
		{"escaped star is no emphasis", `\*x\*`, "*x*"},
		{"emoji kept", "✅ pass · ⏭️ not run", "✅ pass · ⏭️ not run"},
		{"control characters go", "a\x1b[31mred\x07b", "a [31mred b"},
		{"workflow command", `\::error::x`, " ::error::x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := termtext.Render(tt.md, termtext.Options{})
			assert.Equal(t, tt.want+"\n", strings.TrimPrefix(got, ""), "markdown %q", tt.md)
		})
	}
}

func TestRenderBlocks(t *testing.T) {
	tests := []struct {
		name, md, want string
	}{
		{
			name: "heading and paragraphs",
			md:   "## ❌ Release of 4f6c2a9 failed\n\nfirst line\nsecond line\n\n\n\nlast\n",
			want: "❌ Release of 4f6c2a9 failed\n\nfirst line\nsecond line\n\nlast\n",
		},
		{
			name: "lists keep markers and nesting",
			md:   "- **Status:** ok\n- **Follow-up actions:**\n  - [ ] fix it\n  * [x] done\n1. one\n",
			want: "- Status: ok\n- Follow-up actions:\n  - [ ] fix it\n  - [x] done\n1. one\n",
		},
		{
			name: "note is indented",
			md:   "text\n\n> ⚠️ **Left state:** broken\n> second\n\nafter",
			want: "text\n\n  ⚠️ Left state: broken\n  second\n\nafter\n",
		},
		{
			name: "details, nested",
			md: markdown.Details("Monitor <details> & more", "#### inner\n\nbody\n\n"+
				markdown.Details("Every check (2)", "row")) + "\n\nafter",
			want: "Monitor <details> & more:\n  inner\n\n  body\n\n  Every check (2):\n    row\n\nafter\n",
		},
		{
			name: "details without a close runs to the end",
			md:   "<details><summary>X:</summary>\n\nbody",
			want: "X:\n  body\n",
		},
		{
			name: "stray closer is dropped",
			md:   "a\n\n</details>\n\nb",
			want: "a\n\nb\n",
		},
		{
			name: "pipe line without a delimiter row is a paragraph",
			md:   "| a | b |\nplain",
			want: "| a | b |\nplain\n",
		},
		{
			name: "blank input",
			md:   "\n\n",
			want: "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, termtext.Render(tt.md, termtext.Options{}))
		})
	}
}

// TestTableAlignment checks the column positions, measured in terminal cells: wide
// runes and emoji count two cells, so every cell of a column starts at the same cell.
func TestTableAlignment(t *testing.T) {
	tb := markdown.NewTable("Probe", "Result", "Detail")
	tb.Row(markdown.Code("connect-auth"), "✅ pass", markdown.Cell("hello-ok"))
	tb.Row(markdown.Code("日本語"), "⏭️ not run", markdown.Cell("a|b"))
	tb.Row(markdown.Cell(""), "❌ fail", markdown.Cell("x"))
	got := termtext.Render(tb.String(), termtext.Options{})
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	require.Len(t, lines, 5)
	assert.Equal(t, []string{
		"Probe         Result      Detail",
		"------------  ----------  --------",
		"connect-auth  ✅ pass     hello-ok",
		"日本語        ⏭️ not run  a|b",
		"–             ❌ fail     x",
	}, lines)
	for _, ln := range []int{0, 2, 3, 4} {
		assert.Equal(t, 14, cellOf(lines[ln], []string{"Result", "✅", "⏭️", "❌"}), "Result column of %q", lines[ln])
		assert.Equal(t, 26, cellOf(lines[ln], []string{"Detail", "hello-ok", "a|b", "x"}), "Detail column of %q", lines[ln])
	}
}

// cellOf is the terminal cell at which the first of words starts in line.
func cellOf(line string, words []string) int {
	for _, w := range words {
		if i := strings.Index(line, w); i >= 0 {
			return termtext.Width(line[:i])
		}
	}
	return -1
}

func TestWideTableBecomesRecords(t *testing.T) {
	tb := markdown.NewTable("Gate", "Conclusion", "Link")
	long := strings.Repeat("long reason ", 12)
	tb.Row("check", markdown.Cell("✅ pass: "+long), markdown.Link("open", "https://example.test/1"))
	tb.Row("Security Gate", markdown.Cell("❌ fail"), markdown.EmptyCell)
	want := "check\n" +
		"  Conclusion  ✅ pass: " + strings.TrimSpace(long) + "\n" +
		"  Link        open (https://example.test/1)\n" +
		"Security Gate\n" +
		"  Conclusion  ❌ fail\n" +
		"  Link        –\n"
	assert.Equal(t, want, termtext.Render(tb.String(), termtext.Options{}))

	// The same table fits a wider terminal as columns; a long last column never forces
	// records, since it is not padded.
	wide := termtext.Render(tb.String(), termtext.Options{Width: 400})
	assert.True(t, strings.HasPrefix(wide, "Gate           Conclusion"), wide)
	last := markdown.NewTable("Probe", "Detail")
	last.Row("channel", markdown.Cell(long))
	assert.True(t, strings.HasPrefix(termtext.Render(last.String(), termtext.Options{Width: 40}), "Probe    Detail\n-------  -------------------------------\n"))
}

func TestColor(t *testing.T) {
	md := "## Gate `x`\n\n**bold** and `code`\n\n" + markdown.Details("More", "body") + "\n\n| A | B |\n| --- | --- |\n| 1 | 2 |\n"
	got := termtext.Render(md, termtext.Options{Color: true})
	assert.Contains(t, got, "\x1b[1;4mGate \x1b[0m\x1b[1;4;36mx\x1b[0m\n")
	assert.Contains(t, got, "\x1b[1mbold\x1b[0m and \x1b[36mcode\x1b[0m\n")
	assert.Contains(t, got, "\x1b[1mMore:\x1b[0m\n  body\n")
	assert.Contains(t, got, "\x1b[1mA\x1b[0m  \x1b[1mB\x1b[0m\n-  -\n1  2\n")
	assert.NotContains(t, termtext.Render(md, termtext.Options{}), "\x1b")
}

func TestColorEnabled(t *testing.T) {
	tests := []struct {
		name string
		tty  bool
		env  map[string]string
		want bool
	}{
		{"terminal", true, nil, true},
		{"pipe", false, nil, false},
		{"NO_COLOR", true, map[string]string{"NO_COLOR": "1"}, false},
		{"empty NO_COLOR does not count", true, map[string]string{"NO_COLOR": ""}, true},
		{"dumb terminal", true, map[string]string{"TERM": "dumb"}, false},
		{"xterm", true, map[string]string{"TERM": "xterm-256color"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, termtext.ColorEnabled(tt.tty, func(k string) string { return tt.env[k] }))
		})
	}
}

func TestWidth(t *testing.T) {
	tests := []struct {
		s    string
		want int
	}{
		{"abc", 3},
		{"日本", 4},
		{"✅", 2},
		{"⏭️", 2}, // emoji presentation (U+FE0F) draws two cells
		{"⏭", 1},
		{"e\u0301", 1},
		{"▁█·–", 4},
		{"👩\u200d💻", 2},
		{"", 0},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, termtext.Width(tt.s), "%q", tt.s)
	}
}
