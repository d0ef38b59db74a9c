// Package stoprollout stops what is rolling out to an environment (runbook 3.1, "Stop
// rollout immediately"): the release runs that deployed, are deploying or are monitoring
// it, the deploy runs behind its unfinished Deployment records, and the runs of workflows
// the configuration names. The rollback calls it before it deploys; it never races a
// deploy that is still running.
//
// What is stopped:
//   - release runs: every Deployment record of the environment whose payload names the run
//     that made it (run_url, release-action's payload) while that run is still queued,
//     waiting or in progress, so a release in its post-release monitor is found although
//     its deployment says success;
//   - deploy runs: the run behind each record whose newest status is queued, pending or
//     in_progress (named by the status's "(run N)" or its log_url);
//   - runs of Options.Workflows that are queued, waiting or in progress.
//
// Never stopped: Options.SelfRunID (the caller's own run), and whatever Options.Skip
// excludes (the rollback excludes rollback deployments: it follows them instead).
//
// Each run gets a cancel (202; 409 means it completed meanwhile, which is fine); a run that
// has not completed Grace after its cancel (steps with `if: always()` keep going) gets a
// force-cancel; a run still not completed Timeout after the stop began is a failed stop
// (Report.Unstopped), never an error. After the runs stopped, each record whose newest
// status was queued, pending or in_progress gets error "stopped by rollback: <reason>".
package stoprollout

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/agentme/release-action/internal/clock"
	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/deploy"
	"github.com/agentme/release-action/internal/github"
	"github.com/agentme/release-action/internal/untrusted"
)

// GitHub is what stopping a rollout needs of the client (*github.Client satisfies it).
type GitHub interface {
	ListDeployments(ctx context.Context, f github.DeploymentFilter) ([]github.Deployment, error)
	ListDeploymentStatuses(ctx context.Context, deploymentID int64) ([]github.DeploymentStatus, error)
	CreateDeploymentStatus(ctx context.Context, deploymentID int64, r github.DeploymentStatusRequest) (github.DeploymentStatus, error)
	FindWorkflow(ctx context.Context, nameOrFile string) (github.Workflow, error)
	ListRunsByStatus(ctx context.Context, status string) ([]github.WorkflowRun, error)
	GetWorkflowRun(ctx context.Context, runID int64) (github.WorkflowRun, error)
	CancelWorkflowRun(ctx context.Context, runID int64) error
	ForceCancelWorkflowRun(ctx context.Context, runID int64) error
}

// Defaults of Options.
const (
	DefaultGrace        = 60 * time.Second
	DefaultTimeout      = 5 * time.Minute
	DefaultPollInterval = 5 * time.Second
	// MaxRecords is how many of the environment's newest Deployment records are read.
	MaxRecords = 30
)

// activeStatuses are the run statuses that mean "not completed" and may be listed; GitHub
// rarely shows the optional ones, and a server that refuses them as a filter is not
// asked again.
var (
	activeStatuses   = []string{"queued", "in_progress", "waiting", "pending", "requested"}
	optionalStatuses = map[string]bool{"pending": true, "requested": true}
)

// Options of one stop.
type Options struct {
	Environment string
	// Reason is recorded in the statuses of interrupted records ("stopped by rollback: <reason>").
	Reason string
	// By names who stops, in the statuses (default "rollback").
	By string
	// SelfRunID is the caller's own run (GITHUB_RUN_ID): it is never stopped.
	SelfRunID int64
	// Workflows are names or files of workflows whose active runs are stopped too.
	Workflows []string
	// DeployWorkflow (name or file) finds the deploy run behind an unfinished record whose
	// statuses name no run: its active runs of the record's commit.
	DeployWorkflow string
	// Skip excludes Deployment records (their runs are not stopped, their statuses kept).
	Skip func(github.Deployment) bool
	// Grace before a force-cancel (default 60s); Timeout of the whole stop (default 5m).
	Grace, Timeout time.Duration
	// PollInterval between reads of a cancelled run (default 5s).
	PollInterval time.Duration
	// LogURL is the caller's run page, linked from the statuses it writes.
	LogURL   string
	Clock    clock.Clock
	Progress func(string)
	// FindOnly reports what a stop would cancel and mark, and stops nothing: a dry run's
	// plan (it reads exactly what a stop reads, then returns before the first write).
	FindOnly bool
}

// Run is one run that was stopped (or was to be).
type Run struct {
	ID       int64  `json:"id"`
	URL      string `json:"url,omitempty"`
	Workflow string `json:"workflow,omitempty"`
	// Why says how it was found ("release run of deployment 123").
	Why string `json:"why"`
	// Status when found; Conclusion once completed ("cancelled", or how it ended by itself).
	Status     string `json:"status"`
	Conclusion string `json:"conclusion,omitempty"`
	// AlreadyCompleted: GitHub answered 409 (or 404) to the cancel: it ended by itself.
	AlreadyCompleted bool `json:"already_completed,omitempty"`
	// Forced: it needed a force-cancel after the grace period.
	Forced bool `json:"forced,omitempty"`
	// Stopped: GitHub reports it completed.
	Stopped bool `json:"stopped"`
	// Took is from its cancel to GitHub reporting it completed.
	Took config.Duration `json:"took"`

	cancelledAt time.Time
}

// Record is one Deployment record given a final status.
type Record struct {
	ID  int64  `json:"id"`
	SHA string `json:"sha"`
	// Was is the newest status it had ("in_progress: release-action: deploying (run 5)").
	Was    string `json:"was"`
	Marked bool   `json:"marked"`
}

// Report says what the stop did.
type Report struct {
	Environment string   `json:"environment"`
	Runs        []Run    `json:"runs"`
	Records     []Record `json:"records"`
	// Unstopped lists the runs still not completed at Timeout (the stop failed).
	Unstopped []int64 `json:"unstopped,omitempty"`
	// Warnings: a record that could not be marked, a workflow that does not exist.
	Warnings []string        `json:"warnings,omitempty"`
	Duration config.Duration `json:"duration"`
}

// Stopped reports whether every run found is completed.
func (r *Report) Stopped() bool { return r != nil && len(r.Unstopped) == 0 }

// Run returns the run with id, nil if the report has none.
func (r *Report) Run(id int64) *Run {
	for i := range r.Runs {
		if r.Runs[i].ID == id {
			return &r.Runs[i]
		}
	}
	return nil
}

type stopper struct {
	gh       GitHub
	o        Options
	clk      clock.Clock
	rep      *Report
	runs     map[int64]*Run
	order    []int64
	deployWF *github.Workflow // read once by deployRunsOf
}

// Stop finds what is rolling out to o.Environment and stops it (see the package
// documentation). Errors are API failures and cancellation; a run that would not stop is
// Report.Unstopped.
func Stop(ctx context.Context, gh GitHub, o Options) (*Report, error) {
	if gh == nil {
		return nil, errors.New("stop rollout: no GitHub client")
	}
	if strings.TrimSpace(o.Environment) == "" {
		return nil, errors.New("stop rollout: no environment")
	}
	s := &stopper{gh: gh, o: o, clk: o.Clock, rep: &Report{Environment: o.Environment, Runs: []Run{}, Records: []Record{}}, runs: map[int64]*Run{}}
	if s.clk == nil {
		s.clk = clock.Real{}
	}
	s.o.Grace = cmp.Or(o.Grace, DefaultGrace)
	s.o.Timeout = cmp.Or(o.Timeout, DefaultTimeout)
	s.o.PollInterval = cmp.Or(o.PollInterval, DefaultPollInterval)
	s.o.By = cmp.Or(strings.TrimSpace(o.By), "rollback")
	start := s.clk.Now()
	defer func() {
		// Also on an error: the report says what was cancelled so far.
		for _, id := range s.order {
			s.rep.Runs = append(s.rep.Runs, *s.runs[id])
		}
		s.rep.Duration = config.Duration(s.clk.Now().Sub(start))
	}()

	active, err := s.activeRuns(ctx)
	if err != nil {
		return s.rep, err
	}
	records, err := s.findRecords(ctx, active)
	if err != nil {
		return s.rep, err
	}
	if err := s.findWorkflowRuns(ctx, active); err != nil {
		return s.rep, err
	}
	if len(s.order) == 0 && len(records) == 0 {
		s.say("nothing is rolling out to %s", o.Environment)
		return s.rep, nil
	}
	if o.FindOnly {
		s.rep.Records = append(s.rep.Records, records...)
		return s.rep, nil
	}
	if err := s.stopRuns(ctx, start); err != nil {
		return s.rep, err
	}
	if !s.rep.Stopped() {
		return s.rep, nil // never write "stopped" on a record whose run still goes
	}
	for _, rec := range records {
		s.mark(ctx, rec)
	}
	return s.rep, ctx.Err()
}

func (s *stopper) say(format string, args ...any) {
	if s.o.Progress != nil {
		s.o.Progress("stop rollout to " + s.o.Environment + ": " + fmt.Sprintf(format, args...))
	}
}

func (s *stopper) warn(format string, args ...any) {
	w := fmt.Sprintf(format, args...)
	s.rep.Warnings = append(s.rep.Warnings, w)
	s.say("warning: %s", w)
}

// activeRuns lists the repository's runs that are not completed, by id.
func (s *stopper) activeRuns(ctx context.Context) (map[int64]github.WorkflowRun, error) {
	out := map[int64]github.WorkflowRun{}
	for _, st := range activeStatuses {
		runs, err := s.gh.ListRunsByStatus(ctx, st)
		var api *github.APIError
		if err != nil && optionalStatuses[st] && errors.As(err, &api) && (api.StatusCode == 400 || api.StatusCode == 422) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("find the runs rolling out to %s: %w", s.o.Environment, err)
		}
		for _, r := range runs {
			if r.Status != "completed" { // a server that ignores the filter lists every run
				out[r.ID] = r
			}
		}
	}
	return out, nil
}

// add takes run id as one to stop, unless it is the caller's own.
func (s *stopper) add(id int64, r github.WorkflowRun, why string) {
	if id <= 0 || id == s.o.SelfRunID {
		return
	}
	if have, ok := s.runs[id]; ok {
		if !strings.Contains(have.Why, why) {
			have.Why += "; " + why
		}
		return
	}
	s.runs[id] = &Run{ID: id, URL: r.HTMLURL, Workflow: r.Name, Why: why, Status: r.Status}
	s.order = append(s.order, id)
}

// findRecords reads the environment's newest records: it takes the release runs their
// payloads name and the deploy runs of the unfinished ones, and returns the unfinished ones.
func (s *stopper) findRecords(ctx context.Context, active map[int64]github.WorkflowRun) ([]Record, error) {
	env := s.o.Environment
	recs, err := s.gh.ListDeployments(ctx, github.DeploymentFilter{Environment: env})
	if err != nil {
		return nil, fmt.Errorf("list the deployments of %s to find what rolls out: %w", env, err)
	}
	deploy.SortNewestFirst(recs)
	var open []Record
	for i, d := range recs {
		if i >= MaxRecords {
			break
		}
		if d.Environment != "" && !strings.EqualFold(d.Environment, env) {
			continue
		}
		if s.o.Skip != nil && s.o.Skip(d) {
			continue
		}
		if id := RunIDOfURL(payloadRunURL(d)); id != 0 {
			if r, ok := active[id]; ok {
				s.add(id, r, fmt.Sprintf("release run of deployment %d (%s)", d.ID, untrusted.ShortSHA(d.SHA)))
			}
		}
		ss, err := s.gh.ListDeploymentStatuses(ctx, d.ID)
		if err != nil {
			return nil, fmt.Errorf("list the statuses of deployment %d of %s: %w", d.ID, env, err)
		}
		if len(ss) == 0 {
			continue // a record without a status is not a deploy in progress
		}
		slices.SortStableFunc(ss, func(a, b github.DeploymentStatus) int {
			if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
				return c
			}
			return cmp.Compare(b.ID, a.ID)
		})
		latest := ss[0]
		switch latest.State {
		case "queued", "pending", "in_progress":
		default:
			continue
		}
		var runID int64
		for _, st := range ss {
			if runID = runOfStatus(st); runID != 0 {
				break
			}
		}
		why := fmt.Sprintf("deploy run of deployment %d (%s, %s)", d.ID, untrusted.ShortSHA(d.SHA), latest.State)
		if runID == 0 {
			runs, err := s.deployRunsOf(ctx, d.SHA, active)
			if err != nil {
				return nil, err
			}
			if len(runs) == 0 {
				// Nothing here can stop a deploy that names no run (an external deployer):
				// the record is left as it is, and the caller refuses to race it.
				s.warn("deployment %d (%s) of %s is %s and names no workflow run: it cannot be stopped from here; stop that deploy where it runs",
					d.ID, untrusted.ShortSHA(d.SHA), env, latest.State)
				continue
			}
			for _, r := range runs {
				s.add(r.ID, r, why)
			}
		} else if r, ok := active[runID]; ok {
			s.add(runID, r, why)
		}
		// Its run is stopped now, or had ended without the record being told: either way
		// the record must not go on saying the deploy runs.
		was := latest.State
		if latest.Description != "" {
			was += ": " + latest.Description
		}
		open = append(open, Record{ID: d.ID, SHA: d.SHA, Was: untrusted.OneLine(was, 160)})
	}
	return open, nil
}

// deployRunsOf returns the active runs of the deploy workflow on commit sha.
func (s *stopper) deployRunsOf(ctx context.Context, sha string, active map[int64]github.WorkflowRun) ([]github.WorkflowRun, error) {
	if s.o.DeployWorkflow == "" || sha == "" {
		return nil, nil
	}
	if s.deployWF == nil {
		wf, err := s.gh.FindWorkflow(ctx, s.o.DeployWorkflow)
		if errors.Is(err, github.ErrNotFound) {
			s.deployWF = &github.Workflow{}
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("find the deploy workflow %q: %w", untrusted.Clean(s.o.DeployWorkflow), err)
		}
		s.deployWF = &wf
	}
	var out []github.WorkflowRun
	for _, r := range active {
		if s.deployWF.ID != 0 && r.WorkflowID == s.deployWF.ID && strings.EqualFold(r.HeadSHA, sha) {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b github.WorkflowRun) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// findWorkflowRuns takes the active runs of the configured workflows.
func (s *stopper) findWorkflowRuns(ctx context.Context, active map[int64]github.WorkflowRun) error {
	for _, name := range s.o.Workflows {
		wf, err := s.gh.FindWorkflow(ctx, name)
		if errors.Is(err, github.ErrNotFound) {
			s.warn("workflow %q (rollback stop-workflows) does not exist in the repository: nothing of it was stopped; fix the name in the configuration", untrusted.Clean(name))
			continue
		}
		if err != nil {
			return fmt.Errorf("find workflow %q to stop its runs: %w", untrusted.Clean(name), err)
		}
		ids := make([]int64, 0, len(active))
		for id := range active {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		for _, id := range ids {
			if r := active[id]; r.WorkflowID == wf.ID {
				s.add(id, r, "run of "+untrusted.Clean(cmp.Or(wf.Name, name)))
			}
		}
	}
	return nil
}

// stopRuns cancels every run, waits for each to complete, force-cancels those that outlive
// the grace period, and gives up on those that outlive the timeout.
func (s *stopper) stopRuns(ctx context.Context, start time.Time) error {
	deadline := start.Add(s.o.Timeout)
	for _, id := range s.order {
		r := s.runs[id]
		s.say("cancelling run %d (%s)", id, r.Why)
		r.cancelledAt = s.clk.Now()
		if err := s.gh.CancelWorkflowRun(ctx, id); err != nil {
			if done := s.gone(r, err); done {
				continue
			}
			return s.apiErr("cancel", id, err)
		}
	}
	for {
		pending := 0
		for _, id := range s.order {
			r := s.runs[id]
			if r.Stopped {
				continue
			}
			run, err := s.gh.GetWorkflowRun(ctx, id)
			if errors.Is(err, github.ErrNotFound) {
				r.Stopped, r.AlreadyCompleted = true, true
				continue
			}
			if err != nil {
				return fmt.Errorf("read run %d after cancelling it: %w", id, err)
			}
			now := s.clk.Now()
			if run.Status == "completed" {
				r.Stopped, r.Conclusion = true, run.Conclusion
				r.Took = config.Duration(now.Sub(r.cancelledAt))
				s.say("run %d stopped (%s) after %s", id, untrusted.Clean(run.Conclusion), r.Took)
				continue
			}
			pending++
			if !r.Forced && now.Sub(r.cancelledAt) >= s.o.Grace {
				s.say("run %d still %s %s after its cancel (steps that run always() go on): force-cancelling it", id, untrusted.Clean(run.Status), now.Sub(r.cancelledAt).Round(time.Second))
				r.Forced = true
				err := s.gh.ForceCancelWorkflowRun(ctx, id)
				switch {
				case err == nil, errors.Is(err, github.ErrRunCompleted):
				case errors.Is(err, github.ErrNotFound):
					// The run was just read, so it is the endpoint that is missing (an
					// older GitHub Enterprise Server): keep waiting for the cancel.
					s.warn("force-cancel of run %d is not available on this server (404): waiting for its cancel until the stop timeout", id)
				default:
					return s.apiErr("force-cancel", id, err)
				}
			}
		}
		if pending == 0 {
			return nil
		}
		if !s.clk.Now().Before(deadline) {
			for _, id := range s.order {
				if !s.runs[id].Stopped {
					s.rep.Unstopped = append(s.rep.Unstopped, id)
				}
			}
			return nil
		}
		if err := s.clk.Sleep(ctx, min(s.o.PollInterval, max(deadline.Sub(s.clk.Now()), time.Second))); err != nil {
			return err
		}
	}
}

// gone handles a cancel of a run that completed or vanished meanwhile (true: nothing to wait for).
func (s *stopper) gone(r *Run, err error) bool {
	if errors.Is(err, github.ErrRunCompleted) || errors.Is(err, github.ErrNotFound) {
		r.Stopped, r.AlreadyCompleted = true, true
		s.say("run %d had already completed", r.ID)
		return true
	}
	return false
}

func (s *stopper) apiErr(verb string, id int64, err error) error {
	if errors.Is(err, github.ErrForbidden) {
		return fmt.Errorf("%s run %d: %w: the token may not cancel runs; give the job `permissions: actions: write`", verb, id, err)
	}
	return fmt.Errorf("%s run %d: %w", verb, id, err)
}

// mark gives an interrupted record its final status; a failure is a warning (the runs are
// stopped, which is what the rollback needs).
func (s *stopper) mark(ctx context.Context, rec Record) {
	text := "stopped by " + s.o.By
	if r := untrusted.OneLine(s.o.Reason, 100); r != "" {
		text += ": " + r
	}
	_, err := s.gh.CreateDeploymentStatus(ctx, rec.ID, github.DeploymentStatusRequest{
		State: "error", Description: deploy.Description(text), LogURL: s.o.LogURL,
	})
	if err != nil {
		s.warn("marking the interrupted deployment %d as stopped failed (%v): its record still shows %s; add an error status by hand", rec.ID, err, rec.Was)
	} else {
		rec.Marked = true
		s.say("deployment %d (%s) marked: %s", rec.ID, untrusted.ShortSHA(rec.SHA), text)
	}
	s.rep.Records = append(s.rep.Records, rec)
}

var (
	runInURL  = regexp.MustCompile(`/actions/runs/([1-9][0-9]{0,17})(?:[/?#]|$)`)
	runInText = regexp.MustCompile(`\(run ([1-9][0-9]{0,17})\)|\brun ([1-9][0-9]{0,17}) (?:concluded|ran|was)\b`)
)

// RunIDOfURL returns the run id of a run page URL (".../actions/runs/N[/attempts/M]"), 0 if none.
func RunIDOfURL(u string) int64 {
	m := runInURL.FindStringSubmatch(u)
	if m == nil {
		return 0
	}
	id, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil || id <= 0 {
		return 0
	}
	return id
}

// runOfStatus returns the run a status names: release-action's "(run N)" in the
// description, else its log_url (GitHub Actions' own records link the job's run).
func runOfStatus(st github.DeploymentStatus) int64 {
	if m := runInText.FindStringSubmatch(st.Description); m != nil {
		if id, err := strconv.ParseInt(cmp.Or(m[1], m[2]), 10, 64); err == nil && id > 0 {
			return id
		}
	}
	return RunIDOfURL(st.LogURL)
}

// payloadRunURL is the run_url of a record's payload.
func payloadRunURL(d github.Deployment) string { return deploy.PayloadOf(d).RunURL }
