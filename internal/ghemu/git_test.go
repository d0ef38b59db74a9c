package ghemu_test

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/agentme/release-action/internal/ghemu"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type contentFile struct {
	Type        string  `json:"type"`
	Encoding    string  `json:"encoding"`
	Content     *string `json:"content"`
	SHA         string  `json:"sha"`
	Name        string  `json:"name"`
	Path        string  `json:"path"`
	Size        int     `json:"size"`
	URL         string  `json:"url"`
	DownloadURL *string `json:"download_url"`
}

func TestContents(t *testing.T) {
	e := newEnv(t, ghemu.Options{})
	e.s.LoadAgentMe(shaA)
	pkg := []byte(`{"name":"agentme","version":"2026.2.9"}` + "\n")
	e.s.AddFile(shaA, "package.json", pkg)
	e.s.AddFile(shaA, "src/gateway/auth.ts", []byte("export {}\n"))
	e.s.AddFile(shaA, "src/index.ts", []byte("main()\n"))
	e.s.AddFile(shaB, "package.json", []byte(`{"version":"2026.3.0"}`))
	e.s.AddFile(shaA, "big.bin", make([]byte, 1<<20+1))
	e.s.AddTag("v2026.2.9", shaA)

	tests := []struct {
		name, path, ref string
		wantStatus      int
		want            []byte
		wantMsg         string
	}{
		{"default branch", "package.json", "", 200, pkg, ""},
		{"sha", "package.json", shaA, 200, pkg, ""},
		{"branch", "package.json", "main", 200, pkg, ""},
		{"tag", "package.json", "v2026.2.9", 200, pkg, ""},
		{"another commit has its own files", "package.json", shaB, 200, []byte(`{"version":"2026.3.0"}`), ""},
		{"nested", "src/gateway/auth.ts", shaA, 200, []byte("export {}\n"), ""},
		{"missing file", "nope.json", shaA, 404, nil, "Not Found"},
		{"file of another commit", "src/index.ts", shaB, 404, nil, "Not Found"},
		{"unknown ref", "package.json", "nope", 404, nil, "No commit found for the ref nope"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := "/contents/" + tc.path
			if tc.ref != "" {
				u += "?ref=" + tc.ref
			}
			r := e.get(u)
			require.Equal(t, tc.wantStatus, r.StatusCode, string(r.body))
			if tc.wantStatus != 200 {
				assert.Equal(t, tc.wantMsg, r.message(t))
				return
			}
			var f contentFile
			r.json(t, &f)
			assert.Equal(t, "file", f.Type)
			assert.Equal(t, "base64", f.Encoding)
			assert.Equal(t, tc.path, f.Path)
			assert.Equal(t, tc.path[strings.LastIndex(tc.path, "/")+1:], f.Name)
			assert.Equal(t, len(tc.want), f.Size)
			require.NotNil(t, f.Content)
			for _, line := range strings.Split(strings.TrimSuffix(*f.Content, "\n"), "\n") {
				assert.LessOrEqual(t, len(line), 60, "GitHub wraps base64 at 60 characters")
			}
			got, err := base64.StdEncoding.DecodeString(*f.Content)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			h := sha1.Sum(append([]byte(fmt.Sprintf("blob %d\x00", len(tc.want))), tc.want...))
			assert.Equal(t, hex.EncodeToString(h[:]), f.SHA, "the sha is git's blob id")
			assert.NotEmpty(t, r.Header.Get("ETag"))
		})
	}

	t.Run("git blob id of a known content", func(t *testing.T) {
		e.s.AddFile(shaC, "hello.txt", []byte("hello\n"))
		var f contentFile
		e.getJSON("/contents/hello.txt?ref="+shaC, &f)
		assert.Equal(t, "ce013625030ba8dba906f756967f9e9ca394464a", f.SHA) // git hash-object of "hello\n"
	})
	t.Run("directory", func(t *testing.T) {
		var entries []contentFile
		e.getJSON("/contents/src?ref="+shaA, &entries)
		require.Len(t, entries, 2)
		assert.Equal(t, "gateway", entries[0].Name)
		assert.Equal(t, "dir", entries[0].Type)
		assert.Nil(t, entries[0].DownloadURL)
		assert.Equal(t, "index.ts", entries[1].Name)
		assert.Equal(t, "file", entries[1].Type)
		assert.Nil(t, entries[1].Content, "a listing carries no content")
	})
	t.Run("over 1 MiB is not inlined", func(t *testing.T) {
		var f contentFile
		e.getJSON("/contents/big.bin", &f)
		assert.Equal(t, "none", f.Encoding)
		assert.Equal(t, "", *f.Content)
		assert.Equal(t, 1<<20+1, f.Size)
	})
}

type gitRef struct {
	Ref    string `json:"ref"`
	Object struct {
		SHA  string `json:"sha"`
		Type string `json:"type"`
		URL  string `json:"url"`
	} `json:"object"`
}

type gitTag struct {
	SHA     string `json:"sha"`
	Tag     string `json:"tag"`
	Message string `json:"message"`
	URL     string `json:"url"`
	Tagger  struct {
		Name  string `json:"name"`
		Email string `json:"email"`
		Date  string `json:"date"`
	} `json:"tagger"`
	Object struct {
		SHA  string `json:"sha"`
		Type string `json:"type"`
	} `json:"object"`
	Verification struct {
		Verified bool   `json:"verified"`
		Reason   string `json:"reason"`
	} `json:"verification"`
}

// TestAnnotatedTag walks what CreateAnnotatedTag and GetTag send: POST /git/tags, POST
// /git/refs to the tag object, then GET /git/ref and GET /git/tags to dereference.
func TestAnnotatedTag(t *testing.T) {
	e := newEnv(t, ghemu.Options{})
	e.s.LoadAgentMe(shaA)
	date := "2026-11-20T09:30:00Z"
	msg := "Release candidate v2026.2.9-rc.1 of " + shaA
	r := e.do("POST", "/git/tags", map[string]any{"tag": "v2026.2.9-rc.1", "message": msg, "object": shaA,
		"type": "commit", "tagger": map[string]string{"name": "Release Bot", "email": "release@agentme.example", "date": date}})
	require.Equal(t, http.StatusCreated, r.StatusCode, string(r.body))
	var created gitTag
	r.json(t, &created)
	require.Regexp(t, `^[0-9a-f]{40}$`, created.SHA)
	assert.NotEqual(t, shaA, created.SHA)
	body := fmt.Sprintf("object %s\ntype commit\ntag v2026.2.9-rc.1\ntagger Release Bot <release@agentme.example> %d +0000\n\n%s",
		shaA, time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC).Unix(), msg)
	h := sha1.Sum(append([]byte(fmt.Sprintf("tag %d\x00", len(body))), body...))
	assert.Equal(t, hex.EncodeToString(h[:]), created.SHA, "the tag object's sha is git's")
	assert.Equal(t, "v2026.2.9-rc.1", created.Tag)
	assert.Equal(t, msg, created.Message)
	assert.Equal(t, date, created.Tagger.Date)
	assert.Equal(t, shaA, created.Object.SHA)
	assert.Equal(t, "commit", created.Object.Type)
	assert.Equal(t, "unsigned", created.Verification.Reason)
	assert.Empty(t, e.s.Tags(), "a tag object alone is no tag")

	r = e.do("POST", "/git/refs", map[string]string{"ref": "refs/tags/v2026.2.9-rc.1", "sha": created.SHA})
	require.Equal(t, http.StatusCreated, r.StatusCode, string(r.body))
	var ref gitRef
	r.json(t, &ref)
	assert.Equal(t, "tag", ref.Object.Type)

	e.getJSON("/git/ref/tags/v2026.2.9-rc.1", &ref)
	assert.Equal(t, "refs/tags/v2026.2.9-rc.1", ref.Ref)
	assert.Equal(t, "tag", ref.Object.Type)
	assert.Equal(t, created.SHA, ref.Object.SHA)
	assert.Equal(t, e.api+"/git/tags/"+created.SHA, ref.Object.URL)
	var got gitTag
	e.getJSON(ref.Object.URL, &got)
	assert.Equal(t, created, got)

	assert.Equal(t, map[string]ghemu.Tag{"v2026.2.9-rc.1": {Name: "v2026.2.9-rc.1", SHA: shaA, ObjectSHA: created.SHA,
		Annotated: true, Message: msg}}, e.s.Tags())

	t.Run("the tag resolves to its commit", func(t *testing.T) {
		r := e.get("/commits/v2026.2.9-rc.1", "Accept", "application/vnd.github.sha")
		require.Equal(t, http.StatusOK, r.StatusCode)
		assert.Equal(t, shaA, string(r.body))
		r = e.do("POST", "/actions/workflows/deploy.yml/dispatches", map[string]any{"ref": "v2026.2.9-rc.1",
			"inputs": map[string]string{"environment": "staging"}})
		require.Equal(t, http.StatusNoContent, r.StatusCode, string(r.body))
		assert.Equal(t, shaA, e.s.Dispatches()[0].SHA)
		a, _ := e.graphql(`{repository(owner:"agentme",name:"agentme"){ref(qualifiedName:"refs/tags/v2026.2.9-rc.1"){target{oid}}}}`, nil)
		require.Empty(t, a.Errors)
		assert.JSONEq(t, `{"repository":{"ref":{"target":{"oid":"`+shaA+`"}}}}`, string(a.Data))
	})

	t.Run("refs never move", func(t *testing.T) {
		for _, sha := range []string{created.SHA, shaA} {
			r := e.do("POST", "/git/refs", map[string]string{"ref": "refs/tags/v2026.2.9-rc.1", "sha": sha})
			assert.Equal(t, http.StatusUnprocessableEntity, r.StatusCode)
			assert.Equal(t, "Reference already exists", r.message(t))
		}
	})

	t.Run("without tagger the token's bot tags now", func(t *testing.T) {
		r := e.do("POST", "/git/tags", map[string]any{"tag": "v2", "message": "m", "object": shaA, "type": "commit"})
		require.Equal(t, http.StatusCreated, r.StatusCode, string(r.body))
		var tg gitTag
		r.json(t, &tg)
		assert.Equal(t, "github-actions[bot]", tg.Tagger.Name)
		assert.Equal(t, t0.Format(time.RFC3339), tg.Tagger.Date)
	})

	t.Run("lightweight and scenario tags", func(t *testing.T) {
		e.s.AddTag("light", shaB)
		obj := e.s.AddAnnotatedTag("heavy", shaC, "annotated by the scenario")
		var ref gitRef
		e.getJSON("/git/ref/tags/light", &ref)
		assert.Equal(t, "commit", ref.Object.Type)
		assert.Equal(t, shaB, ref.Object.SHA)
		e.getJSON("/git/ref/tags/heavy", &ref)
		assert.Equal(t, "tag", ref.Object.Type)
		assert.Equal(t, obj, ref.Object.SHA)
		var tg gitTag
		e.getJSON("/git/tags/"+obj, &tg)
		assert.Equal(t, shaC, tg.Object.SHA)
		assert.Equal(t, "annotated by the scenario", tg.Message)
		tags := e.s.Tags()
		assert.Equal(t, ghemu.Tag{Name: "light", SHA: shaB, ObjectSHA: shaB}, tags["light"])
		assert.Equal(t, ghemu.Tag{Name: "heavy", SHA: shaC, ObjectSHA: obj, Annotated: true, Message: "annotated by the scenario"}, tags["heavy"])
	})
}

func TestCreateTagObjectErrors(t *testing.T) {
	e := newEnv(t, ghemu.Options{})
	e.s.AddCommit(shaA, "main")
	tests := []struct {
		name    string
		body    any
		status  int
		wantMsg string
	}{
		{"missing fields", map[string]any{"tag": "v1"}, 422, "Invalid request.\n\n\"message\", \"object\", \"type\" weren't supplied."},
		{"unknown object", map[string]any{"tag": "v1", "message": "m", "object": shaB, "type": "commit"}, 422, "Object does not exist"},
		{"bad type", map[string]any{"tag": "v1", "message": "m", "object": shaA, "type": "branch"}, 422,
			"Invalid request.\n\n\"branch\" is not a member of [\"commit\", \"tree\", \"blob\"]."},
		{"bad date", map[string]any{"tag": "v1", "message": "m", "object": shaA, "type": "commit",
			"tagger": map[string]string{"name": "a", "email": "b", "date": "yesterday"}}, 422, ""},
		{"bad json", "{", 400, "Problems parsing JSON"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("POST", "/git/tags", tc.body)
			require.Equal(t, tc.status, r.StatusCode, string(r.body))
			if tc.wantMsg != "" {
				assert.Equal(t, tc.wantMsg, r.message(t))
			}
		})
	}
	r := e.get("/git/tags/" + shaA)
	assert.Equal(t, http.StatusNotFound, r.StatusCode, "a commit is not a tag object")
	r = e.do("POST", "/git/refs", map[string]string{"ref": "refs/tags/x", "sha": shaB})
	assert.Equal(t, "Object does not exist", r.message(t))
}

func TestMatchingTagRefsPaginated(t *testing.T) {
	e := newEnv(t, ghemu.Options{})
	e.s.AddCommit(shaA, "main")
	want := map[string]bool{}
	for n := 1; n <= 150; n++ {
		name := fmt.Sprintf("v2026.2.9-rc.%d", n)
		if n%2 == 0 {
			e.s.AddAnnotatedTag(name, shaA, "rc")
		} else {
			e.s.AddTag(name, shaA)
		}
		want["refs/tags/"+name] = true
	}
	e.s.AddTag("v2026.2.8-rc.1", shaA)
	e.s.AddTag("v2026.2.9", shaA)

	got := map[string]bool{}
	types := map[string]int{}
	next := e.api + "/git/matching-refs/tags/v2026.2.9-rc.?per_page=100"
	pages := 0
	for next != "" {
		var refs []gitRef
		r := e.getJSON(next, &refs)
		pages++
		for _, ref := range refs {
			got[ref.Ref] = true
			types[ref.Object.Type]++
		}
		next = links(r.Header.Get("Link"))["next"]
	}
	assert.Equal(t, 2, pages)
	assert.Equal(t, want, got)
	assert.Equal(t, map[string]int{"commit": 75, "tag": 75}, types)

	var none []gitRef
	e.getJSON("/git/matching-refs/tags/v9", &none)
	assert.Empty(t, none)
	assert.NotNil(t, none, "no match is [], not null")
}
