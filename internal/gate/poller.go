package gate

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/agentme/release-action/internal/github"
)

// The gate owns its polling state; the GitHub client is only the door (transport, the
// ETag cache, cost and rate limits). One poll:
//
//  1. Reads the commit's check runs and statuses over REST (GitHub.CheckRunStates and
//     StatusStates). Every page is conditional: while nothing changed they are free 304s.
//     When what they say (ids, names, states) is what the last complete snapshot was made
//     from, that snapshot is the answer and nothing else is sent.
//  2. REST says nothing about workflows. Which workflow file, run and check suite a check
//     run belongs to comes from GraphQL's statusCheckRollup (GitHub.Rollup, one query per
//     100 contexts), and never changes for a check run: it is learnt once per check suite
//     (the Actions suite of a workflow run). A check run REST lists in a known suite (a new
//     job, a re-run) takes its identity from the suite without a query.
//  3. The rollup is read only when REST lists a check run of a suite not known yet (or at
//     the first poll), and at most once per rollupPace per 100 contexts: on a commit with
//     many check runs that keep appearing, GraphQL is paced, not every change.
//  4. States are REST's: GraphQL's view may lag REST's for a moment, and REST is what
//     changed. A suite whose check runs REST shows all completed, while the rollup said
//     the suite was not, is read again (paced like the rest) to learn how it concluded. A check suite's state is GraphQL's, except for check runs whose identity
//     was inferred (their suite state is unknown, so a workflow gate confirms with the
//     run itself). Check runs REST lists but no rollup placed yet are not in the snapshot;
//     after maxReasks rollups that still miss them (a context one view never shows) the
//     snapshot is kept as it is until REST shows a change.
const (
	rollupPace = 5 * time.Second
	maxReasks  = 3
)

type poller struct {
	gh  GitHub
	sha string
	// base is the last rollup; suites the identity of every check suite it showed.
	base     map[int64]github.CheckContext
	haveBase bool
	suites   map[int64]github.CheckContext
	// runs caches GetWorkflowRun answers used to identify a run's workflow file.
	runs     map[int64]github.WorkflowRun
	rollupAt time.Time
	pages    int
	// lastFP is what REST said at the last poll; keptFP what the kept snapshot is
	// complete for ("" when it is not).
	lastFP, keptFP string
	reasks         int
	kept           []github.CheckContext
	// unknown counts check runs REST lists that the last snapshot could not place.
	unknown int
	// rollups counts GraphQL rollup reads.
	rollups int
}

func newPoller(gh GitHub, sha string) *poller {
	return &poller{gh: gh, sha: sha, base: map[int64]github.CheckContext{}, suites: map[int64]github.CheckContext{},
		runs: map[int64]github.WorkflowRun{}}
}

// poll returns the commit's contexts now.
func (p *poller) poll(ctx context.Context, now time.Time) ([]github.CheckContext, error) {
	runs, err := p.gh.CheckRunStates(ctx, p.sha)
	if err != nil {
		return nil, fmt.Errorf("read the check runs of commit %s: %w", p.sha, err)
	}
	sts, err := p.gh.StatusStates(ctx, p.sha)
	if err != nil {
		return nil, fmt.Errorf("read the statuses of commit %s: %w", p.sha, err)
	}
	fp := restFingerprint(runs, sts)
	if p.keptFP != "" && fp == p.keptFP {
		return slices.Clone(p.kept), nil
	}
	if fp != p.lastFP {
		p.reasks, p.lastFP = 0, fp
	}
	unknown := p.unplaced(runs) + p.staleSuites(runs)
	if (!p.haveBase || unknown > 0) && p.reasks < maxReasks && p.rollupDue(now) {
		all, err := p.gh.Rollup(ctx, p.sha)
		if err != nil {
			return nil, fmt.Errorf("read the checks of commit %s: %w", p.sha, err)
		}
		p.learn(all, now)
		if err := p.identify(ctx); err != nil {
			return nil, err
		}
		if unknown = p.unplaced(runs) + p.staleSuites(runs); unknown > 0 {
			p.reasks++
		}
	}
	p.kept = p.merge(runs, sts)
	p.unknown = unknown
	p.keptFP = ""
	if unknown == 0 || p.reasks >= maxReasks {
		p.keptFP = fp
	}
	return slices.Clone(p.kept), nil
}

// rollupDue: the first rollup at once, then one per rollupPace per page of the last.
func (p *poller) rollupDue(now time.Time) bool {
	return !p.haveBase || !now.Before(p.rollupAt.Add(time.Duration(max(1, p.pages))*rollupPace))
}

func (p *poller) learn(all []github.CheckContext, now time.Time) {
	p.rollups++
	p.haveBase, p.rollupAt = true, now
	p.pages = max(1, (len(all)+99)/100)
	clear(p.base)
	for _, c := range all {
		if c.Kind != github.KindCheckRun {
			continue
		}
		p.base[c.ID] = c
		if c.SuiteID != 0 {
			p.suites[c.SuiteID] = c
		}
	}
}

func (p *poller) unplaced(runs []github.CheckContext) int {
	n := 0
	for _, r := range runs {
		if _, ok := p.base[r.ID]; ok {
			continue
		}
		if _, ok := p.suites[r.SuiteID]; ok && r.SuiteID != 0 {
			continue
		}
		n++
	}
	return n
}

// identify fills in the workflow file of suites whose rollup named a workflow run but
// not its workflow's id or file (a server whose GraphQL leaves them null): the run itself
// says (REST path and workflow_id), once per run. Without it such a check run is never
// evidence for a gate that names a workflow.
func (p *poller) identify(ctx context.Context) error {
	for id, tpl := range p.suites {
		if tpl.RunID == 0 || tpl.WorkflowID != 0 || tpl.WorkflowPath != "" {
			continue
		}
		run, ok := p.runs[tpl.RunID]
		if !ok {
			var err error
			if run, err = p.gh.GetWorkflowRun(ctx, tpl.RunID); err != nil {
				return fmt.Errorf("read run %d to learn its workflow file: %w", tpl.RunID, err)
			}
			p.runs[tpl.RunID] = run
		}
		tpl.WorkflowID, tpl.WorkflowPath = run.WorkflowID, run.Path
		p.suites[id] = tpl
		for cid, c := range p.base {
			if c.SuiteID == id {
				c.WorkflowID, c.WorkflowPath = run.WorkflowID, run.Path
				p.base[cid] = c
			}
		}
	}
	return nil
}

// staleSuites counts check suites whose check runs REST shows all completed while the
// last rollup said the suite was not: GitHub completes a suite a moment after its last
// check run, so the rollup is read again (paced, and at most maxReasks times while REST
// shows nothing new: a suite held open by a check run created through the API never
// completes).
func (p *poller) staleSuites(runs []github.CheckContext) int {
	done := map[int64]bool{}
	for _, r := range runs {
		tpl, ok := p.suites[r.SuiteID]
		if !ok || r.SuiteID == 0 || tpl.SuiteStatus == "completed" {
			continue
		}
		d, seen := done[r.SuiteID]
		done[r.SuiteID] = (d || !seen) && r.Status == "completed"
	}
	n := 0
	for _, d := range done {
		if d {
			n++
		}
	}
	return n
}

// merge lays REST's states over the identities GraphQL gave.
func (p *poller) merge(runs, sts []github.CheckContext) []github.CheckContext {
	out := make([]github.CheckContext, 0, len(runs)+len(sts))
	for _, r := range runs {
		var c github.CheckContext
		if b, ok := p.base[r.ID]; ok {
			c = b
		} else if tpl, ok := p.suites[r.SuiteID]; ok && r.SuiteID != 0 {
			c = tpl
			c.ID = r.ID
			// The suite's state was read before this check run existed: unknown now.
			c.SuiteStatus, c.SuiteConclusion = "", ""
			c.DetailsURL, c.StartedAt, c.CompletedAt = "", time.Time{}, time.Time{}
		} else {
			continue
		}
		c.Name, c.Status, c.Conclusion = r.Name, r.Status, r.Conclusion
		if !r.StartedAt.IsZero() {
			c.StartedAt = r.StartedAt
		}
		if !r.CompletedAt.IsZero() {
			c.CompletedAt = r.CompletedAt
		}
		if r.DetailsURL != "" {
			c.DetailsURL = r.DetailsURL
		}
		out = append(out, c)
	}
	// REST's list is the list: a check run only the rollup showed is not there (yet, or
	// any more).
	return append(out, sts...)
}

// restFingerprint is what the REST pages of a poll said, in a stable order: check-run
// ids with their state, and status contexts with theirs.
func restFingerprint(runs, statuses []github.CheckContext) string {
	keys := make([]string, 0, len(runs)+len(statuses))
	for _, r := range runs {
		keys = append(keys, fmt.Sprintf("r%d\x00%s\x00%s\x00%s\x00%d", r.ID, r.Name, r.Status, r.Conclusion, r.SuiteID))
	}
	for _, s := range statuses {
		keys = append(keys, fmt.Sprintf("s%s\x00%s\x00%s\x00%s", s.Name, s.Status, s.Conclusion, s.DetailsURL))
	}
	slices.Sort(keys)
	return strings.Join(keys, "\n")
}
