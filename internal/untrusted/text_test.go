package untrusted

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
)

func TestClean(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain", "plain"},
		{"two\nlines\r\n", "two lines  "},
		{"bidi\u202eevil", "bidievil"},
		{"zero\u200bwidth", "zerowidth"},
		{"bad\xffutf8", "badutf8"},
		{"tab\there", "tab here"},
	} {
		assert.Equal(t, tc.want, Clean(tc.in), "%q", tc.in)
	}
}

func TestCutAndOneLine(t *testing.T) {
	assert.Equal(t, "abc", Cut("abc", 3))
	assert.Equal(t, "ab…", Cut("abcd", 3))
	assert.Equal(t, "äö…", Cut("äöüß", 3), "cuts on rune boundaries")
	assert.Equal(t, "", Cut("abc", 0))
	assert.Equal(t, "a b c", OneLine("a \n\n b\t\tc", 10))
	assert.Equal(t, "4f6c2a9", ShortSHA("4f6c2a9e81d3b5a7c0e9f1d2b3a4c5d6e7f80912"))
	assert.Equal(t, "ab", ShortSHA("a\nb"[0:1]+"b"))
}

func FuzzOneLine(f *testing.F) {
	for _, s := range []string{"", "a\nb", "\u202e", "\xff\xfe", strings.Repeat("é", 300)} {
		f.Add(s, 50)
	}
	f.Fuzz(func(t *testing.T, s string, max int) {
		if max < 1 || max > 1000 {
			return
		}
		got := OneLine(s, max)
		if !utf8.ValidString(got) {
			t.Fatalf("invalid UTF-8 %q", got)
		}
		if utf8.RuneCountInString(got) > max {
			t.Fatalf("%d runes > %d", utf8.RuneCountInString(got), max)
		}
		if strings.ContainsAny(got, "\n\r\u202e") {
			t.Fatalf("line break or bidi override survived: %q", got)
		}
	})
}
