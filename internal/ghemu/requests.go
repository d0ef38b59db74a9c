package ghemu

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// Request is one request the emulator received, as the request log keeps it.
type Request struct {
	Method string
	// Path is the escaped URL path ("/api/v3/repos/agentme/agentme/git/refs").
	Path string
	// Operations are the operation types of a GraphQL document ("query", "mutation",
	// "subscription"; "unparsed" when the body is no GraphQL document). Nil for REST.
	Operations []string
}

// Write reports whether the request could change anything: a REST method other than GET
// and HEAD, or a GraphQL document with anything but queries (an unparsed one counts).
func (r Request) Write() bool {
	if r.Path == "/api/graphql" && r.Method == http.MethodPost {
		for _, op := range r.Operations {
			if op != string(ast.Query) {
				return true
			}
		}
		return len(r.Operations) == 0
	}
	return r.Method != http.MethodGet && r.Method != http.MethodHead
}

// Requests returns every request received so far, in order (the request log: tests assert
// with it that a dry run sends no write at all).
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.w.requestLog...)
}

// logRequest appends r to the request log. A
// GraphQL body is read and put back for the handler.
func (s *Server) logRequest(r *http.Request) {
	rec := Request{Method: r.Method, Path: r.URL.EscapedPath()}
	if rec.Path == "/api/graphql" && r.Method == http.MethodPost && r.Body != nil {
		body, err := io.ReadAll(r.Body)
		_ = r.Body.Close()
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec.Operations = graphqlOperations(body, err)
	}
	s.mu.Lock()
	s.w.requestLog = append(s.w.requestLog, rec)
	s.mu.Unlock()
}

func graphqlOperations(body []byte, readErr error) []string {
	var req struct {
		Query string `json:"query"`
	}
	if readErr != nil || json.Unmarshal(body, &req) != nil {
		return []string{"unparsed"}
	}
	doc, err := parser.ParseQuery(&ast.Source{Input: req.Query})
	if err != nil || len(doc.Operations) == 0 {
		return []string{"unparsed"}
	}
	ops := make([]string, 0, len(doc.Operations))
	for _, op := range doc.Operations {
		ops = append(ops, string(op.Operation))
	}
	return ops
}
