package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/goccy/go-yaml"
)

// YAML renders the effective configuration, every default filled in, as a file that Parse
// reads back to an equal Config. It is what `release-action config` prints.
func (c *Config) YAML() string {
	b, err := yaml.MarshalWithOptions(toYAML(c.tree()), yaml.Indent(2), yaml.IndentSequence(true))
	if err != nil {
		// Only a value no YAML can hold gets here; say so rather than print half a file.
		return fmt.Sprintf("# cannot render the configuration: %v\n", err)
	}
	return string(b)
}

// JSON renders the effective configuration as indented JSON with the same keys and order
// as YAML.
func (c *Config) JSON() string {
	b, err := json.MarshalIndent(c.tree(), "", "  ")
	if err != nil {
		b, _ = json.Marshal(map[string]string{"error": "cannot render the configuration: " + err.Error()})
	}
	return string(b) + "\n"
}

// object is a mapping that keeps its keys in the order they were added, so the printed
// configuration reads in the order of the documentation rather than alphabetically.
type object []field

type field struct {
	key string
	val any
}

func (o object) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			buf.WriteByte(',')
		}
		k, err := marshal(f.key)
		if err != nil {
			return nil, err
		}
		v, err := marshal(f.val)
		if err != nil {
			return nil, err
		}
		buf.Write(k)
		buf.WriteByte(':')
		buf.Write(v)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// marshal is json.Marshal without HTML escaping: the text is shown to people and read
// by editors ("<regexp>", "Jane <jane@example.com>"), never embedded in HTML.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

func toYAML(v any) any {
	switch x := v.(type) {
	case object:
		m := make(yaml.MapSlice, 0, len(x))
		for _, f := range x {
			m = append(m, yaml.MapItem{Key: f.key, Value: toYAML(f.val)})
		}
		return m
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = toYAML(e)
		}
		return out
	default:
		return v
	}
}

// flowList is a list of short words printed on one line: smoke: [connect-auth, channel].
type flowList []string

// MarshalYAML implements goccy's BytesMarshaler.
func (f flowList) MarshalYAML() ([]byte, error) {
	return yaml.MarshalWithOptions([]string(strList(f)), yaml.Flow(true))
}

// strList keeps an empty list a list ([]), never null.
func strList(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (c *Config) tree() object { return treeOf(keys, reflect.ValueOf(c).Elem()) }
