package gate

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/github"
)

// A tests gate proves that named test files ran and passed:
//
//   - The run is the latest run of Tests.Workflow on the commit (highest run id); the
//     jobs are its check runs whose name matches Tests.Job with the check-name rules
//     (exact, glob, re:), so a matrix job "hardening (node 20)" does not match
//     "hardening" unless the pattern says so ("hardening*"). Newest attempt per name.
//   - It waits for every matched job to complete. Then, once per job (cached by job id):
//     ListJobs of the run for the job's steps, and JobLog. The step named Tests.Step (the
//     first with that name) must exist and conclude success; a failed, skipped or
//     missing step fails the gate. The job's own conclusion is not judged here (a
//     workflow gate does that).
//   - The log is read when Tests.Step is set or no JUnit artifact is configured. Only
//     the step's own output is read, found by the log's structure (steplog.go), so
//     another step cannot print the pass line; without a step the whole log. The other
//     steps' output is parsed too, only to say where a missing file ran instead.
//   - With Tests.JUnitArtifact, the newest unexpired artifact of that name in the run is
//     downloaded once all jobs completed, and every *.xml in it is read.
//   - Per configured file: failed if any source reports it failed; passed if at least one
//     source reports it passed (it ran a test, none failed); skipped if a source reports
//     it with every test skipped (it proves nothing and fails the gate); else it did not
//     run.
//     Any failed file or step fails the gate at once, even while other matrix jobs run;
//     a file that did not run fails it once every job completed.
//   - A log GitHub no longer has (410 Gone: past the retention period) fails the gate:
//     nothing can prove the tests ran until the job runs again.
type jobEvidence struct {
	ready     bool
	job       github.Job
	step      github.Step
	stepFound bool
	logRead   bool
	// logGone says why the log can never be read (GitHub answered 410: it expired).
	logGone string
	rep     TestReport
	window  string
	note    string
	// logNote says why the step's output could not be read as it should (structure).
	logNote string
	// other is what the other steps of the job reported, by step name, so that a file
	// that ran elsewhere is reported as such.
	other map[string]TestReport
}

type junitEvidence struct {
	rep   *TestReport
	notes []string
}

// File results in a tests gate that is still waiting.
const filePending = "pending"

func (r *runner) evalTests(ctx context.Context, g *gateState, v *view, now time.Time) (outcome, error) {
	tg := g.cfg.Tests
	detail := &TestsDetail{Workflow: tg.Workflow, Job: tg.Job, Step: tg.Step}
	for _, f := range tg.Files {
		detail.Files = append(detail.Files, FileResult{File: f, Result: filePending})
	}
	absent := fmt.Sprintf("job %s in workflow %s", g.job.describe(), g.wf.label())
	all := workflowRuns(v, g.wf, 0)
	if len(all) == 0 {
		return outcome{verdict: Pending, absent: absent, tests: detail}, nil
	}
	runID := latestRunID(all)
	detail.RunID = runID
	var inRun, cands []github.CheckContext
	for _, c := range all {
		if c.RunID != runID {
			continue
		}
		inRun = append(inRun, c)
		if g.job.match(c.Name) {
			cands = append(cands, c)
		}
	}
	jobs := v.latestInRun(cands, runID)
	isLatest := func(c github.CheckContext) bool {
		return slices.ContainsFunc(jobs, func(l github.CheckContext) bool { return l.ID == c.ID })
	}
	if len(jobs) == 0 {
		done := newest(inRun).SuiteStatus == "completed"
		if !done && len(inRun) > 0 && allCompleted(inRun) {
			// The suite may lag, or be held open by a check run that is no job of the run.
			run, err := r.workflowRun(ctx, runID, now)
			if err != nil {
				return outcome{}, err
			}
			done = run.Status == "completed"
		}
		if done {
			return outcome{verdict: Fail, hasEvidence: true, tests: detail, link: runURLOf(inRun),
				reason: fmt.Sprintf("run %d of %s completed without a job %s", runID, quote(tg.Workflow), g.job.describe())}, nil
		}
		return outcome{verdict: Pending, absent: absent, tests: detail}, nil
	}

	o := outcome{hasEvidence: true, tests: detail, link: jobs[0].DetailsURL}
	useLog := tg.Step != "" || tg.JUnitArtifact == ""
	elsewhere := map[string][]string{} // file -> other steps of the job whose output names it
	var (
		pend      []judged
		stepFails []string
		logRep    TestReport
		js        []judged
	)
	for _, c := range jobs {
		j := r.judge(c, now)
		if c.Status != "completed" {
			pend = append(pend, j)
			js = append(js, j)
			continue
		}
		je, err := r.jobEvidence(ctx, runID, c, tg, useLog)
		if err != nil {
			return o, err
		}
		if !je.ready {
			j = judged{c: c, verdict: Pending, note: je.note, wait: waitRunning}
			pend = append(pend, j)
			js = append(js, j)
			continue
		}
		tj := TestJob{ID: c.ID, Name: c.Name, URL: cmp.Or(je.job.HTMLURL, c.DetailsURL), Conclusion: c.Conclusion, LogWindow: je.window, Summary: je.rep.Summary}
		j = judged{c: c, verdict: Pass, note: "completed"}
		if je.logGone != "" {
			stepFails = append(stepFails, je.logGone)
			j = judged{c: c, verdict: Fail, note: "log expired"}
		}
		if tg.Step != "" {
			switch {
			case !je.stepFound:
				why := fmt.Sprintf("step %s not found in job %s (job %d)", quote(tg.Step), quote(c.Name), c.ID)
				if c.Conclusion != "success" {
					why += fmt.Sprintf(", which concluded %s", quote(c.Conclusion))
				}
				stepFails = append(stepFails, why)
				j = judged{c: c, verdict: Fail, note: "step not found"}
			case je.step.Conclusion != "success":
				tj.StepConclusion = je.step.Conclusion
				why := fmt.Sprintf("concluded %s", quote(je.step.Conclusion))
				if je.step.Conclusion == "skipped" {
					why = "was skipped"
				}
				stepFails = append(stepFails, fmt.Sprintf("step %s of job %s %s", quote(tg.Step), quote(c.Name), why))
				j = judged{c: c, verdict: Fail, note: "step " + why}
			default:
				tj.StepConclusion = je.step.Conclusion
			}
		}
		if useLog {
			logRep.merge(je.rep)
			if je.logNote != "" && je.stepFound && je.step.Conclusion != "skipped" {
				detail.Notes = append(detail.Notes, fmt.Sprintf("job %s (job %d): %s", quote(c.Name), c.ID, je.logNote))
			}
			for _, name := range slices.Sorted(maps.Keys(je.other)) {
				rep := je.other[name]
				for _, f := range tg.Files {
					if len(rep.Matching(f)) > 0 && !slices.Contains(elsewhere[f], name) {
						elsewhere[f] = append(elsewhere[f], name)
					}
				}
			}
		}
		if tg.Step == "" && c.Conclusion != "success" {
			detail.Notes = append(detail.Notes, fmt.Sprintf("job %s (job %d) concluded %s", quote(c.Name), c.ID, quote(c.Conclusion)))
		}
		js = append(js, j)
		detail.Jobs = append(detail.Jobs, tj)
	}
	o.evidence = evidenceOf(cands, isLatest, js)

	var junit *TestReport
	if tg.JUnitArtifact != "" && len(pend) == 0 {
		je, err := r.junitEvidence(ctx, runID, jobs, tg.JUnitArtifact)
		if err != nil {
			return o, err
		}
		junit = je.rep
		detail.Notes = append(detail.Notes, je.notes...)
		if junit == nil {
			junit = &TestReport{}
		}
	}
	var logPtr *TestReport
	if useLog {
		logPtr = &logRep
	}
	allDone := len(pend) == 0
	detail.Files = combineFiles(tg.Files, logPtr, junit, allDone)

	var failed, missing, passed, ranElsewhere, skipped []string
	var sources []string
	for _, f := range detail.Files {
		switch f.Result {
		case FileFailed:
			failed = append(failed, clean(f.File))
		case FileDidNotRun:
			missing = append(missing, clean(f.File))
			if steps := elsewhere[f.File]; len(steps) > 0 && tg.Step != "" {
				qs := make([]string, len(steps))
				for i, s := range steps {
					qs[i] = quote(s)
				}
				ranElsewhere = append(ranElsewhere, fmt.Sprintf("%s ran in step %s, not in %s", clean(f.File), strings.Join(qs, " and "), quote(tg.Step)))
			}
		case FileSkipped:
			skipped = append(skipped, clean(f.File))
		case FilePassed:
			passed = append(passed, f.File)
			for s := range strings.SplitSeq(f.Source, "+") {
				if !slices.Contains(sources, s) {
					sources = append(sources, s)
				}
			}
		}
	}
	n := len(tg.Files)
	switch {
	case len(stepFails) > 0 || len(failed) > 0:
		var parts []string
		parts = append(parts, stepFails...)
		if len(failed) > 0 {
			parts = append(parts, fmt.Sprintf("%d of %d test files failed: %s", len(failed), n, strings.Join(failed, ", ")))
		}
		if allDone && len(missing) > 0 {
			parts = append(parts, didNotRunHere(missing, ranElsewhere, n))
		}
		if allDone && len(skipped) > 0 {
			parts = append(parts, skippedFiles(skipped))
		}
		o.verdict, o.reason = Fail, strings.Join(parts, "; ")
	case len(pend) > 0:
		agg := aggregate(pend, "job")
		o.verdict, o.reason, o.state, o.wait = Pending, agg.reason, agg.state, agg.wait
	case len(missing) > 0 || len(skipped) > 0:
		var parts []string
		if len(missing) > 0 {
			parts = append(parts, didNotRunHere(missing, ranElsewhere, n))
		}
		if len(skipped) > 0 {
			parts = append(parts, skippedFiles(skipped))
		}
		o.verdict, o.reason = Fail, strings.Join(parts, "; ")
		if len(detail.Notes) > 0 {
			o.reason += " (" + listUpTo(detail.Notes, 2) + ")"
		}
	default:
		slices.Sort(sources)
		o.verdict = Pass
		o.reason = fmt.Sprintf("%d of %d test files passed (%s) in run %d", len(passed), n, strings.Join(sources, ", "), runID)
	}
	return o, nil
}

func didNotRun(missing []string, n int) string {
	if len(missing) == 1 {
		return missing[0] + " did not run"
	}
	return fmt.Sprintf("%d of %d test files did not run: %s", len(missing), n, strings.Join(missing, ", "))
}

// skippedFiles says that files whose tests were all skipped prove nothing.
func skippedFiles(files []string) string {
	if len(files) == 1 {
		return files[0] + " was skipped (all its tests were skipped, so it proves nothing)"
	}
	return strings.Join(files, ", ") + " were skipped (all their tests were skipped, so they prove nothing)"
}

// didNotRunHere adds, for files found in the output of another step, where they ran.
func didNotRunHere(missing, elsewhere []string, n int) string {
	if len(missing) == 1 && len(elsewhere) == 1 {
		return elsewhere[0]
	}
	s := didNotRun(missing, n)
	if len(elsewhere) > 0 {
		s += " (" + strings.Join(elsewhere, "; ") + ")"
	}
	return s
}

// combineFiles decides each configured file from the sources (nil = not used). Until
// every job completed a file is only ever failed or pending.
func combineFiles(files []string, logRep, junit *TestReport, allDone bool) []FileResult {
	out := make([]FileResult, 0, len(files))
	for _, f := range files {
		fr := FileResult{File: f}
		for _, src := range []struct {
			name string
			rep  *TestReport
		}{{"log", logRep}, {"junit", junit}} {
			if src.rep == nil {
				continue
			}
			fs := FileSource{Source: src.name}
			outs := src.rep.Matching(f)
			var any FileOutcome
			for _, o := range outs {
				fs.Paths = append(fs.Paths, clean(o.Path))
				fs.Tests += o.Tests
				fs.Failed += o.Failed
				fs.Skipped += o.Skipped
				any.PassMark = any.PassMark || o.PassMark
				any.FailMark = any.FailMark || o.FailMark || o.Failed > 0
				any.SkipMark = any.SkipMark || o.SkipMark
			}
			fs.Result = any.Result()
			fr.Sources = append(fr.Sources, fs)
		}
		var failedIn, passedIn, skippedIn []string
		for _, s := range fr.Sources {
			switch s.Result {
			case FileFailed:
				failedIn = append(failedIn, s.Source)
			case FilePassed:
				passedIn = append(passedIn, s.Source)
			case FileSkipped:
				skippedIn = append(skippedIn, s.Source)
			}
		}
		switch {
		case len(failedIn) > 0:
			fr.Result, fr.Source = FileFailed, strings.Join(failedIn, "+")
		case !allDone:
			fr.Result = filePending
		case len(passedIn) > 0:
			fr.Result, fr.Source = FilePassed, strings.Join(passedIn, "+")
		case len(skippedIn) > 0:
			fr.Result, fr.Source = FileSkipped, strings.Join(skippedIn, "+")
		default:
			fr.Result = FileDidNotRun
		}
		out = append(out, fr)
	}
	return out
}

// jobEvidence fetches what a completed job proves, once: its steps (ListJobs of the run,
// at most once per poll while the job is not listed as completed) and its log.
func (r *runner) jobEvidence(ctx context.Context, runID int64, c github.CheckContext, tg *config.TestsGate, useLog bool) (*jobEvidence, error) {
	key := fmt.Sprintf("%d\x00%s\x00%s\x00%t", c.ID, tg.Step, tg.Reporter, useLog)
	je := r.jobEv[key]
	if je == nil {
		je = &jobEvidence{}
		r.jobEv[key] = je
	}
	if je.ready {
		return je, nil
	}
	job, ok := findCompletedJob(r.jobsByRun[runID], c.ID)
	if !ok {
		if last, fetched := r.jobsFetched[runID]; fetched && last == r.polls {
			je.note = fmt.Sprintf("the details of job %d (listed as not completed yet)", c.ID)
			return je, nil
		}
		jobs, err := r.gh.ListJobs(ctx, runID)
		if err != nil {
			return nil, fmt.Errorf("list the jobs of run %d: %w", runID, err)
		}
		r.jobsByRun[runID], r.jobsFetched[runID] = jobs, r.polls
		if job, ok = findCompletedJob(jobs, c.ID); !ok {
			je.note = fmt.Sprintf("the details of job %d (listed as not completed yet)", c.ID)
			return je, nil
		}
	}
	je.job = job
	if tg.Step != "" {
		if i := slices.IndexFunc(job.Steps, func(s github.Step) bool { return s.Name == tg.Step }); i >= 0 {
			je.step, je.stepFound = job.Steps[i], true
		}
	}
	if useLog && !je.logRead && (tg.Step == "" || je.stepFound) {
		log, ok := r.logs[c.ID]
		if !ok {
			if r.logTried[c.ID] == r.polls && r.polls > 0 {
				je.note = fmt.Sprintf("the log of job %d to become available", c.ID)
				return je, nil
			}
			r.logTried[c.ID] = r.polls
			b, err := r.gh.JobLog(ctx, c.ID)
			if errors.Is(err, github.ErrNotFound) {
				je.note = fmt.Sprintf("the log of job %d to become available", c.ID)
				return je, nil
			}
			if errors.Is(err, github.ErrGone) {
				// Waiting cannot bring it back; without the log nothing proves the tests ran.
				je.logGone = fmt.Sprintf("the log of job %s (job %d) has expired (GitHub answered 410 Gone), so nothing proves its tests ran: re-run the job to produce fresh evidence", quote(c.Name), c.ID)
				je.logRead, je.ready = true, true
				return je, nil
			}
			if err != nil {
				return nil, fmt.Errorf("read the log of job %d: %w", c.ID, err)
			}
			log = b
			r.logs[c.ID] = b
		}
		je.window = "whole log"
		lines := LogLines(log, time.Time{}, time.Time{})
		if tg.Step != "" {
			sl := stepLines(log, job.Steps, tg.Step)
			je.window = "step"
			lines = sl.lines
			if !sl.found {
				je.window = "none"
				je.logNote = sl.why
			} else if sl.dropped > 0 {
				je.logNote = fmt.Sprintf("%s in the output of step %s stamped outside the step's time (from the jobs API) not read", plural(sl.dropped, "line"), quote(tg.Step))
			}
			je.other = otherSteps(log, job.Steps, tg.Step, tg.Reporter)
		}
		je.rep = ParseTestLog(lines, tg.Reporter)
		je.logRead = true
	}
	je.ready = true
	return je, nil
}

func findCompletedJob(jobs []github.Job, id int64) (github.Job, bool) {
	for _, j := range jobs {
		if j.ID == id && j.Status == "completed" {
			return j, true
		}
	}
	return github.Job{}, false
}

// junitEvidence downloads and reads the JUnit artifact of a run once per set of completed
// jobs (a re-run uploads it again).
func (r *runner) junitEvidence(ctx context.Context, runID int64, jobs []github.CheckContext, name string) (*junitEvidence, error) {
	var top int64
	for _, j := range jobs {
		top = max(top, j.ID)
	}
	key := fmt.Sprintf("%d\x00%d\x00%s", runID, top, name)
	if e := r.junitEv[key]; e != nil {
		return e, nil
	}
	e := &junitEvidence{}
	arts, err := r.gh.ListArtifacts(ctx, runID)
	if err != nil {
		return nil, fmt.Errorf("list the artifacts of run %d: %w", runID, err)
	}
	var pick github.Artifact
	expired := false
	for _, a := range arts {
		if a.Name != name {
			continue
		}
		if a.Expired {
			expired = true
			continue
		}
		if a.ID > pick.ID {
			pick = a
		}
	}
	switch {
	case pick.ID == 0 && expired:
		e.notes = append(e.notes, fmt.Sprintf("the JUnit artifact %s of run %d has expired", quote(name), runID))
	case pick.ID == 0:
		e.notes = append(e.notes, fmt.Sprintf("no JUnit artifact %s in run %d", quote(name), runID))
	default:
		data, err := r.gh.DownloadArtifact(ctx, pick.ID)
		switch {
		case errors.Is(err, github.ErrNotFound):
			e.notes = append(e.notes, fmt.Sprintf("the JUnit artifact %s (%d) could not be downloaded: not found", quote(name), pick.ID))
		case err != nil:
			return nil, fmt.Errorf("download artifact %d of run %d: %w", pick.ID, runID, err)
		default:
			rep, notes, err := JUnitFromZip(data)
			e.notes = append(e.notes, notes...)
			if err != nil {
				e.notes = append(e.notes, fmt.Sprintf("the JUnit artifact %s: %v", quote(name), err))
			} else {
				e.rep = &rep
			}
		}
	}
	r.junitEv[key] = e
	return e, nil
}
