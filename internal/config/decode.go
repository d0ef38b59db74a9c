package config

import (
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
)

// decoder turns the YAML syntax tree into a Config. It walks the tree itself instead of
// using goccy's reflective decoder so that it can report every problem at once, each at
// the line and column of the key or value at fault, with the keys allowed at that place.
type decoder struct {
	problems
	// written holds the position of every key present in the file with a non-null value,
	// and of every list entry, by path. Defaults fill only what was not written, so an
	// explicit `timeout: 0s` is an error rather than silently 45m.
	written map[string]pos
	// alias maps each alias to the value of the anchor it names.
	alias map[*ast.AliasNode]ast.Node
	// bad holds the paths that failed to decode; validation stays quiet about them, so a
	// value in error is reported once, for what is wrong with it.
	bad []string
}

func (d *decoder) add(at pos, path, format string, args ...any) {
	d.problems.add(at, path, format, args...)
	if path != "" {
		d.bad = append(d.bad, path)
	}
}

// covers reports whether path is at, inside or around a path that failed to decode.
func (d *decoder) covers(path string) bool {
	for _, b := range d.bad {
		if path == b || within(path, b) || within(b, path) {
			return true
		}
	}
	return false
}

func within(p, parent string) bool {
	return parent == "" || strings.HasPrefix(p, parent+".") || strings.HasPrefix(p, parent+"[")
}

// maxDepth bounds nesting (a mapping level is two steps in goccy's tree); the schema is
// seven levels deep, so this is generous.
const maxDepth = 100

func newDecoder(file string) *decoder {
	return &decoder{problems: problems{file: file}, written: map[string]pos{}, alias: map[*ast.AliasNode]ast.Node{}}
}

// nodePos is where a node starts: for a mapping, its first key (goccy's own token for a
// block mapping is the first colon, which is not where a reader looks).
func nodePos(n ast.Node) pos {
	switch v := n.(type) {
	case nil:
		return pos{1, 1}
	case *ast.MappingNode:
		if len(v.Values) > 0 && v.Values[0] != nil && v.Values[0].Key != nil {
			return nodePos(v.Values[0].Key)
		}
	case *ast.MappingValueNode:
		if v.Key != nil {
			return nodePos(v.Key)
		}
	}
	tk := n.GetToken()
	if tk == nil || tk.Position == nil {
		return pos{1, 1}
	}
	return pos{max(tk.Position.Line, 1), max(tk.Position.Column, 1)}
}

func join(path, key string) string {
	if !simpleKey(key) {
		key = quote(key)
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

var simpleKeyRE = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

func simpleKey(s string) bool { return simpleKeyRE.MatchString(s) }

// anchors records what each alias refers to: the nearest anchor of that name defined
// before it. An alias inside the node its anchor labels would make the tree infinite and
// is refused, as is an alias to an undefined anchor.
func (d *decoder) anchors(n ast.Node) {
	defined := map[string]*ast.AnchorNode{}
	open := map[*ast.AnchorNode]bool{}
	tooDeep := false
	var walk func(n ast.Node, depth int)
	walk = func(n ast.Node, depth int) {
		if n == nil {
			return
		}
		if depth > maxDepth {
			if !tooDeep {
				d.add(nodePos(n), "", "the file is nested more than %d levels deep; a configuration needs a few levels", maxDepth/2)
			}
			tooDeep = true
			return
		}
		switch v := n.(type) {
		case *ast.DocumentNode:
			walk(v.Body, depth+1)
		case *ast.MappingNode:
			for _, mv := range v.Values {
				walk(mv, depth+1)
			}
		case *ast.MappingValueNode:
			if v.Key != nil {
				walk(v.Key, depth+1)
			}
			walk(v.Value, depth+1)
		case *ast.MappingKeyNode:
			walk(v.Value, depth+1)
		case *ast.SequenceNode:
			for _, it := range v.Values {
				walk(it, depth+1)
			}
		case *ast.TagNode:
			walk(v.Value, depth+1)
		case *ast.AnchorNode:
			name := anchorName(v.Name)
			defined[name] = v
			open[v] = true
			walk(v.Value, depth+1)
			open[v] = false
		case *ast.AliasNode:
			name := anchorName(v.Value)
			a := defined[name]
			switch {
			case a == nil:
				d.add(nodePos(v), "", "alias %s names no anchor defined above it; define %s first", label("*", name), label("&", name))
			case open[a]:
				d.add(nodePos(v), "", "alias %s is inside the node that anchor %s labels; a value cannot contain itself", label("*", name), label("&", name))
			default:
				d.alias[v] = a.Value
			}
		}
	}
	walk(n, 0)
}

// label shows an anchor or alias name as written, or quoted when it is not a plain word.
func label(sigil, name string) string {
	if simpleKey(name) {
		return sigil + name
	}
	return quote(sigil + name)
}

func anchorName(n ast.Node) string {
	switch v := n.(type) {
	case nil:
		return ""
	case *ast.StringNode:
		return v.Value
	default:
		if tk := n.GetToken(); tk != nil {
			return tk.Value
		}
		return ""
	}
}

// resolve looks through tags, anchors and aliases to the node that holds the value. It
// reports false for an alias that could not be resolved (already reported by anchors).
func (d *decoder) resolve(n ast.Node) (ast.Node, bool) {
	for range maxDepth {
		switch v := n.(type) {
		case *ast.TagNode:
			if tag := v.Start; tag != nil && !strings.HasPrefix(tag.Value, "!!") {
				d.add(nodePos(v), "", "tag %s is not supported: the file holds plain values (for credentials, name an environment variable with token-env or password-env)", quote(tag.Value))
				return nil, false
			}
			n = v.Value
		case *ast.AnchorNode:
			n = v.Value
		case *ast.MappingValueNode:
			// A lone key: value pair; treat it as the one-entry mapping it is.
			return &ast.MappingNode{BaseNode: &ast.BaseNode{}, Start: v.Start, Values: []*ast.MappingValueNode{v}}, true
		case *ast.AliasNode:
			t, ok := d.alias[v]
			if !ok {
				return nil, false
			}
			n = t
		default:
			return n, true
		}
	}
	return nil, false
}

func isNull(n ast.Node) bool {
	if n == nil {
		return true
	}
	_, ok := n.(*ast.NullNode)
	return ok
}

// describe names what a node is, for "want X, got Y" messages.
func describe(n ast.Node) string {
	switch v := n.(type) {
	case nil, *ast.NullNode:
		return "nothing"
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	case *ast.BoolNode:
		return fmt.Sprintf("%t", v.Value)
	case *ast.IntegerNode, *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		return "the number " + n.GetToken().Value
	case *ast.StringNode:
		return "text " + quote(v.Value)
	case *ast.LiteralNode:
		if v.Value != nil {
			return "text " + quote(v.Value.Value)
		}
		return "text"
	default:
		return "a " + strings.ToLower(n.Type().String())
	}
}

type entry struct {
	key string
	at  pos
	val ast.Node
}

// entries lists a mapping's keys and values, with merge keys (<<) expanded: keys written
// in the mapping win over merged ones, and earlier merge sources over later ones.
func (d *decoder) entries(path string, m *ast.MappingNode, depth int) []entry {
	if depth > maxDepth {
		return nil
	}
	var own, merged []entry
	seen := map[string]bool{}
	mergeFrom := func(n ast.Node) {
		src, ok := d.resolve(n)
		switch s := src.(type) {
		case *ast.MappingNode:
			merged = append(merged, d.entries(path, s, depth+1)...)
		case nil, *ast.NullNode:
		default:
			if ok {
				d.add(nodePos(src), path, "<< merges a mapping or a list of mappings, got %s", describe(src))
			}
		}
	}
	for _, mv := range m.Values {
		if mv == nil || mv.Key == nil {
			continue
		}
		if _, ok := mv.Key.(*ast.MergeKeyNode); ok {
			src, ok := d.resolve(mv.Value)
			if seq, isSeq := src.(*ast.SequenceNode); ok && isSeq {
				for _, it := range seq.Values {
					mergeFrom(it)
				}
			} else if ok {
				mergeFrom(src)
			}
			continue
		}
		key, ok := d.key(path, mv.Key)
		if !ok {
			continue
		}
		if seen[key] {
			d.add(nodePos(mv.Key), join(path, key), "the key appears twice in this mapping; keep one")
			continue
		}
		seen[key] = true
		own = append(own, entry{key: key, at: nodePos(mv.Key), val: mv.Value})
	}
	for _, e := range merged {
		if !seen[e.key] {
			seen[e.key] = true
			own = append(own, e)
		}
	}
	return own
}

func (d *decoder) key(path string, n ast.Node) (string, bool) {
	for {
		t, ok := n.(*ast.TagNode)
		if !ok {
			break
		}
		n = t.Value
	}
	switch v := n.(type) {
	case *ast.StringNode:
		return v.Value, true
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.NullNode, *ast.InfinityNode, *ast.NanNode:
		return n.GetToken().Value, true
	default:
		d.add(nodePos(n), path, "keys are plain words, got %s as a key", describe(n))
		return "", false
	}
}

// object decodes a mapping whose keys must be among keys. set is called for each key with
// a non-null value; null values (`key:` with nothing after it) count as absent.
func (d *decoder) object(path string, n ast.Node, keys []string, set func(key, p string, v ast.Node)) {
	m, ok := n.(*ast.MappingNode)
	if !ok {
		d.add(nodePos(n), path, "want a mapping with keys %s; got %s", oneOf(keys...), describe(n))
		return
	}
	for _, e := range d.entries(path, m, 0) {
		p := join(path, e.key)
		if !slices.Contains(keys, e.key) {
			d.unknown(e.at, p, e.key, keys)
			continue
		}
		v, ok := d.resolve(e.val)
		if !ok {
			d.bad = append(d.bad, p)
			continue
		}
		if isNull(v) {
			continue
		}
		d.written[p] = nodePos(v)
		set(e.key, p, v)
	}
}

func (d *decoder) unknown(at pos, path, key string, allowed []string) {
	if slices.Contains(allowed, key+"-env") {
		// Say nothing about the value: it may be a live credential.
		d.add(at, path, "credentials never live in this file; set %s-env to the name of an environment variable that holds the %s, and fill that variable from a secret in the workflow", key, key)
		// This says all there is to say about the missing credential variable.
		d.bad = append(d.bad, path+"-env")
		return
	}
	msg := "unknown key"
	if s := suggest(key, allowed); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	d.add(at, path, "%s; allowed keys here: %s", msg, oneOf(allowed...))
}

// list decodes a sequence, one element per entry (a zero value for an entry in error, so
// that indexes in paths stay those of the file).
func list[T any](d *decoder, path string, n ast.Node, want string, item func(p string, v ast.Node) T) []T {
	seq, ok := n.(*ast.SequenceNode)
	if !ok {
		d.add(nodePos(n), path, "want a list of %s, got %s", want, describe(n))
		return nil
	}
	out := make([]T, 0, len(seq.Values))
	for i, it := range seq.Values {
		p := index(path, i)
		var zero T
		r, ok := d.resolve(it)
		if !ok {
			d.bad = append(d.bad, p)
			out = append(out, zero)
			continue
		}
		if isNull(r) {
			at := nodePos(seq)
			if it != nil && it.GetToken() != nil {
				at = nodePos(it)
			}
			d.add(at, p, "empty list entry; write %s or remove the entry", want)
			out = append(out, zero)
			continue
		}
		d.written[p] = nodePos(r)
		out = append(out, item(p, r))
	}
	return out
}

// text reads a scalar as the text it was written as ("0123" stays "0123").
func (d *decoder) text(path string, n ast.Node, want string) string {
	var s string
	switch v := n.(type) {
	case *ast.StringNode:
		s = v.Value
	case *ast.LiteralNode:
		if v.Value != nil {
			s = v.Value.Value
		}
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.InfinityNode, *ast.NanNode:
		s = n.GetToken().Value
	default:
		d.add(nodePos(n), path, "want %s, got %s", want, describe(n))
		return ""
	}
	if !utf8.ValidString(s) {
		d.add(nodePos(n), path, "the text is not valid UTF-8")
		return ""
	}
	if i := strings.IndexFunc(s, func(r rune) bool { return r != '\n' && r != '\t' && unicode.IsControl(r) }); i >= 0 {
		r, _ := utf8.DecodeRuneInString(s[i:])
		d.add(nodePos(n), path, "the text contains the control character %U; remove it", r)
		return ""
	}
	return s
}

func (d *decoder) strs(path string, n ast.Node, what string, dst *[]string) {
	*dst = nilIfEmpty(list(d, path, n, what, func(p string, v ast.Node) string { return d.text(p, v, "text") }))
}

// nilIfEmpty makes an empty list the same as an absent one, so that a configuration
// printed by YAML parses back to an equal value. (smoke and gates keep their empty lists:
// there, empty is not the same as absent.)
func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}

func (d *decoder) boolean(path string, n ast.Node) bool {
	b, ok := n.(*ast.BoolNode)
	if !ok {
		d.add(nodePos(n), path, "want true or false, got %s", describe(n))
		return false
	}
	return b.Value
}

func (d *decoder) integer(path string, n ast.Node) int {
	v, ok := n.(*ast.IntegerNode)
	if !ok {
		d.add(nodePos(n), path, "want a whole number, got %s", describe(n))
		return 0
	}
	switch x := v.Value.(type) {
	case int64:
		if x >= math.MinInt32 && x <= math.MaxInt32 {
			return int(x)
		}
	case uint64:
		if x <= math.MaxInt32 {
			return int(x)
		}
	}
	d.add(nodePos(n), path, "the number %s is out of range", v.GetToken().Value)
	return 0
}

func (d *decoder) number(path string, n ast.Node) *float64 {
	var f float64
	switch v := n.(type) {
	case *ast.IntegerNode:
		switch x := v.Value.(type) {
		case int64:
			f = float64(x)
		case uint64:
			f = float64(x)
		}
	case *ast.FloatNode:
		f = v.Value
	case *ast.StringNode:
		// goccy reads some plain numbers (1e-3) as strings; a quoted "0.5" stays text.
		x, err := strconv.ParseFloat(v.Value, 64)
		if tk := v.GetToken(); err != nil || tk == nil || tk.Type != token.StringType {
			d.add(nodePos(n), path, "want a number, got %s", describe(n))
			return nil
		}
		if math.IsNaN(x) || math.IsInf(x, 0) {
			d.add(nodePos(n), path, "want a finite number, got %s", v.Value)
			return nil
		}
		f = x
	case *ast.InfinityNode, *ast.NanNode:
		d.add(nodePos(n), path, "want a finite number, got %s", v.GetToken().Value)
		return nil
	default:
		d.add(nodePos(n), path, "want a number, got %s", describe(n))
		return nil
	}
	return &f
}

func (d *decoder) duration(path string, n ast.Node, example string, dst *Duration) {
	switch v := n.(type) {
	case *ast.StringNode:
		x, err := time.ParseDuration(v.Value)
		if err != nil {
			d.add(nodePos(n), path, "%s is not a duration; write it like %s (units h, m, s)", quote(v.Value), example)
			return
		}
		*dst = Duration(x)
	case *ast.IntegerNode, *ast.FloatNode:
		d.add(nodePos(n), path, "want a duration like %s, got %s without a unit (write %sm or %ss)", example, describe(n), n.GetToken().Value, n.GetToken().Value)
	default:
		d.add(nodePos(n), path, "want a duration like %s, got %s", example, describe(n))
	}
}

// config decodes the document body into c (which holds no defaults yet), by the table.
func (d *decoder) config(body ast.Node, c *Config) {
	r, ok := d.resolve(body)
	if !ok || isNull(r) {
		return
	}
	if _, isMap := r.(*ast.MappingNode); !isMap {
		d.add(nodePos(r), "", "the configuration must be a mapping with keys %s; got %s", oneOf(names(keys)...), describe(r))
		return
	}
	d.decodeKeys("", r, keys, reflect.ValueOf(c).Elem())
}

func (d *decoder) inputs(path string, n ast.Node) map[string]string {
	m, ok := n.(*ast.MappingNode)
	if !ok {
		d.add(nodePos(n), path, "want a mapping of input names to values, got %s", describe(n))
		return nil
	}
	out := map[string]string{}
	for _, e := range d.entries(path, m, 0) {
		p := join(path, e.key)
		v, ok := d.resolve(e.val)
		if !ok {
			d.bad = append(d.bad, p)
			continue
		}
		d.written[p] = e.at
		if isNull(v) {
			out[e.key] = ""
			continue
		}
		out[e.key] = d.text(p, v, "a text value (workflow inputs are strings)")
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
