package github

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/clock"
)

func TestFirstWriteOperation(t *testing.T) {
	cases := []struct {
		doc, want string
	}{
		{`{ viewer { login } }`, ""},
		{`query Q($m: String) { repository(name: "mutation") { mutation: id } }`, ""},
		{"# mutation in a comment\nquery { a }", ""},
		{`query A { a } fragment F on Mutation { b }`, ""},
		{`mutation { createRef(input: {}) { ref { id } } }`, "mutation"},
		{`  mutation M { x }`, "mutation"},
		{`query A { a } mutation B { b }`, "mutation"},
		{`subscription S { s }`, "subscription"},
		{`query { a(s: """mutation""") }`, ""},
		{`query { a(s: "unterminated`, ""},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, firstWriteOperation(c.doc), c.doc)
	}
}

// TestReadOnlyClientSendsNoWrite drives a read-only client against a server that records
// what reaches it: reads arrive, writes fail with ErrReadOnly and never arrive.
func TestReadOnlyClientSendsNoWrite(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.Path)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/api/graphql" {
			_, _ = w.Write([]byte(`{"data":{"viewer":{"login":"x"}}}`))
			return
		}
		_, _ = w.Write([]byte(`{"object":{"sha":"` + strings.Repeat("a", 40) + `","type":"commit"},"ref":"refs/tags/v1"}`))
	}))
	defer srv.Close()
	c, err := New(Repo{Owner: "o", Name: "r"}, Options{
		Token: "t", APIURL: srv.URL + "/api/v3", GraphQLURL: srv.URL + "/api/graphql",
		Clock: clock.Real{}, ReadOnly: true, MaxAttempts: 1,
	})
	require.NoError(t, err)
	ctx := context.Background()

	_, err = c.CreateAnnotatedTag(ctx, "v1", strings.Repeat("a", 40), "m", nil)
	require.ErrorIs(t, err, ErrReadOnly)
	var q struct {
		Viewer struct{ Login string }
	}
	require.NoError(t, c.gql.Query(ctx, &q, nil), "a GraphQL query passes")
	var m struct {
		CreateRef struct{ ClientMutationID string } `graphql:"createRef(input: $input)"`
	}
	err = c.gql.Mutate(ctx, &m, struct {
		RepositoryID string `json:"repositoryId"`
	}{"R"}, nil)
	require.Error(t, err)
	assert.True(t, errors.Is(err, ErrReadOnly), "a mutation is refused: %v", err)

	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"POST /api/graphql"}, seen, "only the query reached the server")
}
