package ghemu

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// issueExtra is what an issue carries beyond its creation: who wrote it, its state, its
// edits and comments. Issues created through the API are written by the token's identity
// (Options.TokenLogin); AddIssue seeds issues written by anyone else.
type issueExtra struct {
	author      ownerJSON
	closed      bool
	stateReason string
	closedAt    time.Time
	updatedAt   time.Time
	edits       int
	comments    []issueComment
}

type issueComment struct {
	id        int64
	author    ownerJSON
	body      string
	createdAt time.Time
}

// IssueFacts are an issue's author, state, edits and comments (Issue embeds them).
type IssueFacts struct {
	Author      string
	State       string // open, closed
	StateReason string
	ClosedAt    time.Time
	// Edits counts PATCH requests that changed the issue.
	Edits    int
	Comments []string
}

// tokenUser is the identity requests authenticate as.
func (s *Server) tokenUser() ownerJSON {
	if s.opts.TokenLogin == "" || s.opts.TokenLogin == botUser.Login {
		return botUser
	}
	return ownerJSON{Login: s.opts.TokenLogin, ID: 583231, Type: userType(s.opts.TokenLogin)}
}

func userType(login string) string {
	if strings.HasSuffix(login, "[bot]") {
		return "Bot"
	}
	return "User"
}

// apiAuthor is the issueExtra of an issue the API creates.
func (s *Server) apiAuthor() issueExtra { return issueExtra{author: s.tokenUser()} }

func (x *issueExtra) fill(out *issueJSON) {
	if x.author.Login != "" {
		out.User = x.author
	}
	if x.closed {
		out.State = "closed"
		out.ClosedAt = ts(x.closedAt)
		u := x.author
		out.ClosedBy = &u
	}
	out.StateReason = strp(x.stateReason)
	if !x.updatedAt.IsZero() {
		out.UpdatedAt = ts(x.updatedAt)
	}
	out.Comments = len(x.comments)
	if x.author.Type == "User" {
		out.AuthorAssociation = "MEMBER"
	}
}

func (x *issueExtra) export(i *Issue) {
	i.Author = x.author.Login
	if i.Author == "" {
		i.Author = botUser.Login
	}
	i.State = "open"
	if x.closed {
		i.State = "closed"
	}
	i.StateReason, i.ClosedAt, i.Edits = x.stateReason, x.closedAt, x.edits
	for _, c := range x.comments {
		i.Comments = append(i.Comments, c.body)
	}
}

// AddIssue seeds an issue written by author (a login: "mallory", "dependabot[bot]"), as
// if that account opened it in the web UI, and returns its number. Labels are created as
// needed.
func (s *Server) AddIssue(author, title, body string, labels ...string) int {
	w, now, unlock := s.lock()
	defer unlock()
	var ls []*labelState
	for _, name := range labels {
		key := strings.ToLower(name)
		l, ok := w.labels[key]
		if !ok {
			l = &labelState{id: w.newID(idLabel), name: name, color: "ededed"}
			w.labels[key] = l
		}
		ls = append(ls, l)
	}
	b := body
	is := &issueState{id: w.newID(idIssue), number: len(w.issues) + 1, title: title, body: &b, labels: ls,
		createdAt:  now.Truncate(time.Second),
		issueExtra: issueExtra{author: ownerJSON{Login: author, ID: int64(7_000_000 + len(w.issues)), Type: userType(author)}}}
	w.issues = append(w.issues, is)
	return is.number
}

func (c *rc) issueByNumber() (*issueState, bool) {
	n, err := strconv.Atoi(c.params["number"])
	if err != nil || n < 1 || n > len(c.w.issues) {
		return nil, false
	}
	return c.w.issues[n-1], true
}

// listIssues is GET /issues: state (open by default, closed, all), labels (every one
// must be on the issue), creator, sort (created, updated), direction, since.
func listIssues(c *rc) reply {
	q := c.r.URL.Query()
	state := q.Get("state")
	switch state {
	case "":
		state = "open"
	case "open", "closed", "all":
	default:
		return validationFailed("Issue", "state", "invalid")
	}
	var want []string
	if v := q.Get("labels"); v != "" {
		for _, l := range strings.Split(v, ",") {
			if l = strings.TrimSpace(l); l != "" {
				want = append(want, strings.ToLower(l))
			}
		}
	}
	creator := q.Get("creator")
	var since time.Time
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return validationFailed("Issue", "since", "invalid")
		}
		since = t
	}
	var sel []*issueState
	for _, is := range c.w.issues {
		st := "open"
		if is.closed {
			st = "closed"
		}
		if state != "all" && st != state {
			continue
		}
		if creator != "" && !strings.EqualFold(creator, is.authorLogin()) {
			continue
		}
		if !since.IsZero() && is.updated().Before(since) {
			continue
		}
		ok := true
		for _, l := range want {
			if !slices.ContainsFunc(is.labels, func(x *labelState) bool { return strings.ToLower(x.name) == l }) {
				ok = false
				break
			}
		}
		if ok {
			sel = append(sel, is)
		}
	}
	byUpdated := q.Get("sort") == "updated"
	asc := q.Get("direction") == "asc"
	slices.SortStableFunc(sel, func(a, b *issueState) int {
		ta, tb := a.createdAt, b.createdAt
		if byUpdated {
			ta, tb = a.updated(), b.updated()
		}
		r := tb.Compare(ta)
		if r == 0 {
			r = b.number - a.number
		}
		if asc {
			r = -r
		}
		return r
	})
	out := make([]issueJSON, 0, len(sel))
	for _, is := range sel {
		out = append(out, c.issueJSON(is))
	}
	page, h := paginate(c, out)
	rep := jsonReply(http.StatusOK, listOf(page))
	rep.header = h
	return rep
}

func (is *issueState) authorLogin() string {
	if is.author.Login == "" {
		return botUser.Login
	}
	return is.author.Login
}

func (is *issueState) updated() time.Time {
	if is.updatedAt.IsZero() {
		return is.createdAt
	}
	return is.updatedAt
}

// editIssue is PATCH /issues/{number}: title, body, labels (replaced), state, state_reason.
func editIssue(c *rc) reply {
	is, ok := c.issueByNumber()
	if !ok {
		return errReply(http.StatusNotFound, "Not Found")
	}
	var in struct {
		Title       *string  `json:"title"`
		Body        *string  `json:"body"`
		State       *string  `json:"state"`
		StateReason *string  `json:"state_reason"`
		Labels      []string `json:"labels"`
		HasLabels   bool     `json:"-"`
	}
	if rep, ok := c.decode(&in); !ok {
		return rep
	}
	var raw map[string]json.RawMessage
	_ = json.Unmarshal(c.body, &raw)
	_, in.HasLabels = raw["labels"]
	if in.Title != nil && strings.TrimSpace(*in.Title) == "" {
		return validationFailed("Issue", "title", "missing_field")
	}
	if in.State != nil && *in.State != "open" && *in.State != "closed" {
		return validationFailed("Issue", "state", "invalid")
	}
	if in.StateReason != nil {
		switch *in.StateReason {
		case "completed", "not_planned", "reopened", "duplicate":
		default:
			return validationFailed("Issue", "state_reason", "invalid")
		}
	}
	if in.Title != nil {
		is.title = *in.Title
	}
	if _, given := raw["body"]; given {
		is.body = in.Body
	}
	if in.HasLabels {
		is.labels = nil
		for _, name := range in.Labels {
			key := strings.ToLower(name)
			l, ok := c.w.labels[key]
			if !ok {
				l = &labelState{id: c.w.newID(idLabel), name: name, color: "ededed"}
				c.w.labels[key] = l
			}
			if !slices.Contains(is.labels, l) {
				is.labels = append(is.labels, l)
			}
		}
	}
	if in.State != nil {
		switch {
		case *in.State == "closed" && !is.closed:
			is.closed, is.closedAt = true, c.now.Truncate(time.Second)
			is.stateReason = "completed"
		case *in.State == "open" && is.closed:
			is.closed, is.closedAt = false, time.Time{}
			is.stateReason = "reopened"
		}
	}
	if in.StateReason != nil && is.closed {
		is.stateReason = *in.StateReason
	}
	if is.author.Login == "" {
		is.author = botUser
	}
	is.updatedAt = c.now.Truncate(time.Second)
	is.edits++
	return jsonReply(http.StatusOK, c.issueJSON(is))
}

type issueCommentJSON struct {
	ID        int64     `json:"id"`
	NodeID    string    `json:"node_id"`
	URL       string    `json:"url"`
	HTMLURL   string    `json:"html_url"`
	IssueURL  string    `json:"issue_url"`
	Body      string    `json:"body"`
	User      ownerJSON `json:"user"`
	CreatedAt *string   `json:"created_at"`
	UpdatedAt *string   `json:"updated_at"`
}

func (c *rc) commentJSON(is *issueState, cm issueComment) issueCommentJSON {
	n := strconv.Itoa(is.number)
	return issueCommentJSON{ID: cm.id, NodeID: nodeID("IC", cm.id), URL: c.u.repo + "/issues/comments/" + formatID(cm.id),
		HTMLURL: c.u.html + "/issues/" + n + "#issuecomment-" + formatID(cm.id), IssueURL: c.u.repo + "/issues/" + n,
		Body: cm.body, User: cm.author, CreatedAt: ts(cm.createdAt), UpdatedAt: ts(cm.createdAt)}
}

// createIssueComment is POST /issues/{number}/comments.
func createIssueComment(c *rc) reply {
	is, ok := c.issueByNumber()
	if !ok {
		return errReply(http.StatusNotFound, "Not Found")
	}
	var in struct {
		Body *string `json:"body"`
	}
	if rep, ok := c.decode(&in); !ok {
		return rep
	}
	if in.Body == nil || strings.TrimSpace(*in.Body) == "" {
		return missing("body")
	}
	cm := issueComment{id: c.w.newID(idIssue), author: c.s.tokenUser(), body: *in.Body, createdAt: c.now.Truncate(time.Second)}
	is.comments = append(is.comments, cm)
	return jsonReply(http.StatusCreated, c.commentJSON(is, cm))
}

// listIssueComments is GET /issues/{number}/comments, oldest first.
func listIssueComments(c *rc) reply {
	is, ok := c.issueByNumber()
	if !ok {
		return errReply(http.StatusNotFound, "Not Found")
	}
	out := make([]issueCommentJSON, 0, len(is.comments))
	for _, cm := range is.comments {
		out = append(out, c.commentJSON(is, cm))
	}
	page, h := paginate(c, out)
	rep := jsonReply(http.StatusOK, listOf(page))
	rep.header = h
	return rep
}

// getUser is GET /user: a user token's account; an installation token (GITHUB_TOKEN, the
// default identity) gets GitHub's 403 "Resource not accessible by integration".
func getUser(c *rc) reply {
	u := c.s.tokenUser()
	if u.Type == "Bot" {
		return jsonReply(http.StatusForbidden, apiError{Message: "Resource not accessible by integration",
			DocumentationURL: "https://docs.github.com/rest/users/users#get-the-authenticated-user", Status: "403"})
	}
	return jsonReply(http.StatusOK, map[string]any{"login": u.Login, "id": u.ID, "type": u.Type, "node_id": nodeID("U", u.ID)})
}

// viewerResolvers answer GraphQL's Query.viewer: the token's identity, a bot for an
// installation token as GitHub answers.
func viewerResolvers() map[string]map[string]resolveFn {
	return map[string]map[string]resolveFn{
		"Query": {"viewer": func(e *exec, _ any, _ map[string]any) (any, error) { return e.c.s.tokenUser(), nil }},
		"User": {
			"login": func(_ *exec, src any, _ map[string]any) (any, error) { return src.(ownerJSON).Login, nil },
			"id":    func(_ *exec, src any, _ map[string]any) (any, error) { return nodeID("U", src.(ownerJSON).ID), nil },
		},
	}
}

func init() {
	for typ, fields := range viewerResolvers() {
		if resolvers[typ] == nil {
			resolvers[typ] = map[string]resolveFn{}
		}
		for name, fn := range fields {
			resolvers[typ][name] = fn
		}
	}
}
