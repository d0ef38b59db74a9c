package github

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	gh "github.com/google/go-github/v89/github"
)

const (
	maxJobLog       = 64 << 20
	maxArtifact     = 256 << 20
	maxListPages    = 50
	maxDispatchArgs = 25
)

// ListWorkflows returns every workflow of the repository (all pages), each with its file.
func (c *Client) ListWorkflows(ctx context.Context) ([]Workflow, error) {
	owner, name := c.ownerName()
	var out []Workflow
	opts := &gh.ListOptions{PerPage: 100}
	for page := 1; page <= maxListPages; page++ {
		opts.Page = page
		ws, resp, err := c.rest.Actions.ListWorkflows(ctx, owner, name, opts)
		if err != nil {
			return nil, fmt.Errorf("list workflows of %s: %w", c.repo, c.convertErr(err))
		}
		if ws == nil {
			return nil, fmt.Errorf("list workflows of %s: %w", c.repo, errNoBody)
		}
		for _, w := range ws.Workflows {
			out = append(out, Workflow{ID: w.GetID(), Name: w.GetName(), Path: w.GetPath(), State: w.GetState()})
		}
		if resp.NextPage == 0 {
			break
		}
	}
	return out, nil
}

// FindWorkflow finds a workflow by its `name:` or by its file (basename like "deploy.yml" or
// path ".github/workflows/deploy.yml"). A path match wins over a basename match, which wins
// over a name match; two workflows with the same name are an error asking for the file.
// None -> error wrapping ErrNotFound.
func (c *Client) FindWorkflow(ctx context.Context, nameOrFile string) (Workflow, error) {
	want := strings.TrimPrefix(strings.TrimSpace(nameOrFile), "./")
	if want == "" {
		return Workflow{}, fmt.Errorf("find workflow in %s: empty name: give the workflow's name or file", c.repo)
	}
	ws, err := c.ListWorkflows(ctx)
	if err != nil {
		return Workflow{}, err
	}
	var byPath, byBase, byName []Workflow
	for _, wf := range ws {
		switch {
		case wf.Path == want:
			byPath = append(byPath, wf)
		case path.Base(wf.Path) == want:
			byBase = append(byBase, wf)
		case wf.Name == want:
			byName = append(byName, wf)
		}
	}
	for _, found := range [][]Workflow{byPath, byBase, byName} {
		switch len(found) {
		case 0:
			continue
		case 1:
			return found[0], nil
		default:
			paths := make([]string, len(found))
			for i, w := range found {
				paths[i] = w.Path
			}
			return Workflow{}, fmt.Errorf("find workflow %q in %s: %d workflows match (%s): name the file instead",
				want, c.repo, len(found), strings.Join(paths, ", "))
		}
	}
	return Workflow{}, fmt.Errorf("find workflow %q in %s: no workflow has that name or file: %w", want, c.repo, ErrNotFound)
}

// ListWorkflowRuns lists runs of a workflow, newest first (the first page of 100 is enough
// for the filters callers use).
func (c *Client) ListWorkflowRuns(ctx context.Context, workflowID int64, f RunFilter) ([]WorkflowRun, error) {
	opts := &gh.ListWorkflowRunsOptions{
		HeadSHA: f.HeadSHA, Event: f.Event, Branch: f.Branch,
		ListOptions: gh.ListOptions{PerPage: 100},
	}
	if !f.CreatedSince.IsZero() {
		opts.Created = ">=" + f.CreatedSince.UTC().Format(time.RFC3339)
	}
	owner, name := c.ownerName()
	runs, _, err := c.rest.Actions.ListWorkflowRunsByID(ctx, owner, name, workflowID, opts)
	if err != nil {
		return nil, fmt.Errorf("list runs of workflow %d in %s: %w", workflowID, c.repo, c.convertErr(err))
	}
	if runs == nil {
		return nil, fmt.Errorf("list runs of workflow %d in %s: %w", workflowID, c.repo, errNoBody)
	}
	out := make([]WorkflowRun, 0, len(runs.WorkflowRuns))
	for _, r := range runs.WorkflowRuns {
		out = append(out, mapRun(r))
	}
	slices.SortStableFunc(out, func(a, b WorkflowRun) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		switch {
		case a.ID > b.ID:
			return -1
		case a.ID < b.ID:
			return 1
		}
		return 0
	})
	return out, nil
}

// GetWorkflowRun returns one workflow run.
func (c *Client) GetWorkflowRun(ctx context.Context, runID int64) (WorkflowRun, error) {
	owner, name := c.ownerName()
	r, _, err := c.rest.Actions.GetWorkflowRunByID(ctx, owner, name, runID)
	if err != nil {
		return WorkflowRun{}, fmt.Errorf("get workflow run %d in %s: %w", runID, c.repo, c.convertErr(err))
	}
	if r == nil {
		return WorkflowRun{}, fmt.Errorf("get workflow run %d in %s: %w", runID, c.repo, errNoBody)
	}
	return mapRun(r), nil
}

func mapRun(r *gh.WorkflowRun) WorkflowRun {
	return WorkflowRun{
		ID:         r.GetID(),
		Name:       r.GetName(),
		WorkflowID: r.GetWorkflowID(),
		Path:       strings.SplitN(r.GetPath(), "@", 2)[0],
		HeadSHA:    r.GetHeadSHA(),
		HeadBranch: r.GetHeadBranch(),
		Event:      r.GetEvent(),
		Status:     r.GetStatus(),
		Conclusion: r.GetConclusion(),
		RunNumber:  r.GetRunNumber(),
		RunAttempt: r.GetRunAttempt(),
		HTMLURL:    r.GetHTMLURL(),
		CreatedAt:  r.GetCreatedAt().UTC(),
		UpdatedAt:  r.GetUpdatedAt().UTC(),
	}
}

// DispatchWorkflow starts a workflow_dispatch run on ref (a branch or tag) and asks GitHub for
// the run's details (return_run_details). Servers that do not know that field (GHES 3.20 and
// older) answer 400, or 422 naming it: the dispatch is then sent again without it and RunID
// is 0, so the caller discovers the run. A 400 means nothing was dispatched, so sending again
// cannot start a second run.
func (c *Client) DispatchWorkflow(ctx context.Context, workflowID int64, ref string, inputs map[string]string) (DispatchResult, error) {
	if strings.TrimSpace(ref) == "" {
		return DispatchResult{}, fmt.Errorf("dispatch workflow %d in %s: empty ref: give a branch or tag", workflowID, c.repo)
	}
	if len(inputs) > maxDispatchArgs {
		return DispatchResult{}, fmt.Errorf("dispatch workflow %d in %s: %d inputs, GitHub accepts at most %d", workflowID, c.repo, len(inputs), maxDispatchArgs)
	}
	body := gh.CreateWorkflowDispatchEventRequest{Ref: ref, ReturnRunDetails: gh.Ptr(true)}
	if len(inputs) > 0 {
		body.Inputs = make(map[string]any, len(inputs))
		for k, v := range inputs {
			body.Inputs[k] = v
		}
	}
	owner, name := c.ownerName()
	det, _, err := c.rest.Actions.CreateWorkflowDispatchEventByID(ctx, owner, name, workflowID, body)
	if err != nil {
		err = c.convertErr(err)
		var api *APIError
		if !errors.As(err, &api) || !unknownRunDetails(api) {
			return DispatchResult{}, fmt.Errorf("dispatch workflow %d on %s in %s: %w", workflowID, ref, c.repo, err)
		}
		c.debugf("github: dispatch of workflow %d: server refused return_run_details (%d); dispatching without it", workflowID, api.StatusCode)
		body.ReturnRunDetails = nil
		if _, _, err := c.rest.Actions.CreateWorkflowDispatchEventByID(ctx, owner, name, workflowID, body); err != nil {
			return DispatchResult{}, fmt.Errorf("dispatch workflow %d on %s in %s: %w", workflowID, ref, c.repo, c.convertErr(err))
		}
		return DispatchResult{}, nil
	}
	if det == nil {
		return DispatchResult{}, nil
	}
	return DispatchResult{RunID: det.GetWorkflowRunID(), RunURL: det.GetRunURL(), HTMLURL: det.GetHTMLURL()}, nil
}

func unknownRunDetails(e *APIError) bool {
	return e.StatusCode == http.StatusBadRequest ||
		(e.StatusCode == http.StatusUnprocessableEntity && strings.Contains(e.Message, "return_run_details"))
}

// ListJobs returns the jobs of a run's latest attempt, all pages, with their steps.
func (c *Client) ListJobs(ctx context.Context, runID int64) ([]Job, error) {
	owner, name := c.ownerName()
	opts := &gh.ListWorkflowJobsOptions{Filter: "latest", ListOptions: gh.ListOptions{PerPage: 100}}
	var out []Job
	for page := 1; ; page++ {
		opts.Page = page
		jobs, resp, err := c.rest.Actions.ListWorkflowJobs(ctx, owner, name, runID, opts)
		if err != nil {
			return nil, fmt.Errorf("list jobs of run %d in %s (page %d): %w", runID, c.repo, page, c.convertErr(err))
		}
		if jobs == nil {
			return nil, fmt.Errorf("list jobs of run %d in %s (page %d): %w", runID, c.repo, page, errNoBody)
		}
		for _, j := range jobs.Jobs {
			out = append(out, mapJob(j))
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		if page >= maxListPages {
			return nil, fmt.Errorf("list jobs of run %d in %s: more than %d pages; refusing to read on", runID, c.repo, maxListPages)
		}
	}
}

// GetJob returns one job with its steps.
func (c *Client) GetJob(ctx context.Context, jobID int64) (Job, error) {
	owner, name := c.ownerName()
	j, _, err := c.rest.Actions.GetWorkflowJobByID(ctx, owner, name, jobID)
	if err != nil {
		return Job{}, fmt.Errorf("get job %d in %s: %w", jobID, c.repo, c.convertErr(err))
	}
	if j == nil {
		return Job{}, fmt.Errorf("get job %d in %s: %w", jobID, c.repo, errNoBody)
	}
	return mapJob(j), nil
}

func mapJob(j *gh.WorkflowJob) Job {
	job := Job{
		ID:          j.GetID(),
		RunID:       j.GetRunID(),
		Name:        j.GetName(),
		Status:      j.GetStatus(),
		Conclusion:  j.GetConclusion(),
		StartedAt:   j.GetStartedAt().UTC(),
		CompletedAt: j.GetCompletedAt().UTC(),
		HTMLURL:     j.GetHTMLURL(),
		RunnerName:  j.GetRunnerName(),
	}
	for _, s := range j.Steps {
		job.Steps = append(job.Steps, Step{
			Name:        s.GetName(),
			Number:      int(s.GetNumber()),
			Status:      s.GetStatus(),
			Conclusion:  s.GetConclusion(),
			StartedAt:   s.GetStartedAt().UTC(),
			CompletedAt: s.GetCompletedAt().UTC(),
		})
	}
	return job
}

// JobLog returns a job's log as plain text: GitHub answers 302 to a blob host, which gets no
// token. More than 64 MiB is an error rather than a silently cut log.
func (c *Client) JobLog(ctx context.Context, jobID int64) ([]byte, error) {
	owner, name := c.ownerName()
	u, resp, err := c.rest.Actions.GetWorkflowJobLogs(ctx, owner, name, jobID, 2)
	if err != nil {
		return nil, fmt.Errorf("get log of job %d in %s: %w", jobID, c.repo, c.redirectErr(resp, err))
	}
	b, err := c.download(ctx, u, maxJobLog)
	if err != nil {
		return nil, fmt.Errorf("download log of job %d in %s: %w", jobID, c.repo, err)
	}
	return b, nil
}

// ListArtifacts returns a run's artifacts, all pages.
func (c *Client) ListArtifacts(ctx context.Context, runID int64) ([]Artifact, error) {
	owner, name := c.ownerName()
	opts := &gh.ListOptions{PerPage: 100}
	var out []Artifact
	for page := 1; ; page++ {
		opts.Page = page
		list, resp, err := c.rest.Actions.ListWorkflowRunArtifacts(ctx, owner, name, runID, opts)
		if err != nil {
			return nil, fmt.Errorf("list artifacts of run %d in %s (page %d): %w", runID, c.repo, page, c.convertErr(err))
		}
		if list == nil {
			return nil, fmt.Errorf("list artifacts of run %d in %s (page %d): %w", runID, c.repo, page, errNoBody)
		}
		for _, a := range list.Artifacts {
			out = append(out, Artifact{ID: a.GetID(), Name: a.GetName(), SizeBytes: a.GetSizeInBytes(), Expired: a.GetExpired()})
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		if page >= maxListPages {
			return nil, fmt.Errorf("list artifacts of run %d in %s: more than %d pages; refusing to read on", runID, c.repo, maxListPages)
		}
	}
}

// DownloadArtifact returns an artifact's zip (GitHub answers 302 to a blob host, which gets
// no token). More than 256 MiB is an error.
func (c *Client) DownloadArtifact(ctx context.Context, artifactID int64) ([]byte, error) {
	owner, name := c.ownerName()
	u, resp, err := c.rest.Actions.DownloadArtifact(ctx, owner, name, artifactID, 2)
	if err != nil {
		return nil, fmt.Errorf("get artifact %d in %s: %w", artifactID, c.repo, c.redirectErr(resp, err))
	}
	b, err := c.download(ctx, u, maxArtifact)
	if err != nil {
		return nil, fmt.Errorf("download artifact %d in %s: %w", artifactID, c.repo, err)
	}
	return b, nil
}

// redirectErr: go-github's redirect endpoints report a non-302 answer as a bare
// "unexpected status code", so the status is taken from the response.
func (c *Client) redirectErr(resp *gh.Response, err error) error {
	err = c.convertErr(err)
	var api *APIError
	if errors.As(err, &api) || resp == nil || resp.Response == nil || resp.StatusCode < 300 {
		return err
	}
	return c.apiError(resp.Response, "", nil)
}

// download GETs a blob URL (a signed URL: it never appears in errors beyond host and path).
func (c *Client) download(ctx context.Context, u *url.URL, limit int64) ([]byte, error) {
	if u == nil {
		return nil, errors.New("GitHub's redirect had no location")
	}
	target := c.apiBase.ResolveReference(u)
	shown := target.Scheme + "://" + target.Host + target.Path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", shown, err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("GET %s: %w", shown, c.convertErr(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: answered %d %s", shown, resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: read: %w", shown, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("GET %s: larger than %d MiB; refusing to hold it in memory", shown, limit>>20)
	}
	return b, nil
}
