package release

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/agentme/release-action/internal/clock"
	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/deploy"
	"github.com/agentme/release-action/internal/gate"
	"github.com/agentme/release-action/internal/github"
	"github.com/agentme/release-action/internal/monitor"
	"github.com/agentme/release-action/internal/outcome"
	"github.com/agentme/release-action/internal/rollback"
	"github.com/agentme/release-action/internal/smoke"
	"github.com/agentme/release-action/internal/untrusted"
	"github.com/agentme/release-action/internal/window"
)

// GitHub is what a release needs of the client (*github.Client satisfies it): deploy's
// methods plus tags, the version file and releases.
type GitHub interface {
	deploy.GitHub
	FileContent(ctx context.Context, path, ref string) ([]byte, error)
	GetTag(ctx context.Context, name string) (github.Tag, error)
	ListTagNames(ctx context.Context, prefix string) ([]string, error)
	CreateAnnotatedTag(ctx context.Context, name, sha, message string, tagger *github.Person) (github.Tag, error)
	GetReleaseByTag(ctx context.Context, tag string) (github.Release, error)
	CreateRelease(ctx context.Context, r github.ReleaseRequest) (github.Release, error)
	UpdateReleaseBody(ctx context.Context, id int64, body string) error
}

// Options of one release.
type Options struct {
	Config *config.Config
	// SHA is the candidate commit, a full 40-hex SHA (already resolved).
	SHA string
	// RunURL is this workflow run: in tag messages, deployment payloads and statuses.
	RunURL string
	Clock  clock.Clock
	// Progress receives one line per state change (nil: none).
	Progress func(string)
	// Group opens a runner group for a step and returns the func that ends it (nil: no groups).
	Group func(title string) func()
	// Gate runs the gate on the candidate; nil skips it (reported "skipped").
	Gate func(ctx context.Context) (*gate.Result, error)
	// Smoke validates an environment with its `smoke` probes. Required when an environment
	// lists probes.
	Smoke func(ctx context.Context, env config.Environment) (*smoke.Report, error)
	// Monitor watches the last environment after it was validated, when it has `monitor:`;
	// nil: the step is reported "not configured".
	Monitor func(ctx context.Context, env config.Environment, deploymentID int64) (*MonitorOutcome, error)
	// Render makes the GitHub release body from the result (the CLI passes summary.Release
	// bound to its info); nil: a plain body.
	Render func(*Result) string
	// ForceWindow deploys although an environment's window is closed or frozen; ForceReason
	// (required with it) is recorded in the summary and the deployment payload.
	ForceWindow bool
	ForceReason string
	// Force allows deploying a commit that was rolled back from an environment.
	Force bool
	// Tag is an explicit candidate tag name (overrides tags.candidate).
	Tag string
	// PollInterval is passed to deploy (0: its default).
	PollInterval time.Duration
}

// MonitorOutcome is what the post-release monitor decided, in one fixed JSON shape
// whatever path ran: {"monitor": {...}, "rollback": null} without an automatic rollback,
// {"monitor": {...}, "rollback": {...}} with one. The monitor command's report embeds the
// same two fields.
type MonitorOutcome struct {
	Monitor *monitor.Result `json:"monitor"`
	// Rollback is the automatic rollback a sustained breach started (nil: none ran).
	Rollback *rollback.Result `json:"rollback"`
	// Summary is the monitor's own Markdown (already rendered safely) for the release
	// summary; it is not part of the report.
	Summary string `json:"-"`
}

// Verdict is the monitor's verdict ("" without a monitor result).
func (m *MonitorOutcome) Verdict() outcome.Verdict {
	if m == nil || m.Monitor == nil {
		return ""
	}
	return m.Monitor.Verdict
}

// Reason is the monitor's one-sentence reason.
func (m *MonitorOutcome) Reason() string {
	if m == nil || m.Monitor == nil {
		return ""
	}
	return m.Monitor.Reason
}

// RolledBack reports whether the monitor rolled the environment back (the rollback passed).
func (m *MonitorOutcome) RolledBack() bool { return m != nil && m.Rollback.Passed() }

// RollbackFailed reports whether an automatic rollback was attempted and did not succeed.
func (m *MonitorOutcome) RollbackFailed() bool {
	return m != nil && m.Rollback != nil && !m.Rollback.Passed()
}

// RollbackTo is the tag the rollback deployed (or tried to; "" when none ran or it found none).
func (m *MonitorOutcome) RollbackTo() string {
	if m == nil || m.Rollback == nil {
		return ""
	}
	return m.Rollback.To.Tag
}

// RollbackText says what the automatic rollback did, for step details and the release's
// reason: "production was rolled back to v1.2.2", "auto-rollback FAILED: <left state>", or
// "" when none was attempted.
func (m *MonitorOutcome) RollbackText(env string) string {
	switch {
	case m == nil || m.Rollback == nil:
		return ""
	case m.RolledBack() && m.RollbackTo() != "":
		return fmt.Sprintf("%s was rolled back to %s", env, untrusted.Clean(m.RollbackTo()))
	case m.RolledBack():
		return env + " was rolled back"
	}
	left := cmp.Or(strings.TrimSpace(m.Rollback.LeftState), strings.TrimSpace(m.Rollback.Reason), "what "+env+" runs now is unknown: check it by hand")
	return "auto-rollback FAILED: " + untrusted.Clean(left)
}

// Results of a step.
const (
	StepPass          = "pass"
	StepFail          = "fail"
	StepError         = "error"
	StepSkipped       = "skipped"
	StepScheduled     = "scheduled"
	StepNotRun        = "not run"
	StepNotConfigured = "not configured"
	StepReused        = "reused"
)

// Step names (environment steps add the environment's name: "deploy staging").
const (
	StepGate         = "gate"
	StepCandidateTag = "candidate tag"
	StepReleaseTag   = "release tag"
)

// Names of the per-environment steps.
func windowStep(env string) string   { return "window " + env }
func deployStep(env string) string   { return "deploy " + env }
func validateStep(env string) string { return "validate " + env }
func monitorStep(env string) string {
	if env == "" {
		return "monitor"
	}
	return "monitor " + env
}

// Result is the outcome of a release: the `report` output. JSON names are stable.
type Result struct {
	// Verdict is pass, fail, scheduled (an environment's window is closed beyond max-wait:
	// run again at NextWindow) or error.
	Verdict outcome.Verdict `json:"verdict"`
	// Reason is one sentence: what happened, why, and what to do.
	Reason string `json:"reason"`
	SHA    string `json:"sha"`
	// Version is {version}, when a template uses it.
	Version string `json:"version,omitempty"`
	// Tag is the candidate tag; ReleaseTag the final one (set once made or found).
	Tag           string `json:"tag,omitempty"`
	ReleaseTag    string `json:"release_tag,omitempty"`
	ReleaseURL    string `json:"release_url,omitempty"`
	PrereleaseURL string `json:"prerelease_url,omitempty"`
	RunURL        string `json:"run_url,omitempty"`
	// NextWindow is, when scheduled, when the closed window opens next.
	NextWindow time.Time `json:"next_window,omitzero"`
	// Resumed: something an earlier run did was reused (tag, deployment, validation).
	Resumed bool `json:"resumed"`
	// AlreadyComplete: the release was complete before this run, which wrote nothing.
	AlreadyComplete bool            `json:"already_complete"`
	Steps           []Step          `json:"steps"`
	Gate            *gate.Result    `json:"gate,omitempty"`
	Environments    []EnvResult     `json:"environments"`
	Started         time.Time       `json:"started"`
	Finished        time.Time       `json:"finished"`
	Duration        config.Duration `json:"duration"`
}

// Step is one step of the release as the summary lists it.
type Step struct {
	Name string `json:"name"`
	// Result is pass, fail, error, skipped, scheduled, not run, not configured or reused.
	Result   string          `json:"result"`
	Detail   string          `json:"detail,omitempty"`
	Duration config.Duration `json:"duration"`
	Link     string          `json:"link,omitempty"`
}

// EnvResult is what happened in one environment.
type EnvResult struct {
	Name string `json:"name"`
	URL  string `json:"url,omitempty"`
	// Stage is where the deployment of the commit stood in GitHub when this run reached
	// the environment (deploy.Stage: none, deploying, deployed, validated, ...).
	Stage string `json:"stage,omitempty"`
	// Window is the window decision, when the environment has a window and was deployed.
	Window *window.Decision `json:"window,omitempty"`
	// WindowWaited is how long the release waited for the window to open.
	WindowWaited config.Duration `json:"window_waited"`
	// Forced: the window was closed and force-window overrode it, for ForcedReason.
	Forced       bool            `json:"forced"`
	ForcedReason string          `json:"forced_reason,omitempty"`
	Deploy       *deploy.Result  `json:"deploy,omitempty"`
	Smoke        *smoke.Report   `json:"smoke,omitempty"`
	Monitor      *MonitorOutcome `json:"monitor,omitempty"`
}

// Step returns the step with the name, or nil.
func (r *Result) Step(name string) *Step {
	for i := range r.Steps {
		if r.Steps[i].Name == name {
			return &r.Steps[i]
		}
	}
	return nil
}

// DeploymentIDs maps each deployed environment to its Deployment record (the
// deployment-ids output).
func (r *Result) DeploymentIDs() map[string]int64 {
	out := map[string]int64{}
	for _, e := range r.Environments {
		if e.Deploy != nil && e.Deploy.DeploymentID != 0 {
			out[e.Name] = e.Deploy.DeploymentID
		}
	}
	return out
}

// EnvironmentURLs maps each deployed environment to its URL (the environment-urls output).
func (r *Result) EnvironmentURLs() map[string]string {
	out := map[string]string{}
	for _, e := range r.Environments {
		if e.Deploy != nil && e.Deploy.DeploymentID != 0 && e.URL != "" {
			out[e.Name] = e.URL
		}
	}
	return out
}
