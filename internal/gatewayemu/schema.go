package gatewayemu

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// The gateway validates frames with Ajv (allErrors) against TypeBox schemas and joins
// the errors with its own formatter. Clients show those messages to people, and a
// probe may match on them, so the emulator reproduces them to the letter: the checks
// run in Ajv's order (type, required, additional properties, then properties in
// schema order), object keys are visited in JavaScript's order, and duplicates are
// dropped as the gateway's formatter drops them.

// jsonKind is the JavaScript type of a parsed JSON value.
type jsonKind int

const (
	jsonNull jsonKind = iota
	jsonBool
	jsonNumber
	jsonString
	jsonArray
	jsonObject
)

// jsonValue is a parsed JSON value that remembers the order of object keys, which
// Ajv's "unexpected property" errors follow.
type jsonValue struct {
	kind jsonKind
	num  string // json.Number text
	str  string
	arr  []*jsonValue
	keys []string // first appearance order; a repeated key keeps its place, last value wins
	obj  map[string]*jsonValue
}

// maxJSONDepth bounds nesting; deeper input counts as unparseable, as a stack
// overflow in JSON.parse does.
const maxJSONDepth = 1000

var errJSONTooDeep = errors.New("JSON nested too deeply")

// parseJSON parses one JSON text (JSON.parse semantics: surrounding whitespace is
// fine, anything after the value is not).
func parseJSON(data []byte) (*jsonValue, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := readJSONValue(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("unexpected data after the JSON value")
	}
	return v, nil
}

func readJSONValue(dec *json.Decoder, depth int) (*jsonValue, error) {
	if depth > maxJSONDepth {
		return nil, errJSONTooDeep
	}
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	switch t := tok.(type) {
	case nil:
		return &jsonValue{kind: jsonNull}, nil
	case bool:
		v := &jsonValue{kind: jsonBool}
		if t {
			v.num = "true"
		}
		return v, nil
	case json.Number:
		return &jsonValue{kind: jsonNumber, num: t.String()}, nil
	case string:
		return &jsonValue{kind: jsonString, str: t}, nil
	case json.Delim:
		if t == '[' {
			v := &jsonValue{kind: jsonArray}
			for dec.More() {
				e, err := readJSONValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				v.arr = append(v.arr, e)
			}
			_, err := dec.Token() // ']'
			return v, err
		}
		v := &jsonValue{kind: jsonObject, obj: map[string]*jsonValue{}}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, err
			}
			k, _ := kt.(string) // the decoder only yields string keys inside an object
			e, err := readJSONValue(dec, depth+1)
			if err != nil {
				return nil, err
			}
			if _, seen := v.obj[k]; !seen {
				v.keys = append(v.keys, k)
			}
			v.obj[k] = e
		}
		_, err := dec.Token() // '}'
		return v, err
	}
	return nil, fmt.Errorf("unexpected JSON token %v", tok)
}

// jsKeys lists an object's keys in JavaScript's enumeration order: array-index keys
// ascending, then the others in insertion order.
func (v *jsonValue) jsKeys() []string {
	var idx, rest []string
	for _, k := range v.keys {
		if isArrayIndex(k) {
			idx = append(idx, k)
		} else {
			rest = append(rest, k)
		}
	}
	slices.SortFunc(idx, func(a, b string) int {
		x, _ := strconv.ParseUint(a, 10, 32)
		y, _ := strconv.ParseUint(b, 10, 32)
		return int(int64(x) - int64(y))
	})
	return append(idx, rest...)
}

func isArrayIndex(k string) bool {
	if k == "" || (len(k) > 1 && k[0] == '0') {
		return false
	}
	n, err := strconv.ParseUint(k, 10, 32)
	return err == nil && n < math.MaxUint32
}

// schemaKind is the kind of check a schema node performs.
type schemaKind int

const (
	schemaAny     schemaKind = iota
	schemaObject             // properties, closed to other keys
	schemaRecord             // any keys, every value matching elem
	schemaArray              // every item matching elem
	schemaString             // with minLength
	schemaInteger            // with an optional minimum
	schemaBoolean            //
	schemaLiteral            // a string constant (TypeBox Literal)
	schemaUnion              // anyOf string literals (TypeBox Union of Literals)
)

type schemaNode struct {
	kind     schemaKind
	props    []schemaProp
	elem     *schemaNode
	minLen   int
	min      float64
	hasMin   bool
	literals []string
}

type schemaProp struct {
	name     string
	node     *schemaNode
	required bool
}

func objectOf(props ...schemaProp) *schemaNode {
	return &schemaNode{kind: schemaObject, props: props}
}
func reqProp(name string, n *schemaNode) schemaProp {
	return schemaProp{name: name, node: n, required: true}
}
func optProp(name string, n *schemaNode) schemaProp { return schemaProp{name: name, node: n} }

var (
	anySchema      = &schemaNode{kind: schemaAny}
	nonEmptyString = &schemaNode{kind: schemaString, minLen: 1}
	plainString    = &schemaNode{kind: schemaString}
	booleanSchema  = &schemaNode{kind: schemaBoolean}
)

func integerMin(min float64) *schemaNode {
	return &schemaNode{kind: schemaInteger, min: min, hasMin: true}
}
func arrayOf(elem *schemaNode) *schemaNode  { return &schemaNode{kind: schemaArray, elem: elem} }
func recordOf(elem *schemaNode) *schemaNode { return &schemaNode{kind: schemaRecord, elem: elem} }
func literal(s string) *schemaNode          { return &schemaNode{kind: schemaLiteral, literals: []string{s}} }
func oneOfLiterals(l []string) *schemaNode {
	return &schemaNode{kind: schemaUnion, literals: l}
}

// requestFrameSchema is the gateway's RequestFrameSchema: exactly these four keys.
var requestFrameSchema = objectOf(
	reqProp("type", literal("req")),
	reqProp("id", nonEmptyString),
	reqProp("method", nonEmptyString),
	optProp("params", anySchema),
)

// connectParamsSchema is the gateway's ConnectParamsSchema (protocol 3), with its
// property lists and order; every object in it is closed to other properties.
var connectParamsSchema = objectOf(
	reqProp("minProtocol", integerMin(1)),
	reqProp("maxProtocol", integerMin(1)),
	reqProp("client", objectOf(
		reqProp("id", oneOfLiterals(clientIDs)),
		optProp("displayName", nonEmptyString),
		reqProp("version", nonEmptyString),
		reqProp("platform", nonEmptyString),
		optProp("deviceFamily", nonEmptyString),
		optProp("modelIdentifier", nonEmptyString),
		reqProp("mode", oneOfLiterals(clientModes)),
		optProp("instanceId", nonEmptyString),
	)),
	optProp("caps", arrayOf(nonEmptyString)),
	optProp("commands", arrayOf(nonEmptyString)),
	optProp("permissions", recordOf(booleanSchema)),
	optProp("pathEnv", plainString),
	optProp("role", nonEmptyString),
	optProp("scopes", arrayOf(nonEmptyString)),
	optProp("device", objectOf(
		reqProp("id", nonEmptyString),
		reqProp("publicKey", nonEmptyString),
		reqProp("signature", nonEmptyString),
		reqProp("signedAt", integerMin(0)),
		optProp("nonce", nonEmptyString),
	)),
	optProp("auth", objectOf(
		optProp("token", plainString),
		optProp("password", plainString),
	)),
	optProp("locale", plainString),
	optProp("userAgent", plainString),
)

// validate checks v (nil: absent, JavaScript's undefined) and returns the gateway's
// joined error text, or "" when v is valid.
func validate(n *schemaNode, v *jsonValue) string {
	var parts []string
	n.check(v, "", &parts)
	var uniq []string
	for _, p := range parts {
		if !slices.Contains(uniq, p) {
			uniq = append(uniq, p)
		}
	}
	return strings.Join(uniq, "; ")
}

func at(path, msg string) string {
	if path == "" {
		return msg
	}
	return "at " + path + ": " + msg
}

// pointer appends a key to a JSON Pointer, escaped as Ajv's instancePath is.
func pointer(path, key string) string {
	return path + "/" + strings.ReplaceAll(strings.ReplaceAll(key, "~", "~0"), "/", "~1")
}

func (n *schemaNode) check(v *jsonValue, path string, out *[]string) {
	add := func(msg string) { *out = append(*out, at(path, msg)) }
	switch n.kind {
	case schemaAny:
	case schemaObject:
		if v == nil || v.kind != jsonObject {
			add("must be object")
			return
		}
		for _, p := range n.props {
			if _, ok := v.obj[p.name]; p.required && !ok {
				add(fmt.Sprintf("must have required property '%s'", p.name))
			}
		}
		for _, k := range v.jsKeys() {
			if !slices.ContainsFunc(n.props, func(p schemaProp) bool { return p.name == k }) {
				where := "at root"
				if path != "" {
					where = "at " + path
				}
				*out = append(*out, fmt.Sprintf("%s: unexpected property '%s'", where, k))
			}
		}
		for _, p := range n.props {
			if e, ok := v.obj[p.name]; ok {
				p.node.check(e, pointer(path, p.name), out)
			}
		}
	case schemaRecord:
		if v == nil || v.kind != jsonObject {
			add("must be object")
			return
		}
		for _, k := range v.jsKeys() {
			n.elem.check(v.obj[k], pointer(path, k), out)
		}
	case schemaArray:
		if v == nil || v.kind != jsonArray {
			add("must be array")
			return
		}
		for i, e := range v.arr {
			n.elem.check(e, pointer(path, strconv.Itoa(i)), out)
		}
	case schemaString:
		if v == nil || v.kind != jsonString {
			add("must be string")
			return
		}
		if n.minLen > 0 && len([]rune(v.str)) < n.minLen {
			add(fmt.Sprintf("must NOT have fewer than %d characters", n.minLen))
		}
	case schemaInteger:
		if v == nil || v.kind != jsonNumber {
			add("must be integer")
			return
		}
		f, err := strconv.ParseFloat(v.num, 64)
		if err != nil || math.IsInf(f, 0) || f != math.Trunc(f) {
			add("must be integer")
		}
		if n.hasMin && !(f >= n.min) {
			add(fmt.Sprintf("must be >= %s", strconv.FormatFloat(n.min, 'f', -1, 64)))
		}
	case schemaBoolean:
		if v == nil || v.kind != jsonBool {
			add("must be boolean")
		}
	case schemaLiteral, schemaUnion:
		matched := false
		var errs []string
		for _, l := range n.literals {
			if v == nil || v.kind != jsonString {
				errs = append(errs, at(path, "must be string"))
			}
			if v != nil && v.kind == jsonString && v.str == l {
				matched = true
				break
			}
			errs = append(errs, at(path, "must be equal to constant"))
		}
		if matched {
			return
		}
		*out = append(*out, errs...)
		if n.kind == schemaUnion {
			add("must match a schema in anyOf")
		}
	}
}
