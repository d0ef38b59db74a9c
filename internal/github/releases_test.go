package github

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const releaseJSON = `{"id":77,"tag_name":"v1.2.3","target_commitish":"` + testSHA + `","name":"v1.2.3","body":"notes",
	"draft":false,"prerelease":true,"html_url":"https://github.com/o/r/releases/tag/v1.2.3","created_at":"2026-03-10T12:00:00Z",
	"author":{"login":"github-actions[bot]"},"assets":[]}`

func TestGetReleaseByTag(t *testing.T) {
	f := newFake(t)
	f.handle("/repos/o/r/releases/tags/{tag...}", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodGet)
		switch tag := r.PathValue("tag"); tag {
		case "v1.2.3":
			writeJSON(w, http.StatusOK, releaseJSON)
		case "v1#x":
			assert.Equal(t, "/api/v3/repos/o/r/releases/tags/v1%23x", r.URL.EscapedPath())
			writeJSON(w, http.StatusOK, `{"id":5,"tag_name":"v1#x"}`)
		case "v9":
			writeJSON(w, http.StatusNotFound, `{"message":"Not Found"}`)
		default:
			t.Errorf("unexpected tag %q", tag)
		}
	})
	c, _ := f.client()
	ctx := context.Background()
	got, err := c.GetReleaseByTag(ctx, "v1.2.3")
	require.NoError(t, err)
	assert.Equal(t, Release{ID: 77, TagName: "v1.2.3", Name: "v1.2.3", Body: "notes", Prerelease: true,
		HTMLURL: "https://github.com/o/r/releases/tag/v1.2.3"}, got)

	got, err = c.GetReleaseByTag(ctx, "v1#x")
	require.NoError(t, err)
	assert.Equal(t, Release{ID: 5, TagName: "v1#x"}, got)

	_, err = c.GetReleaseByTag(ctx, "v9")
	assert.ErrorIs(t, err, ErrNotFound)
	assert.ErrorContains(t, err, "get release of tag v9 in o/r: GET /repos/o/r/releases/tags/v9: 404")

	_, err = c.GetReleaseByTag(ctx, "")
	assert.ErrorContains(t, err, "empty tag name")
}

func TestCreateRelease(t *testing.T) {
	f := newFake(t)
	var bodies []string
	f.handle("/repos/o/r/releases", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodPost)
		body := readBody(t, r)
		bodies = append(bodies, body)
		var req struct {
			TagName string `json:"tag_name"`
		}
		require.NoError(t, jsonUnmarshal(body, &req))
		switch req.TagName {
		case "v1.2.3", "v1.2.4":
			writeJSON(w, http.StatusCreated, releaseJSON)
		case "v1.0.0":
			writeJSON(w, http.StatusUnprocessableEntity, `{"message":"Validation Failed","errors":[{"resource":"Release","code":"already_exists","field":"tag_name"}]}`)
		case "v0":
			writeJSON(w, http.StatusUnprocessableEntity, `{"message":"Validation Failed","errors":[{"resource":"Release","code":"invalid","field":"target_commitish"}]}`)
		default:
			t.Errorf("unexpected tag %q", req.TagName)
		}
	})
	c, _ := f.client()
	ctx := context.Background()

	got, err := c.CreateRelease(ctx, ReleaseRequest{TagName: "v1.2.3", Target: testSHA, Name: "v1.2.3", Body: "summary",
		Prerelease: true, GenerateNotes: true, MakeLatest: "true"})
	require.NoError(t, err)
	assert.Equal(t, int64(77), got.ID)
	assert.Equal(t, "v1.2.3", got.TagName)
	assert.JSONEq(t, `{"tag_name":"v1.2.3","target_commitish":"`+testSHA+`","name":"v1.2.3","body":"summary",
		"draft":false,"prerelease":true,"generate_release_notes":true,"make_latest":"true"}`, bodies[0])

	// Minimal: draft, prerelease and generate_release_notes are still explicit.
	_, err = c.CreateRelease(ctx, ReleaseRequest{TagName: "v1.2.4"})
	require.NoError(t, err)
	assert.JSONEq(t, `{"tag_name":"v1.2.4","draft":false,"prerelease":false,"generate_release_notes":false}`, bodies[1])

	_, err = c.CreateRelease(ctx, ReleaseRequest{TagName: "v1.0.0"})
	assert.ErrorIs(t, err, ErrAlreadyExists)
	assert.ErrorContains(t, err, "create release v1.0.0 in o/r: a release of this tag exists")
	var api *APIError
	require.ErrorAs(t, err, &api)
	assert.Equal(t, http.StatusUnprocessableEntity, api.StatusCode)

	_, err = c.CreateRelease(ctx, ReleaseRequest{TagName: "v0"})
	assert.NotErrorIs(t, err, ErrAlreadyExists)
	assert.ErrorContains(t, err, "invalid target_commitish")

	for _, tt := range []struct {
		r    ReleaseRequest
		want string
	}{
		{ReleaseRequest{}, "empty tag name"},
		{ReleaseRequest{TagName: "v1", Target: "main"}, "not a 40-hex commit SHA"},
		{ReleaseRequest{TagName: "v1", MakeLatest: "yes"}, "must be true, false or legacy"},
	} {
		_, err := c.CreateRelease(ctx, tt.r)
		assert.ErrorContains(t, err, tt.want)
	}
	assert.Len(t, bodies, 4)
}

func TestUpdateReleaseBody(t *testing.T) {
	f := newFake(t)
	var bodies []string
	f.handle("/repos/o/r/releases/{id}", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodPatch)
		bodies = append(bodies, readBody(t, r))
		if r.PathValue("id") == "404" {
			writeJSON(w, http.StatusNotFound, `{"message":"Not Found"}`)
			return
		}
		assert.Equal(t, "77", r.PathValue("id"))
		writeJSON(w, http.StatusOK, releaseJSON)
	})
	c, _ := f.client()
	ctx := context.Background()
	require.NoError(t, c.UpdateReleaseBody(ctx, 77, "new **body**"))
	require.NoError(t, c.UpdateReleaseBody(ctx, 77, ""))
	err := c.UpdateReleaseBody(ctx, 404, "x")
	assert.True(t, errors.Is(err, ErrNotFound))
	assert.ErrorContains(t, err, "update body of release 404 in o/r")
	require.Len(t, bodies, 3)
	assert.JSONEq(t, `{"body":"new **body**"}`, bodies[0])
	assert.JSONEq(t, `{"body":""}`, bodies[1])
}
