package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

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
		k, err := json.Marshal(f.key)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(f.val)
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

func (c *Config) tree() object {
	gates := []any{}
	for _, g := range c.Gates {
		gates = append(gates, gateTree(g))
	}
	envs := []any{}
	for _, e := range c.Environments {
		envs = append(envs, environmentTree(e))
	}
	pol := c.Policy
	tags := c.Tags
	deploy := object{{"workflow", c.Deploy.Workflow}}
	if c.Deploy.Event != "" {
		deploy = append(deploy, field{"event", c.Deploy.Event})
	}
	owners := object{}
	for _, f := range []field{{"release", c.Owners.Release}, {"security", c.Owners.Security}, {"on-call", c.Owners.OnCall}} {
		if f.val != "" {
			owners = append(owners, f)
		}
	}
	out := object{
		{"gates", gates},
		{"policy", object{
			{"skipped", pol.Skipped},
			{"neutral", pol.Neutral},
			{"timeout", pol.Timeout.String()},
			{"appear-timeout", pol.AppearTimeout.String()},
			{"fail-fast", pol.ShouldFailFast()},
			{"ignore", flowList(strList(pol.Ignore))},
		}},
		{"tags", object{
			{"candidate", tags.Candidate},
			{"release", tags.Release},
			{"github-release", tags.GitHubRelease == nil || *tags.GitHubRelease},
			{"prerelease", tags.Prerelease},
			{"version-file", tags.VersionFile},
		}},
		{"deploy", deploy},
		{"environments", envs},
		{"owners", owners},
		{"rollback", object{
			{"stop-rollout", c.Rollback.ShouldStopRollout()},
			{"stop-workflows", flowList(strList(c.Rollback.StopWorkflows))},
			{"stop-grace", c.Rollback.Grace().String()},
			{"stop-timeout", c.Rollback.Timeout().String()},
		}},
	}
	if len(c.Announce.Webhooks) > 0 {
		var hooks []any
		for _, w := range c.Announce.Webhooks {
			o := object{{"env", w.Env}}
			if w.Format != "" {
				o = append(o, field{"format", w.Format})
			}
			hooks = append(hooks, o)
		}
		out = append(out, field{"announce", object{{"webhooks", hooks}}})
	}
	return out
}

func gateTree(g Gate) object {
	o := object{{"name", g.Name}}
	if g.Check != "" {
		o = append(o, field{"check", g.Check})
	}
	if g.Workflow != "" {
		o = append(o, field{"workflow", g.Workflow})
	}
	if g.Kind() == KindWorkflow {
		o = append(o, field{"dispatch", g.Dispatch})
	}
	if len(g.Inputs) > 0 {
		in := object{}
		for _, k := range slices.Sorted(maps.Keys(g.Inputs)) {
			in = append(in, field{k, g.Inputs[k]})
		}
		o = append(o, field{"inputs", in})
	}
	if t := g.Tests; t != nil {
		to := object{{"workflow", t.Workflow}, {"job", t.Job}}
		if t.Step != "" {
			to = append(to, field{"step", t.Step})
		}
		to = append(to, field{"files", strList(t.Files)})
		if t.JUnitArtifact != "" {
			to = append(to, field{"junit-artifact", t.JUnitArtifact})
		}
		to = append(to, field{"reporter", t.Reporter})
		o = append(o, field{"tests", to})
	}
	return o
}

func environmentTree(e Environment) object {
	o := object{{"name", e.Name}}
	for _, f := range []field{{"url", e.URL}, {"origin", e.Origin}, {"token-env", e.TokenEnv}, {"password-env", e.PasswordEnv}} {
		if f.val != "" {
			o = append(o, f)
		}
	}
	o = append(o, field{"timeout", e.Timeout.String()}, field{"smoke", flowList(strList(e.Smoke))})
	if w := e.Window; w != nil {
		weekly := []any{}
		for _, ww := range w.Weekly {
			weekly = append(weekly, object{{"days", flowList(strList(ww.Days))}, {"start", ww.Start}, {"end", ww.End}})
		}
		freeze := []any{}
		for _, f := range w.Freeze {
			fo := object{{"from", f.From}, {"to", f.To}}
			if f.Reason != "" {
				fo = append(fo, field{"reason", f.Reason})
			}
			freeze = append(freeze, fo)
		}
		o = append(o, field{"window", object{
			{"timezone", w.Timezone},
			{"weekly", weekly},
			{"freeze", freeze},
			{"max-wait", w.MaxWait.String()},
		}})
	}
	if m := e.Monitor; m != nil {
		mo := object{
			{"duration", m.Duration.String()},
			{"interval", m.Interval.String()},
			{"sustained", m.Sustained},
			{"auto-rollback", m.AutoRollback},
			{"no-data", m.NoData},
			{"smoke", flowList(strList(m.Smoke))},
		}
		if p := m.Prometheus; p != nil {
			po := object{{"url", p.URL}}
			if p.TokenEnv != "" {
				po = append(po, field{"token-env", p.TokenEnv})
			}
			checks := []any{}
			for _, mc := range p.Checks {
				co := object{{"name", mc.Name}, {"query", mc.Query}}
				if mc.Max != nil {
					co = append(co, field{"max", *mc.Max})
				}
				if mc.Min != nil {
					co = append(co, field{"min", *mc.Min})
				}
				checks = append(checks, co)
			}
			po = append(po, field{"checks", checks})
			mo = append(mo, field{"prometheus", po})
		}
		o = append(o, field{"monitor", mo})
	}
	return o
}
