package ghemu

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/validator"
)

// gqlError is one entry of a GraphQL answer's errors[], with GitHub's extra "type".
type gqlError struct {
	Type       string              `json:"type,omitempty"`
	Path       []any               `json:"path,omitempty"`
	Extensions map[string]any      `json:"extensions,omitempty"`
	Locations  []gqlerror.Location `json:"locations,omitempty"`
	Message    string              `json:"message"`
}

type gqlResponse struct {
	Data   any        `json:"data,omitempty"`
	Errors []gqlError `json:"errors,omitempty"`
}

func gqlErrors(errs ...gqlError) reply { return jsonReply(http.StatusOK, gqlResponse{Errors: errs}) }

var undefinedFieldRe = regexp.MustCompile(`^Cannot query field "([^"]+)" on type "([^"]+)"\.`)

// fromValidation converts gqlparser's errors, rewording the most common one the way
// GitHub (graphql-ruby) says it.
func fromValidation(list gqlerror.List) []gqlError {
	var out []gqlError
	for _, e := range list {
		g := gqlError{Message: e.Message, Locations: e.Locations, Extensions: e.Extensions}
		if m := undefinedFieldRe.FindStringSubmatch(e.Message); m != nil {
			g.Message = fmt.Sprintf("Field '%s' doesn't exist on type '%s'", m[1], m[2])
			g.Extensions = map[string]any{"code": "undefinedField", "typeName": m[2], "fieldName": m[1]}
		}
		for _, p := range e.Path {
			g.Path = append(g.Path, p)
		}
		out = append(out, g)
	}
	return out
}

func (s *Server) graphqlHandler(c *rc) reply {
	var req struct {
		Query         *string        `json:"query"`
		Variables     map[string]any `json:"variables"`
		OperationName string         `json:"operationName"`
	}
	if err := json.Unmarshal(c.body, &req); err != nil {
		return errReply(http.StatusBadRequest, "Problems parsing JSON")
	}
	if req.Query == nil || strings.TrimSpace(*req.Query) == "" {
		return gqlErrors(gqlError{Message: "A query attribute must be specified and must be a string."})
	}
	c.w.queries = append(c.w.queries, *req.Query)
	doc, verrs := gqlparser.LoadQueryWithRules(schema, *req.Query, nil)
	if len(verrs) > 0 {
		return gqlErrors(fromValidation(verrs)...)
	}
	var op *ast.OperationDefinition
	switch {
	case req.OperationName != "":
		op = doc.Operations.ForName(req.OperationName)
		if op == nil {
			return gqlErrors(gqlError{Message: fmt.Sprintf("No operation named %q", req.OperationName)})
		}
	case len(doc.Operations) == 1:
		op = doc.Operations[0]
	default:
		return gqlErrors(gqlError{Message: "An operation name is required"})
	}
	if op.Operation != ast.Query {
		return gqlErrors(gqlError{Message: "Schema is not configured for " + string(op.Operation) + "s"})
	}
	vars, err := validator.VariableValues(schema, op, req.Variables)
	if err != nil {
		return gqlErrors(variableError(op, req.Variables, err))
	}

	e := &exec{c: c, doc: doc, vars: vars, memo: newMemo()}
	a := analysis{e: e}
	a.walk(op.SelectionSet, 1, map[string]bool{})
	if a.nodes > maxNodes && len(a.errs) == 0 {
		a.errs = append(a.errs, gqlError{Type: "MAX_NODE_LIMIT_EXCEEDED",
			Message: fmt.Sprintf("This query requests up to %d possible nodes which exceeds the maximum limit of %d.", a.nodes, maxNodes)})
	}
	if len(a.errs) > 0 {
		return gqlErrors(a.errs...)
	}
	cost := max(1, int(math.Round(float64(a.requests)/100)))
	b := &c.w.graphql
	b.refresh(c.now)
	if b.remaining() < cost {
		return gqlErrors(gqlError{Type: "RATE_LIMITED", Message: "API rate limit already exceeded for user ID 1."})
	}
	if !a.dryRun {
		b.used += cost
		c.w.stats.GraphQLPoints += cost
	}
	e.rate = rateObj{cost: cost, nodeCount: a.nodes, b: *b}

	data, ok := e.selectionSet("Query", queryObj{}, op.SelectionSet, nil)
	var out bytes.Buffer
	out.WriteString(`{"data":`)
	if !ok {
		out.WriteString("null")
	} else if err := writeJSON(&out, data); err != nil {
		panic(fmt.Sprintf("ghemu: encode GraphQL data: %v", err))
	}
	if len(e.errs) > 0 {
		out.WriteString(`,"errors":`)
		out.Write(jsonBody(e.errs))
	}
	out.WriteByte('}')
	return reply{status: http.StatusOK, body: out.Bytes()}
}

// variableError words a variable coercion failure as GitHub does, with gqlparser's
// explanation in extensions.problems.
func variableError(op *ast.OperationDefinition, given map[string]any, err error) gqlError {
	ge, ok := err.(*gqlerror.Error)
	if !ok || len(ge.Path) < 2 {
		return gqlError{Message: err.Error()}
	}
	name := fmt.Sprint(ge.Path[1])
	typ := "?"
	var loc []gqlerror.Location
	if vd := op.VariableDefinitions.ForName(name); vd != nil {
		typ = vd.Type.String()
		if vd.Position != nil {
			loc = []gqlerror.Location{{Line: vd.Position.Line, Column: vd.Position.Column}}
		}
	}
	var sub []any
	for _, p := range ge.Path[2:] {
		sub = append(sub, p)
	}
	return gqlError{
		Message:    fmt.Sprintf("Variable $%s of type %s was provided invalid value", name, typ),
		Locations:  loc,
		Extensions: map[string]any{"value": given[name], "problems": []any{map[string]any{"path": listOrEmpty(sub), "explanation": ge.Message}}},
	}
}

func listOrEmpty(l []any) []any {
	if l == nil {
		return []any{}
	}
	return l
}

// maxNodes is GitHub's limit on the nodes one query may request.
const maxNodes = 500_000

// analysis checks pagination arguments and estimates the cost the way GitHub
// documents it: every connection needs one request per parent node that may hold it.
// As documented, every connection must have first or last within 1-100.
type analysis struct {
	e               *exec
	requests, nodes int
	errs            []gqlError
	dryRun          bool
}

func (a *analysis) walk(sel ast.SelectionSet, mult int, seen map[string]bool) {
	for _, s := range sel {
		switch s := s.(type) {
		case *ast.Field:
			a.field(s, mult, seen)
		case *ast.InlineFragment:
			a.walk(s.SelectionSet, mult, seen)
		case *ast.FragmentSpread:
			if s.Definition != nil && !seen[s.Name] {
				seen[s.Name] = true
				a.walk(s.Definition.SelectionSet, mult, seen)
				delete(seen, s.Name)
			}
		}
	}
}

func (a *analysis) field(f *ast.Field, mult int, seen map[string]bool) {
	if f.Definition == nil {
		return
	}
	args := f.ArgumentMap(a.e.vars)
	if f.Name == "rateLimit" {
		if d, ok := args["dryRun"].(bool); ok && d {
			a.dryRun = true
		}
	}
	if !strings.HasSuffix(f.Definition.Type.Name(), "Connection") || f.Definition.Arguments.ForName("first") == nil {
		a.walk(f.SelectionSet, mult, seen)
		return
	}
	loc := []gqlerror.Location{{Line: f.Position.Line, Column: f.Position.Column}}
	n := 0
	given := false
	for _, name := range []string{"first", "last"} {
		v, ok := asInt(args[name])
		if !ok {
			continue
		}
		given = true
		switch {
		case v < 1:
			a.errs = append(a.errs, gqlError{Type: "INVALID_PAGINATION", Locations: loc,
				Message: fmt.Sprintf("`%s` on the `%s` connection must be within 1-100; %d was given.", name, f.Name, v)})
		case v > 100:
			a.errs = append(a.errs, gqlError{Type: "EXCESSIVE_PAGINATION", Locations: loc,
				Message: fmt.Sprintf("Requesting %d records on the `%s` connection exceeds the `%s` limit of 100 records.", v, f.Name, name)})
		}
		n = max(n, v)
	}
	if !given {
		a.errs = append(a.errs, gqlError{Type: "MISSING_PAGINATION_BOUNDARIES", Locations: loc,
			Message: fmt.Sprintf("You must provide a `first` or `last` value to properly paginate the `%s` connection.", f.Name)})
	}
	a.requests += mult
	a.nodes += mult * n
	a.walk(f.SelectionSet, mult*max(n, 0), seen)
}

func asInt(v any) (int, bool) {
	switch x := v.(type) {
	case int:
		return x, true
	case int32:
		return int(x), true
	case int64:
		return int(x), true
	case float64:
		return int(x), true
	case json.Number:
		n, err := x.Int64()
		return int(n), err == nil
	case string:
		n, err := strconv.Atoi(x)
		return n, err == nil
	}
	return 0, false
}

// ---- executor ----

// exec runs one validated operation over the world (Server.mu held).
type exec struct {
	c    *rc
	doc  *ast.QueryDocument
	vars map[string]any
	errs []gqlError
	rate rateObj
	memo memo
}

// typed carries a value whose GraphQL type is abstract (interface or union).
type typed struct {
	name string
	v    any
}

// omap is a JSON object that keeps the selection order, as GraphQL answers do.
type omap struct {
	keys []string
	vals []any
}

// MarshalJSON writes the object in one pass (nested omaps are not re-compacted).
func (m *omap) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	if err := writeJSON(&b, m); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func writeJSON(b *bytes.Buffer, v any) error {
	switch x := v.(type) {
	case *omap:
		b.WriteByte('{')
		for i, k := range x.keys {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeJSON(b, k); err != nil {
				return err
			}
			b.WriteByte(':')
			if err := writeJSON(b, x.vals[i]); err != nil {
				return err
			}
		}
		b.WriteByte('}')
		return nil
	case []any:
		b.WriteByte('[')
		for i, it := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeJSON(b, it); err != nil {
				return err
			}
		}
		b.WriteByte(']')
		return nil
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	b.Write(raw)
	return nil
}

type fieldGroup struct {
	key    string
	fields []*ast.Field
}

func (e *exec) collect(typeName string, sel ast.SelectionSet, groups *[]*fieldGroup, idx map[string]*fieldGroup, seen map[string]bool) {
	for _, s := range sel {
		switch s := s.(type) {
		case *ast.Field:
			if !e.included(s.Directives) {
				continue
			}
			key := s.Alias
			if key == "" {
				key = s.Name
			}
			if g, ok := idx[key]; ok {
				g.fields = append(g.fields, s)
				continue
			}
			g := &fieldGroup{key: key, fields: []*ast.Field{s}}
			idx[key] = g
			*groups = append(*groups, g)
		case *ast.InlineFragment:
			if e.included(s.Directives) && e.applies(typeName, s.TypeCondition) {
				e.collect(typeName, s.SelectionSet, groups, idx, seen)
			}
		case *ast.FragmentSpread:
			fd := e.doc.Fragments.ForName(s.Name)
			if fd == nil || seen[s.Name] || !e.included(s.Directives) || !e.applies(typeName, fd.TypeCondition) {
				continue
			}
			seen[s.Name] = true
			e.collect(typeName, fd.SelectionSet, groups, idx, seen)
		}
	}
}

func (e *exec) included(ds ast.DirectiveList) bool {
	for _, d := range ds {
		a := d.Arguments.ForName("if")
		if a == nil {
			continue
		}
		v, _ := a.Value.Value(e.vars)
		b, _ := v.(bool)
		if (d.Name == "skip" && b) || (d.Name == "include" && !b) {
			return false
		}
	}
	return true
}

func (e *exec) applies(typeName, cond string) bool {
	if cond == "" || cond == typeName {
		return true
	}
	for _, d := range schema.GetPossibleTypes(schema.Types[cond]) {
		if d.Name == typeName {
			return true
		}
	}
	return false
}

func (e *exec) errorAt(f *ast.Field, path []any, typ, msg string) {
	g := gqlError{Type: typ, Message: msg, Path: append([]any(nil), path...)}
	if f != nil && f.Position != nil {
		g.Locations = []gqlerror.Location{{Line: f.Position.Line, Column: f.Position.Column}}
	}
	e.errs = append(e.errs, g)
}

// selectionSet executes sel on src of the object type typeName; ok=false means a
// non-null field was null and the object itself must become null.
func (e *exec) selectionSet(typeName string, src any, sel ast.SelectionSet, path []any) (*omap, bool) {
	var groups []*fieldGroup
	e.collect(typeName, sel, &groups, map[string]*fieldGroup{}, map[string]bool{})
	out := &omap{}
	for _, g := range groups {
		f := g.fields[0]
		fpath := append(append([]any(nil), path...), g.key)
		var val any
		if f.Name == "__typename" {
			val = typeName
			out.keys, out.vals = append(out.keys, g.key), append(out.vals, val)
			continue
		}
		def := schema.Types[typeName].Fields.ForName(f.Name)
		if def == nil {
			e.errorAt(f, fpath, "", fmt.Sprintf("Field '%s' doesn't exist on type '%s'", f.Name, typeName))
			return nil, false
		}
		v, err := e.resolve(typeName, src, f)
		if err != nil {
			var te typedErr
			msg, typ := err.Error(), ""
			if ok := asTypedErr(err, &te); ok {
				msg, typ = te.msg, te.typ
			}
			e.errorAt(f, fpath, typ, msg)
			v = nil
		}
		cv, ok := e.complete(def.Type, v, g.fields, fpath)
		if !ok {
			return nil, false
		}
		out.keys, out.vals = append(out.keys, g.key), append(out.vals, cv)
	}
	return out, true
}

// complete shapes a resolved value by its declared type; ok=false propagates null.
func (e *exec) complete(t *ast.Type, v any, fields []*ast.Field, path []any) (any, bool) {
	if isNull(v) {
		if t.NonNull {
			e.errorAt(fields[0], path, "", fmt.Sprintf("Cannot return null for non-nullable field %s", fields[0].Name))
			return nil, false
		}
		return nil, true
	}
	if t.Elem != nil {
		items := reflect.ValueOf(v)
		list := make([]any, 0, items.Len())
		for i := 0; i < items.Len(); i++ {
			cv, ok := e.complete(t.Elem, items.Index(i).Interface(), fields, append(path, i))
			if !ok {
				if t.NonNull {
					return nil, false
				}
				return nil, true
			}
			list = append(list, cv)
		}
		return list, true
	}
	def := schema.Types[t.NamedType]
	switch def.Kind {
	case ast.Scalar, ast.Enum:
		return serialize(v), true
	}
	name := t.NamedType
	if tv, ok := v.(typed); ok {
		name, v = tv.name, tv.v
	} else if def.Kind != ast.Object {
		panic(fmt.Sprintf("ghemu: value for abstract type %s carries no concrete type", t.NamedType))
	}
	var sel ast.SelectionSet
	for _, f := range fields {
		sel = append(sel, f.SelectionSet...)
	}
	obj, ok := e.selectionSet(name, v, sel, path)
	if !ok {
		if t.NonNull {
			return nil, false
		}
		return nil, true
	}
	return obj, true
}

func isNull(v any) bool {
	if v == nil {
		return true
	}
	if t, ok := v.(time.Time); ok {
		return t.IsZero()
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Interface:
		return rv.IsNil()
	}
	return false
}

func serialize(v any) any {
	switch x := v.(type) {
	case time.Time:
		return x.UTC().Format(time.RFC3339)
	case *string:
		return *x
	}
	return v
}

// typedErr is an execution error with GitHub's error type (NOT_FOUND, ...).
type typedErr struct{ typ, msg string }

func (t typedErr) Error() string { return t.msg }

func asTypedErr(err error, out *typedErr) bool {
	te, ok := err.(typedErr)
	if ok {
		*out = te
	}
	return ok
}

// ---- connections ----

// connection is a page of any connection type; edges and pageInfo are derived.
type connection struct {
	items   []any
	offset  int
	total   int
	hasNext bool
	hasPrev bool
	extra   map[string]any // type-specific fields; a func() any is computed when asked
}

type edge struct {
	cursor string
	node   any
}

type pageInfo struct {
	start, end       *string
	hasNext, hasPrev bool
}

func cursorOf(i int) string {
	return base64.StdEncoding.EncodeToString([]byte("cursor:v2:" + strconv.Itoa(i+1)))
}

func parseCursor(s string) (int, bool) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimPrefix(string(b), "cursor:v2:"))
	if err != nil || !strings.HasPrefix(string(b), "cursor:v2:") || n < 1 {
		return 0, false
	}
	return n - 1, true
}

// page applies after/before/first/last to all.
func page(all []any, args map[string]any) (*connection, error) {
	from, to := 0, len(all)
	if a, ok := args["after"].(string); ok {
		i, ok := parseCursor(a)
		if !ok {
			return nil, fmt.Errorf("`%s` does not appear to be a valid cursor.", a)
		}
		from = min(i+1, len(all))
	}
	if b, ok := args["before"].(string); ok {
		i, ok := parseCursor(b)
		if !ok {
			return nil, fmt.Errorf("`%s` does not appear to be a valid cursor.", b)
		}
		to = max(min(i, len(all)), from)
	}
	c := &connection{total: len(all), hasPrev: from > 0, hasNext: to < len(all)}
	if n, ok := asInt(args["first"]); ok && n < to-from {
		to = from + n
		c.hasNext = true
	}
	if n, ok := asInt(args["last"]); ok && n < to-from {
		from = to - n
		c.hasPrev = true
	}
	c.items, c.offset = all[from:to], from
	return c, nil
}

func (c *connection) field(name string) (any, bool) {
	switch name {
	case "totalCount":
		return c.total, true
	case "nodes":
		return c.items, true
	case "edges":
		out := make([]any, len(c.items))
		for i, it := range c.items {
			out[i] = &edge{cursor: cursorOf(c.offset + i), node: it}
		}
		return out, true
	case "pageInfo":
		p := pageInfo{hasNext: c.hasNext, hasPrev: c.hasPrev}
		if len(c.items) > 0 {
			s, e := cursorOf(c.offset), cursorOf(c.offset+len(c.items)-1)
			p.start, p.end = &s, &e
		}
		return p, true
	}
	v, ok := c.extra[name]
	if f, lazy := v.(func() any); lazy {
		v = f()
	}
	return v, ok
}
