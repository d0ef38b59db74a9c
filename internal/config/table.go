package config

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"time"

	"github.com/goccy/go-yaml/ast"
)

// valueKind is what a key holds.
type valueKind int

// The kinds of keys.
const (
	vText     valueKind = iota // a string, read as written ("0123" stays "0123")
	vBool                      // true or false (into a bool or a *bool)
	vInt                       // a whole number
	vNumber                    // a finite number (into a *float64: absent is nil)
	vDuration                  // Go duration text, "45m" (into a Duration)
	vTexts                     // a list of strings
	vTextMap                   // a mapping of names to text values
	vObject                    // a mapping with the keys in Keys (into a struct or a *struct)
	vList                      // a list of mappings with the keys in Keys (into a []struct)
)

// spec declares one key of the file. The table of them (keys) is the only place a key
// is spelled.
type spec struct {
	// Name is the key as written in the file.
	Name string
	// Field is the Go field of the parent struct the value decodes into.
	Field string
	Kind  valueKind
	// Doc is one line for the JSON Schema's description.
	Doc string
	// Default fills the field when the file does not write the key: a value of the
	// field's type (for a *bool, a bool), or a func returning one (a fresh list each time).
	// A key with a default is always printed.
	Default any
	// Enum lists the allowed values of a text (checked here) or of a text list's items
	// (checked by the validator, which suggests the closest).
	Enum []string
	// Min and Max bound a duration (Max 0: unbounded; Min 0: 0 is allowed).
	Min, Max time.Duration
	// Keys are an object's keys, or the keys of each mapping of a list.
	Keys []spec
	// What says what a list holds, or shows an example duration, in error messages.
	What string
	// Required is published in the schema; the validator explains a missing one.
	Required bool
	// KeepEmpty keeps an empty list apart from an absent one (gates: [] is an error,
	// smoke: [] means no probes).
	KeepEmpty bool
	// Block prints a text list one item a line instead of [a, b].
	Block bool
}

func names(ks []spec) []string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = k.Name
	}
	return out
}

func lookup(ks []spec, name string) *spec {
	for i := range ks {
		if ks[i].Name == name {
			return &ks[i]
		}
	}
	return nil
}

// fieldSpec finds the key that decodes into the Go field named field.
func fieldSpec(ks []spec, field string) *spec {
	for i := range ks {
		if ks[i].Field == field {
			return &ks[i]
		}
	}
	panic("config: no key decodes into " + field)
}

// example is how a duration key's messages show a valid value.
func (k *spec) example() string {
	if d, ok := k.Default.(Duration); ok {
		return d.String()
	}
	return k.What
}

// decodeKeys decodes the mapping n into the struct dst by the table ks.
func (d *decoder) decodeKeys(path string, n ast.Node, ks []spec, dst reflect.Value) {
	d.object(path, n, names(ks), func(key, p string, v ast.Node) {
		k := lookup(ks, key)
		d.value(p, v, k, dst.FieldByName(k.Field))
	})
}

// value decodes one key's value into its field.
func (d *decoder) value(p string, v ast.Node, k *spec, f reflect.Value) {
	switch k.Kind {
	case vText:
		f.SetString(d.text(p, v, "text"))
	case vBool:
		b := d.boolean(p, v)
		if f.Kind() == reflect.Pointer {
			f.Set(reflect.ValueOf(&b))
		} else {
			f.SetBool(b)
		}
	case vInt:
		f.SetInt(int64(d.integer(p, v)))
	case vNumber:
		f.Set(reflect.ValueOf(d.number(p, v)))
	case vDuration:
		var x Duration
		d.duration(p, v, k.example(), &x)
		f.Set(reflect.ValueOf(x))
	case vTexts:
		var s []string
		d.strs(p, v, k.What, &s)
		if s == nil && k.KeepEmpty {
			s = []string{}
		}
		f.Set(reflect.ValueOf(s))
	case vTextMap:
		f.Set(reflect.ValueOf(d.inputs(p, v)))
	case vObject:
		if f.Kind() == reflect.Pointer {
			nv := reflect.New(f.Type().Elem())
			d.decodeKeys(p, v, k.Keys, nv.Elem())
			f.Set(nv)
			return
		}
		d.decodeKeys(p, v, k.Keys, f)
	case vList:
		items := list(d, p, v, k.What, func(p string, v ast.Node) reflect.Value {
			e := reflect.New(f.Type().Elem()).Elem()
			d.decodeKeys(p, v, k.Keys, e)
			return e
		})
		if len(items) == 0 && !(k.KeepEmpty && items != nil) {
			if k.KeepEmpty {
				f.Set(reflect.MakeSlice(f.Type(), 0, 0))
			}
			return
		}
		s := reflect.MakeSlice(f.Type(), len(items), len(items))
		for i, it := range items {
			if it.IsValid() { // an entry in error stays a zero value, so indexes match the file
				s.Index(i).Set(it)
			}
		}
		f.Set(s)
	default:
		panic(fmt.Sprintf("config: key %s has no kind", p))
	}
}

// fillKeys puts the defaults of ks into the struct v wherever the file did not write the
// key and the field is zero (a written zero stays, for the validator to refuse).
func fillKeys(path string, ks []spec, v reflect.Value, absent func(string) bool) {
	for i := range ks {
		k := &ks[i]
		p := join(path, k.Name)
		f := v.FieldByName(k.Field)
		if k.Default != nil && f.IsZero() && absent(p) {
			f.Set(defaultValue(k, f.Type()))
		}
		switch k.Kind {
		case vObject:
			if f.Kind() == reflect.Pointer {
				if f.IsNil() {
					continue
				}
				f = f.Elem()
			}
			fillKeys(p, k.Keys, f, absent)
		case vList:
			for j := 0; j < f.Len(); j++ {
				fillKeys(index(p, j), k.Keys, f.Index(j), absent)
			}
		}
	}
}

func defaultValue(k *spec, t reflect.Type) reflect.Value {
	dv := reflect.ValueOf(k.Default)
	if dv.Kind() == reflect.Func {
		dv = dv.Call(nil)[0]
	}
	if t.Kind() == reflect.Pointer {
		ptr := reflect.New(t.Elem())
		ptr.Elem().Set(dv.Convert(t.Elem()))
		return ptr
	}
	return dv.Convert(t)
}

// treeOf is the printed form of the struct v by the table ks: keys in table order;
// lists always; other keys when they have a default or a value.
func treeOf(ks []spec, v reflect.Value) object {
	o := object{}
	for i := range ks {
		k := &ks[i]
		f := v.FieldByName(k.Field)
		shown := k.Default != nil || !f.IsZero()
		switch k.Kind {
		case vObject:
			if f.Kind() == reflect.Pointer {
				if f.IsNil() {
					continue
				}
				f = f.Elem()
			}
			o = append(o, field{k.Name, treeOf(k.Keys, f)})
		case vList:
			items := []any{}
			for j := 0; j < f.Len(); j++ {
				items = append(items, treeOf(k.Keys, f.Index(j)))
			}
			o = append(o, field{k.Name, items})
		case vTexts:
			s := strList(f.Interface().([]string))
			if k.Block {
				o = append(o, field{k.Name, s})
			} else {
				o = append(o, field{k.Name, flowList(s)})
			}
		case vTextMap:
			m := f.Interface().(map[string]string)
			if len(m) == 0 {
				continue
			}
			in := object{}
			for _, name := range slices.Sorted(maps.Keys(m)) {
				in = append(in, field{name, m[name]})
			}
			o = append(o, field{k.Name, in})
		case vNumber:
			if !f.IsNil() {
				o = append(o, field{k.Name, f.Elem().Float()})
			}
		case vBool:
			b, set := false, true
			if f.Kind() == reflect.Pointer {
				if set = !f.IsNil(); set {
					b = f.Elem().Bool()
				} else if def, ok := k.Default.(bool); ok {
					b = def
				}
			} else {
				b = f.Bool()
			}
			if k.Default != nil || b {
				o = append(o, field{k.Name, b})
			}
		case vDuration:
			if shown {
				o = append(o, field{k.Name, f.Interface().(Duration).String()})
			}
		default:
			if shown {
				o = append(o, field{k.Name, f.Interface()})
			}
		}
	}
	return o
}

// checkKeys applies the table's own rules to the struct v: allowed values of texts and
// duration bounds. It returns the paths that failed, for checks that build on them.
func (v *validator) checkKeys(path string, ks []spec, val reflect.Value, bad map[string]bool) {
	for i := range ks {
		k := &ks[i]
		p := join(path, k.Name)
		f := val.FieldByName(k.Field)
		switch k.Kind {
		case vText:
			if len(k.Enum) > 0 && (f.String() != "" || k.Default != nil) && !slices.Contains(k.Enum, f.String()) {
				v.enum(p, f.String(), k.Enum...)
				bad[p] = true
			}
		case vDuration:
			d := f.Interface().(Duration)
			if k.Max == 0 || (k.Min == 0 && d == 0) {
				break
			}
			if k.Min == 0 {
				bad[p] = !v.durationBound(p, d, k.Max)
			} else {
				bad[p] = !v.durationRange(p, d, k.Min, k.Max)
			}
		case vObject:
			if f.Kind() == reflect.Pointer {
				if f.IsNil() {
					continue
				}
				f = f.Elem()
			}
			v.checkKeys(p, k.Keys, f, bad)
		case vList:
			for j := 0; j < f.Len(); j++ {
				v.checkKeys(index(p, j), k.Keys, f.Index(j), bad)
			}
		}
	}
}

// pathsOf maps the address of every field the table knows in c (list items included)
// to its path, so the validator names a field by the field itself, never by spelling
// its key.
func pathsOf(c *Config) map[fieldID]string {
	m := map[fieldID]string{}
	var walk func(path string, ks []spec, v reflect.Value)
	walk = func(path string, ks []spec, v reflect.Value) {
		for i := range ks {
			k := &ks[i]
			p := join(path, k.Name)
			f := v.FieldByName(k.Field)
			m[fieldID{f.Addr().Pointer(), f.Type()}] = p
			switch k.Kind {
			case vObject:
				if f.Kind() == reflect.Pointer {
					if f.IsNil() {
						continue
					}
					f = f.Elem()
				}
				walk(p, k.Keys, f)
			case vList:
				for j := 0; j < f.Len(); j++ {
					m[fieldID{f.Index(j).Addr().Pointer(), f.Index(j).Type()}] = index(p, j)
					walk(index(p, j), k.Keys, f.Index(j))
				}
			case vTexts:
				for j := 0; j < f.Len(); j++ {
					m[fieldID{f.Index(j).Addr().Pointer(), f.Index(j).Type()}] = index(p, j)
				}
			}
		}
	}
	walk("", keys, reflect.ValueOf(c).Elem())
	return m
}

// Path is the key path of a field of c, given its address, for a message about a value
// that came from the file: c.Path(&c.Environments[1].Monitor.Prometheus.TokenEnv) is
// "environments[1].monitor.prometheus.token-env". It panics for a pointer that is not a
// field of c (a programming error).
func (c *Config) Path(field any) string {
	v := &validator{paths: pathsOf(c)}
	return v.path(field)
}

type fieldID struct {
	addr uintptr
	typ  reflect.Type
}
