package github

import "time"

// Repo names a repository.
type Repo struct {
	Owner string
	Name  string
}

// String returns "owner/name".
func (r Repo) String() string { return r.Owner + "/" + r.Name }

// ContextKind tells a check run from a commit status.
type ContextKind string

// The kinds of a commit's status check contexts.
const (
	KindCheckRun ContextKind = "check_run"
	KindStatus   ContextKind = "status"
)

// CheckContext is one entry of a commit's status check rollup: a check run or a commit
// status context. Status and Conclusion are lower-case REST spellings ("in_progress",
// "timed_out", "startup_failure"); Conclusion is "" until completed and is an open set:
// callers must treat unknown values as failures.
type CheckContext struct {
	Kind ContextKind `json:"kind"`
	// ID is the check run's database id (for Actions it equals the job id); 0 for statuses.
	ID   int64  `json:"id,omitempty"`
	Name string `json:"name"`
	// Status: queued, in_progress, completed, waiting, requested, pending. A commit status
	// is "pending" until its state is final, then "completed".
	Status string `json:"status"`
	// Conclusion: success, failure, neutral, cancelled, skipped, timed_out, action_required,
	// stale, startup_failure, or anything GitHub adds later. Commit status states map to
	// success, failure, error.
	Conclusion  string    `json:"conclusion,omitempty"`
	StartedAt   time.Time `json:"started_at,omitzero"`
	CompletedAt time.Time `json:"completed_at,omitzero"`
	DetailsURL  string    `json:"details_url,omitempty"`
	// Workflow is the name of the Actions workflow that produced the check run ("" otherwise):
	// a display name, which several workflow files may share.
	Workflow string `json:"workflow,omitempty"`
	// WorkflowID and WorkflowPath identify the workflow file (its REST workflow id and its
	// path, ".github/workflows/ci.yml"); what identifies a workflow, never its name.
	WorkflowID   int64  `json:"workflow_id,omitempty"`
	WorkflowPath string `json:"workflow_path,omitempty"`
	// RunID is the workflow run's database id; RunNumber and Event describe it.
	RunID     int64  `json:"run_id,omitempty"`
	RunNumber int    `json:"run_number,omitempty"`
	Event     string `json:"event,omitempty"`
	RunURL    string `json:"run_url,omitempty"`
	// SuiteID, SuiteStatus and SuiteConclusion describe the check suite (one per workflow run).
	SuiteID         int64  `json:"suite_id,omitempty"`
	SuiteStatus     string `json:"suite_status,omitempty"`
	SuiteConclusion string `json:"suite_conclusion,omitempty"`
}

// Workflow is an Actions workflow definition.
type Workflow struct {
	ID    int64
	Name  string
	Path  string // e.g. .github/workflows/install-smoke.yml
	State string
}

// WorkflowRun is one run of a workflow.
type WorkflowRun struct {
	ID         int64
	Name       string
	WorkflowID int64
	// Path is the workflow file (".github/workflows/ci.yml"), without the "@ref" REST adds.
	Path       string
	HeadSHA    string
	HeadBranch string
	Event      string
	Status     string
	Conclusion string
	RunNumber  int
	RunAttempt int
	HTMLURL    string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// RunFilter narrows a workflow-run listing. Zero fields are not sent.
type RunFilter struct {
	HeadSHA string
	Event   string
	Branch  string
	// CreatedSince sends created=>=<RFC 3339> so only newer runs come back.
	CreatedSince time.Time
}

// DispatchResult is what a workflow dispatch returned. RunID is 0 when the server did not
// return run details (GHES 3.20 and older, or servers without return_run_details): the
// caller must discover the run.
type DispatchResult struct {
	RunID   int64
	RunURL  string
	HTMLURL string
}

// Job is one job of a workflow run.
type Job struct {
	ID          int64
	RunID       int64
	Name        string
	Status      string
	Conclusion  string
	StartedAt   time.Time
	CompletedAt time.Time
	HTMLURL     string
	RunnerName  string
	Steps       []Step
}

// Step is one step of a job.
type Step struct {
	Name        string
	Number      int
	Status      string
	Conclusion  string
	StartedAt   time.Time
	CompletedAt time.Time
}

// Artifact is a workflow run artifact.
type Artifact struct {
	ID        int64
	Name      string
	SizeBytes int64
	Expired   bool
}

// CheckRunOutput is the output of a check run this action publishes.
type CheckRunOutput struct {
	Title   string
	Summary string
	Text    string
}

// CheckRunUpdate creates or updates a check run. Conclusion is set only when Status is "completed".
type CheckRunUpdate struct {
	Name       string
	HeadSHA    string
	Status     string
	Conclusion string
	DetailsURL string
	ExternalID string
	Output     CheckRunOutput
}

// Cost counts what the client spent against GitHub's budgets.
type Cost struct {
	// REST is the number of REST requests that reached the server (including 304 answers).
	REST int `json:"rest_requests"`
	// NotModified is how many of those answered 304 (free against the primary limit).
	NotModified int `json:"not_modified"`
	// GraphQLQueries is the number of GraphQL requests sent.
	GraphQLQueries int `json:"graphql_queries"`
	// GraphQLPoints is the sum of rateLimit.cost over GraphQL answers.
	GraphQLPoints int `json:"graphql_points"`
	// Retries is how many requests were sent again after a retryable failure.
	Retries int `json:"retries"`
}

// Billed returns the REST requests that count against the primary limit (304s are free).
func (c Cost) Billed() int { return c.REST - c.NotModified }
