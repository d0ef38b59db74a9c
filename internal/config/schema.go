package config

import (
	"bytes"
	"encoding/json"
	"reflect"
)

// SchemaID is where the published schema is read from (the file SchemaPath in the
// repository, on the v1 branch).
const SchemaID = "https://raw.githubusercontent.com/agentme/release-action/v1/" + SchemaPath

// SchemaPath is the JSON Schema of the configuration file in the repository. A test
// regenerates it from the key table (go test ./internal/config -update) and fails when
// it is stale.
const SchemaPath = ".github/release-action.schema.json"

// durationPattern is the text time.ParseDuration reads (Go duration text, "45m", "1h30m").
const durationPattern = `^[-+]?(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+$|^[-+]?0$`

// Schema returns the JSON Schema (draft 2020-12) of .github/release-action.yml, built
// from the key table: editors validate and complete the file with it. It checks the
// shape (keys, kinds, allowed values); the loader checks the rest (gate kinds, URLs,
// windows, ...) and explains each problem.
func Schema() []byte {
	root := schemaObject(keys, "")
	root = append(object{
		{"$schema", "https://json-schema.org/draft/2020-12/schema"},
		{"$id", SchemaID},
		{"title", "release-action configuration (" + DefaultPath + ")"},
	}, root...)
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(root); err != nil {
		panic("config: the schema does not encode: " + err.Error()) // only a bad table gets here
	}
	return b.Bytes()
}

// schemaObject describes a mapping with the keys ks. Every key may be left empty
// (`key:` with no value counts as absent), so null is allowed wherever a value is.
func schemaObject(ks []spec, doc string) object {
	props := object{}
	var required []string
	for i := range ks {
		props = append(props, field{ks[i].Name, schemaKey(&ks[i])})
		if ks[i].Required {
			required = append(required, ks[i].Name)
		}
	}
	o := object{{"type", "object"}}
	if doc != "" {
		o = append(o, field{"description", doc})
	}
	o = append(o, field{"additionalProperties", false}, field{"properties", props})
	if len(required) > 0 {
		o = append(o, field{"required", required})
	}
	return o
}

func schemaKey(k *spec) object {
	nullable := func(t string) []string { return []string{t, "null"} }
	o := object{}
	switch k.Kind {
	case vText:
		o = append(o, field{"type", nullable("string")}, field{"description", k.Doc})
		if len(k.Enum) > 0 {
			o = append(o, field{"enum", append(append([]any{}, toAny(k.Enum)...), nil)})
		}
	case vBool:
		o = append(o, field{"type", nullable("boolean")}, field{"description", k.Doc})
	case vInt:
		o = append(o, field{"type", nullable("integer")}, field{"description", k.Doc})
	case vNumber:
		o = append(o, field{"type", nullable("number")}, field{"description", k.Doc})
	case vDuration:
		o = append(o, field{"type", nullable("string")}, field{"description", k.Doc + ` (Go duration, like "45m" or "1h30m")`},
			field{"pattern", durationPattern})
	case vTexts:
		item := object{{"type", "string"}}
		if len(k.Enum) > 0 {
			item = append(item, field{"enum", k.Enum})
		}
		o = append(o, field{"type", nullable("array")}, field{"description", k.Doc}, field{"items", item})
	case vTextMap:
		o = append(o, field{"type", nullable("object")}, field{"description", k.Doc},
			field{"additionalProperties", object{{"type", []string{"string", "number", "boolean", "null"}}}})
	case vObject:
		o = schemaObject(k.Keys, k.Doc)
		o[0] = field{"type", nullable("object")}
	case vList:
		o = append(o, field{"type", nullable("array")}, field{"description", k.Doc}, field{"items", schemaObject(k.Keys, "")})
	}
	if def, ok := schemaDefault(k); ok {
		o = append(o, field{"default", def})
	}
	return o
}

// schemaDefault is a key's default as JSON, for scalars and text lists (the built-in
// gates are described in the README rather than repeated in the schema).
func schemaDefault(k *spec) (any, bool) {
	if k.Default == nil || k.Kind == vList {
		return nil, false
	}
	v := reflect.ValueOf(k.Default)
	if v.Kind() == reflect.Func {
		v = v.Call(nil)[0]
	}
	if d, ok := v.Interface().(Duration); ok {
		return d.String(), true
	}
	return v.Interface(), true
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}
