package actions

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParseCommands(t *testing.T) {
	type p = map[string]string
	tests := []struct {
		name string
		in   string
		want []Command
	}{
		{"plain text", "hello\nworld ::x", nil},
		{"simple", "::error::boom", []Command{{Name: "error", Data: "boom", Properties: p{}, Line: 1}}},
		{"leading whitespace", " \t\u00a0::warning::w", []Command{{Name: "warning", Data: "w", Properties: p{}, Line: 1}}},
		{"zero width space is not whitespace", "\u200b::warning::w", nil},
		{"case insensitive name", "::ErRoR::x", []Command{{Name: "error", Data: "x", Properties: p{}, Line: 1}}},
		{"unknown command", "::pwned::x\n::set-output::", []Command{{Name: "set-output", Properties: p{}, Line: 2}}},
		{"no closing colons", "::error x", nil},
		{"properties", "::error title=a%3Ab%2Cc,file=f.go ,line=3::m%0An%25",
			[]Command{{Name: "error", Data: "m\nn%", Properties: p{"title": "a:b,c", "file": "f.go ", "line": "3"}, Line: 1}}},
		{"property edge cases as .NET splits them", "::error  a==b,=c,d=,e,f=g=h,,A=late::",
			[]Command{{Name: "error", Properties: p{"a": "late", "f": "g=h"}, Line: 1}}},
		{"unescape order is the runner's", "::debug::%250A|%0D%0A", []Command{{Name: "debug", Data: "%0A|\r\n", Properties: p{}, Line: 1}}},
		{"legacy form anywhere", "text ##[set-output name=x%3B;y=1]v%5D", []Command{{Name: "set-output", Data: "v]", Properties: p{"name": "x;", "y": "1"}, Line: 1}}},
		{"legacy unknown", "##[pwned]x", nil},
		{"lines split at CR", "a\r::error::cr\r\n::notice::n", []Command{
			{Name: "error", Data: "cr", Properties: p{}, Line: 2},
			{Name: "notice", Data: "n", Properties: p{}, Line: 3},
		}},
		{"stop and resume", "::stop-commands::Tok\n::error::ignored\n##[error]ignored\n::tok::\n::error::seen", []Command{
			{Name: "stop-commands", Data: "Tok", Properties: p{}, Line: 1},
			{Name: "tok", Properties: p{}, Line: 4},
			{Name: "error", Data: "seen", Properties: p{}, Line: 5},
		}},
		{"legacy resume", "::stop-commands::t1\nx ##[T1]\n::error::seen", []Command{
			{Name: "stop-commands", Data: "t1", Properties: p{}, Line: 1},
			{Name: "t1", Properties: p{}, Line: 2},
			{Name: "error", Data: "seen", Properties: p{}, Line: 3},
		}},
		{"resumed token is no longer a command", "::stop-commands::t1\n::t1::\n::t1::", []Command{
			{Name: "stop-commands", Data: "t1", Properties: p{}, Line: 1},
			{Name: "t1", Properties: p{}, Line: 2},
		}},
		{"empty token stops for good", "::stop-commands::\n::error::x\n::::", []Command{
			{Name: "stop-commands", Properties: p{}, Line: 1},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, ParseCommands(tt.in))
		})
	}
}

func TestEscapeDataAndProperty(t *testing.T) {
	assert.Equal(t, "100%25%0D%0Adone::x", EscapeData("100%\r\ndone::x"))
	assert.Equal(t, "a%3Ab%2Cc%25%0A", EscapeProperty("a:b,c%\n"))
	assert.Equal(t, "%250A", EscapeData("%0A"))
}

func TestSplitPropertyPair(t *testing.T) {
	tests := []struct {
		in     string
		k, v   string
		wantOK bool
	}{
		{"a=b", "a", "b", true},
		{"a=b=c", "a", "b=c", true},
		{"a==b", "a", "b", true},
		{"=a=b", "a", "b", true},
		{"a= =b", "a", " =b", true},
		{"a=", "", "", false},
		{"==b", "", "", false},
		{"a", "", "", false},
		{"a===", "", "", false},
		{"", "", "", false},
	}
	for _, tt := range tests {
		k, v, ok := splitPropertyPair(tt.in)
		assert.Equal(t, tt.wantOK, ok, tt.in)
		assert.Equal(t, tt.k, k, tt.in)
		assert.Equal(t, tt.v, v, tt.in)
	}
}
