// Package rollback is the runbook's rollback plan (section 3): stop, revert to the prior
// known-good tag, restart, re-run smoke (connect/auth, channel send/receive, basic tool
// call), announce the status and an incident summary. It runs by hand (workflow_dispatch)
// and from the monitor after a sustained breach.
//
// The rollback is one recorded operation in GitHub:
//
//   - The bad deployment is the environment's newest live one (newest status "deployed and
//     validated", "deployed; validating", "deploying" or "smoke failed": what the
//     environment runs or is starting), or the newest record of Options.CurrentSHA.
//   - The target is Options.To (a tag, or a commit SHA that an earlier deployment record
//     names a tag for: deploy workflows are dispatched on tags), else the last known good
//     deployment: deploy.LastKnownGood, the newest earlier deployment whose newest status
//     (GitHub's auto_inactive ones aside) is success, whose commit was not rolled back since
//     and that release-action did not find bad (smoke failed, never validated).
//   - The target is deployed through the same path as a release (deploy.Deploy), in a NEW
//     Deployment record whose payload says rollback=true, rollback_from=<bad commit> and the
//     reason, so the rollback shows as its own entry in the environment's history and its
//     validation time closes the impact window. A re-run after a failed attempt reuses that
//     record (one per bad commit and target).
//   - As soon as the target is deployed, the bad deployment gets failure "rolled back: by
//     deployment N (<tag>): <reason>": release then refuses to deploy that commit again
//     without force (kargo#3016), and LastKnownGood never picks it. A rollback whose deploy
//     failed does not mark it: the environment still runs it.
//   - The smoke subset (smoke.RollbackProbes, limited to the environment's own smoke list)
//     validates the target; success "deployed and validated" or failure "smoke failed".
//
// A failed rollback is a Result (Verdict "fail") whose LeftState says what the
// environment is left running. Errors are API failures, cancellation and bad input
// (outcome.ErrBadInput).
package rollback

import (
	"context"
	"time"

	"github.com/agentme/release-action/internal/clock"
	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/deploy"
	"github.com/agentme/release-action/internal/github"
	"github.com/agentme/release-action/internal/outcome"
	"github.com/agentme/release-action/internal/smoke"
)

// GitHub is what a rollback needs of the client (*github.Client satisfies it).
type GitHub interface {
	deploy.GitHub
	GetTag(ctx context.Context, name string) (github.Tag, error)
	ResolveCommit(ctx context.Context, ref string) (string, error)
	CreateIssue(ctx context.Context, title, body string, labels []string) (github.Issue, error)
}

// SmokeFunc validates env with the given probes (the CLI builds the smoke options from the
// environment's URL and credential). Like smoke.Run it returns an error only for invalid
// options or when ctx ends.
type SmokeFunc func(ctx context.Context, env config.Environment, probes []string) (*smoke.Report, error)

// DefaultIssueLabel labels the incident issue.
const DefaultIssueLabel = "incident"

// Where the target came from.
const (
	SourceExplicit      = "explicit"
	SourceLastKnownGood = "last_known_good"
)

// Options of one rollback.
type Options struct {
	Config *config.Config
	// Environment names a configured environment (default "production").
	Environment string
	// To is the target: a tag, or a commit SHA (full or short). Empty: the last known good.
	To string
	// Reason is required: why (the monitor passes "monitor: <signal>").
	Reason string
	// CurrentSHA is the bad commit; default the commit of the environment's newest live
	// deployment.
	CurrentSHA string
	// Smoke validates the target; required unless the probes are empty.
	Smoke SmokeFunc
	// Probes overrides the smoke subset. Nil: smoke.RollbackProbes() limited to the
	// environment's smoke list (an environment with `smoke: []` is not probed); an empty
	// non-nil list: no probes.
	Probes []string
	// OpenIssue opens an issue with the incident summary, labelled IssueLabel (default
	// "incident").
	OpenIssue  bool
	IssueLabel string
	// RunURL is this workflow run: in the payload, statuses and the incident note.
	RunURL string
	Clock  clock.Clock
	// Progress receives one line per state change.
	Progress func(string)
	// PollInterval of the deploy run (deploy.DefaultPollInterval when zero).
	PollInterval time.Duration
	// Trigger of the deploy; the zero value means Config.Deploy.
	Trigger config.Deploy
}

// Ref names one side of the rollback.
type Ref struct {
	SHA string `json:"sha,omitempty"`
	Tag string `json:"tag,omitempty"`
	// DeploymentID: for From the bad deployment; for To the rollback deployment.
	DeploymentID int64 `json:"deployment_id,omitempty"`
	// LastGoodDeploymentID (To only) is the earlier deployment that made the target the
	// last known good, and LastGoodAt its success.
	LastGoodDeploymentID int64      `json:"last_good_deployment_id,omitempty"`
	LastGoodAt           *time.Time `json:"last_good_at,omitempty"`
}

// Window is the incident's impact window.
type Window struct {
	Start time.Time `json:"start"`
	// StartFrom says which record the start was read from.
	StartFrom string `json:"start_from"`
	// End is the rollback's validation; nil while the window is open.
	End *time.Time `json:"end,omitempty"`
	// Duration is End - Start, or until the rollback finished when still open.
	Duration config.Duration `json:"duration"`
	Open     bool            `json:"open"`
}

// Result of a rollback. Its JSON field names are stable: they are part of the action's
// `report` output.
type Result struct {
	Verdict outcome.Verdict `json:"verdict"`
	// Reason says what happened, in one sentence an operator acts on.
	Reason string `json:"reason"`
	// RollbackReason is why the rollback was asked for (Options.Reason).
	RollbackReason string         `json:"rollback_reason"`
	Environment    string         `json:"environment"`
	From           Ref            `json:"from"`
	To             Ref            `json:"to"`
	Source         string         `json:"source,omitempty"` // explicit | last_known_good
	Deploy         *deploy.Result `json:"deploy,omitempty"`
	Probes         []string       `json:"probes"`
	Smoke          *smoke.Report  `json:"smoke,omitempty"`
	// Validated: the target passed its smoke probes (or has none) and was marked validated.
	Validated bool `json:"validated"`
	// BadMarked: the bad deployment got its "rolled back" status.
	BadMarked    bool    `json:"bad_marked"`
	ImpactWindow *Window `json:"impact_window,omitempty"`
	// Incident is the runbook's post-incident note skeleton (section 5), Markdown.
	Incident    string `json:"incident"`
	IssueURL    string `json:"issue_url,omitempty"`
	IssueNumber int    `json:"issue_number,omitempty"`
	// LeftState says what the environment is left running when the rollback failed.
	LeftState string          `json:"left_state,omitempty"`
	Warnings  []string        `json:"warnings,omitempty"`
	RunURL    string          `json:"run_url,omitempty"`
	Started   time.Time       `json:"started"`
	Finished  time.Time       `json:"finished"`
	Duration  config.Duration `json:"duration"`
}

// Passed reports whether the rollback succeeded.
func (r *Result) Passed() bool { return r != nil && r.Verdict == outcome.Pass }
