package smoke

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/agentme/release-action/internal/redact"
)

const (
	maxGatewayText = 200 // runes of one piece of gateway text quoted in a Detail
	maxDetail      = 600 // runes of a whole Detail or progress line
)

// redactor scrubs every string that leaves the package. Gateway text is untrusted: a
// broken or hostile gateway may echo the credential or a bootstrap code in an error
// message (in any escaping, or cut at the read cap), or send terminal escapes and
// workflow-command lookalikes. shared is the process's one redactor (Options.Redactor):
// the configured credential and the bootstrap codes go there, so they are hidden
// wherever else they could surface. local holds the random wrong credentials and the
// tampered codes, worthless outside this run, so a long monitor does not grow the
// shared list. Neither ever holds a credential returned by an exchange (that one is
// dropped right after the comparison), which is why no gateway text from an exchange
// answer is quoted at all.
type redactor struct {
	shared, local *redact.Redactor
}

func newRedactor(shared *redact.Redactor) *redactor {
	if shared == nil {
		shared = redact.New()
	}
	return &redactor{shared: shared, local: redact.New()}
}

// add registers a secret with the shared redactor.
func (r *redactor) add(secret string) { r.shared.Add(secret) }

// addLocal registers a value that only this run must hide.
func (r *redactor) addLocal(secret string) { r.local.Add(secret) }

func (r *redactor) redact(s string) string { return r.local.Redact(r.shared.Redact(s)) }

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
	// Again after the spaces collapse: that can rebuild a secret with a space in it.
	s = r.redact(strings.Join(strings.Fields(r.redact(s)), " "))
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
	return `"` + r.redact(strings.ReplaceAll(s, `"`, `'`)) + `"`
}
