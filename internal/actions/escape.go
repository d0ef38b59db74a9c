package actions

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

var (
	dataEscaper     = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")
	propertyEscaper = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C")
)

// EscapeData escapes the message part of a workflow command: % -> %25, \r -> %0D,
// \n -> %0A. The result has no line break, so it cannot start a second command.
func EscapeData(s string) string { return dataEscaper.Replace(s) }

// EscapeProperty escapes a property value of a workflow command: EscapeData plus
// : -> %3A and , -> %2C, so a value can neither end the property list nor the command.
func EscapeProperty(s string) string { return propertyEscaper.Replace(s) }

// The runner unescapes with one ordered pass of string.Replace per mapping, "%25"
// last (ActionCommand.cs). Reproducing that order (rather than a proper decoder) is
// the point: the tests prove our escaping survives the runner as it really is.
var (
	runnerDataMappings     = [][2]string{{"%0D", "\r"}, {"%0A", "\n"}, {"%25", "%"}}
	runnerPropertyMappings = [][2]string{{"%0D", "\r"}, {"%0A", "\n"}, {"%3A", ":"}, {"%2C", ","}, {"%25", "%"}}
	runnerLegacyMappings   = [][2]string{{"%3B", ";"}, {"%0D", "\r"}, {"%0A", "\n"}, {"%5D", "]"}, {"%25", "%"}}
)

func runnerUnescape(s string, mappings [][2]string) string {
	for _, m := range mappings {
		s = strings.ReplaceAll(s, m[0], m[1])
	}
	return s
}

// sanitizeLine turns untrusted text into one printable line. Line breaks (which the
// runner splits lines on: \n, \r and \r\n) become the visible escapes \n and \r, other
// control characters \xNN or \uNNNN, and invisible formatting characters (zero-width,
// bidi, BOM, soft hyphen, variation selectors) \uNNNN. The last group matters beyond
// looks: .NET's culture-sensitive StartsWith/IndexOf, which the runner uses to find
// "::" and "##[", may skip such characters, so ":\u200b:" could still read as "::".
// Invalid UTF-8 becomes U+FFFD. Tabs are kept.
func sanitizeLine(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || (r != '\t' && needsEscape(r)) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for _, r := range s {
		switch {
		case r == '\t':
			b.WriteByte('\t')
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x80 && needsEscape(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case r <= 0xffff && needsEscape(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		case needsEscape(r):
			fmt.Fprintf(&b, `\U%08x`, r)
		default:
			b.WriteRune(r) // utf8.RuneError from an invalid byte is written as U+FFFD
		}
	}
	return b.String()
}

func needsEscape(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == 0x2028 || r == 0x2029 ||
		unicode.Is(unicode.Variation_Selector, r) || unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r)
}

// neutralize makes a sanitized line inert for the runner's command parser. The runner
// treats a line as a command when, after leading whitespace, it starts with "::", or
// when it contains "##[" anywhere (the legacy form). A line whose first non-space
// character is ':' gets a backslash in front (even a single ':' - cheaper than
// reasoning about what .NET collation might equate), and "##[" becomes "##\[".
// Backslashes, not invisible characters, because the runner's culture-sensitive
// matching may ignore invisible ones.
func neutralize(line string) string {
	if strings.HasPrefix(strings.TrimLeftFunc(line, unicode.IsSpace), ":") {
		line = `\` + line
	}
	if strings.Contains(line, "##[") {
		line = strings.ReplaceAll(line, "##[", `##\[`)
	}
	return line
}

// splitRunnerLines splits s the way .NET's StreamReader.ReadLine does, which is how
// the runner reads a container's stdout: at \r\n, \n and a lone \r. A final line
// terminator does not start an empty line.
func splitRunnerLines(s string) []string {
	var lines []string
	for len(s) > 0 {
		i := strings.IndexAny(s, "\r\n")
		if i < 0 {
			lines = append(lines, s)
			break
		}
		lines = append(lines, s[:i])
		if s[i] == '\r' && i+1 < len(s) && s[i+1] == '\n' {
			i++
		}
		s = s[i+1:]
	}
	return lines
}
