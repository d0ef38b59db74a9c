// Package gate is the pre-release gate engine: it waits for the evidence that the
// configured gates name on a candidate commit and returns a verdict that cannot be
// reached by accident.
//
// # Evidence
//
// Each poll reads one snapshot of the commit: check runs and commit status contexts,
// each check run with the workflow file, run and check suite it belongs to (poller.go). Never evidence: the gate's own job (the check run whose id is the job
// id of the in-progress job of Self.RunID running on Self.RunnerName, found once with
// ListJobs; when that finds nothing, any not-completed check run of run Self.RunID named
// Self.JobKey), Self.CheckRunIDs, check runs named like Self.CheckRunNames (the published
// release-gate check run, of this gate run or an earlier one), and names matching
// Policy.Ignore.
//
// # Latest attempt wins
//
// Check runs are reduced to the one with the highest id per (workflow file, name): ids grow
// with every attempt, so a re-run supersedes the attempt it repeats whatever either
// concluded. Attempts that are never evidence still take part: the gate's own job in its
// second attempt supersedes the failed first attempt, which therefore never counts.
// Commit statuses arrive as the latest state per context and are kept as they are. A
// workflow's latest run is the one with the highest run id among its check runs; inside
// it the highest check-run id per name wins.
//
// # Kinds
//
//   - check: every context (check run or status) whose name matches Gate.Check (exact,
//     glob or "re:" regexp, see matcher) must pass; with Gate.Workflow only check runs of
//     that workflow count (statuses have no workflow).
//   - workflow: every check run of the workflow's latest run on the commit must pass and
//     the run's check suite must be completed with a passing conclusion: until the suite
//     completes more jobs may still be created, so the gate stays pending. When every
//     check run passed but the suite is not completed, or concluded otherwise, the run
//     itself is asked (GetWorkflowRun, at most once per minute per run) and its own
//     status and conclusion decide: GitHub completes a suite a moment after its last
//     check run, and a check run created with GITHUB_TOKEN (the published release-gate
//     check run) joins the suite of a workflow run on the commit, holding it open or
//     failing it although no job of the run did. A workflow whose latest run is the
//     gate's own run fails (it cannot gate itself).
//   - workflow with dispatch: see dispatch.go.
//   - tests: see tests.go.
//
// # Conclusions
//
// success passes; neutral passes unless Policy.Neutral is "fail"; skipped fails ("required
// check was skipped") unless Policy.Skipped is "pass"; every other conclusion, known
// (failure, cancelled, timed_out, action_required, startup_failure, stale, error) or
// not, fails. A check that is not completed is pending.
//
// # Waiting
//
// Every gate is evaluated from every snapshot, so a re-run can turn a failed gate green,
// or a passed gate red, while others are still pending. The whole gate passes only when
// every gate passes in the same poll. With fail-fast (the default) it stops at the first
// gate that fails; other gates are then reported "pending". Without fail-fast it waits
// until no gate is pending. A gate that shows no evidence at all for
// Policy.AppearTimeout after it started (after the dispatch, for a dispatched workflow)
// fails closed, and that failure is final. Policy.Timeout, measured with Options.Clock,
// fails every gate still pending ("timed out after 45m0s waiting for ...").
//
// Polling: one snapshot per poll (see poller.go); polls are paced by what they cost
// (see runner.interval): every MinInterval while GitHub answers 304s, longer after paid
// work, never past the overall deadline or a gate's appearance deadline, and at most 55s
// (a progress line is written at least once a minute). Job lists, logs and artifacts are
// fetched once per completed job and cached by id.
//
// # Errors
//
// Run returns an error only when something went wrong: invalid options (vocab.ErrBadInput), a
// configuration GitHub proved wrong (bad input: a dispatch gate's workflow does not
// exist or cannot be dispatched), an API failure the client could not retry away, a
// cancelled context. An API error is never read as a verdict.
package gate

import (
	"context"
	"errors"
	"time"

	"github.com/agentme/release-action/internal/clock"
	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/github"
	vocab "github.com/agentme/release-action/internal/outcome"
)

// GitHub is the part of the GitHub client the gate uses; *github.Client satisfies it.
type GitHub interface {
	Repo() github.Repo
	CheckRunStates(ctx context.Context, sha string) ([]github.CheckContext, error)
	StatusStates(ctx context.Context, sha string) ([]github.CheckContext, error)
	Rollup(ctx context.Context, sha string) ([]github.CheckContext, error)
	// Cost is what the client spent so far; the gate paces what it pays for.
	Cost() github.Cost
	ListWorkflows(ctx context.Context) ([]github.Workflow, error)
	ListWorkflowRuns(ctx context.Context, workflowID int64, f github.RunFilter) ([]github.WorkflowRun, error)
	GetWorkflowRun(ctx context.Context, runID int64) (github.WorkflowRun, error)
	BranchesWhereHead(ctx context.Context, sha string) ([]string, error)
	CreateRef(ctx context.Context, ref, sha string) error
	DeleteRef(ctx context.Context, ref string) error
	DispatchWorkflow(ctx context.Context, workflowID int64, ref string, inputs map[string]string) (github.DispatchResult, error)
	ListJobs(ctx context.Context, runID int64) ([]github.Job, error)
	JobLog(ctx context.Context, jobID int64) ([]byte, error)
	ListArtifacts(ctx context.Context, runID int64) ([]github.Artifact, error)
	DownloadArtifact(ctx context.Context, artifactID int64) ([]byte, error)
}

// configError is a gate configuration that GitHub proved wrong for the repository: the
// workflow a gate names does not exist or is ambiguous, or GitHub refuses to dispatch it
// (no workflow_dispatch trigger, a disabled workflow, inputs it does not declare). Waiting
// or re-running cannot help; the configuration or the workflow must change, and msg says
// which. It is bad input (vocab.ErrBadInput, exit 2), the one sentinel for input the user
// fixes; err is GitHub's answer.
type configError struct {
	msg string
	err error
}

func (e *configError) Error() string        { return e.msg }
func (e *configError) Unwrap() error        { return e.err }
func (e *configError) Is(target error) bool { return target == vocab.ErrBadInput }

// Defaults for zero Options and Policy fields.
const (
	DefaultMinInterval   = 5 * time.Second
	DefaultMaxInterval   = 30 * time.Second
	DefaultTimeout       = 45 * time.Minute
	DefaultAppearTimeout = 5 * time.Minute
	DefaultTempRefPrefix = "release-action/dispatch-"
)

// Options is what one gate run needs.
type Options struct {
	// SHA is the full 40-hex candidate commit.
	SHA   string
	Gates []config.Gate
	// Policy: zero Timeout and AppearTimeout take the defaults (45m, 5m); empty Skipped
	// and Neutral mean "fail" and "pass".
	Policy config.Policy
	// Self is the gate's own job, never taken as evidence.
	Self Self
	// Clock is the only source of time (default clock.Real).
	Clock clock.Clock
	// Progress receives one line per state change of a gate and a "still waiting" line at
	// least once a minute. Lines never contain newlines; untrusted names are cleaned.
	Progress func(msg string)
	// MinInterval and MaxInterval bound the polling interval (5s and 30s): MinInterval
	// while polls are free, up to MaxInterval after paid work that saw a change.
	MinInterval, MaxInterval time.Duration
	// TempRefPrefix names temporary dispatch branches: TempRefPrefix + sha[:12] + "-" +
	// RunKey (default "release-action/dispatch-").
	TempRefPrefix string
	// RunKey makes temporary branch names unique per gate run (the CLI passes
	// GITHUB_RUN_ID-GITHUB_RUN_ATTEMPT); empty means a random suffix.
	RunKey string
}

// Self identifies the gate's own job.
type Self struct {
	// RunID is the workflow run the gate runs in (GITHUB_RUN_ID); 0 outside Actions.
	RunID int64
	// RunnerName is the runner executing the gate's job (RUNNER_NAME).
	RunnerName string
	// JobKey is the job's id in the workflow file (GITHUB_JOB), the fallback to tell the
	// gate's own check run.
	JobKey string
	// CheckRunIDs are further check runs of the caller that are never evidence, such as
	// the release-gate check run it publishes.
	CheckRunIDs []int64
	// CheckRunNames are names of check runs that are never evidence, whoever created them:
	// the name of the release-gate check run, which this or an earlier gate run may have
	// published (whether or not this run publishes one). A check gate whose pattern only
	// matches these names therefore never sees evidence and fails closed.
	CheckRunNames []string
}

// Run evaluates the gates of o on o.SHA until they are decided or the policy's timeout
// passes, and returns the decision. Temporary dispatch branches are deleted before it
// returns, whatever the outcome (a failed deletion is a warning in the result). On error
// the result is nil.
func Run(ctx context.Context, gh GitHub, o Options) (*Result, error) {
	r, err := newRunner(gh, o)
	if err != nil {
		return nil, err
	}
	runErr := r.loop(ctx)
	cleanErr := r.cleanup(ctx, runErr != nil)
	if runErr != nil {
		return nil, errors.Join(runErr, cleanErr)
	}
	return r.result(), nil
}
