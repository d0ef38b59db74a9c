// Package markdown renders untrusted text (check names, log lines, gateway messages)
// safely in GitHub-flavoured Markdown: step summaries, check run output and release
// bodies. Every helper returns text that cannot open a tag, a link, a table cell, a
// code span or a block of its own, whatever the input.
package markdown

import (
	"html"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// EmptyCell is what Cell renders for an empty value, so a blank cell reads as
// "nothing here" rather than as a rendering bug.
const EmptyCell = "–"

// mdPunct are the ASCII characters that Markdown (CommonMark, GFM tables,
// strikethrough and GitHub's $math$) can give a meaning to anywhere on a line. They
// are backslash-escaped; CommonMark renders "\X" as X for any ASCII punctuation X.
const mdPunct = "\\`*_{}[]()#+-!|~=$"

// Escape renders s as inline Markdown text that shows exactly s: Markdown punctuation
// is backslash-escaped, & < > become HTML entities (so no tag or entity can open),
// line breaks and tabs collapse to one space (so the text never leaves its line or
// table row), control and bidi-override characters are dropped and invalid UTF-8
// becomes U+FFFD. Context-sensitive starts are escaped too: a leading ':' (so the line
// can never read as a workflow command "::x::") and the '.' of a leading "12." (an
// ordered-list marker).
func Escape(s string) string {
	t := normalize(s)
	lead := strings.IndexFunc(t, func(r rune) bool { return r != ' ' })
	escapeAt := -1 // byte index of one context-sensitive character to escape
	if lead >= 0 {
		if t[lead] == ':' {
			escapeAt = lead
		} else if n := leadingDigits(t[lead:]); n > 0 && n <= 9 && lead+n < len(t) && t[lead+n] == '.' {
			escapeAt = lead + n
		}
	}
	var b strings.Builder
	b.Grow(len(t) + len(t)/4)
	for i, r := range t {
		switch {
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r < utf8.RuneSelf && strings.IndexByte(mdPunct, byte(r)) >= 0, i == escapeAt, opensAutolink(t, i):
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// opensAutolink reports whether the byte at i is what lets GitHub's extended autolinks
// turn plain text into a link: the ':' of "scheme://", the '@' of an e-mail address (or a
// mention), or the '.' of a "www." at a word start. Escaping that one character keeps
// untrusted text from becoming a clickable link.
func opensAutolink(t string, i int) bool {
	switch t[i] {
	case '@':
		return true
	case ':':
		return strings.HasPrefix(t[i+1:], "//")
	case '.':
		if i < 3 || !strings.EqualFold(t[i-3:i], "www") {
			return false
		}
		if i == 3 {
			return true
		}
		c := t[i-4]
		return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-')
	}
	return false
}

// Cell renders s for a GFM table cell: Escape (which already turns '|' into "\|" and
// removes line breaks, the two ways to break a row), with an en dash for a blank value.
func Cell(s string) string {
	e := Escape(s)
	if strings.TrimSpace(e) == "" {
		return EmptyCell
	}
	return e
}

// Code renders s as an inline code span that cannot end early: the fence is one
// backtick longer than the longest backtick run in s, and the content is padded with a
// space where CommonMark would otherwise merge it with the fence or strip it. Line
// breaks become spaces (a code span cannot span table rows); control characters are
// dropped. An empty s renders as a code span holding one space.
//
// A '|' is kept as is: outside a table it must not be escaped (the backslash would
// show). Table.Row escapes it for cells, which is correct inside code spans too (GFM
// removes the backslash before it parses the cell).
func Code(s string) string {
	t := normalize(s)
	if t == "" {
		return "` `"
	}
	longest, run := 0, 0
	for i := 0; i < len(t); i++ {
		if t[i] == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	pad := ""
	allSpaces := strings.Trim(t, " ") == ""
	if t[0] == '`' || t[len(t)-1] == '`' || (!allSpaces && t[0] == ' ' && t[len(t)-1] == ' ') {
		// CommonMark strips exactly one space from each side when both are present,
		// so the padding is invisible and the content is shown intact.
		pad = " "
	}
	return fence + pad + t + pad + fence
}

// Link renders [text](url) when url is an absolute http or https URL without
// credentials; the destination is percent-encoded where Markdown would otherwise end or
// reinterpret it (spaces, parentheses, angle brackets, quotes, backslashes, pipes,
// non-ASCII) and '&' is written as an entity. Any other url (relative, javascript:,
// with user:password@, with control characters or unparsable) yields Escape(text)
// alone, so untrusted URLs never become links and credentials are never shown. An
// empty text shows the (encoded) URL.
func Link(text, rawURL string) string {
	label := Escape(text)
	dest, ok := safeURL(rawURL)
	if !ok {
		return label
	}
	if strings.TrimSpace(label) == "" {
		label = Escape(html.UnescapeString(dest))
	}
	return "[" + label + "](" + dest + ")"
}

// Details renders a collapsed section. The summary is HTML-escaped rather than
// Markdown-escaped: GitHub treats the <details><summary> line as an HTML block, where
// backslash escapes would show literally. body is already-rendered Markdown; the blank
// lines around it let GitHub render it as Markdown.
func Details(summary, body string) string {
	s := strings.TrimSpace(normalize(summary))
	if s == "" {
		s = "Details"
	}
	return "<details><summary>" + html.EscapeString(s) + "</summary>\n\n" + body + "\n\n</details>"
}

// safeURL returns the Markdown link destination for raw, or false when raw must not
// become a link.
func safeURL(raw string) (string, bool) {
	raw = strings.TrimSpace(raw)
	if raw == "" || !utf8.ValidString(raw) {
		return "", false
	}
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c < 0x20 || c == 0x7f:
			return "", false
		case c == '&':
			b.WriteString("&amp;")
		case c >= 0x80 || strings.IndexByte(" ()<>\"`\\|{}^", c) >= 0:
			const hexDigits = "0123456789ABCDEF"
			b.Write([]byte{'%', hexDigits[c>>4], hexDigits[c&0x0f]})
		default:
			b.WriteByte(c)
		}
	}
	dest := b.String()
	u, err := url.Parse(html.UnescapeString(dest))
	if err != nil || u.Opaque != "" || u.User != nil || u.Host == "" {
		return "", false
	}
	if s := strings.ToLower(u.Scheme); s != "http" && s != "https" {
		return "", false
	}
	return dest, true
}

func leadingDigits(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}

// normalize makes s one line of printable text: invalid UTF-8 becomes U+FFFD, every
// run of line breaks and tabs becomes one space, and control, bidi and other invisible
// formatting characters are dropped (they can hide or reorder what a reader sees).
func normalize(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	pending := false
	for _, r := range s { // an invalid byte arrives as utf8.RuneError, written as U+FFFD
		switch {
		case isBreak(r):
			pending = true
		case isInvisible(r):
		default:
			if pending {
				b.WriteByte(' ')
				pending = false
			}
			b.WriteRune(r)
		}
	}
	if pending {
		b.WriteByte(' ')
	}
	return b.String()
}

func isBreak(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', 0x85, 0x2028, 0x2029:
		return true
	}
	return false
}

// isInvisible reports control characters and format characters (bidi overrides and
// isolates, zero-width characters, BOM, soft hyphen, ...).
func isInvisible(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) ||
		unicode.Is(unicode.Variation_Selector, r) || unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r)
}
