package ghemu

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

const repoDBID = 700_000_001

func (s *Server) restRoutes() []route {
	const R = "/repos/{owner}/{repo}"
	rl := mkRoute("GET", "/rate_limit", getRateLimit)
	rl.free = true
	return []route{
		rl,
		mkRoute("GET", R, getRepo),
		mkRoute("GET", R+"/commits/{ref}/check-runs", listCheckRunsForRef),
		mkRoute("GET", R+"/commits/{ref}/check-suites", listCheckSuitesForRef),
		mkRoute("GET", R+"/commits/{ref}/status", getCombinedStatus),
		mkRoute("GET", R+"/commits/{ref}/statuses", listStatuses),
		mkRoute("GET", R+"/commits/{sha}/branches-where-head", branchesWhereHead),
		mkRoute("GET", R+"/commits/{ref...}", getCommit),
		mkRoute("GET", R+"/actions/workflows", listWorkflows),
		mkRoute("GET", R+"/actions/workflows/{workflow}", getWorkflow),
		mkRoute("GET", R+"/actions/workflows/{workflow}/runs", listRuns),
		mkRoute("POST", R+"/actions/workflows/{workflow}/dispatches", dispatchWorkflow),
		mkRoute("GET", R+"/actions/runs", listRuns),
		mkRoute("GET", R+"/actions/runs/{run_id}", getRun),
		mkRoute("POST", R+"/actions/runs/{run_id}/cancel", cancelRun),
		mkRoute("POST", R+"/actions/runs/{run_id}/force-cancel", forceCancelRun),
		mkRoute("GET", R+"/actions/runs/{run_id}/jobs", listJobs),
		mkRoute("GET", R+"/actions/runs/{run_id}/attempts/{attempt}/jobs", listJobs),
		mkRoute("GET", R+"/actions/runs/{run_id}/artifacts", listArtifacts),
		mkRoute("GET", R+"/actions/jobs/{job_id}", getJob),
		mkRoute("GET", R+"/actions/jobs/{job_id}/logs", jobLogs),
		mkRoute("GET", R+"/actions/artifacts/{artifact_id}", getArtifact),
		mkRoute("GET", R+"/actions/artifacts/{artifact_id}/zip", artifactZip),
		mkRoute("POST", R+"/git/refs", createRef),
		mkRoute("GET", R+"/git/ref/{ref...}", getRef),
		mkRoute("GET", R+"/git/matching-refs/{ref...}", matchingRefs),
		mkRoute("PATCH", R+"/git/refs/{ref...}", updateRef),
		mkRoute("DELETE", R+"/git/refs/{ref...}", deleteRef),
		mkRoute("POST", R+"/check-runs", createCheckRun),
		mkRoute("GET", R+"/check-runs/{id}", getCheckRun),
		mkRoute("PATCH", R+"/check-runs/{id}", updateCheckRun),
		mkRoute("GET", R+"/contents/{path...}", getContents),
		mkRoute("POST", R+"/git/tags", createTagObject),
		mkRoute("GET", R+"/git/tags/{sha}", getTagObject),
		mkRoute("GET", R+"/releases", listReleases),
		mkRoute("POST", R+"/releases", createRelease),
		mkRoute("GET", R+"/releases/latest", getLatestRelease),
		mkRoute("GET", R+"/releases/tags/{tag...}", getReleaseByTag),
		mkRoute("GET", R+"/releases/{id}", getRelease),
		mkRoute("PATCH", R+"/releases/{id}", updateRelease),
		mkRoute("GET", R+"/deployments", listDeployments),
		mkRoute("POST", R+"/deployments", createDeployment),
		mkRoute("GET", R+"/deployments/{id}", getDeployment),
		mkRoute("DELETE", R+"/deployments/{id}", deleteDeployment),
		mkRoute("GET", R+"/deployments/{id}/statuses", listDeploymentStatuses),
		mkRoute("POST", R+"/deployments/{id}/statuses", createDeploymentStatus),
		mkRoute("GET", R+"/deployments/{id}/statuses/{status_id}", getDeploymentStatus),
		mkRoute("GET", R+"/actions/runs/{run_id}/pending_deployments", pendingDeployments),
		mkRoute("POST", R+"/issues", createIssue),
		mkRoute("GET", R+"/issues/{number}", getIssue),
		mkRoute("GET", R+"/actions/secrets/public-key", getRepoSecretsKey),
		mkRoute("PUT", R+"/actions/secrets/{name}", putRepoSecret),
		mkRoute("GET", R+"/environments/{environment}/secrets/public-key", getEnvSecretsKey),
		mkRoute("PUT", R+"/environments/{environment}/secrets/{name}", putEnvSecret),

		// incident records: issues_incident.go
		mkRoute("GET", R+"/issues", listIssues),
		mkRoute("PATCH", R+"/issues/{number}", editIssue),
		mkRoute("GET", R+"/issues/{number}/comments", listIssueComments),
		mkRoute("POST", R+"/issues/{number}/comments", createIssueComment),
		mkRoute("GET", "/user", getUser),
	}
}

// apiError is GitHub's error body.
type apiError struct {
	Message          string      `json:"message"`
	Errors           []apiDetail `json:"errors,omitempty"`
	DocumentationURL string      `json:"documentation_url"`
	Status           string      `json:"status,omitempty"`
}

type apiDetail struct {
	Resource string `json:"resource,omitempty"`
	Field    string `json:"field,omitempty"`
	Code     string `json:"code"`
	Message  string `json:"message,omitempty"`
}

func errReply(status int, msg string) reply {
	return jsonReply(status, apiError{Message: msg, DocumentationURL: docsURL, Status: strconv.Itoa(status)})
}

func jsonReply(status int, v any) reply {
	return reply{status: status, body: jsonBody(v)}
}

func jsonBody(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(fmt.Sprintf("ghemu: encode %T: %v", v, err))
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

func etagOf(auth string, body []byte) string {
	h := sha256.New()
	h.Write([]byte(auth))
	h.Write([]byte{0})
	h.Write(body)
	return `"` + hex.EncodeToString(h.Sum(nil)) + `"`
}

func etagMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

func formatID(id int64) string { return strconv.FormatInt(id, 10) }

// ts renders a time as GitHub does (second precision, UTC) or null.
func ts(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(time.RFC3339)
	return &s
}

func strp(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func nodeID(prefix string, id any) string {
	return prefix + "_kwDO" + base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("%d:%v", repoDBID, id)))
}

// idParam parses a numeric path parameter.
func (c *rc) idParam(name string) (int64, bool) {
	id, err := strconv.ParseInt(c.params[name], 10, 64)
	return id, err == nil && id > 0
}

func (c *rc) query(name string) string { return c.r.URL.Query().Get(name) }

// decode reads a JSON body; ok=false carries GitHub's 400 answer.
func (c *rc) decode(v any) (reply, bool) {
	if len(bytes.TrimSpace(c.body)) == 0 {
		return errReply(http.StatusBadRequest, "Problems parsing JSON"), false
	}
	if err := json.Unmarshal(c.body, v); err != nil {
		return errReply(http.StatusBadRequest, "Problems parsing JSON"), false
	}
	return reply{}, true
}

// paginate cuts one page (per_page default 30, max 100; page from 1) and builds the
// Link header with every original query parameter kept.
func paginate[T any](c *rc, items []T) ([]T, http.Header) {
	q := c.r.URL.Query()
	per, err := strconv.Atoi(q.Get("per_page"))
	if err != nil || per < 1 {
		per = 30
	}
	per = min(per, 100)
	page, err := strconv.Atoi(q.Get("page"))
	if err != nil || page < 1 {
		page = 1
	}
	last := max((len(items)+per-1)/per, 1)
	from := min((page-1)*per, len(items))
	to := min(from+per, len(items))
	out := items[from:to]

	link := func(p int, rel string) string {
		q.Set("page", strconv.Itoa(p))
		if q.Get("per_page") != "" {
			q.Set("per_page", strconv.Itoa(per))
		}
		return fmt.Sprintf(`<%s%s?%s>; rel="%s"`, c.u.base, c.r.URL.EscapedPath(), q.Encode(), rel)
	}
	var links []string
	if page > 1 {
		links = append(links, link(min(page-1, last), "prev"))
	}
	if page < last {
		links = append(links, link(page+1, "next"), link(last, "last"))
	}
	if page > 1 {
		links = append(links, link(1, "first"))
	}
	h := http.Header{}
	if len(links) > 0 {
		h.Set("Link", strings.Join(links, ", "))
	}
	return out, h
}

func pagedReply[T any](c *rc, items []T, wrap func(page []T) any) reply {
	page, h := paginate(c, items)
	rep := jsonReply(http.StatusOK, wrap(page))
	rep.header = h
	return rep
}

func listOf[T any](items []T) []T {
	if items == nil {
		return []T{}
	}
	return items
}

// commitOr422 resolves the {ref}/{sha} parameter the way GitHub's commit endpoints do.
func (c *rc) commitOr422(param string) (string, reply, bool) {
	ref := c.params[param]
	sha, ok := c.w.resolve(ref)
	if !ok {
		return "", errReply(http.StatusUnprocessableEntity, "No commit found for SHA: "+ref), false
	}
	return sha, reply{}, true
}

type ownerJSON struct {
	Login string `json:"login"`
	ID    int64  `json:"id"`
	Type  string `json:"type"`
}

type repoJSON struct {
	ID            int64     `json:"id"`
	NodeID        string    `json:"node_id"`
	Name          string    `json:"name"`
	FullName      string    `json:"full_name"`
	Private       bool      `json:"private"`
	Owner         ownerJSON `json:"owner"`
	HTMLURL       string    `json:"html_url"`
	URL           string    `json:"url"`
	DefaultBranch string    `json:"default_branch"`
}

func (c *rc) repoJSON() repoJSON {
	return repoJSON{ID: repoDBID, NodeID: nodeID("R", "repo"), Name: c.w.repo, FullName: c.w.owner + "/" + c.w.repo,
		Owner: ownerJSON{Login: c.w.owner, ID: 1000001, Type: "Organization"}, HTMLURL: c.u.html, URL: c.u.repo,
		DefaultBranch: "main"}
}

func getRepo(c *rc) reply { return jsonReply(http.StatusOK, c.repoJSON()) }

type rateJSON struct {
	Limit     int    `json:"limit"`
	Remaining int    `json:"remaining"`
	Reset     int64  `json:"reset"`
	Used      int    `json:"used"`
	Resource  string `json:"resource"`
}

func getRateLimit(c *rc) reply {
	c.w.core.refresh(c.now)
	c.w.graphql.refresh(c.now)
	mk := func(b *bucket, res string) rateJSON {
		return rateJSON{Limit: b.limit, Remaining: b.remaining(), Reset: b.reset.Unix(), Used: b.used, Resource: res}
	}
	core := mk(&c.w.core, "core")
	return jsonReply(http.StatusOK, map[string]any{
		"resources": map[string]rateJSON{"core": core, "graphql": mk(&c.w.graphql, "graphql")},
		"rate":      core,
	})
}

// ---- commits ----

type gitUserJSON struct {
	Name  string  `json:"name"`
	Email string  `json:"email"`
	Date  *string `json:"date"`
}

type commitJSON struct {
	SHA    string `json:"sha"`
	NodeID string `json:"node_id"`
	Commit struct {
		Author       gitUserJSON `json:"author"`
		Committer    gitUserJSON `json:"committer"`
		Message      string      `json:"message"`
		Tree         shaURL      `json:"tree"`
		URL          string      `json:"url"`
		CommentCount int         `json:"comment_count"`
	} `json:"commit"`
	URL         string   `json:"url"`
	HTMLURL     string   `json:"html_url"`
	CommentsURL string   `json:"comments_url"`
	Parents     []shaURL `json:"parents"`
}

type shaURL struct {
	SHA string `json:"sha"`
	URL string `json:"url"`
}

func getCommit(c *rc) reply {
	sha, rep, ok := c.commitOr422("ref")
	if !ok {
		return rep
	}
	// The sha media type (go-github's GetCommitSHA1) answers the bare sha as text.
	if accept := c.r.Header.Get("Accept"); strings.Contains(accept, "application/vnd.github.v3.sha") ||
		strings.Contains(accept, "application/vnd.github.sha") {
		return reply{status: http.StatusOK, ctype: "application/vnd.github.v3.sha; charset=utf-8", body: []byte(sha),
			etag: `"` + sha + `"`}
	}
	cm := c.w.commits[sha]
	var out commitJSON
	out.SHA, out.NodeID = sha, nodeID("C", sha)
	u := gitUserJSON{Name: "Agent Me Bot", Email: "bot@agentme.example", Date: ts(cm.date)}
	out.Commit.Author, out.Commit.Committer, out.Commit.Message = u, u, cm.message
	out.Commit.Tree = shaURL{SHA: treeSHA(sha), URL: c.u.repo + "/git/trees/" + treeSHA(sha)}
	out.Commit.URL = c.u.repo + "/git/commits/" + sha
	out.URL, out.HTMLURL = c.u.repo+"/commits/"+sha, c.u.html+"/commit/"+sha
	out.CommentsURL = c.u.repo + "/commits/" + sha + "/comments"
	out.Parents = []shaURL{}
	return jsonReply(http.StatusOK, out)
}

func treeSHA(sha string) string {
	h := sha256.Sum256([]byte("tree:" + sha))
	return hex.EncodeToString(h[:20])
}

type branchJSON struct {
	Name      string `json:"name"`
	Commit    shaURL `json:"commit"`
	Protected bool   `json:"protected"`
}

func branchesWhereHead(c *rc) reply {
	sha := c.params["sha"]
	if _, ok := c.w.commits[sha]; !ok {
		return errReply(http.StatusUnprocessableEntity, "No commit found for SHA: "+sha)
	}
	out := []branchJSON{}
	for _, b := range c.w.branchesWhereHead(sha) {
		out = append(out, branchJSON{Name: b, Commit: shaURL{SHA: sha, URL: c.u.repo + "/commits/" + sha}})
	}
	return jsonReply(http.StatusOK, out)
}

// ---- commit statuses ----

type statusJSON struct {
	URL         string    `json:"url"`
	AvatarURL   string    `json:"avatar_url"`
	ID          int64     `json:"id"`
	NodeID      string    `json:"node_id"`
	State       string    `json:"state"`
	Description *string   `json:"description"`
	TargetURL   *string   `json:"target_url"`
	Context     string    `json:"context"`
	CreatedAt   *string   `json:"created_at"`
	UpdatedAt   *string   `json:"updated_at"`
	Creator     ownerJSON `json:"creator"`
}

func (c *rc) statusJSON(st *statusState) statusJSON {
	return statusJSON{URL: c.u.repo + "/statuses/" + st.sha, AvatarURL: c.u.base + "/avatars/ci.png", ID: st.id,
		NodeID: nodeID("SC", st.id), State: st.state, Description: strp(st.descr), TargetURL: strp(st.target),
		Context: st.context, CreatedAt: ts(st.createdAt), UpdatedAt: ts(st.createdAt),
		Creator: ownerJSON{Login: "ci-bot", ID: 1000002, Type: "User"}}
}

// combinedState is GitHub's combined status: failure beats pending beats success, and
// no status at all is pending.
func combinedState(sts []*statusState) string {
	state := "success"
	if len(sts) == 0 {
		return "pending"
	}
	for _, st := range sts {
		switch st.state {
		case "failure", "error":
			return "failure"
		case "pending":
			state = "pending"
		}
	}
	return state
}

func getCombinedStatus(c *rc) reply {
	sha, rep, ok := c.commitOr422("ref")
	if !ok {
		return rep
	}
	latest := c.w.latestStatuses(sha, c.now)
	out := []statusJSON{}
	for _, st := range latest {
		out = append(out, c.statusJSON(st))
	}
	return jsonReply(http.StatusOK, map[string]any{
		"state": combinedState(latest), "statuses": out, "sha": sha, "total_count": len(out),
		"repository": c.repoJSON(), "commit_url": c.u.repo + "/commits/" + sha,
		"url": c.u.repo + "/commits/" + sha + "/status",
	})
}

func listStatuses(c *rc) reply {
	sha, rep, ok := c.commitOr422("ref")
	if !ok {
		return rep
	}
	var all []statusJSON
	for i := len(c.w.statuses) - 1; i >= 0; i-- {
		if st := c.w.statuses[i]; st.sha == sha && !st.createdAt.After(c.now) {
			all = append(all, c.statusJSON(st))
		}
	}
	return pagedReply(c, listOf(all), func(p []statusJSON) any { return p })
}

// ---- git refs ----

type refJSON struct {
	Ref    string `json:"ref"`
	NodeID string `json:"node_id"`
	URL    string `json:"url"`
	Object struct {
		SHA  string `json:"sha"`
		Type string `json:"type"`
		URL  string `json:"url"`
	} `json:"object"`
}

// refJSON describes a ref; its object is a commit or, for an annotated tag, the tag object.
func (c *rc) refJSON(ref, sha string) refJSON {
	var out refJSON
	out.Ref, out.NodeID, out.URL = ref, nodeID("REF", ref), c.u.repo+"/git/"+ref
	out.Object.SHA, out.Object.Type, out.Object.URL = sha, "commit", c.u.repo+"/git/commits/"+sha
	if _, ok := c.w.tagObjects[sha]; ok {
		out.Object.Type, out.Object.URL = "tag", c.u.repo+"/git/tags/"+sha
	}
	return out
}

// gitObject tells whether sha names a commit or a tag object.
func (w *world) gitObject(sha string) bool {
	_, commit := w.commits[sha]
	_, tag := w.tagObjects[sha]
	return commit || tag
}

func validRefName(ref string) bool {
	if !strings.HasPrefix(ref, "refs/") || strings.Count(ref, "/") < 2 || strings.HasSuffix(ref, "/") ||
		strings.Contains(ref, "..") || strings.Contains(ref, "//") || strings.HasSuffix(ref, ".lock") {
		return false
	}
	return !strings.ContainsAny(ref, " ~^:?*[\\\x7f") && !strings.Contains(ref, "@{")
}

func createRef(c *rc) reply {
	var in struct {
		Ref string `json:"ref"`
		SHA string `json:"sha"`
	}
	if rep, ok := c.decode(&in); !ok {
		return rep
	}
	if !validRefName(in.Ref) {
		return errReply(http.StatusUnprocessableEntity, "Reference name must start with 'refs/' and have at least two slashes.")
	}
	if !c.w.gitObject(in.SHA) {
		return errReply(http.StatusUnprocessableEntity, "Object does not exist")
	}
	if _, ok := c.w.refs[in.Ref]; ok {
		return errReply(http.StatusUnprocessableEntity, "Reference already exists")
	}
	c.w.refs[in.Ref] = in.SHA
	rep := jsonReply(http.StatusCreated, c.refJSON(in.Ref, in.SHA))
	rep.header = http.Header{"Location": {c.u.repo + "/git/" + in.Ref}}
	return rep
}

func getRef(c *rc) reply {
	ref := "refs/" + strings.TrimPrefix(c.params["ref"], "refs/")
	sha, ok := c.w.refs[ref]
	if !ok {
		return errReply(http.StatusNotFound, "Not Found")
	}
	return jsonReply(http.StatusOK, c.refJSON(ref, sha))
}

func matchingRefs(c *rc) reply {
	prefix := "refs/" + strings.TrimPrefix(c.params["ref"], "refs/")
	var names []string
	for ref := range c.w.refs {
		if strings.HasPrefix(ref, prefix) {
			names = append(names, ref)
		}
	}
	sort.Strings(names)
	out := []refJSON{}
	for _, n := range names {
		out = append(out, c.refJSON(n, c.w.refs[n]))
	}
	return pagedReply(c, out, func(p []refJSON) any { return p })
}

func updateRef(c *rc) reply {
	ref := "refs/" + strings.TrimPrefix(c.params["ref"], "refs/")
	var in struct {
		SHA   string `json:"sha"`
		Force bool   `json:"force"`
	}
	if rep, ok := c.decode(&in); !ok {
		return rep
	}
	if _, ok := c.w.refs[ref]; !ok {
		return errReply(http.StatusUnprocessableEntity, "Reference does not exist")
	}
	if !c.w.gitObject(in.SHA) {
		return errReply(http.StatusUnprocessableEntity, "Object does not exist")
	}
	// Without history the emulator cannot tell a fast-forward: only force moves a ref.
	if !in.Force && c.w.refs[ref] != in.SHA {
		return errReply(http.StatusUnprocessableEntity, "Update is not a fast forward")
	}
	c.w.refs[ref] = in.SHA
	return jsonReply(http.StatusOK, c.refJSON(ref, in.SHA))
}

func deleteRef(c *rc) reply {
	ref := "refs/" + strings.TrimPrefix(c.params["ref"], "refs/")
	if _, ok := c.w.refs[ref]; !ok {
		return errReply(http.StatusUnprocessableEntity, "Reference does not exist")
	}
	delete(c.w.refs, ref)
	return reply{status: http.StatusNoContent}
}

// signedBlobURL is a same-server URL outside /api/v3 that needs no Authorization,
// like the signed storage URLs GitHub redirects to.
func (c *rc) signedBlobURL(kind string, id int64) string {
	p := "/_blobs/" + kind + "/" + formatID(id)
	return c.u.base + p + "?sig=" + url.QueryEscape(c.s.sign(p))
}
