// Package redact is the one place secrets are removed from text before a person or a
// log sees it: stdout, stderr, outputs, the step summary, check-run output, issue
// bodies and error messages all pass through one *Redactor, and every secret is
// registered with it once, where it enters the process.
//
// # Marker
//
// Every secret becomes Marker, "***". It is what the Actions runner itself prints for a
// masked value, so a secret hidden by the runner and one hidden by us read the same in
// a job log, and it is shorter than any registered secret, so redaction always shrinks
// the text (which is what makes the repeat-until-stable loop end).
//
// # Forms
//
// A secret is found in any spelling that some encoder on its way may have given it,
// character by character, so mixed spellings are found too:
//
//   - raw bytes;
//   - percent-escaped (query or path escaping, "+" for a space, any hex case, any
//     character over-escaped);
//   - behind one or more backslashes: the character itself (Markdown escaping, JSON's
//     \" \\ \/) or its JSON \uXXXX escape (surrogate pairs above U+FFFF, any hex
//     case); several backslashes are escapes stacked, as when a JSON report quotes
//     Markdown-escaped text ("ghs\\_..." for "ghs_...");
//   - JSON's short escapes of control characters (\b \f \n \r \t);
//   - HTML-escaped: &amp; &lt; &gt; &quot; &apos; and numeric &#N; / &#xH; references;
//   - invalid UTF-8 repaired to U+FFFD (raw, \ufffd or &#65533;);
//   - cut off: at least MinCut characters of the start of a secret, in any of the
//     spellings above (a partly written escape included), that end the text, a line, or
//     stand right before a truncation mark ("…" or "..."). A body read up to a cap or
//     truncated for display may end inside an echoed secret.
//
// Overlapping matches of different secrets are merged into one marker, and the text is
// redacted again until nothing changes, so no marker can join its neighbours into a new
// occurrence.
//
// # Registration
//
// Add registers a value and, separately, each of its lines trimmed of surrounding
// space (the runner and log readers see output line by line). A value or line shorter
// than MinLen bytes, or blank, is ignored: hiding "{" or "ab" would shred every line
// and protect nothing. A Redactor is safe for concurrent use.
package redact

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
)

// Marker replaces every registered secret.
const Marker = "***"

// MinLen is the shortest value, in bytes, that Add registers.
const MinLen = 4

// MinCut is the shortest start of a secret, in characters, that is redacted when it is
// cut off (see the package doc). Shorter starts are too common in ordinary text.
const MinCut = 4

// Redactor holds the registered secrets. The zero value is not usable; call New.
type Redactor struct {
	mu      sync.RWMutex
	values  map[string]bool
	secrets []*secret
	// first lists, per byte, the secrets one of whose spellings can start with it, so a
	// position is only tried against secrets that could start there.
	first [256][]*secret
}

// New returns a Redactor holding the given secrets (see Add).
func New(secrets ...string) *Redactor {
	r := &Redactor{values: map[string]bool{}}
	for _, s := range secrets {
		r.Add(s)
	}
	return r
}

// Add registers secret and returns the values that were new: the whole value and each
// trimmed line, those at least MinLen bytes long and not blank. A caller that must
// announce secrets elsewhere (::add-mask::) announces exactly these.
func (r *Redactor) Add(secret string) (added []string) {
	var pieces []string
	if len(secret) >= MinLen && strings.TrimSpace(secret) != "" {
		pieces = append(pieces, secret)
	}
	if strings.ContainsAny(secret, "\r\n") {
		for _, l := range strings.FieldsFunc(secret, func(c rune) bool { return c == '\n' || c == '\r' }) {
			if l = strings.TrimSpace(l); len(l) >= MinLen {
				pieces = append(pieces, l)
			}
		}
	}
	if len(pieces) == 0 {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range pieces {
		if r.values[p] {
			continue
		}
		r.values[p] = true
		sec := compile(p)
		r.secrets = append(r.secrets, sec)
		starts := map[byte]bool{}
		for _, sp := range sec.units[0].spellings {
			starts[sp.s[0]] = true
			if sp.fold {
				starts[lower(sp.s[0])], starts[upper(sp.s[0])] = true, true
			}
		}
		if len(sec.units[0].escaped) > 0 {
			starts['\\'] = true
		}
		for b := range starts {
			r.first[b] = append(r.first[b], sec)
		}
		added = append(added, p)
	}
	return added
}

// Len is the number of registered values.
func (r *Redactor) Len() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.values)
}

// Redact returns s with every registered secret, in every form, replaced by Marker. A
// nil Redactor returns s unchanged.
func (r *Redactor) Redact(s string) string {
	if r == nil {
		return s
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	if len(r.secrets) == 0 {
		return s
	}
	// Each pass that changes anything makes the text shorter (every match is longer
	// than Marker), so the loop ends.
	for {
		t := r.pass(s)
		if t == s {
			return s
		}
		s = t
	}
}

// Errorf formats like fmt.Errorf and redacts the message, keeping the wrapped chain for
// errors.Is and errors.As.
func (r *Redactor) Errorf(format string, args ...any) error {
	err := fmt.Errorf(format, args...)
	msg := r.Redact(err.Error())
	if msg == err.Error() {
		return err
	}
	return &redacted{msg: msg, err: err}
}

// Error returns err with a redacted message (nil for nil), keeping the chain.
func (r *Redactor) Error(err error) error {
	if err == nil {
		return nil
	}
	msg := r.Redact(err.Error())
	if msg == err.Error() {
		return err
	}
	return &redacted{msg: msg, err: err}
}

type redacted struct {
	msg string
	err error
}

func (e *redacted) Error() string { return e.msg }
func (e *redacted) Unwrap() error { return e.err }

// pass finds every match of every secret, merges overlapping ones and replaces each
// merged span with one Marker.
func (r *Redactor) pass(s string) string {
	type span struct{ from, to int }
	var spans []span
	for i := 0; i < len(s); i++ {
		end := i
		for _, sec := range r.first[s[i]] {
			if e, ok := sec.match(s, i); ok && e > end {
				end = e
			}
		}
		if end == i {
			continue
		}
		if n := len(spans); n > 0 && i < spans[n-1].to {
			spans[n-1].to = max(spans[n-1].to, end)
			continue
		}
		spans = append(spans, span{i, end})
	}
	if len(spans) == 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	last := 0
	for _, sp := range spans {
		b.WriteString(s[last:sp.from])
		b.WriteString(Marker)
		last = sp.to
	}
	b.WriteString(s[last:])
	return b.String()
}

func lower(b byte) byte {
	if b >= 'A' && b <= 'Z' {
		return b + 'a' - 'A'
	}
	return b
}

func upper(b byte) byte {
	if b >= 'a' && b <= 'z' {
		return b - ('a' - 'A')
	}
	return b
}

// spelling is one way a character of a secret can be written. fold spellings are
// escapes whose hex digits or entity names may come in either case.
type spelling struct {
	s    string
	fold bool
}

func (sp spelling) prefixOf(s string) bool {
	if len(s) < len(sp.s) || (s[0] != sp.s[0] && !sp.fold) {
		return false
	}
	if sp.fold {
		return strings.EqualFold(s[:len(sp.s)], sp.s)
	}
	return s[:len(sp.s)] == sp.s
}

// unit is one character of a secret (or a run of invalid bytes): the spellings it can
// take, and the spellings it can take after a run of backslashes (one or more: Markdown
// escaping, JSON escaping, and both stacked, as in a JSON report quoting escaped text).
type unit struct {
	spellings []spelling
	escaped   []spelling
}

// ends appends to out the positions where a spelling of u that starts at s[p] ends.
func (u *unit) ends(s string, p int, out []int) []int {
	for _, sp := range u.spellings {
		if sp.prefixOf(s[p:]) {
			out = addPos(out, p+len(sp.s))
		}
	}
	for q := p; q < len(s) && s[q] == '\\' && len(u.escaped) > 0; q++ {
		for _, sp := range u.escaped {
			if sp.prefixOf(s[q+1:]) {
				out = addPos(out, q+1+len(sp.s))
			}
		}
	}
	return out
}

func addPos(out []int, e int) []int {
	if slices.Contains(out, e) {
		return out
	}
	return append(out, e)
}

// secret is a registered value compiled to the spellings of each of its characters.
type secret struct {
	units []unit
}

func compile(v string) *secret {
	sec := &secret{}
	for i := 0; i < len(v); {
		r, size := utf8.DecodeRuneInString(v[i:])
		if r == utf8.RuneError && size == 1 {
			// A run of invalid bytes is one unit: some repairs write one U+FFFD for the
			// run (strings.ToValidUTF8), others one per byte (encoding/json).
			j := i + 1
			for j < len(v) {
				if r, size := utf8.DecodeRuneInString(v[j:]); r != utf8.RuneError || size != 1 {
					break
				}
				j++
			}
			sec.units = append(sec.units, invalidSpellings(v[i:j]))
			i = j
			continue
		}
		sec.units = append(sec.units, spellings(v[i:i+size], r))
		i += size
	}
	return sec
}

// percent is raw with every byte percent-escaped.
func percent(raw string) string {
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		fmt.Fprintf(&b, "%%%02X", raw[i])
	}
	return b.String()
}

// invalidSpellings lists the forms of a run of invalid UTF-8 bytes: raw, percent-escaped
// or repaired to U+FFFD (once for the run or once per byte) in any of its spellings.
func invalidSpellings(raw string) unit {
	u := unit{spellings: []spelling{{s: raw}, {s: percent(raw), fold: true}}}
	for _, n := range []int{1, len(raw)} {
		u.spellings = append(u.spellings,
			spelling{s: strings.Repeat("\uFFFD", n)},
			spelling{s: strings.Repeat("&#65533;", n)},
			spelling{s: strings.Repeat("&#xfffd;", n), fold: true})
		u.escaped = append(u.escaped, spelling{s: "ufffd" + strings.Repeat(`\ufffd`, n-1), fold: true})
		if len(raw) == 1 {
			break
		}
	}
	return u
}

// spellings lists the forms of one valid character (raw bytes raw, decoded as r).
func spellings(raw string, r rune) unit {
	u := unit{spellings: []spelling{{s: raw}}}
	add := func(s string, fold bool) {
		if !slices.Contains(u.spellings, spelling{s, fold}) {
			u.spellings = append(u.spellings, spelling{s, fold})
		}
	}
	add(percent(raw), true)
	if r == ' ' {
		add("+", false)
	}
	if short, ok := jsonShort[r]; ok {
		add(short, false)
	}
	if ent, ok := htmlNamed[r]; ok {
		add(ent, true)
	}
	add(fmt.Sprintf("&#%d;", r), false)
	add(fmt.Sprintf("&#x%x;", r), true)
	// After backslashes: the character itself (Markdown, and JSON's \" \\ \/) or its
	// JSON \u escape (a surrogate pair above U+FFFF).
	u.escaped = append(u.escaped, spelling{s: raw})
	if r1, r2 := utf16.EncodeRune(r); r1 != utf8.RuneError || r2 != utf8.RuneError {
		u.escaped = append(u.escaped, spelling{s: fmt.Sprintf(`u%04x\u%04x`, r1, r2), fold: true})
	} else {
		u.escaped = append(u.escaped, spelling{s: fmt.Sprintf(`u%04x`, r), fold: true})
	}
	return u
}

// jsonShort are JSON's short escapes of control characters (the others are covered by
// the backslash rule).
var jsonShort = map[rune]string{'\b': `\b`, '\f': `\f`, '\n': `\n`, '\r': `\r`, '\t': `\t`}

var htmlNamed = map[rune]string{'&': "&amp;", '<': "&lt;", '>': "&gt;", '"': "&quot;", '\'': "&apos;"}

// match reports where a spelling of sec starting at s[i] ends: a whole one, or a cut-off
// start of at least MinCut characters at a cut boundary. The longest is taken. Several
// spellings of one character can share a start ('%' raw and "%25"), so the matcher
// follows every reachable position, not one greedy choice.
func (sec *secret) match(s string, i int) (int, bool) {
	var b1, b2 [8]int // most characters have one or two spellings present at a time
	cur, next := append(b1[:0], i), b2[:0]
	for k := range sec.units {
		next = next[:0]
		for _, p := range cur {
			next = sec.units[k].ends(s, p, next)
		}
		if len(next) == 0 {
			if k < MinCut {
				return 0, false
			}
			return cutEnd(s, cur)
		}
		cur, next = next, cur
	}
	return slices.Max(cur), true
}

// cutEnd finds, among the positions reached after a secret's start, one at which the
// text is cut: possibly after part of the next character's escape ("%2", "\u00", "\\"),
// then the end of the text, a line break or a truncation mark.
func cutEnd(s string, cur []int) (int, bool) {
	best, found := 0, false
	for _, p := range cur {
		e := p
		for e < len(s) && e-p < maxEscape && strings.IndexByte(escapeBytes, s[e]) >= 0 {
			e++
		}
		for ; e >= p; e-- {
			if cutBoundary(s[e:]) {
				if !found || e > best {
					best, found = e, true
				}
				break
			}
		}
	}
	return best, found
}

// escapeBytes can make up the start of an escape; maxEscape bounds how many of them a
// cut escape leaves (the longest is a surrogate pair, \uD83D\uDD11, behind backslashes).
const (
	escapeBytes = `\%&#;xXuU0123456789abcdefABCDEF`
	maxEscape   = 16
)

func cutBoundary(rest string) bool {
	return rest == "" || rest[0] == '\n' || rest[0] == '\r' ||
		strings.HasPrefix(rest, "…") || strings.HasPrefix(rest, "...")
}
