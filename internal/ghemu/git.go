package ghemu

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// tagObject is an annotated tag: the object refs/tags/<name> points at.
type tagObject struct {
	sha, tag, message, object, typ string
	tagger                         gitPerson
}

type gitPerson struct {
	name, email string
	date        time.Time
}

// botPerson is who GITHUB_TOKEN writes as when a request names no tagger.
var botPerson = gitPerson{name: "github-actions[bot]", email: "41898282+github-actions[bot]@users.noreply.github.com"}

// gitHash is git's object id: sha1 of "<kind> <size>\x00<content>", so the same tag or
// file content always gets the sha git itself would compute.
func gitHash(kind string, content []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "%s %d\x00", kind, len(content))
	h.Write(content)
	return hex.EncodeToString(h.Sum(nil))
}

func (w *world) addTagObject(tag, message, object, typ string, tagger gitPerson) *tagObject {
	tagger.date = tagger.date.UTC().Truncate(time.Second)
	body := fmt.Sprintf("object %s\ntype %s\ntag %s\ntagger %s <%s> %d +0000\n\n%s",
		object, typ, tag, tagger.name, tagger.email, tagger.date.Unix(), message)
	t := &tagObject{sha: gitHash("tag", []byte(body)), tag: tag, message: message, object: object, typ: typ, tagger: tagger}
	w.tagObjects[t.sha] = t
	return t
}

// missing renders GitHub's schema error for absent required fields.
func missing(fields ...string) reply {
	q := make([]string, len(fields))
	for i, f := range fields {
		q[i] = strconv.Quote(f)
	}
	verb := " wasn't supplied."
	if len(q) > 1 {
		verb = " weren't supplied."
	}
	return errReply(http.StatusUnprocessableEntity, "Invalid request.\n\n"+strings.Join(q, ", ")+verb)
}

type tagJSON struct {
	NodeID  string      `json:"node_id"`
	SHA     string      `json:"sha"`
	URL     string      `json:"url"`
	Tag     string      `json:"tag"`
	Message string      `json:"message"`
	Tagger  gitUserJSON `json:"tagger"`
	Object  struct {
		SHA  string `json:"sha"`
		Type string `json:"type"`
		URL  string `json:"url"`
	} `json:"object"`
	Verification struct {
		Verified   bool    `json:"verified"`
		Reason     string  `json:"reason"`
		Signature  *string `json:"signature"`
		Payload    *string `json:"payload"`
		VerifiedAt *string `json:"verified_at"`
	} `json:"verification"`
}

func (c *rc) tagJSON(t *tagObject) tagJSON {
	out := tagJSON{NodeID: nodeID("TAG", t.sha), SHA: t.sha, URL: c.u.repo + "/git/tags/" + t.sha, Tag: t.tag,
		Message: t.message, Tagger: gitUserJSON{Name: t.tagger.name, Email: t.tagger.email, Date: ts(t.tagger.date)}}
	out.Object.SHA, out.Object.Type, out.Object.URL = t.object, t.typ, c.u.repo+"/git/commits/"+t.object
	out.Verification.Reason = "unsigned"
	return out
}

// createTagObject is POST /git/tags. It only creates the object: like GitHub, the tag
// exists for other readers once a POST /git/refs points refs/tags/<name> at it.
func createTagObject(c *rc) reply {
	var in struct {
		Tag     *string `json:"tag"`
		Message *string `json:"message"`
		Object  *string `json:"object"`
		Type    *string `json:"type"`
		Tagger  *struct {
			Name  string `json:"name"`
			Email string `json:"email"`
			Date  string `json:"date"`
		} `json:"tagger"`
	}
	if rep, ok := c.decode(&in); !ok {
		return rep
	}
	var absent []string
	for _, f := range []struct {
		name string
		v    *string
	}{{"tag", in.Tag}, {"message", in.Message}, {"object", in.Object}, {"type", in.Type}} {
		if f.v == nil {
			absent = append(absent, f.name)
		}
	}
	if len(absent) > 0 {
		return missing(absent...)
	}
	switch *in.Type {
	case "commit", "tree", "blob":
	default:
		return errReply(http.StatusUnprocessableEntity, "Invalid request.\n\n"+strconv.Quote(*in.Type)+
			` is not a member of ["commit", "tree", "blob"].`)
	}
	// The emulator stores commits only: a tree or blob named here does not exist.
	if _, ok := c.w.commits[*in.Object]; !ok || *in.Type != "commit" {
		return errReply(http.StatusUnprocessableEntity, "Object does not exist")
	}
	tagger := botPerson
	tagger.date = c.now
	if t := in.Tagger; t != nil {
		if t.Name == "" || t.Email == "" {
			return errReply(http.StatusUnprocessableEntity, "Invalid request.\n\n\"name\", \"email\" weren't supplied.")
		}
		tagger.name, tagger.email = t.Name, t.Email
		if t.Date != "" {
			d, err := time.Parse(time.RFC3339, t.Date)
			if err != nil {
				return errReply(http.StatusUnprocessableEntity, "Invalid request.\n\n"+strconv.Quote(t.Date)+" is not a valid date-time.")
			}
			tagger.date = d
		}
	}
	t := c.w.addTagObject(*in.Tag, *in.Message, *in.Object, *in.Type, tagger)
	rep := jsonReply(http.StatusCreated, c.tagJSON(t))
	rep.header = http.Header{"Location": {c.u.repo + "/git/tags/" + t.sha}}
	return rep
}

func getTagObject(c *rc) reply {
	t, ok := c.w.tagObjects[strings.ToLower(c.params["sha"])]
	if !ok {
		return errReply(http.StatusNotFound, "Not Found")
	}
	return jsonReply(http.StatusOK, c.tagJSON(t))
}

// ---- contents ----

// maxInlineContent is the size above which GitHub's contents API stops inlining a
// file (encoding "none", empty content).
const maxInlineContent = 1 << 20

type contentLinks struct {
	Self string `json:"self"`
	Git  string `json:"git"`
	HTML string `json:"html"`
}

type contentJSON struct {
	Type        string       `json:"type"`
	Encoding    string       `json:"encoding,omitempty"`
	Size        int          `json:"size"`
	Name        string       `json:"name"`
	Path        string       `json:"path"`
	Content     *string      `json:"content,omitempty"`
	SHA         string       `json:"sha"`
	URL         string       `json:"url"`
	GitURL      string       `json:"git_url"`
	HTMLURL     string       `json:"html_url"`
	DownloadURL *string      `json:"download_url"`
	Links       contentLinks `json:"_links"`
}

func (c *rc) contentEntry(kind, path, ref, sha string, size int) contentJSON {
	self := c.u.repo + "/contents/" + escapePath(path) + "?ref=" + url.QueryEscape(ref)
	git := c.u.repo + "/git/blobs/" + sha
	html := c.u.html + "/blob/" + ref + "/" + escapePath(path)
	var dl *string
	if kind == "dir" {
		git = c.u.repo + "/git/trees/" + sha
		html = c.u.html + "/tree/" + ref + "/" + escapePath(path)
	} else {
		d := c.u.base + "/raw/" + c.w.owner + "/" + c.w.repo + "/" + ref + "/" + escapePath(path)
		dl = &d
	}
	return contentJSON{Type: kind, Size: size, Name: path[strings.LastIndex(path, "/")+1:], Path: path, SHA: sha,
		URL: self, GitURL: git, HTMLURL: html, DownloadURL: dl, Links: contentLinks{Self: self, Git: git, HTML: html}}
}

func escapePath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}

// wrap64 encodes like GitHub's contents API: base64 in lines of 60 characters, each
// ending in a newline (decoders that ignore newlines, as Go's does, read it as is).
func wrap64(b []byte) string {
	enc := base64.StdEncoding.EncodeToString(b)
	var sb strings.Builder
	for len(enc) > 60 {
		sb.WriteString(enc[:60] + "\n")
		enc = enc[60:]
	}
	if enc != "" {
		sb.WriteString(enc + "\n")
	}
	return sb.String()
}

// getContents is GET /contents/{path}?ref=: a file (base64) or a directory listing of
// the files AddFile put on the commit ref names (default: the default branch).
func getContents(c *rc) reply {
	ref := c.query("ref")
	if ref == "" {
		ref = "main"
	}
	sha, ok := c.w.resolve(ref)
	if !ok {
		return errReply(http.StatusNotFound, "No commit found for the ref "+ref)
	}
	path := strings.Trim(c.params["path"], "/")
	files := c.w.files[sha]
	if content, ok := files[path]; ok {
		out := c.contentEntry("file", path, ref, gitHash("blob", content), len(content))
		enc, text := "base64", wrap64(content)
		if len(content) > maxInlineContent {
			enc, text = "none", ""
		}
		out.Encoding, out.Content = enc, &text
		return jsonReply(http.StatusOK, out)
	}
	seen := map[string]bool{}
	var entries []contentJSON
	for p, content := range files {
		rest, ok := strings.CutPrefix(p, path+"/")
		if !ok {
			continue
		}
		name, _, isDir := strings.Cut(rest, "/")
		if seen[name] {
			continue
		}
		seen[name] = true
		if isDir {
			entries = append(entries, c.contentEntry("dir", path+"/"+name, ref, gitHash("tree", []byte(sha+":"+path+"/"+name)), 0))
		} else {
			entries = append(entries, c.contentEntry("file", p, ref, gitHash("blob", content), len(content)))
		}
	}
	if len(entries) == 0 {
		return errReply(http.StatusNotFound, "Not Found")
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name < entries[j].Name })
	return jsonReply(http.StatusOK, entries)
}

// ---- scenario ----

// Tag is a git tag as the emulator holds it.
type Tag struct {
	Name string
	// SHA is the commit the tag names; ObjectSHA is what refs/tags/<Name> points at
	// (the tag object of an annotated tag, else the commit).
	SHA, ObjectSHA string
	Annotated      bool
	Message        string // an annotated tag's message
}

// AddAnnotatedTag creates an annotated tag object on sha (a new commit if unknown),
// tagged by github-actions[bot] now, and points refs/tags/name at it. It returns the
// tag object's sha.
func (s *Server) AddAnnotatedTag(name, sha, message string) string {
	mustSHA(sha)
	w, now, unlock := s.lock()
	defer unlock()
	w.addCommit(sha, now)
	tagger := botPerson
	tagger.date = now
	t := w.addTagObject(name, message, sha, "commit", tagger)
	w.refs["refs/tags/"+name] = t.sha
	return t.sha
}

// AddFile puts a file on commit sha (a new commit if unknown), as GET /contents
// serves it. Files belong to one commit: another commit does not inherit them.
func (s *Server) AddFile(sha, path string, content []byte) {
	mustSHA(sha)
	w, now, unlock := s.lock()
	defer unlock()
	w.addCommit(sha, now)
	if w.files[sha] == nil {
		w.files[sha] = map[string][]byte{}
	}
	w.files[sha][strings.Trim(path, "/")] = slices.Clone(content)
}

// Tags returns every tag by name (without refs/tags/).
func (s *Server) Tags() map[string]Tag {
	w, _, unlock := s.lock()
	defer unlock()
	out := map[string]Tag{}
	for ref, obj := range w.refs {
		name, ok := strings.CutPrefix(ref, "refs/tags/")
		if !ok {
			continue
		}
		t := Tag{Name: name, ObjectSHA: obj}
		t.SHA, _ = w.peel(obj)
		if to, ok := w.tagObjects[obj]; ok {
			t.Annotated, t.Message = true, to.message
		}
		out[name] = t
	}
	return out
}
