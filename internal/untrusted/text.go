// Package untrusted makes untrusted text (check names, log lines, gateway messages, commit
// SHAs from API answers) safe for one line of progress, a reason, a status description
// or a table cell, before any Markdown or workflow-command escaping is applied.
package untrusted

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Clean makes s one printable line: control characters (newlines included) become
// spaces; invisible format characters (bidi overrides, zero-width) and invalid UTF-8
// are dropped, so nothing can hide or reorder what an operator reads.
func Clean(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i, w := 0, 0; i < len(s); i += w {
		r, n := utf8.DecodeRuneInString(s[i:])
		w = n
		switch {
		case r == utf8.RuneError && n <= 1:
		case unicode.IsControl(r):
			b.WriteByte(' ')
		case unicode.Is(unicode.Cf, r):
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Cut shortens s to at most max runes, ending in "…" when something was cut.
func Cut(s string, max int) string {
	if max <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	n := 0
	for i := range s {
		if n == max-1 {
			return s[:i] + "…"
		}
		n++
	}
	return s
}

// OneLine cleans s, collapses runs of white space to one space and cuts it to max runes.
func OneLine(s string, max int) string {
	return Cut(strings.Join(strings.Fields(Clean(s)), " "), max)
}

// ShortSHA is the first 7 characters of a commit SHA, cleaned (SHAs in API answers are
// untrusted too).
func ShortSHA(sha string) string {
	sha = Clean(sha)
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}
