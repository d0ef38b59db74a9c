package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	gh "github.com/google/go-github/v89/github"
)

// maxIssuePages bounds an issue listing (100 per page): the incident records a gate must
// honour are among the open issues, and a repository with more than 1,000 open issues
// gets an error rather than a silently partial answer.
const maxIssuePages = 10

// IssueRecord is an issue as GitHub returns it, with the facts that decide whether
// release-action wrote it: the author's login and type, and the GitHub App it was created
// through.
type IssueRecord struct {
	Number      int       `json:"number"`
	Title       string    `json:"title"`
	Body        string    `json:"body"`
	State       string    `json:"state"` // open, closed
	StateReason string    `json:"state_reason,omitempty"`
	Author      string    `json:"author"`      // user.login, e.g. "github-actions[bot]"
	AuthorType  string    `json:"author_type"` // User, Bot
	ViaApp      string    `json:"via_app,omitempty"`
	Labels      []string  `json:"labels"`
	HTMLURL     string    `json:"html_url"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	ClosedAt    time.Time `json:"closed_at,omitzero"`
}

// IssueFilter narrows ListIssues. Zero fields are not sent; State "" means open.
type IssueFilter struct {
	State  string // open, closed, all
	Labels []string
	// Creator is sent as creator=; callers that decide trust by author compare
	// IssueRecord.Author themselves (GitHub's filter is a convenience, not a proof).
	Creator string
}

// IssueEdit changes an issue; nil and empty fields are left as they are.
type IssueEdit struct {
	Title  *string
	Body   *string
	Labels *[]string
	// State is "open" or "closed"; StateReason "completed", "not_planned" or "reopened".
	State       string
	StateReason string
}

// ListIssues returns the issues (never pull requests) matching f, newest first, all pages
// up to 1,000 issues; more is an error naming the limit.
func (c *Client) ListIssues(ctx context.Context, f IssueFilter) ([]IssueRecord, error) {
	opts := &gh.IssueListByRepoOptions{
		State: f.State, Labels: f.Labels, Creator: f.Creator, Sort: "created", Direction: "desc",
		ListOptions: gh.ListOptions{PerPage: 100},
	}
	if opts.State == "" {
		opts.State = "open"
	}
	owner, repo := c.ownerName()
	var out []IssueRecord
	for page := 1; ; page++ {
		opts.ListOptions.Page = page
		is, resp, err := c.rest.Issues.ListByRepo(ctx, owner, repo, opts)
		if err != nil {
			return nil, fmt.Errorf("list %s issues of %s (page %d): %w", opts.State, c.repo, page, c.convertErr(err))
		}
		for _, i := range is {
			if i != nil && !i.IsPullRequest() {
				out = append(out, mapIssue(i))
			}
		}
		if resp == nil || resp.NextPage == 0 {
			break
		}
		if page >= maxIssuePages {
			return nil, fmt.Errorf("list %s issues of %s: more than %d issues; refusing to read on", opts.State, c.repo, maxIssuePages*100)
		}
	}
	return out, nil
}

// GetIssue returns one issue. Missing -> ErrNotFound; a pull request's number -> ErrNotFound too.
func (c *Client) GetIssue(ctx context.Context, number int) (IssueRecord, error) {
	owner, repo := c.ownerName()
	is, _, err := c.rest.Issues.Get(ctx, owner, repo, number)
	if err != nil {
		return IssueRecord{}, fmt.Errorf("get issue #%d of %s: %w", number, c.repo, c.convertErr(err))
	}
	if is == nil || is.GetNumber() == 0 {
		return IssueRecord{}, fmt.Errorf("get issue #%d of %s: %w", number, c.repo, errNoBody)
	}
	if is.IsPullRequest() {
		return IssueRecord{}, fmt.Errorf("get issue #%d of %s: it is a pull request: %w", number, c.repo, ErrNotFound)
	}
	return mapIssue(is), nil
}

// CreateIssueRecord opens an issue and returns it as GitHub recorded it (with its author).
func (c *Client) CreateIssueRecord(ctx context.Context, title, body string, labels []string) (IssueRecord, error) {
	title = strings.TrimSpace(title)
	if title == "" {
		return IssueRecord{}, fmt.Errorf("create issue in %s: empty title", c.repo)
	}
	req := &gh.IssueRequest{Title: gh.Ptr(title), Body: gh.Ptr(body)}
	if len(labels) > 0 {
		req.Labels = &labels
	}
	owner, repo := c.ownerName()
	is, _, err := c.rest.Issues.Create(ctx, owner, repo, req)
	if err != nil {
		return IssueRecord{}, fmt.Errorf("create issue %q in %s: %w", truncate(title, 80), c.repo, c.convertErr(err))
	}
	if is == nil || is.GetNumber() == 0 {
		return IssueRecord{}, fmt.Errorf("create issue %q in %s: the answer has no issue number", truncate(title, 80), c.repo)
	}
	return mapIssue(is), nil
}

// EditIssue changes an issue's title, body, labels or state.
func (c *Client) EditIssue(ctx context.Context, number int, e IssueEdit) (IssueRecord, error) {
	req := &gh.IssueRequest{Title: e.Title, Body: e.Body, Labels: e.Labels}
	if e.State != "" {
		req.State = gh.Ptr(e.State)
	}
	if e.StateReason != "" {
		req.StateReason = gh.Ptr(e.StateReason)
	}
	owner, repo := c.ownerName()
	is, _, err := c.rest.Issues.Edit(ctx, owner, repo, number, req)
	if err != nil {
		return IssueRecord{}, fmt.Errorf("edit issue #%d of %s: %w", number, c.repo, c.convertErr(err))
	}
	if is == nil || is.GetNumber() == 0 {
		return IssueRecord{}, fmt.Errorf("edit issue #%d of %s: %w", number, c.repo, errNoBody)
	}
	return mapIssue(is), nil
}

// CommentIssue adds a comment to an issue and returns the comment's URL.
func (c *Client) CommentIssue(ctx context.Context, number int, body string) (string, error) {
	owner, repo := c.ownerName()
	cm, _, err := c.rest.Issues.CreateComment(ctx, owner, repo, number, &gh.IssueComment{Body: gh.Ptr(body)})
	if err != nil {
		return "", fmt.Errorf("comment on issue #%d of %s: %w", number, c.repo, c.convertErr(err))
	}
	return cm.GetHTMLURL(), nil
}

// viewerQuery asks who the token is. GraphQL's viewer answers for user tokens and for
// GitHub App installation tokens alike (GITHUB_TOKEN: "github-actions[bot]"; another App:
// "<slug>[bot]"), where REST GET /user answers 403 "Resource not accessible by integration".
type viewerQuery struct {
	Viewer struct {
		Login string
	}
	RateLimit rateLimitField `graphql:"rateLimit"`
}

// ErrIdentityUnknown: neither GraphQL's viewer nor REST GET /user names the token's
// identity on this server (the field or endpoint is missing, or refused to this kind of
// token). GitHub itself always answers viewer; callers decide what to assume.
var ErrIdentityUnknown = errors.New("the token's identity is unknown")

// Viewer returns the login of the token's identity: the author GitHub records on the
// issues this client creates. It asks GraphQL's viewer (1 point); when the GraphQL API
// answers that it has no such field or refuses it (a 200 with errors, or a 4xx), it asks
// REST GET /user. When that is refused or missing too the error wraps
// ErrIdentityUnknown. Outages, rate limits and a refused token are errors as they are:
// they say nothing about the identity.
func (c *Client) Viewer(ctx context.Context) (string, error) {
	var q viewerQuery
	gqlErr := c.query(ctx, "viewer", &q, nil)
	if gqlErr == nil && q.Viewer.Login != "" {
		return q.Viewer.Login, nil
	}
	if gqlErr != nil && !identityAnswer(gqlErr) {
		return "", fmt.Errorf("identify the token: %w", gqlErr)
	}
	u, _, err := c.rest.Users.Get(ctx, "")
	if err != nil {
		err = c.convertErr(err)
		if identityAnswer(err) {
			return "", fmt.Errorf("identify the token: GraphQL viewer: %v; GET /user: %v: %w", gqlErr, err, ErrIdentityUnknown)
		}
		return "", fmt.Errorf("identify the token: GET /user: %w", err)
	}
	if u.GetLogin() == "" {
		return "", fmt.Errorf("identify the token: GET /user answered without a login: %w", ErrIdentityUnknown)
	}
	return u.GetLogin(), nil
}

// identityAnswer reports whether err is the server's answer about the question itself
// (GraphQL errors[] or a 4xx other than 401 and rate limits), not an outage.
func identityAnswer(err error) bool {
	var ge graphQLErrors
	if errors.As(err, &ge) {
		return !errors.Is(err, ErrRateLimited)
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.StatusCode >= 400 && ae.StatusCode < 500 && ae.StatusCode != http.StatusUnauthorized && !errors.Is(err, ErrRateLimited)
	}
	return false
}

// RunRecord is a workflow run as listed across the repository, with the workflow's file.
type RunRecord struct {
	ID           int64     `json:"id"`
	Name         string    `json:"name"`
	Path         string    `json:"path"` // .github/workflows/deploy.yml
	WorkflowID   int64     `json:"workflow_id"`
	Event        string    `json:"event"`
	Status       string    `json:"status"`
	Conclusion   string    `json:"conclusion,omitempty"`
	HeadSHA      string    `json:"head_sha"`
	HeadBranch   string    `json:"head_branch,omitempty"`
	RunNumber    int       `json:"run_number"`
	RunAttempt   int       `json:"run_attempt"`
	Actor        string    `json:"actor,omitempty"`
	HTMLURL      string    `json:"html_url"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	RunStartedAt time.Time `json:"run_started_at,omitzero"`
}

// ListRunsBetween returns the repository's workflow runs created from `from` to `to`
// (zero: no upper bound), newest first, all pages up to 5,000 runs; more is an error.
func (c *Client) ListRunsBetween(ctx context.Context, from, to time.Time) ([]RunRecord, error) {
	created := ">=" + from.UTC().Format(time.RFC3339)
	if !to.IsZero() {
		created = from.UTC().Format(time.RFC3339) + ".." + to.UTC().Format(time.RFC3339)
	}
	opts := &gh.ListWorkflowRunsOptions{Created: created, ListOptions: gh.ListOptions{PerPage: 100}}
	owner, name := c.ownerName()
	var out []RunRecord
	for page := 1; ; page++ {
		opts.Page = page
		runs, resp, err := c.rest.Actions.ListRepositoryWorkflowRuns(ctx, owner, name, opts)
		if err != nil {
			return nil, fmt.Errorf("list workflow runs of %s created %s (page %d): %w", c.repo, created, page, c.convertErr(err))
		}
		if runs == nil {
			return nil, fmt.Errorf("list workflow runs of %s: %w", c.repo, errNoBody)
		}
		for _, r := range runs.WorkflowRuns {
			if r == nil {
				continue
			}
			out = append(out, RunRecord{
				ID: r.GetID(), Name: r.GetName(), Path: workflowFile(r.GetPath()), WorkflowID: r.GetWorkflowID(),
				Event: r.GetEvent(), Status: r.GetStatus(), Conclusion: r.GetConclusion(),
				HeadSHA: r.GetHeadSHA(), HeadBranch: r.GetHeadBranch(), RunNumber: r.GetRunNumber(),
				RunAttempt: r.GetRunAttempt(), Actor: r.GetActor().GetLogin(), HTMLURL: r.GetHTMLURL(),
				CreatedAt: r.GetCreatedAt().UTC(), UpdatedAt: r.GetUpdatedAt().UTC(), RunStartedAt: r.GetRunStartedAt().UTC(),
			})
		}
		if resp == nil || resp.NextPage == 0 {
			break
		}
		if page >= maxListPages {
			return nil, fmt.Errorf("list workflow runs of %s created %s: more than %d runs; refusing to read on: narrow the window", c.repo, created, maxListPages*100)
		}
	}
	return out, nil
}

func mapIssue(i *gh.Issue) IssueRecord {
	out := IssueRecord{
		Number: i.GetNumber(), Title: i.GetTitle(), Body: i.GetBody(), State: i.GetState(),
		StateReason: i.GetStateReason(), Author: i.GetUser().GetLogin(), AuthorType: i.GetUser().GetType(),
		ViaApp: i.GetPerformedViaGithubApp().GetSlug(), HTMLURL: i.GetHTMLURL(),
		CreatedAt: i.GetCreatedAt().UTC(), UpdatedAt: i.GetUpdatedAt().UTC(), ClosedAt: i.GetClosedAt().UTC(),
		Labels: []string{},
	}
	if out.ClosedAt.IsZero() {
		out.ClosedAt = time.Time{}
	}
	for _, l := range i.Labels {
		if l != nil {
			out.Labels = append(out.Labels, l.GetName())
		}
	}
	return out
}

// workflowFile is a run's workflow file without the "@ref" GitHub appends to a run's path.
func workflowFile(p string) string {
	if i := strings.LastIndex(p, "@"); i > 0 && strings.HasPrefix(p[i:], "@") && strings.Contains(p[:i], ".github/") {
		return p[:i]
	}
	return p
}
