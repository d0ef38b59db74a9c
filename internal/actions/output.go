package actions

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"strings"
	"unicode/utf8"
)

// maxDelimiterDraws bounds the re-draws of a heredoc delimiter; a collision of 128
// random bits is already impossible in practice, so only a broken random source
// reaches the bound.
const maxDelimiterDraws = 8

// SetOutput records an output. When GITHUB_OUTPUT names a file it appends
// "NAME<<DELIM\nvalue\nDELIM\n" with a fresh random delimiter that does not occur in
// the value, so no value can end early or add outputs; the value is also kept for
// Outputs. Names must look like identifiers (letters, digits, '_' and '-', not starting
// with a digit or '-'), the names action.yml can declare; anything else is refused
// because '=', '<' or a line break in a name would change how the runner reads the file.
// Values must be valid UTF-8: the runner decodes the file as UTF-8 and would replace
// invalid bytes. Registered secrets are redacted from the value (the CLI must not put
// secrets in outputs, and an echoed one in a report is hidden like on stdout).
func (r *Runner) SetOutput(name, value string) error {
	if err := validateOutputName(name); err != nil {
		return err
	}
	if !utf8.ValidString(value) {
		return fmt.Errorf("set output %q: value is not valid UTF-8", name)
	}
	value = r.redact(value)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.outputPath != "" {
		delim, err := r.delimiter(value)
		if err != nil {
			return fmt.Errorf("set output %q: %w", name, err)
		}
		record := name + "<<" + delim + "\n" + value + "\n" + delim + "\n"
		if err := appendFile(r.outputPath, []byte(record)); err != nil {
			return fmt.Errorf("set output %q in %s: %w", name, r.outputPath, err)
		}
	}
	r.outputs[name] = value
	return nil
}

// Outputs returns a copy of every output set so far.
func (r *Runner) Outputs() map[string]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.outputs)
}

func validateOutputName(name string) error {
	if name == "" {
		return errors.New("set output: the output name is empty")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		ok := c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			(i > 0 && (c == '-' || (c >= '0' && c <= '9')))
		if !ok {
			return fmt.Errorf("set output %q: invalid output name: use letters, digits, '_' and '-', starting with a letter or '_'", name)
		}
	}
	return nil
}

func (r *Runner) delimiter(value string) (string, error) {
	for range maxDelimiterDraws {
		tok, err := r.randomHex()
		if err != nil {
			return "", err
		}
		d := "ghadelimiter_" + tok
		if !strings.Contains(value, d) {
			return d, nil
		}
	}
	return "", errors.New("could not draw a heredoc delimiter that is absent from the value")
}

func (r *Runner) randomHex() (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(r.rand, b[:]); err != nil {
		return "", fmt.Errorf("read random bytes: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// appendFile appends with O_APPEND so records of concurrent writers (the runner allows
// several processes in a step) never interleave within one write.
func appendFile(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// ParseOutputFile reads a GITHUB_OUTPUT file the way the Linux runner does
// (EnvFileKeyValuePairs in FileCommandManager.cs), which is where a Docker container
// action runs: text decoded as UTF-8 (a BOM is dropped, invalid sequences become
// U+FFFD), lines split at \n only, so a CRLF file is accepted but \r stays part of
// values and delimiters, empty lines skipped, "NAME=value" or "NAME<<DELIM" followed by
// value lines up to the line DELIM. Whichever of '=' and "<<" comes first decides the
// form. Later names overwrite earlier ones. The runner applies pairs as it reads them
// and then fails the step on a malformed line; likewise the pairs before the error are
// returned with it.
func ParseOutputFile(data []byte) (map[string]string, error) {
	text, err := decodeRunnerText(data)
	if err != nil {
		return nil, err
	}
	return parseKeyValueText(text, false)
}

// parseKeyValueText is EnvFileKeyValuePairs; crlf selects the Windows runner's line
// splitting, which also ends a line at \r\n.
func parseKeyValueText(text string, crlf bool) (map[string]string, error) {
	out := map[string]string{}
	index := 0
	for {
		line, _, ok := readRunnerLine(text, &index, crlf)
		if !ok {
			return out, nil
		}
		if line == "" {
			continue
		}
		eq := strings.Index(line, "=")
		hd := strings.Index(line, "<<")
		switch {
		case eq >= 0 && (hd < 0 || eq < hd):
			// The runner means to reject an empty name here but tests the whole line,
			// so "=value" sets the output "".
			k, v, _ := strings.Cut(line, "=")
			out[k] = v
		case hd >= 0 && (eq < 0 || hd < eq):
			name, delim, _ := strings.Cut(line, "<<")
			if name == "" || delim == "" {
				return out, fmt.Errorf("invalid format %q: name must not be empty and delimiter must not be empty", line)
			}
			start, end := index, index
			for {
				l, nl, ok := readRunnerLine(text, &index, crlf)
				if !ok {
					return out, fmt.Errorf("invalid value of %q: matching delimiter %q not found", name, delim)
				}
				if l == delim {
					break
				}
				if nl == "" {
					return out, fmt.Errorf("invalid value of %q: EOF marker missing new line", name)
				}
				end = index - len(nl)
			}
			value := ""
			if end > start {
				value = text[start:end]
			}
			out[name] = value
		default:
			return out, fmt.Errorf("invalid format %q", line)
		}
	}
}

// readRunnerLine returns the line at *index and its terminator ("" at the end of the
// text), or ok=false past the end.
func readRunnerLine(text string, index *int, crlf bool) (line, newline string, ok bool) {
	if *index >= len(text) {
		return "", "", false
	}
	start := *index
	lf := strings.IndexByte(text[start:], '\n')
	if lf < 0 {
		*index = len(text)
		return text[start:], "", true
	}
	lf += start
	if crlf && lf > start && text[lf-1] == '\r' {
		*index = lf + 1
		return text[start : lf-1], "\r\n", true
	}
	*index = lf + 1
	return text[start:lf], "\n", true
}

// decodeRunnerText decodes like .NET File.ReadAllText without a BOM or with a UTF-8
// one: each maximal invalid subsequence becomes one U+FFFD. UTF-16 and UTF-32 files
// (which .NET would detect by their BOM) are refused rather than guessed at.
func decodeRunnerText(data []byte) (string, error) {
	if bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}) {
		data = data[3:]
	} else if bytes.HasPrefix(data, []byte{0xFE, 0xFF}) || bytes.HasPrefix(data, []byte{0xFF, 0xFE}) ||
		bytes.HasPrefix(data, []byte{0, 0, 0xFE, 0xFF}) {
		return "", errors.New("parse output file: UTF-16/UTF-32 files are not supported")
	}
	if utf8.Valid(data) {
		return string(data), nil
	}
	var b strings.Builder
	b.Grow(len(data) + 16)
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r != utf8.RuneError || size > 1 {
			b.Write(data[i : i+size])
			i += size
			continue
		}
		b.WriteString("\uFFFD")
		i += maximalSubpart(data[i:])
	}
	return b.String(), nil
}

// maximalSubpart is the length of the invalid sequence at the start of b that .NET
// (following Unicode's "maximal subpart" practice) replaces with a single U+FFFD: a
// valid lead byte plus the continuation bytes that could still have completed it.
func maximalSubpart(b []byte) int {
	need, lo, hi := 0, byte(0x80), byte(0xBF)
	switch c := b[0]; {
	case c >= 0xC2 && c <= 0xDF:
		need = 1
	case c == 0xE0:
		need, lo = 2, 0xA0
	case c == 0xED:
		need, hi = 2, 0x9F
	case c >= 0xE1 && c <= 0xEF:
		need = 2
	case c == 0xF0:
		need, lo = 3, 0x90
	case c == 0xF4:
		need, hi = 3, 0x8F
	case c >= 0xF1 && c <= 0xF3:
		need = 3
	default:
		return 1
	}
	n := 1
	for k := 0; k < need && n < len(b); k++ {
		c := b[n]
		if (k == 0 && (c < lo || c > hi)) || (k > 0 && (c < 0x80 || c > 0xBF)) {
			return n
		}
		n++
	}
	return n
}
