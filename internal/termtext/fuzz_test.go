package termtext_test

import (
	"strings"
	"testing"
	"unicode"

	"github.com/agentme/release-action/internal/markdown"
	"github.com/agentme/release-action/internal/termtext"
)

// builderDoc is a summary as our builders write it, with fuzzed text in every place
// untrusted text can reach: headings, paragraphs, list items, notes, table cells, code
// spans, links and collapsed sections.
func builderDoc(a, b, c string) string {
	tb := markdown.NewTable("Probe", markdown.Cell(a), "Detail")
	tb.Row(markdown.Code(a), markdown.Cell(b), markdown.Link(c, b))
	tb.Row(markdown.Cell(c), "✅ pass", markdown.Code(b)+" · "+markdown.Link("open", c))
	var s strings.Builder
	s.WriteString("## ❌ " + markdown.Escape(a) + "\n\n")
	s.WriteString("Candidate " + markdown.Link(a, c) + " · version " + markdown.Code(b) + "\n\n")
	s.WriteString(markdown.Escape(b) + "\n\n")
	s.WriteString("- **" + markdown.Escape(a) + "**: " + markdown.Escape(b) + "\n  - [ ] " + markdown.Escape(c) + "\n\n")
	s.WriteString("> ⚠️ " + markdown.Escape(c) + "\n\n")
	s.WriteString(tb.String() + "\n")
	s.WriteString(markdown.Details(a, "#### "+markdown.Escape(b)+"\n\n"+tb.String()) + "\n\n")
	s.WriteString("**Why:** _" + markdown.Escape(c) + "_\n")
	return s.String()
}

func FuzzRender(f *testing.F) {
	for _, seed := range [][3]string{
		{"hello-ok", "http://127.0.0.1", "sessions_list"},
		{"| ::error::pwned", "<img src=x onerror=alert(1)>", "[x](javascript:alert(1))"},
		{"\x1b[31mred\x1b[0m", "a\r\nb\tc\x00", "\u202eevil\u200b"},
		{"日本語 ✅", "`code` ``x``", "https://user:pw@example.test/"},
		{"&amp; &lt;", "\\*x\\* **y**", "1. item"},
		{"", " ", "www.example.test @someone"},
		{"\xff\xfe", "::set-output name=x::y", "</details><details>"},
	} {
		f.Add(seed[0], seed[1], seed[2])
	}
	f.Fuzz(func(t *testing.T, a, b, c string) {
		md := builderDoc(a, b, c)
		plain := termtext.Render(md, termtext.Options{})
		coloured := termtext.Render(md, termtext.Options{Color: true, Width: 60})
		for _, out := range []string{plain, stripSGR(coloured)} {
			for _, r := range out {
				if r != '\n' && (unicode.IsControl(r) || unicode.Is(unicode.Cf, r)) {
					t.Fatalf("control or format character %U in output:\n%q", r, out)
				}
			}
			for _, ln := range strings.Split(out, "\n") {
				if strings.HasPrefix(ln, "::") {
					t.Fatalf("line reads as a workflow command: %q", ln)
				}
			}
		}
		if stripSGR(termtext.Render(md, termtext.Options{Color: true})) != plain {
			t.Fatalf("colour changed the text")
		}

		// Escaped text round-trips: for printable ASCII the terminal shows exactly what
		// went into markdown.Escape, trimmed (the only normalisations Escape makes are
		// to line breaks, control and invisible characters).
		if printableASCII(a) {
			want := strings.TrimSpace(a)
			if want != "" {
				if strings.HasPrefix(want, "::") {
					want = " " + want
				}
				want += "\n"
			}
			if got := termtext.Render(markdown.Escape(a), termtext.Options{}); got != want {
				t.Fatalf("Escape(%q) rendered %q, want %q", a, got, want)
			}
			cell := strings.TrimSpace(a)
			if cell == "" {
				cell = markdown.EmptyCell
			}
			tb := markdown.NewTable("H")
			tb.Row(markdown.Cell(a))
			if got := termtext.Render(tb.String(), termtext.Options{}); !strings.HasSuffix(got, "\n"+cell+"\n") {
				t.Fatalf("Cell(%q) rendered %q, want last line %q", a, got, cell)
			}
		}
	})
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// FuzzRenderRaw feeds arbitrary text, not only what the builders write: nothing may
// panic, and the output stays free of control characters whatever arrives.
func FuzzRenderRaw(f *testing.F) {
	f.Add(builderDoc("a", "b", "c"))
	f.Add("| a | b |\n| --- |\n| \\| | `x\\|` |\n")
	f.Add("<details><summary>&lt;x&gt;</summary>\n\n<details>\n\n</details>")
	f.Add("**a *b* `c` [d](http://e)** _f_ \x1b]0;title\x07")
	f.Fuzz(func(t *testing.T, md string) {
		for _, opt := range []termtext.Options{{}, {Color: true, Width: 20}} {
			out := stripSGR(termtext.Render(md, opt))
			for _, r := range out {
				if r != '\n' && (unicode.IsControl(r) || unicode.Is(unicode.Cf, r)) {
					t.Fatalf("control or format character %U in output:\n%q", r, out)
				}
			}
		}
	})
}
