package gate

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/agentme/release-action/internal/github"
)

// evalCheck: every context whose name matches must pass, after latest-wins. With a
// workflow, only check runs of that workflow match (a status has no workflow).
func (r *runner) evalCheck(g *gateState, v *view, now time.Time) outcome {
	wf := g.cfg.Workflow
	var cands, counted []github.CheckContext
	for _, c := range v.all {
		if wf != "" && (isStatus(c) || c.Workflow != wf) {
			continue
		}
		if !g.check.match(c.Name) {
			continue
		}
		cands = append(cands, c)
		if isStatus(c) || v.latest[c.ID] {
			counted = append(counted, c)
		}
	}
	absent := "check run or status " + g.check.describe()
	if wf != "" {
		absent = "check run " + g.check.describe() + " in workflow " + quote(wf)
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

// workflowRuns returns the check runs of the named workflows, optionally of one run.
func workflowRuns(v *view, names []string, runID int64) []github.CheckContext {
	var out []github.CheckContext
	for _, c := range v.all {
		if isStatus(c) || c.Workflow == "" || !slices.Contains(names, c.Workflow) {
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

// evalWorkflow: every check run of the latest run of the workflow must pass and the run's
// check suite must have completed with a passing conclusion. A dispatch gate that follows
// a run looks only at that run.
func (r *runner) evalWorkflow(g *gateState, v *view, now time.Time) outcome {
	d := g.disp
	names := []string{g.cfg.Workflow}
	var follow int64
	if d != nil {
		if d.haveWF && d.wf.Name != "" && d.wf.Name != g.cfg.Workflow {
			names = append(names, d.wf.Name)
		}
		follow = d.runID
	}
	all := workflowRuns(v, names, follow)
	if len(all) == 0 {
		switch {
		case d != nil && follow != 0:
			return r.followedWithoutJobs(g, now)
		case d != nil && d.dispatched:
			return outcome{verdict: Pending, absent: fmt.Sprintf("run of workflow %s dispatched on %s", quote(g.cfg.Workflow), d.ref)}
		}
		return outcome{verdict: Pending, absent: "run of workflow " + quote(g.cfg.Workflow) + " on the commit"}
	}
	runID := latestRunID(all)
	var inRun []github.CheckContext
	for _, c := range all {
		if c.RunID == runID {
			inRun = append(inRun, c)
		}
	}
	latest := latestPerName(inRun)
	isLatest := func(c github.CheckContext) bool {
		return slices.ContainsFunc(latest, func(l github.CheckContext) bool { return l.ID == c.ID })
	}
	wfName := clean(cmp.Or(inRun[0].Workflow, g.cfg.Workflow))
	if self := r.o.Self.RunID; self != 0 && runID == self {
		o := outcome{verdict: Fail, hasEvidence: true,
			reason: fmt.Sprintf("the latest run of %s is the gate's own run %d: a workflow cannot gate itself; gate the jobs it needs instead", quote(wfName), runID)}
		o.evidence = evidenceOf(inRun, isLatest, nil)
		return o
	}
	js := make([]judged, 0, len(latest))
	for _, c := range latest {
		js = append(js, r.judge(c, now))
	}
	o := aggregate(js, "job")
	o.evidence = evidenceOf(inRun, isLatest, js)
	o.link = cmp.Or(runURLOf(inRun), o.link)
	if o.verdict == Pass {
		top := newest(latest)
		switch ok, why := r.conclusion(top.SuiteConclusion); {
		case top.SuiteStatus != "completed":
			o.verdict = Pending
			o.wait = waitRunning
			o.reason = fmt.Sprintf("run %d of %s to complete (%s passed so far; more may still be created)", runID, quote(wfName), plural(len(latest), "job"))
			o.state = fmt.Sprintf("run %d: %s passed, the run is %s", runID, plural(len(latest), "job"), cmp.Or(clean(top.SuiteStatus), "not completed"))
		case !ok:
			o.verdict = Fail
			o.reason = fmt.Sprintf("run %d of %s: its check suite concluded %s (%s)", runID, quote(wfName), quote(top.SuiteConclusion), why)
		default:
			o.reason = fmt.Sprintf("run %d of %s passed (%s)", runID, quote(wfName), plural(len(latest), "job"))
		}
	}
	if d != nil && o.verdict != Pending {
		o.reason = d.prefix() + o.reason
	}
	return o
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
