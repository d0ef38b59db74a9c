// Package pinimage rewrites a Docker container action's metadata (action.yml) so that
// runs.image names an image by digest: docker://ghcr.io/owner/name@sha256:<64 hex>.
//
// The release workflow runs it on the release commit. It is a program rather than a
// sed one-liner because the rewrite must be exact: only the runs.image scalar changes,
// every other byte (comments, quoting, key order, line endings) stays as it was, and the
// result is parsed again to prove that nothing else moved. A mutable tag (":v1",
// ":latest") is refused: a tag can be re-pushed, so it pins nothing.
package pinimage

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// ErrInvalid marks input this package refuses: a reference that is not a digest
// reference, or metadata that is not a Docker action with a single-line runs.image.
var ErrInvalid = errors.New("invalid")

// docker:// prefix as action.yml spells a prebuilt image.
const scheme = "docker://"

// Reference grammar after the OCI distribution spec: an optional registry host (with
// port), lower-case path components, then @sha256: and exactly 64 lower-case hex digits.
// sha256 only: it is what GHCR and the attestation tooling use, and one algorithm is one
// less thing to get wrong.
var (
	component = `[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*`
	host      = `(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?)`
	nameRE    = regexp.MustCompile(`^(?:` + host + `/)?` + component + `(?:/` + component + `)*$`)
	digestRE  = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
)

// ParseReference validates an image reference pinned by digest and returns it in the
// form action.yml uses (docker://name@sha256:hex). The docker:// prefix is optional.
func ParseReference(ref string) (string, error) {
	r := strings.TrimPrefix(strings.TrimSpace(ref), scheme)
	name, digest, ok := strings.Cut(r, "@")
	if !ok {
		if i := strings.LastIndex(r, ":"); i > strings.LastIndex(r, "/") {
			return "", fmt.Errorf("%w: image %q names the mutable tag %q: a tag can be pushed again, so it pins nothing; pass the digest the push printed (name@sha256:<64 hex>)", ErrInvalid, ref, r[i+1:])
		}
		return "", fmt.Errorf("%w: image %q has no digest: pass name@sha256:<64 hex>", ErrInvalid, ref)
	}
	if i := strings.LastIndex(name, ":"); i > strings.LastIndex(name, "/") {
		return "", fmt.Errorf("%w: image %q carries the tag %q next to its digest: the runtime ignores the tag, so it would only mislead readers; drop it", ErrInvalid, ref, name[i+1:])
	}
	if !nameRE.MatchString(name) {
		return "", fmt.Errorf("%w: image name %q is not a valid repository name (lower-case path components, e.g. ghcr.io/agentme/release-action)", ErrInvalid, name)
	}
	if !digestRE.MatchString(digest) {
		return "", fmt.Errorf("%w: digest %q is not sha256:<64 lower-case hex digits>", ErrInvalid, digest)
	}
	return scheme + name + "@" + digest, nil
}

// IsPinned reports whether image (a runs.image value) is a digest-pinned docker:// reference.
func IsPinned(image string) bool {
	if !strings.HasPrefix(image, scheme) {
		return false
	}
	ref, err := ParseReference(image)
	return err == nil && ref == image
}

// Image returns the runs.image value of the action metadata src, after checking that it
// is a Docker container action.
func Image(src []byte) (string, error) {
	_, img, err := locate(src)
	return img, err
}

// Pin returns src with runs.image replaced by the digest reference ref, every other byte
// unchanged. It refuses a ref that is not pinned by digest and metadata whose runs.image
// it cannot rewrite exactly (a block scalar, a plain scalar continued on the next line).
func Pin(src []byte, ref string) ([]byte, error) {
	want, err := ParseReference(ref)
	if err != nil {
		return nil, err
	}
	span, _, err := locate(src)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(src)+len(want))
	out = append(out, src[:span.start]...)
	out = append(out, want...)
	out = append(out, src[span.end:]...)
	if err := verify(src, out, want); err != nil {
		return nil, err
	}
	return out, nil
}

type span struct{ start, end int }

// locate finds the byte span of the runs.image scalar in src as written (quotes
// included), and its value.
func locate(src []byte) (span, string, error) {
	if !utf8.Valid(src) {
		return span{}, "", fmt.Errorf("%w: the action metadata is not UTF-8", ErrInvalid)
	}
	var meta struct {
		Runs struct {
			Using string `yaml:"using"`
			Image any    `yaml:"image"`
		} `yaml:"runs"`
	}
	if err := yaml.Unmarshal(src, &meta); err != nil {
		return span{}, "", fmt.Errorf("%w: the action metadata is not valid YAML: %v", ErrInvalid, err)
	}
	if meta.Runs.Using != "docker" {
		return span{}, "", fmt.Errorf("%w: runs.using is %q, not docker: only a container action has an image to pin", ErrInvalid, meta.Runs.Using)
	}
	image, ok := meta.Runs.Image.(string)
	if !ok || image == "" {
		return span{}, "", fmt.Errorf("%w: runs.image is missing or not a string", ErrInvalid)
	}
	f, err := parser.ParseBytes(src, 0)
	if err != nil {
		return span{}, "", fmt.Errorf("%w: parse the action metadata: %v", ErrInvalid, err)
	}
	if len(f.Docs) != 1 {
		return span{}, "", fmt.Errorf("%w: the action metadata holds %d YAML documents, want 1", ErrInvalid, len(f.Docs))
	}
	path, err := yaml.PathString("$.runs.image")
	if err != nil {
		return span{}, "", err
	}
	node, err := path.FilterFile(f)
	if err != nil || node == nil {
		return span{}, "", fmt.Errorf("%w: runs.image not found in the syntax tree: %v", ErrInvalid, err)
	}
	if _, ok := node.(ast.ScalarNode); !ok || node.GetToken() == nil {
		return span{}, "", fmt.Errorf("%w: runs.image is not a scalar", ErrInvalid)
	}
	tk := node.GetToken()
	switch tk.Type {
	case token.LiteralType, token.FoldedType:
		return span{}, "", fmt.Errorf("%w: runs.image is a block scalar (| or >): write it on one line", ErrInvalid)
	}
	start, err := offset(src, tk.Position.Line, tk.Position.Column)
	if err != nil {
		return span{}, "", err
	}
	end, err := scalarEnd(src, start)
	if err != nil {
		return span{}, "", err
	}
	// The span must read back as exactly the value the decoder saw; anything else
	// (a continued plain scalar, a tag like !!str) is refused rather than guessed at.
	var back struct {
		V any `yaml:"v"`
	}
	if err := yaml.Unmarshal(append([]byte("v: "), src[start:end]...), &back); err != nil || back.V != image {
		return span{}, "", fmt.Errorf("%w: runs.image at line %d is not a single-line scalar this program can rewrite exactly: write it as `image: Dockerfile` on one line", ErrInvalid, tk.Position.Line)
	}
	return span{start, end}, image, nil
}

// offset converts a 1-based line and column (in characters) into a byte offset.
func offset(src []byte, line, col int) (int, error) {
	pos := 0
	for l := 1; l < line; l++ {
		i := bytes.IndexByte(src[pos:], '\n')
		if i < 0 {
			return 0, fmt.Errorf("%w: line %d is past the end of the file", ErrInvalid, line)
		}
		pos += i + 1
	}
	for c := 1; c < col; c++ {
		if pos >= len(src) || src[pos] == '\n' {
			return 0, fmt.Errorf("%w: column %d is past the end of line %d", ErrInvalid, col, line)
		}
		_, size := utf8.DecodeRune(src[pos:])
		pos += size
	}
	return pos, nil
}

// scalarEnd returns the end of the one-line scalar starting at start: the closing quote
// of a quoted scalar; for a plain one where it stops, trailing blanks excluded.
func scalarEnd(src []byte, start int) (int, error) {
	lineEnd := bytes.IndexAny(src[start:], "\r\n")
	if lineEnd < 0 {
		lineEnd = len(src)
	} else {
		lineEnd += start
	}
	line := src[start:lineEnd]
	if len(line) == 0 {
		return 0, fmt.Errorf("%w: runs.image has no value on its line", ErrInvalid)
	}
	switch line[0] {
	case '\'':
		for i := 1; i < len(line); i++ {
			if line[i] == '\'' {
				if i+1 < len(line) && line[i+1] == '\'' {
					i++
					continue
				}
				return start + i + 1, nil
			}
		}
		return 0, fmt.Errorf("%w: runs.image's single-quoted value does not close on its line", ErrInvalid)
	case '"':
		for i := 1; i < len(line); i++ {
			switch line[i] {
			case '\\':
				i++
			case '"':
				return start + i + 1, nil
			}
		}
		return 0, fmt.Errorf("%w: runs.image's double-quoted value does not close on its line", ErrInvalid)
	}
	// A plain scalar ends at a comment, or in a flow mapping at , ] or }; an image
	// reference never holds those, and the read-back check in locate refuses a cut that
	// was wrong.
	end := len(line)
	for i := 1; i < len(line) && end == len(line); i++ {
		switch {
		case line[i] == '#' && (line[i-1] == ' ' || line[i-1] == '\t'):
			end = i
		case line[i] == ',' || line[i] == ']' || line[i] == '}':
			end = i
		}
	}
	return start + len(bytes.TrimRight(line[:end], " \t")), nil
}

// verify proves the rewrite: out parses, names want as runs.image, and is otherwise the
// same document as src.
func verify(src, out []byte, want string) error {
	var before, after map[string]any
	if err := yaml.Unmarshal(src, &before); err != nil {
		return fmt.Errorf("verify: parse the original: %w", err)
	}
	if err := yaml.Unmarshal(out, &after); err != nil {
		return fmt.Errorf("verify: the rewritten metadata does not parse: %w", err)
	}
	runs, ok := before["runs"].(map[string]any)
	if !ok {
		return fmt.Errorf("verify: runs is not a mapping")
	}
	runs["image"] = want
	if !reflect.DeepEqual(before, after) {
		return fmt.Errorf("verify: the rewrite changed more than runs.image (this is a bug in pinimage; the file was not written)")
	}
	return nil
}
