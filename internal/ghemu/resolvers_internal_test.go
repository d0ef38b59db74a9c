package ghemu

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/vektah/gqlparser/v2/ast"
)

// TestEveryFieldHasAResolver keeps schema.graphql and the resolvers in step: a field
// added to the schema without a resolver would answer an error at run time.
func TestEveryFieldHasAResolver(t *testing.T) {
	generic := func(typeName string) bool {
		return strings.HasSuffix(typeName, "Connection") || strings.HasSuffix(typeName, "Edge") || typeName == "PageInfo"
	}
	n := 0
	for name, d := range schema.Types {
		if d.Kind != ast.Object || d.BuiltIn || strings.HasPrefix(name, "__") {
			continue
		}
		for _, f := range d.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			n++
			if generic(name) {
				if _, ok := (&connection{extra: map[string]any{}}).field(f.Name); ok || name == "PageInfo" ||
					strings.HasSuffix(name, "Edge") || resolvers[name][f.Name] != nil {
					continue
				}
				assert.Contains(t, []string{"checkRunCount", "statusContextCount", "checkRunCountsByState", "statusContextCountsByState"},
					f.Name, "%s.%s has no resolver", name, f.Name)
				continue
			}
			assert.NotNil(t, resolvers[name][f.Name], "%s.%s has no resolver", name, f.Name)
		}
	}
	assert.Greater(t, n, 100)
}
