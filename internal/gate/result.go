package gate

import (
	"fmt"
	"time"

	"github.com/agentme/release-action/internal/config"
	vocab "github.com/agentme/release-action/internal/outcome"
	"github.com/agentme/release-action/internal/untrusted"
)

// The gate's verdicts are the shared vocabulary's (gate names them often; the short names
// stay). Pending is only ever one gate's verdict: it was not evaluated when the whole gate
// stopped at the first failure (fail-fast).
const (
	Pass                  = vocab.Pass
	Fail                  = vocab.Fail
	Pending vocab.Verdict = "pending"
	// Superseded is the verdict of evidence a newer attempt replaced: it did not count.
	Superseded vocab.Verdict = "superseded"
)

// Result is the gate's decision: the `report` output. Field names are stable.
type Result struct {
	// Verdict is Pass only when every gate passed in the same poll.
	Verdict vocab.Verdict `json:"verdict"`
	// Reason is one sentence for the whole decision.
	Reason   string          `json:"reason"`
	SHA      string          `json:"sha"`
	Started  time.Time       `json:"started"`
	Finished time.Time       `json:"finished"`
	Duration config.Duration `json:"duration"`
	// TimedOut is true when Policy.Timeout ended the wait.
	TimedOut bool `json:"timed_out"`
	FailFast bool `json:"fail_fast"`
	// Polls counts the snapshots read.
	Polls int          `json:"polls"`
	Gates []GateResult `json:"gates"`
	// Warnings are problems that did not change the verdict (a temporary branch that
	// could not be deleted).
	Warnings []string `json:"warnings,omitempty"`
}

// GateResult is the decision of one configured gate.
type GateResult struct {
	Name string `json:"name"`
	// Kind is "check", "workflow" or "tests".
	Kind    string        `json:"kind"`
	Verdict vocab.Verdict `json:"verdict"`
	// Reason says why, in words an operator acts on.
	Reason string `json:"reason"`
	// Link is the most useful page: the failing or pending check run, the workflow run.
	Link string `json:"link,omitempty"`
	// WorkflowFile is the workflow file the gate read (".github/workflows/ci.yml"); only
	// runs of that file were evidence. Empty for a check gate that names no workflow.
	WorkflowFile string `json:"workflow_file,omitempty"`
	// Duration is from the start of the gate until this gate was decided (or until the
	// end when it never was).
	Duration config.Duration `json:"duration"`
	// WaitedAbsent, WaitedQueued and WaitedRunning split the time this gate was pending:
	// no evidence yet; evidence queued or waiting (no runner, approval, concurrency);
	// evidence in progress. A poll interval counts as queued when any blocking evidence
	// was queued at its start.
	WaitedAbsent  config.Duration `json:"waited_absent"`
	WaitedQueued  config.Duration `json:"waited_queued"`
	WaitedRunning config.Duration `json:"waited_running"`
	// Evidence lists what was considered, superseded attempts included, sorted by
	// workflow, name, run and check-run id (oldest attempt first).
	Evidence []Evidence `json:"evidence"`
	// Ignored lists check runs and statuses that carry the gate's name but were not
	// evidence (another workflow file, another app, a status), with the reason.
	Ignored  []Ignored     `json:"ignored,omitempty"`
	Dispatch *DispatchInfo `json:"dispatch,omitempty"`
	Tests    *TestsDetail  `json:"tests,omitempty"`
}

// Evidence is one check run or commit status a gate looked at.
type Evidence struct {
	Name string `json:"name"`
	// Kind is "check_run" or "status".
	Kind        string    `json:"kind"`
	Workflow    string    `json:"workflow,omitempty"`
	RunID       int64     `json:"run_id,omitempty"`
	RunNumber   int       `json:"run_number,omitempty"`
	Event       string    `json:"event,omitempty"`
	CheckRunID  int64     `json:"check_run_id,omitempty"`
	Status      string    `json:"status"`
	Conclusion  string    `json:"conclusion,omitempty"`
	URL         string    `json:"url,omitempty"`
	StartedAt   time.Time `json:"started_at,omitzero"`
	CompletedAt time.Time `json:"completed_at,omitzero"`
	// Latest is false for an attempt a newer one superseded; it did not count.
	Latest bool `json:"latest"`
	// Verdict is pass, fail or pending for the latest attempt, Superseded otherwise.
	Verdict vocab.Verdict `json:"verdict"`
	// Note explains the verdict ("required check was skipped", "queued for 3m0s").
	Note string `json:"note,omitempty"`
}

// Dispatch actions.
const (
	DispatchDispatched = "dispatched"
	DispatchFollowed   = "followed_existing"
)

// DispatchInfo describes what a dispatch gate did when its workflow had no check runs on
// the commit.
type DispatchInfo struct {
	Workflow   string `json:"workflow"`
	WorkflowID int64  `json:"workflow_id"`
	// Action is "dispatched" or "followed_existing" (a run on the commit was found, so
	// nothing was dispatched).
	Action string `json:"action"`
	// Ref is the branch the workflow was dispatched on.
	Ref string `json:"ref,omitempty"`
	// TempRef is true when Ref is a temporary branch this gate created (and deletes).
	TempRef      bool      `json:"temp_ref"`
	RefDeleted   bool      `json:"ref_deleted"`
	DispatchedAt time.Time `json:"dispatched_at,omitzero"`
	RunID        int64     `json:"run_id,omitempty"`
	RunURL       string    `json:"run_url,omitempty"`
	// RunDiscovered is true when the server returned no run id and the run was found by
	// listing workflow_dispatch runs of the commit.
	RunDiscovered bool `json:"run_discovered"`
	// HeadSHA is what the followed run actually ran (verified against the candidate).
	HeadSHA string `json:"head_sha,omitempty"`
}

// TestsDetail is the evidence of a tests gate.
type TestsDetail struct {
	Workflow string       `json:"workflow"`
	Job      string       `json:"job"`
	Step     string       `json:"step,omitempty"`
	RunID    int64        `json:"run_id,omitempty"`
	Jobs     []TestJob    `json:"jobs,omitempty"`
	Files    []FileResult `json:"files"`
	Notes    []string     `json:"notes,omitempty"`
}

// TestJob is one job whose log was read.
type TestJob struct {
	ID             int64  `json:"id"`
	Name           string `json:"name"`
	URL            string `json:"url,omitempty"`
	Conclusion     string `json:"conclusion,omitempty"`
	StepConclusion string `json:"step_conclusion,omitempty"`
	// LogWindow is "step" when only the step's lines were read, "whole log" otherwise.
	LogWindow string   `json:"log_window,omitempty"`
	Summary   *Summary `json:"summary,omitempty"`
}

// FileResult is the verdict on one configured test file.
type FileResult struct {
	File string `json:"file"`
	// Result is "passed", "failed", "skipped" (every test skipped: proves nothing) or "did_not_run"; "pending" while the gate waits for
	// its jobs (a gate stopped by fail-fast or still waiting).
	Result string `json:"result"`
	// Source names where the result came from: "log", "junit" or "log+junit".
	Source  string       `json:"source,omitempty"`
	Sources []FileSource `json:"sources,omitempty"`
}

// FileSource is what one source said about a configured file.
type FileSource struct {
	Source string `json:"source"`
	Result string `json:"result"`
	// Paths are the paths as the source printed them.
	Paths   []string `json:"paths,omitempty"`
	Tests   int      `json:"tests"`
	Failed  int      `json:"failed"`
	Skipped int      `json:"skipped"`
}

// clean makes untrusted text (check names, paths from logs) safe for one line of
// progress or a reason: control characters become spaces and the length is bounded.
func clean(s string) string { return oneLine(s, 200) }

// plural writes "1 job", "3 jobs".
func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// oneLine is untrusted.Clean cut to maxRunes runes plus "…" when something was cut.
func oneLine(s string, maxRunes int) string { return untrusted.Cut(untrusted.Clean(s), maxRunes+1) }

// quote puts cleaned untrusted text in single quotes.
func quote(s string) string { return "'" + clean(s) + "'" }

// fmtDur prints a duration rounded to the second ("20m0s").
func fmtDur(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	return d.Round(time.Second).String()
}

func short(sha string) string {
	sha = clean(sha)
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}
