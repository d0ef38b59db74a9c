package github

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2"
)

// TestViewerQueryMatchesGitHubSchema sends the identity query through the client and
// validates what went over the wire against GitHub's schema.
func TestViewerQueryMatchesGitHubSchema(t *testing.T) {
	schema, err := loadSchema()
	require.NoError(t, err)
	f := newFake(t)
	f.handleGraphQL(func(w http.ResponseWriter, _ gqlRequest) {
		_, _ = w.Write([]byte(`{"data":{"viewer":{"login":"github-actions[bot]"},"rateLimit":{"cost":1,"remaining":4999,"resetAt":"2026-03-10T13:00:00Z"}}}`))
	})
	c, _ := f.client()
	login, err := c.Viewer(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "github-actions[bot]", login)
	sent := f.graphQLSent()
	require.Len(t, sent, 1)
	_, errs := gqlparser.LoadQueryWithRules(schema, sent[0].Query, nil)
	require.Empty(t, errs, sent[0].Query)
	assert.Contains(t, sent[0].Query, "rateLimit{cost,remaining,resetAt}")
}
