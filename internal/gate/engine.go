package gate

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"time"

	vocab "github.com/agentme/release-action/internal/outcome"

	"github.com/agentme/release-action/internal/clock"
	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/github"
)

// maxSilent bounds the time between two progress lines (and so the polling interval):
// the brief promises a line at least once a minute; the margin absorbs API latency.
const maxSilent = 55 * time.Second

// waitKind is what a pending gate was waiting on during a poll interval.
type waitKind int

const (
	waitAbsent  waitKind = iota // no evidence yet
	waitQueued                  // evidence queued, waiting or pending
	waitRunning                 // evidence in progress, or a run still completing
)

// outcome is one evaluation of one gate.
type outcome struct {
	verdict vocab.Verdict
	// reason: for a pending gate it reads after "waiting for" is prepended, so that a
	// timeout can say "timed out after 45m0s waiting for ...".
	reason string
	// state is the stable text progress lines are made of: it changes only when the
	// evidence changes state, never with the time that passes.
	state       string
	link        string
	evidence    []Evidence
	hasEvidence bool
	// absent names what the gate looks for, when it has no evidence.
	absent string
	// waitFor is reason without the appearance deadline, for sentences that name
	// another deadline (one deadline per sentence).
	waitFor string
	wait    waitKind
	tests   *TestsDetail
	ignored []Ignored
}

type gateState struct {
	cfg   config.Gate
	kind  config.Kind
	check matcher // check gates
	job   matcher // tests gates
	// wf is the workflow file the gate reads (nil for a check gate without workflow).
	wf *wfRef
	// started is when the appearance grace began: the start of the gate, or the dispatch.
	started  time.Time
	everSeen bool
	// sticky is a final failure (appearance grace, a run that ran another commit).
	sticky    *outcome
	cur       outcome
	final     outcome
	lastState string
	decidedAt time.Time
	lastPoll  time.Time
	waited    [3]time.Duration // by waitKind
	disp      *dispatchState
}

type observation struct {
	firstSeen, firstRunning time.Time
}

type tempRef struct {
	ref     string // refs/heads/...
	gates   []*gateState
	deleted bool
}

type runner struct {
	gh       GitHub
	o        Options
	clk      clock.Clock
	sha      string
	timeout  time.Duration
	poller   *poller
	appear   time.Duration
	minI     time.Duration
	maxI     time.Duration
	failFast bool
	ignore   []matcher
	gates    []*gateState
	prefix   string
	runKey   string

	start, deadline time.Time
	lastLine        time.Time
	polls           int
	fingerprint     uint64
	acted           bool

	selfIDs      map[int64]bool
	selfFallback bool

	seen map[string]*observation

	jobsByRun   map[int64][]github.Job
	jobsFetched map[int64]int // run id -> poll of the last ListJobs
	logs        map[int64][]byte
	logTried    map[int64]int
	jobEv       map[string]*jobEvidence
	junitEv     map[string]*junitEvidence
	// runReads is what GetWorkflowRun last said of a run, and when.
	runReads map[int64]runRead

	dispatchRef *tempRef
	branchRef   string
	tempRefs    []*tempRef
	warnings    []string

	done     bool
	timedOut bool
	verdict  vocab.Verdict
	reason   string
	finished time.Time
}

func newRunner(gh GitHub, o Options) (*runner, error) {
	if gh == nil {
		return nil, vocab.BadInputf("invalid gate options: no GitHub client")
	}
	sha := strings.ToLower(strings.TrimSpace(o.SHA))
	if !isFullSHA(sha) {
		return nil, vocab.BadInputf("invalid gate options: the candidate commit %q is not a full 40-hex SHA", clean(o.SHA))
	}
	if len(o.Gates) == 0 {
		return nil, vocab.BadInputf("invalid gate options: no gates configured; a gate with nothing to check never passes")
	}
	r := &runner{
		gh: gh, o: o, clk: o.Clock, sha: sha,
		timeout: o.Policy.Timeout.D(), appear: o.Policy.AppearTimeout.D(),
		minI: o.MinInterval, maxI: o.MaxInterval,
		failFast: o.Policy.ShouldFailFast(),
		prefix:   o.TempRefPrefix, runKey: o.RunKey,
		selfIDs: map[int64]bool{}, seen: map[string]*observation{},
		jobsByRun: map[int64][]github.Job{}, jobsFetched: map[int64]int{},
		logs: map[int64][]byte{}, logTried: map[int64]int{},
		jobEv: map[string]*jobEvidence{}, junitEv: map[string]*junitEvidence{},
		runReads: map[int64]runRead{},
	}
	r.poller = newPoller(gh, sha)
	if r.clk == nil {
		r.clk = clock.Real{}
	}
	switch {
	case r.timeout < 0 || r.appear < 0 || r.minI < 0 || r.maxI < 0:
		return nil, vocab.BadInputf("invalid gate options: negative timeout or interval")
	}
	if r.timeout == 0 {
		r.timeout = DefaultTimeout
	}
	if r.appear == 0 {
		r.appear = DefaultAppearTimeout
	}
	if r.minI == 0 {
		r.minI = DefaultMinInterval
	}
	if r.maxI == 0 {
		r.maxI = DefaultMaxInterval
	}
	r.minI = min(r.minI, maxSilent)
	r.maxI = min(max(r.maxI, r.minI), maxSilent)
	if !slices.Contains([]string{"", "fail", "pass"}, o.Policy.Skipped) {
		return nil, vocab.BadInputf("invalid gate options: policy.skipped is %q; use fail or pass", clean(o.Policy.Skipped))
	}
	if !slices.Contains([]string{"", "fail", "pass"}, o.Policy.Neutral) {
		return nil, vocab.BadInputf("invalid gate options: policy.neutral is %q; use pass or fail", clean(o.Policy.Neutral))
	}
	for _, p := range o.Policy.Ignore {
		m, err := newMatcher(p)
		if err != nil {
			return nil, fmt.Errorf("policy.ignore: %w", err)
		}
		r.ignore = append(r.ignore, m)
	}
	if r.prefix == "" {
		r.prefix = DefaultTempRefPrefix
	}
	if r.runKey == "" {
		var b [4]byte
		_, _ = rand.Read(b[:])
		r.runKey = hex.EncodeToString(b[:])
	}
	if name := r.prefix + sha[:12] + "-" + r.runKey; !validBranchName(name) {
		return nil, vocab.BadInputf("invalid gate options: temporary branch name %q is not a valid branch name (check TempRefPrefix and RunKey)", clean(name))
	}
	for i, gc := range o.Gates {
		g, err := newGateState(gc)
		if err != nil {
			return nil, fmt.Errorf("gate %d (%s): %w", i+1, clean(gc.Name), err)
		}
		r.gates = append(r.gates, g)
	}
	return r, nil
}

func newGateState(gc config.Gate) (*gateState, error) {
	g := &gateState{cfg: gc, kind: gc.Kind()}
	if gc.Name == "" {
		return nil, vocab.BadInputf("invalid gate options: the gate has no name")
	}
	if gc.Dispatch && g.kind != config.KindWorkflow {
		return nil, vocab.BadInputf("invalid gate options: dispatch only applies to a workflow gate")
	}
	switch g.kind {
	case config.KindCheck:
		m, err := newMatcher(gc.Check)
		if err != nil {
			return nil, err
		}
		g.check = m
	case config.KindWorkflow:
		if gc.Workflow == "" {
			return nil, vocab.BadInputf("invalid gate options: the gate names no check, workflow or tests")
		}
		if gc.Dispatch {
			g.disp = &dispatchState{}
		}
	case config.KindTests:
		t := gc.Tests
		if t.Workflow == "" || t.Job == "" || len(t.Files) == 0 {
			return nil, vocab.BadInputf("invalid gate options: a tests gate needs workflow, job and files")
		}
		for _, f := range t.Files {
			if normPath(f) == "" {
				return nil, vocab.BadInputf("invalid gate options: an empty test file name")
			}
		}
		if !slices.Contains([]string{"", ReporterAuto, ReporterVitest, ReporterJest}, t.Reporter) {
			return nil, vocab.BadInputf("invalid gate options: reporter %q; use auto, vitest or jest", clean(t.Reporter))
		}
		m, err := newMatcher(t.Job)
		if err != nil {
			return nil, err
		}
		g.job = m
	default:
		return nil, vocab.BadInputf("invalid gate options: unknown gate kind %q", g.kind)
	}
	return g, nil
}

func isFullSHA(s string) bool {
	if len(s) != 40 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// validBranchName applies git's ref-name rules that a generated name could break.
func validBranchName(n string) bool {
	if n == "" || strings.HasPrefix(n, "/") || strings.HasSuffix(n, "/") || strings.HasSuffix(n, ".") ||
		strings.HasSuffix(n, ".lock") || strings.Contains(n, "..") || strings.Contains(n, "//") ||
		strings.Contains(n, "@{") || strings.HasPrefix(n, "-") {
		return false
	}
	for _, c := range n {
		if c <= ' ' || c == 0x7f || strings.ContainsRune("~^:?*[\\", c) {
			return false
		}
	}
	for part := range strings.SplitSeq(n, "/") {
		if strings.HasPrefix(part, ".") {
			return false
		}
	}
	return true
}

func (r *runner) say(msg string) {
	r.lastLine = r.clk.Now()
	if r.o.Progress != nil {
		r.o.Progress(oneLine(msg, 2000))
	}
}

func (r *runner) loop(ctx context.Context) error {
	r.start = r.clk.Now()
	r.deadline = r.start.Add(r.timeout)
	for _, g := range r.gates {
		g.started = r.start
		g.cur = outcome{verdict: Pending}
	}
	r.say(fmt.Sprintf("gate: %s on %s (timeout %s, appearance grace %s, fail-fast %t)",
		plural(len(r.gates), "gate"), r.sha, fmtDur(r.timeout), fmtDur(r.appear), r.failFast))
	if err := r.findSelf(ctx); err != nil {
		return err
	}
	if err := r.resolveWorkflows(ctx); err != nil {
		return err
	}
	for {
		before := r.gh.Cost()
		changed, err := r.poll(ctx)
		if err != nil {
			return err
		}
		if r.done {
			return nil
		}
		now := r.clk.Now()
		if !now.Before(r.deadline) {
			r.timeoutAll(now)
			return nil
		}
		d := min(r.interval(before, r.gh.Cost(), changed || r.acted), r.deadline.Sub(now))
		if at, ok := r.nextAppearDeadline(); ok && at.After(now) {
			d = min(d, at.Sub(now))
		}

		if now.Add(d).Sub(r.lastLine) >= maxSilent {
			r.stillWaiting(now)
		}
		if err := r.clk.Sleep(ctx, d); err != nil {
			return fmt.Errorf("gate on %s stopped while waiting: %w", short(r.sha), err)
		}
	}
}

// interval paces the polls by what they cost, not by whether anything changed: a poll
// that GitHub answered with 304s only is free, so the commit is read again after
// MinInterval, and a change is seen within one interval whatever the commit's size. Paid
// work (billed REST requests and GraphQL points, from the client's Cost) stretches the
// wait: by paidPace per unit after a poll that saw a change (a big commit that keeps
// changing still decides within seconds of its last change), and by idlePace per unit
// after one that saw none (a server without ETags, a run re-read while its suite
// completes), so a minute of waiting on an unchanged commit costs at most 60s/idlePace.
// Never more than MaxInterval after a change, nor more than 55s (a progress line a minute).
func (r *runner) interval(before, after github.Cost, changed bool) time.Duration {
	paid := (after.Billed() - before.Billed()) + (after.GraphQLPoints - before.GraphQLPoints)
	if changed {
		return min(max(r.minI, time.Duration(paid)*paidPace), r.maxI)
	}
	return min(max(r.minI, time.Duration(paid)*idlePace), max(r.maxI, maxSilent))
}

// The price of a paid request or point in waiting time (see interval).
const (
	paidPace = time.Second
	idlePace = 15 * time.Second
)

// findSelf finds the gate's own job once: the in-progress job of Self.RunID running on
// Self.RunnerName. When that finds nothing, not-completed check runs of Self.RunID named
// Self.JobKey are taken for it at every poll.
func (r *runner) findSelf(ctx context.Context) error {
	for _, id := range r.o.Self.CheckRunIDs {
		r.selfIDs[id] = true
	}
	s := r.o.Self
	if s.RunID == 0 {
		return nil
	}
	found := false
	if s.RunnerName != "" {
		jobs, err := r.gh.ListJobs(ctx, s.RunID)
		if err != nil {
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				return fmt.Errorf("list the jobs of the gate's own run %d: %w", s.RunID, err)
			}
			// Finding its own job only sharpens what is ignored: the token may not see its
			// own run (a token of another repository) or the server may not know it. Fall
			// back to the job key instead of failing the gate; a real outage shows in the
			// next snapshot anyway.
			r.say(fmt.Sprintf("gate: could not list the jobs of its own run %d (%s); ignoring not-completed check runs of that run named %s", s.RunID, clean(err.Error()), quote(s.JobKey)))
			jobs = nil
		}
		for _, j := range jobs {
			if j.Status == "in_progress" && j.RunnerName == s.RunnerName {
				r.selfIDs[j.ID] = true
				found = true
				r.say(fmt.Sprintf("gate: ignoring its own job %s (check run %d)", quote(j.Name), j.ID))
			}
		}
	}
	r.selfFallback = !found && s.JobKey != ""
	return nil
}

func (r *runner) poll(ctx context.Context) (bool, error) {
	contexts, err := r.poller.poll(ctx, r.clk.Now())
	if err != nil {
		return false, err
	}
	now := r.clk.Now()
	r.polls++
	r.acted = false
	changed := r.observe(contexts, now)
	v := r.makeView(contexts)
	for _, g := range r.gates {
		g.account(now)
	}
	for _, g := range r.gates {
		if err := r.evaluate(ctx, g, v, now); err != nil {
			return false, err
		}
	}
	for _, g := range r.gates {
		if g.disp == nil || (r.failFast && r.anyFail()) {
			continue
		}
		act, err := r.dispatchStep(ctx, g, v, now)
		if errors.Is(err, vocab.ErrBadInput) {
			return false, err // its message names the gate
		}
		if err != nil {
			return false, fmt.Errorf("gate %s: %w", quote(g.cfg.Name), err)
		}
		if act {
			if err := r.evaluate(ctx, g, v, now); err != nil {
				return false, err
			}
		}
	}
	for _, g := range r.gates {
		if g.cur.state != g.lastState {
			g.lastState = g.cur.state
			r.say(g.cfg.Name + ": " + g.cur.state)
		}
	}
	r.decide(now)
	return changed, nil
}

func ctxKey(c github.CheckContext) string {
	if c.Kind == github.KindStatus {
		return "s:" + c.Name
	}
	return "c:" + strconv.FormatInt(c.ID, 10)
}

// observe records when each context was first seen and first seen running, and tells
// whether the snapshot differs from the previous one.
func (r *runner) observe(cs []github.CheckContext, now time.Time) bool {
	keys := make([]string, 0, len(cs))
	for _, c := range cs {
		k := ctxKey(c)
		ob := r.seen[k]
		if ob == nil {
			ob = &observation{firstSeen: now}
			r.seen[k] = ob
		}
		if c.Status == "in_progress" && ob.firstRunning.IsZero() {
			ob.firstRunning = now
		}
		keys = append(keys, strings.Join([]string{k, string(c.Kind), c.Name, c.Status, c.Conclusion,
			c.Workflow, strconv.FormatInt(c.RunID, 10), c.SuiteStatus, c.SuiteConclusion,
			c.StartedAt.String(), c.CompletedAt.String()}, "\x00"))
	}
	slices.Sort(keys)
	h := fnv.New64a()
	for _, k := range keys {
		h.Write([]byte(k))
		h.Write([]byte{0xff})
	}
	sum := h.Sum64()
	changed := r.polls == 1 || sum != r.fingerprint
	r.fingerprint = sum
	return changed
}

// view is one snapshot with the gate's own job and ignored names removed.
type view struct {
	all []github.CheckContext
	// latest holds the check-run ids that are the newest attempt of their (workflow file, name).
	latest map[int64]bool
	// hidden are the check runs that are never evidence (the gate's own, ignored names):
	// they still supersede older attempts of their name.
	hidden    []github.CheckContext
	hiddenIDs map[int64]bool
}

func isStatus(c github.CheckContext) bool { return c.Kind == github.KindStatus }

// hides tells the contexts that are never evidence.
func (r *runner) hides(c github.CheckContext) bool {
	if !isStatus(c) {
		s := r.o.Self
		if r.selfIDs[c.ID] || slices.Contains(s.CheckRunNames, c.Name) {
			return true
		}
		if r.selfFallback && c.RunID == s.RunID && c.Status != "completed" && c.Name == s.JobKey {
			return true
		}
	}
	return slices.ContainsFunc(r.ignore, func(m matcher) bool { return m.match(c.Name) })
}

// makeView drops what is never evidence, after deciding the latest attempt per (workflow,
// name) among all check runs: an older attempt of the gate's own job must not become the
// latest because the newest is dropped.
func (r *runner) makeView(cs []github.CheckContext) *view {
	v := &view{latest: map[int64]bool{}, hiddenIDs: map[int64]bool{}}
	best := map[string]int64{}
	for _, c := range cs {
		hide := r.hides(c)
		if !isStatus(c) {
			// The workflow file, not its display name: two files may share a name.
			k := fmt.Sprintf("%d\x00%s\x00%s\x00%s", c.WorkflowID, c.WorkflowPath, c.Workflow, c.Name)
			best[k] = max(best[k], c.ID)
			if hide {
				v.hidden = append(v.hidden, c)
				v.hiddenIDs[c.ID] = true
			}
		}
		if !hide {
			v.all = append(v.all, c)
		}
	}
	for _, id := range best {
		if !v.hiddenIDs[id] {
			v.latest[id] = true
		}
	}
	return v
}

// hidesInRun tells whether run runID has check runs that are never evidence.
func (v *view) hidesInRun(runID int64) bool {
	return slices.ContainsFunc(v.hidden, func(c github.CheckContext) bool { return c.RunID == runID })
}

// latestInRun keeps the newest attempt per name among cs, check runs of run runID, and
// drops those a hidden check run of the same run supersedes.
func (v *view) latestInRun(cs []github.CheckContext, runID int64) []github.CheckContext {
	all := slices.Clone(cs)
	for _, h := range v.hidden {
		if h.RunID == runID {
			all = append(all, h)
		}
	}
	return slices.DeleteFunc(latestPerName(all), func(c github.CheckContext) bool { return v.hiddenIDs[c.ID] })
}

// account adds the time since the previous poll to what the gate was waiting on then.
func (g *gateState) account(now time.Time) {
	if !g.lastPoll.IsZero() && g.cur.verdict == Pending {
		g.waited[g.cur.wait] += now.Sub(g.lastPoll)
	}
	g.lastPoll = now
}

func (r *runner) evaluate(ctx context.Context, g *gateState, v *view, now time.Time) error {
	var o outcome
	if g.sticky != nil {
		o = *g.sticky
	} else {
		switch g.kind {
		case config.KindCheck:
			o = r.evalCheck(g, v, now)
		case config.KindWorkflow:
			var err error
			if o, err = r.evalWorkflow(ctx, g, v, now); err != nil {
				return fmt.Errorf("gate %s: %w", quote(g.cfg.Name), err)
			}
		case config.KindTests:
			var err error
			if o, err = r.evalTests(ctx, g, v, now); err != nil {
				return fmt.Errorf("gate %s: %w", quote(g.cfg.Name), err)
			}
		}
		if o.hasEvidence {
			g.everSeen = true
		}
		if o.verdict == Pending && !o.hasEvidence {
			o.wait = waitAbsent
			switch {
			case g.everSeen:
				o.reason = fmt.Sprintf("a %s to appear again (it was seen before)", o.absent)
				o.state = fmt.Sprintf("the %s is gone; waiting for it to appear again", o.absent)
			case now.Sub(g.started) >= r.appear:
				o.verdict = Fail
				o.reason = fmt.Sprintf("no %s appeared within %s (appearance grace): fail closed", o.absent, fmtDur(r.appear))
				o.state = "fail: " + o.reason
				s := o
				g.sticky = &s
			default:
				o.reason = fmt.Sprintf("a %s to appear (fails closed if none appears within %s)", o.absent, fmtDur(r.appear))
				o.waitFor = fmt.Sprintf("a %s to appear", o.absent)
				if o.state == "" {
					o.state = fmt.Sprintf("waiting for a %s to appear", o.absent)
				}
			}
		}
	}
	switch {
	case o.state == "" && o.verdict != Pending:
		o.state = string(o.verdict) + ": " + o.reason
	case o.state == "":
		o.state = "waiting for " + o.reason
	}
	if o.verdict != g.cur.verdict || (o.verdict != Pending && g.decidedAt.IsZero()) {
		if o.verdict == Pending {
			g.decidedAt = time.Time{}
		} else {
			g.decidedAt = now
		}
	}
	if o.evidence == nil {
		o.evidence = []Evidence{}
	}
	o.ignored = ignoredFor(g, v)
	g.cur = o
	return nil
}

func (r *runner) anyFail() bool {
	return slices.ContainsFunc(r.gates, func(g *gateState) bool { return g.cur.verdict == Fail })
}

func (r *runner) nextAppearDeadline() (time.Time, bool) {
	var at time.Time
	for _, g := range r.gates {
		if g.sticky != nil || g.everSeen || g.cur.verdict != Pending || g.cur.hasEvidence {
			continue
		}
		if t := g.started.Add(r.appear); at.IsZero() || t.Before(at) {
			at = t
		}
	}
	return at, !at.IsZero()
}

func (r *runner) stillWaiting(now time.Time) {
	var parts []string
	for _, g := range r.gates {
		if g.cur.verdict == Pending {
			parts = append(parts, g.cfg.Name+": waiting for "+g.cur.reason)
		}
	}
	r.say(fmt.Sprintf("still waiting (%s of %s): %s", fmtDur(now.Sub(r.start)), fmtDur(r.timeout), strings.Join(parts, "; ")))
}

// decide ends the gate when the verdict is known: every gate passed in this poll, a gate
// failed under fail-fast, or nothing is pending any more.
func (r *runner) decide(now time.Time) {
	var failed, pending []*gateState
	for _, g := range r.gates {
		switch g.cur.verdict {
		case Fail:
			failed = append(failed, g)
		case Pending:
			pending = append(pending, g)
		}
	}
	switch {
	case len(failed) > 0 && (r.failFast || len(pending) == 0):
	case len(failed) == 0 && len(pending) == 0:
	default:
		return
	}
	r.done = true
	r.finished = now
	for _, g := range r.gates {
		g.final = g.cur
		if g.cur.verdict == Pending {
			// Not "waiting": nothing waits any more, and a dispatch gate dispatches nothing.
			g.final.reason = "not evaluated: the gate stopped at the first failure"
		}
	}
	if len(failed) == 0 {
		r.verdict = Pass
		r.reason = fmt.Sprintf("all %s passed", plural(len(r.gates), "gate"))
		if len(r.gates) == 1 {
			r.reason = "the only gate passed"
		}
	} else {
		r.verdict = Fail
		r.reason = blockedBy(failed, len(r.gates))
	}
	r.say(fmt.Sprintf("gate: %s: %s", r.verdict, r.reason))
}

func (r *runner) timeoutAll(now time.Time) {
	r.done, r.timedOut = true, true
	r.finished = now
	var failed []*gateState
	for _, g := range r.gates {
		g.final = g.cur
		switch g.cur.verdict {
		case Pending:
			g.final.verdict = Fail
			g.final.reason = fmt.Sprintf("timed out after %s waiting for %s", fmtDur(r.timeout), cmp.Or(g.cur.waitFor, g.cur.reason))
			g.decidedAt = now
			failed = append(failed, g)
		case Fail:
			failed = append(failed, g)
		}
	}
	r.verdict = Fail
	r.reason = fmt.Sprintf("timed out after %s: %s", fmtDur(r.timeout), blockedBy(failed, len(r.gates)))
	r.say(fmt.Sprintf("gate: %s: %s", r.verdict, r.reason))
}

func blockedBy(failed []*gateState, total int) string {
	parts := make([]string, 0, len(failed))
	for _, g := range failed {
		reason := g.final.reason
		if reason == "" {
			reason = g.cur.reason
		}
		parts = append(parts, g.cfg.Name+" ("+reason+")")
	}
	return fmt.Sprintf("blocked by %d of %s: %s", len(failed), plural(total, "gate"), strings.Join(parts, "; "))
}

// cleanup deletes the temporary branches, with a context that survives cancellation.
// A failure is a warning in the result, or part of the error when the gate already
// failed with one.
func (r *runner) cleanup(ctx context.Context, erroring bool) error {
	cctx := context.WithoutCancel(ctx)
	var errs []error
	for _, t := range r.tempRefs {
		err := r.gh.DeleteRef(cctx, t.ref)
		if err != nil && !errors.Is(err, github.ErrNotFound) {
			msg := fmt.Sprintf("could not delete the temporary branch %s: %v; delete it by hand", t.ref, err)
			r.warnings = append(r.warnings, clean(msg))
			r.say("gate: " + msg)
			errs = append(errs, fmt.Errorf("delete temporary branch %s: %w", t.ref, err))
			continue
		}
		t.deleted = true
		for _, g := range t.gates {
			g.disp.refDeleted = true
		}
		r.say("gate: deleted the temporary branch " + t.ref)
	}
	if erroring {
		return errors.Join(errs...)
	}
	return nil
}

func (r *runner) result() *Result {
	res := &Result{
		Verdict: r.verdict, Reason: r.reason, SHA: r.sha,
		Started: r.start, Finished: r.finished, Duration: config.Duration(r.finished.Sub(r.start)),
		TimedOut: r.timedOut, FailFast: r.failFast, Polls: r.polls,
		Gates: make([]GateResult, 0, len(r.gates)), Warnings: r.warnings,
	}
	for _, g := range r.gates {
		end := r.finished
		if !g.decidedAt.IsZero() && g.final.verdict != Pending {
			end = g.decidedAt
		}
		gr := GateResult{
			Name: g.cfg.Name, Kind: string(g.kind), Verdict: g.final.verdict, Reason: g.final.reason,
			Link: g.final.link, Duration: config.Duration(end.Sub(r.start)),
			WaitedAbsent:  config.Duration(g.waited[waitAbsent]),
			WaitedQueued:  config.Duration(g.waited[waitQueued]),
			WaitedRunning: config.Duration(g.waited[waitRunning]),
			Evidence:      g.final.evidence, Tests: g.final.tests, Ignored: g.final.ignored,
		}
		if g.wf != nil {
			gr.WorkflowFile = g.wf.Path
		}
		if gr.Evidence == nil {
			gr.Evidence = []Evidence{}
		}
		if g.disp != nil {
			gr.Dispatch = g.disp.info()
		}
		res.Gates = append(res.Gates, gr)
	}
	return res
}

// judged is one context with its verdict.
type judged struct {
	c       github.CheckContext
	verdict vocab.Verdict
	note    string
	wait    waitKind
}

func (r *runner) judge(c github.CheckContext, now time.Time) judged {
	if c.Status != "completed" {
		k, note := r.waitNote(c, now)
		return judged{c: c, verdict: Pending, note: note, wait: k}
	}
	ok, why := r.conclusion(c.Conclusion)
	if ok {
		return judged{c: c, verdict: Pass, note: why}
	}
	return judged{c: c, verdict: Fail, note: why}
}

// conclusion applies the policy to a conclusion; the text says why (for a pass: only
// when the policy made it one).
func (r *runner) conclusion(c string) (bool, string) {
	switch c {
	case "success":
		return true, "succeeded"
	case "neutral":
		if r.o.Policy.Neutral == "fail" {
			return false, "concluded neutral, which policy.neutral counts as a failure"
		}
		return true, "concluded neutral (a pass by policy)"
	case "skipped":
		if r.o.Policy.Skipped == "pass" {
			return true, "was skipped (a pass by policy.skipped)"
		}
		return false, "required check was skipped"
	case "failure":
		return false, "failed"
	case "cancelled":
		return false, "was cancelled"
	case "timed_out":
		return false, "timed out"
	case "action_required":
		return false, "needs action (action_required)"
	case "startup_failure":
		return false, "failed to start (startup_failure)"
	case "stale":
		return false, "is stale"
	case "error":
		return false, "errored"
	case "":
		return false, "completed without a conclusion"
	default:
		return false, fmt.Sprintf("conclusion %s is not a pass", quote(c))
	}
}

// waitNote says how long pending evidence has been waiting and on what. Queued time runs
// from the check's own start stamp or our first sight of it, whichever is earlier.
func (r *runner) waitNote(c github.CheckContext, now time.Time) (waitKind, string) {
	ob := r.seen[ctxKey(c)]
	if ob == nil {
		ob = &observation{firstSeen: now}
	}
	if c.Status == "in_progress" {
		since := c.StartedAt
		if since.IsZero() || since.After(now) {
			since = cmp.Or(ob.firstRunning, ob.firstSeen)
		}
		return waitRunning, "in progress for " + fmtDur(now.Sub(since))
	}
	since := ob.firstSeen
	if !c.StartedAt.IsZero() && c.StartedAt.Before(since) {
		since = c.StartedAt
	}
	d := fmtDur(now.Sub(since))
	switch c.Status {
	case "queued":
		if now.Sub(since) >= time.Minute {
			return waitQueued, "queued for " + d + " (no runner has picked it up)"
		}
		return waitQueued, "queued for " + d
	case "waiting":
		return waitQueued, "waiting for " + d + " (for an environment approval or a concurrency group)"
	case "pending", "requested":
		return waitQueued, c.Status + " for " + d
	default:
		return waitQueued, fmt.Sprintf("in status %s for %s", quote(c.Status), d)
	}
}

func label(c github.CheckContext) string {
	switch {
	case isStatus(c):
		return "status " + quote(c.Name)
	case c.Workflow != "":
		return fmt.Sprintf("%s (%s run %d)", quote(c.Name), clean(c.Workflow), c.RunID)
	default:
		return fmt.Sprintf("%s (check run %d)", quote(c.Name), c.ID)
	}
}

// stateOf is the stable progress text of one context: "'hardening' in_progress (run 123)".
func stateOf(c github.CheckContext) string {
	s := quote(c.Name) + " " + clean(c.Status)
	if c.Status == "completed" {
		s += "/" + clean(c.Conclusion)
	}
	if c.RunID != 0 {
		s += fmt.Sprintf(" (run %d)", c.RunID)
	}
	return s
}

func listUpTo(parts []string, n int) string {
	if len(parts) <= n {
		return strings.Join(parts, "; ")
	}
	return strings.Join(parts[:n], "; ") + fmt.Sprintf("; and %d more", len(parts)-n)
}

// aggregate turns judged contexts into a gate outcome: any failure fails, else anything
// pending is pending, else it passes. what names the items ("check", "job").
func aggregate(js []judged, what string) outcome {
	var fails, pends, passes []judged
	for _, j := range js {
		switch j.verdict {
		case Fail:
			fails = append(fails, j)
		case Pending:
			pends = append(pends, j)
		default:
			passes = append(passes, j)
		}
	}
	o := outcome{hasEvidence: len(js) > 0}
	switch {
	case len(js) == 0:
		o.verdict = Pending // nothing is never a pass
	case len(fails) > 0:
		o.verdict = Fail
		parts := make([]string, 0, len(fails))
		for _, j := range fails {
			parts = append(parts, label(j.c)+": "+j.note)
		}
		o.reason = listUpTo(parts, 3)
		if len(js) > 1 {
			o.reason = fmt.Sprintf("%d of %d %ss failed: %s", len(fails), len(js), what, o.reason)
		}
		o.link = fails[0].c.DetailsURL
	case len(pends) > 0:
		o.verdict = Pending
		parts := make([]string, 0, len(pends))
		states := make([]string, 0, len(pends))
		o.wait = waitRunning
		for _, j := range pends {
			parts = append(parts, label(j.c)+", "+j.note)
			states = append(states, stateOf(j.c))
			if j.wait == waitQueued {
				o.wait = waitQueued
			}
		}
		o.reason = listUpTo(parts, 3)
		o.state = listUpTo(states, 5)
		o.link = pends[0].c.DetailsURL
	default:
		o.verdict = Pass
		if len(passes) == 1 {
			o.reason = label(passes[0].c) + " " + passes[0].note
		} else {
			o.reason = fmt.Sprintf("all %d %ss passed", len(passes), what)
		}
		if len(passes) > 0 {
			o.link = passes[0].c.DetailsURL
		}
	}
	return o
}

// evidenceOf lists contexts for the report with their verdicts; latest says which count.
func evidenceOf(cs []github.CheckContext, latest func(github.CheckContext) bool, js []judged) []Evidence {
	byKey := map[string]judged{}
	for _, j := range js {
		byKey[ctxKey(j.c)] = j
	}
	out := make([]Evidence, 0, len(cs))
	for _, c := range cs {
		e := Evidence{
			Name: c.Name, Kind: string(c.Kind), Workflow: c.Workflow, RunID: c.RunID, RunNumber: c.RunNumber,
			Event: c.Event, CheckRunID: c.ID, Status: c.Status, Conclusion: c.Conclusion, URL: c.DetailsURL,
			StartedAt: c.StartedAt, CompletedAt: c.CompletedAt, Latest: latest(c), Verdict: Superseded,
		}
		if e.URL == "" {
			e.URL = c.RunURL
		}
		if j, ok := byKey[ctxKey(c)]; ok && e.Latest {
			e.Verdict, e.Note = j.verdict, j.note
		}
		out = append(out, e)
	}
	slices.SortStableFunc(out, func(a, b Evidence) int {
		return cmp.Or(cmp.Compare(a.Workflow, b.Workflow), cmp.Compare(a.Name, b.Name),
			cmp.Compare(a.RunID, b.RunID), cmp.Compare(a.CheckRunID, b.CheckRunID))
	})
	return out
}
