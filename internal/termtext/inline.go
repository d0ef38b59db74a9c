package termtext

import (
	"html"
	"strings"

	"github.com/agentme/release-action/internal/untrusted"
)

// style is a set of text attributes; they become SGR codes only when colour is on.
type style uint8

const (
	bold style = 1 << iota
	italic
	underline
	code
)

// span is a run of plain text (no Markdown, no escapes) with one style.
type span struct {
	text  string
	style style
}

// line is one rendered line: its spans, in order.
type line []span

func (l line) plain() string {
	var b strings.Builder
	for _, s := range l {
		b.WriteString(s.text)
	}
	return b.String()
}

func (l line) width() int {
	w := 0
	for _, s := range l {
		w += Width(s.text)
	}
	return w
}

// inline renders one line of inline Markdown into spans: backslash escapes and HTML
// entities are undone, code spans give their content, links become "text (url)",
// emphasis markers go (their style stays). Anything that is not one of these
// constructs is kept literally, so no input is lost or can panic.
func inline(s string, base style) line {
	p := &inlineParser{}
	p.parse(s, base)
	p.flush()
	return p.out
}

type inlineParser struct {
	out   line
	buf   strings.Builder
	style style
}

func (p *inlineParser) flush() {
	if p.buf.Len() == 0 {
		return
	}
	p.emit(p.buf.String(), p.style)
	p.buf.Reset()
}

func (p *inlineParser) emit(text string, st style) {
	// Every piece of text is cleaned here, at the one place spans are made: whatever
	// reached the Markdown, no control character or escape sequence reaches the terminal.
	text = untrusted.Clean(text)
	if text == "" {
		return
	}
	if n := len(p.out); n > 0 && p.out[n-1].style == st {
		p.out[n-1].text += text
		return
	}
	p.out = append(p.out, span{text: text, style: st})
}

func (p *inlineParser) parse(s string, st style) {
	p.flush()
	saved := p.style
	p.style = st
	defer func() { p.flush(); p.style = saved }()
	for i := 0; i < len(s); {
		c := s[i]
		switch c {
		case '\\':
			if i+1 < len(s) && isASCIIPunct(s[i+1]) {
				p.buf.WriteByte(s[i+1])
				i += 2
				continue
			}
		case '&':
			if n := entityLen(s[i:]); n > 0 {
				p.buf.WriteString(html.UnescapeString(s[i : i+n]))
				i += n
				continue
			}
		case '`':
			if n, content := codeSpan(s[i:]); n > 0 {
				p.flush()
				p.emit(content, st|code)
				i += n
				continue
			}
			// An unmatched backtick run is literal as a whole (CommonMark).
			j := i
			for j < len(s) && s[j] == '`' {
				j++
			}
			p.buf.WriteString(s[i:j])
			i = j
			continue
		case '[':
			if n, label, dest := link(s[i:]); n > 0 {
				url := html.UnescapeString(dest)
				if sameAddress(plainInline(label), url) {
					p.buf.WriteString(url)
				} else {
					p.parse(label, st)
					p.buf.WriteString(" (" + url + ")")
				}
				i += n
				continue
			}
		case '*', '_':
			if n, inner, add := emphasis(s, i); n > 0 {
				p.parse(inner, st|add)
				i += n
				continue
			}
		}
		p.buf.WriteByte(c)
		i++
	}
}

// sameAddress reports whether a link's text only repeats its URL ("gateway.example" for
// https://gateway.example/): then the URL alone is shown, once.
func sameAddress(text, url string) bool {
	text = strings.TrimSuffix(strings.TrimSpace(text), "/")
	u := strings.TrimSuffix(url, "/")
	return text == u || "https://"+text == u || "http://"+text == u
}

// plainInline is the text of inline Markdown without any style.
func plainInline(s string) string { return inline(s, 0).plain() }

func isASCIIPunct(c byte) bool {
	return c >= '!' && c <= '/' || c >= ':' && c <= '@' || c >= '[' && c <= '`' || c >= '{' && c <= '~'
}

// entityLen is the length of the HTML entity reference at the start of s, or 0.
func entityLen(s string) int {
	if len(s) < 3 || s[0] != '&' {
		return 0
	}
	i := 1
	switch {
	case s[i] == '#' && i+1 < len(s) && (s[i+1] == 'x' || s[i+1] == 'X'):
		i += 2
		for i < len(s) && i <= 9 && isHex(s[i]) {
			i++
		}
		if i == 3 {
			return 0
		}
	case s[i] == '#':
		i++
		for i < len(s) && i <= 9 && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == 2 {
			return 0
		}
	default:
		for i < len(s) && i <= 32 && isAlnum(s[i]) {
			i++
		}
		if i == 1 {
			return 0
		}
	}
	if i < len(s) && s[i] == ';' && html.UnescapeString(s[:i+1]) != s[:i+1] {
		return i + 1
	}
	return 0
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// codeSpan matches a code span at the start of s (CommonMark: a closing backtick run of
// the same length) and returns its length and content, with the one padding space that
// markdown.Code adds on each side removed.
func codeSpan(s string) (int, string) {
	open := 0
	for open < len(s) && s[open] == '`' {
		open++
	}
	for i := open; i < len(s); {
		if s[i] != '`' {
			i++
			continue
		}
		j := i
		for j < len(s) && s[j] == '`' {
			j++
		}
		if j-i == open {
			content := s[open:i]
			if len(content) >= 2 && content[0] == ' ' && content[len(content)-1] == ' ' && strings.Trim(content, " ") != "" {
				content = content[1 : len(content)-1]
			}
			return j, content
		}
		i = j
	}
	return 0, ""
}

// link matches "[label](dest)" at the start of s, as markdown.Link writes it: the label
// has its brackets escaped, the destination has no space or parenthesis.
func link(s string) (n int, label, dest string) {
	depth := 0
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '`':
			// A code span inside the label hides its brackets.
			if m, _ := codeSpan(s[i:]); m > 0 {
				i += m - 1
			}
		case '[':
			depth++
		case ']':
			if depth > 0 {
				depth--
				continue
			}
			if i+1 >= len(s) || s[i+1] != '(' {
				return 0, "", ""
			}
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				return 0, "", ""
			}
			dest = s[i+2 : i+2+end]
			if dest == "" || strings.ContainsAny(dest, " \t(<") {
				return 0, "", ""
			}
			return i + 2 + end + 1, s[1:i], dest
		}
	}
	return 0, "", ""
}

// emphasis matches "**x**", "*x*" or "_x_" starting at s[i]. The closer must be in the
// same text and not escaped; '_' only opens and closes at word boundaries, as in GFM, so
// snake_case in raw text stays literal.
func emphasis(s string, i int) (n int, inner string, add style) {
	c := s[i]
	delim := s[i : i+1]
	add = italic
	if c == '*' && strings.HasPrefix(s[i:], "**") {
		delim, add = "**", bold
	}
	if c == '_' && i > 0 && isAlnum(s[i-1]) {
		return 0, "", 0
	}
	start := i + len(delim)
	if start >= len(s) || s[start] == ' ' {
		return 0, "", 0
	}
	for j := start; j < len(s); j++ {
		switch {
		case s[j] == '\\':
			j++
		case s[j] == '`':
			if m, _ := codeSpan(s[j:]); m > 0 {
				j += m - 1
			}
		case strings.HasPrefix(s[j:], delim) && j > start && s[j-1] != ' ':
			if delim == "*" && strings.HasPrefix(s[j:], "**") {
				j++ // a "**" inside "*x*" is bold, not the closer
				continue
			}
			end := j + len(delim)
			if c == '_' && end < len(s) && isAlnum(s[end]) {
				continue
			}
			return end - i, s[start:j], add
		}
	}
	return 0, "", 0
}
