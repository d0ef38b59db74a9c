package github

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	gh "github.com/google/go-github/v89/github"
)

const (
	// maxStatusDescription is GitHub's limit on a deployment status description, in characters.
	maxStatusDescription = 140
	// maxDeploymentPages bounds ListDeployments: 10,000 records of one filter. Beyond that the
	// list is refused rather than cut, because GitHub's order is not documented and a cut list
	// could miss the newest records.
	maxDeploymentPages = 100
)

// deploymentStates are the states GitHub accepts for a deployment status.
var deploymentStates = []string{"error", "failure", "inactive", "in_progress", "queued", "pending", "success"}

// CreateDeployment creates a Deployment record. It always sends required_contexts: [] (the
// gate already decided; GitHub would otherwise refuse while unrelated checks are pending)
// and auto_merge: false; task defaults to "deploy"; production_environment only when set.
// Environment is required: GitHub would default an empty one to "production". Payload, when
// set, must be a JSON object. A 409 (status checks; not expected with []) and a 202 (GitHub
// merged the default branch into ref instead of deploying) are *APIError values saying so.
func (c *Client) CreateDeployment(ctx context.Context, r DeploymentRequest) (Deployment, error) {
	ref, env := strings.TrimSpace(r.Ref), strings.TrimSpace(r.Environment)
	if ref == "" || env == "" {
		return Deployment{}, fmt.Errorf("create deployment in %s: a ref and an environment are required (got %q, %q)", c.repo, ref, env)
	}
	task := r.Task
	if task == "" {
		task = "deploy"
	}
	body := gh.DeploymentRequest{
		Ref:                   ref,
		Task:                  gh.Ptr(task),
		AutoMerge:             gh.Ptr(false),
		RequiredContexts:      []string{}, // non-nil: go-github omits a nil slice
		Environment:           gh.Ptr(env),
		Description:           optional(c.redact(r.Description)),
		TransientEnvironment:  gh.Ptr(r.TransientEnvironment),
		ProductionEnvironment: r.ProductionEnvironment,
	}
	if len(bytes.TrimSpace(r.Payload)) > 0 {
		p := bytes.TrimSpace(r.Payload)
		if !json.Valid(p) || p[0] != '{' {
			return Deployment{}, fmt.Errorf("create deployment of %s to %s in %s: the payload must be a JSON object", ref, env, c.repo)
		}
		body.Payload = json.RawMessage(p)
	}
	owner, repo := c.ownerName()
	d, resp, err := c.rest.Repositories.CreateDeployment(ctx, owner, repo, body)
	if err != nil {
		return Deployment{}, fmt.Errorf("create deployment of %s to %s in %s: %w", ref, env, c.repo, c.deploymentErr(resp, err))
	}
	if d == nil || d.GetID() == 0 {
		return Deployment{}, fmt.Errorf("create deployment of %s to %s in %s: the answer has no deployment id", ref, env, c.repo)
	}
	return mapDeployment(d), nil
}

// deploymentErr explains the two answers to a deployment request that are not a deployment.
func (c *Client) deploymentErr(resp *gh.Response, err error) error {
	var accepted *gh.AcceptedError
	if errors.As(err, &accepted) && resp != nil && resp.Response != nil {
		var m struct {
			Message string `json:"message"`
		}
		_ = json.Unmarshal(accepted.Raw, &m)
		e := c.apiError(resp.Response, "", nil)
		e.Message = strings.TrimSpace("GitHub merged the default branch into the ref instead of creating a deployment: " + truncate(c.redact(m.Message), 300))
		return e
	}
	err = c.convertErr(err)
	var api *APIError
	if errors.As(err, &api) && api.StatusCode == http.StatusConflict {
		api.Message = "GitHub refused the deployment because of the commit's status checks (required contexts): " + api.Message
	}
	return err
}

// ListDeployments returns the deployments matching f, all pages, newest first: sorted by
// CreatedAt descending, ties by ID descending (GitHub's own order is not documented).
func (c *Client) ListDeployments(ctx context.Context, f DeploymentFilter) ([]Deployment, error) {
	opts := &gh.DeploymentsListOptions{
		SHA: f.SHA, Ref: f.Ref, Task: f.Task, Environment: f.Environment,
		ListOptions: gh.ListOptions{PerPage: 100},
	}
	owner, repo := c.ownerName()
	var out []Deployment
	for page := 1; ; page++ {
		opts.Page = page
		ds, resp, err := c.rest.Repositories.ListDeployments(ctx, owner, repo, opts)
		if err != nil {
			return nil, fmt.Errorf("list deployments%s in %s (page %d): %w", f.describe(), c.repo, page, c.convertErr(err))
		}
		for _, d := range ds {
			if d != nil {
				out = append(out, mapDeployment(d))
			}
		}
		if resp.NextPage == 0 {
			break
		}
		if page >= maxDeploymentPages {
			return nil, fmt.Errorf("list deployments%s in %s: more than %d pages; refusing to read on: narrow the filter", f.describe(), c.repo, maxDeploymentPages)
		}
	}
	slices.SortStableFunc(out, func(a, b Deployment) int { return newestFirst(a.CreatedAt, b.CreatedAt, a.ID, b.ID) })
	return out, nil
}

func (f DeploymentFilter) describe() string {
	var parts []string
	for _, kv := range [][2]string{{"environment", f.Environment}, {"sha", f.SHA}, {"ref", f.Ref}, {"task", f.Task}} {
		if kv[1] != "" {
			parts = append(parts, kv[0]+"="+kv[1])
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// ListDeploymentStatuses returns the statuses of a deployment, all pages, newest first
// (CreatedAt descending, ties by ID descending). Missing deployment -> ErrNotFound.
func (c *Client) ListDeploymentStatuses(ctx context.Context, deploymentID int64) ([]DeploymentStatus, error) {
	owner, repo := c.ownerName()
	opts := &gh.ListOptions{PerPage: 100}
	var out []DeploymentStatus
	for page := 1; ; page++ {
		opts.Page = page
		ss, resp, err := c.rest.Repositories.ListDeploymentStatuses(ctx, owner, repo, deploymentID, opts)
		if err != nil {
			return nil, fmt.Errorf("list statuses of deployment %d in %s (page %d): %w", deploymentID, c.repo, page, c.convertErr(err))
		}
		for _, s := range ss {
			if s != nil {
				out = append(out, mapDeploymentStatus(s))
			}
		}
		if resp.NextPage == 0 {
			break
		}
		if page >= maxListPages {
			return nil, fmt.Errorf("list statuses of deployment %d in %s: more than %d pages; refusing to read on", deploymentID, c.repo, maxListPages)
		}
	}
	slices.SortStableFunc(out, func(a, b DeploymentStatus) int { return newestFirst(a.CreatedAt, b.CreatedAt, a.ID, b.ID) })
	return out, nil
}

// CreateDeploymentStatus adds a status to a deployment. The description is cut to GitHub's
// 140 characters (on a character boundary, ending in "…"); log_url, environment_url and
// auto_inactive are sent only when set. go-github sends the Accept header
// "application/vnd.github.ant-man-preview+json, application/vnd.github.flash-preview+json":
// github.com no longer needs the previews, but GHES versions that predate their graduation
// refuse the in_progress and queued states and the log_url and environment_url fields
// without them, so they are kept for compatibility.
func (c *Client) CreateDeploymentStatus(ctx context.Context, deploymentID int64, r DeploymentStatusRequest) (DeploymentStatus, error) {
	if !slices.Contains(deploymentStates, r.State) {
		return DeploymentStatus{}, fmt.Errorf("create status of deployment %d in %s: state %q must be one of %s",
			deploymentID, c.repo, r.State, strings.Join(deploymentStates, ", "))
	}
	body := gh.DeploymentStatusRequest{
		State:          r.State,
		Description:    optional(cutChars(c.redact(r.Description), maxStatusDescription)),
		LogURL:         optional(r.LogURL),
		EnvironmentURL: optional(r.EnvironmentURL),
		AutoInactive:   r.AutoInactive,
	}
	owner, repo := c.ownerName()
	s, _, err := c.rest.Repositories.CreateDeploymentStatus(ctx, owner, repo, deploymentID, body)
	if err != nil {
		return DeploymentStatus{}, fmt.Errorf("create %s status of deployment %d in %s: %w", r.State, deploymentID, c.repo, c.convertErr(err))
	}
	if s == nil || s.GetID() == 0 {
		return DeploymentStatus{}, fmt.Errorf("create %s status of deployment %d in %s: the answer has no status id", r.State, deploymentID, c.repo)
	}
	return mapDeploymentStatus(s), nil
}

// PendingDeployments returns the environments a workflow run waits on for approval, with
// who can approve: "@login" for users, "@org/slug" for teams (org is the repository owner
// when GitHub names only the team's slug: environment reviewers are teams of the
// repository's organization).
func (c *Client) PendingDeployments(ctx context.Context, runID int64) ([]PendingDeployment, error) {
	owner, repo := c.ownerName()
	pds, _, err := c.rest.Actions.GetPendingDeployments(ctx, owner, repo, runID)
	if err != nil {
		return nil, fmt.Errorf("get pending deployments of run %d in %s: %w", runID, c.repo, c.convertErr(err))
	}
	out := make([]PendingDeployment, 0, len(pds))
	for _, pd := range pds {
		if pd == nil {
			continue
		}
		p := PendingDeployment{
			Environment:           pd.GetEnvironment().GetName(),
			WaitTimer:             int(pd.GetWaitTimer()),
			WaitTimerStartedAt:    pd.GetWaitTimerStartedAt().UTC(),
			CurrentUserCanApprove: pd.GetCurrentUserCanApprove(),
		}
		for _, rv := range pd.Reviewers {
			if n := c.reviewerName(rv); n != "" {
				p.Reviewers = append(p.Reviewers, n)
			}
		}
		out = append(out, p)
	}
	return out, nil
}

func (c *Client) reviewerName(rv *gh.RequiredReviewer) string {
	if rv == nil {
		return ""
	}
	switch v := rv.Reviewer.(type) {
	case *gh.User:
		if v.GetLogin() != "" {
			return "@" + v.GetLogin()
		}
	case *gh.Team:
		slug := v.GetSlug()
		if slug == "" {
			return ""
		}
		org := v.GetOrganization().GetLogin()
		if org == "" {
			org = c.repo.Owner
		}
		return "@" + org + "/" + slug
	}
	return ""
}

func mapDeployment(d *gh.Deployment) Deployment {
	out := Deployment{
		ID:          d.GetID(),
		SHA:         strings.ToLower(d.GetSHA()),
		Ref:         d.GetRef(),
		Environment: d.GetEnvironment(),
		Task:        d.GetTask(),
		Description: d.GetDescription(),
		Creator:     d.GetCreator().GetLogin(),
		CreatedAt:   d.GetCreatedAt().UTC(),
		UpdatedAt:   d.GetUpdatedAt().UTC(),
		URL:         d.GetURL(),
	}
	if len(d.Payload) > 0 && !bytes.Equal(d.Payload, []byte("null")) {
		out.Payload = slices.Clone(d.Payload)
	}
	return out
}

func mapDeploymentStatus(s *gh.DeploymentStatus) DeploymentStatus {
	return DeploymentStatus{
		ID:             s.GetID(),
		State:          s.GetState(),
		Description:    s.GetDescription(),
		LogURL:         s.GetLogURL(),
		EnvironmentURL: s.GetEnvironmentURL(),
		Creator:        s.GetCreator().GetLogin(),
		CreatedAt:      s.GetCreatedAt().UTC(),
	}
}

// newestFirst orders by time descending, then by id descending.
func newestFirst(ta, tb time.Time, ia, ib int64) int {
	if c := tb.Compare(ta); c != 0 {
		return c
	}
	switch {
	case ia > ib:
		return -1
	case ia < ib:
		return 1
	}
	return 0
}

// cutChars cuts s to at most n characters (runes), the last being "…" when it was cut;
// invalid UTF-8 becomes U+FFFD first so the count is GitHub's.
func cutChars(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i := 0
	for range n - 1 {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return s[:i] + "…"
}
