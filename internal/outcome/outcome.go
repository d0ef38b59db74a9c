// Package outcome is the vocabulary every step and command shares: the verdict of a
// result and the one sentinel for input the user must fix. Only internal/cli turns an
// outcome into an exit code.
package outcome

import (
	"errors"
	"fmt"
)

// Verdict is the decision of a gate, smoke run, deployment step, monitor, rollback or
// release. The JSON spelling is the constant's value.
type Verdict string

// The verdicts. Scheduled means "nothing failed; the rest waits for a maintenance
// window"; Error means "the step stopped before it could decide" (an API or network
// failure), never a judgement of the candidate.
const (
	Pass      Verdict = "pass"
	Fail      Verdict = "fail"
	Scheduled Verdict = "scheduled"
	Error     Verdict = "error"
)

// ErrBadInput marks an error the user fixes by changing inputs or configuration (exit
// code 2). Check it with errors.Is; create such errors with BadInput or BadInputf.
var ErrBadInput = errors.New("bad input")

// badInput carries the message unchanged (the sentinel's own text is not prefixed) and
// matches ErrBadInput.
type badInput struct{ err error }

func (e *badInput) Error() string        { return e.err.Error() }
func (e *badInput) Unwrap() error        { return e.err }
func (e *badInput) Is(target error) bool { return target == ErrBadInput }

// BadInputf formats an error (with %w support) that is bad input.
func BadInputf(format string, args ...any) error {
	return &badInput{err: fmt.Errorf(format, args...)}
}

// BadInput marks err as bad input; nil stays nil.
func BadInput(err error) error {
	if err == nil {
		return nil
	}
	return &badInput{err: err}
}

// IsBadInput reports whether err is (or wraps) bad input.
func IsBadInput(err error) bool { return errors.Is(err, ErrBadInput) }

// Decision carries a finished command's verdict on its error path, so that commands keep
// the Run(ctx, args) error shape and one function (in the CLI) maps every way a command
// ends to an exit code. It is a result, not a failure of the program: the command has
// already reported why (summary, annotations); the mapper prints nothing more for it.
type Decision struct {
	Verdict Verdict
	Reason  string
}

func (d *Decision) Error() string {
	if d.Reason == "" {
		return string(d.Verdict)
	}
	return string(d.Verdict) + ": " + d.Reason
}

// Decided returns nil for pass and scheduled (the command succeeded: nothing failed) and a
// *Decision for any other verdict.
func Decided(v Verdict, reason string) error {
	if v == Pass || v == Scheduled {
		return nil
	}
	return &Decision{Verdict: v, Reason: reason}
}
