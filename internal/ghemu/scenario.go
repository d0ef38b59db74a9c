package ghemu

import (
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
)

// JobSpec describes a job (and its check run) or a check run of another app. Its
// state is derived from the clock: queued for QueueFor after creation, then
// in_progress for RunFor, then completed with Conclusion. Durations are rounded to
// whole seconds.
type JobSpec struct {
	Name        string
	QueueFor    time.Duration
	RunFor      time.Duration
	NeverStarts bool // stays queued forever (no runner picks it up)
	// Conclusion at completion: success, failure, skipped (completes at once, no steps
	// run), neutral, cancelled, timed_out, action_required, startup_failure, or any
	// other word. Empty means failure when a step failed, else success.
	Conclusion string
	// Steps share RunFor evenly; "Set up job" and "Complete job" are added around them.
	Steps []StepSpec
	// Log is the job's log text when Steps is empty.
	Log string
}

// StepSpec is one step of a job.
type StepSpec struct {
	Name string
	// Conclusion defaults to success, or skipped after a failed step.
	Conclusion string
	// Log is the step's output, one line per line.
	Log string
	// Run is what the log's "##[group]Run ..." header shows (the command or the
	// action); default Name.
	Run string
}

// Workflow is a workflow definition as created by AddWorkflow.
type Workflow struct {
	ID   int64
	Name string
	Path string
}

// WorkflowInput declares one workflow_dispatch input.
type WorkflowInput struct {
	Name     string
	Required bool
}

// Run is a copy of a workflow run at the time it was returned (later attempts do
// not update it).
type Run struct {
	ID           int64
	WorkflowID   int64
	WorkflowName string
	CheckSuiteID int64
	HeadSHA      string
	HeadBranch   string
	Event        string
	RunNumber    int
	RunAttempt   int
	// JobIDs are the ids of the jobs of this attempt (equal to their check run ids).
	JobIDs    []int64
	CreatedAt time.Time
}

// Dispatch records a workflow_dispatch received by the emulator.
type Dispatch struct {
	Workflow         string // workflow name
	WorkflowID       int64
	Ref              string // as sent
	SHA              string // the commit the ref pointed at
	Inputs           map[string]string
	ReturnRunDetails bool
	RunID            int64 // the run created (0 in the handler passed to OnDispatch)
	At               time.Time
}

// Fault makes matching requests fail or slow down.
type Fault struct {
	// PathPrefix is matched against the path after /api/v3 ("/repos/agentme/agentme/commits"),
	// "graphql" for GraphQL, or "/_blobs/" for log and artifact downloads; "" matches all.
	PathPrefix string
	Method     string // "" matches every method
	// Count is how many matching requests are affected; 0 means every one.
	Count int
	// Status answers with this status (e.g. 500, 502) and a JSON message.
	Status int
	// SecondaryLimit answers 403 with Retry-After and GitHub's secondary rate limit message.
	SecondaryLimit bool
	// RetryAfter is sent as Retry-After (seconds, default 60 with SecondaryLimit).
	RetryAfter time.Duration
	// Delay answers this much later (real time; keep it small). Alone, the request is
	// then answered normally.
	Delay time.Duration
	// Message, when set, builds the JSON message of a Status fault from the request: a
	// hostile or broken server that echoes the request (its Authorization header, in
	// some escaping) back into an error.
	Message func(r *http.Request) string
}

type faultState struct {
	Fault
	left int // -1: unlimited
}

// Stats counts what reached the emulator.
type Stats struct {
	REST        int // REST requests (every status, 304s included)
	NotModified int // REST answers 304
	GraphQL     int // GraphQL requests
	// GraphQLPoints is the sum of the costs charged to GraphQL queries.
	GraphQLPoints int
	Faults        int // requests answered by an injected fault
	Blobs         int // log and artifact downloads
	// Routes counts requests per "METHOD /route/{pattern}" ("POST /graphql" for GraphQL).
	Routes map[string]int
}

var shaRe = regexp.MustCompile(`^[0-9a-f]{40}$`)

func mustSHA(sha string) {
	if !shaRe.MatchString(sha) {
		panic(fmt.Sprintf("ghemu: %q is not a 40-hex lower-case commit sha", sha))
	}
}

// roundDur rounds a scenario duration to whole seconds (GitHub's time precision).
func roundDur(d time.Duration) time.Duration {
	if d < 0 {
		return 0
	}
	return d.Round(time.Second)
}

func (s *Server) lock() (*world, time.Time, func()) {
	s.mu.Lock()
	return s.w, s.now(), s.mu.Unlock
}

// AddCommit makes sha a known commit and the head of the given branches.
func (s *Server) AddCommit(sha string, branchesWhereHead ...string) {
	mustSHA(sha)
	w, now, unlock := s.lock()
	defer unlock()
	w.addCommit(sha, now)
	for _, b := range branchesWhereHead {
		w.refs["refs/heads/"+b] = sha
	}
}

func (w *world) addCommit(sha string, now time.Time) {
	if _, ok := w.commits[sha]; ok {
		return
	}
	w.commits[sha] = &commit{sha: sha, message: "Commit " + sha[:7], date: now.Truncate(time.Second)}
	w.commitOrder = append(w.commitOrder, sha)
}

// AddBranch points refs/heads/name at sha (a new commit if unknown).
func (s *Server) AddBranch(name, sha string) {
	mustSHA(sha)
	w, now, unlock := s.lock()
	defer unlock()
	w.addCommit(sha, now)
	w.refs["refs/heads/"+name] = sha
}

// AddTag points refs/tags/name at sha (a lightweight tag; a new commit if unknown).
func (s *Server) AddTag(name, sha string) {
	mustSHA(sha)
	w, now, unlock := s.lock()
	defer unlock()
	w.addCommit(sha, now)
	w.refs["refs/tags/"+name] = sha
}

// AddWorkflow defines a workflow file (path like ".github/workflows/ci.yml") declaring
// `name:`; it can be dispatched and accepts any inputs unless ConfigureWorkflow says
// otherwise. A workflow is its file: adding an existing path returns the existing
// workflow, and two paths may declare the same name (a copied file never renamed); the
// other methods then take the path to tell them apart. An empty path adds the name
// once, at a path derived from it.
func (s *Server) AddWorkflow(name, path string) *Workflow {
	w, now, unlock := s.lock()
	defer unlock()
	var wf *workflowState
	for _, x := range w.workflows {
		if (path != "" && x.path == path) || (path == "" && x.name == name) {
			wf = x
		}
	}
	if path == "" {
		path = ".github/workflows/" + strings.ToLower(strings.ReplaceAll(name, " ", "-")) + ".yml"
	}
	if wf == nil {
		wf = &workflowState{id: w.newID(idWorkflow), name: name, path: path, createdAt: now.Truncate(time.Second)}
		w.workflows = append(w.workflows, wf)
	}
	return &Workflow{ID: wf.id, Name: wf.name, Path: wf.path}
}

// ConfigureWorkflow sets what a dispatch of the workflow accepts: dispatchable=false
// answers 422 "Workflow does not have 'workflow_dispatch' trigger"; inputs, when
// given, are the declared inputs (unknown ones and missing required ones answer 422).
//
// name is the workflow's name or its file path (see AddWorkflow).
func (s *Server) ConfigureWorkflow(name string, dispatchable bool, inputs ...WorkflowInput) {
	w, _, unlock := s.lock()
	defer unlock()
	wf := w.workflowByName(name)
	if wf == nil {
		panic(fmt.Sprintf("ghemu: ConfigureWorkflow: no workflow %q", name))
	}
	wf.noDispatch = !dispatchable
	wf.inputs = slices.Clone(inputs)
	wf.declared = inputs != nil
}

// OnDispatch sets what a dispatch of the workflow creates: a run whose jobs are fn's
// answer. fn runs without the emulator's lock, so it may call the Server. Without a
// handler (or when fn returns no jobs) the run has one successful job named after the
// workflow.
func (s *Server) OnDispatch(workflowName string, fn func(d Dispatch) []JobSpec) {
	w, _, unlock := s.lock()
	defer unlock()
	w.dispatchFns[workflowName] = fn
}

// AddRun creates a workflow run (and its check suite) on sha now, with the given jobs
// (none: one successful job named after the workflow). event defaults to "push";
// head_branch is a branch whose head is sha (main preferred), if any. workflowName is
// the workflow's file path or its name (see AddWorkflow); an unknown name creates the
// workflow, with a path derived from it.
func (s *Server) AddRun(workflowName, sha, event string, jobs ...JobSpec) *Run {
	mustSHA(sha)
	if event == "" {
		event = "push"
	}
	w, now, unlock := s.lock()
	defer unlock()
	w.addCommit(sha, now)
	wf := w.workflowByName(workflowName)
	if wf == nil {
		wf = &workflowState{id: w.newID(idWorkflow), name: workflowName, createdAt: now.Truncate(time.Second),
			path: ".github/workflows/" + strings.ToLower(strings.ReplaceAll(workflowName, " ", "-")) + ".yml"}
		w.workflows = append(w.workflows, wf)
	}
	branch := ""
	if bs := w.branchesWhereHead(sha); len(bs) > 0 {
		branch = bs[0]
		if slices.Contains(bs, "main") {
			branch = "main"
		}
	}
	r := w.createRun(wf, sha, branch, event, now, jobs)
	return r.export()
}

func (w *world) createRun(wf *workflowState, sha, branch, event string, at time.Time, jobs []JobSpec) *runState {
	at = at.Truncate(time.Second)
	if len(jobs) == 0 {
		jobs = []JobSpec{{Name: wf.name, RunFor: 5 * time.Second}}
	}
	wf.runCount++
	r := &runState{id: w.newID(idRun), wf: wf, headSHA: sha, headBranch: branch, event: event,
		number: wf.runCount, attempt: 1, createdAt: at, startedAt: at}
	r.suite = &suiteState{id: w.newID(idSuite), headSHA: sha, headBranch: branch, app: actionsApp, run: r, createdAt: at}
	w.suites = append(w.suites, r.suite)
	w.runs = append(w.runs, r)
	w.addJobs(r, at, jobs)
	return r
}

func (w *world) addJobs(r *runState, at time.Time, jobs []JobSpec) {
	r.lastSpecs = slices.Clone(jobs)
	for _, spec := range jobs {
		c := w.newTimedCheckRun(r.suite, r.headSHA, spec, at)
		c.run, c.attempt = r, r.attempt
		r.jobs = append(r.jobs, c)
	}
}

func (w *world) newTimedCheckRun(su *suiteState, sha string, spec JobSpec, at time.Time) *checkRun {
	spec.QueueFor, spec.RunFor = roundDur(spec.QueueFor), roundDur(spec.RunFor)
	spec.Steps = slices.Clone(spec.Steps)
	if spec.Name == "" {
		spec.Name = "job"
	}
	c := &checkRun{id: w.newID(idCheckRun), name: spec.Name, headSHA: sha, suite: su,
		createdAt: at.Truncate(time.Second), spec: spec, steps: planSteps(spec)}
	su.runs = append(su.runs, c)
	w.checkRuns = append(w.checkRuns, c)
	return c
}

func (r *runState) export() *Run {
	out := &Run{ID: r.id, WorkflowID: r.wf.id, WorkflowName: r.wf.name, CheckSuiteID: r.suite.id,
		HeadSHA: r.headSHA, HeadBranch: r.headBranch, Event: r.event, RunNumber: r.number,
		RunAttempt: r.attempt, CreatedAt: r.createdAt}
	for _, j := range r.jobs {
		if j.attempt == r.attempt {
			out.JobIDs = append(out.JobIDs, j.id)
		}
	}
	return out
}

// Rerun starts a new attempt of the run now: run_attempt+1 and new jobs (higher ids,
// same check suite). Without jobs every job of the previous attempt runs again with
// the same spec; with jobs only those run again (like "re-run failed jobs") and the
// other jobs keep their last result. The old attempt's check runs remain.
func (s *Server) Rerun(runID int64, jobs ...JobSpec) *Run {
	w, now, unlock := s.lock()
	defer unlock()
	r := w.runByID(runID)
	if r == nil {
		panic(fmt.Sprintf("ghemu: Rerun: no run %d", runID))
	}
	if len(jobs) == 0 {
		jobs = r.lastSpecs
	}
	r.attempt++
	r.startedAt = now.Truncate(time.Second)
	r.gate = nil // the environment gate holds the first attempt only
	w.addJobs(r, now, jobs)
	return r.export()
}

// AddCheckRun adds a check run of a non-Actions app ("external-ci"; one check suite
// per commit) whose state follows spec over time. It returns the check run id.
func (s *Server) AddCheckRun(sha, name string, spec JobSpec) int64 {
	mustSHA(sha)
	w, now, unlock := s.lock()
	defer unlock()
	w.addCommit(sha, now)
	su := w.appSuite(sha, externalApp, false, now)
	spec.Name = name
	return w.newTimedCheckRun(su, sha, spec, now).id
}

// appSuite returns the suite of app on sha that has no workflow run, creating it.
func (w *world) appSuite(sha string, app appInfo, apiCreated bool, now time.Time) *suiteState {
	for _, su := range w.suites {
		if su.headSHA == sha && su.run == nil && su.app == app && su.apiCreated == apiCreated {
			return su
		}
	}
	su := &suiteState{id: w.newID(idSuite), headSHA: sha, app: app, createdAt: now.Truncate(time.Second), apiCreated: apiCreated}
	if bs := w.branchesWhereHead(sha); len(bs) > 0 {
		su.headBranch = bs[0]
	}
	w.suites = append(w.suites, su)
	return su
}

// AddStatus adds a commit status (state pending, success, failure or error) now and
// returns its id.
func (s *Server) AddStatus(sha, context, state, targetURL, description string) int64 {
	mustSHA(sha)
	switch state {
	case "pending", "success", "failure", "error":
	default:
		panic(fmt.Sprintf("ghemu: AddStatus: bad state %q", state))
	}
	w, now, unlock := s.lock()
	defer unlock()
	w.addCommit(sha, now)
	st := &statusState{id: w.newID(idStatus), sha: sha, context: context, state: state,
		target: targetURL, descr: description, createdAt: now.Truncate(time.Second)}
	w.statuses = append(w.statuses, st)
	return st.id
}

// AddArtifact attaches an artifact to a run; its files are served as a zip. It returns
// the artifact id.
func (s *Server) AddArtifact(runID int64, name string, files map[string][]byte) int64 {
	w, now, unlock := s.lock()
	defer unlock()
	r := w.runByID(runID)
	if r == nil {
		panic(fmt.Sprintf("ghemu: AddArtifact: no run %d", runID))
	}
	a := &artifactState{id: w.newID(idArtifact), run: r, name: name, zip: buildZip(files, now),
		createdAt: now.Truncate(time.Second)}
	w.artifacts = append(w.artifacts, a)
	return a.id
}

// Inject adds a fault; faults are tried in the order added.
func (s *Server) Inject(f Fault) {
	w, _, unlock := s.lock()
	defer unlock()
	left := f.Count
	if left <= 0 {
		left = -1
	}
	w.faults = append(w.faults, &faultState{Fault: f, left: left})
}

// ClearFaults removes every injected fault.
func (s *Server) ClearFaults() {
	w, _, unlock := s.lock()
	defer unlock()
	w.faults = nil
}

// Stats returns a copy of the request counters.
func (s *Server) Stats() Stats {
	w, _, unlock := s.lock()
	defer unlock()
	st := w.stats
	st.Routes = maps.Clone(w.stats.Routes)
	return st
}

// GraphQLQueries returns every GraphQL document received, in order.
func (s *Server) GraphQLQueries() []string {
	w, _, unlock := s.lock()
	defer unlock()
	return slices.Clone(w.queries)
}

// Dispatches returns the workflow dispatches received, in order.
func (s *Server) Dispatches() []Dispatch {
	w, _, unlock := s.lock()
	defer unlock()
	out := make([]Dispatch, len(w.dispatches))
	for i, d := range w.dispatches {
		d.Inputs = maps.Clone(d.Inputs)
		out[i] = d
	}
	return out
}

// Refs returns the current git refs and what each points at ("refs/heads/main" ->
// sha; an annotated tag's ref -> its tag object, which Tags dereferences).
func (s *Server) Refs() map[string]string {
	w, _, unlock := s.lock()
	defer unlock()
	return maps.Clone(w.refs)
}

// RateRemaining returns the remaining primary limit of the core (REST) and graphql resources.
func (s *Server) RateRemaining() (core, graphql int) {
	w, now, unlock := s.lock()
	defer unlock()
	w.core.refresh(now)
	w.graphql.refresh(now)
	return w.core.remaining(), w.graphql.remaining()
}

// applyFault answers r with the first matching fault, if any (true: answered).
func (s *Server) applyFault(hw http.ResponseWriter, r *http.Request, rel, reqID string) bool {
	s.mu.Lock()
	var f *Fault
	for _, fs := range s.w.faults {
		if fs.left == 0 || (fs.Method != "" && !strings.EqualFold(fs.Method, r.Method)) ||
			!strings.HasPrefix(rel, fs.PathPrefix) {
			continue
		}
		if fs.left > 0 {
			fs.left--
		}
		cp := fs.Fault
		f = &cp
		break
	}
	if f != nil && (f.Status != 0 || f.SecondaryLimit) {
		s.w.stats.Faults++
	}
	s.mu.Unlock()
	if f == nil {
		return false
	}
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		select {
		case <-r.Context().Done():
		case <-t.C:
		}
		t.Stop()
	}
	var rep reply
	switch {
	case f.SecondaryLimit:
		rep = jsonReply(http.StatusForbidden, apiError{
			Message:          "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID " + reqID + ".",
			DocumentationURL: "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"})
		ra := f.RetryAfter
		if ra <= 0 {
			ra = time.Minute
		}
		rep.header = http.Header{"Retry-After": {fmt.Sprint(int(ra.Round(time.Second).Seconds()))}}
	case f.Status != 0:
		msg := http.StatusText(f.Status)
		if f.Message != nil {
			msg = f.Message(r)
		}
		rep = errReply(f.Status, msg)
		if f.RetryAfter > 0 {
			rep.header = http.Header{"Retry-After": {fmt.Sprint(int(f.RetryAfter.Round(time.Second).Seconds()))}}
		}
	default:
		return false
	}
	b := &s.w.core
	if rel == "graphql" {
		b = &s.w.graphql
	} else if strings.HasPrefix(rel, "/_blobs/") {
		b = nil
	}
	s.finish(hw, r, rep, b)
	return true
}
