package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// maxFileSize bounds what is read and parsed; a real configuration is a few kilobytes.
const maxFileSize = 1 << 20

// Load reads the configuration file at path. A file that does not exist means the
// built-in defaults (Default, with Source ""); any other read error is an error.
func Load(path string) (*Config, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Default(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("open configuration %s: %w", path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read configuration %s: %w", path, err)
	}
	return Parse(path, data)
}

// Parse reads a configuration from YAML (name is the file name used in errors and in
// Config.Source). It returns the effective configuration with every default filled in,
// or the problems found: one *Error, or several joined with errors.Join (see Errors),
// sorted by position.
func Parse(name string, data []byte) (*Config, error) {
	if len(data) > maxFileSize {
		return nil, &Error{File: name, Line: 1, Column: 1, Msg: fmt.Sprintf("the file is larger than %d KiB; a configuration is a few kilobytes of YAML", maxFileSize>>10)}
	}
	if err := flowDepth(name, data); err != nil {
		return nil, err
	}
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, syntaxError(name, err)
	}
	d := newDecoder(name)
	var body ast.Node
	docs := 0
	for _, doc := range f.Docs {
		if doc == nil || doc.Body == nil {
			continue
		}
		docs++
		if docs == 1 {
			body = doc.Body
			continue
		}
		d.add(nodePos(doc.Body), "", "a second YAML document (after ---); the configuration is one document")
	}
	d.anchors(body)
	c := &Config{}
	d.config(body, c)
	fill(c, d.written)

	v := &validator{
		problems: problems{file: name},
		at:       locate(d.written),
		wrote:    func(p string) bool { _, ok := d.written[p]; return ok },
	}
	v.config(c)
	for _, e := range v.list {
		if !d.covers(e.Path) {
			d.list = append(d.list, e)
		}
	}
	if err := d.err(); err != nil {
		return nil, err
	}
	c.Source = name
	return c, nil
}

// syntaxError turns goccy's error, whose text spans several lines of source excerpt, into
// one *Error line at the position goccy found the problem.
func syntaxError(name string, err error) error {
	e := &Error{File: name, Line: 1, Column: 1}
	msg := err.Error()
	var ye yaml.Error
	if errors.As(err, &ye) {
		msg = ye.GetMessage()
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			e.Line, e.Column = max(tk.Position.Line, 1), max(tk.Position.Column, 1)
		}
	}
	msg, _, _ = strings.Cut(strings.TrimSpace(msg), "\n")
	msg = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return '?'
		}
		return r
	}, msg)
	e.Msg = "invalid YAML: " + msg
	return e
}

// flowDepth refuses brackets nested deeper than maxDepth before goccy sees them: its
// parser slows down more than linearly on deeply nested flow collections. Brackets are
// counted without regard to quoting, which only matters past a hundred unclosed ones.
func flowDepth(name string, data []byte) error {
	depth, line, col := 0, 1, 0
	for _, b := range data {
		col++
		switch b {
		case '\n':
			line, col = line+1, 0
		case '[', '{':
			if depth++; depth > maxDepth {
				return &Error{File: name, Line: line, Column: col, Msg: fmt.Sprintf("brackets ([ ] or { }) nest more than %d deep; a configuration needs a few levels", maxDepth)}
			}
		case ']', '}':
			depth = max(depth-1, 0)
		}
	}
	return nil
}
