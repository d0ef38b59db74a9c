package github

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFileContent(t *testing.T) {
	pkg := []byte(`{"name":"agentme","version":"1.2.3","description":"` + strings.Repeat("x", 100) + `"}` + "\n")
	enc := base64.StdEncoding.EncodeToString(pkg)
	// GitHub wraps the base64 at 60 characters.
	var wrapped strings.Builder
	for i := 0; i < len(enc); i += 60 {
		wrapped.WriteString(enc[i:min(i+60, len(enc))])
		wrapped.WriteString(`\n`)
	}
	fileJSON := func(size int, encoding, content string) string {
		return `{"type":"file","encoding":"` + encoding + `","size":` + strconv.Itoa(size) + `,"name":"package.json","path":"package.json",` +
			`"content":"` + content + `","sha":"abc"}`
	}
	f := newFake(t)
	f.handle("/repos/o/r/contents/{path...}", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodGet)
		ref := r.URL.Query().Get("ref")
		switch p := r.PathValue("path"); p {
		case "package.json":
			testQuery(t, r, url.Values{"ref": {testSHA}})
			writeJSON(w, http.StatusOK, fileJSON(len(pkg), "base64", wrapped.String()))
		case "apps/web app/package.json":
			assert.Equal(t, "/api/v3/repos/o/r/contents/apps/web%20app/package.json", r.URL.EscapedPath())
			testQuery(t, r, url.Values{})
			writeJSON(w, http.StatusOK, fileJSON(2, "base64", base64.StdEncoding.EncodeToString([]byte("{}"))))
		case "empty":
			writeJSON(w, http.StatusOK, fileJSON(0, "base64", ""))
		case "apps":
			writeJSON(w, http.StatusOK, `[{"type":"file","name":"a","path":"apps/a"},{"type":"dir","name":"b","path":"apps/b"}]`)
		case "big.json":
			writeJSON(w, http.StatusOK, fileJSON(5<<20, "none", ""))
		case "link":
			writeJSON(w, http.StatusOK, `{"type":"symlink","target":"../outside","size":10,"name":"link","path":"link"}`)
		case "sub":
			writeJSON(w, http.StatusOK, `{"type":"submodule","submodule_git_url":"git://x","size":0,"name":"sub","path":"sub"}`)
		case "short":
			writeJSON(w, http.StatusOK, fileJSON(10, "base64", base64.StdEncoding.EncodeToString([]byte("abc"))))
		case "garbage":
			writeJSON(w, http.StatusOK, fileJSON(3, "base64", "!!!"))
		case "missing.json":
			assert.Equal(t, "v9", ref)
			writeJSON(w, http.StatusNotFound, `{"message":"Not Found"}`)
		default:
			t.Errorf("unexpected path %q", p)
		}
	})
	c, _ := f.client()
	ctx := context.Background()

	got, err := c.FileContent(ctx, "package.json", testSHA)
	require.NoError(t, err)
	assert.Equal(t, pkg, got)

	got, err = c.FileContent(ctx, "/apps/web app/package.json", "")
	require.NoError(t, err)
	assert.Equal(t, []byte("{}"), got)

	got, err = c.FileContent(ctx, "empty", "")
	require.NoError(t, err)
	assert.Empty(t, got)

	tests := []struct {
		path, ref, want string
		notFound        bool
	}{
		{path: "apps", ref: "main", want: "read apps@main in o/r: it is a directory, not a file"},
		{path: "big.json", want: "the file is 5242880 bytes, more than the 1 MiB GitHub's contents API returns"},
		{path: "link", want: `it is a symlink to "../outside"`},
		{path: "sub", want: "it is a submodule, not a file"},
		{path: "short", want: "GitHub said the file has 10 bytes but sent 3"},
		{path: "garbage", want: "decode GitHub's answer"},
		{path: "missing.json", ref: "v9", want: "read missing.json@v9 in o/r: GET /repos/o/r/contents/missing.json: 404", notFound: true},
		{path: " / ", want: "empty path"},
	}
	for _, tt := range tests {
		_, err := c.FileContent(ctx, tt.path, tt.ref)
		assert.ErrorContains(t, err, tt.want, tt.path)
		assert.Equal(t, tt.notFound, errors.Is(err, ErrNotFound), tt.path)
	}
}
