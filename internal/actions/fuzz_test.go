package actions

import (
	"html"
	"os"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/agentme/release-action/internal/markdown"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func FuzzEscapeRoundTrip(f *testing.F) {
	for _, s := range []string{"", "%", "%0A", "%250A", "%%0D0A", "a:b,c", "\r\n", "%3A%2C", "100%\n::x::"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d := EscapeData(s)
		if strings.ContainsAny(d, "\r\n") {
			t.Fatalf("EscapeData(%q) = %q has a line break", s, d)
		}
		if got := runnerUnescape(d, runnerDataMappings); got != s {
			t.Fatalf("runner reads EscapeData(%q) as %q", s, got)
		}
		p := EscapeProperty(s)
		if strings.ContainsAny(p, "\r\n:,") {
			t.Fatalf("EscapeProperty(%q) = %q has a separator", s, p)
		}
		if got := runnerUnescape(p, runnerPropertyMappings); got != s {
			t.Fatalf("runner reads EscapeProperty(%q) as %q", s, got)
		}
	})
}

var identifierRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)

func FuzzOutputRoundTrip(f *testing.F) {
	f.Add("report", "{\"a\": 1}\n")
	f.Add("result", "")
	f.Add("x", "\n")
	f.Add("x", "ghadelimiter_00000000000000000000000000000000\nEOF\n")
	f.Add("x", "a\r\nb\r\n\r")
	f.Add("x", "\x00\x01")
	f.Add("x", "\xff")
	f.Add("a=b", "v")
	f.Add("a<<EOF", "v")
	f.Add("a\nb", "v")
	f.Add("deployment-id", "=\n<<\nx<<y\n")
	f.Fuzz(func(t *testing.T, name, value string) {
		h := newHarness(t, true, nil)
		err := h.r.SetOutput(name, value)
		if !identifierRE.MatchString(name) || !utf8.ValidString(value) {
			if err == nil {
				t.Fatalf("SetOutput(%q, %q) accepted", name, value)
			}
			if c := h.file(t, h.outputFile); c != "" {
				t.Fatalf("refused output still wrote %q", c)
			}
			return
		}
		if err != nil {
			t.Fatalf("SetOutput(%q, %q): %v", name, value, err)
		}
		// A neighbour proves the value cannot run into the next record.
		other := "zz_after"
		if name == other {
			other = "zz_other"
		}
		require.NoError(t, h.r.SetOutput(other, "tail"))
		got, err := ParseOutputFile([]byte(h.file(t, h.outputFile)))
		if err != nil {
			t.Fatalf("runner cannot parse the file for %q=%q: %v", name, value, err)
		}
		want := map[string]string{name: value, other: "tail"}
		if !assert.ObjectsAreEqual(want, got) {
			t.Fatalf("runner reads %q, want %q", got, want)
		}
	})
}

func FuzzParseOutputFile(f *testing.F) {
	for _, s := range []string{"a=1\n", "a<<E\nv\nE\n", "a<<E\r\nv\r\nE\r\n", "<<\n", "=\n", "a<<E\nv", "\xef\xbb\xbfa=\xff\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := ParseOutputFile(data)
		if err != nil && got == nil && !strings.Contains(err.Error(), "UTF-16") {
			t.Fatalf("error without the pairs read before it: %v", err)
		}
		for k, v := range got {
			if !utf8.ValidString(k) || !utf8.ValidString(v) {
				t.Fatalf("invalid UTF-8 in %q=%q", k, v)
			}
			if strings.Contains(k, "\n") {
				t.Fatalf("name %q spans lines", k)
			}
		}
	})
}

func FuzzParseCommands(f *testing.F) {
	for _, s := range []string{"::error::x", "##[x]", "::stop-commands::t\n::t::", "::::", "##[]", ":: ::", "::error a=,=b::"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, c := range ParseCommands(s) {
			if c.Name == "" || c.Line < 1 || c.Properties == nil {
				t.Fatalf("malformed command %+v from %q", c, s)
			}
		}
	})
}

func FuzzNoInjection(f *testing.F) {
	for _, s := range injections {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h := newHarness(t, true, map[string]string{"RUNNER_DEBUG": "1"})
		writeEverything(h.r, s)
		checkOnlyIntended(t, s, h.out.String(), s)

		h = newHarness(t, false, map[string]string{"RUNNER_DEBUG": "1"})
		writeEverything(h.r, s)
		if cmds := ParseCommands(h.out.String()); len(cmds) > 0 {
			t.Fatalf("terminal output holds commands %+v:\n%s", cmds, h.out.String())
		}
	})
}

func FuzzRedaction(f *testing.F) {
	f.Add("ghp_0123456789abcdef", "token=")
	f.Add("p@ss%0Aword", "%")
	f.Add("-----BEGIN KEY-----\nMIIEabc\n-----END KEY-----", "key:")
	f.Add("x***", "xx")
	f.Add("\\x01abc", "\x01abc")
	f.Add("ab\xffcd", "\xff")
	f.Add("a_b*c|d", "<")
	f.Add("{\n \"k\": \"v\"\n}", "{")
	f.Fuzz(func(t *testing.T, secret, text string) {
		h := newHarness(t, true, map[string]string{"RUNNER_DEBUG": "1"})
		h.r.AddMask(secret)
		if line := strings.TrimSpace(secret); len(line) >= MinSecretLen && !strings.ContainsAny(line, "\r\n") {
			if h.r.Redact(line) == line {
				t.Fatalf("secret %q not registered", line)
			}
		}
		h.out.Reset() // the ::add-mask:: lines are the only ones meant to carry it

		mixed := text + secret + text
		h.r.Infof("%s|%s", mixed, secret)
		h.r.Debugf("%s", mixed)
		h.r.Group(mixed)
		h.r.Error(mixed, Annotation{Title: secret, File: mixed, Line: 2})
		h.r.Warning(secret, Annotation{})
		h.r.Raw(text + "\n" + secret + "\n" + mixed)
		h.r.EndGroup()
		md := markdown.Escape(mixed) + "\n\n" + markdown.Code(secret) + "\n\n" + markdown.Cell(secret) + "\n" + mixed
		if err := h.r.AppendSummary(md); err != nil {
			t.Fatal(err)
		}
		h.r.summaryCap = int64(len(h.r.Summary()) + 10) // force a truncated second append
		if err := h.r.AppendSummary(mixed + "\n" + mixed); err != nil {
			t.Fatal(err)
		}
		summaryFile, err := os.ReadFile(h.summaryFile)
		if err != nil {
			t.Fatal(err)
		}
		var registered []string
		for _, l := range append([]string{secret}, strings.Split(strings.ReplaceAll(secret, "\r", "\n"), "\n")...) {
			if l = strings.TrimSpace(l); len(l) >= MinSecretLen && !strings.ContainsAny(l, "\r\n") {
				registered = append(registered, l, markdown.Escape(l), html.EscapeString(l))
			}
		}
		for _, p := range registered {
			if len(p) < MinSecretLen {
				continue
			}
			for where, s := range map[string]string{"stdout": h.out.String(), "summary file": string(summaryFile), "Summary()": h.r.Summary(), "Redact": h.r.Redact(mixed)} {
				if strings.Contains(s, p) {
					t.Fatalf("secret %q appears in %s:\n%s", p, where, s)
				}
			}
		}
	})
}

func TestAddMask(t *testing.T) {
	h := newHarness(t, true, nil)
	h.r.AddMask("")
	h.r.AddMask("abc")    // too short
	h.r.AddMask("      ") // blank
	assert.Empty(t, h.out.String())
	assert.Equal(t, "abc", h.r.Redact("abc"))

	h.r.AddMask("tok%en\u00e9")
	h.r.AddMask("tok%en\u00e9") // once only
	assert.Equal(t, "::add-mask::tok%25en\u00e9\n", h.out.String())

	h.out.Reset()
	h.r.AddMask("-----BEGIN-----\r\nline2data\n}\n-----END-----\n")
	assert.Equal(t, "::add-mask::-----BEGIN-----\n::add-mask::line2data\n::add-mask::-----END-----\n", h.out.String(),
		"each line long enough is masked; the multi-line whole is not announced, the runner masks by line")

	h.out.Reset()
	h.r.Infof("user tok%%en\u00e9 key line2data } x")
	assert.Equal(t, "user *** key *** } x\n", h.out.String())
	assert.Equal(t, "a *** b", h.r.Redact("a -----END----- b"))

	// A value first registered as another secret's escaped spelling is still
	// announced when it is a secret itself.
	h.out.Reset()
	h.r.AddMask("ab_cdef")
	h.r.AddMask(`ab\_cdef`)
	assert.Equal(t, "::add-mask::ab_cdef\n::add-mask::ab\\_cdef\n", h.out.String())

	// The longest secret wins over one it contains.
	h.r.AddMask("line2data-extended")
	assert.Equal(t, "***!", h.r.Redact("line2data-extended!"))
	// Replacement can rebuild a secret; redaction repeats until none is left.
	h.r.AddMask("x***")
	assert.Equal(t, "***", h.r.Redact("xxx***"))

	// Terminal mode announces nothing but still redacts.
	term := newHarness(t, false, nil)
	term.r.AddMask("s3cr3t-value")
	assert.Empty(t, term.out.String())
	term.r.Error("failed with s3cr3t-value", Annotation{Title: "s3cr3t-value"})
	assert.Equal(t, "error: ***: failed with ***\n", term.out.String())
}

// Outputs go through the redactor too: a report that quotes an echoed secret (here in
// its JSON-escaped form) must not hand it to later steps.
func TestOutputsAreRedacted(t *testing.T) {
	h := newHarness(t, true, nil)
	h.r.Protect("s3cr3t/value")
	require.NoError(t, h.r.SetOutput("x", `{"detail":"s3cr3t\/value"}`))
	got, err := ParseOutputFile([]byte(h.file(t, h.outputFile)))
	require.NoError(t, err)
	assert.Equal(t, `{"detail":"***"}`, got["x"])
	assert.Equal(t, `{"detail":"***"}`, h.r.Outputs()["x"])
}
