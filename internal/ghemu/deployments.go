package ghemu

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

type deploymentState struct {
	id                               int64
	sha, ref, task, description      string
	environment, originalEnvironment string
	payload                          json.RawMessage
	production, transient            bool
	createdAt, updatedAt             time.Time
	statuses                         []*deploymentStatusState // ascending id
	runIDs                           []int64                  // runs its deployment event started
}

type deploymentStatusState struct {
	id                              int64
	state, description, environment string
	logURL, environmentURL          string
	autoInactive                    bool
	createdAt                       time.Time
}

func (d *deploymentState) latest() *deploymentStatusState {
	if len(d.statuses) == 0 {
		return nil
	}
	return d.statuses[len(d.statuses)-1]
}

// deploymentHandler is one workflow started by deployment events (OnDeployment).
type deploymentHandler struct {
	workflow string
	fn       func(DeploymentEvent) []JobSpec
}

// environmentState is an environment protected with ProtectEnvironment.
type environmentState struct {
	id                      int64
	name                    string
	reviewers               []string
	waitTimer, approveAfter time.Duration
}

// envGate is what one run waits on: a copy of the environment's protection when the
// run was created, and the approval given since.
type envGate struct {
	env        environmentState
	createdAt  time.Time
	approvedAt time.Time // zero until Approve
}

// releasedAt is when the gated jobs may queue: they need the reviewers' approval (given
// with Approve or automatically after approveAfter) and the wait timer both. Zero means
// not in sight: nobody approved and nothing will.
func (g *envGate) releasedAt() time.Time {
	rel := g.createdAt
	if len(g.env.reviewers) > 0 {
		approved := g.approvedAt
		if g.env.approveAfter > 0 {
			if auto := g.createdAt.Add(g.env.approveAfter); approved.IsZero() || auto.Before(approved) {
				approved = auto
			}
		}
		if approved.IsZero() {
			return time.Time{}
		}
		if approved.After(rel) {
			rel = approved
		}
	}
	if t := g.createdAt.Add(g.env.waitTimer); t.After(rel) {
		rel = t
	}
	return rel
}

func (g *envGate) waiting(now time.Time) bool {
	rel := g.releasedAt()
	return rel.IsZero() || now.Before(rel)
}

// gateRun puts the run's current jobs behind the protection of environment, if any.
func (w *world) gateRun(r *runState, environment string) {
	env, ok := w.environments[environment]
	if !ok || environment == "" {
		return
	}
	g := &envGate{env: *env, createdAt: r.createdAt}
	g.env.reviewers = slices.Clone(env.reviewers)
	r.gate = g
	for _, j := range r.jobs {
		if j.attempt == r.attempt {
			j.gate = g
		}
	}
}

// ---- REST ----

type deploymentJSON struct {
	URL                   string          `json:"url"`
	ID                    int64           `json:"id"`
	NodeID                string          `json:"node_id"`
	SHA                   string          `json:"sha"`
	Ref                   string          `json:"ref"`
	Task                  string          `json:"task"`
	Payload               json.RawMessage `json:"payload"`
	OriginalEnvironment   string          `json:"original_environment"`
	Environment           string          `json:"environment"`
	Description           string          `json:"description"`
	Creator               ownerJSON       `json:"creator"`
	CreatedAt             *string         `json:"created_at"`
	UpdatedAt             *string         `json:"updated_at"`
	StatusesURL           string          `json:"statuses_url"`
	RepositoryURL         string          `json:"repository_url"`
	TransientEnvironment  bool            `json:"transient_environment"`
	ProductionEnvironment bool            `json:"production_environment"`
	PerformedViaGithubApp any             `json:"performed_via_github_app"`
}

func (c *rc) deploymentJSON(d *deploymentState) deploymentJSON {
	u := c.u.repo + "/deployments/" + formatID(d.id)
	return deploymentJSON{URL: u, ID: d.id, NodeID: nodeID("DE", d.id), SHA: d.sha, Ref: d.ref, Task: d.task,
		Payload: d.payload, OriginalEnvironment: d.originalEnvironment, Environment: d.environment,
		Description: d.description, Creator: botUser, CreatedAt: ts(d.createdAt), UpdatedAt: ts(d.updatedAt),
		StatusesURL: u + "/statuses", RepositoryURL: c.u.repo, TransientEnvironment: d.transient,
		ProductionEnvironment: d.production}
}

type deploymentStatusJSON struct {
	URL                   string    `json:"url"`
	ID                    int64     `json:"id"`
	NodeID                string    `json:"node_id"`
	State                 string    `json:"state"`
	Creator               ownerJSON `json:"creator"`
	Description           string    `json:"description"`
	Environment           string    `json:"environment"`
	TargetURL             string    `json:"target_url"`
	CreatedAt             *string   `json:"created_at"`
	UpdatedAt             *string   `json:"updated_at"`
	DeploymentURL         string    `json:"deployment_url"`
	RepositoryURL         string    `json:"repository_url"`
	EnvironmentURL        string    `json:"environment_url"`
	LogURL                string    `json:"log_url"`
	PerformedViaGithubApp any       `json:"performed_via_github_app"`
}

func (c *rc) deploymentStatusJSON(d *deploymentState, st *deploymentStatusState) deploymentStatusJSON {
	du := c.u.repo + "/deployments/" + formatID(d.id)
	return deploymentStatusJSON{URL: du + "/statuses/" + formatID(st.id), ID: st.id, NodeID: nodeID("DES", st.id),
		State: st.state, Creator: botUser, Description: st.description, Environment: st.environment,
		TargetURL: st.logURL, CreatedAt: ts(st.createdAt), UpdatedAt: ts(st.createdAt), DeploymentURL: du,
		RepositoryURL: c.u.repo, EnvironmentURL: st.environmentURL, LogURL: st.logURL}
}

// contextState is one commit status context or check run as the deployments API
// weighs it against required_contexts.
type contextState struct {
	Context string `json:"context"`
	State   string `json:"state"`
}

// commitContexts lists the check runs (newest per name within each check suite, so a
// re-run replaces its failed attempt but another workflow's run of the same name is a
// context of its own, as GitHub's 409 answers show) and the statuses (newest per
// context) on sha, each as success, pending or failure (error for statuses).
func (w *world) commitContexts(sha string, now time.Time) []contextState {
	var out []contextState
	for _, cr := range w.latestCheckRuns(sha, now) {
		v := cr.view(now)
		state := "pending"
		if v.status == "completed" {
			state = "success"
			if isBad(v.conclusion) {
				state = "failure"
			}
		}
		out = append(out, contextState{Context: cr.name, State: state})
	}
	for _, st := range w.latestStatuses(sha, now) {
		out = append(out, contextState{Context: st.context, State: st.state})
	}
	return out
}

// checkContexts returns the contexts that block a deployment: with required nil (the
// field absent or null) every context on the commit must be success, as GitHub's
// default; otherwise only the named ones, and a named context the commit lacks counts
// as "missing". [] requires nothing.
func (w *world) checkContexts(sha string, required *[]string, now time.Time) (all []contextState, blocked bool) {
	have := w.commitContexts(sha, now)
	if required == nil {
		for _, c := range have {
			if c.State != "success" {
				blocked = true
			}
		}
		return have, blocked
	}
	for _, name := range *required {
		found := false
		for _, c := range have {
			if c.Context == name {
				found = true
				blocked = blocked || c.State != "success"
				all = append(all, c)
			}
		}
		if !found {
			blocked = true
			all = append(all, contextState{Context: name, State: "missing"})
		}
	}
	return all, blocked
}

type conflictDetail struct {
	Contexts []contextState `json:"contexts"`
	Resource string         `json:"resource"`
	Field    string         `json:"field"`
	Code     string         `json:"code"`
}

// createDeployment is POST /deployments. auto_merge is accepted but never merges: the
// emulator has no history to tell whether a branch is behind the default branch, so it
// never answers 202.
func createDeployment(c *rc) reply {
	var in struct {
		Ref                   *string         `json:"ref"`
		Task                  *string         `json:"task"`
		AutoMerge             *bool           `json:"auto_merge"`
		RequiredContexts      *[]string       `json:"required_contexts"`
		Payload               json.RawMessage `json:"payload"`
		Environment           *string         `json:"environment"`
		Description           *string         `json:"description"`
		ProductionEnvironment *bool           `json:"production_environment"`
		TransientEnvironment  *bool           `json:"transient_environment"`
	}
	if rep, ok := c.decode(&in); !ok {
		return rep
	}
	if in.Ref == nil || *in.Ref == "" {
		return missing("ref")
	}
	payload := bytes.TrimSpace(in.Payload)
	if len(payload) == 0 || string(payload) == "null" {
		payload = []byte("{}")
	}
	if payload[0] != '{' && payload[0] != '"' {
		return errReply(http.StatusUnprocessableEntity, "Invalid request.\n\nFor 'properties/payload', "+string(payload)+
			" is not an object or string.")
	}
	ref := *in.Ref
	sha, ok := c.w.resolve(ref)
	if !ok {
		return errReply(http.StatusUnprocessableEntity, "No ref found for: "+ref)
	}
	if ctxs, blocked := c.w.checkContexts(sha, in.RequiredContexts, c.now); blocked {
		return jsonReply(http.StatusConflict, struct {
			Message          string           `json:"message"`
			Errors           []conflictDetail `json:"errors"`
			DocumentationURL string           `json:"documentation_url"`
			Status           string           `json:"status"`
		}{"Conflict: Commit status checks failed for " + ref + ".",
			[]conflictDetail{{Contexts: ctxs, Resource: "Deployment", Field: "required_contexts", Code: "invalid"}},
			docsURL, "409"})
	}
	d := &deploymentState{sha: sha, ref: ref, task: "deploy", environment: "production", payload: payload}
	if in.Task != nil && *in.Task != "" {
		d.task = *in.Task
	}
	if in.Environment != nil && *in.Environment != "" {
		d.environment = *in.Environment
	}
	d.originalEnvironment = d.environment
	if in.Description != nil {
		d.description = *in.Description
	}
	d.production = d.environment == "production"
	if in.ProductionEnvironment != nil {
		d.production = *in.ProductionEnvironment
	}
	d.transient = in.TransientEnvironment != nil && *in.TransientEnvironment
	d.id = c.w.newID(idDeployment)
	d.createdAt = c.now.Truncate(time.Second)
	d.updatedAt = d.createdAt
	c.w.deployments = append(c.w.deployments, d)
	if c.s.opts.TokenStartsWorkflows {
		c.deploymentEvent(d)
	}
	rep := jsonReply(http.StatusCreated, c.deploymentJSON(d))
	rep.header = http.Header{"Location": {c.u.repo + "/deployments/" + formatID(d.id)}}
	return rep
}

// deploymentEvent starts a "deployment" run of every OnDeployment workflow. Handlers
// run without the lock, as OnDispatch handlers do.
func (c *rc) deploymentEvent(d *deploymentState) {
	ev := DeploymentEvent{DeploymentID: d.id, SHA: d.sha, Ref: d.ref, Task: d.task, Environment: d.environment,
		Payload: slices.Clone(d.payload), ProductionEnvironment: d.production, TransientEnvironment: d.transient, At: c.now}
	// GITHUB_REF of a deployment event is the branch or tag deployed (none for a sha).
	branch := strings.TrimPrefix(strings.TrimPrefix(d.ref, "refs/heads/"), "refs/tags/")
	_, isBranch := c.w.refs["refs/heads/"+branch]
	_, isTag := c.w.refs["refs/tags/"+branch]
	if !isBranch && !isTag {
		branch = ""
	}
	for _, h := range slices.Clone(c.w.deployFns) {
		var jobs []JobSpec
		c.s.mu.Unlock()
		func() {
			defer c.s.mu.Lock()
			jobs = h.fn(ev)
		}()
		wf := c.w.workflowByName(h.workflow)
		r := c.w.createRun(wf, d.sha, branch, "deployment", c.now, jobs)
		c.w.gateRun(r, d.environment)
		d.runIDs = append(d.runIDs, r.id)
	}
}

func (c *rc) deploymentParam() (*deploymentState, bool) {
	id, _ := c.idParam("id")
	for _, d := range c.w.deployments {
		if d.id == id {
			return d, true
		}
	}
	return nil, false
}

// listDeployments answers newest first (GitHub lists by id, descending).
func listDeployments(c *rc) reply {
	q := c.r.URL.Query()
	out := []deploymentJSON{}
	for i := len(c.w.deployments) - 1; i >= 0; i-- {
		d := c.w.deployments[i]
		if v := q.Get("sha"); v != "" && v != d.sha {
			continue
		}
		if v := q.Get("ref"); v != "" && v != d.ref {
			continue
		}
		if v := q.Get("task"); v != "" && v != d.task {
			continue
		}
		if v := q.Get("environment"); v != "" && v != d.environment {
			continue
		}
		out = append(out, c.deploymentJSON(d))
	}
	return pagedReply(c, out, func(p []deploymentJSON) any { return p })
}

func getDeployment(c *rc) reply {
	d, ok := c.deploymentParam()
	if !ok {
		return errReply(http.StatusNotFound, "Not Found")
	}
	return jsonReply(http.StatusOK, c.deploymentJSON(d))
}

// deleteDeployment follows GitHub's documented rule: the repository's only deployment
// can always be deleted; otherwise only an inactive one, that is one whose newest
// status is not success ("mark it inactive by adding any non-successful status").
// A deployment with no status at all counts as active.
func deleteDeployment(c *rc) reply {
	d, ok := c.deploymentParam()
	if !ok {
		return errReply(http.StatusNotFound, "Not Found")
	}
	if st := d.latest(); len(c.w.deployments) > 1 && (st == nil || st.state == "success") {
		return errReply(http.StatusUnprocessableEntity, "We cannot delete an active deployment unless it is the only deployment in a given repository.")
	}
	c.w.deployments = slices.DeleteFunc(c.w.deployments, func(x *deploymentState) bool { return x == d })
	return reply{status: http.StatusNoContent}
}

var deploymentStates = []string{"error", "failure", "inactive", "in_progress", "queued", "pending", "success"}

const maxDeploymentDescription = 140

func createDeploymentStatus(c *rc) reply {
	d, ok := c.deploymentParam()
	if !ok {
		return errReply(http.StatusNotFound, "Not Found")
	}
	var in struct {
		State          *string `json:"state"`
		TargetURL      *string `json:"target_url"`
		LogURL         *string `json:"log_url"`
		Description    *string `json:"description"`
		Environment    *string `json:"environment"`
		EnvironmentURL *string `json:"environment_url"`
		AutoInactive   *bool   `json:"auto_inactive"`
	}
	if rep, ok := c.decode(&in); !ok {
		return rep
	}
	if in.State == nil {
		return missing("state")
	}
	if !slices.Contains(deploymentStates, *in.State) {
		q := make([]string, len(deploymentStates))
		for i, s := range deploymentStates {
			q[i] = strconv.Quote(s)
		}
		return errReply(http.StatusUnprocessableEntity, "Invalid request.\n\n"+strconv.Quote(*in.State)+
			" is not a member of ["+strings.Join(q, ", ")+"].")
	}
	st := &deploymentStatusState{state: *in.State, environment: d.environment, autoInactive: true}
	if in.Description != nil {
		if n := utf8.RuneCountInString(*in.Description); n > maxDeploymentDescription {
			return jsonReply(http.StatusUnprocessableEntity, apiError{Message: "Validation Failed", Errors: []apiDetail{{
				Resource: "DeploymentStatus", Field: "description", Code: "custom",
				Message: fmt.Sprintf("description is too long (maximum is %d characters)", maxDeploymentDescription)}},
				DocumentationURL: docsURL, Status: "422"})
		}
		st.description = *in.Description
	}
	switch {
	case in.LogURL != nil:
		st.logURL = *in.LogURL
	case in.TargetURL != nil:
		st.logURL = *in.TargetURL
	}
	if in.EnvironmentURL != nil {
		st.environmentURL = *in.EnvironmentURL
	}
	if in.AutoInactive != nil {
		st.autoInactive = *in.AutoInactive
	}
	if in.Environment != nil && *in.Environment != "" {
		// GitHub lets a status move its deployment to another environment.
		d.environment, st.environment = *in.Environment, *in.Environment
	}
	st.id = c.w.newID(idDeploymentStatus)
	st.createdAt = c.now.Truncate(time.Second)
	d.statuses = append(d.statuses, st)
	d.updatedAt = st.createdAt
	if st.state == "success" && st.autoInactive {
		c.w.autoInactivate(d, st.createdAt)
	}
	rep := jsonReply(http.StatusCreated, c.deploymentStatusJSON(d, st))
	rep.header = http.Header{"Location": {c.u.repo + "/deployments/" + formatID(d.id) + "/statuses/" + formatID(st.id)}}
	return rep
}

// autoInactivate does what auto_inactive does on a success status: every prior
// non-transient, non-production deployment of the same environment whose latest state
// is success gets an inactive status.
func (w *world) autoInactivate(d *deploymentState, at time.Time) {
	for _, x := range w.deployments {
		if x.id >= d.id || x.environment != d.environment || x.transient || x.production {
			continue
		}
		if l := x.latest(); l == nil || l.state != "success" {
			continue
		}
		x.statuses = append(x.statuses, &deploymentStatusState{id: w.newID(idDeploymentStatus), state: "inactive",
			environment: x.environment, autoInactive: true, createdAt: at})
		x.updatedAt = at
	}
}

// listDeploymentStatuses answers newest first, as GitHub does.
func listDeploymentStatuses(c *rc) reply {
	d, ok := c.deploymentParam()
	if !ok {
		return errReply(http.StatusNotFound, "Not Found")
	}
	out := []deploymentStatusJSON{}
	for i := len(d.statuses) - 1; i >= 0; i-- {
		out = append(out, c.deploymentStatusJSON(d, d.statuses[i]))
	}
	return pagedReply(c, out, func(p []deploymentStatusJSON) any { return p })
}

func getDeploymentStatus(c *rc) reply {
	d, ok := c.deploymentParam()
	if !ok {
		return errReply(http.StatusNotFound, "Not Found")
	}
	id, _ := c.idParam("status_id")
	for _, st := range d.statuses {
		if st.id == id {
			return jsonReply(http.StatusOK, c.deploymentStatusJSON(d, st))
		}
	}
	return errReply(http.StatusNotFound, "Not Found")
}

type reviewerJSON struct {
	Type     string         `json:"type"`
	Reviewer map[string]any `json:"reviewer"`
}

type pendingDeploymentJSON struct {
	Environment struct {
		ID      int64  `json:"id"`
		NodeID  string `json:"node_id"`
		Name    string `json:"name"`
		URL     string `json:"url"`
		HTMLURL string `json:"html_url"`
	} `json:"environment"`
	WaitTimer             int            `json:"wait_timer"`
	WaitTimerStartedAt    *string        `json:"wait_timer_started_at"`
	CurrentUserCanApprove bool           `json:"current_user_can_approve"`
	Reviewers             []reviewerJSON `json:"reviewers"`
}

// pendingDeployments lists the environment a run waits on while it waits, else [].
// current_user_can_approve is false: the token is GITHUB_TOKEN, which cannot approve.
func pendingDeployments(c *rc) reply {
	r, rep, ok := c.runParam()
	if !ok {
		return rep
	}
	out := []pendingDeploymentJSON{}
	if g := r.gate; g != nil && g.waiting(c.now) && !r.stopped(c.now) {
		var p pendingDeploymentJSON
		p.Environment.ID, p.Environment.NodeID, p.Environment.Name = g.env.id, nodeID("EN", g.env.id), g.env.name
		p.Environment.URL = c.u.repo + "/environments/" + escapePath(g.env.name)
		p.Environment.HTMLURL = c.u.html + "/deployments/activity_log?environments_filter=" + escapePath(g.env.name)
		p.WaitTimer = int(g.env.waitTimer / time.Minute)
		p.WaitTimerStartedAt = ts(g.createdAt)
		p.Reviewers = []reviewerJSON{}
		for _, rv := range g.env.reviewers {
			p.Reviewers = append(p.Reviewers, c.reviewerJSON(rv))
		}
		out = append(out, p)
	}
	return jsonReply(http.StatusOK, out)
}

// reviewerJSON turns "@user" or "@org/team" into GitHub's reviewer object.
func (c *rc) reviewerJSON(name string) reviewerJSON {
	name = strings.TrimPrefix(name, "@")
	id := int64(3_000_000 + fnv32(name)%1_000_000)
	if org, slug, ok := strings.Cut(name, "/"); ok {
		u := c.u.api + "/organizations/" + formatID(1000001) + "/team/" + formatID(id)
		return reviewerJSON{Type: "Team", Reviewer: map[string]any{
			"id": id, "node_id": nodeID("T", id), "url": u, "html_url": c.u.base + "/orgs/" + org + "/teams/" + slug,
			"name": slug, "slug": slug, "description": nil, "privacy": "closed", "notification_setting": "notifications_enabled",
			"permission": "pull", "members_url": u + "/members{/member}", "repositories_url": u + "/repos", "parent": nil}}
	}
	return reviewerJSON{Type: "User", Reviewer: map[string]any{
		"login": name, "id": id, "node_id": nodeID("U", id), "avatar_url": c.u.base + "/avatars/u/" + formatID(id),
		"url": c.u.api + "/users/" + name, "html_url": c.u.base + "/" + name, "type": "User", "site_admin": false}}
}

// ---- scenario ----

// DeploymentEvent is what a deployment created through the API hands the workflows
// registered with OnDeployment (when Options.TokenStartsWorkflows is set).
type DeploymentEvent struct {
	DeploymentID          int64
	SHA, Ref, Task        string
	Environment           string
	Payload               json.RawMessage
	ProductionEnvironment bool
	TransientEnvironment  bool
	At                    time.Time
}

// Deployment is a Deployment record with its statuses.
type Deployment struct {
	ID                    int64
	SHA, Ref, Task        string
	Environment           string
	Description           string
	Payload               json.RawMessage
	ProductionEnvironment bool
	TransientEnvironment  bool
	CreatedAt             time.Time
	// Statuses are oldest first.
	Statuses []DeploymentStatus
	// RunIDs are the runs its deployment event started.
	RunIDs []int64
}

// DeploymentStatus is one status of a Deployment.
type DeploymentStatus struct {
	ID             int64
	State          string
	Description    string
	Environment    string
	LogURL         string
	EnvironmentURL string
	AutoInactive   bool
	CreatedAt      time.Time
}

// Deployments returns every deployment, oldest first.
func (s *Server) Deployments() []Deployment {
	w, _, unlock := s.lock()
	defer unlock()
	out := []Deployment{}
	for _, d := range w.deployments {
		x := Deployment{ID: d.id, SHA: d.sha, Ref: d.ref, Task: d.task, Environment: d.environment,
			Description: d.description, Payload: slices.Clone(d.payload), ProductionEnvironment: d.production,
			TransientEnvironment: d.transient, CreatedAt: d.createdAt, RunIDs: slices.Clone(d.runIDs)}
		for _, st := range d.statuses {
			x.Statuses = append(x.Statuses, DeploymentStatus{ID: st.id, State: st.state, Description: st.description,
				Environment: st.environment, LogURL: st.logURL, EnvironmentURL: st.environmentURL,
				AutoInactive: st.autoInactive, CreatedAt: st.createdAt})
		}
		out = append(out, x)
	}
	return out
}

// AddDeployment records a deployment of sha to environment now, as a client with the
// API would (ref as given, task "deploy", creator github-actions[bot]), with one status
// per state in order (and no auto_inactive effect). It returns the deployment id.
func (s *Server) AddDeployment(environment, sha, ref string, production bool, states ...string) int64 {
	mustSHA(sha)
	for _, st := range states {
		if !slices.Contains(deploymentStates, st) {
			panic(fmt.Sprintf("ghemu: AddDeployment: bad state %q", st))
		}
	}
	w, now, unlock := s.lock()
	defer unlock()
	w.addCommit(sha, now)
	at := now.Truncate(time.Second)
	d := &deploymentState{id: w.newID(idDeployment), sha: sha, ref: ref, task: "deploy", environment: environment,
		originalEnvironment: environment, payload: json.RawMessage("{}"), production: production, createdAt: at, updatedAt: at}
	for _, st := range states {
		d.statuses = append(d.statuses, &deploymentStatusState{id: w.newID(idDeploymentStatus), state: st,
			environment: environment, autoInactive: true, createdAt: at})
	}
	w.deployments = append(w.deployments, d)
	return d.id
}

// ProtectEnvironment makes environment wait before the jobs of a run that targets it
// start, like an environment with protection rules: a dispatched run whose input
// "environment" names it, or a deployment-event run of a deployment to it, is
// "waiting" until the reviewers ("@user" or "@org/team", at most 6) approve — through
// Approve, or automatically approveAfter after the run was created (0: never) — and
// waitTimer has passed since then; only then do its jobs queue. A run created before
// this call keeps the protection it started with.
func (s *Server) ProtectEnvironment(name string, reviewers []string, waitTimer, approveAfter time.Duration) {
	if len(reviewers) > 6 {
		panic("ghemu: ProtectEnvironment: GitHub allows at most 6 required reviewers")
	}
	if waitTimer < 0 || waitTimer > 43200*time.Minute {
		panic("ghemu: ProtectEnvironment: wait timer must be 0..43200 minutes")
	}
	w, _, unlock := s.lock()
	defer unlock()
	env, ok := w.environments[name]
	if !ok {
		env = &environmentState{id: w.newID(idEnvironment), name: name}
		w.environments[name] = env
	}
	env.reviewers = slices.Clone(reviewers)
	env.waitTimer, env.approveAfter = roundDur(waitTimer), roundDur(approveAfter)
}

// Approve approves the environment a run waits on, now, as a required reviewer would.
// A run that waits on nothing is left alone.
func (s *Server) Approve(runID int64) {
	w, now, unlock := s.lock()
	defer unlock()
	r := w.runByID(runID)
	if r == nil {
		panic(fmt.Sprintf("ghemu: Approve: no run %d", runID))
	}
	if r.gate != nil && r.gate.approvedAt.IsZero() {
		r.gate.approvedAt = now.Truncate(time.Second)
	}
}

// OnDeployment registers a workflow (created if unknown, path derived from its name)
// that a deployment created through the API starts when Options.TokenStartsWorkflows
// is set: one run with event "deployment" on the deployment's sha whose jobs are fn's
// answer (none: one successful job named after the workflow). fn runs without the
// emulator's lock. Registering a workflow again replaces its handler.
func (s *Server) OnDeployment(workflowName string, fn func(DeploymentEvent) []JobSpec) {
	w, now, unlock := s.lock()
	defer unlock()
	if w.workflowByName(workflowName) == nil {
		w.workflows = append(w.workflows, &workflowState{id: w.newID(idWorkflow), name: workflowName,
			createdAt: now.Truncate(time.Second),
			path:      ".github/workflows/" + strings.ToLower(strings.ReplaceAll(workflowName, " ", "-")) + ".yml"})
	}
	h := deploymentHandler{workflow: workflowName, fn: fn}
	for i := range w.deployFns {
		if w.deployFns[i].workflow == workflowName {
			w.deployFns[i] = h
			return
		}
	}
	w.deployFns = append(w.deployFns, h)
}

// FailDeploys makes the next n deploy runs for environment conclude failure: each call
// of DeployJobs(environment) — which the Deploy workflow's default dispatch handler
// makes — uses up one.
func (s *Server) FailDeploys(environment string, n int) {
	w, _, unlock := s.lock()
	defer unlock()
	w.deployFails[environment] += n
}

// DeployJobs returns the jobs of one deploy run for environment: DeployJob, failing if
// FailDeploys has a failure left for environment (and using it up). OnDispatch and
// OnDeployment handlers may call it.
func (s *Server) DeployJobs(environment string) []JobSpec {
	w, _, unlock := s.lock()
	fail := w.deployFails[environment] > 0
	if fail {
		w.deployFails[environment]--
	}
	unlock()
	return []JobSpec{DeployJob(environment, fail)}
}

// DeployJob is Agent Me's deploy job "deploy (<environment>)": queued 5s, then about a
// minute of checkout, flyctl deploy and the wait for healthy machines. fail makes the
// deploy step fail (and the job conclude failure).
func DeployJob(environment string, fail bool) JobSpec {
	name := "deploy"
	if environment != "" {
		name += " (" + environment + ")"
	}
	app := "agentme-" + environment
	deploy := StepSpec{Name: "Deploy to " + environment, Run: "flyctl deploy --remote-only --config fly." + environment + ".toml",
		Log: "==> Verifying app config\n--> Verified app config\n==> Building image with Depot\n--> Pushing image done\n" +
			"==> Creating release\n--> release v42 created\nVisit your newly deployed app at https://" + app + ".fly.dev/"}
	if fail {
		deploy.Conclusion = "failure"
		deploy.Log = "==> Verifying app config\n--> Verified app config\n==> Creating release\n" +
			"Error: release command failed - aborting deployment. machine 3d8d9014b32d08 exited with non-zero status of 1"
	}
	return JobSpec{Name: name, QueueFor: 5 * time.Second, RunFor: 55 * time.Second, Steps: []StepSpec{
		{Name: "Checkout", Run: "actions/checkout@v4"},
		{Name: "Setup flyctl", Run: "superfly/flyctl-actions/setup-flyctl@master"},
		deploy,
		{Name: "Wait for machines", Run: "flyctl status --config fly." + environment + ".toml --watch",
			Log: "2 of 2 machines are in a good state"},
	}}
}
