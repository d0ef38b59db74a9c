package deploy

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/untrusted"

	"github.com/agentme/release-action/internal/clock"
	"github.com/agentme/release-action/internal/github"
)

// Defaults of Options.
const (
	DefaultTimeout      = 30 * time.Minute
	DefaultPollInterval = 10 * time.Second
	DefaultEventGrace   = 2 * time.Minute
	DefaultWorkflow     = "deploy.yml"
)

const (
	// runSkew: a run created up to this long before the trigger (by our clock) may still be
	// the triggered one, because GitHub's clock and ours differ.
	runSkew = 2 * time.Minute
	// quietMax: progress is never silent longer than this while a run is followed.
	quietMax = time.Minute
)

type deployer struct {
	gh       GitHub
	o        Options
	clk      clock.Clock
	env      string
	workflow string
	event    bool
	timeout  time.Duration
	poll     time.Duration
	grace    time.Duration

	start, deadline time.Time
	wf              github.Workflow
	rec             github.Deployment
	createdAt       time.Time // by our clock, when this attempt created the record
	res             *Result
	claimed         map[int64]bool // runs other deployments (or earlier attempts) own; nil until read
}

// Deploy creates (or reuses) the Deployment record of (environment, commit), triggers the
// deploy workflow, follows its run to completion and keeps the record's statuses true:
// in_progress "deploying (run N)" with log_url as soon as the run is known; at the end
// in_progress "deployed; validating" (the run succeeded; the caller validates next and calls
// MarkValidated or MarkSmokeFailed), failure "deploy failed: run N concluded <conclusion>" or
// error "deploy error: ..." (timeout, a run of the wrong commit, no run at all).
//
// The trigger is a workflow_dispatch of Trigger.Workflow on the tag with inputs environment,
// ref and deployment_id (default), or, with Trigger.Event "deployment", the record's creation
// itself; Trigger.Workflow must then name the workflow that runs `on: deployment`, so that
// its runs can be found. The environment's timeout (default 30m) bounds everything from the
// start of Deploy to the run's completion, approval waits included.
//
// Deploy checks the workflow exists before it creates anything. With a State it reuses
// State.Record (and follows State.RunID at StageDeploying instead of triggering again);
// without one it reads the state itself, so a second record for the same environment and
// commit is never made. Records made through the deployment event cannot trigger a second
// time: a reused record whose run already ran ends in State "error" with the explanation,
// and no status is added.
//
// Only API failures and cancellation are errors; a failed deploy is a Result whose State is
// not "success". On an error Deploy returns at once and leaves the record as it was (a
// re-run resumes from it); the Result, when not nil, holds what was known.
func Deploy(ctx context.Context, gh GitHub, o Options) (*Result, error) {
	d, err := newDeployer(gh, o)
	if err != nil {
		return nil, err
	}
	return d.run(ctx)
}

func newDeployer(gh GitHub, o Options) (*deployer, error) {
	name := o.Environment.Name
	switch {
	case gh == nil:
		return nil, errors.New("deploy: no GitHub client")
	case o.Clock == nil:
		return nil, errors.New("deploy: no clock")
	case name == "":
		return nil, errors.New("deploy: no environment name")
	case o.SHA == "":
		return nil, fmt.Errorf("deploy to %s: no commit", name)
	case o.Tag == "":
		return nil, fmt.Errorf("deploy %s to %s: no tag to deploy", untrusted.ShortSHA(o.SHA), name)
	}
	d := &deployer{
		gh: gh, o: o, clk: o.Clock, env: name,
		workflow: cmp.Or(o.Trigger.Workflow, DefaultWorkflow),
		timeout:  cmp.Or(o.Environment.Timeout.D(), DefaultTimeout),
		poll:     cmp.Or(o.PollInterval, DefaultPollInterval),
		grace:    cmp.Or(o.EventGrace, DefaultEventGrace),
	}
	switch o.Trigger.Event {
	case "", TriggerDispatch:
	case TriggerEvent:
		d.event = true
	default:
		return nil, fmt.Errorf("deploy %s to %s: unknown trigger event %q: set deploy.event to %q or leave it out for workflow dispatch",
			untrusted.ShortSHA(o.SHA), name, untrusted.Clean(o.Trigger.Event), TriggerEvent)
	}
	if s := o.State; s != nil {
		if (s.SHA != "" && !strings.EqualFold(s.SHA, o.SHA)) || (s.Environment != "" && !strings.EqualFold(s.Environment, name)) ||
			(s.Record != nil && s.Record.SHA != "" && !strings.EqualFold(s.Record.SHA, o.SHA)) {
			return nil, fmt.Errorf("deploy %s to %s: the state given is of %s in %s", untrusted.ShortSHA(o.SHA), name, untrusted.ShortSHA(s.SHA), s.Environment)
		}
	}
	trigger := TriggerDispatch
	if d.event {
		trigger = TriggerEvent
	}
	d.res = &Result{Environment: name, Trigger: trigger, Workflow: d.workflow, EnvironmentURL: o.Environment.URL}
	return d, nil
}

func (d *deployer) say(msg string) {
	if d.o.Progress != nil {
		d.o.Progress(d.env + ": " + msg)
	}
}

// what names the deployment in errors: "production@0123abc".
func (d *deployer) what() string { return d.env + "@" + untrusted.ShortSHA(d.o.SHA) }

func (d *deployer) run(ctx context.Context) (*Result, error) {
	d.start = d.clk.Now()
	d.deadline = d.start.Add(d.timeout)
	wf, err := d.gh.FindWorkflow(ctx, d.workflow)
	if err != nil {
		return nil, fmt.Errorf("find the deploy workflow %q for %s: %w", d.workflow, d.what(), err)
	}
	d.wf = wf
	st := d.o.State
	if st == nil {
		s, err := Inspect(ctx, d.gh, d.env, d.o.SHA, d.timeout, d.start)
		if err != nil {
			return nil, err
		}
		st = &s
	}
	if st.Record != nil {
		d.rec = *st.Record
		d.res.Reused = true
		d.res.DeploymentID = d.rec.ID
		d.say(fmt.Sprintf("reusing deployment %d of %s (stage %s)", d.rec.ID, untrusted.ShortSHA(d.o.SHA), st.Stage))
	} else if err := d.create(ctx); err != nil {
		return nil, err
	}
	if d.rec.SHA != "" && !strings.EqualFold(d.rec.SHA, d.o.SHA) {
		// The tag the record was made for names another commit: nothing may run.
		return d.end(ctx, "error", StateError,
			fmt.Sprintf("deploy error: %s names %s, not the candidate %s", untrusted.Clean(d.o.Tag), untrusted.ShortSHA(d.rec.SHA), untrusted.ShortSHA(d.o.SHA)),
			fmt.Sprintf("deployment %d was made for %s, which names commit %s, not the candidate %s; tags never move: check the tag",
				d.rec.ID, untrusted.Clean(d.o.Tag), untrusted.ShortSHA(d.rec.SHA), untrusted.ShortSHA(d.o.SHA)), "")
	}

	run, found, err := d.resume(ctx, st)
	if err != nil {
		return d.res, err
	}
	if found {
		d.res.Resumed = true
		// After a timeout the newest status is the error: say again that the run deploys.
		return d.follow(ctx, run, st.TimedOut && run.Status != "completed")
	}
	if d.event {
		if st.Record != nil && st.Latest != nil {
			return d.refuseEvent(st)
		}
		return d.eventRun(ctx)
	}
	return d.dispatch(ctx)
}

// create makes the record of (environment, commit).
func (d *deployer) create(ctx context.Context) error {
	p := d.o.Payload
	p.ReleaseAction = cmp.Or(p.ReleaseAction, 1)
	p.Commit = cmp.Or(p.Commit, d.o.SHA)
	p.Tag = cmp.Or(p.Tag, d.o.Tag)
	raw, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encode the payload of the deployment for %s: %w", d.what(), err)
	}
	req := github.DeploymentRequest{
		Ref: d.o.Tag, Environment: d.env, Description: Description(d.o.Tag), Task: "deploy", Payload: raw,
	}
	if d.o.Production {
		prod := true
		req.ProductionEnvironment = &prod
	}
	rec, err := d.gh.CreateDeployment(ctx, req)
	if err != nil {
		return fmt.Errorf("create deployment for %s: %w", d.what(), err)
	}
	d.rec, d.createdAt = rec, d.clk.Now()
	d.res.DeploymentID = rec.ID
	d.say(fmt.Sprintf("created deployment %d of %s (%s)", rec.ID, untrusted.ShortSHA(d.o.SHA), untrusted.Clean(d.o.Tag)))
	return nil
}

// resume returns the run an earlier attempt started when Next would follow it: the record is
// at StageDeploying or timed out, and the run still runs (or completed, see Next).
func (d *deployer) resume(ctx context.Context, st *State) (github.WorkflowRun, bool, error) {
	run, ok, err := resumable(ctx, d.gh, st)
	if err != nil {
		return github.WorkflowRun{}, false, err
	}
	if note := resumeNote(st, run, ok); note != "" {
		d.say(note)
	}
	if !ok {
		return github.WorkflowRun{}, false, nil
	}
	if st.TimedOut {
		d.say(fmt.Sprintf("following run %d, which an earlier attempt stopped waiting for", st.RunID))
	} else {
		d.say(fmt.Sprintf("following run %d, started by an earlier attempt", st.RunID))
	}
	return run, true, nil
}

// dispatch triggers the deploy workflow on the tag and follows its run.
func (d *deployer) dispatch(ctx context.Context) (*Result, error) {
	inputs := map[string]string{
		"environment":   d.env,
		"ref":           d.o.Tag,
		"deployment_id": strconv.FormatInt(d.rec.ID, 10),
	}
	at := d.clk.Now()
	dr, err := d.gh.DispatchWorkflow(ctx, d.wf.ID, d.o.Tag, inputs)
	if err != nil {
		return d.res, fmt.Errorf("dispatch %s on %s for deployment %d (%s): %w", d.workflow, d.o.Tag, d.rec.ID, d.what(), err)
	}
	id := dr.RunID
	if id != 0 {
		d.say(fmt.Sprintf("dispatched %s on %s as run %d", d.workflow, untrusted.Clean(d.o.Tag), id))
	} else {
		d.say(fmt.Sprintf("dispatched %s on %s; the server returned no run id, looking for the run", d.workflow, untrusted.Clean(d.o.Tag)))
		var ok bool
		id, ok, err = d.discover(ctx, TriggerDispatch, at.Add(-runSkew), d.deadline)
		if err != nil {
			return d.res, err
		}
		if !ok {
			return d.end(ctx, "error", StateError,
				fmt.Sprintf("deploy error: timed out after %s; no run of %s appeared after the dispatch", d.timeout, d.workflow),
				fmt.Sprintf("%s was dispatched on %s but no workflow_dispatch run of %s appeared within the %s timeout of %s; check the workflow's Actions page",
					d.workflow, untrusted.Clean(d.o.Tag), untrusted.ShortSHA(d.o.SHA), d.env, d.timeout), "")
		}
		d.say(fmt.Sprintf("found the dispatched run %d", id))
	}
	run, err := d.getRun(ctx, id)
	if err != nil {
		return d.res, err
	}
	return d.follow(ctx, run, true)
}

// eventRun waits (up to the grace) for the run the record's deployment event started.
func (d *deployer) eventRun(ctx context.Context) (*Result, error) {
	now := d.clk.Now()
	grace := min(d.grace, d.deadline.Sub(now))
	since := d.rec.CreatedAt
	if since.IsZero() {
		since = cmp.Or(d.createdAt, now)
	}
	d.say(fmt.Sprintf("deployment %d is the trigger (deployment event); waiting up to %s for %s to start", d.rec.ID, shortDur(grace), d.workflow))
	id, ok, err := d.discover(ctx, TriggerEvent, since.Add(-runSkew), now.Add(grace))
	if err != nil {
		return d.res, err
	}
	if !ok {
		return d.end(ctx, "error", StateError,
			fmt.Sprintf("deploy error: no workflow started within %s; deployments made with GITHUB_TOKEN start none: use a PAT/App deploy-token", shortDur(grace)),
			fmt.Sprintf("no workflow started for deployment %d within %s: deployments created with GITHUB_TOKEN start no workflows; "+
				"give a PAT or GitHub App token as deploy-token, or use the default workflow dispatch trigger "+
				"(deploy.workflow, here %s, must name the workflow that runs on: deployment)", d.rec.ID, shortDur(grace), d.workflow), "")
	}
	d.say(fmt.Sprintf("run %d of %s started for deployment %d", id, d.workflow, d.rec.ID))
	run, err := d.getRun(ctx, id)
	if err != nil {
		return d.res, err
	}
	return d.follow(ctx, run, true)
}

// refuseEvent ends a deployment-event deploy whose reused record already had its run: the
// event fires only when a record is created, and a second record is never made.
func (d *deployer) refuseEvent(st *State) (*Result, error) {
	d.res.State = StateError
	d.res.RunID = st.RunID
	d.res.Reason = fmt.Sprintf("deployment %d of %s to %s exists already (stage %s) and the deployment event fires only when a record is created; "+
		"release-action keeps one record per environment and commit, so it cannot trigger again: "+
		"use the workflow dispatch trigger (leave deploy.event out) to deploy this commit again, or release a new commit",
		d.rec.ID, untrusted.ShortSHA(d.o.SHA), d.env, st.Stage)
	d.res.Duration = config.Duration(d.clk.Now().Sub(d.start))
	d.say(d.res.Reason)
	return d.res, nil
}

// discover polls for the run of the trigger: the newest run of the workflow for the commit
// with the event, created since `since`, that no release-action deployment claims (a run
// named by a status of any release-action record of the commit, earlier attempts of this
// record included). It gives up at until.
func (d *deployer) discover(ctx context.Context, event string, since, until time.Time) (int64, bool, error) {
	from := d.clk.Now()
	lastSaid := from
	for {
		runs, err := d.gh.ListWorkflowRuns(ctx, d.wf.ID, github.RunFilter{Event: event, HeadSHA: d.o.SHA, CreatedSince: since})
		if err != nil {
			return 0, false, fmt.Errorf("look for the %s run of %s for %s: %w", event, d.workflow, d.what(), err)
		}
		var cands []github.WorkflowRun
		for _, r := range runs {
			if r.ID != 0 && strings.EqualFold(r.HeadSHA, d.o.SHA) && (r.Event == "" || r.Event == event) &&
				(r.CreatedAt.IsZero() || !r.CreatedAt.Before(since)) {
				cands = append(cands, r)
			}
		}
		if len(cands) > 0 {
			claimed, err := d.claims(ctx)
			if err != nil {
				return 0, false, err
			}
			slices.SortStableFunc(cands, func(a, b github.WorkflowRun) int {
				if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
					return c
				}
				return cmp.Compare(b.ID, a.ID)
			})
			for _, r := range cands {
				if !claimed[r.ID] {
					return r.ID, true, nil
				}
			}
		}
		now := d.clk.Now()
		if !now.Before(until) {
			return 0, false, nil
		}
		if now.Sub(lastSaid) >= quietMax {
			d.say(fmt.Sprintf("still looking for the %s run of %s (%s so far)", event, d.workflow, dur(now.Sub(from))))
			lastSaid = now
		}
		if err := d.clk.Sleep(ctx, min(d.poll, until.Sub(now))); err != nil {
			return 0, false, fmt.Errorf("wait for the %s run of %s for %s: %w", event, d.workflow, d.what(), err)
		}
	}
}

// claims reads (once) the runs release-action deployments of the commit already follow, in
// any environment: the deploy workflow of staging and production runs for the same commit
// and event, so the newest run alone may be another environment's.
func (d *deployer) claims(ctx context.Context) (map[int64]bool, error) {
	if d.claimed != nil {
		return d.claimed, nil
	}
	recs, err := d.gh.ListDeployments(ctx, github.DeploymentFilter{SHA: d.o.SHA})
	if err != nil {
		return nil, fmt.Errorf("list deployments of %s to see which runs they follow: %w", untrusted.ShortSHA(d.o.SHA), err)
	}
	claimed := map[int64]bool{}
	for _, r := range recs {
		if !isOurRecord(r) || !strings.EqualFold(r.SHA, d.o.SHA) {
			continue
		}
		ss, err := statuses(ctx, d.gh, r.ID)
		if err != nil {
			return nil, err
		}
		for _, s := range ss {
			if id := runOf(s); id != 0 {
				claimed[id] = true
			}
		}
	}
	d.claimed = claimed
	return claimed, nil
}

func (d *deployer) getRun(ctx context.Context, id int64) (github.WorkflowRun, error) {
	run, err := d.gh.GetWorkflowRun(ctx, id)
	if err != nil {
		return github.WorkflowRun{}, fmt.Errorf("read deploy run %d of %s: %w", id, d.what(), err)
	}
	return run, nil
}

// status adds a status to the record.
func (d *deployer) status(ctx context.Context, state, desc, logURL, envURL string) error {
	_, err := d.gh.CreateDeploymentStatus(ctx, d.rec.ID, github.DeploymentStatusRequest{
		State: state, Description: Description(desc), LogURL: logURL, EnvironmentURL: envURL,
	})
	if err != nil {
		return fmt.Errorf("add status %s %q to deployment %d (%s): %w", state, untrusted.Cut(desc, 60), d.rec.ID, d.what(), err)
	}
	return nil
}

// end adds the final status and completes the Result.
func (d *deployer) end(ctx context.Context, state, resultState, desc, reason, logURL string) (*Result, error) {
	if err := d.status(ctx, state, desc, logURL, d.o.Environment.URL); err != nil {
		return d.res, err
	}
	d.res.State = resultState
	d.res.Reason = reason
	d.res.Duration = config.Duration(d.clk.Now().Sub(d.start))
	d.say(reason)
	return d.res, nil
}
