package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"

	gh "github.com/google/go-github/v89/github"
)

// ErrRunCompleted: a cancel or force-cancel reached a run that had already completed
// (GitHub answers 409 Conflict). For someone stopping a run this is success.
var ErrRunCompleted = errors.New("the run already completed")

// maxRunPages bounds a repository-wide run listing (100 per page).
const maxRunPages = 10

// CancelWorkflowRun asks GitHub to cancel a run (POST .../actions/runs/{id}/cancel, 202).
// GitHub cancels asynchronously: the run completes later, and steps with `if: always()`
// (or cancelled()) still run. A run that already completed answers 409: the error then
// wraps ErrRunCompleted.
func (c *Client) CancelWorkflowRun(ctx context.Context, runID int64) error {
	owner, name := c.ownerName()
	_, err := c.rest.Actions.CancelWorkflowRunByID(ctx, owner, name, runID)
	return c.cancelErr("cancel", runID, err)
}

// ForceCancelWorkflowRun stops a run without running its `if: always()` steps (POST
// .../actions/runs/{id}/force-cancel, 202; go-github has no method for it). GitHub
// documents it for runs that keep going after a cancel. 409 wraps ErrRunCompleted.
func (c *Client) ForceCancelWorkflowRun(ctx context.Context, runID int64) error {
	owner, name := c.ownerName()
	req, err := c.rest.NewRequest(ctx, http.MethodPost, fmt.Sprintf("repos/%v/%v/actions/runs/%v/force-cancel", owner, name, runID), nil)
	if err != nil {
		return fmt.Errorf("force-cancel run %d in %s: %w", runID, c.repo, err)
	}
	_, err = c.rest.Do(req, nil)
	return c.cancelErr("force-cancel", runID, err)
}

func (c *Client) cancelErr(verb string, runID int64, err error) error {
	if err == nil {
		return nil
	}
	var accepted *gh.AcceptedError
	if errors.As(err, &accepted) {
		return nil // 202: the documented answer
	}
	err = c.convertErr(err)
	var api *APIError
	if errors.As(err, &api) && api.StatusCode == http.StatusConflict {
		return fmt.Errorf("%s run %d in %s: %w (%w)", verb, runID, c.repo, ErrRunCompleted, err)
	}
	return fmt.Errorf("%s run %d in %s: %w", verb, runID, c.repo, err)
}

// ListRunsByStatus lists the repository's runs (every workflow) whose status is status
// ("queued", "in_progress", "waiting", "requested", "pending"), newest first, all pages up
// to 1000 runs: a repository with more runs in one state than that is refused rather than
// half read.
func (c *Client) ListRunsByStatus(ctx context.Context, status string) ([]WorkflowRun, error) {
	if status == "" {
		return nil, fmt.Errorf("list runs of %s by status: no status given", c.repo)
	}
	owner, name := c.ownerName()
	opts := &gh.ListWorkflowRunsOptions{Status: status, ListOptions: gh.ListOptions{PerPage: 100}}
	var out []WorkflowRun
	for page := 1; ; page++ {
		opts.Page = page
		runs, resp, err := c.rest.Actions.ListRepositoryWorkflowRuns(ctx, owner, name, opts)
		if err != nil {
			return nil, fmt.Errorf("list %s runs of %s (page %d): %w", status, c.repo, page, c.convertErr(err))
		}
		if runs == nil {
			return nil, fmt.Errorf("list %s runs of %s (page %d): %w", status, c.repo, page, errNoBody)
		}
		for _, r := range runs.WorkflowRuns {
			out = append(out, mapRun(r))
		}
		if resp.NextPage == 0 {
			break
		}
		if page >= maxRunPages {
			return nil, fmt.Errorf("list %s runs of %s: more than %d pages; refusing to read on", status, c.repo, maxRunPages)
		}
	}
	slices.SortStableFunc(out, func(a, b WorkflowRun) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return cmpInt64(b.ID, a.ID)
	})
	return out, nil
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
