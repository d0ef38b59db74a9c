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

// TestViewerFallbacks: a server whose GraphQL API lacks viewer falls back to GET /user;
// when that is refused too the identity is unknown (not an outage); a GraphQL outage is an
// error as it is, without asking /user.
func TestViewerFallbacks(t *testing.T) {
	noField := func(w http.ResponseWriter, _ gqlRequest) {
		_, _ = w.Write([]byte(`{"errors":[{"message":"Field 'viewer' doesn't exist on type 'Query'"}]}`))
	}
	t.Run("user token", func(t *testing.T) {
		f := newFake(t)
		f.handleGraphQL(noField)
		f.handle("/user", func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte(`{"login":"octocat","type":"User"}`))
		})
		c, _ := f.client()
		got, err := c.Viewer(context.Background())
		require.NoError(t, err)
		assert.Equal(t, "octocat", got)
	})
	t.Run("installation token", func(t *testing.T) {
		f := newFake(t)
		f.handleGraphQL(noField)
		f.handle("/user", func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`{"message":"Resource not accessible by integration"}`))
		})
		c, _ := f.client()
		_, err := c.Viewer(context.Background())
		assert.ErrorIs(t, err, ErrIdentityUnknown)
	})
	t.Run("outage", func(t *testing.T) {
		f := newFake(t)
		f.handleGraphQL(func(w http.ResponseWriter, _ gqlRequest) { w.WriteHeader(http.StatusBadGateway) })
		c, _ := f.client()
		_, err := c.Viewer(context.Background())
		require.Error(t, err)
		assert.NotErrorIs(t, err, ErrIdentityUnknown)
		assert.Equal(t, 0, f.hitCount("/user"))
	})
}
