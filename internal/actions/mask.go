package actions

import (
	"encoding/json"
	"html"
	"io"
	"slices"
	"strings"

	"github.com/agentme/release-action/internal/markdown"
)

// MinSecretLen is the shortest value AddMask registers. Shorter values (and blank
// ones) are ignored: masking "{" or "ab" would shred every log line, and the runner
// would do the same to the whole job log. It also guarantees that replacing a secret
// with "***" always shortens the text, so redaction terminates.
const MinSecretLen = 4

// Redacted replaces every registered secret.
const Redacted = "***"

// AddMask registers a secret: the whole value, and each line of it on its own
// (trimmed), since the runner and this package see output line by line. Values
// shorter than MinSecretLen or blank are skipped. In Actions mode each new single-line
// value is announced with ::add-mask:: so the runner masks it in the job log too. From
// then on the value, and the forms Markdown escaping gives it, is replaced with "***"
// in everything the Runner writes to stdout and to the step summary (not in outputs).
func (r *Runner) AddMask(secret string) { r.register(secret, true) }

// Protect registers a secret for redaction like AddMask but never writes it, not even
// in an ::add-mask:: line. It is for secrets the runner already masks: values that
// reach the action as inputs or environment from `secrets.*` or `github.token` are
// registered with the runner's masker before the container starts, and echoing them
// in ::add-mask:: would only put the raw value into the step's raw stdout stream,
// where log forwarders and anyone reading the container's output would see it.
func (r *Runner) Protect(secret string) { r.register(secret, false) }

func (r *Runner) register(secret string, announce bool) {
	var pieces []string
	if len(secret) >= MinSecretLen && strings.TrimSpace(secret) != "" {
		pieces = append(pieces, secret)
	}
	for _, l := range splitRunnerLines(secret) {
		if l = strings.TrimSpace(l); len(l) >= MinSecretLen {
			pieces = append(pieces, l)
		}
	}
	if len(pieces) == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	changed := false
	for _, p := range pieces {
		if r.announced[p] {
			continue
		}
		r.announced[p] = true
		r.secrets[p] = true
		changed = true
		if announce && r.actions && !strings.ContainsAny(p, "\r\n") {
			// Written directly: this is the one line that must carry the secret.
			_, _ = io.WriteString(r.out, "::add-mask::"+EscapeData(p)+"\n")
		}
		// A secret that reached untrusted text is escaped (or its invalid UTF-8
		// repaired) with it before it is written; mask those spellings too.
		for _, v := range append([]string{markdown.Escape(p), html.EscapeString(p), sanitizeUTF8(p)}, jsonSpellings(p)...) {
			if len(v) >= MinSecretLen && strings.TrimSpace(v) != "" {
				r.secrets[v] = true
			}
		}
	}
	if changed {
		r.rebuildRedactor()
	}
}

// jsonSpellings are the forms a secret takes inside a JSON string (with and without
// HTML escaping): an error body echoed by a server may carry it that way.
func jsonSpellings(secret string) []string {
	var out []string
	for _, htmlEscape := range []bool{true, false} {
		var b strings.Builder
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(htmlEscape)
		if enc.Encode(secret) == nil {
			if v := strings.TrimSuffix(b.String(), "\n"); len(v) >= 2 {
				out = append(out, v[1:len(v)-1])
			}
		}
	}
	return out
}

// Redact replaces every registered secret in s with "***".
func (r *Runner) Redact(s string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.redact(s)
}

func (r *Runner) rebuildRedactor() {
	secrets := make([]string, 0, len(r.secrets))
	for s := range r.secrets {
		secrets = append(secrets, s)
	}
	// Longest first, so a secret that contains another is replaced whole.
	slices.SortFunc(secrets, func(a, b string) int {
		if len(a) != len(b) {
			return len(b) - len(a)
		}
		return strings.Compare(a, b)
	})
	args := make([]string, 0, 2*len(secrets))
	for _, s := range secrets {
		args = append(args, s, Redacted)
	}
	r.redactor = strings.NewReplacer(args...)
}

// redact replaces until nothing changes: a replacement can join the text around it
// into another occurrence ("xx***" with secret "x***"). Each pass that changes
// anything shortens the text (secrets are longer than "***"), so the loop ends.
func (r *Runner) redact(s string) string {
	if r.redactor == nil {
		return s
	}
	for {
		t := r.redactor.Replace(s)
		if t == s {
			return s
		}
		s = t
	}
}
