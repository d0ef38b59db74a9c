package actions

import (
	"io"
	"strings"

	"github.com/agentme/release-action/internal/redact"
)

// MinSecretLen is the shortest value AddMask registers (redact.MinLen). Shorter values
// (and blank ones) are ignored: masking "{" or "ab" would shred every log line, and
// the runner would do the same to the whole job log.
const MinSecretLen = redact.MinLen

// Redacted replaces every registered secret (redact.Marker, what the runner prints).
const Redacted = redact.Marker

// AddMask registers a secret: the whole value, and each line of it on its own
// (trimmed), since the runner and this package see output line by line. Values
// shorter than MinSecretLen or blank are skipped. In Actions mode each new single-line
// value is announced with ::add-mask:: so the runner masks it in the job log too. From
// then on the value, in every form the redact package knows, is replaced with "***"
// in everything the Runner writes: stdout, the step summary and outputs.
func (r *Runner) AddMask(secret string) { r.register(secret, true) }

// Protect registers a secret for redaction like AddMask but never writes it, not even
// in an ::add-mask:: line. It is for secrets the runner already masks: values that
// reach the action as inputs or environment from `secrets.*` or `github.token` are
// registered with the runner's masker before the container starts, and echoing them
// in ::add-mask:: would only put the raw value into the step's raw stdout stream,
// where log forwarders and anyone reading the container's output would see it.
// Protect is where a secret enters the process: every other user (the GitHub client,
// smoke, monitor) shares the same Redactor.
func (r *Runner) Protect(secret string) { r.register(secret, false) }

// Redactor is the one Redactor of the process: hand it to every component that writes
// text a person or a log sees, so a secret registered once is hidden everywhere.
func (r *Runner) Redactor() *redact.Redactor { return r.red }

func (r *Runner) register(secret string, announce bool) {
	added := r.red.Add(secret)
	if !announce || !r.actions || len(added) == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range added {
		if !strings.ContainsAny(p, "\r\n") {
			// Written directly: this is the one line that must carry the secret.
			_, _ = io.WriteString(r.out, "::add-mask::"+EscapeData(p)+"\n")
		}
	}
}

// Redact replaces every registered secret in s with "***".
func (r *Runner) Redact(s string) string { return r.red.Redact(s) }

func (r *Runner) redact(s string) string { return r.red.Redact(s) }
