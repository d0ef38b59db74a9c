package markdown

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEscape(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "Security Gate", "Security Gate"},
		{"emphasis and code", "*bold* _it_ `code`", `\*bold\* \_it\_ \` + "`code\\`"},
		{"link syntax", "[x](javascript:alert(1))", `\[x\]\(javascript:alert\(1\)\)`},
		{"image", "![i](http://e/x.png)", `\!\[i\]\(http\://e/x.png\)`},
		{"html tag", "<img src=x onerror=alert(1)>", `&lt;img src\=x onerror\=alert\(1\)&gt;`},
		{"entity stays literal", "&lt;b&gt; & co", "&amp;lt;b&amp;gt; &amp; co"},
		{"pipe", "a|b", `a\|b`},
		{"newlines collapse", "line1\r\nline2\n\n\tline3", "line1 line2 line3"},
		{"trailing newline", "done\n", "done "},
		{"control chars stripped", "a\x00b\x1b[31mc\x7f", `ab\[31mc`},
		{"bidi override stripped", "abc\u202Edcb", "abcdcb"},
		{"invalid utf8", "a\xffb", "a\uFFFDb"},
		{"heading marker", "# not a heading", `\# not a heading`},
		{"list markers", "- a + b", `\- a \+ b`},
		{"ordered list marker", "12. twelve", `12\. twelve`},
		{"dot later is kept", "v1.2.3", "v1.2.3"},
		{"setext underline", "===", `\=\=\=`},
		{"math", "$x$ costs $5", `\$x\$ costs \$5`},
		{"strikethrough", "~~gone~~", `\~\~gone\~\~`},
		{"workflow command at start", "::error::pwned", `\::error::pwned`},
		{"workflow command after spaces", "  ::add-mask::x", `  \::add\-mask::x`},
		{"command after collapsed newline", "a\n::set-output name=x::y", `a ::set\-output name\=x::y`},
		{"legacy command", "##[error]x", `\#\#\[error\]x`},
		{"backslash", `C:\path\`, `C:\\path\\`},
		{"braces", "{{ secrets.X }}", `\{\{ secrets.X \}\}`},
		{"unicode kept", "déploiement ✓ 日本", "déploiement ✓ 日本"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, Escape(tt.in))
		})
	}
}

func TestCell(t *testing.T) {
	assert.Equal(t, EmptyCell, Cell(""))
	assert.Equal(t, EmptyCell, Cell(" \n\t "))
	assert.Equal(t, `a\|b c`, Cell("a|b\nc"))
	assert.Equal(t, "success", Cell("success"))
}

func TestCode(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "abc1234", "`abc1234`"},
		{"one backtick inside", "a`b", "``a`b``"},
		{"run of three", "x```y`", "```` x```y` ````"},
		{"starts with backtick", "`x", "`` `x ``"},
		{"space both sides kept", " x ", "`  x  `"},
		{"space one side", " x", "` x`"},
		{"only spaces", "  ", "`  `"},
		{"newline", "a\nb", "`a b`"},
		{"html inside is literal", "<b>&amp;", "`<b>&amp;`"},
		{"pipe kept", "a|b", "`a|b`"},
		{"empty", "", "` `"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, Code(tt.in))
		})
	}
}

func TestLink(t *testing.T) {
	tests := []struct {
		name, text, url, want string
	}{
		{"https", "run 42", "https://github.com/o/r/actions/runs/42", "[run 42](https://github.com/o/r/actions/runs/42)"},
		{"http upper scheme", "x", "HTTP://example.test/a", "[x](HTTP://example.test/a)"},
		{"parens and spaces encoded", "docs", "https://e.test/a (b)/c d", "[docs](https://e.test/a%20%28b%29/c%20d)"},
		{"query ampersand as entity", "q", "https://e.test/?a=1&copy=2", "[q](https://e.test/?a=1&amp;copy=2)"},
		{"angle and quote encoded", "q", `https://e.test/"<x>"`, "[q](https://e.test/%22%3Cx%3E%22)"},
		{"non-ascii encoded", "q", "https://e.test/é", "[q](https://e.test/%C3%A9)"},
		{"text escaped", "a]b", "https://e.test/", `[a\]b](https://e.test/)`},
		{"empty text shows url", "", "https://e.test/x", `[https\://e.test/x](https://e.test/x)`},
		{"javascript refused", "click", "javascript:alert(1)", "click"},
		{"relative refused", "click", "/o/r/pull/1", "click"},
		{"credentials refused", "click", "https://user:tok@e.test/", "click"},
		{"newline refused", "click", "https://e.test/\n[x](javascript:y)", "click"},
		{"no host refused", "click", "https:///path", "click"},
		{"bad escape refused", "click", "https://e.test/%zz", "click"},
		{"mailto refused", "mail", "mailto:a@b.c", "mail"},
		{"refused text still escaped", "*x*", "ftp://e.test/", `\*x\*`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, Link(tt.text, tt.url))
		})
	}
}

func TestDetails(t *testing.T) {
	got := Details("Logs of <job> & \"x\"\n", "| a |\n| --- |")
	assert.Equal(t, "<details><summary>Logs of &lt;job&gt; &amp; &#34;x&#34;</summary>\n\n| a |\n| --- |\n\n</details>", got)
	assert.Equal(t, "<details><summary>Details</summary>\n\nbody\n\n</details>", Details(" \n", "body"))
	assert.NotContains(t, Details("</summary></details><script>", ""), "<script>")
}

func TestTable(t *testing.T) {
	tb := NewTable("Gate", "Conclusion", "Link")
	tb.Row(Cell("Security | Gate"), Code("a|b`c"), Link("run", "https://e.test/r/1"))
	tb.Row(Cell("two\nlines"), Cell(""))
	want := "| Gate | Conclusion | Link |\n" +
		"| --- | --- | --- |\n" +
		"| Security \\\\| Gate | ``a\\|b`c`` | [run](https://e.test/r/1) |\n" +
		"| two lines | – |  |\n"
	assert.Equal(t, want, tb.String())
	assert.Equal(t, 2, tb.Len())

	// What GFM sees: exactly three cells per row, and after its pipe unescaping each
	// cell is the Markdown the caller rendered.
	lines := strings.Split(strings.TrimSuffix(tb.String(), "\n"), "\n")
	require.Len(t, lines, 4)
	cells := gfmSplitRow(lines[2])
	require.Len(t, cells, 3)
	assert.Equal(t, Cell("Security | Gate"), cells[0])
	assert.Equal(t, Code("a|b`c"), cells[1])

	assert.Equal(t, "", NewTable().String())
	assert.PanicsWithValue(t, "markdown: table row has 2 cells but the table has 1 columns", func() {
		NewTable("only").Row("a", "b")
	})
}

// gfmSplitRow splits a table row the way cmark-gfm does: a '|' directly preceded by a
// backslash belongs to the cell; each cell is trimmed and then has "\|" turned into "|".
func gfmSplitRow(line string) []string {
	line = strings.TrimSpace(line)
	line = strings.TrimPrefix(line, "|")
	var cells []string
	start := 0
	for i := 0; i < len(line); i++ {
		if line[i] == '|' && (i == 0 || line[i-1] != '\\') {
			cells = append(cells, line[start:i])
			start = i + 1
		}
	}
	if rest := line[start:]; strings.TrimSpace(rest) != "" {
		cells = append(cells, rest)
	}
	for i, c := range cells {
		cells[i] = strings.ReplaceAll(strings.TrimSpace(c), `\|`, "|")
	}
	return cells
}

// TestEscapeStopsAutolinks: GitHub turns bare URLs, www. names and e-mail addresses in
// text into links; untrusted text must not become a clickable link (or a mention).
func TestEscapeStopsAutolinks(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"see https://evil.example/login", `see https\://evil.example/login`},
		{"www.evil.example", `www\.evil.example`},
		{"go to WWW.evil.example", `go to WWW\.evil.example`},
		{"awww.fine", "awww.fine"},
		{"admin@evil.example", `admin\@evil.example`},
		{"@agentme/release-owners", `\@agentme/release\-owners`},
		{"12:30 UTC", "12:30 UTC"},
	} {
		assert.Equal(t, tc.want, Escape(tc.in), tc.in)
	}
}
