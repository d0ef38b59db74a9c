package deploy

import (
	"context"
	"encoding/json"
	"regexp"
	"time"

	"github.com/agentme/release-action/internal/clock"
	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/github"
	"github.com/agentme/release-action/internal/untrusted"
)

// GitHub is what deploy needs of the client (*github.Client satisfies it).
type GitHub interface {
	CreateDeployment(ctx context.Context, r github.DeploymentRequest) (github.Deployment, error)
	ListDeployments(ctx context.Context, f github.DeploymentFilter) ([]github.Deployment, error)
	ListDeploymentStatuses(ctx context.Context, deploymentID int64) ([]github.DeploymentStatus, error)
	CreateDeploymentStatus(ctx context.Context, deploymentID int64, r github.DeploymentStatusRequest) (github.DeploymentStatus, error)
	FindWorkflow(ctx context.Context, nameOrFile string) (github.Workflow, error)
	DispatchWorkflow(ctx context.Context, workflowID int64, ref string, inputs map[string]string) (github.DispatchResult, error)
	ListWorkflowRuns(ctx context.Context, workflowID int64, f github.RunFilter) ([]github.WorkflowRun, error)
	GetWorkflowRun(ctx context.Context, runID int64) (github.WorkflowRun, error)
	PendingDeployments(ctx context.Context, runID int64) ([]github.PendingDeployment, error)
}

// Stage is where an environment's deployment of a commit stands, read back from GitHub.
type Stage string

// The stages, read from the newest status of the release-action record of (environment, commit).
const (
	StageNone Stage = "none" // no release-action record for (environment, commit)
	// StageCreated: the record exists but carries no status yet (an earlier attempt stopped
	// between creating it and knowing its run): deploy again with the same record.
	StageCreated      Stage = "created"
	StageDeploying    Stage = "deploying"     // in_progress "deploying (run N)"
	StageDeployed     Stage = "deployed"      // in_progress "deployed; validating"
	StageValidated    Stage = "validated"     // success "deployed and validated"
	StageDeployFailed Stage = "deploy_failed" // failure/error "deploy failed|deploy error: ..."
	StageSmokeFailed  Stage = "smoke_failed"  // failure "smoke failed: ..."
	StageRolledBack   Stage = "rolled_back"   // failure/inactive "rolled back: ..."
	// StageInactive: the newest status is an "inactive" that release-action did not write
	// (GitHub's auto_inactive after a newer deployment of the environment succeeded): the
	// commit is no longer what the environment runs; deploy again.
	StageInactive Stage = "inactive"
)

// Payload is the JSON payload of every Deployment record release-action creates.
type Payload struct {
	ReleaseAction int    `json:"release_action"` // 1
	Commit        string `json:"commit"`
	Tag           string `json:"tag"`
	RunURL        string `json:"run_url,omitempty"`
	ForcedWindow  bool   `json:"forced_window,omitempty"`
	ForcedReason  string `json:"forced_reason,omitempty"`
	Rollback      bool   `json:"rollback,omitempty"`      // a rollback deployment
	RollbackFrom  string `json:"rollback_from,omitempty"` // commit rolled back from
	Reason        string `json:"reason,omitempty"`
	Rotation      bool   `json:"rotation,omitempty"` // a credential rotation's restart (task TaskRotate)
}

// State is an environment's deployment of one commit as GitHub records it.
type State struct {
	Environment string
	SHA         string
	// Record is the newest release-action record of (Environment, SHA); nil when StageNone.
	// Records GitHub Actions creates itself for jobs with `environment:` are never taken
	// for it (they are not release-action's and carry none of its statuses).
	Record *github.Deployment
	Latest *github.DeploymentStatus // newest status of Record, nil if none
	Stage  Stage
	// RunID is the deploy run, parsed from the newest release-action status that names it
	// ("(run N)", "run N concluded ...") or from the log_url of its in_progress statuses.
	RunID int64
	// Blocker: the newest deployment of ANOTHER commit in this environment whose newest status is
	// queued/pending/in_progress/waiting and younger than 2x the environment timeout: deploying now
	// would race it. Records without any status are not blockers.
	Blocker       *github.Deployment
	BlockerStatus *github.DeploymentStatus
	// RolledBack: this commit was rolled back from this environment (the newest "rolled back"
	// status of any of its records).
	RolledBack *github.DeploymentStatus
	// TimedOut: the newest status of Record is release-action's "deploy error: timed out
	// ...; run N was ..." and RunID is that run N. The run was not cancelled: it may still
	// run, or have finished since.
	TimedOut bool
	// Monitored: the newest status of Record is release-action's success "deployed and
	// validated; monitor passed" (StageValidated): the post-release monitor passed on it.
	Monitored bool
	// Superseded: a deployment of ANOTHER commit reached success or "deployed; validating"
	// in this environment after this commit was last deployed (its newest "deploying" or
	// "deployed; validating" status): the environment no longer runs this commit, whatever
	// the stage of Record says. Set only for stages where it matters (deploying, deployed,
	// smoke_failed, and a timed-out deploy); SupersededStatus is that status.
	Superseded       *github.Deployment
	SupersededStatus *github.DeploymentStatus

	// run caches the deploy run RunID names once Next or Deploy read it; runGone says
	// GitHub answered 404 for it.
	run     *github.WorkflowRun
	runRead bool
	runGone bool
	// deployedAt is when the commit was last put into the environment (zero where it
	// does not matter).
	deployedAt time.Time
}

// Action is what the deployment of a commit needs next (Next).
type Action string

// The actions.
const (
	// ActionNone: the deployment was validated; nothing to do.
	ActionNone Action = "none"
	// ActionValidate: the commit was deployed and the environment still runs it: validate
	// it (again) without a new deploy run.
	ActionValidate Action = "validate"
	// ActionFollow: a deploy run an earlier attempt started still runs, or finished without
	// being recorded: Deploy follows it and starts no new run.
	ActionFollow Action = "follow"
	// ActionTrigger: a new deploy run must start (with the same record when there is one).
	// A caller with a deployment window checks it before calling Deploy.
	ActionTrigger Action = "trigger"
)

// Options of one deployment.
type Options struct {
	Environment config.Environment // Name, URL, Timeout (0 = 30m)
	// Trigger: Workflow (default deploy.yml) is dispatched, or with Event "deployment" it is the
	// workflow that runs `on: deployment` and is followed. Both modes need Workflow to name it.
	Trigger  config.Deploy
	SHA, Tag string // the commit and the tag that names it (deployment ref)
	// Task is the deployment's task (default "deploy"; TaskRotate for a rotation's restart).
	Task       string
	Payload    Payload
	Production bool // production_environment
	Clock      clock.Clock
	Progress   func(string)
	// PollInterval between reads of the run (default 10s). Progress is never silent for more
	// than a minute while a run is followed.
	PollInterval time.Duration
	// EventGrace is how long the deployment event trigger may take to start a run before the
	// deployment fails with the GITHUB_TOKEN explanation (default 2m).
	EventGrace time.Duration
	// StartBy, when set, is when the deployment window closes: a run that has not started by
	// then (it waits for approval or a runner) is cancelled with Cancel and the Result is
	// StateNotStarted; a run already deploying is left to finish (Result.WindowNote).
	StartBy time.Time
	Cancel  func(ctx context.Context, runID int64) error
	// State from Inspect; Deploy reuses State.Record and follows State.RunID when StageDeploying.
	// Nil: Deploy reads the state of (environment, commit) itself.
	State *State
}

// The Result states.
const (
	StateSuccess = "success"
	StateFailure = "failure"
	StateError   = "error"
)

// The triggers a Result names.
const (
	TriggerDispatch = "workflow_dispatch"
	TriggerEvent    = "deployment"
)

// Result of one deployment.
type Result struct {
	Environment  string `json:"environment"`
	DeploymentID int64  `json:"deployment_id"`
	Reused       bool   `json:"reused"` // the record existed (resume)
	Trigger      string `json:"trigger"`
	Workflow     string `json:"workflow,omitempty"`
	RunID        int64  `json:"run_id,omitempty"`
	RunURL       string `json:"run_url,omitempty"`
	// Resumed: the run was started by an earlier attempt and only followed.
	Resumed    bool   `json:"resumed,omitempty"`
	Conclusion string `json:"conclusion,omitempty"` // the run's conclusion when it completed
	// State is success (the run succeeded; the caller validates next), failure (the run did
	// not succeed) or error (timeout, wrong commit, no run).
	State          string `json:"state"`
	Reason         string `json:"reason,omitempty"`
	EnvironmentURL string `json:"environment_url,omitempty"`
	// WaitedApproval is the time the run spent waiting on environment protection rules.
	WaitedApproval config.Duration `json:"waited_approval"`
	// Approvers are the reviewers the run waited on (GitHub does not say here who approved).
	Approvers []string `json:"approvers,omitempty"`
	// WindowNote says what Options.StartBy did to a run that had started (left to finish).
	WindowNote string          `json:"window_note,omitempty"`
	Duration   config.Duration `json:"duration"`
}

// PayloadOf reads a record's payload: a JSON object, or a string holding one (some
// clients send the payload as a string). A record release-action did not write reads as
// the zero Payload.
func PayloadOf(d github.Deployment) Payload {
	var p Payload
	if json.Unmarshal(d.Payload, &p) == nil {
		return p
	}
	var s string
	if json.Unmarshal(d.Payload, &s) == nil && json.Unmarshal([]byte(s), &p) == nil {
		return p
	}
	return Payload{}
}

// TagOf is the tag a record deployed, cleaned for display: its payload's, else its ref
// when that is not a commit SHA ("" when neither).
func TagOf(d github.Deployment) string {
	if t := PayloadOf(d).Tag; t != "" {
		return untrusted.OneLine(t, 100)
	}
	if d.Ref != "" && !shaRef.MatchString(d.Ref) {
		return untrusted.OneLine(d.Ref, 100)
	}
	return ""
}

var shaRef = regexp.MustCompile(`^[0-9a-fA-F]{7,40}$`)
