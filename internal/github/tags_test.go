package github

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Object SHAs of the tag tests (tag objects and a tree).
var (
	tagObj1 = strings.Repeat("1", 40)
	tagObj2 = strings.Repeat("2", 40)
	tagObj3 = strings.Repeat("3", 40)
	tagObj4 = strings.Repeat("4", 40)
	treeSHA = strings.Repeat("e", 40)
	missObj = strings.Repeat("d", 40)
)

func refJSON(name, typ, sha string) string {
	return `{"ref":"refs/tags/` + name + `","node_id":"x","url":"https://api/x","object":{"type":"` + typ + `","sha":"` + sha + `","url":"https://api/y"}}`
}

func tagObjJSON(sha, msg, typ, target string) string {
	return `{"sha":"` + sha + `","tag":"t","message":"` + msg + `","tagger":{"name":"Rel","email":"rel@example.com","date":"2026-03-10T12:00:00Z"},` +
		`"object":{"type":"` + typ + `","sha":"` + target + `"}}`
}

func TestGetTag(t *testing.T) {
	f := newFake(t)
	f.handle("/repos/o/r/git/ref/tags/{name...}", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodGet)
		switch n := r.PathValue("name"); n {
		case "v1.0.0":
			writeJSON(w, http.StatusOK, refJSON(n, "commit", strings.ToUpper(testSHA)))
		case "v1.1.0", "release/v1.1.0":
			writeJSON(w, http.StatusOK, refJSON(n, "tag", tagObj1))
		case "v2":
			writeJSON(w, http.StatusOK, refJSON(n, "tag", tagObj2))
		case "deep":
			writeJSON(w, http.StatusOK, refJSON(n, "tag", tagObj4))
		case "three":
			writeJSON(w, http.StatusOK, refJSON(n, "tag", tagObj3))
		case "tree":
			writeJSON(w, http.StatusOK, refJSON(n, "tree", treeSHA))
		case "dangling":
			writeJSON(w, http.StatusOK, refJSON(n, "tag", missObj))
		case "prefix":
			writeJSON(w, http.StatusOK, refJSON("prefix-other", "commit", testSHA))
		case "v9":
			writeJSON(w, http.StatusNotFound, `{"message":"Not Found"}`)
		default:
			t.Errorf("unexpected tag %q", n)
		}
	})
	f.handle("/repos/o/r/git/tags/{sha}", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodGet)
		switch sha := r.PathValue("sha"); sha {
		case tagObj1:
			writeJSON(w, http.StatusOK, tagObjJSON(sha, "Release 1.1.0", "commit", testSHA))
		case tagObj2: // v2 -> tag object 2 -> tag object 1 -> commit
			writeJSON(w, http.StatusOK, tagObjJSON(sha, "outer", "tag", tagObj1))
		case tagObj4: // deep: 4 -> 3 -> 2 -> 1 -> commit, one level too many
			writeJSON(w, http.StatusOK, tagObjJSON(sha, "four", "tag", tagObj3))
		case tagObj3:
			writeJSON(w, http.StatusOK, tagObjJSON(sha, "three", "tag", tagObj2))
		case missObj:
			writeJSON(w, http.StatusNotFound, `{"message":"Not Found"}`)
		default:
			t.Errorf("unexpected tag object %q", sha)
		}
	})
	c, _ := f.client()
	ctx := context.Background()
	tests := []struct {
		name     string
		want     Tag
		wantErr  string
		notFound bool
	}{
		{name: "v1.0.0", want: Tag{Name: "v1.0.0", SHA: testSHA, ObjectSHA: testSHA}},
		{name: "refs/tags/v1.0.0", want: Tag{Name: "v1.0.0", SHA: testSHA, ObjectSHA: testSHA}},
		{name: "v1.1.0", want: Tag{Name: "v1.1.0", SHA: testSHA, ObjectSHA: tagObj1, Annotated: true, Message: "Release 1.1.0"}},
		{name: "release/v1.1.0", want: Tag{Name: "release/v1.1.0", SHA: testSHA, ObjectSHA: tagObj1, Annotated: true, Message: "Release 1.1.0"}},
		{name: "v2", want: Tag{Name: "v2", SHA: testSHA, ObjectSHA: tagObj2, Annotated: true, Message: "outer"}},
		{name: "three", want: Tag{Name: "three", SHA: testSHA, ObjectSHA: tagObj3, Annotated: true, Message: "three"}},
		{name: "deep", wantErr: "chain of more than 3 tag objects"},
		{name: "tree", wantErr: "it names a tree (" + treeSHA + "), not a commit"},
		{name: "dangling", wantErr: "its tag object " + missObj + " cannot be read"},
		{name: "prefix", wantErr: `GitHub answered with ref "refs/tags/prefix-other" instead`, notFound: true},
		{name: "v9", wantErr: "get tag v9 in o/r: GET /repos/o/r/git/ref/tags/v9: 404", notFound: true},
		{name: "bad name", wantErr: "not a valid git tag name", notFound: true},
		{name: "v1..2", wantErr: "not a valid git tag name", notFound: true},
		{name: " ", wantErr: "empty tag name"},
	}
	for _, tt := range tests {
		got, err := c.GetTag(ctx, tt.name)
		if tt.wantErr != "" {
			assert.ErrorContains(t, err, tt.wantErr, tt.name)
			assert.Equal(t, tt.notFound, errors.Is(err, ErrNotFound), "ErrNotFound for %q: %v", tt.name, err)
			continue
		}
		require.NoError(t, err, tt.name)
		assert.Equal(t, tt.want, got, tt.name)
	}
}

func TestListTagNames(t *testing.T) {
	f := newFake(t)
	f.handle("/repos/o/r/git/matching-refs/tags/{prefix...}", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodGet)
		assert.Equal(t, "v1.2.3-rc.", r.PathValue("prefix"))
		switch r.URL.Query().Get("page") {
		case "":
			linkNext(w, r, 2, 3)
			writeJSON(w, http.StatusOK, `[
				{"ref":"refs/tags/v1.2.3-rc.1","object":{"type":"tag","sha":"`+tagObj1+`"}},
				{"ref":"refs/tags/v1.2.3-rc.10","object":{"type":"commit","sha":"`+testSHA+`"}}]`)
		case "2":
			testQuery(t, r, url.Values{"page": {"2"}})
			linkNext(w, r, 3, 3)
			writeJSON(w, http.StatusOK, `[{"ref":"refs/tags/v1.2.3-rc.2","object":{"type":"tag","sha":"`+tagObj2+`"}},
				{"ref":"refs/tags/v1.2.30","object":{"type":"tag","sha":"`+tagObj2+`"}}]`)
		case "3":
			writeJSON(w, http.StatusOK, `[{"ref":"refs/tags/v1.2.3-rc.3","object":{"type":"tag","sha":"`+tagObj3+`"}},
				{"ref":"refs/heads/v1.2.3-rc.9","object":{"type":"commit","sha":"`+testSHA+`"}}]`)
		default:
			t.Errorf("unexpected page %q", r.URL.Query().Get("page"))
		}
	})
	f.handle("/repos/o/r/git/matching-refs/tags", func(w http.ResponseWriter, r *http.Request) {
		testQuery(t, r, url.Values{})
		writeJSON(w, http.StatusOK, `[{"ref":"refs/tags/b"},{"ref":"refs/tags/a"}]`)
	})
	f.handle("/repos/o/r/git/matching-refs/tags/none", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, `[]`)
	})
	f.handle("/repos/o/r/git/matching-refs/tags/err", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusForbidden, `{"message":"Resource not accessible by integration"}`)
	})
	c, _ := f.client()
	ctx := context.Background()

	got, err := c.ListTagNames(ctx, "v1.2.3-rc.")
	require.NoError(t, err)
	assert.Equal(t, []string{"v1.2.3-rc.1", "v1.2.3-rc.10", "v1.2.3-rc.2", "v1.2.3-rc.3"}, got)
	assert.Equal(t, 3, f.hitCount("/repos/o/r/git/matching-refs/tags/{prefix...}"))

	got, err = c.ListTagNames(ctx, "")
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b"}, got)

	got, err = c.ListTagNames(ctx, "refs/tags/none")
	require.NoError(t, err)
	assert.Empty(t, got)

	_, err = c.ListTagNames(ctx, "err")
	assert.ErrorContains(t, err, `list tags starting with "err" in o/r (page 1): GET /repos/o/r/git/matching-refs/tags/err: 403 Forbidden: Resource not accessible by integration`)
}

func TestCreateAnnotatedTag(t *testing.T) {
	f := newFake(t)
	var tagBodies, refBodies []string
	f.handle("/repos/o/r/git/tags", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodPost)
		var body struct {
			Tag string `json:"tag"`
		}
		raw := readBody(t, r)
		tagBodies = append(tagBodies, raw)
		require.NoError(t, jsonUnmarshal(raw, &body))
		switch body.Tag {
		case "v1.2.3-rc.1", "v1.0.0":
			writeJSON(w, http.StatusCreated, tagObjJSON(tagObj1, "Candidate\\nfor 0123456", "commit", testSHA))
		case "flaky":
			if len(tagBodies) == 3 {
				writeJSON(w, http.StatusBadGateway, `{"message":"Server Error"}`)
				return
			}
			writeJSON(w, http.StatusCreated, tagObjJSON(tagObj2, "m", "commit", testSHA))
		case "boom":
			writeJSON(w, http.StatusInternalServerError, `{"message":"Server Error"}`)
		default:
			t.Errorf("unexpected tag %q", body.Tag)
		}
	})
	f.handle("/repos/o/r/git/refs", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodPost)
		raw := readBody(t, r)
		refBodies = append(refBodies, raw)
		if strings.Contains(raw, "v1.0.0") {
			writeJSON(w, http.StatusUnprocessableEntity, `{"message":"Reference already exists","status":"422"}`)
			return
		}
		writeJSON(w, http.StatusCreated, raw)
	})
	c, _ := f.client()
	ctx := context.Background()

	tagger := &Person{Name: "release-action", Email: "release-action@example.com", Date: time.Date(2026, 3, 10, 14, 0, 0, 0, time.FixedZone("x", 3600))}
	got, err := c.CreateAnnotatedTag(ctx, "v1.2.3-rc.1", strings.ToUpper(testSHA), "Candidate\nfor 0123456", tagger)
	require.NoError(t, err)
	assert.Equal(t, Tag{Name: "v1.2.3-rc.1", SHA: testSHA, ObjectSHA: tagObj1, Annotated: true, Message: "Candidate\nfor 0123456"}, got)
	require.Len(t, tagBodies, 1)
	assert.JSONEq(t, `{"tag":"v1.2.3-rc.1","message":"Candidate\nfor 0123456","object":"`+testSHA+`","type":"commit",
		"tagger":{"name":"release-action","email":"release-action@example.com","date":"2026-03-10T13:00:00Z"}}`, tagBodies[0])
	require.Len(t, refBodies, 1)
	assert.JSONEq(t, `{"ref":"refs/tags/v1.2.3-rc.1","sha":"`+tagObj1+`"}`, refBodies[0])

	// Without a tagger none is sent (GitHub uses the token's identity).
	_, err = c.CreateAnnotatedTag(ctx, "v1.0.0", testSHA, "m", nil)
	assert.ErrorIs(t, err, ErrAlreadyExists)
	assert.ErrorContains(t, err, "create ref refs/tags/v1.0.0 for tag object "+tagObj1+" in o/r: POST /repos/o/r/git/refs: 422")
	assert.JSONEq(t, `{"tag":"v1.0.0","message":"m","object":"`+testSHA+`","type":"commit"}`, tagBodies[1])

	// A 502 is answered before GitHub acts, so the write is sent again.
	got, err = c.CreateAnnotatedTag(ctx, "flaky", testSHA, "m", nil)
	require.NoError(t, err)
	assert.Equal(t, tagObj2, got.ObjectSHA)
	assert.Len(t, tagBodies, 4)

	// A 500 may have been acted on: not retried.
	_, err = c.CreateAnnotatedTag(ctx, "boom", testSHA, "m", nil)
	assert.ErrorContains(t, err, "create tag object boom for "+testSHA+" in o/r: POST /repos/o/r/git/tags: 500")
	assert.Len(t, tagBodies, 5)

	for _, tt := range []struct{ name, sha, msg, want string }{
		{"v1 2", testSHA, "m", "not a valid git tag name"},
		{"", testSHA, "m", "empty tag name"},
		{"v1.lock", testSHA, "m", "not a valid git tag name"},
		{"v1", "main", "m", "not a 40-hex commit SHA"},
		{"v1", testSHA, " ", "needs a message"},
	} {
		_, err := c.CreateAnnotatedTag(ctx, tt.name, tt.sha, tt.msg, nil)
		assert.ErrorContains(t, err, tt.want, tt.name)
	}
	assert.Len(t, tagBodies, 5, "invalid input must not reach GitHub")
}

func TestCheckTagName(t *testing.T) {
	for _, ok := range []string{"v1.2.3", "v1.2.3-rc.1", "release/2026-03-10", "v1+build", "v1#x", "ü"} {
		assert.NoError(t, checkTagName(ok), ok)
	}
	for _, bad := range []string{"", "@", "/v1", "v1/", "v1.", ".v1", "a/.b", "v1.lock", "a..b", "a//b", "a@{b", "a b", "a~1", "a^", "a:b", "a?", "a*", "a[", `a\b`, "a\x00", "a\x7f"} {
		assert.Error(t, checkTagName(bad), "%q", bad)
	}
}
