package github

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCreateIssue(t *testing.T) {
	f := newFake(t)
	var bodies []string
	f.handle("/repos/o/r/issues", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodPost)
		body := readBody(t, r)
		bodies = append(bodies, body)
		var req struct{ Title string }
		require.NoError(t, jsonUnmarshal(body, &req))
		if req.Title == "disabled" {
			writeJSON(w, http.StatusGone, `{"message":"Issues are disabled for this repo"}`)
			return
		}
		writeJSON(w, http.StatusCreated, `{"id":1,"number":12,"title":"x","html_url":"https://github.com/o/r/issues/12","state":"open"}`)
	})
	c, _ := f.client()
	ctx := context.Background()

	got, err := c.CreateIssue(ctx, "Rollback of production", "## What happened\n", []string{"incident", "release"})
	require.NoError(t, err)
	assert.Equal(t, Issue{Number: 12, HTMLURL: "https://github.com/o/r/issues/12"}, got)
	assert.JSONEq(t, `{"title":"Rollback of production","body":"## What happened\n","labels":["incident","release"]}`, bodies[0])

	_, err = c.CreateIssue(ctx, "  Only a title ", "", nil)
	require.NoError(t, err)
	assert.JSONEq(t, `{"title":"Only a title"}`, bodies[1])

	_, err = c.CreateIssue(ctx, "disabled", "b", nil)
	var api *APIError
	require.ErrorAs(t, err, &api)
	assert.Equal(t, http.StatusGone, api.StatusCode)
	assert.ErrorContains(t, err, `create issue "disabled" in o/r: POST /repos/o/r/issues: 410 Gone: Issues are disabled for this repo`)

	_, err = c.CreateIssue(ctx, " ", "b", nil)
	assert.ErrorContains(t, err, "empty title")
	assert.Len(t, bodies, 3)
}
