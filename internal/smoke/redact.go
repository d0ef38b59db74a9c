package smoke

import (
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

const (
	redactedMark   = "[redacted]"
	maxGatewayText = 200 // runes of one piece of gateway text quoted in a Detail
	maxDetail      = 600 // runes of a whole Detail or progress line
)

// redactor scrubs every string that leaves the package. Gateway text is untrusted: a
// broken or hostile gateway may echo the credential or a bootstrap code in an error
// message, or send terminal escapes and workflow-command lookalikes. The list holds the
// configured credential, the random wrong credentials and the bootstrap codes; it never
// holds a credential returned by an exchange (that one is dropped right after the
// comparison), which is why no gateway text from an exchange answer is quoted at all.
type redactor struct {
	mu      sync.Mutex
	secrets []string
}

func (r *redactor) add(secret string) {
	if secret == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, form := range append([]string{secret, url.QueryEscape(secret), url.PathEscape(secret)}, jsonForms(secret)...) {
		if form != "" && !slices.Contains(r.secrets, form) {
			r.secrets = append(r.secrets, form)
		}
	}
}

// jsonForms are the spellings a secret takes inside a JSON string, with and without
// Go's HTML escaping (a gateway that echoes a credential in a JSON error body sends one
// of them).
func jsonForms(secret string) []string {
	var out []string
	for _, html := range []bool{true, false} {
		var b strings.Builder
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(html)
		if enc.Encode(secret) == nil {
			out = append(out, strings.TrimSuffix(strings.TrimSuffix(b.String(), "\n"), "\"")[1:])
		}
	}
	return out
}

// minPartial is the shortest tail of a secret that is redacted when a text ends with
// it: gateway bodies are read up to a cap, so an echoed secret can be cut anywhere.
const minPartial = 4

// clean strips control characters, redacts secrets and bounds the length.
func (r *redactor) clean(s string, limit int) string {
	s = strings.Map(func(c rune) rune {
		switch {
		case c == '\n' || c == '\r' || c == '\t':
			return ' '
		case unicode.IsControl(c) || c == utf8.RuneError:
			return -1
		}
		return c
	}, s)
	r.mu.Lock()
	// Longest first, so a secret that contains another is removed whole.
	secrets := append([]string(nil), r.secrets...)
	r.mu.Unlock()
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	for _, sec := range secrets {
		s = strings.ReplaceAll(s, sec, redactedMark)
	}
	// A body cut at its read cap may end in the first part of a secret.
	for _, sec := range secrets {
		for k := len(sec) - 1; k >= minPartial; k-- {
			if strings.HasSuffix(s, sec[:k]) {
				s = s[:len(s)-k] + redactedMark
				break
			}
		}
	}
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > limit {
		s = string([]rune(s)[:limit]) + "…"
	}
	return s
}

// quote renders untrusted gateway text for a Detail: cleaned, bounded and quoted.
func (r *redactor) quote(s string) string {
	s = r.clean(s, maxGatewayText)
	if s == "" {
		return `""`
	}
	return `"` + strings.ReplaceAll(s, `"`, `'`) + `"`
}
