package ghemu_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/agentme/release-action/internal/ghemu"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type release struct {
	ID              int64   `json:"id"`
	TagName         string  `json:"tag_name"`
	TargetCommitish string  `json:"target_commitish"`
	Name            *string `json:"name"`
	Body            *string `json:"body"`
	Draft           bool    `json:"draft"`
	Prerelease      bool    `json:"prerelease"`
	HTMLURL         string  `json:"html_url"`
	URL             string  `json:"url"`
	CreatedAt       string  `json:"created_at"`
	PublishedAt     *string `json:"published_at"`
	Author          struct {
		Login string `json:"login"`
	} `json:"author"`
	Assets []any `json:"assets"`
}

type validationError struct {
	Message string `json:"message"`
	Errors  []struct {
		Resource string `json:"resource"`
		Field    string `json:"field"`
		Code     string `json:"code"`
		Message  string `json:"message"`
	} `json:"errors"`
}

func TestCreateRelease(t *testing.T) {
	tests := []struct {
		name       string
		body       map[string]any
		wantStatus int
		wantCode   string // errors[0].code of a 422 Validation Failed
		wantMsg    string
		wantTag    string // the commit refs/tags/<tag_name> names afterwards ("" none)
		check      func(t *testing.T, r release)
	}{
		{name: "existing tag", body: map[string]any{"tag_name": "v1.0.0", "target_commitish": shaA, "name": "v1.0.0",
			"body": "summary", "draft": false, "prerelease": false, "make_latest": "true"}, wantStatus: 201, wantTag: shaA,
			check: func(t *testing.T, r release) {
				assert.Equal(t, "summary", *r.Body)
				assert.Equal(t, "github-actions[bot]", r.Author.Login)
				assert.NotNil(t, r.PublishedAt)
				assert.NotNil(t, r.Assets)
				assert.True(t, strings.HasSuffix(r.HTMLURL, "/agentme/agentme/releases/tag/v1.0.0"), r.HTMLURL)
			}},
		{name: "the tag is created from target_commitish", body: map[string]any{"tag_name": "v2.0.0", "target_commitish": shaB},
			wantStatus: 201, wantTag: shaB, check: func(t *testing.T, r release) {
				assert.Equal(t, shaB, r.TargetCommitish)
				assert.Nil(t, r.Name)
				assert.Nil(t, r.Body)
			}},
		{name: "target_commitish defaults to the default branch", body: map[string]any{"tag_name": "v2.0.1"},
			wantStatus: 201, wantTag: shaA, check: func(t *testing.T, r release) { assert.Equal(t, "main", r.TargetCommitish) }},
		{name: "existing tag wins over target", body: map[string]any{"tag_name": "v1.0.0", "target_commitish": shaB},
			wantStatus: 201, wantTag: shaA},
		{name: "generated notes are appended to the body", body: map[string]any{"tag_name": "v1.0.0", "body": "summary",
			"generate_release_notes": true}, wantStatus: 201, wantTag: shaA, check: func(t *testing.T, r release) {
			require.NotNil(t, r.Body)
			assert.True(t, strings.HasPrefix(*r.Body, "summary\n\n## What's Changed\n"), *r.Body)
			assert.Contains(t, *r.Body, "**Full Changelog**: ")
			assert.Equal(t, "v1.0.0", *r.Name, "a generated release is named after its tag")
		}},
		{name: "draft creates no tag", body: map[string]any{"tag_name": "v3.0.0", "target_commitish": shaA, "draft": true},
			wantStatus: 201, check: func(t *testing.T, r release) {
				assert.True(t, r.Draft)
				assert.Nil(t, r.PublishedAt)
				assert.Contains(t, r.HTMLURL, "/releases/tag/untagged-")
			}},
		{name: "unknown target", body: map[string]any{"tag_name": "v4.0.0", "target_commitish": "nope"},
			wantStatus: 422, wantCode: "invalid", wantMsg: "Validation Failed"},
		{name: "invalid tag name", body: map[string]any{"tag_name": "v1..0"}, wantStatus: 422, wantCode: "invalid",
			wantMsg: "Validation Failed"},
		{name: "no tag name", body: map[string]any{"name": "x"}, wantStatus: 422,
			wantMsg: "Invalid request.\n\n\"tag_name\" wasn't supplied."},
		{name: "bad make_latest", body: map[string]any{"tag_name": "v1.0.0", "make_latest": "yes"}, wantStatus: 422,
			wantMsg: "Invalid request.\n\n\"yes\" is not a member of [\"true\", \"false\", \"legacy\"]."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, ghemu.Options{})
			e.s.LoadAgentMe(shaA)
			e.s.AddCommit(shaB)
			e.s.AddAnnotatedTag("v1.0.0", shaA, "v1")
			tagName, _ := tc.body["tag_name"].(string)
			before := e.s.Tags()[tagName]
			e.clk.Advance(time.Hour)
			r := e.do("POST", "/releases", tc.body)
			require.Equal(t, tc.wantStatus, r.StatusCode, string(r.body))
			if tc.wantStatus != 201 {
				var ve validationError
				r.json(t, &ve)
				assert.Equal(t, tc.wantMsg, ve.Message)
				if tc.wantCode != "" {
					require.Len(t, ve.Errors, 1)
					assert.Equal(t, "Release", ve.Errors[0].Resource)
					assert.Equal(t, tc.wantCode, ve.Errors[0].Code)
				}
				assert.Equal(t, before, e.s.Tags()[tagName], "a refused release changes no tag")
				assert.Empty(t, e.s.Releases())
				return
			}
			var rel release
			r.json(t, &rel)
			assert.Equal(t, tagName, rel.TagName)
			assert.Equal(t, e.api+fmt.Sprintf("/releases/%d", rel.ID), r.Header.Get("Location"))
			assert.Equal(t, tc.wantTag, e.s.Tags()[tagName].SHA)
			assert.Equal(t, t0.Format(time.RFC3339), rel.CreatedAt, "created_at is the date of the commit, not of the release")
			if !rel.Draft {
				assert.Equal(t, t0.Add(time.Hour).Format(time.RFC3339), deref(rel.PublishedAt))
			}
			if tc.check != nil {
				tc.check(t, rel)
			}
			var again release
			e.getJSON(fmt.Sprintf("/releases/%d", rel.ID), &again)
			assert.Equal(t, rel, again)
			require.Len(t, e.s.Releases(), 1)
			assert.Equal(t, rel.ID, e.s.Releases()[0].ID)
		})
	}
}

func TestReleaseLifecycle(t *testing.T) {
	e := newEnv(t, ghemu.Options{})
	e.s.LoadAgentMe(shaA)
	e.s.AddCommit(shaB)

	create := func(body map[string]any) release {
		t.Helper()
		r := e.do("POST", "/releases", body)
		require.Equal(t, http.StatusCreated, r.StatusCode, string(r.body))
		var rel release
		r.json(t, &rel)
		return rel
	}
	first := create(map[string]any{"tag_name": "v1.0.0", "target_commitish": shaA, "body": "one"})

	r := e.do("POST", "/releases", map[string]any{"tag_name": "v1.0.0", "target_commitish": shaB})
	require.Equal(t, http.StatusUnprocessableEntity, r.StatusCode)
	var ve validationError
	r.json(t, &ve)
	assert.Equal(t, "Validation Failed", ve.Message)
	require.Len(t, ve.Errors, 1)
	assert.Equal(t, "Release", ve.Errors[0].Resource)
	assert.Equal(t, "already_exists", ve.Errors[0].Code)
	assert.Equal(t, "tag_name", ve.Errors[0].Field)

	var byTag release
	e.getJSON("/releases/tags/v1.0.0", &byTag)
	assert.Equal(t, first.ID, byTag.ID)
	assert.Equal(t, "Not Found", e.get("/releases/tags/v9").message(t))
	assert.Equal(t, http.StatusNotFound, e.get("/releases/999").StatusCode)

	e.clk.Advance(time.Minute)
	second := create(map[string]any{"tag_name": "v1.1.0", "target_commitish": shaB, "generate_release_notes": true,
		"make_latest": "false"})
	assert.Contains(t, *second.Body, "/compare/v1.0.0...v1.1.0", "the changelog starts at the previous release")
	var latest release
	e.getJSON("/releases/latest", &latest)
	assert.Equal(t, first.ID, latest.ID, "make_latest false keeps the latest")

	pre := create(map[string]any{"tag_name": "v2.0.0-rc.1", "target_commitish": shaB, "prerelease": true})
	draft := create(map[string]any{"tag_name": "v2.0.0", "target_commitish": shaB, "draft": true})
	assert.Equal(t, http.StatusNotFound, e.get("/releases/tags/v2.0.0").StatusCode, "drafts are not found by tag")
	e.getJSON("/releases/latest", &latest)
	assert.Equal(t, first.ID, latest.ID, "a pre-release never becomes the latest")

	r = e.do("PATCH", fmt.Sprintf("/releases/%d", first.ID), map[string]any{"body": "updated summary"})
	require.Equal(t, http.StatusOK, r.StatusCode, string(r.body))
	var patched release
	r.json(t, &patched)
	assert.Equal(t, "updated summary", *patched.Body)
	assert.Equal(t, "v1.0.0", patched.TagName, "fields not sent are kept")
	e.getJSON("/releases/tags/v1.0.0", &byTag)
	assert.Equal(t, "updated summary", *byTag.Body)

	r = e.do("PATCH", fmt.Sprintf("/releases/%d", draft.ID), map[string]any{"draft": false})
	require.Equal(t, http.StatusOK, r.StatusCode, string(r.body))
	assert.Equal(t, shaB, e.s.Tags()["v2.0.0"].SHA, "publishing a draft creates its tag")
	e.getJSON("/releases/latest", &latest)
	assert.Equal(t, draft.ID, latest.ID)

	r = e.do("PATCH", fmt.Sprintf("/releases/%d", second.ID), map[string]any{"tag_name": "v1.0.0"})
	assert.Equal(t, http.StatusUnprocessableEntity, r.StatusCode)
	assert.Equal(t, http.StatusNotFound, e.do("PATCH", "/releases/1", map[string]any{"body": "x"}).StatusCode)

	var list []release
	r = e.getJSON("/releases?per_page=2", &list)
	require.Len(t, list, 2)
	assert.Equal(t, []int64{draft.ID, pre.ID}, []int64{list[0].ID, list[1].ID}, "newest first")
	l := links(r.Header.Get("Link"))
	require.NotEmpty(t, l["next"])
	e.getJSON(l["next"], &list)
	assert.Equal(t, []int64{second.ID, first.ID}, []int64{list[0].ID, list[1].ID})

	rels := e.s.Releases()
	require.Len(t, rels, 4)
	assert.Equal(t, "updated summary", rels[0].Body)
	assert.True(t, rels[3].Latest)
	assert.False(t, rels[0].Latest)
}

type issue struct {
	Number  int     `json:"number"`
	HTMLURL string  `json:"html_url"`
	Title   string  `json:"title"`
	Body    *string `json:"body"`
	State   string  `json:"state"`
	Labels  []struct {
		Name string `json:"name"`
	} `json:"labels"`
	User struct {
		Login string `json:"login"`
	} `json:"user"`
}

func TestIssues(t *testing.T) {
	e := newEnv(t, ghemu.Options{})
	tests := []struct {
		name       string
		body       any
		wantStatus int
		wantLabels []string
		wantMsg    string
	}{
		{"labels as names", map[string]any{"title": "Rollback of production", "body": "impact window",
			"labels": []string{"release", "incident"}}, 201, []string{"release", "incident"}, ""},
		{"labels as objects, known label reused", map[string]any{"title": "Second",
			"labels": []any{map[string]string{"name": "Incident"}, "release"}}, 201, []string{"incident", "release"}, ""},
		{"no labels", map[string]any{"title": "Third"}, 201, []string{}, ""},
		{"no title", map[string]any{"body": "x"}, 422, nil, "Invalid request.\n\n\"title\" wasn't supplied."},
		{"empty title", map[string]any{"title": " "}, 422, nil, "Validation Failed"},
	}
	number := 0
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("POST", "/issues", tc.body)
			require.Equal(t, tc.wantStatus, r.StatusCode, string(r.body))
			if tc.wantStatus != 201 {
				assert.Equal(t, tc.wantMsg, r.message(t))
				return
			}
			number++
			var is issue
			r.json(t, &is)
			assert.Equal(t, number, is.Number)
			assert.Equal(t, fmt.Sprintf("%s/agentme/agentme/issues/%d", e.base, number), is.HTMLURL)
			assert.Equal(t, "open", is.State)
			assert.Equal(t, "github-actions[bot]", is.User.Login)
			got := []string{}
			for _, l := range is.Labels {
				got = append(got, l.Name)
			}
			assert.Equal(t, tc.wantLabels, got)
			var again issue
			e.getJSON(fmt.Sprintf("/issues/%d", number), &again)
			assert.Equal(t, is, again)
		})
	}
	issues := e.s.Issues()
	require.Len(t, issues, 3)
	assert.Equal(t, "Rollback of production", issues[0].Title)
	assert.Equal(t, "impact window", issues[0].Body)
	assert.Equal(t, []string{"incident", "release"}, issues[1].Labels, "a known label keeps its first spelling")
	assert.Equal(t, http.StatusNotFound, e.get("/issues/4").StatusCode)
}
