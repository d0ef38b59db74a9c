package gate

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/agentme/release-action/internal/github"
)

// evalCheck: every context whose name matches must pass, after latest-wins. With a
// workflow, only check runs of that workflow match (a status has no workflow).
func (r *runner) evalCheck(g *gateState, v *view, now time.Time) outcome {
	var cands, counted []github.CheckContext
	for _, c := range v.all {
		if !g.check.match(c.Name) {
			continue
		}
		if g.wf != nil && !g.wf.matches(c) {
			continue
		}
		cands = append(cands, c)
		if isStatus(c) || v.latest[c.ID] {
			counted = append(counted, c)
		}
	}
	absent := "check run or status " + g.check.describe()
	if g.wf != nil {
		absent = "check run " + g.check.describe() + " in workflow " + g.wf.label()
	}
	js := make([]judged, 0, len(counted))
	for _, c := range counted {
		js = append(js, r.judge(c, now))
	}
	o := aggregate(js, "check")
	o.absent = absent
	if len(counted) == 0 {
		o = outcome{verdict: Pending, absent: absent}
	}
	o.evidence = evidenceOf(cands, func(c github.CheckContext) bool { return isStatus(c) || v.latest[c.ID] }, js)
	return o
}

// workflowRuns returns the check runs of one workflow file, optionally of one run.
func workflowRuns(v *view, wf *wfRef, runID int64) []github.CheckContext {
	var out []github.CheckContext
	for _, c := range v.all {
		if !wf.matches(c) {
			continue
		}
		if runID != 0 && c.RunID != runID {
			continue
		}
		out = append(out, c)
	}
	return out
}

func latestRunID(cs []github.CheckContext) int64 {
	var id int64
	for _, c := range cs {
		id = max(id, c.RunID)
	}
	return id
}

// latestPerName keeps the highest check-run id per name among cs (one run's check runs).
func latestPerName(cs []github.CheckContext) []github.CheckContext {
	best := map[string]github.CheckContext{}
	for _, c := range cs {
		if b, ok := best[c.Name]; !ok || c.ID > b.ID {
			best[c.Name] = c
		}
	}
	out := make([]github.CheckContext, 0, len(best))
	for _, c := range best {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b github.CheckContext) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// newest returns the context with the highest id (its suite is the run's latest attempt).
func newest(cs []github.CheckContext) github.CheckContext {
	var n github.CheckContext
	for _, c := range cs {
		if c.ID >= n.ID {
			n = c
		}
	}
	return n
}

func runURLOf(cs []github.CheckContext) string {
	for _, c := range cs {
		if c.RunURL != "" {
			return c.RunURL
		}
	}
	return ""
}

// runRead is one GetWorkflowRun answer.
type runRead struct {
	run github.WorkflowRun
	at  time.Time
}

// runReread bounds how often a run is read while its check suite completes: the read is
// conditional (a free 304 until the run changes), and the verdict waits on it.
const runReread = 5 * time.Second

// workflowRun returns what GetWorkflowRun says of run id, asking at most once per
// runReread (a dispatch gate's reads count too).
func (r *runner) workflowRun(ctx context.Context, id int64, now time.Time) (github.WorkflowRun, error) {
	if rr, ok := r.runReads[id]; ok && now.Sub(rr.at) < runReread {
		return rr.run, nil
	}
	run, err := r.gh.GetWorkflowRun(ctx, id)
	if err != nil {
		return github.WorkflowRun{}, fmt.Errorf("read run %d to see whether it completed: %w", id, err)
	}
	r.runReads[id] = runRead{run: run, at: now}
	return run, nil
}

func allCompleted(cs []github.CheckContext) bool {
	return !slices.ContainsFunc(cs, func(c github.CheckContext) bool { return c.Status != "completed" })
}

// evalWorkflow: every check run of the latest run of the workflow must pass and the run's
// check suite must have completed with a passing conclusion; when it did not although
// every check run passed, the run's own status decides (see the package doc). A dispatch
// gate that follows a run looks only at that run.
func (r *runner) evalWorkflow(ctx context.Context, g *gateState, v *view, now time.Time) (outcome, error) {
	d := g.disp
	var follow int64
	if d != nil {
		follow = d.runID
	}
	all := workflowRuns(v, g.wf, follow)
	if len(all) == 0 {
		switch {
		case d != nil && follow != 0:
			return r.followedWithoutJobs(g, now), nil
		case d != nil && d.dispatched:
			return outcome{verdict: Pending, absent: fmt.Sprintf("run of workflow %s dispatched on %s", g.wf.label(), d.ref)}, nil
		}
		return outcome{verdict: Pending, absent: "run of workflow " + g.wf.label() + " on the commit"}, nil
	}
	runID := latestRunID(all)
	var inRun []github.CheckContext
	for _, c := range all {
		if c.RunID == runID {
			inRun = append(inRun, c)
		}
	}
	latest := v.latestInRun(inRun, runID)
	isLatest := func(c github.CheckContext) bool {
		return slices.ContainsFunc(latest, func(l github.CheckContext) bool { return l.ID == c.ID })
	}
	wfName := clean(cmp.Or(inRun[0].Workflow, g.cfg.Workflow))
	if self := r.o.Self.RunID; self != 0 && runID == self {
		o := outcome{verdict: Fail, hasEvidence: true,
			reason: fmt.Sprintf("the latest run of %s is the gate's own run %d: a workflow cannot gate itself; gate the jobs it needs instead", quote(wfName), runID)}
		o.evidence = evidenceOf(inRun, isLatest, nil)
		return o, nil
	}
	js := make([]judged, 0, len(latest))
	for _, c := range latest {
		js = append(js, r.judge(c, now))
	}
	o := aggregate(js, "job")
	o.evidence = evidenceOf(inRun, isLatest, js)
	o.link = cmp.Or(runURLOf(inRun), o.link)
	if o.verdict == Pass {
		jobs := plural(len(latest), "job")
		top := newest(latest)
		suiteOK, suiteWhy := r.conclusion(top.SuiteConclusion)
		switch {
		case top.SuiteStatus == "completed" && suiteOK:
			o.reason = fmt.Sprintf("run %d of %s passed (%s)", runID, quote(wfName), jobs)
		case top.SuiteStatus == "completed" && !v.hidesInRun(runID):
			o.verdict = Fail
			o.reason = fmt.Sprintf("run %d of %s: its check suite concluded %s (%s)", runID, quote(wfName), quote(top.SuiteConclusion), suiteWhy)
		default:
			// Every job passed, yet the suite is open, or failed with a check run in it
			// that is never evidence: it may complete a moment later than its last check
			// run, or hold a check run that is no job of the run (the published
			// release-gate check run, of this or an earlier gate). The run's own state
			// decides.
			run, err := r.workflowRun(ctx, runID, now)
			if err != nil {
				return outcome{}, err
			}
			suite := "is " + cmp.Or(clean(top.SuiteStatus), "not completed")
			if top.SuiteStatus == "completed" {
				suite = "concluded " + quote(top.SuiteConclusion) + " (" + suiteWhy + ")"
			}
			runOK, runWhy := r.conclusion(run.Conclusion)
			switch {
			case run.Status != "completed":
				o.verdict = Pending
				o.wait = waitRunning
				o.reason = fmt.Sprintf("run %d of %s to complete (%s passed so far; more may still be created)", runID, quote(wfName), jobs)
				o.state = fmt.Sprintf("run %d: %s passed, the run is %s", runID, jobs, cmp.Or(clean(run.Status), clean(top.SuiteStatus), "not completed"))
			case !runOK:
				o.verdict = Fail
				o.reason = fmt.Sprintf("run %d of %s concluded %s (%s) although %s passed", runID, quote(wfName), quote(run.Conclusion), runWhy, jobs)
				o.link = cmp.Or(run.HTMLURL, o.link)
			default:
				o.reason = fmt.Sprintf("run %d of %s passed (%s; the run completed %s while its check suite %s)", runID, quote(wfName), jobs, clean(run.Conclusion), suite)
			}
		}
	}
	if d != nil && o.verdict != Pending {
		o.reason = d.prefix() + o.reason
	}
	return o, nil
}

// followedWithoutJobs judges a followed run that has no check runs on the commit yet. The
// run existing is evidence; a run that finished without any job fails.
func (r *runner) followedWithoutJobs(g *gateState, now time.Time) outcome {
	d := g.disp
	run := d.lastRun
	o := outcome{hasEvidence: true, link: cmp.Or(run.HTMLURL, d.runURL)}
	if run.Status == "completed" {
		o.verdict = Fail
		if ok, _ := r.conclusion(run.Conclusion); ok {
			o.reason = d.prefix() + fmt.Sprintf("run %d completed (%s) without any job on the commit: nothing proves it", d.runID, quote(run.Conclusion))
		} else {
			o.reason = d.prefix() + fmt.Sprintf("run %d concluded %s without running any job", d.runID, quote(run.Conclusion))
		}
		return o
	}
	since := d.followedAt
	if !run.CreatedAt.IsZero() && run.CreatedAt.Before(since) {
		since = run.CreatedAt
	}
	status := cmp.Or(clean(run.Status), "queued")
	o.verdict = Pending
	o.wait = waitQueued
	o.reason = fmt.Sprintf("run %d of %s (%s for %s, no jobs yet)", d.runID, quote(g.cfg.Workflow), status, fmtDur(now.Sub(since)))
	o.state = fmt.Sprintf("run %d %s, no jobs yet", d.runID, status)
	return o
}
