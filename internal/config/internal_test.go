package config

import (
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestCheckTemplate(t *testing.T) {
	for _, tc := range []struct {
		tmpl string
		err  string
	}{
		{"v{version}-rc.{n}", ""},
		{"release-{date}-{sha7}", ""},
		{"agentme/v{version}", ""},
		{"{version}", ""},
		{"v{Version}", `unknown placeholder "{Version}"`},
		{"v{version", "a { without a closing }"},
		{"v{{version}}", "a { without a closing }"},
		{"v}version{", "a } without an opening {"},
		{"v{}", `unknown placeholder "{}"`},
		{"v{version}.lock", "ends with '.lock'"},
		{"-v{version}", "starts with '-'"},
		{"v{version}..{n}", "contains '..'"},
		{"v{version}~{n}", "contains '~'"},
		{"v{version}:{n}", "contains ':'"},
		{"v{version}@{{n}", "a { without a closing }"},
		{"v@{version}", ""},
		{"tags//v{version}", "empty path component"},
		{"v{version}/", "empty path component"},
		{"v{version}.", "ends with '.'"},
		{".v{version}", "starts with '.'"},
		{"v{version}\t", "contains '\\t'"},
	} {
		err := checkTemplate(tc.tmpl)
		if tc.err == "" {
			assert.NoError(t, err, tc.tmpl)
			continue
		}
		if assert.Error(t, err, tc.tmpl) {
			assert.Contains(t, err.Error(), tc.err, tc.tmpl)
		}
	}
}

func TestCheckURL(t *testing.T) {
	for _, tc := range []struct {
		url     string
		plainOK bool
		ok      bool
	}{
		{"https://gateway.example", false, true},
		{"https://gateway.example:8443/base", false, true},
		{"http://127.0.0.1:18789", false, true},
		{"http://localhost:18789", false, true},
		{"http://LOCALHOST", false, true},
		{"http://[::1]:18789", false, true},
		{"http://127.0.0.2", false, false},
		{"http://gateway.example", false, false},
		{"http://gateway.example", true, true},
		{"https://user@gateway.example", false, false},
		{"gateway.example", false, false},
		{"/relative", false, false},
		{"wss://gateway.example", false, false},
		{"https://", false, false},
		{"https://:443", false, false},
	} {
		err := checkURL(tc.url, tc.plainOK)
		assert.Equal(t, tc.ok, err == nil, "%s: %v", tc.url, err)
	}
}

func TestLooksLikeSecret(t *testing.T) {
	for s, want := range map[string]bool{
		"AGENTME_PRODUCTION_GATEWAY_TOKEN":                false,
		"PROMETHEUS_TOKEN":                                false,
		"my_token":                                        false,
		"Gateway_Token_For_Stage2":                        true,
		"ghp_abcdefghijklmnopqrstuvwxyz0123456789":        true,
		"github_pat_11ABCDEFG0123456789_abcdefghijklmnop": true,
		"ghp_":                  false,
		"aB3dE6gH9jK2mN5pQ8rS1": true,
	} {
		assert.Equal(t, want, looksLikeSecret(s), s)
	}
}

func TestParseWeekday(t *testing.T) {
	for s, want := range map[string]time.Weekday{"Mon": time.Monday, "monday": time.Monday, "SUN": time.Sunday, " Thu ": time.Thursday, "saturday": time.Saturday} {
		got, ok := parseWeekday(s)
		assert.True(t, ok, s)
		assert.Equal(t, want, got, s)
	}
	for _, s := range []string{"", "Mo", "Mondays", "Tues", "Funday"} {
		_, ok := parseWeekday(s)
		assert.False(t, ok, s)
	}
}

func TestParseClock(t *testing.T) {
	for s, want := range map[string]int{"00:00": 0, "02:00": 120, "2:30": 150, "23:59": 1439, "24:00": 1440} {
		got, err := parseClock(s)
		assert.NoError(t, err, s)
		assert.Equal(t, want, got, s)
	}
	for _, s := range []string{"", "24:01", "25:00", "12:60", "1200", "12:0", "-1:00", "12:00:00", "123:00"} {
		_, err := parseClock(s)
		assert.Error(t, err, s)
	}
}

func TestFreezeSpan(t *testing.T) {
	bne, err := time.LoadLocation("Australia/Brisbane")
	assert.NoError(t, err)
	from, until, err := freezeSpan(Freeze{From: "2026-12-20", To: "2027-01-05"}, bne)
	assert.NoError(t, err)
	assert.Equal(t, time.Date(2026, 12, 20, 0, 0, 0, 0, bne), from)
	assert.Equal(t, time.Date(2027, 1, 6, 0, 0, 0, 0, bne), until, "the to date is frozen through its end")

	// Across a daylight-saving change the day still ends at the next local midnight.
	ber, err := time.LoadLocation("Europe/Berlin")
	assert.NoError(t, err)
	_, until, err = freezeSpan(Freeze{From: "2026-03-28", To: "2026-03-29"}, ber)
	assert.NoError(t, err)
	assert.Equal(t, time.Date(2026, 3, 30, 0, 0, 0, 0, ber), until)

	from, until, err = freezeSpan(Freeze{From: "2026-12-20T18:00:00+10:00", To: "2026-12-20T20:00:00+10:00"}, bne)
	assert.NoError(t, err)
	assert.Equal(t, 2*time.Hour, until.Sub(from))
}

func TestSuggest(t *testing.T) {
	policyKeys := names(lookup(keys, "policy").Keys)
	environmentKeys := names(lookup(keys, "environments").Keys)
	assert.Equal(t, "skipped", suggest("skiped", policyKeys))
	assert.Equal(t, "appear-timeout", suggest("apear-timeout", policyKeys))
	assert.Equal(t, "token-env", suggest("tokenenv", environmentKeys))
	assert.Equal(t, "", suggest("colour", policyKeys))
	assert.Equal(t, "gates", suggest("Gates", names(keys)), "case does not matter")
}

func TestLocate(t *testing.T) {
	at := locate(map[string]pos{"environments": {3, 1}, "environments[1]": {9, 5}, "environments[1].window": {12, 7}})
	assert.Equal(t, pos{12, 7}, at("environments[1].window.timezone"))
	assert.Equal(t, pos{9, 5}, at("environments[1].name"))
	assert.Equal(t, pos{3, 1}, at("environments[4].name"))
	assert.Equal(t, pos{1, 1}, at("policy.timeout"))
}

// TestTableMatchesTypes: every key names a field of its struct whose type fits its kind,
// and every field of the configuration types is declared in the table (a field added to
// types.go and not to keys.go would never be read).
func TestTableMatchesTypes(t *testing.T) {
	fits := map[valueKind][]reflect.Kind{
		vText: {reflect.String}, vBool: {reflect.Bool, reflect.Pointer}, vInt: {reflect.Int},
		vNumber: {reflect.Pointer}, vDuration: {reflect.Int64}, vTexts: {reflect.Slice},
		vTextMap: {reflect.Map}, vObject: {reflect.Struct, reflect.Pointer}, vList: {reflect.Slice},
	}
	var walk func(path string, ks []spec, rt reflect.Type)
	walk = func(path string, ks []spec, rt reflect.Type) {
		declared := map[string]bool{}
		for _, k := range ks {
			p := join(path, k.Name)
			f, ok := rt.FieldByName(k.Field)
			if !assert.True(t, ok, "%s: %s has no field %s", p, rt, k.Field) {
				continue
			}
			declared[k.Field] = true
			assert.Contains(t, fits[k.Kind], f.Type.Kind(), "%s: field %s.%s is a %s", p, rt, k.Field, f.Type)
			assert.NotEmpty(t, k.Doc, "%s has no doc line", p)
			ft := f.Type
			for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice {
				ft = ft.Elem()
			}
			if k.Kind == vObject || k.Kind == vList {
				walk(p, k.Keys, ft)
			}
		}
		for i := range rt.NumField() {
			if name := rt.Field(i).Name; name != "Source" {
				assert.True(t, declared[name], "%s.%s is not declared in the key table", rt, name)
			}
		}
	}
	walk("", keys, reflect.TypeOf(Config{}))
}

func TestPath(t *testing.T) {
	c, err := Load("testdata/agentme.yml")
	if !assert.NoError(t, err) {
		return
	}
	assert.Equal(t, "policy.appear-timeout", c.Path(&c.Policy.AppearTimeout))
	assert.Equal(t, "environments[1].monitor.prometheus.token-env", c.Path(&c.Environments[1].Monitor.Prometheus.TokenEnv))
	assert.Equal(t, "environments[1].window.weekly[0].days[1]", c.Path(&c.Environments[1].Window.Weekly[0].Days[1]))
	assert.Equal(t, "gates[3]", c.Path(&c.Gates[3]))
	assert.Panics(t, func() { c.Path(new(string)) })
}
