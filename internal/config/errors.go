package config

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/agnivade/levenshtein"
)

// Error is one problem in a configuration file, with the position of the offending key or
// value. Line and Column are 1-based; both are 0 when the problem has no place in a file
// (a configuration built in code and checked with Validate).
type Error struct {
	File   string
	Line   int
	Column int
	// Path names the key, e.g. "gates[2].tests.files" (indexes count from 0).
	Path string
	Msg  string
}

// Error renders "file:line:col: path: msg", the form editors and problem matchers jump to.
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d:%d", e.Line, e.Column)
		}
		b.WriteString(": ")
	} else if e.Line > 0 {
		fmt.Fprintf(&b, "%d:%d: ", e.Line, e.Column)
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors returns every *Error inside err (a single *Error, or several joined), in order.
func Errors(err error) []*Error {
	var out []*Error
	var walk func(error)
	walk = func(err error) {
		if err == nil {
			return
		}
		if e, ok := err.(*Error); ok {
			out = append(out, e)
			return
		}
		switch w := err.(type) {
		case interface{ Unwrap() []error }:
			for _, inner := range w.Unwrap() {
				walk(inner)
			}
		case interface{ Unwrap() error }:
			walk(w.Unwrap())
		}
	}
	walk(err)
	return out
}

// pos is a place in the file.
type pos struct{ Line, Column int }

// problems collects errors for one file.
type problems struct {
	file string
	list []*Error
}

func (p *problems) add(at pos, path, format string, args ...any) {
	p.list = append(p.list, &Error{File: p.file, Line: at.Line, Column: at.Column, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// err returns nil, the only error, or all of them joined, sorted by position and without
// duplicates (an alias used twice must not report the same value twice).
func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	slices.SortStableFunc(p.list, func(a, b *Error) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column), strings.Compare(a.Path, b.Path), strings.Compare(a.Msg, b.Msg))
	})
	p.list = slices.CompactFunc(p.list, func(a, b *Error) bool { return *a == *b })
	if len(p.list) == 1 {
		return p.list[0]
	}
	errs := make([]error, len(p.list))
	for i, e := range p.list {
		errs[i] = e
	}
	return errors.Join(errs...)
}

// quote shows a user's value in a message: quoted, escaped, and cut short, so that a
// pasted blob cannot flood the log or smuggle a workflow command through it.
func quote(s string) string {
	const max = 60
	if utf8.RuneCountInString(s) > max {
		r := []rune(s)
		return fmt.Sprintf("%q...", string(r[:max]))
	}
	return fmt.Sprintf("%q", s)
}

// oneOf lists allowed values for a message.
func oneOf(values ...string) string { return strings.Join(values, ", ") }

// suggest returns the allowed word closest to got, when it is close enough to be a typo.
func suggest(got string, allowed []string) string {
	best, bestD := "", 3
	if len(got) <= 4 {
		bestD = 2
	}
	for _, a := range allowed {
		if d := levenshtein.ComputeDistance(strings.ToLower(got), a); d < bestD {
			best, bestD = a, d
		}
	}
	return best
}
