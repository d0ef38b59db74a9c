package github

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode"
)

// ErrReadOnly is the error of a write attempted through a read-only client (a dry run).
// It means a code path that should only read tried to write: a bug, never a verdict.
var ErrReadOnly = errors.New("refused by the read-only GitHub client (dry run): nothing was sent")

// readOnly refuses every request that could change GitHub: any REST method but GET and
// HEAD, and any GraphQL document that is not a plain query. It wraps the retrying
// transport from outside, so a refused request is neither sent nor retried.
//
// It is a guard, not the mechanism: a dry run decides through the same read-only Plan
// functions the real run uses before it acts, and this transport makes a path that would
// still write fail loudly (in tests and in production) instead of writing.
type readOnly struct {
	base    http.RoundTripper
	gqlPath string
}

func (t readOnly) RoundTrip(req *http.Request) (*http.Response, error) {
	switch req.Method {
	case http.MethodGet, http.MethodHead:
		return t.base.RoundTrip(req)
	case http.MethodPost:
		if req.URL.Path == t.gqlPath {
			if err := queryOnly(req); err != nil {
				closeBody(req)
				return nil, err
			}
			return t.base.RoundTrip(req)
		}
	}
	closeBody(req)
	return nil, fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, ErrReadOnly)
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}

// queryOnly reads the GraphQL request body (and puts it back) and fails unless every
// operation in it is a query. A document that cannot be read counts as a write.
func queryOnly(req *http.Request) error {
	if req.Body == nil {
		return fmt.Errorf("POST %s without a body: %w", req.URL.Path, ErrReadOnly)
	}
	body, err := io.ReadAll(req.Body)
	_ = req.Body.Close()
	if err != nil {
		return fmt.Errorf("read the GraphQL request to check it is a query: %w", err)
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	var doc struct {
		Query string `json:"query"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return fmt.Errorf("GraphQL request that is not JSON: %w", ErrReadOnly)
	}
	if op := firstWriteOperation(doc.Query); op != "" {
		return fmt.Errorf("GraphQL %s: %w", op, ErrReadOnly)
	}
	return nil
}

// firstWriteOperation returns "mutation" or "subscription" when the document defines such
// an operation, "" when every operation is a query (named, or the `{ ... }` shorthand).
// It scans top-level definitions only: strings, comments and selection sets are skipped,
// so a field or argument named "mutation" is not mistaken for one.
func firstWriteOperation(doc string) string {
	depth := 0
	for i := 0; i < len(doc); {
		c := doc[i]
		switch {
		case c == '#':
			for i < len(doc) && doc[i] != '\n' {
				i++
			}
		case c == '"':
			if strings.HasPrefix(doc[i:], `"""`) {
				end := strings.Index(doc[i+3:], `"""`)
				if end < 0 {
					return "unterminated string"
				}
				i += end + 6
				continue
			}
			i++
			for i < len(doc) && doc[i] != '"' {
				if doc[i] == '\\' {
					i++
				}
				i++
			}
			i++
		case c == '{' || c == '(' || c == '[':
			depth++
			i++
		case c == '}' || c == ')' || c == ']':
			depth--
			i++
		case depth == 0 && isNameStart(c):
			j := i
			for j < len(doc) && isNamePart(doc[j]) {
				j++
			}
			switch word := doc[i:j]; word {
			case "mutation", "subscription":
				return word
			}
			i = j
		default:
			i++
		}
	}
	return ""
}

func isNameStart(c byte) bool { return c == '_' || c < unicode.MaxASCII && unicode.IsLetter(rune(c)) }
func isNamePart(c byte) bool  { return isNameStart(c) || c >= '0' && c <= '9' }
