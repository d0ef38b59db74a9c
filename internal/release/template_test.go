package release

import (
	"github.com/agentme/release-action/internal/config"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTemplateRenderParse(t *testing.T) {
	tests := []struct {
		template string
		fields   Fields
		want     string
		prefix   string
		// names that must not parse
		others []string
	}{
		{
			template: "v{version}-rc.{n}", fields: Fields{N: 12}, want: "v1.2.3-rc.12", prefix: "v1.2.3-rc.",
			others: []string{"v1.2.3-rc.0", "v1.2.3-rc.012", "v1.2.3-rc.", "v1.2.3-rc.1x", "v1.2.4-rc.1", "v1.2.3-rc.1234567890", "v1.2.3", "xv1.2.3-rc.1", "v1.2.3-rc.-1", "v1.2.3-rc.+1"},
		},
		{template: "v{version}", want: "v1.2.3", prefix: "v1.2.3", others: []string{"v1.2.3-rc.1", "v1.2.3.1", "v1.2"}},
		{
			template: "{date}-{sha7}.{n}", fields: Fields{N: 3, Date: "20261123"}, want: "20261123-0123456.3", prefix: "",
			others: []string{"20261323-0123456.3", "2026112-0123456.3", "20261123-fedcba9.3", "2026112a-0123456.3"},
		},
		{template: "rc{n}{date}", fields: Fields{N: 120, Date: "20270105"}, want: "rc12020270105", prefix: "rc", others: []string{"rc020270105", "rc20270105"}},
		{template: "{n}.{n}", fields: Fields{N: 7}, want: "7.7", prefix: "", others: []string{"7.8", "7.77", "77.7"}},
		{template: "{n}{n}", fields: Fields{N: 12}, want: "1212", prefix: "", others: []string{"121", "1213", "12120"}},
		{template: "v{version}-{date}-{date}", fields: Fields{Date: "20261231"}, want: "v1.2.3-20261231-20261231", prefix: "v1.2.3-", others: []string{"v1.2.3-20261231-20261230"}},
	}
	for _, tt := range tests {
		t.Run(tt.template, func(t *testing.T) {
			tpl, err := ParseTemplate(tt.template)
			require.NoError(t, err)
			p := tpl.Bind("1.2.3", testSHA)
			got := p.Render(tt.fields)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.prefix, p.Prefix())
			assert.True(t, strings.HasPrefix(got, p.Prefix()))
			f, ok := p.Parse(got)
			require.True(t, ok, "a rendered name parses")
			assert.Equal(t, tt.fields, f)
			for _, o := range tt.others {
				_, ok := p.Parse(o)
				assert.False(t, ok, "%q must not parse as %s", o, tt.template)
			}
		})
	}
}

func TestParseTemplateErrors(t *testing.T) {
	for tpl, want := range map[string]string{
		"v{version":      `tag template "v{version" has a { without a closing }`,
		"v{ver{sion}}":   `tag template "v{ver{sion}}" has a { without a closing }`,
		"v}":             `tag template "v}" has a } without an opening {`,
		"v{major}":       `tag template "v{major}" uses the unknown placeholder {major}`,
		"":               "tag template is empty",
		"v{version}-{N}": "uses the unknown placeholder {N}",
	} {
		_, err := ParseTemplate(tpl)
		require.Error(t, err, tpl)
		assert.Contains(t, err.Error(), want)
	}
	lit := LiteralTemplate("v{version}")
	p := lit.Bind("9.9.9", testSHA)
	assert.Equal(t, "v{version}", p.Render(Fields{}), "an explicit tag is taken as it is")
	assert.False(t, p.Variable())
}

// FuzzTemplate: a rendered name always parses back to the same fields, and a name that
// parses always renders back to itself (so names that do not match never parse).
func FuzzTemplate(f *testing.F) {
	f.Add("v{version}-rc.{n}", "1.2.3", uint32(1), uint16(0), "v1.2.3-rc.01")
	f.Add("{n}{n}", "", uint32(12), uint16(5), "1212")
	f.Add("{date}{n}-{sha7}", "x", uint32(999999999), uint16(400), "202611231-0123456")
	f.Add("rel-{version}", "{n}", uint32(3), uint16(1), "rel-{n}")
	f.Fuzz(func(t *testing.T, template, version string, n uint32, day uint16, name string) {
		tpl, err := ParseTemplate(template)
		if err != nil {
			return
		}
		p := tpl.Bind(version, testSHA)
		want := Fields{}
		if tpl.UsesN() {
			want.N = int(n%999999999) + 1
		}
		if tpl.has(segDate) {
			want.Date = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, int(day)).Format(dateLayout)
		}
		rendered := p.Render(want)
		got, ok := p.Parse(rendered)
		if !ok || got != want {
			t.Fatalf("template %q version %q: %q parsed as %+v, %v; want %+v", template, version, rendered, got, ok, want)
		}
		if !strings.HasPrefix(rendered, p.Prefix()) {
			t.Fatalf("%q does not start with the prefix %q", rendered, p.Prefix())
		}
		if f, ok := p.Parse(name); ok {
			if back := p.Render(f); back != name {
				t.Fatalf("template %q version %q: %q parsed as %+v, which renders %q", template, version, name, f, back)
			}
		}
	})
}

func TestCheckTagName(t *testing.T) {
	for _, ok := range []string{"v1.2.3", "v1.2.3-rc.1", "release/2026-11-24", "agentme@1.2.3"} {
		assert.NoError(t, config.CheckTagName(ok), ok)
	}
	for _, bad := range []string{"", "@", "-v1", "v1..2", "v1.", "v1 2", "v1~2", "v1^2", "v1:2", "v1?", "v1*", "v1[2", `v1\2`,
		"a//b", "/a", "a/", "a/.b", "a.lock", "v@{1}", "v\x7f", strings.Repeat("a", 201)} {
		assert.Error(t, config.CheckTagName(bad), "%q", bad)
	}
}
