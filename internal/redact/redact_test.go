package redact_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io/fs"
	"net/url"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/markdown"
	"github.com/agentme/release-action/internal/redact"
)

const tok = "ghp_Ab/c+d&e<f>\"g'h i%j\\k"

// forms are the spellings encoders give a secret; every one must be redacted.
func forms(secret string) map[string]string {
	jsonForm := func(html bool) string {
		var b strings.Builder
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(html)
		_ = enc.Encode(secret)
		v := strings.TrimSuffix(b.String(), "\n")
		return v[1 : len(v)-1]
	}
	var ascii, upper strings.Builder // Python's ensure_ascii, and every character \u-escaped in upper case
	for _, r := range strings.ToValidUTF8(secret, "\uFFFD") {
		if r < 0x80 && r >= ' ' && r != '"' && r != '\\' {
			ascii.WriteRune(r)
		} else if r < 0x10000 {
			fmt.Fprintf(&ascii, `\u%04x`, r)
		} else {
			r1, r2 := rune(0xD800+((r-0x10000)>>10)), rune(0xDC00+((r-0x10000)&0x3FF))
			fmt.Fprintf(&ascii, `\u%04x\u%04x`, r1, r2)
		}
		if r < 0x10000 {
			fmt.Fprintf(&upper, `\u%04X`, r)
		}
	}
	f := map[string]string{
		"raw":            secret,
		"query":          url.QueryEscape(secret),
		"path":           url.PathEscape(secret),
		"json":           jsonForm(false),
		"json html":      jsonForm(true),
		"json ascii":     ascii.String(),
		"json slash":     strings.ReplaceAll(jsonForm(false), "/", `\/`),
		"html":           html.EscapeString(secret),
		"utf8 repaired":  strings.ToValidUTF8(secret, "\uFFFD"),
		"lower-case hex": lowerHex(url.QueryEscape(secret)),
	}
	if utf8.ValidString(secret) && !strings.ContainsFunc(secret, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		f["markdown"] = markdown.Escape(secret)
	}
	if !strings.ContainsFunc(secret, func(r rune) bool { return r >= 0x10000 }) {
		f["json all upper"] = upper.String()
	}
	return f
}

func TestRedactForms(t *testing.T) {
	for _, secret := range []string{tok, "s3cr3t-token", "pässwörd✓", "emoji🔑key", "a/b/c/d", "bad\xffbyte"} {
		r := redact.New(secret)
		for name, form := range forms(secret) {
			t.Run(fmt.Sprintf("%q/%s", secret, name), func(t *testing.T) {
				in := `{"message":"Bad credentials: ` + form + `","doc":"x"}`
				out := r.Redact(in)
				assert.NotContains(t, out, form)
				assert.Contains(t, out, redact.Marker)
				assert.True(t, strings.HasPrefix(out, `{"message":"Bad credentials: `), out)
				assert.True(t, strings.HasSuffix(out, `","doc":"x"}`), out)
			})
		}
	}
}

func TestRedactTable(t *testing.T) {
	tests := []struct {
		name    string
		secrets []string
		in      string
		want    string
	}{
		{"nothing registered", nil, "token abcd", "token abcd"},
		{"raw", []string{"abcdef"}, "x abcdef y", "x *** y"},
		{"twice", []string{"abcdef"}, "abcdef abcdef", "*** ***"},
		{"percent lower case", []string{"a/b c"}, "u=a%2fb+c&", "u=***&"},
		{"percent upper case path", []string{"a/b c"}, "/a%2Fb%20c/", "/***/"},
		{"over-escaped letters", []string{"abcd"}, "%61%62%63%64", "***"},
		{"json unicode", []string{"<tok>"}, `"\u003ctok\u003e"`, `"***"`},
		{"json escaped slash", []string{"a/b/c"}, `"a\/b\/c"`, `"***"`},
		{"json surrogate pair", []string{"k🔑ey"}, `"k\ud83d\udd11ey"`, `"***"`},
		{"html entities", []string{`a&b"c`}, "a&amp;b&quot;c", "***"},
		{"html numeric", []string{"a'bc"}, "a&#39;bc a&#x27;bc", "*** ***"},
		{"markdown", []string{"a_b*c"}, `a\_b\*c`, "***"},
		{"mixed spellings", []string{"a/b c"}, `a\/b%20c`, "***"},
		{"cut at end", []string{"abcdefghij"}, "body: abcdef", "body: ***"},
		{"cut inside escape", []string{"abcd/efgh"}, "body: abcd%2", "body: ***"},
		{"cut before ellipsis", []string{"abcdefghij"}, "body: abcdefg…", "body: ***…"},
		{"cut before dots", []string{"abcdefghij"}, "body: abcdefg... (truncated)", "body: ***... (truncated)"},
		{"cut at line end", []string{"abcdefghij"}, "abcde\nnext", "***\nnext"},
		{"short start kept", []string{"abcdefghij"}, "abc", "abc"},
		{"start in middle kept", []string{"abcdefghij"}, "abcdef and more", "abcdef and more"},
		{"too short ignored", []string{"abc", "   ", ""}, "abc", "abc"},
		{"lines registered", []string{"line-one\n  line-two  \nx"}, "line-two", "***"},
		{"overlapping secrets merge", []string{"abcd", "cdefgh"}, "abcdefgh!", "***!"},
		{"nested secrets", []string{"abcd", "xxabcdxx"}, "xxabcdxx abcd", "*** ***"},
		{"marker rebuilds a secret", []string{"x***"}, "xx***", "***"},
		{"invalid utf8 repaired", []string{"ab\xffcd"}, "ab\uFFFDcd ab\\ufffdcd", "*** ***"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := redact.New(tc.secrets...)
			assert.Equal(t, tc.want, r.Redact(tc.in))
		})
	}
}

func TestAddReturnsNewValues(t *testing.T) {
	r := redact.New()
	assert.Equal(t, []string{"one\ntwo-two", "two-two"}, r.Add("one\ntwo-two"), "the value and its long enough lines")
	assert.Nil(t, r.Add("one\ntwo-two"), "nothing is new the second time")
	assert.Equal(t, []string{"three-3"}, r.Add("three-3"))
	assert.Nil(t, r.Add("ab"))
	assert.Equal(t, 3, r.Len())
}

func TestNilRedactorPassesThrough(t *testing.T) {
	var r *redact.Redactor
	assert.Equal(t, "abcdef", r.Redact("abcdef"))
}

func TestErrorKeepsChain(t *testing.T) {
	r := redact.New("sekrit-value")
	err := r.Errorf("open %s: %w", "sekrit-value", fs.ErrNotExist)
	assert.Equal(t, "open ***: file does not exist", err.Error())
	assert.True(t, errors.Is(err, fs.ErrNotExist))
	assert.Nil(t, r.Error(nil))
	plain := errors.New("fine")
	assert.Same(t, plain, r.Error(plain))
	assert.Equal(t, "*** leaked", r.Error(errors.New("sekrit-value leaked")).Error())
}

func TestConcurrentUse(t *testing.T) {
	r := redact.New()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			r.Add(fmt.Sprintf("secret-%d", i))
		}()
		go func() {
			defer wg.Done()
			_ = r.Redact("secret-1 secret-2 secret-3")
		}()
	}
	wg.Wait()
	assert.Equal(t, "*** *** ***", r.Redact("secret-1 secret-2 secret-3"))
}

// FuzzRedact: no registered secret survives, whole or cut, in any form, whatever
// surrounds it.
func FuzzRedact(f *testing.F) {
	f.Add(tok, "prefix ", " suffix")
	f.Add("abcd", "", "")
	f.Add("x***", "xx", "**")
	f.Add("pässwörd✓", `{"m":"`, `"}`)
	f.Add("emoji🔑key", "%", "\\")
	f.Add("bad\xffbyte", "&#", ";")
	f.Fuzz(func(t *testing.T, secret, before, after string) {
		r := redact.New()
		added := r.Add(secret)
		for _, v := range added {
			for name, form := range forms(v) {
				for _, in := range []string{before + form + after, before + form, before + cut(form)} {
					out := r.Redact(in)
					for _, w := range added {
						for _, g := range forms(w) {
							require.NotContains(t, out, g, "%s form of %q survived in %q", name, w, in)
						}
					}
				}
			}
		}
	})
}

// lowerHex writes the hex digits of percent escapes in lower case.
func lowerHex(s string) string {
	b := []byte(s)
	for i := 0; i+2 < len(b); i++ {
		if b[i] == '%' {
			copy(b[i+1:i+3], strings.ToLower(string(b[i+1:i+3])))
		}
	}
	return string(b)
}

// cut drops the last byte of a form (a body cut at its read cap).
func cut(form string) string {
	if len(form) <= 1 {
		return form
	}
	return form[:len(form)-1]
}
