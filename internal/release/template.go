package release

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Placeholders of tag templates: {version} (the version file's "version"), {n} (the next free
// number from 1), {sha7} (the first 7 characters of the commit) and {date} (UTC date
// YYYYMMDD).
const (
	phVersion = "version"
	phN       = "n"
	phSHA7    = "sha7"
	phDate    = "date"
)

// dateLayout is {date}: fixed width, which keeps parsing unambiguous.
const dateLayout = "20060102"

// maxNDigits bounds {n}: far beyond any real candidate count, and it cannot overflow an int.
const maxNDigits = 9

type segKind int

const (
	segLiteral segKind = iota
	segVersion
	segN
	segSHA7
	segDate
)

type segment struct {
	kind segKind
	text string // segLiteral only
}

// Template is a compiled tag template such as "v{version}-rc.{n}".
type Template struct {
	raw  string
	segs []segment
}

// ParseTemplate compiles a tag template. Text outside braces is literal; the placeholders
// are {version}, {n}, {sha7} and {date}.
func ParseTemplate(t string) (*Template, error) {
	tpl := &Template{raw: t}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			tpl.segs = append(tpl.segs, segment{kind: segLiteral, text: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(t); {
		switch t[i] {
		case '{':
			j := strings.IndexAny(t[i+1:], "{}")
			if j < 0 || t[i+1+j] == '{' {
				return nil, fmt.Errorf("tag template %q has a { without a closing }; placeholders are {version}, {n}, {sha7} and {date}", t)
			}
			var k segKind
			switch name := t[i+1 : i+1+j]; name {
			case phVersion:
				k = segVersion
			case phN:
				k = segN
			case phSHA7:
				k = segSHA7
			case phDate:
				k = segDate
			default:
				return nil, fmt.Errorf("tag template %q uses the unknown placeholder {%s}; use {version}, {n}, {sha7} or {date}", t, name)
			}
			flush()
			tpl.segs = append(tpl.segs, segment{kind: k})
			i += j + 2
		case '}':
			return nil, fmt.Errorf("tag template %q has a } without an opening {; placeholders are {version}, {n}, {sha7} and {date}", t)
		default:
			lit.WriteByte(t[i])
			i++
		}
	}
	flush()
	if len(tpl.segs) == 0 {
		return nil, errors.New("tag template is empty")
	}
	return tpl, nil
}

// LiteralTemplate is a tag name taken as it is (an explicit tag input): braces in it are
// not placeholders.
func LiteralTemplate(name string) *Template {
	return &Template{raw: name, segs: []segment{{kind: segLiteral, text: name}}}
}

// String returns the template as written.
func (t *Template) String() string { return t.raw }

func (t *Template) has(k segKind) bool {
	for _, s := range t.segs {
		if s.kind == k {
			return true
		}
	}
	return false
}

// UsesVersion reports whether the template has {version}.
func (t *Template) UsesVersion() bool { return t.has(segVersion) }

// UsesN reports whether the template has {n}.
func (t *Template) UsesN() bool { return t.has(segN) }

// Bind fixes {version} and {sha7} (from the full sha): what is left to vary are {n} and
// {date}.
func (t *Template) Bind(version, sha string) Pattern {
	return Pattern{t: t, version: version, sha7: sha7(sha)}
}

// Pattern is a template bound to one release's version and commit.
type Pattern struct {
	t       *Template
	version string
	sha7    string
}

// Fields are the parts of a tag name that vary between tags of one commit and version.
type Fields struct {
	// N is {n}: 1 or more (0 when the template has no {n}).
	N int
	// Date is {date} as YYYYMMDD ("" when the template has no {date}).
	Date string
}

// Template returns the pattern's template.
func (p Pattern) Template() *Template { return p.t }

// Variable reports whether names of the pattern vary ({n} or {date}): then existing tags are
// found by listing the Prefix, else there is exactly one name.
func (p Pattern) Variable() bool { return p.t.has(segN) || p.t.has(segDate) }

// Render makes the tag name for f. N must be 1..999999999 and Date a YYYYMMDD date where
// the template uses them, or the name will not parse back.
func (p Pattern) Render(f Fields) string {
	var b strings.Builder
	for _, s := range p.t.segs {
		switch s.kind {
		case segLiteral:
			b.WriteString(s.text)
		case segVersion:
			b.WriteString(p.version)
		case segSHA7:
			b.WriteString(p.sha7)
		case segN:
			b.WriteString(strconv.Itoa(f.N))
		case segDate:
			b.WriteString(f.Date)
		}
	}
	return b.String()
}

// Prefix is the fixed start of every name of the pattern: the text before the first {n}
// or {date}, for listing tags.
func (p Pattern) Prefix() string {
	var b strings.Builder
	for _, s := range p.t.segs {
		switch s.kind {
		case segLiteral:
			b.WriteString(s.text)
		case segVersion:
			b.WriteString(p.version)
		case segSHA7:
			b.WriteString(p.sha7)
		default:
			return b.String()
		}
	}
	return b.String()
}

// Parse extracts the fields of a name the pattern renders. It accepts exactly the names
// Render makes: {n} is a decimal number from 1 without leading zeros, {date} a valid
// YYYYMMDD date, and repeated placeholders carry the same value; so a parsed name always
// renders back to itself, and every other name is refused.
//
// Every part but {n} has a fixed width once {version} and {sha7} are bound, so the width
// of {n} follows from the name's length: no guessing where one part ends.
func (p Pattern) Parse(name string) (Fields, bool) {
	fixed, nCount := 0, 0
	for _, s := range p.t.segs {
		switch s.kind {
		case segLiteral:
			fixed += len(s.text)
		case segVersion:
			fixed += len(p.version)
		case segSHA7:
			fixed += len(p.sha7)
		case segDate:
			fixed += len(dateLayout)
		case segN:
			nCount++
		}
	}
	rest := len(name) - fixed
	nWidth := 0
	switch {
	case nCount == 0 && rest != 0:
		return Fields{}, false
	case nCount > 0:
		if rest < nCount || rest%nCount != 0 || rest/nCount > maxNDigits {
			return Fields{}, false
		}
		nWidth = rest / nCount
	}
	var f Fields
	pos := 0
	take := func(want string) bool {
		if !strings.HasPrefix(name[pos:], want) {
			return false
		}
		pos += len(want)
		return true
	}
	for _, s := range p.t.segs {
		switch s.kind {
		case segLiteral:
			if !take(s.text) {
				return Fields{}, false
			}
		case segVersion:
			if !take(p.version) {
				return Fields{}, false
			}
		case segSHA7:
			if !take(p.sha7) {
				return Fields{}, false
			}
		case segDate:
			d := name[pos : pos+len(dateLayout)]
			if !allDigits(d) || (f.Date != "" && d != f.Date) {
				return Fields{}, false
			}
			if _, err := time.Parse(dateLayout, d); err != nil {
				return Fields{}, false
			}
			f.Date = d
			pos += len(d)
		case segN:
			ds := name[pos : pos+nWidth]
			if !allDigits(ds) || ds[0] == '0' {
				return Fields{}, false
			}
			n, err := strconv.Atoi(ds)
			if err != nil || (f.N != 0 && n != f.N) {
				return Fields{}, false
			}
			f.N = n
			pos += nWidth
		}
	}
	if pos != len(name) {
		return Fields{}, false
	}
	return f, true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// sha7 is the first 7 characters of a commit SHA.
func sha7(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}
