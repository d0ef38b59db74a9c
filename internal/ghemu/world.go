package ghemu

import (
	"sort"
	"strings"
	"time"
)

// world is the whole emulated repository. Every field is guarded by Server.mu. Things
// that change over time (job states, step windows, logs) are not stored: they are
// computed from the creation time and the JobSpec at the moment a request is answered,
// so a clock.Virtual moving forward is all a scenario needs.
//
// Refs may point at a commit or at an annotated tag object (tagObjects); code that
// needs a commit peels through refCommit or resolve.
type world struct {
	owner, repo string

	commits     map[string]*commit // full sha -> commit
	commitOrder []string
	refs        map[string]string // "refs/heads/main" -> sha

	workflows []*workflowState
	runs      []*runState // ascending id
	suites    []*suiteState
	checkRuns []*checkRun // ascending id; jobs and non-job check runs alike
	statuses  []*statusState
	artifacts []*artifactState

	dispatchFns map[string]func(Dispatch) []JobSpec
	dispatches  []Dispatch

	tagObjects    map[string]*tagObject        // tag object sha -> annotated tag
	files         map[string]map[string][]byte // commit sha -> path -> content
	releases      []*releaseState              // ascending id
	latestRelease *releaseState                // what make_latest last elected
	deployments   []*deploymentState           // ascending id
	environments  map[string]*environmentState // protected environments by name
	deployFns     []deploymentHandler          // OnDeployment, in registration order
	deployFails   map[string]int               // environment -> deploy runs left to fail
	issues        []*issueState                // ascending number
	labels        map[string]*labelState       // by lower-case name

	faults  []*faultState
	stats   Stats
	queries []string

	core, graphql bucket

	nextID    map[idKind]int64
	requestNo int64
}

type idKind int

const (
	idWorkflow idKind = iota
	idRun
	idSuite
	idCheckRun
	idStatus
	idArtifact
	idRelease
	idDeployment
	idDeploymentStatus
	idEnvironment
	idIssue
	idLabel
)

// Distinct ranges make it obvious when a caller mixes up a run id, a suite id and a
// job id; all stay below 2^31 because GraphQL declares databaseId as Int.
var idBase = map[idKind]int64{
	idWorkflow: 161_000,
	idRun:      1_200_000_000,
	idSuite:    1_700_000_000,
	idCheckRun: 400_000_000,
	idStatus:   900_000_000,
	idArtifact: 2_000_000_000,
	idRelease:  180_000_000,
	// Deployment ids sit between run ids and suite ids, their statuses above suites.
	idDeployment:       1_400_000_000,
	idDeploymentStatus: 1_900_000_000,
	idEnvironment:      600_000_000,
	idIssue:            2_100_000_000,
	idLabel:            700_000_000,
}

func newWorld(owner, repo string) *world {
	return &world{
		owner:        owner,
		repo:         repo,
		commits:      map[string]*commit{},
		refs:         map[string]string{},
		dispatchFns:  map[string]func(Dispatch) []JobSpec{},
		tagObjects:   map[string]*tagObject{},
		files:        map[string]map[string][]byte{},
		environments: map[string]*environmentState{},
		deployFails:  map[string]int{},
		labels:       map[string]*labelState{},
		nextID:       map[idKind]int64{},
		stats:        Stats{Routes: map[string]int{}},
	}
}

func (w *world) newID(k idKind) int64 {
	w.nextID[k]++
	return idBase[k] + w.nextID[k]
}

type commit struct {
	sha     string
	message string
	date    time.Time
}

type workflowState struct {
	id         int64
	name, path string
	createdAt  time.Time
	noDispatch bool
	inputs     []WorkflowInput
	declared   bool // inputs were declared: unknown inputs are refused
	runCount   int
}

func (wf *workflowState) file() string { return wf.path[strings.LastIndex(wf.path, "/")+1:] }

type runState struct {
	id         int64
	wf         *workflowState
	headSHA    string
	headBranch string
	event      string
	number     int
	attempt    int
	createdAt  time.Time // first attempt; the run is invisible before this instant
	startedAt  time.Time // start of the latest attempt (run_started_at)
	suite      *suiteState
	jobs       []*checkRun // every attempt, ascending id
	lastSpecs  []JobSpec   // specs of the latest attempt, for a Rerun without specs
	gate       *envGate    // the environment approval the first attempt waits on
}

// latestJobs returns the newest job per name (the latest attempt of each), by id.
func (r *runState) latestJobs() []*checkRun { return latestPerName(r.jobs) }

type appInfo struct {
	id         int64
	slug, name string
}

var (
	actionsApp  = appInfo{id: 15368, slug: "github-actions", name: "GitHub Actions"}
	externalApp = appInfo{id: 90210, slug: "external-ci", name: "External CI"}
)

// suiteState is a check suite: one per workflow run, one per (app, sha) otherwise.
type suiteState struct {
	id         int64
	headSHA    string
	headBranch string
	app        appInfo
	run        *runState // nil for suites of other apps and of API-created check runs
	createdAt  time.Time
	runs       []*checkRun
	apiCreated bool
}

// checkRun is a check run; when job is set it is also an Actions job with the same id.
type checkRun struct {
	id        int64
	name      string
	headSHA   string
	suite     *suiteState
	run       *runState // nil when not a job
	attempt   int
	createdAt time.Time

	spec  JobSpec // time-driven check runs (jobs and AddCheckRun)
	steps []stepPlan

	manual *manualCheck // check runs created through the REST API
	gate   *envGate     // the environment approval the job waits for (nil: none)
}

type manualCheck struct {
	status, conclusion     string
	startedAt, completedAt time.Time
	updatedAt              time.Time
	detailsURL, externalID string
	title, summary, text   *string
}

type stepPlan struct {
	name, header, log string
	conclusion        string
	from, to          time.Duration // offsets from the job start
}

type statusState struct {
	id                                 int64
	sha, context, state, target, descr string
	createdAt                          time.Time
}

type artifactState struct {
	id        int64
	run       *runState
	name      string
	zip       []byte
	createdAt time.Time
}

// crView is a check run as seen at one instant.
type crView struct {
	status, conclusion     string
	startedAt, completedAt time.Time
	updatedAt              time.Time
	steps                  []stepView
}

type stepView struct {
	name, status, conclusion string
	number                   int
	startedAt, completedAt   time.Time
	plan                     *stepPlan
}

// view derives the state of c at now.
func (c *checkRun) view(now time.Time) crView {
	if m := c.manual; m != nil {
		return crView{status: m.status, conclusion: m.conclusion, startedAt: m.startedAt,
			completedAt: m.completedAt, updatedAt: m.updatedAt}
	}
	if c.spec.Conclusion == "skipped" {
		return crView{status: "completed", conclusion: "skipped", startedAt: c.createdAt,
			completedAt: c.createdAt, updatedAt: c.createdAt}
	}
	// A job behind an environment gate waits, then queues from the moment it is released.
	queued := c.createdAt
	if c.gate != nil {
		rel := c.gate.releasedAt()
		if rel.IsZero() || now.Before(rel) {
			return crView{status: "waiting", updatedAt: c.createdAt}
		}
		if rel.After(queued) {
			queued = rel
		}
	}
	v := crView{status: "queued", updatedAt: queued}
	if c.spec.NeverStarts {
		return v
	}
	start := queued.Add(c.spec.QueueFor)
	end := start.Add(c.spec.RunFor)
	if now.Before(start) {
		return v
	}
	v.startedAt, v.updatedAt, v.status = start, start, "in_progress"
	if !now.Before(end) {
		v.status, v.conclusion, v.completedAt, v.updatedAt = "completed", c.conclusion(), end, end
	}
	for i := range c.steps {
		p := &c.steps[i]
		sv := stepView{name: p.name, number: i + 1, status: "queued", plan: p}
		s, e := start.Add(p.from), start.Add(p.to)
		switch {
		case p.conclusion == "skipped" && !now.Before(s):
			sv.status, sv.conclusion, sv.startedAt, sv.completedAt = "completed", "skipped", s, s
		case !now.Before(e):
			sv.status, sv.conclusion, sv.startedAt, sv.completedAt = "completed", p.conclusion, s, e
		case !now.Before(s):
			sv.status, sv.startedAt = "in_progress", s
		}
		v.steps = append(v.steps, sv)
	}
	return v
}

// conclusion is the job's final conclusion: the spec's, else failure when a step failed.
func (c *checkRun) conclusion() string {
	if c.spec.Conclusion != "" {
		return c.spec.Conclusion
	}
	for _, p := range c.steps {
		if p.conclusion != "success" && p.conclusion != "skipped" && p.conclusion != "neutral" {
			return "failure"
		}
	}
	return "success"
}

// planSteps lays out a job's steps in time. Like GitHub, a job with steps gets "Set up
// job" first and "Complete job" last. Steps that run share RunFor evenly at whole-second
// boundaries (GitHub reports step times to the second); skipped steps take no time.
// After a failed step the remaining steps default to skipped, and a job that concludes
// failure/cancelled/timed_out without a failing step gets its last step failed.
func planSteps(spec JobSpec) []stepPlan {
	if len(spec.Steps) == 0 || spec.Conclusion == "skipped" {
		return nil
	}
	plans := []stepPlan{{name: "Set up job", conclusion: "success"}}
	failed := false
	for _, st := range spec.Steps {
		c := st.Conclusion
		if c == "" {
			c = "success"
			if failed {
				c = "skipped"
			}
		}
		if isBad(c) {
			failed = true
		}
		h := st.Run
		if h == "" {
			h = st.Name
		}
		plans = append(plans, stepPlan{name: st.Name, header: h, log: st.Log, conclusion: c})
	}
	if jc := spec.Conclusion; isBad(jc) && !failed {
		last := len(plans) - 1
		plans[last].conclusion = jc
		if jc == "timed_out" {
			plans[last].conclusion = "cancelled"
		}
	}
	plans = append(plans, stepPlan{name: "Complete job", conclusion: "success"})
	running := 0
	for _, p := range plans {
		if p.conclusion != "skipped" {
			running++
		}
	}
	k := 0
	at := func(i int) time.Duration {
		if i >= running {
			return spec.RunFor
		}
		return (spec.RunFor * time.Duration(i) / time.Duration(running)).Truncate(time.Second)
	}
	for i := range plans {
		plans[i].from = at(k)
		if plans[i].conclusion != "skipped" {
			k++
		}
		plans[i].to = at(k)
	}
	return plans
}

func isBad(c string) bool {
	switch c {
	case "", "success", "neutral", "skipped":
		return false
	}
	return true
}

// latestPerName keeps the newest check run per name (input ascending by id), by id.
func latestPerName(crs []*checkRun) []*checkRun {
	idx := map[string]int{}
	var out []*checkRun
	for _, c := range crs {
		if i, ok := idx[c.name]; ok {
			out[i] = c
			continue
		}
		idx[c.name] = len(out)
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// aggregate derives a status and conclusion for a set of check runs (a suite or a run).
// Conclusion precedence follows what GitHub shows for suites: any failure-like
// conclusion wins over cancellation, success wins over neutral, all-skipped is skipped.
func aggregate(views []crView) (status, conclusion string, updated time.Time) {
	if len(views) == 0 {
		return "queued", "", time.Time{}
	}
	done, started, waiting := 0, 0, 0
	has := map[string]bool{}
	for _, v := range views {
		if v.updatedAt.After(updated) {
			updated = v.updatedAt
		}
		if v.status == "completed" {
			done++
			has[v.conclusion] = true
		}
		if v.status == "waiting" {
			waiting++
		}
		if v.status != "queued" && v.status != "waiting" && v.status != "pending" && v.status != "requested" {
			started++
		}
	}
	switch {
	case done == len(views):
		status = "completed"
	case started > 0:
		status = "in_progress"
	case waiting > 0:
		return "waiting", "", updated
	default:
		return "queued", "", updated
	}
	if status != "completed" {
		return status, "", updated
	}
	for _, c := range []string{"action_required", "failure", "startup_failure", "timed_out", "cancelled", "stale"} {
		if has[c] {
			return status, c, updated
		}
	}
	for c := range has {
		if isBad(c) { // an unknown conclusion is not a pass
			return status, c, updated
		}
	}
	switch {
	case has["success"]:
		return status, "success", updated
	case has["neutral"]:
		return status, "neutral", updated
	}
	return status, "skipped", updated
}

// visibleRun tells whether a run exists yet (dispatch latency can create it in the future).
func visibleRun(r *runState, now time.Time) bool { return r == nil || !r.createdAt.After(now) }

func (c *checkRun) visible(now time.Time) bool {
	return !c.createdAt.After(now) && visibleRun(c.run, now)
}

// view is the workflow run as seen at now.
func (r *runState) view(now time.Time) (status, conclusion string, updated time.Time) {
	return r.viewWith(func(c *checkRun) crView { return c.view(now) })
}

// viewWith aggregates the latest attempt of each job, viewed through vf.
func (r *runState) viewWith(vf func(*checkRun) crView) (status, conclusion string, updated time.Time) {
	var vs []crView
	for _, j := range r.latestJobs() {
		vs = append(vs, vf(j))
	}
	status, conclusion, updated = aggregate(vs)
	if updated.Before(r.startedAt) {
		updated = r.startedAt
	}
	return status, conclusion, updated
}

// view is the check suite as seen at now.
func (su *suiteState) view(now time.Time) (status, conclusion string, updated time.Time) {
	return su.viewWith(now, func(c *checkRun) crView { return c.view(now) })
}

func (su *suiteState) viewWith(now time.Time, vf func(*checkRun) crView) (status, conclusion string, updated time.Time) {
	var vs []crView
	for _, c := range latestPerName(su.visibleRuns(now)) {
		vs = append(vs, vf(c))
	}
	status, conclusion, updated = aggregate(vs)
	if updated.Before(su.createdAt) {
		updated = su.createdAt
	}
	return status, conclusion, updated
}

func (su *suiteState) visibleRuns(now time.Time) []*checkRun {
	var out []*checkRun
	for _, c := range su.runs {
		if c.visible(now) {
			out = append(out, c)
		}
	}
	return out
}

// commitCheckRuns lists the visible check runs on sha, ascending by id.
func (w *world) commitCheckRuns(sha string, now time.Time) []*checkRun {
	var out []*checkRun
	for _, c := range w.checkRuns {
		if c.headSHA == sha && c.visible(now) {
			out = append(out, c)
		}
	}
	return out
}

// latestCheckRuns de-duplicates by name within each check suite, as GitHub's
// filter=latest and the status check rollup do.
func (w *world) latestCheckRuns(sha string, now time.Time) []*checkRun {
	bySuite := map[*suiteState][]*checkRun{}
	var order []*suiteState
	for _, c := range w.commitCheckRuns(sha, now) {
		if _, ok := bySuite[c.suite]; !ok {
			order = append(order, c.suite)
		}
		bySuite[c.suite] = append(bySuite[c.suite], c)
	}
	var out []*checkRun
	for _, su := range order {
		out = append(out, latestPerName(bySuite[su])...)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// latestStatuses returns the newest status per context on sha, in order of each
// context's first appearance.
func (w *world) latestStatuses(sha string, now time.Time) []*statusState {
	idx := map[string]int{}
	var out []*statusState
	for _, st := range w.statuses {
		if st.sha != sha || st.createdAt.After(now) {
			continue
		}
		if i, ok := idx[st.context]; ok {
			out[i] = st
			continue
		}
		idx[st.context] = len(out)
		out = append(out, st)
	}
	return out
}

func (w *world) commitSuites(sha string, now time.Time) []*suiteState {
	var out []*suiteState
	for _, su := range w.suites {
		if su.headSHA == sha && !su.createdAt.After(now) && visibleRun(su.run, now) {
			out = append(out, su)
		}
	}
	return out
}

// resolve turns a ref (full sha, unique 7+ hex prefix, branch, tag, or refs/...) into a sha.
func (w *world) resolve(ref string) (string, bool) {
	if _, ok := w.commits[ref]; ok {
		return ref, true
	}
	for _, full := range []string{ref, "refs/heads/" + ref, "refs/tags/" + ref} {
		if strings.HasPrefix(full, "refs/") {
			if sha, ok := w.refCommit(full); ok {
				return sha, true
			}
		}
	}
	if len(ref) >= 7 && len(ref) < 40 && isHex(ref) {
		found := ""
		for _, sha := range w.commitOrder {
			if strings.HasPrefix(sha, strings.ToLower(ref)) {
				if found != "" {
					return "", false
				}
				found = sha
			}
		}
		return found, found != ""
	}
	return "", false
}

// branchesWhereHead lists the branches whose head is sha, sorted.
func (w *world) branchesWhereHead(sha string) []string {
	var out []string
	for ref := range w.refs {
		if s, _ := w.refCommit(ref); s == sha && strings.HasPrefix(ref, "refs/heads/") {
			out = append(out, strings.TrimPrefix(ref, "refs/heads/"))
		}
	}
	sort.Strings(out)
	return out
}

// refCommit is the commit a full ref names, peeled through annotated tag objects.
func (w *world) refCommit(full string) (string, bool) {
	sha, ok := w.refs[full]
	if !ok {
		return "", false
	}
	return w.peel(sha)
}

// peel follows tag objects down to the commit they name.
func (w *world) peel(sha string) (string, bool) {
	for range 8 { // a tag of a tag of ... ; git has no cycles, the bound is for safety
		if _, ok := w.commits[sha]; ok {
			return sha, true
		}
		t, ok := w.tagObjects[sha]
		if !ok {
			return "", false
		}
		sha = t.object
	}
	return "", false
}

// workflowByName finds a workflow by its file path (".github/workflows/ci.yml") or, when
// no file has that path, by its name (the first workflow with that name: several files may
// declare the same name, so scenarios with such twins name them by path).
func (w *world) workflowByName(name string) *workflowState {
	for _, wf := range w.workflows {
		if wf.path == name {
			return wf
		}
	}
	for _, wf := range w.workflows {
		if wf.name == name {
			return wf
		}
	}
	return nil
}

// workflowByKey finds a workflow by numeric id or file name, as the REST API does.
func (w *world) workflowByKey(key string) *workflowState {
	for _, wf := range w.workflows {
		if formatID(wf.id) == key || wf.file() == key {
			return wf
		}
	}
	return nil
}

func (w *world) runByID(id int64) *runState {
	for _, r := range w.runs {
		if r.id == id {
			return r
		}
	}
	return nil
}

func (w *world) checkRunByID(id int64) *checkRun {
	i := sort.Search(len(w.checkRuns), func(i int) bool { return w.checkRuns[i].id >= id })
	if i < len(w.checkRuns) && w.checkRuns[i].id == id {
		return w.checkRuns[i]
	}
	return nil
}

func isHex(s string) bool {
	for _, r := range s {
		if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
			return false
		}
	}
	return s != ""
}

// bucket is one primary rate-limit resource (core or graphql), reset hourly.
type bucket struct {
	limit, used int
	reset       time.Time
}

func (b *bucket) refresh(now time.Time) {
	if b.reset.IsZero() || !now.Before(b.reset) {
		b.used = 0
		b.reset = now.Truncate(time.Second).Add(time.Hour)
	}
}

func (b *bucket) remaining() int { return max(b.limit-b.used, 0) }
