package gate

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/agentme/release-action/internal/github"
)

// A workflow gate with dispatch (Install Smoke, which never runs on push or pull
// request) works like this:
//
//  1. After the first poll, if the workflow file (resolved at the start, see
//     workflows.go) has no check runs on the commit, its runs on the commit are listed (ListWorkflowRuns head_sha). A run found there (queued before its
//     jobs appeared, or dispatched by an earlier attempt of this gate) is followed and
//     nothing is dispatched.
//  2. Otherwise it is dispatched (with Gate.Inputs) on a branch whose head is the commit
//     (main, then master, then the first by name), or, when there is none, on a temporary
//     branch refs/heads/<TempRefPrefix><sha[:12]>-<RunKey> created at the commit and
//     deleted when Run returns, whatever the outcome. A temporary branch that already
//     exists is used as it is (its run is verified like any other) and deleted too.
//  3. The run is the one DispatchWorkflow returned, or, from a server without run
//     details, the latest run whose jobs show on the commit, else the newest
//     workflow_dispatch run of the commit created since the dispatch (less dispatchSkew
//     for clock differences), preferring one on the dispatch branch; it is looked for at
//     every poll until the appearance grace, counted from the dispatch, runs out.
//  4. Every followed run is verified with GetWorkflowRun: a run whose head_sha is not the
//     candidate fails the gate for good. Then the gate is a workflow gate restricted to
//     that run. While the run has no check runs on the commit it is re-read at most once
//     per runRecheck; finishing without any job fails the gate.
//  5. A workflow file that does not exist (found at the start), or a dispatch GitHub refuses with 422 (no
//     workflow_dispatch trigger, a disabled workflow, undeclared inputs), stops the gate
//     with bad input naming the fix: no wait or retry can change it. Other failures
//     (5xx, network, a 403 for a missing permission) are returned as they are.
const (
	dispatchSkew = time.Minute
	runRecheck   = time.Minute
)

type dispatchState struct {
	looked       bool
	haveWF       bool
	wf           github.Workflow
	action       string
	ref          string
	temp         bool
	refDeleted   bool
	dispatched   bool
	dispatchedAt time.Time
	runID        int64
	runURL       string
	discovered   bool
	verified     bool
	lastRun      github.WorkflowRun
	lastRunAt    time.Time
	followedAt   time.Time
}

// prefix starts the reasons of a gate that dispatched or followed a run.
func (d *dispatchState) prefix() string {
	if d == nil || d.runID == 0 {
		return ""
	}
	switch d.action {
	case DispatchDispatched:
		return fmt.Sprintf("%s dispatched on %s as run %d: ", quote(d.wf.Name), d.ref, d.runID)
	case DispatchFollowed:
		return fmt.Sprintf("following run %d of %s already on the commit: ", d.runID, quote(d.wf.Name))
	}
	return ""
}

func (d *dispatchState) info() *DispatchInfo {
	if d == nil || d.action == "" {
		return nil
	}
	return &DispatchInfo{
		Workflow: d.wf.Name, WorkflowID: d.wf.ID, Action: d.action, Ref: d.ref, TempRef: d.temp,
		RefDeleted: d.refDeleted, DispatchedAt: d.dispatchedAt, RunID: d.runID,
		RunURL: cmp.Or(d.lastRun.HTMLURL, d.runURL), RunDiscovered: d.discovered, HeadSHA: d.lastRun.HeadSHA,
	}
}

// dispatchStep does what a dispatch gate needs next and reports whether it learned or
// did anything (the gate is then evaluated again).
func (r *runner) dispatchStep(ctx context.Context, g *gateState, v *view, now time.Time) (bool, error) {
	d := g.disp
	if g.sticky != nil {
		return false, nil
	}
	switch {
	case !d.looked:
		if len(workflowRuns(v, g.wf, 0)) > 0 {
			d.looked = true
			return false, nil
		}
		runs, err := r.gh.ListWorkflowRuns(ctx, d.wf.ID, github.RunFilter{HeadSHA: r.sha})
		if err != nil {
			return false, fmt.Errorf("list runs of workflow %s on %s: %w", quote(d.wf.Name), short(r.sha), err)
		}
		d.looked = true
		if run, ok := r.pickRun(runs, "", time.Time{}); ok {
			d.action = DispatchFollowed
			r.say(fmt.Sprintf("%s: run %d (%s) of %s is already on the commit; following it instead of dispatching",
				g.cfg.Name, run.ID, clean(run.Event), quote(d.wf.Name)))
			return true, r.follow(ctx, g, run.ID, now)
		}
		return true, r.dispatch(ctx, g)
	case d.dispatched && d.runID == 0:
		if cs := workflowRuns(v, g.wf, 0); len(cs) > 0 {
			// The workflow had no run on the commit before the dispatch, so a run whose
			// jobs now show on the commit is the dispatched one (or as good: it ran the
			// candidate); no listing needed.
			id := latestRunID(cs)
			d.discovered = true
			r.say(fmt.Sprintf("%s: the dispatched run is run %d (its jobs appeared on the commit)", g.cfg.Name, id))
			return true, r.follow(ctx, g, id, now)
		}
		runs, err := r.gh.ListWorkflowRuns(ctx, d.wf.ID, github.RunFilter{
			HeadSHA: r.sha, Event: "workflow_dispatch", CreatedSince: d.dispatchedAt.Add(-dispatchSkew),
		})
		if err != nil {
			return false, fmt.Errorf("look for the run dispatched on %s: %w", d.ref, err)
		}
		run, ok := r.pickRun(runs, d.ref, d.dispatchedAt.Add(-dispatchSkew))
		if !ok {
			return false, nil
		}
		d.discovered = true
		r.say(fmt.Sprintf("%s: the dispatched run is run %d", g.cfg.Name, run.ID))
		return true, r.follow(ctx, g, run.ID, now)
	case d.runID != 0 && len(workflowRuns(v, g.wf, d.runID)) == 0 && now.Sub(d.lastRunAt) >= runRecheck:
		run, err := r.gh.GetWorkflowRun(ctx, d.runID)
		if err != nil {
			return false, fmt.Errorf("read run %d: %w", d.runID, err)
		}
		d.lastRun, d.lastRunAt = run, now
		r.runReads[run.ID] = runRead{run: run, at: now}
		return true, nil
	}
	return false, nil
}

// pickRun chooses the run to follow among listed runs: only runs of the candidate (the
// filter is the server's; it is checked here again), created at or after since, the
// newest, preferring those on branch.
func (r *runner) pickRun(runs []github.WorkflowRun, branch string, since time.Time) (github.WorkflowRun, bool) {
	var best github.WorkflowRun
	bestOnBranch := false
	for _, run := range runs {
		if !strings.EqualFold(run.HeadSHA, r.sha) || run.ID == 0 {
			continue
		}
		if !since.IsZero() && !run.CreatedAt.IsZero() && run.CreatedAt.Before(since) {
			continue
		}
		on := branch != "" && run.HeadBranch == branch
		if best.ID == 0 || (on && !bestOnBranch) || (on == bestOnBranch && run.ID > best.ID) {
			best, bestOnBranch = run, on
		}
	}
	return best, best.ID != 0
}

// follow starts following run id after verifying that it ran the candidate.
func (r *runner) follow(ctx context.Context, g *gateState, id int64, now time.Time) error {
	d := g.disp
	d.runID = id
	d.followedAt = now
	run, err := r.gh.GetWorkflowRun(ctx, id)
	if err != nil {
		return fmt.Errorf("read run %d to verify its commit: %w", id, err)
	}
	d.lastRun, d.lastRunAt = run, now
	r.runReads[id] = runRead{run: run, at: now}
	d.runURL = cmp.Or(run.HTMLURL, d.runURL)
	d.verified = true
	if !strings.EqualFold(run.HeadSHA, r.sha) {
		what := "run"
		if d.action == DispatchDispatched {
			what = "dispatched run"
		}
		o := outcome{verdict: Fail, hasEvidence: true, link: d.runURL,
			reason: fmt.Sprintf("%s %d ran %s, not the candidate %s", what, id, quote(short(run.HeadSHA)), short(r.sha))}
		g.sticky = &o
	}
	return nil
}

func (r *runner) dispatch(ctx context.Context, g *gateState) error {
	d := g.disp
	ref, temp, err := r.refForDispatch(ctx, g)
	if err != nil {
		return err
	}
	at := r.clk.Now()
	res, err := r.gh.DispatchWorkflow(ctx, d.wf.ID, ref, g.cfg.Inputs)
	if err != nil {
		if cerr := dispatchRefused(g, d.wf, err); cerr != nil {
			return cerr
		}
		return fmt.Errorf("dispatch workflow %s on %s: %w", quote(d.wf.Name), ref, err)
	}
	r.acted = true
	d.action = DispatchDispatched
	d.dispatched, d.dispatchedAt = true, at
	d.ref, d.temp = ref, temp
	g.started = at // the appearance grace of a dispatched workflow starts now
	where := ref
	if temp {
		where += " (a temporary branch at the candidate)"
	}
	if res.RunID == 0 {
		r.say(fmt.Sprintf("%s: dispatched %s on %s; the server returned no run id, looking for the run", g.cfg.Name, quote(d.wf.Name), where))
		return nil
	}
	d.runURL = res.HTMLURL
	r.say(fmt.Sprintf("%s: dispatched %s on %s as run %d", g.cfg.Name, quote(d.wf.Name), where, res.RunID))
	return r.follow(ctx, g, res.RunID, at)
}

// dispatchRefused turns GitHub's 422 to a dispatch into bad input naming the fix: the
// request was understood and refused, so sending it again cannot help. Anything else is
// returned as nil.
func dispatchRefused(g *gateState, wf github.Workflow, err error) error {
	var api *github.APIError
	if !errors.As(err, &api) || api.StatusCode != http.StatusUnprocessableEntity {
		return nil
	}
	name, file := quote(wf.Name), cmp.Or(clean(wf.Path), "its workflow file")
	msg := strings.ToLower(api.Message)
	var fix string
	switch {
	case strings.Contains(msg, "disabled"):
		fix = fmt.Sprintf("workflow %s is disabled, so gate %s cannot dispatch it: enable it (Actions tab, or gh workflow enable), or drop dispatch: true from the gate", name, quote(g.cfg.Name))
	case strings.Contains(msg, "workflow_dispatch"):
		fix = fmt.Sprintf("%s has no workflow_dispatch trigger, so gate %s cannot dispatch it: add `on: workflow_dispatch` to %s, or drop dispatch: true from the gate", name, quote(g.cfg.Name), file)
	case strings.Contains(msg, "input"):
		fix = fmt.Sprintf("%s refuses the inputs of gate %s: make the gate's inputs match the workflow_dispatch inputs %s declares", name, quote(g.cfg.Name), file)
	default:
		fix = fmt.Sprintf("GitHub refused to dispatch %s for gate %s: check that %s can be dispatched with the gate's inputs", name, quote(g.cfg.Name), file)
	}
	return &configError{err: err, msg: fmt.Sprintf("%s (GitHub answered 422: %s)", fix, clean(api.Message))}
}

// refForDispatch returns a branch whose head is the candidate, creating the temporary
// one once per gate run when there is none.
func (r *runner) refForDispatch(ctx context.Context, g *gateState) (string, bool, error) {
	if r.dispatchRef != nil {
		r.dispatchRef.gates = append(r.dispatchRef.gates, g)
		return strings.TrimPrefix(r.dispatchRef.ref, "refs/heads/"), true, nil
	}
	if r.branchRef != "" {
		return r.branchRef, false, nil
	}
	branches, err := r.gh.BranchesWhereHead(ctx, r.sha)
	if err != nil {
		return "", false, fmt.Errorf("list the branches whose head is %s: %w", short(r.sha), err)
	}
	if b := pickBranch(branches); b != "" {
		r.branchRef = b
		return b, false, nil
	}
	name := r.prefix + r.sha[:12] + "-" + r.runKey
	full := "refs/heads/" + name
	err = r.gh.CreateRef(ctx, full, r.sha)
	switch {
	case err == nil:
		r.say(fmt.Sprintf("%s: created the temporary branch %s at %s to dispatch on", g.cfg.Name, name, short(r.sha)))
	case errors.Is(err, github.ErrAlreadyExists):
		r.say(fmt.Sprintf("%s: the temporary branch %s exists already; using it (the run's commit is verified)", g.cfg.Name, name))
	default:
		return "", false, fmt.Errorf("create the temporary branch %s at %s: %w", name, short(r.sha), err)
	}
	r.acted = true
	t := &tempRef{ref: full, gates: []*gateState{g}}
	r.dispatchRef = t
	r.tempRefs = append(r.tempRefs, t)
	return name, true, nil
}

func pickBranch(bs []string) string {
	var ok []string
	for _, b := range bs {
		if validBranchName(b) {
			ok = append(ok, b)
		}
	}
	for _, pref := range []string{"main", "master"} {
		if slices.Contains(ok, pref) {
			return pref
		}
	}
	if len(ok) == 0 {
		return ""
	}
	slices.Sort(ok)
	return ok[0]
}
