package github

import (
	"context"
	"fmt"
	"strings"
	"time"

	gh "github.com/google/go-github/v89/github"
	"github.com/shurcooL/githubv4"
)

const (
	// maxRESTPages bounds the conditional check-run/status pages read per call (100 each).
	maxRESTPages = 50
	// maxRollupPages bounds the GraphQL pages of one rollup (100 contexts each).
	maxRollupPages = 50
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

// CheckRunStates lists the commit's check runs over REST
// (GET /commits/{sha}/check-runs?filter=latest&per_page=100, every page, page count from
// total_count). Every page is requested conditionally, so a page that did not change is
// a free 304 served from the cache. Each entry holds what REST knows: id, name, state,
// times, details URL and check suite id; not the workflow (see Rollup). sha must be 40 hex.
func (c *Client) CheckRunStates(ctx context.Context, sha string) ([]CheckContext, error) {
	if !isFullSHA(sha) {
		return nil, fmt.Errorf("list check runs of %s: %q is not a 40-hex commit SHA", c.repo, sha)
	}
	sha = strings.ToLower(sha)
	owner, name := c.ownerName()
	out := []CheckContext{}
	opts := &gh.ListCheckRunsOptions{Filter: gh.Ptr("latest"), ListOptions: gh.ListOptions{PerPage: 100}}
	for page, pages := 1, 1; page <= pages; page++ {
		opts.Page = page
		res, _, err := c.rest.Checks.ListCheckRunsForRef(ctx, owner, name, sha, opts)
		if err != nil {
			return nil, fmt.Errorf("list check runs for %s@%s (page %d): %w", c.repo, sha, page, c.convertErr(err))
		}
		if res == nil {
			return nil, fmt.Errorf("list check runs for %s@%s (page %d): %w", c.repo, sha, page, errNoBody)
		}
		if page == 1 {
			pages = min(max(1, (res.GetTotal()+99)/100), maxRESTPages)
		}
		for _, r := range res.CheckRuns {
			cc := CheckContext{Kind: KindCheckRun, ID: r.GetID(), Name: r.GetName(), Status: r.GetStatus(),
				Conclusion: r.GetConclusion(), DetailsURL: r.GetDetailsURL(), SuiteID: r.GetCheckSuite().GetID()}
			if t := r.GetStartedAt(); !t.IsZero() {
				cc.StartedAt = t.UTC()
			}
			if t := r.GetCompletedAt(); !t.IsZero() {
				cc.CompletedAt = t.UTC()
			}
			out = append(out, cc)
		}
	}
	return out, nil
}

// StatusStates lists the commit's status contexts over REST (GET /commits/{sha}/status,
// every page, conditionally): the latest state per context, mapped like Rollup maps them.
func (c *Client) StatusStates(ctx context.Context, sha string) ([]CheckContext, error) {
	if !isFullSHA(sha) {
		return nil, fmt.Errorf("get combined status of %s: %q is not a 40-hex commit SHA", c.repo, sha)
	}
	sha = strings.ToLower(sha)
	owner, name := c.ownerName()
	out := []CheckContext{}
	sopts := &gh.ListOptions{PerPage: 100}
	for page, pages := 1, 1; page <= pages; page++ {
		sopts.Page = page
		res, _, err := c.rest.Repositories.GetCombinedStatus(ctx, owner, name, sha, sopts)
		if err != nil {
			return nil, fmt.Errorf("get combined status for %s@%s (page %d): %w", c.repo, sha, page, c.convertErr(err))
		}
		if res == nil {
			return nil, fmt.Errorf("get combined status for %s@%s (page %d): %w", c.repo, sha, page, errNoBody)
		}
		if page == 1 {
			pages = min(max(1, (res.GetTotalCount()+99)/100), maxRESTPages)
		}
		for _, s := range res.Statuses {
			cc := statusContext(strings.ToUpper(s.GetState()))
			cc.Name = s.GetContext()
			cc.DetailsURL = s.GetTargetURL()
			if t := s.GetCreatedAt(); !t.IsZero() {
				cc.StartedAt = t.UTC()
			}
			if cc.Status == "completed" {
				cc.CompletedAt = cc.StartedAt
			}
			out = append(out, cc)
		}
	}
	return out, nil
}

// Rollup reads every context of the commit's statusCheckRollup with GraphQL, one query per
// 100 contexts: check runs with their check suite, workflow run, workflow (id and name) and
// workflow file, and commit statuses. sha must be 40 hex.
func (c *Client) Rollup(ctx context.Context, sha string) ([]CheckContext, error) {
	if !isFullSHA(sha) {
		return nil, fmt.Errorf("read status check rollup of %s: %q is not a 40-hex commit SHA", c.repo, sha)
	}
	return c.rollup(ctx, strings.ToLower(sha))
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
