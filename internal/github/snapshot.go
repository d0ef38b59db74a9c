package github

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	gh "github.com/google/go-github/v89/github"
	"github.com/shurcooL/githubv4"
)

const (
	// maxRESTPages bounds the conditional check-run/status pages read per snapshot (100 each).
	maxRESTPages = 50
	// maxRollupPages bounds the GraphQL pages of one rollup (100 contexts each).
	maxRollupPages = 50
	// maxSnapshots bounds how many commits' snapshots are kept for change detection.
	maxSnapshots = 32
	// maxReasks bounds the consecutive polls of one commit that ask GraphQL again although
	// REST showed no change, because the previous answer looked behind (see Snapshot).
	maxReasks = 3
)

// rollupQuery is the one GraphQL query of a poll: a page of the commit's status check rollup.
type rollupQuery struct {
	Repository *struct {
		Object *struct {
			Commit struct {
				StatusCheckRollup *struct {
					State    string
					Contexts struct {
						TotalCount int
						PageInfo   struct {
							HasNextPage bool
							EndCursor   string
						}
						Nodes []rollupNode
					} `graphql:"contexts(first: 100, after: $cursor)"`
				}
			} `graphql:"... on Commit"`
		} `graphql:"object(oid: $sha)"`
	} `graphql:"repository(owner: $owner, name: $name)"`
	RateLimit rateLimitField `graphql:"rateLimit"`
}

// rateLimitField is asked for in every query so Cost.GraphQLPoints is what GitHub billed.
type rateLimitField struct {
	Cost      int
	Remaining int
	ResetAt   githubv4.DateTime
}

type rollupNode struct {
	Typename string `graphql:"__typename"`
	CheckRun struct {
		DatabaseID  int64 `graphql:"databaseId"`
		Name        string
		Status      string
		Conclusion  string
		StartedAt   *githubv4.DateTime
		CompletedAt *githubv4.DateTime
		DetailsURL  string `graphql:"detailsUrl"`
		CheckSuite  struct {
			DatabaseID  int64 `graphql:"databaseId"`
			Status      string
			Conclusion  string
			WorkflowRun *struct {
				DatabaseID int64 `graphql:"databaseId"`
				RunNumber  int
				Event      string
				URL        string `graphql:"url"`
				File       *struct {
					Path string
				}
				Workflow struct {
					DatabaseID int64 `graphql:"databaseId"`
					Name       string
				}
			}
		}
	} `graphql:"... on CheckRun"`
	StatusContext struct {
		Context     string
		State       string
		TargetURL   string `graphql:"targetUrl"`
		Description string
		CreatedAt   *githubv4.DateTime
	} `graphql:"... on StatusContext"`
}

// Snapshot returns the commit's status check rollup (check runs and commit statuses); sha
// must be 40 hex.
//
// Change detection costs nothing while nothing changes: every page of
// GET /commits/{sha}/check-runs?filter=latest&per_page=100 (page count from total_count)
// and of GET /commits/{sha}/status is requested conditionally; when all answer 304 and a
// snapshot of that sha is kept, it is returned with Changed=false and no GraphQL query is
// sent. Otherwise the rollup is read with one GraphQL query per 100 contexts.
//
// GitHub's REST and GraphQL views are not updated atomically, and GitHub completes a
// check suite a moment after its last check run. A snapshot that may have been read in
// such a moment is returned but not kept, so the next poll asks GraphQL again even if
// REST shows no change (REST's check-run answers carry no suite state, so they would
// answer 304 for ever after). That is the case when, compared with the REST pages of the
// same poll:
//
//   - a check run or status present in both has another state;
//   - a check run id or a status context that REST lists is missing from GraphQL;
//   - a check suite is not completed although every check run of it in the snapshot is.
//
// A difference that never goes away (a context one view never shows, a suite kept open
// by a check run created through the API) must not cost a GraphQL query on every poll:
// after maxReasks consecutive polls that asked again only for this reason, the snapshot
// is kept as it is until REST shows a change. Callers that must know whether a suite
// completed confirm it with GetWorkflowRun. Concurrent calls are serialised.
func (c *Client) Snapshot(ctx context.Context, sha string) (Snapshot, error) {
	if !isFullSHA(sha) {
		return Snapshot{}, fmt.Errorf("snapshot of %s: %q is not a 40-hex commit SHA", c.repo, sha)
	}
	sha = strings.ToLower(sha)
	c.snapMu.Lock()
	defer c.snapMu.Unlock()

	owner, name := c.ownerName()
	restRuns := map[int64]CheckContext{}
	opts := &gh.ListCheckRunsOptions{Filter: gh.Ptr("latest"), ListOptions: gh.ListOptions{PerPage: 100}}
	for page, pages := 1, 1; page <= pages; page++ {
		opts.Page = page
		res, _, err := c.rest.Checks.ListCheckRunsForRef(ctx, owner, name, sha, opts)
		if err != nil {
			return Snapshot{}, fmt.Errorf("list check runs for %s@%s (page %d): %w", c.repo, sha, page, c.convertErr(err))
		}
		if res == nil {
			return Snapshot{}, fmt.Errorf("list check runs for %s@%s (page %d): %w", c.repo, sha, page, errNoBody)
		}
		if page == 1 {
			pages = min(max(1, (res.GetTotal()+99)/100), maxRESTPages)
		}
		for _, r := range res.CheckRuns {
			restRuns[r.GetID()] = CheckContext{Name: r.GetName(), Status: r.GetStatus(), Conclusion: r.GetConclusion()}
		}
	}

	restStatuses := map[string]CheckContext{}
	sopts := &gh.ListOptions{PerPage: 100}
	for page, pages := 1, 1; page <= pages; page++ {
		sopts.Page = page
		res, _, err := c.rest.Repositories.GetCombinedStatus(ctx, owner, name, sha, sopts)
		if err != nil {
			return Snapshot{}, fmt.Errorf("get combined status for %s@%s (page %d): %w", c.repo, sha, page, c.convertErr(err))
		}
		if res == nil {
			return Snapshot{}, fmt.Errorf("get combined status for %s@%s (page %d): %w", c.repo, sha, page, errNoBody)
		}
		if page == 1 {
			pages = min(max(1, (res.GetTotalCount()+99)/100), maxRESTPages)
		}
		for _, s := range res.Statuses {
			restStatuses[s.GetContext()] = statusContext(strings.ToUpper(s.GetState()))
		}
	}

	// What REST says is compared, not whether it answered 304: a server without ETags
	// (or one whose ETags change with fields the gate ignores) then costs REST requests
	// but no GraphQL while nothing changed, and a poll that failed half-way cannot leave
	// a stale snapshot behind (the cached bodies of the pages it did read are compared).
	fp := restFingerprint(restRuns, restStatuses)
	if prev, ok := c.snaps[sha]; ok && c.snapFP[sha] == fp {
		return Snapshot{SHA: sha, Contexts: cloneContexts(prev), Changed: false}, nil
	}
	if c.lastFP[sha] != fp {
		// REST changed, so GraphQL is asked for a reason of its own: the count of re-asks
		// for a lagging answer starts again.
		delete(c.reasks, sha)
		if len(c.lastFP) >= maxSnapshots {
			clear(c.lastFP)
		}
		c.lastFP[sha] = fp
	}
	contexts, err := c.rollup(ctx, sha)
	if err != nil {
		return Snapshot{}, err
	}
	switch why := lagging(contexts, restRuns, restStatuses); {
	case why == "":
		delete(c.reasks, sha)
		c.keepSnapshot(sha, contexts, fp)
	case c.reasks[sha] < maxReasks:
		n := c.reasks[sha] + 1
		if len(c.reasks) >= maxSnapshots {
			clear(c.reasks) // bounded like the snapshots; a forgotten count only allows a few more re-reads
		}
		c.reasks[sha] = n
		c.debugf("github: snapshot of %s may be behind (%s); asking GraphQL again next poll (%d of %d)", sha[:7], why, n, maxReasks)
		c.dropSnapshot(sha)
	default:
		c.debugf("github: snapshot of %s still differs after %d re-reads (%s); keeping it until REST shows a change", sha[:7], maxReasks, why)
		c.keepSnapshot(sha, contexts, fp)
	}
	return Snapshot{SHA: sha, Contexts: contexts, Changed: true}, nil
}

// rollup reads all contexts of the commit's statusCheckRollup with GraphQL.
func (c *Client) rollup(ctx context.Context, sha string) ([]CheckContext, error) {
	vars := map[string]any{
		"owner":  githubv4.String(c.repo.Owner),
		"name":   githubv4.String(c.repo.Name),
		"sha":    githubv4.GitObjectID(sha),
		"cursor": (*githubv4.String)(nil),
	}
	out := []CheckContext{}
	for page := 1; ; page++ {
		var q rollupQuery
		if err := c.query(ctx, "statusCheckRollup", &q, vars); err != nil {
			return nil, fmt.Errorf("read status check rollup of %s@%s (page %d): %w", c.repo, sha, page, err)
		}
		if q.Repository == nil {
			return nil, fmt.Errorf("read status check rollup of %s@%s: repository: %w", c.repo, sha, ErrNotFound)
		}
		if q.Repository.Object == nil {
			return nil, fmt.Errorf("read status check rollup of %s@%s: commit: %w", c.repo, sha, ErrNotFound)
		}
		roll := q.Repository.Object.Commit.StatusCheckRollup
		if roll == nil {
			return out, nil
		}
		for _, n := range roll.Contexts.Nodes {
			if cc, ok := contextOf(n); ok {
				out = append(out, cc)
			}
		}
		pi := roll.Contexts.PageInfo
		if !pi.HasNextPage || pi.EndCursor == "" {
			return out, nil
		}
		if page >= maxRollupPages {
			return nil, fmt.Errorf("read status check rollup of %s@%s: more than %d contexts; refusing to read on", c.repo, sha, maxRollupPages*100)
		}
		vars["cursor"] = githubv4.NewString(githubv4.String(pi.EndCursor))
	}
}

func contextOf(n rollupNode) (CheckContext, bool) {
	switch n.Typename {
	case "CheckRun":
		r := n.CheckRun
		cc := CheckContext{
			Kind:            KindCheckRun,
			ID:              r.DatabaseID,
			Name:            r.Name,
			Status:          enumWord(r.Status),
			Conclusion:      enumWord(r.Conclusion),
			StartedAt:       dateTime(r.StartedAt),
			CompletedAt:     dateTime(r.CompletedAt),
			DetailsURL:      r.DetailsURL,
			SuiteID:         r.CheckSuite.DatabaseID,
			SuiteStatus:     enumWord(r.CheckSuite.Status),
			SuiteConclusion: enumWord(r.CheckSuite.Conclusion),
		}
		if wr := r.CheckSuite.WorkflowRun; wr != nil {
			cc.Workflow = wr.Workflow.Name
			cc.WorkflowID = wr.Workflow.DatabaseID
			if wr.File != nil {
				cc.WorkflowPath = wr.File.Path
			}
			cc.RunID = wr.DatabaseID
			cc.RunNumber = wr.RunNumber
			cc.Event = wr.Event
			cc.RunURL = wr.URL
		}
		return cc, true
	case "StatusContext":
		s := n.StatusContext
		cc := statusContext(s.State)
		cc.Name = s.Context
		cc.DetailsURL = s.TargetURL
		cc.StartedAt = dateTime(s.CreatedAt)
		if cc.Status == "completed" {
			cc.CompletedAt = cc.StartedAt
		}
		return cc, true
	}
	return CheckContext{}, false
}

// statusContext maps a commit status state (GraphQL spelling) to status and conclusion. An
// unknown state counts as completed with that state as conclusion, which callers treat as a
// failure: fail closed rather than wait on a value that may never change.
func statusContext(state string) CheckContext {
	cc := CheckContext{Kind: KindStatus}
	switch state {
	case "PENDING", "EXPECTED", "":
		cc.Status = "pending"
	default:
		cc.Status, cc.Conclusion = "completed", enumWord(state)
	}
	return cc
}

// enumWord maps GraphQL enum values to the REST words: every documented value is its
// lower-case form (IN_PROGRESS -> in_progress, STARTUP_FAILURE -> startup_failure), and so is
// any value GitHub adds later.
func enumWord(s string) string { return strings.ToLower(s) }

func dateTime(t *githubv4.DateTime) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// lagging says why a GraphQL answer may be behind what REST showed in the same poll (see
// Snapshot), or "" when nothing suggests it.
func lagging(contexts []CheckContext, runs map[int64]CheckContext, statuses map[string]CheckContext) string {
	seenRuns := make(map[int64]bool, len(contexts))
	seenStatuses := make(map[string]bool)
	// suites: whether each check suite that is not completed has only completed check runs.
	suites := map[int64]bool{}
	for _, cc := range contexts {
		var rest CheckContext
		var ok bool
		switch cc.Kind {
		case KindCheckRun:
			seenRuns[cc.ID] = true
			rest, ok = runs[cc.ID]
			if cc.SuiteID != 0 && cc.SuiteStatus != "completed" {
				done, known := suites[cc.SuiteID]
				suites[cc.SuiteID] = (done || !known) && cc.Status == "completed"
			}
		case KindStatus:
			seenStatuses[cc.Name] = true
			rest, ok = statuses[cc.Name]
		}
		if ok && (rest.Status != cc.Status || rest.Conclusion != cc.Conclusion) {
			return fmt.Sprintf("%s %q is %s/%s in REST, %s/%s in GraphQL", cc.Kind, cc.Name,
				rest.Status, rest.Conclusion, cc.Status, cc.Conclusion)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(runs)) {
		if !seenRuns[id] {
			return fmt.Sprintf("check run %d %q is in REST, not yet in GraphQL", id, runs[id].Name)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(statuses)) {
		if !seenStatuses[name] {
			return fmt.Sprintf("status %q is in REST, not yet in GraphQL", name)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(suites)) {
		if suites[id] {
			return fmt.Sprintf("check suite %d is not completed although all its check runs are", id)
		}
	}
	return ""
}

func (c *Client) keepSnapshot(sha string, contexts []CheckContext, fp string) {
	c.dropSnapshot(sha)
	c.order = append(c.order, sha)
	c.snaps[sha] = cloneContexts(contexts)
	c.snapFP[sha] = fp
	for len(c.order) > maxSnapshots {
		delete(c.snaps, c.order[0])
		delete(c.snapFP, c.order[0])
		c.order = c.order[1:]
	}
}

// restFingerprint is what the REST pages of a poll said, in a stable order: check-run
// ids with their state, and status contexts with theirs.
func restFingerprint(runs map[int64]CheckContext, statuses map[string]CheckContext) string {
	var b strings.Builder
	for _, id := range slices.Sorted(maps.Keys(runs)) {
		r := runs[id]
		fmt.Fprintf(&b, "r%d\x00%s\x00%s\x00%s\n", id, r.Name, r.Status, r.Conclusion)
	}
	for _, name := range slices.Sorted(maps.Keys(statuses)) {
		st := statuses[name]
		fmt.Fprintf(&b, "s%s\x00%s\x00%s\n", name, st.Status, st.Conclusion)
	}
	return b.String()
}

func (c *Client) dropSnapshot(sha string) {
	if _, ok := c.snaps[sha]; !ok {
		return
	}
	delete(c.snaps, sha)
	delete(c.snapFP, sha)
	for i, s := range c.order {
		if s == sha {
			c.order = append(c.order[:i], c.order[i+1:]...)
			break
		}
	}
}

func cloneContexts(in []CheckContext) []CheckContext {
	out := make([]CheckContext, len(in))
	copy(out, in)
	return out
}

func isFullSHA(s string) bool {
	if len(s) != 40 {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F') {
			return false
		}
	}
	return true
}
