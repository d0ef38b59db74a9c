package ghemu

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// ---- check runs ----

type appJSON struct {
	ID     int64  `json:"id"`
	Slug   string `json:"slug"`
	NodeID string `json:"node_id"`
	Name   string `json:"name"`
}

func mkApp(a appInfo) appJSON {
	return appJSON{ID: a.id, Slug: a.slug, NodeID: nodeID("A", a.id), Name: a.name}
}

type outputJSON struct {
	Title            *string `json:"title"`
	Summary          *string `json:"summary"`
	Text             *string `json:"text"`
	AnnotationsCount int     `json:"annotations_count"`
	AnnotationsURL   string  `json:"annotations_url"`
}

type checkRunJSON struct {
	ID          int64      `json:"id"`
	Name        string     `json:"name"`
	NodeID      string     `json:"node_id"`
	HeadSHA     string     `json:"head_sha"`
	ExternalID  string     `json:"external_id"`
	URL         string     `json:"url"`
	HTMLURL     string     `json:"html_url"`
	DetailsURL  *string    `json:"details_url"`
	Status      string     `json:"status"`
	Conclusion  *string    `json:"conclusion"`
	StartedAt   *string    `json:"started_at"`
	CompletedAt *string    `json:"completed_at"`
	Output      outputJSON `json:"output"`
	CheckSuite  struct {
		ID int64 `json:"id"`
	} `json:"check_suite"`
	App          appJSON `json:"app"`
	PullRequests []any   `json:"pull_requests"`
}

// jobHTML is the job page; GitHub uses it as both html_url and details_url of an
// Actions check run.
func (c *rc) jobHTML(cr *checkRun) string {
	return fmt.Sprintf("%s/actions/runs/%d/job/%d", c.u.html, cr.run.id, cr.id)
}

func (c *rc) checkRunJSON(cr *checkRun) checkRunJSON {
	v := cr.view(c.now)
	out := checkRunJSON{ID: cr.id, Name: cr.name, NodeID: nodeID("CR", cr.id), HeadSHA: cr.headSHA,
		URL: c.u.repo + "/check-runs/" + formatID(cr.id), HTMLURL: c.u.html + "/runs/" + formatID(cr.id),
		Status: v.status, Conclusion: strp(v.conclusion), StartedAt: ts(v.startedAt), CompletedAt: ts(v.completedAt),
		App: mkApp(cr.suite.app), PullRequests: []any{}}
	out.Output.AnnotationsURL = out.URL + "/annotations"
	out.CheckSuite.ID = cr.suite.id
	if cr.run != nil {
		out.HTMLURL = c.jobHTML(cr)
		out.DetailsURL = &out.HTMLURL
		out.ExternalID = cr.name
	}
	if m := cr.manual; m != nil {
		out.DetailsURL, out.ExternalID = strp(m.detailsURL), m.externalID
		out.Output.Title, out.Output.Summary, out.Output.Text = m.title, m.summary, m.text
	}
	return out
}

func listCheckRunsForRef(c *rc) reply {
	sha, rep, ok := c.commitOr422("ref")
	if !ok {
		return rep
	}
	filter := c.query("filter")
	var crs []*checkRun
	switch filter {
	case "", "latest":
		crs = c.w.latestCheckRuns(sha, c.now)
	case "all":
		crs = c.w.commitCheckRuns(sha, c.now)
	default:
		return errReply(http.StatusUnprocessableEntity, "Invalid filter: "+filter)
	}
	name, status, appID := c.query("check_name"), c.query("status"), c.query("app_id")
	var out []checkRunJSON
	for i := len(crs) - 1; i >= 0; i-- { // newest first
		j := c.checkRunJSON(crs[i])
		if (name != "" && j.Name != name) || (status != "" && j.Status != status) ||
			(appID != "" && appID != formatID(j.App.ID)) {
			continue
		}
		out = append(out, j)
	}
	page, h := paginate(c, out)
	rep = jsonReply(http.StatusOK, map[string]any{"total_count": len(out), "check_runs": listOf(page)})
	rep.header = h
	return rep
}

type suiteJSON struct {
	ID                   int64   `json:"id"`
	NodeID               string  `json:"node_id"`
	HeadBranch           *string `json:"head_branch"`
	HeadSHA              string  `json:"head_sha"`
	Status               string  `json:"status"`
	Conclusion           *string `json:"conclusion"`
	URL                  string  `json:"url"`
	Before               *string `json:"before"`
	After                *string `json:"after"`
	App                  appJSON `json:"app"`
	CreatedAt            *string `json:"created_at"`
	UpdatedAt            *string `json:"updated_at"`
	LatestCheckRunsCount int     `json:"latest_check_runs_count"`
	CheckRunsURL         string  `json:"check_runs_url"`
	PullRequests         []any   `json:"pull_requests"`
}

func (c *rc) suiteJSON(su *suiteState) suiteJSON {
	st, concl, upd := su.view(c.now)
	u := c.u.repo + "/check-suites/" + formatID(su.id)
	return suiteJSON{ID: su.id, NodeID: nodeID("CS", su.id), HeadBranch: strp(su.headBranch), HeadSHA: su.headSHA,
		Status: st, Conclusion: strp(concl), URL: u, After: strp(su.headSHA), App: mkApp(su.app),
		CreatedAt: ts(su.createdAt), UpdatedAt: ts(upd), LatestCheckRunsCount: len(latestPerName(su.visibleRuns(c.now))),
		CheckRunsURL: u + "/check-runs", PullRequests: []any{}}
}

func listCheckSuitesForRef(c *rc) reply {
	sha, rep, ok := c.commitOr422("ref")
	if !ok {
		return rep
	}
	appID, name := c.query("app_id"), c.query("check_name")
	var out []suiteJSON
	for _, su := range c.w.commitSuites(sha, c.now) {
		if appID != "" && appID != formatID(su.app.id) {
			continue
		}
		if name != "" && !hasName(su.visibleRuns(c.now), name) {
			continue
		}
		out = append(out, c.suiteJSON(su))
	}
	page, h := paginate(c, out)
	rep = jsonReply(http.StatusOK, map[string]any{"total_count": len(out), "check_suites": listOf(page)})
	rep.header = h
	return rep
}

func hasName(crs []*checkRun, name string) bool {
	for _, c := range crs {
		if c.name == name {
			return true
		}
	}
	return false
}

func getCheckRun(c *rc) reply {
	id, _ := c.idParam("id")
	cr := c.w.checkRunByID(id)
	if cr == nil || !cr.visible(c.now) {
		return errReply(http.StatusNotFound, "Not Found")
	}
	return jsonReply(http.StatusOK, c.checkRunJSON(cr))
}

type checkRunInput struct {
	Name        *string `json:"name"`
	HeadSHA     *string `json:"head_sha"`
	Status      *string `json:"status"`
	Conclusion  *string `json:"conclusion"`
	StartedAt   *string `json:"started_at"`
	CompletedAt *string `json:"completed_at"`
	DetailsURL  *string `json:"details_url"`
	ExternalID  *string `json:"external_id"`
	Output      *struct {
		Title   *string `json:"title"`
		Summary *string `json:"summary"`
		Text    *string `json:"text"`
	} `json:"output"`
}

var (
	apiStatuses    = map[string]bool{"queued": true, "in_progress": true, "completed": true}
	apiConclusions = map[string]bool{"action_required": true, "cancelled": true, "failure": true, "neutral": true,
		"success": true, "skipped": true, "timed_out": true}
)

const maxOutputChars = 65535

// applyCheckRunInput validates in and applies it to m; the message is GitHub's 422 text.
func applyCheckRunInput(m *manualCheck, in checkRunInput, now time.Time) string {
	if in.Status != nil && !apiStatuses[*in.Status] {
		return "Invalid request.\n\n" + strconv.Quote(*in.Status) + " is not a member of [\"queued\", \"in_progress\", \"completed\"]."
	}
	if in.Conclusion != nil && !apiConclusions[*in.Conclusion] {
		return "Invalid request.\n\n" + strconv.Quote(*in.Conclusion) + " is not a valid conclusion."
	}
	if o := in.Output; o != nil {
		for _, p := range []*string{o.Title, o.Summary, o.Text} {
			if p != nil && utf8.RuneCountInString(*p) > maxOutputChars {
				return fmt.Sprintf("Invalid request.\n\nOnly %d characters are allowed; %d were supplied.", maxOutputChars, utf8.RuneCountInString(*p))
			}
		}
	}
	parse := func(p *string) (time.Time, bool) {
		if p == nil {
			return time.Time{}, true
		}
		t, err := time.Parse(time.RFC3339, *p)
		return t.UTC(), err == nil
	}
	started, ok1 := parse(in.StartedAt)
	completed, ok2 := parse(in.CompletedAt)
	if !ok1 || !ok2 {
		return "Invalid request.\n\nstarted_at and completed_at must be ISO 8601 timestamps."
	}
	status := m.status
	if in.Status != nil {
		status = *in.Status
	}
	if in.Conclusion != nil || in.CompletedAt != nil {
		if in.Status == nil || *in.Status == "completed" {
			status = "completed"
		}
	}
	conclusion := m.conclusion
	if in.Conclusion != nil {
		conclusion = *in.Conclusion
	}
	if status == "completed" && conclusion == "" {
		return "Invalid request.\n\nNo conclusion given for a completed check run: conclusion is required when status is completed."
	}
	if status != "completed" {
		conclusion = ""
	}
	m.status, m.conclusion = status, conclusion
	if !started.IsZero() {
		m.startedAt = started
	} else if m.startedAt.IsZero() && status != "queued" {
		m.startedAt = now
	}
	if status == "completed" {
		m.completedAt = completed
		if m.completedAt.IsZero() {
			m.completedAt = now
		}
	} else {
		m.completedAt = time.Time{}
	}
	if in.DetailsURL != nil {
		m.detailsURL = *in.DetailsURL
	}
	if in.ExternalID != nil {
		m.externalID = *in.ExternalID
	}
	if o := in.Output; o != nil {
		if o.Title != nil {
			m.title = o.Title
		}
		if o.Summary != nil {
			m.summary = o.Summary
		}
		if o.Text != nil {
			m.text = o.Text
		}
	}
	m.updatedAt = now
	return ""
}

func createCheckRun(c *rc) reply {
	var in checkRunInput
	if rep, ok := c.decode(&in); !ok {
		return rep
	}
	if in.Name == nil || *in.Name == "" || in.HeadSHA == nil {
		return errReply(http.StatusUnprocessableEntity, "Invalid request.\n\n\"name\" and \"head_sha\" are required.")
	}
	sha := *in.HeadSHA
	if _, ok := c.w.commits[sha]; !ok {
		return errReply(http.StatusUnprocessableEntity, "No commit found for SHA: "+sha)
	}
	now := c.now.Truncate(time.Second)
	m := &manualCheck{status: "queued"}
	if msg := applyCheckRunInput(m, in, now); msg != "" {
		return errReply(http.StatusUnprocessableEntity, msg)
	}
	su := c.w.appSuite(sha, actionsApp, true, now)
	if r := c.w.newestRun(c.s.opts.CheckRunSuiteOf, sha, now); r != nil {
		su = r.suite
	}
	cr := &checkRun{id: c.w.newID(idCheckRun), name: *in.Name, headSHA: sha, suite: su, createdAt: now, manual: m}
	su.runs = append(su.runs, cr)
	c.w.checkRuns = append(c.w.checkRuns, cr)
	return jsonReply(http.StatusCreated, c.checkRunJSON(cr))
}

// newestRun returns the newest visible run of the named workflow on sha, or nil.
func (w *world) newestRun(workflow, sha string, now time.Time) *runState {
	var best *runState
	for _, r := range w.runs {
		if workflow != "" && r.wf.name == workflow && r.headSHA == sha && visibleRun(r, now) && (best == nil || r.id > best.id) {
			best = r
		}
	}
	return best
}

func updateCheckRun(c *rc) reply {
	id, _ := c.idParam("id")
	cr := c.w.checkRunByID(id)
	if cr == nil || !cr.visible(c.now) {
		return errReply(http.StatusNotFound, "Not Found")
	}
	if cr.manual == nil {
		return errReply(http.StatusForbidden, "Resource not accessible by integration")
	}
	var in checkRunInput
	if rep, ok := c.decode(&in); !ok {
		return rep
	}
	if in.HeadSHA != nil && *in.HeadSHA != cr.headSHA {
		return errReply(http.StatusUnprocessableEntity, "Invalid request.\n\n\"head_sha\" cannot be changed.")
	}
	cp := *cr.manual
	if msg := applyCheckRunInput(&cp, in, c.now.Truncate(time.Second)); msg != "" {
		return errReply(http.StatusUnprocessableEntity, msg)
	}
	*cr.manual = cp
	if in.Name != nil && *in.Name != "" {
		cr.name = *in.Name
	}
	return jsonReply(http.StatusOK, c.checkRunJSON(cr))
}

// ---- workflows ----

type workflowJSON struct {
	ID        int64   `json:"id"`
	NodeID    string  `json:"node_id"`
	Name      string  `json:"name"`
	Path      string  `json:"path"`
	State     string  `json:"state"`
	CreatedAt *string `json:"created_at"`
	UpdatedAt *string `json:"updated_at"`
	URL       string  `json:"url"`
	HTMLURL   string  `json:"html_url"`
	BadgeURL  string  `json:"badge_url"`
}

func (c *rc) workflowJSON(wf *workflowState) workflowJSON {
	return workflowJSON{ID: wf.id, NodeID: nodeID("W", wf.id), Name: wf.name, Path: wf.path, State: "active",
		CreatedAt: ts(wf.createdAt), UpdatedAt: ts(wf.createdAt), URL: c.u.repo + "/actions/workflows/" + formatID(wf.id),
		HTMLURL: c.u.html + "/blob/main/" + wf.path, BadgeURL: c.u.html + "/workflows/" + wf.name + "/badge.svg"}
}

func listWorkflows(c *rc) reply {
	var out []workflowJSON
	for _, wf := range c.w.workflows {
		out = append(out, c.workflowJSON(wf))
	}
	page, h := paginate(c, out)
	rep := jsonReply(http.StatusOK, map[string]any{"total_count": len(out), "workflows": listOf(page)})
	rep.header = h
	return rep
}

func getWorkflow(c *rc) reply {
	wf := c.w.workflowByKey(c.params["workflow"])
	if wf == nil {
		return errReply(http.StatusNotFound, "Not Found")
	}
	return jsonReply(http.StatusOK, c.workflowJSON(wf))
}

// ---- workflow runs ----

type runJSON struct {
	ID               int64     `json:"id"`
	Name             string    `json:"name"`
	NodeID           string    `json:"node_id"`
	HeadBranch       *string   `json:"head_branch"`
	HeadSHA          string    `json:"head_sha"`
	Path             string    `json:"path"`
	DisplayTitle     string    `json:"display_title"`
	RunNumber        int       `json:"run_number"`
	Event            string    `json:"event"`
	Status           string    `json:"status"`
	Conclusion       *string   `json:"conclusion"`
	WorkflowID       int64     `json:"workflow_id"`
	CheckSuiteID     int64     `json:"check_suite_id"`
	CheckSuiteNodeID string    `json:"check_suite_node_id"`
	URL              string    `json:"url"`
	HTMLURL          string    `json:"html_url"`
	PullRequests     []any     `json:"pull_requests"`
	CreatedAt        *string   `json:"created_at"`
	UpdatedAt        *string   `json:"updated_at"`
	RunAttempt       int       `json:"run_attempt"`
	RunStartedAt     *string   `json:"run_started_at"`
	JobsURL          string    `json:"jobs_url"`
	LogsURL          string    `json:"logs_url"`
	CheckSuiteURL    string    `json:"check_suite_url"`
	ArtifactsURL     string    `json:"artifacts_url"`
	CancelURL        string    `json:"cancel_url"`
	RerunURL         string    `json:"rerun_url"`
	WorkflowURL      string    `json:"workflow_url"`
	Actor            ownerJSON `json:"actor"`
	TriggeringActor  ownerJSON `json:"triggering_actor"`
	HeadCommit       struct {
		ID        string  `json:"id"`
		TreeID    string  `json:"tree_id"`
		Message   string  `json:"message"`
		Timestamp *string `json:"timestamp"`
	} `json:"head_commit"`
	Repository repoJSON `json:"repository"`
}

func (c *rc) runJSON(r *runState) runJSON {
	st, concl, upd := r.view(c.now)
	u := c.u.repo + "/actions/runs/" + formatID(r.id)
	actor := ownerJSON{Login: "agentme-bot", ID: 1000003, Type: "User"}
	out := runJSON{ID: r.id, Name: r.wf.name, NodeID: nodeID("WFR", r.id), HeadBranch: strp(r.headBranch),
		HeadSHA: r.headSHA, Path: r.wf.path, DisplayTitle: c.w.commits[r.headSHA].message, RunNumber: r.number,
		Event: r.event, Status: st, Conclusion: strp(concl), WorkflowID: r.wf.id, CheckSuiteID: r.suite.id,
		CheckSuiteNodeID: nodeID("CS", r.suite.id), URL: u, HTMLURL: c.u.html + "/actions/runs/" + formatID(r.id),
		PullRequests: []any{}, CreatedAt: ts(r.createdAt), UpdatedAt: ts(upd), RunAttempt: r.attempt,
		RunStartedAt: ts(r.startedAt), JobsURL: u + "/jobs", LogsURL: u + "/logs",
		CheckSuiteURL: c.u.repo + "/check-suites/" + formatID(r.suite.id), ArtifactsURL: u + "/artifacts",
		CancelURL: u + "/cancel", RerunURL: u + "/rerun", WorkflowURL: c.u.repo + "/actions/workflows/" + formatID(r.wf.id),
		Actor: actor, TriggeringActor: actor, Repository: c.repoJSON()}
	if r.headBranch != "" {
		out.Path += "@" + r.headBranch
	}
	cm := c.w.commits[r.headSHA]
	out.HeadCommit.ID, out.HeadCommit.TreeID, out.HeadCommit.Message, out.HeadCommit.Timestamp =
		r.headSHA, treeSHA(r.headSHA), cm.message, ts(cm.date)
	return out
}

var runStatuses = map[string]bool{"queued": true, "in_progress": true, "completed": true, "waiting": true,
	"requested": true, "pending": true}

// listRuns serves both the repository's and one workflow's runs, newest first.
func listRuns(c *rc) reply {
	var wf *workflowState
	if key, ok := c.params["workflow"]; ok {
		if wf = c.w.workflowByKey(key); wf == nil {
			return errReply(http.StatusNotFound, "Not Found")
		}
	}
	q := c.r.URL.Query()
	created, err := parseCreated(q.Get("created"))
	if err != nil {
		return errReply(http.StatusUnprocessableEntity, "Validation Failed: "+err.Error())
	}
	var sel []*runState
	for _, r := range c.w.runs {
		if !visibleRun(r, c.now) || (wf != nil && r.wf != wf) {
			continue
		}
		if v := q.Get("head_sha"); v != "" && v != r.headSHA {
			continue
		}
		if v := q.Get("event"); v != "" && v != r.event {
			continue
		}
		if v := q.Get("branch"); v != "" && v != r.headBranch {
			continue
		}
		if v := q.Get("check_suite_id"); v != "" && v != formatID(r.suite.id) {
			continue
		}
		if v := q.Get("status"); v != "" {
			st, concl, _ := r.view(c.now)
			if (runStatuses[v] && st != v) || (!runStatuses[v] && concl != v) {
				continue
			}
		}
		if !created(r.createdAt) {
			continue
		}
		sel = append(sel, r)
	}
	sort.SliceStable(sel, func(i, j int) bool {
		if !sel[i].createdAt.Equal(sel[j].createdAt) {
			return sel[i].createdAt.After(sel[j].createdAt)
		}
		return sel[i].id > sel[j].id
	})
	var out []runJSON
	for _, r := range sel {
		out = append(out, c.runJSON(r))
	}
	page, h := paginate(c, out)
	rep := jsonReply(http.StatusOK, map[string]any{"total_count": len(out), "workflow_runs": listOf(page)})
	rep.header = h
	return rep
}

// parseCreated understands GitHub's search qualifiers for dates: ">=T", ">T", "<=T",
// "<T", "A..B" (either side may be "*") and a bare date (that whole day).
func parseCreated(v string) (func(time.Time) bool, error) {
	if v == "" {
		return func(time.Time) bool { return true }, nil
	}
	parse := func(s string) (time.Time, bool, error) {
		for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
			if t, err := time.Parse(layout, s); err == nil {
				return t.UTC(), layout == "2006-01-02", nil
			}
		}
		return time.Time{}, false, fmt.Errorf("invalid created filter %q", v)
	}
	for _, op := range []string{">=", "<=", ">", "<"} {
		if rest, ok := strings.CutPrefix(v, op); ok {
			t, _, err := parse(rest)
			if err != nil {
				return nil, err
			}
			return func(x time.Time) bool {
				switch op {
				case ">=":
					return !x.Before(t)
				case "<=":
					return !x.After(t)
				case ">":
					return x.After(t)
				}
				return x.Before(t)
			}, nil
		}
	}
	if a, b, ok := strings.Cut(v, ".."); ok {
		var from, to time.Time
		var err error
		if a != "*" {
			if from, _, err = parse(a); err != nil {
				return nil, err
			}
		}
		if b != "*" {
			var day bool
			if to, day, err = parse(b); err != nil {
				return nil, err
			}
			if day {
				to = to.Add(24*time.Hour - time.Nanosecond)
			}
		}
		return func(x time.Time) bool {
			return (from.IsZero() || !x.Before(from)) && (to.IsZero() || !x.After(to))
		}, nil
	}
	t, day, err := parse(v)
	if err != nil {
		return nil, err
	}
	if !day {
		return func(x time.Time) bool { return x.Equal(t) }, nil
	}
	return func(x time.Time) bool { return !x.Before(t) && x.Before(t.Add(24*time.Hour)) }, nil
}

func (c *rc) runParam() (*runState, reply, bool) {
	id, _ := c.idParam("run_id")
	r := c.w.runByID(id)
	if r == nil || !visibleRun(r, c.now) {
		return nil, errReply(http.StatusNotFound, "Not Found"), false
	}
	return r, reply{}, true
}

func getRun(c *rc) reply {
	r, rep, ok := c.runParam()
	if !ok {
		return rep
	}
	return jsonReply(http.StatusOK, c.runJSON(r))
}

// ---- dispatch ----

func dispatchWorkflow(c *rc) reply {
	wf := c.w.workflowByKey(c.params["workflow"])
	if wf == nil {
		return errReply(http.StatusNotFound, "Not Found")
	}
	var raw map[string]json.RawMessage
	if rep, ok := c.decode(&raw); !ok {
		return rep
	}
	var in struct {
		Ref              string         `json:"ref"`
		Inputs           map[string]any `json:"inputs"`
		ReturnRunDetails *bool          `json:"return_run_details"`
	}
	if err := json.Unmarshal(c.body, &in); err != nil {
		return errReply(http.StatusBadRequest, "Problems parsing JSON")
	}
	if _, has := raw["return_run_details"]; has && c.s.opts.NoRunDetails {
		return errReply(http.StatusBadRequest, "Invalid request.\n\nreturn_run_details is not a permitted key.")
	}
	for k := range raw {
		switch k {
		case "ref", "inputs", "return_run_details":
		default:
			return errReply(http.StatusUnprocessableEntity, "Invalid request.\n\n"+k+" is not a permitted key.")
		}
	}
	if in.Ref == "" {
		return errReply(http.StatusUnprocessableEntity, "Invalid request.\n\n\"ref\" wasn't supplied.")
	}
	if wf.noDispatch {
		return errReply(http.StatusUnprocessableEntity, "Workflow does not have 'workflow_dispatch' trigger")
	}
	ref := in.Ref
	sha, ok := c.w.refCommit("refs/heads/" + strings.TrimPrefix(ref, "refs/heads/"))
	branch := strings.TrimPrefix(ref, "refs/heads/")
	if !ok {
		sha, ok = c.w.refCommit("refs/tags/" + strings.TrimPrefix(ref, "refs/tags/"))
		branch = strings.TrimPrefix(ref, "refs/tags/")
	}
	if !ok {
		return errReply(http.StatusUnprocessableEntity, "No ref found for: "+ref)
	}
	if len(in.Inputs) > 25 {
		return errReply(http.StatusUnprocessableEntity, fmt.Sprintf("Invalid request.\n\nNo more than 25 properties are allowed; %d were supplied.", len(in.Inputs)))
	}
	inputs := map[string]string{}
	for k, v := range in.Inputs {
		switch x := v.(type) {
		case string:
			inputs[k] = x
		case bool, float64:
			inputs[k] = fmt.Sprint(x)
		default:
			return errReply(http.StatusUnprocessableEntity, "Invalid request.\n\nFor 'properties/"+k+"', "+string(jsonBody(v))+" is not a string.")
		}
	}
	if wf.declared {
		known := map[string]bool{}
		var unexpected []string
		for _, d := range wf.inputs {
			known[d.Name] = true
			if _, ok := inputs[d.Name]; d.Required && !ok {
				return errReply(http.StatusUnprocessableEntity, "Required input '"+d.Name+"' not provided")
			}
		}
		for k := range inputs {
			if !known[k] {
				unexpected = append(unexpected, strconv.Quote(k))
			}
		}
		if len(unexpected) > 0 {
			sort.Strings(unexpected)
			return errReply(http.StatusUnprocessableEntity, "Unexpected inputs provided: ["+strings.Join(unexpected, ", ")+"]")
		}
	}
	details := in.ReturnRunDetails != nil && *in.ReturnRunDetails
	d := Dispatch{Workflow: wf.name, WorkflowID: wf.id, Ref: ref, SHA: sha, Inputs: inputs,
		ReturnRunDetails: details, At: c.now}

	var jobs []JobSpec
	fn := c.w.dispatchFns[wf.path]
	if fn == nil {
		fn = c.w.dispatchFns[wf.name]
	}
	if fn != nil {
		// The handler may call back into the Server: run it without the lock.
		c.s.mu.Unlock()
		func() {
			defer c.s.mu.Lock()
			jobs = fn(d)
		}()
	}
	at := c.now
	if !details {
		at = at.Add(c.s.opts.DispatchLatency)
	}
	r := c.w.createRun(wf, sha, branch, "workflow_dispatch", at, jobs)
	c.w.gateRun(r, inputs["environment"])
	d.RunID = r.id
	c.w.dispatches = append(c.w.dispatches, d)
	if !details {
		return reply{status: http.StatusNoContent}
	}
	return jsonReply(http.StatusOK, map[string]any{
		"workflow_run_id": r.id,
		"run_url":         c.u.repo + "/actions/runs/" + formatID(r.id),
		"html_url":        c.u.html + "/actions/runs/" + formatID(r.id),
	})
}

// ---- jobs ----

type stepJSON struct {
	Name        string  `json:"name"`
	Status      string  `json:"status"`
	Conclusion  *string `json:"conclusion"`
	Number      int     `json:"number"`
	StartedAt   *string `json:"started_at"`
	CompletedAt *string `json:"completed_at"`
}

type jobJSON struct {
	ID              int64      `json:"id"`
	RunID           int64      `json:"run_id"`
	WorkflowName    string     `json:"workflow_name"`
	HeadBranch      *string    `json:"head_branch"`
	RunURL          string     `json:"run_url"`
	RunAttempt      int        `json:"run_attempt"`
	NodeID          string     `json:"node_id"`
	HeadSHA         string     `json:"head_sha"`
	URL             string     `json:"url"`
	HTMLURL         string     `json:"html_url"`
	Status          string     `json:"status"`
	Conclusion      *string    `json:"conclusion"`
	CreatedAt       *string    `json:"created_at"`
	StartedAt       *string    `json:"started_at"`
	CompletedAt     *string    `json:"completed_at"`
	Name            string     `json:"name"`
	Steps           []stepJSON `json:"steps"`
	CheckRunURL     string     `json:"check_run_url"`
	Labels          []string   `json:"labels"`
	RunnerID        *int64     `json:"runner_id"`
	RunnerName      *string    `json:"runner_name"`
	RunnerGroupID   *int64     `json:"runner_group_id"`
	RunnerGroupName *string    `json:"runner_group_name"`
}

func (c *rc) jobJSON(j *checkRun) jobJSON {
	v := j.view(c.now)
	out := jobJSON{ID: j.id, RunID: j.run.id, WorkflowName: j.run.wf.name, HeadBranch: strp(j.run.headBranch),
		RunURL: c.u.repo + "/actions/runs/" + formatID(j.run.id), RunAttempt: j.attempt, NodeID: nodeID("CR", j.id),
		HeadSHA: j.headSHA, URL: c.u.repo + "/actions/jobs/" + formatID(j.id), HTMLURL: c.jobHTML(j),
		Status: v.status, Conclusion: strp(v.conclusion), CreatedAt: ts(j.createdAt), StartedAt: ts(v.startedAt),
		CompletedAt: ts(v.completedAt), Name: j.name, Steps: []stepJSON{},
		CheckRunURL: c.u.repo + "/check-runs/" + formatID(j.id), Labels: []string{"ubuntu-latest"}}
	if v.status != "queued" && v.status != "waiting" && j.spec.Conclusion != "skipped" {
		rid, gid := int64(1000+j.id%97), int64(2)
		name, group := runnerName(j), "GitHub Actions"
		out.RunnerID, out.RunnerName, out.RunnerGroupID, out.RunnerGroupName = &rid, &name, &gid, &group
	}
	for _, s := range v.steps {
		out.Steps = append(out.Steps, stepJSON{Name: s.name, Status: s.status, Conclusion: strp(s.conclusion),
			Number: s.number, StartedAt: ts(s.startedAt), CompletedAt: ts(s.completedAt)})
	}
	return out
}

func runnerName(j *checkRun) string { return "GitHub Actions " + strconv.FormatInt(1000+j.id%97, 10) }

func listJobs(c *rc) reply {
	r, rep, ok := c.runParam()
	if !ok {
		return rep
	}
	var jobs []*checkRun
	if a, has := c.params["attempt"]; has {
		n, err := strconv.Atoi(a)
		if err != nil || n < 1 || n > r.attempt {
			return errReply(http.StatusNotFound, "Not Found")
		}
		for _, j := range r.jobs {
			if j.attempt == n {
				jobs = append(jobs, j)
			}
		}
	} else {
		switch f := c.query("filter"); f {
		case "", "latest":
			jobs = r.latestJobs()
		case "all":
			jobs = r.jobs
		default:
			return errReply(http.StatusUnprocessableEntity, "Invalid filter: "+f)
		}
	}
	var out []jobJSON
	for _, j := range jobs {
		out = append(out, c.jobJSON(j))
	}
	page, h := paginate(c, out)
	rep = jsonReply(http.StatusOK, map[string]any{"total_count": len(out), "jobs": listOf(page)})
	rep.header = h
	return rep
}

func (c *rc) jobParam() (*checkRun, reply, bool) {
	id, _ := c.idParam("job_id")
	j := c.w.checkRunByID(id)
	if j == nil || j.run == nil || !j.visible(c.now) {
		return nil, errReply(http.StatusNotFound, "Not Found"), false
	}
	return j, reply{}, true
}

func getJob(c *rc) reply {
	j, rep, ok := c.jobParam()
	if !ok {
		return rep
	}
	return jsonReply(http.StatusOK, c.jobJSON(j))
}

// jobLogs redirects to the signed log blob once the job has completed; before that,
// and for skipped jobs, GitHub has no log and answers 404.
func jobLogs(c *rc) reply {
	j, rep, ok := c.jobParam()
	if !ok {
		return rep
	}
	if v := j.view(c.now); v.status != "completed" || v.conclusion == "skipped" {
		return errReply(http.StatusNotFound, "Not Found")
	}
	return reply{status: http.StatusFound, header: http.Header{"Location": {c.signedBlobURL("job-logs", j.id)}}}
}

// ---- artifacts ----

type artifactJSON struct {
	ID                 int64   `json:"id"`
	NodeID             string  `json:"node_id"`
	Name               string  `json:"name"`
	SizeInBytes        int     `json:"size_in_bytes"`
	URL                string  `json:"url"`
	ArchiveDownloadURL string  `json:"archive_download_url"`
	Expired            bool    `json:"expired"`
	Digest             string  `json:"digest"`
	CreatedAt          *string `json:"created_at"`
	UpdatedAt          *string `json:"updated_at"`
	ExpiresAt          *string `json:"expires_at"`
	WorkflowRun        struct {
		ID               int64   `json:"id"`
		RepositoryID     int64   `json:"repository_id"`
		HeadRepositoryID int64   `json:"head_repository_id"`
		HeadBranch       *string `json:"head_branch"`
		HeadSHA          string  `json:"head_sha"`
	} `json:"workflow_run"`
}

func (c *rc) artifactJSON(a *artifactState) artifactJSON {
	u := c.u.repo + "/actions/artifacts/" + formatID(a.id)
	sum := sha256.Sum256(a.zip)
	out := artifactJSON{ID: a.id, NodeID: nodeID("MDE", a.id), Name: a.name, SizeInBytes: len(a.zip), URL: u,
		ArchiveDownloadURL: u + "/zip", Digest: "sha256:" + hex.EncodeToString(sum[:]), CreatedAt: ts(a.createdAt),
		UpdatedAt: ts(a.createdAt), ExpiresAt: ts(a.createdAt.Add(90 * 24 * time.Hour))}
	out.WorkflowRun.ID, out.WorkflowRun.RepositoryID, out.WorkflowRun.HeadRepositoryID = a.run.id, repoDBID, repoDBID
	out.WorkflowRun.HeadBranch, out.WorkflowRun.HeadSHA = strp(a.run.headBranch), a.run.headSHA
	return out
}

func listArtifacts(c *rc) reply {
	r, rep, ok := c.runParam()
	if !ok {
		return rep
	}
	name := c.query("name")
	var out []artifactJSON
	for _, a := range c.w.artifacts {
		if a.run == r && !a.createdAt.After(c.now) && (name == "" || a.name == name) {
			out = append(out, c.artifactJSON(a))
		}
	}
	page, h := paginate(c, out)
	rep = jsonReply(http.StatusOK, map[string]any{"total_count": len(out), "artifacts": listOf(page)})
	rep.header = h
	return rep
}

func (c *rc) artifactParam() (*artifactState, bool) {
	id, _ := c.idParam("artifact_id")
	for _, a := range c.w.artifacts {
		if a.id == id && !a.createdAt.After(c.now) {
			return a, true
		}
	}
	return nil, false
}

func getArtifact(c *rc) reply {
	a, ok := c.artifactParam()
	if !ok {
		return errReply(http.StatusNotFound, "Not Found")
	}
	return jsonReply(http.StatusOK, c.artifactJSON(a))
}

func artifactZip(c *rc) reply {
	a, ok := c.artifactParam()
	if !ok {
		return errReply(http.StatusNotFound, "Not Found")
	}
	return reply{status: http.StatusFound, header: http.Header{"Location": {c.signedBlobURL("artifacts", a.id)}}}
}

// ---- signed blobs ----

func (s *Server) sign(path string) string {
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte(path))
	return hex.EncodeToString(m.Sum(nil))
}

// serveBlob answers a signed download URL; no Authorization is needed or looked at.
func (s *Server) serveBlob(hw http.ResponseWriter, r *http.Request, path, reqID string) {
	s.count(func(st *Stats) { st.Blobs++ })
	if done := s.applyFault(hw, r, path, reqID); done {
		return
	}
	if r.Method != http.MethodGet || !hmac.Equal([]byte(r.URL.Query().Get("sig")), []byte(s.sign(path))) {
		writeReply(hw, reply{status: http.StatusForbidden, ctype: "application/xml",
			body: []byte(`<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthenticationFailed</Code><Message>Server failed to authenticate the request.</Message></Error>`)})
		return
	}
	parts := strings.Split(strings.TrimPrefix(path, "/_blobs/"), "/")
	id, _ := strconv.ParseInt(parts[len(parts)-1], 10, 64)
	s.mu.Lock()
	now := s.now()
	var rep reply
	switch parts[0] {
	case "job-logs":
		if j := s.w.checkRunByID(id); j != nil && j.run != nil {
			rep = reply{status: http.StatusOK, ctype: "text/plain; charset=utf-8", body: []byte(jobLog(j, now))}
		}
	case "artifacts":
		for _, a := range s.w.artifacts {
			if a.id == id {
				rep = reply{status: http.StatusOK, ctype: "application/zip", body: a.zip}
			}
		}
	}
	s.mu.Unlock()
	if rep.status == 0 {
		rep = reply{status: http.StatusNotFound, ctype: "text/plain", body: []byte("Not Found")}
	}
	writeReply(hw, rep)
}
