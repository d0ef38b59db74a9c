package ghemu_test

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

func parseSchemaFile(t *testing.T, path string) map[string]*ast.Definition {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	// ParseSchema, not LoadSchema: GitHub's published schema defines one field twice
	// (EnterpriseOwnerInfo.repositoryDeployKeySetting), which LoadSchema refuses.
	doc, err := parser.ParseSchema(&ast.Source{Name: path, Input: string(raw)})
	require.NoError(t, err)
	defs := map[string]*ast.Definition{}
	for _, d := range doc.Definitions {
		defs[d.Name] = d
	}
	return defs
}

func argsString(args ast.ArgumentDefinitionList) []string {
	var out []string
	for _, a := range args {
		s := a.Name + ": " + a.Type.String()
		if a.DefaultValue != nil {
			s += " = " + a.DefaultValue.String()
		}
		out = append(out, s+" \""+a.Description+"\"")
	}
	return out
}

func directivesString(ds ast.DirectiveList) []string {
	var out []string
	for _, d := range ds {
		s := "@" + d.Name
		for _, a := range d.Arguments {
			s += " " + a.Name + "=" + a.Value.String()
		}
		out = append(out, s)
	}
	return out
}

// TestSchemaSubsetMatchesGitHub proves schema.graphql is a verbatim subset of GitHub's
// published schema: every definition, field, argument (with default and description),
// enum value, union member and implemented interface exists upstream, declared the same.
func TestSchemaSubsetMatchesGitHub(t *testing.T) {
	real := parseSchemaFile(t, "../../testdata/github-schema.graphql")
	sub := parseSchemaFile(t, "schema.graphql")
	require.NotEmpty(t, sub)

	for name, d := range sub {
		t.Run(name, func(t *testing.T) {
			r := real[name]
			require.NotNil(t, r, "%s is not in GitHub's schema", name)
			assert.Equal(t, r.Kind, d.Kind)
			assert.Equal(t, r.Description, d.Description)
			for _, in := range d.Interfaces {
				assert.Contains(t, r.Interfaces, in, "%s does not implement %s upstream", name, in)
			}
			for _, m := range d.Types {
				assert.Contains(t, r.Types, m, "%s is not a member of union %s upstream", m, name)
			}
			for _, v := range d.EnumValues {
				rv := r.EnumValues.ForName(v.Name)
				if assert.NotNil(t, rv, "%s.%s", name, v.Name) {
					assert.Equal(t, rv.Description, v.Description)
				}
			}
			if d.Kind == ast.Enum {
				assert.Len(t, d.EnumValues, len(r.EnumValues), "enums are kept whole")
			}
			for _, f := range d.Fields {
				rf := r.Fields.ForName(f.Name)
				if !assert.NotNil(t, rf, "%s.%s is not in GitHub's schema", name, f.Name) {
					continue
				}
				assert.Equal(t, rf.Type.String(), f.Type.String(), "%s.%s type", name, f.Name)
				assert.Equal(t, rf.Description, f.Description, "%s.%s description", name, f.Name)
				assert.Equal(t, argsString(rf.Arguments), argsString(f.Arguments), "%s.%s arguments", name, f.Name)
				assert.Equal(t, directivesString(rf.Directives), directivesString(f.Directives), "%s.%s directives", name, f.Name)
				if rf.DefaultValue != nil || f.DefaultValue != nil {
					assert.Equal(t, rf.DefaultValue.String(), f.DefaultValue.String(), "%s.%s default", name, f.Name)
				}
			}
		})
	}

	// The fields the release gate's rollup query reads must be there.
	for _, tf := range [][2]string{
		{"Query", "repository"}, {"Query", "rateLimit"}, {"Repository", "object"}, {"Repository", "ref"},
		{"Commit", "statusCheckRollup"}, {"Commit", "checkSuites"}, {"StatusCheckRollup", "contexts"},
		{"CheckRun", "databaseId"}, {"CheckRun", "checkSuite"}, {"CheckRun", "isRequired"}, {"CheckSuite", "workflowRun"},
		{"WorkflowRun", "workflow"}, {"StatusContext", "targetUrl"}, {"RateLimit", "resetAt"},
	} {
		require.NotNil(t, sub[tf[0]], tf[0])
		assert.NotNil(t, sub[tf[0]].Fields.ForName(tf[1]), "%s.%s", tf[0], tf[1])
	}
}
