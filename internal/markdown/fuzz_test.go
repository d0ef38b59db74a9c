package markdown

import (
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

var (
	refBreaks    = regexp.MustCompile(`[\t\n\v\f\r\x{85}\x{2028}\x{2029}]+`)
	refInvisible = regexp.MustCompile(`[\p{Cc}\p{Cf}\x{34F}\x{115F}\x{1160}\x{17B4}\x{17B5}\x{180B}-\x{180F}\x{2065}\x{3164}\x{FE00}-\x{FE0F}\x{FFA0}\x{FFF0}-\x{FFF8}\x{E0000}-\x{E0FFF}]`)
)

// refNormalize is an independent statement of what Escape promises to keep: the text
// with invisible characters removed and line breaks collapsed to one space.
func refNormalize(s string) string {
	s = string([]rune(s)) // one U+FFFD per invalid byte, as ranging over a string does
	// Drop invisible characters first, except breaks, so "\n\x00\n" is one run.
	s = refInvisible.ReplaceAllStringFunc(s, func(m string) string {
		if refBreaks.MatchString(m) {
			return m
		}
		return ""
	})
	return refBreaks.ReplaceAllString(s, " ")
}

// unescapeInline undoes Escape the way a CommonMark renderer does: "\X" is X for ASCII
// punctuation, and the three entities Escape writes are decoded. It reports false when
// it meets a Markdown-active character that is not escaped.
func unescapeInline(s string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			if i+1 >= len(s) || !isASCIIPunct(s[i+1]) {
				return "", false // a lone backslash Escape never writes
			}
			b.WriteByte(s[i+1])
			i++
		case c == '&':
			ent := ""
			for _, e := range []string{"&amp;", "&lt;", "&gt;"} {
				if strings.HasPrefix(s[i:], e) {
					ent = e
				}
			}
			if ent == "" {
				return "", false
			}
			b.WriteString(html.UnescapeString(ent))
			i += len(ent) - 1
		case c == '<' || c == '>' || c == '\n' || c == '\r' || strings.IndexByte(mdPunct, c) >= 0:
			return "", false
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), true
}

func isASCIIPunct(c byte) bool {
	return strings.IndexByte("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", c) >= 0
}

func startsWorkflowCommand(s string) bool {
	return strings.HasPrefix(strings.TrimLeft(s, " \t\u00a0"), "::")
}

func FuzzEscape(f *testing.F) {
	for _, s := range []string{
		"", "plain", "a|b", "::error::x", " \n::add-mask::x", "%0A::add-mask::x",
		"<script>alert(1)</script>", "&amp;", "1. x", "\\|", "`", "a\r\nb", "\xff\xfe",
		"\u202e\u200b", "[a](b)", "{{x}}", "$x$",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, out := range []string{Escape(s), Cell(s)} {
			if !utf8.ValidString(out) {
				t.Fatalf("invalid UTF-8 in %q", out)
			}
			if strings.ContainsAny(out, "\n\r<>") {
				t.Fatalf("line break or angle bracket in %q", out)
			}
			if startsWorkflowCommand(out) {
				t.Fatalf("output starts a workflow command: %q", out)
			}
			if strings.Contains(out, "##[") {
				t.Fatalf("legacy workflow command marker in %q", out)
			}
			plain, ok := unescapeInline(out)
			if out == EmptyCell {
				continue
			}
			if !ok {
				t.Fatalf("unescaped Markdown character in %q (from %q)", out, s)
			}
			if want := refNormalize(s); plain != want {
				t.Fatalf("Escape(%q) shows %q, want %q", s, plain, want)
			}
		}
		if Cell(s) == "" || strings.TrimSpace(Cell(s)) == "" {
			t.Fatalf("Cell(%q) is blank", s)
		}
	})
}

func FuzzCode(f *testing.F) {
	for _, s := range []string{"", "x", "`", "``a```b`", " `", "  ", " a ", "a\nb", "|"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Code(s)
		if strings.ContainsAny(out, "\r\n") {
			t.Fatalf("line break in %q", out)
		}
		n := 0
		for n < len(out) && out[n] == '`' {
			n++
		}
		if n == 0 || len(out) < 2*n+1 || strings.Repeat("`", n) != out[len(out)-n:] {
			t.Fatalf("not a code span: %q", out)
		}
		inner := out[n : len(out)-n]
		run := 0
		for i := 0; i < len(inner); i++ {
			if inner[i] == '`' {
				run++
				if run >= n {
					t.Fatalf("content of %q has a backtick run that closes the span", out)
				}
			} else {
				run = 0
			}
		}
		// CommonMark strips one space from each side when both are there and the
		// content is not all spaces.
		if len(inner) >= 2 && inner[0] == ' ' && inner[len(inner)-1] == ' ' && strings.Trim(inner, " ") != "" {
			inner = inner[1 : len(inner)-1]
		}
		want := refNormalize(s)
		if want == "" {
			want = " "
		}
		if inner != want {
			t.Fatalf("Code(%q) shows %q, want %q", s, inner, want)
		}
	})
}

func FuzzLink(f *testing.F) {
	for _, p := range [][2]string{
		{"run", "https://github.com/o/r/actions/runs/1"},
		{"x", "javascript:alert(1)"},
		{"x", "https://e.test/a b(c)"},
		{"x", "https://u:p@e.test/"},
		{"", "http://e.test/?a=1&b=2"},
		{"]", "https://e.test/)"},
	} {
		f.Add(p[0], p[1])
	}
	f.Fuzz(func(t *testing.T, text, raw string) {
		out := Link(text, raw)
		if out == Escape(text) {
			return
		}
		label := Escape(text)
		if strings.TrimSpace(label) == "" {
			i := strings.Index(out, "](")
			if i < 0 {
				t.Fatalf("not a link: %q", out)
			}
			label = out[1:i]
		}
		prefix := "[" + label + "]("
		if !strings.HasPrefix(out, prefix) || !strings.HasSuffix(out, ")") {
			t.Fatalf("Link(%q, %q) = %q, want a link labelled %q", text, raw, out, label)
		}
		dest := out[len(prefix) : len(out)-1]
		if dest == "" || strings.ContainsAny(dest, " ()<>\"`\\|\n\r\t") {
			t.Fatalf("unsafe destination %q", dest)
		}
		for i := 0; i < len(dest); i++ {
			if dest[i] < 0x20 || dest[i] >= 0x7f {
				t.Fatalf("non-printable byte in destination %q", dest)
			}
		}
		u, err := url.Parse(html.UnescapeString(dest))
		if err != nil {
			t.Fatalf("destination %q does not parse: %v", dest, err)
		}
		if s := strings.ToLower(u.Scheme); (s != "http" && s != "https") || u.Host == "" || u.User != nil {
			t.Fatalf("destination %q is not a credential-free http(s) URL", dest)
		}
	})
}

func FuzzTableRow(f *testing.F) {
	f.Add("a|b", "c|d", "https://e.test/|x")
	f.Add("\\", "`|`", "")
	f.Add("x\n|y", "\\|", "https://e.test/")
	f.Fuzz(func(t *testing.T, a, b, link string) {
		tb := NewTable("A", "B", "C")
		want := []string{Cell(a), Code(b), Link(a, link)}
		tb.Row(want...)
		lines := strings.Split(strings.TrimSuffix(tb.String(), "\n"), "\n")
		if len(lines) != 3 {
			t.Fatalf("table has %d lines, want 3: %q", len(lines), tb.String())
		}
		got := gfmSplitRow(lines[2])
		if len(got) != 3 {
			t.Fatalf("row splits into %d cells, want 3: %q", len(got), lines[2])
		}
		for i := range want {
			if got[i] != strings.TrimSpace(want[i]) {
				t.Fatalf("cell %d reads %q after GFM unescaping, want %q", i, got[i], want[i])
			}
		}
	})
}
