package github

import (
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// FuzzFirstWriteOperation checks the read-only guard's scanner against a real GraphQL
// parser: for every document gqlparser accepts, the guard finds a write exactly when the
// document has an operation that is not a query. A miss would let a mutation through.
func FuzzFirstWriteOperation(f *testing.F) {
	for _, s := range []string{
		`{ a }`, `query Q { a(x: "mutation") }`, `mutation { a }`, `query A { a } mutation B { b }`,
		`subscription { s }`, "# mutation\n{ a }", `query { a(s: """x "" mutation""") }`,
		`fragment F on Mutation { a } query { ...F }`, `query ($a: [String!] = ["}"]) { a }`,
		`query { a(s: "\"mutation {") }`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		got := firstWriteOperation(doc)
		parsed, err := parser.ParseQuery(&ast.Source{Input: doc})
		if err != nil {
			return
		}
		write := false
		for _, op := range parsed.Operations {
			write = write || op.Operation != ast.Query
		}
		if write && got == "" {
			t.Fatalf("a write operation in %q was not found", doc)
		}
		if !write && got != "" && got != "unterminated string" {
			t.Fatalf("%q has only queries, but the guard found %q", doc, got)
		}
	})
}
