package ghemu

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// botUser is the account GITHUB_TOKEN acts as: the author of releases, the creator of
// deployments and their statuses, the user of issues the emulator's API creates.
var botUser = ownerJSON{Login: "github-actions[bot]", ID: 41898282, Type: "Bot"}

type releaseState struct {
	id                     int64
	tag, target            string
	name, body             *string
	draft, prerelease      bool
	makeLatest             string
	createdAt, publishedAt time.Time
	updatedAt              time.Time
}

// validationFailed is GitHub's 422 for a model error on one field.
func validationFailed(resource, field, code string) reply {
	return jsonReply(http.StatusUnprocessableEntity, apiError{Message: "Validation Failed",
		Errors: []apiDetail{{Resource: resource, Field: field, Code: code}}, DocumentationURL: docsURL, Status: "422"})
}

type releaseJSON struct {
	URL             string    `json:"url"`
	AssetsURL       string    `json:"assets_url"`
	UploadURL       string    `json:"upload_url"`
	HTMLURL         string    `json:"html_url"`
	ID              int64     `json:"id"`
	Author          ownerJSON `json:"author"`
	NodeID          string    `json:"node_id"`
	TagName         string    `json:"tag_name"`
	TargetCommitish string    `json:"target_commitish"`
	Name            *string   `json:"name"`
	Draft           bool      `json:"draft"`
	Immutable       bool      `json:"immutable"`
	Prerelease      bool      `json:"prerelease"`
	CreatedAt       *string   `json:"created_at"`
	UpdatedAt       *string   `json:"updated_at"`
	PublishedAt     *string   `json:"published_at"`
	Assets          []any     `json:"assets"`
	TarballURL      *string   `json:"tarball_url"`
	ZipballURL      *string   `json:"zipball_url"`
	Body            *string   `json:"body"`
}

func (c *rc) releaseJSON(r *releaseState) releaseJSON {
	u := c.u.repo + "/releases/" + formatID(r.id)
	out := releaseJSON{URL: u, AssetsURL: u + "/assets",
		UploadURL: c.u.base + "/api/uploads/repos/" + c.w.owner + "/" + c.w.repo + "/releases/" + formatID(r.id) + "/assets{?name,label}",
		HTMLURL:   c.u.html + "/releases/tag/" + escapePath(r.tag), ID: r.id, Author: botUser, NodeID: nodeID("RE", r.id),
		TagName: r.tag, TargetCommitish: r.target, Name: r.name, Draft: r.draft, Prerelease: r.prerelease,
		CreatedAt: ts(r.createdAt), UpdatedAt: ts(r.updatedAt), PublishedAt: ts(r.publishedAt), Assets: []any{}, Body: r.body}
	if r.draft {
		// A draft has no tag yet: GitHub links it under an "untagged-" name.
		out.HTMLURL = c.u.html + "/releases/tag/untagged-" + gitHash("release", []byte(formatID(r.id)))[:20]
	} else {
		tb, zb := c.u.repo+"/tarball/"+escapePath(r.tag), c.u.repo+"/zipball/"+escapePath(r.tag)
		out.TarballURL, out.ZipballURL = &tb, &zb
	}
	return out
}

type releaseInput struct {
	TagName              *string `json:"tag_name"`
	TargetCommitish      *string `json:"target_commitish"`
	Name                 *string `json:"name"`
	Body                 *string `json:"body"`
	Draft                *bool   `json:"draft"`
	Prerelease           *bool   `json:"prerelease"`
	GenerateReleaseNotes bool    `json:"generate_release_notes"`
	MakeLatest           *string `json:"make_latest"`
}

func (w *world) releaseForTag(tag string, except *releaseState) *releaseState {
	for _, r := range w.releases {
		if r.tag == tag && r != except {
			return r
		}
	}
	return nil
}

// publish makes the release's tag exist (GitHub creates a lightweight tag from
// target_commitish when the tag is new) and elects the latest release. ok=false
// carries the 422 for a target that names no commit.
func (c *rc) publish(r *releaseState) (reply, bool) {
	sha, exists := c.w.refCommit("refs/tags/" + r.tag)
	if !exists {
		var ok bool
		if sha, ok = c.w.resolve(r.target); !ok {
			return validationFailed("Release", "target_commitish", "invalid"), false
		}
		c.w.refs["refs/tags/"+r.tag] = sha
	}
	r.createdAt = c.w.commits[sha].date // GitHub: created_at is the date of the release's commit
	if r.publishedAt.IsZero() {
		r.publishedAt = c.now.Truncate(time.Second)
	}
	c.w.electLatest(r)
	return reply{}, true
}

// electLatest applies make_latest: "true" (the default) makes a published full release
// the latest, "false" leaves the latest alone, "legacy" elects the newest by creation
// date.
func (w *world) electLatest(r *releaseState) {
	if r.draft || r.prerelease {
		return
	}
	switch r.makeLatest {
	case "false":
	case "legacy":
		var best *releaseState
		for _, x := range w.releases {
			if x.draft || x.prerelease {
				continue
			}
			if best == nil || !x.createdAt.Before(best.createdAt) {
				best = x
			}
		}
		w.latestRelease = best
	default:
		w.latestRelease = r
	}
}

// generatedNotes imitates GitHub's generated release notes: the change list and the
// full changelog link from the previous published release.
func (c *rc) generatedNotes(r *releaseState) string {
	sha, ok := c.w.refCommit("refs/tags/" + r.tag)
	if !ok {
		sha, _ = c.w.resolve(r.target)
	}
	var b strings.Builder
	b.WriteString("## What's Changed\n")
	if cm, ok := c.w.commits[sha]; ok {
		head, _, _ := strings.Cut(cm.message, "\n")
		fmt.Fprintf(&b, "* %s by @agentme-bot in %s/commit/%s\n", head, c.u.html, sha)
	}
	prev := ""
	for i := len(c.w.releases) - 1; i >= 0; i-- {
		if x := c.w.releases[i]; x != r && !x.draft && !x.prerelease {
			prev = x.tag
			break
		}
	}
	if prev != "" {
		fmt.Fprintf(&b, "\n\n**Full Changelog**: %s/compare/%s...%s", c.u.html, prev, r.tag)
	} else {
		fmt.Fprintf(&b, "\n\n**Full Changelog**: %s/commits/%s", c.u.html, r.tag)
	}
	return b.String()
}

func validMakeLatest(p *string) (reply, bool) {
	if p == nil {
		return reply{}, true
	}
	switch *p {
	case "true", "false", "legacy":
		return reply{}, true
	}
	return errReply(http.StatusUnprocessableEntity, "Invalid request.\n\n"+strconv.Quote(*p)+
		` is not a member of ["true", "false", "legacy"].`), false
}

func createRelease(c *rc) reply {
	var in releaseInput
	if rep, ok := c.decode(&in); !ok {
		return rep
	}
	if in.TagName == nil {
		return missing("tag_name")
	}
	tag := *in.TagName
	if tag == "" {
		return validationFailed("Release", "tag_name", "missing_field")
	}
	if !validRefName("refs/tags/" + tag) {
		return validationFailed("Release", "tag_name", "invalid")
	}
	if rep, ok := validMakeLatest(in.MakeLatest); !ok {
		return rep
	}
	if c.w.releaseForTag(tag, nil) != nil {
		return validationFailed("Release", "tag_name", "already_exists")
	}
	r := &releaseState{tag: tag, target: "main", name: in.Name, body: in.Body,
		draft: in.Draft != nil && *in.Draft, prerelease: in.Prerelease != nil && *in.Prerelease}
	if in.TargetCommitish != nil && *in.TargetCommitish != "" {
		r.target = *in.TargetCommitish
	}
	if in.MakeLatest != nil {
		r.makeLatest = *in.MakeLatest
	}
	sha, ok := c.w.refCommit("refs/tags/" + tag)
	if !ok {
		if sha, ok = c.w.resolve(r.target); !ok {
			return validationFailed("Release", "target_commitish", "invalid")
		}
	}
	r.createdAt = c.w.commits[sha].date
	r.updatedAt = c.now.Truncate(time.Second)
	if in.GenerateReleaseNotes {
		notes := c.generatedNotes(r)
		if r.body != nil && *r.body != "" {
			notes = *r.body + "\n\n" + notes
		}
		r.body = &notes
		if r.name == nil {
			r.name = &r.tag
		}
	}
	r.id = c.w.newID(idRelease)
	c.w.releases = append(c.w.releases, r)
	if !r.draft {
		if rep, ok := c.publish(r); !ok {
			c.w.releases = c.w.releases[:len(c.w.releases)-1]
			return rep
		}
	}
	rep := jsonReply(http.StatusCreated, c.releaseJSON(r))
	rep.header = http.Header{"Location": {c.u.repo + "/releases/" + formatID(r.id)}}
	return rep
}

func (c *rc) releaseParam() (*releaseState, bool) {
	id, _ := c.idParam("id")
	for _, r := range c.w.releases {
		if r.id == id {
			return r, true
		}
	}
	return nil, false
}

func getRelease(c *rc) reply {
	r, ok := c.releaseParam()
	if !ok {
		return errReply(http.StatusNotFound, "Not Found")
	}
	return jsonReply(http.StatusOK, c.releaseJSON(r))
}

// getReleaseByTag answers published releases only, as GitHub does (a draft has no tag).
func getReleaseByTag(c *rc) reply {
	r := c.w.releaseForTag(c.params["tag"], nil)
	if r == nil || r.draft {
		return errReply(http.StatusNotFound, "Not Found")
	}
	return jsonReply(http.StatusOK, c.releaseJSON(r))
}

func getLatestRelease(c *rc) reply {
	r := c.w.latestRelease
	if r == nil || r.draft || r.prerelease || !slices.Contains(c.w.releases, r) {
		return errReply(http.StatusNotFound, "Not Found")
	}
	return jsonReply(http.StatusOK, c.releaseJSON(r))
}

// listReleases lists every release, drafts included (the token can push), newest first.
func listReleases(c *rc) reply {
	out := []releaseJSON{}
	for i := len(c.w.releases) - 1; i >= 0; i-- {
		out = append(out, c.releaseJSON(c.w.releases[i]))
	}
	return pagedReply(c, out, func(p []releaseJSON) any { return p })
}

func updateRelease(c *rc) reply {
	r, ok := c.releaseParam()
	if !ok {
		return errReply(http.StatusNotFound, "Not Found")
	}
	var in releaseInput
	if rep, ok := c.decode(&in); !ok {
		return rep
	}
	if rep, ok := validMakeLatest(in.MakeLatest); !ok {
		return rep
	}
	cp := *r
	if in.TagName != nil && *in.TagName != r.tag {
		if *in.TagName == "" || !validRefName("refs/tags/"+*in.TagName) {
			return validationFailed("Release", "tag_name", "invalid")
		}
		if c.w.releaseForTag(*in.TagName, r) != nil {
			return validationFailed("Release", "tag_name", "already_exists")
		}
		cp.tag = *in.TagName
	}
	if in.TargetCommitish != nil && *in.TargetCommitish != "" {
		cp.target = *in.TargetCommitish
	}
	if in.Name != nil {
		cp.name = in.Name
	}
	if in.Body != nil {
		cp.body = in.Body
	}
	if in.Draft != nil {
		cp.draft = *in.Draft
	}
	if in.Prerelease != nil {
		cp.prerelease = *in.Prerelease
	}
	if in.MakeLatest != nil {
		cp.makeLatest = *in.MakeLatest
	}
	cp.updatedAt = c.now.Truncate(time.Second)
	old := *r
	*r = cp
	if !r.draft {
		if rep, ok := c.publish(r); !ok {
			*r = old
			return rep
		}
	} else if c.w.latestRelease == r {
		c.w.latestRelease = nil
	}
	return jsonReply(http.StatusOK, c.releaseJSON(r))
}

// Release is a GitHub release as the emulator holds it.
type Release struct {
	ID                int64
	TagName           string
	TargetCommitish   string
	Name, Body        string
	Draft, Prerelease bool
	MakeLatest        string // as sent ("" when not sent)
	Latest            bool   // what GET /releases/latest answers
	CreatedAt         time.Time
	PublishedAt       time.Time // zero for a draft
}

// Releases returns the releases, oldest first.
func (s *Server) Releases() []Release {
	w, _, unlock := s.lock()
	defer unlock()
	out := []Release{}
	for _, r := range w.releases {
		x := Release{ID: r.id, TagName: r.tag, TargetCommitish: r.target, Draft: r.draft, Prerelease: r.prerelease,
			MakeLatest: r.makeLatest, Latest: w.latestRelease == r && !r.draft && !r.prerelease,
			CreatedAt: r.createdAt, PublishedAt: r.publishedAt}
		if r.name != nil {
			x.Name = *r.name
		}
		if r.body != nil {
			x.Body = *r.body
		}
		out = append(out, x)
	}
	return out
}

// ---- issues ----

type labelState struct {
	id          int64
	name, color string
}

type issueState struct {
	id         int64
	number     int
	title      string
	body       *string
	labels     []*labelState
	createdAt  time.Time
	issueExtra // author, state, edits and comments: issues_incident.go
}

type labelJSON struct {
	ID          int64   `json:"id"`
	NodeID      string  `json:"node_id"`
	URL         string  `json:"url"`
	Name        string  `json:"name"`
	Color       string  `json:"color"`
	Default     bool    `json:"default"`
	Description *string `json:"description"`
}

type issueJSON struct {
	ID                int64       `json:"id"`
	NodeID            string      `json:"node_id"`
	URL               string      `json:"url"`
	RepositoryURL     string      `json:"repository_url"`
	LabelsURL         string      `json:"labels_url"`
	CommentsURL       string      `json:"comments_url"`
	EventsURL         string      `json:"events_url"`
	HTMLURL           string      `json:"html_url"`
	Number            int         `json:"number"`
	State             string      `json:"state"`
	StateReason       *string     `json:"state_reason"`
	Title             string      `json:"title"`
	Body              *string     `json:"body"`
	User              ownerJSON   `json:"user"`
	Labels            []labelJSON `json:"labels"`
	Assignee          *ownerJSON  `json:"assignee"`
	Assignees         []ownerJSON `json:"assignees"`
	Milestone         any         `json:"milestone"`
	Locked            bool        `json:"locked"`
	ActiveLockReason  *string     `json:"active_lock_reason"`
	Comments          int         `json:"comments"`
	ClosedAt          *string     `json:"closed_at"`
	CreatedAt         *string     `json:"created_at"`
	UpdatedAt         *string     `json:"updated_at"`
	ClosedBy          *ownerJSON  `json:"closed_by"`
	AuthorAssociation string      `json:"author_association"`
}

func (c *rc) issueJSON(is *issueState) issueJSON {
	u := c.u.repo + "/issues/" + strconv.Itoa(is.number)
	out := issueJSON{ID: is.id, NodeID: nodeID("I", is.id), URL: u, RepositoryURL: c.u.repo,
		LabelsURL: u + "/labels{/name}", CommentsURL: u + "/comments", EventsURL: u + "/events",
		HTMLURL: c.u.html + "/issues/" + strconv.Itoa(is.number), Number: is.number, State: "open", Title: is.title,
		Body: is.body, User: botUser, Labels: []labelJSON{}, Assignees: []ownerJSON{}, CreatedAt: ts(is.createdAt),
		UpdatedAt: ts(is.createdAt), AuthorAssociation: "NONE"}
	is.issueExtra.fill(&out)
	for _, l := range is.labels {
		out.Labels = append(out.Labels, labelJSON{ID: l.id, NodeID: nodeID("LA", l.id),
			URL: c.u.repo + "/labels/" + escapePath(l.name), Name: l.name, Color: l.color})
	}
	return out
}

// createIssue is POST /issues. Labels are names or {"name": ...} objects; unknown
// labels are created, as GitHub does for a token that can push.
func createIssue(c *rc) reply {
	var in struct {
		Title  json.RawMessage   `json:"title"`
		Body   *string           `json:"body"`
		Labels []json.RawMessage `json:"labels"`
	}
	if rep, ok := c.decode(&in); !ok {
		return rep
	}
	if len(in.Title) == 0 || string(in.Title) == "null" {
		return missing("title")
	}
	var title string
	if err := json.Unmarshal(in.Title, &title); err != nil {
		var n json.Number // GitHub accepts a number as the title
		if err := json.Unmarshal(in.Title, &n); err != nil {
			return errReply(http.StatusUnprocessableEntity, "Invalid request.\n\nFor 'properties/title', "+string(in.Title)+" is not a string or integer.")
		}
		title = n.String()
	}
	if strings.TrimSpace(title) == "" {
		return validationFailed("Issue", "title", "missing_field")
	}
	var labels []*labelState
	for _, raw := range in.Labels {
		var name string
		if err := json.Unmarshal(raw, &name); err != nil {
			var obj struct {
				Name string `json:"name"`
			}
			if err := json.Unmarshal(raw, &obj); err != nil || obj.Name == "" {
				return errReply(http.StatusUnprocessableEntity, "Invalid request.\n\nFor 'items', "+string(raw)+" is not a string or object.")
			}
			name = obj.Name
		}
		key := strings.ToLower(name)
		l, ok := c.w.labels[key]
		if !ok {
			l = &labelState{id: c.w.newID(idLabel), name: name, color: "ededed"}
			c.w.labels[key] = l
		}
		if !slices.Contains(labels, l) {
			labels = append(labels, l)
		}
	}
	is := &issueState{id: c.w.newID(idIssue), number: len(c.w.issues) + 1, title: title, body: in.Body,
		labels: labels, createdAt: c.now.Truncate(time.Second), issueExtra: c.s.apiAuthor()}
	c.w.issues = append(c.w.issues, is)
	rep := jsonReply(http.StatusCreated, c.issueJSON(is))
	rep.header = http.Header{"Location": {c.u.repo + "/issues/" + strconv.Itoa(is.number)}}
	return rep
}

func getIssue(c *rc) reply {
	n, err := strconv.Atoi(c.params["number"])
	if err != nil || n < 1 || n > len(c.w.issues) {
		return errReply(http.StatusNotFound, "Not Found")
	}
	return jsonReply(http.StatusOK, c.issueJSON(c.w.issues[n-1]))
}

// Issue is an issue created through the API.
type Issue struct {
	Number    int
	Title     string
	Body      string
	Labels    []string
	CreatedAt time.Time
	IssueFacts
}

// Issues returns the issues, by number.
func (s *Server) Issues() []Issue {
	w, _, unlock := s.lock()
	defer unlock()
	out := []Issue{}
	for _, is := range w.issues {
		x := Issue{Number: is.number, Title: is.title, CreatedAt: is.createdAt, Labels: []string{}}
		is.issueExtra.export(&x)
		if is.body != nil {
			x.Body = *is.body
		}
		for _, l := range is.labels {
			x.Labels = append(x.Labels, l.name)
		}
		out = append(out, x)
	}
	return out
}
