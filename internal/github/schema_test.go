package github

import (
	"context"
	"os"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
)

// schemaPath is GitHub's published GraphQL schema, vendored so the test needs nothing
// outside the repository.
const schemaPath = "../../testdata/github-schema.graphql"

// loadSchema parses the schema and validates it as gqlparser.LoadSchema would, with one
// workaround: GitHub's published schema defines some fields twice (for example
// EnterpriseOwnerInfo.repositoryDeployKeySetting, identically), which gqlparser rejects. The
// second definition of a field is dropped before validation; the duplicates are logged.
var loadSchema = sync.OnceValues(func() (*ast.Schema, error) {
	b, err := os.ReadFile(schemaPath)
	if err != nil {
		return nil, err
	}
	sd, err := parser.ParseSchemas(validator.Prelude, &ast.Source{Name: "github-schema.graphql", Input: string(b)})
	if err != nil {
		return nil, err
	}
	dropped = nil
	for _, defs := range []ast.DefinitionList{sd.Definitions, sd.Extensions} {
		for _, def := range defs {
			seen := map[string]bool{}
			kept := def.Fields[:0]
			for _, fd := range def.Fields {
				if seen[fd.Name] {
					dropped = append(dropped, def.Name+"."+fd.Name)
					continue
				}
				seen[fd.Name] = true
				kept = append(kept, fd)
			}
			def.Fields = kept
		}
	}
	return validator.ValidateSchemaDocument(sd)
})

// dropped lists the duplicate field definitions loadSchema removed.
var dropped []string

// TestGraphQLDocumentsMatchGitHubSchema sends every query this package has through the client,
// captures what goes over the wire, and validates it (and its variables) against GitHub's
// real schema, so a misspelt field or a wrong variable type fails here, not in production.
func TestGraphQLDocumentsMatchGitHubSchema(t *testing.T) {
	schema, err := loadSchema()
	require.NoError(t, err)
	t.Logf("duplicate field definitions ignored in GitHub's schema: %v", dropped)
	require.NotNil(t, schema.Types["StatusCheckRollup"])

	f := newFake(t)
	s := newSnapServer(f, testSHA)
	s.set(manyRuns(150), []fakeStatus{{"ci/x", "success"}}) // two pages: a null and a set cursor
	c, _ := f.client()
	_, err = c.Rollup(context.Background(), testSHA)
	require.NoError(t, err)
	_, err = c.CheckRunStates(context.Background(), testSHA)
	require.NoError(t, err)
	_, err = c.StatusStates(context.Background(), testSHA)
	require.NoError(t, err)

	sent := f.graphQLSent()
	require.Len(t, sent, 2)
	for i, q := range sent {
		doc, errs := gqlparser.LoadQueryWithRules(schema, q.Query, nil)
		require.Empty(t, errs, "query %d does not validate against GitHub's schema:\n%s", i, q.Query)
		require.Len(t, doc.Operations, 1)
		_, verr := validator.VariableValues(schema, doc.Operations[0], q.Variables)
		assert.NoError(t, verr, "variables of query %d: %v", i, q.Variables)
		assert.Contains(t, q.Query, "rateLimit{cost,remaining,resetAt}", "every query asks what it cost")
	}
}

// TestSchemaCatchesMistakes proves the validation above can fail.
func TestSchemaCatchesMistakes(t *testing.T) {
	schema, err := loadSchema()
	require.NoError(t, err)
	for _, bad := range []string{
		`query($sha:GitObjectID!){repository(owner:"o",name:"r"){object(oid:$sha){... on Commit{statusCheckRollupx{state}}}}}`,
		`query($sha:String!){repository(owner:"o",name:"r"){object(oid:$sha){... on Commit{oid}}}}`,
		`query{repository(owner:"o",name:"r"){object(expression:"HEAD"){... on Commit{statusCheckRollup{contexts(first:100){nodes{... on CheckRun{conclusionx}}}}}}}}`,
	} {
		_, errs := gqlparser.LoadQueryWithRules(schema, bad, nil)
		assert.NotEmpty(t, errs, bad)
	}
}
