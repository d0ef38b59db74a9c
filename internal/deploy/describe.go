package deploy

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/github"
	"github.com/agentme/release-action/internal/untrusted"
)

// Prefix starts the description of every Deployment record and status release-action
// writes: resume and rollback read their own statuses back by it.
const Prefix = "release-action: "

// MaxDescription is GitHub's limit on a deployment status description, in characters.
const MaxDescription = 140

// The stage texts of status descriptions, after Prefix.
const (
	textDeploying    = "deploying"
	textDeployed     = "deployed; validating"
	textValidated    = "deployed and validated"
	textDeployFailed = "deploy failed"
	textDeployError  = "deploy error"
	textSmokeFailed  = "smoke failed"
	textRolledBack   = "rolled back"
	// textMonitored extends textValidated once the post-release monitor passed: it reads
	// back as StageValidated.
	textMonitored = textValidated + "; monitor passed"
)

// Description returns Prefix + text with control and format characters of text turned into
// spaces, cut on a rune boundary (ending in "…") to MaxDescription characters.
func Description(text string) string {
	return untrusted.Cut(Prefix+untrusted.Clean(text), MaxDescription)
}

// dur prints a duration rounded to the second in the reports' one spelling
// (config.Duration: "30m", "1h30m", "45s").
func dur(d time.Duration) string {
	return config.Duration(max(d, 0).Round(time.Second)).String()
}

// ours reports whether a status was written by release-action.
func ours(s github.DeploymentStatus) bool { return strings.HasPrefix(s.Description, Prefix) }

// text returns the description of a release-action status after Prefix.
func text(s github.DeploymentStatus) string { return strings.TrimPrefix(s.Description, Prefix) }

// isRolledBack reports whether a status marks its commit rolled back.
func isRolledBack(s github.DeploymentStatus) bool {
	return ours(s) && strings.HasPrefix(text(s), textRolledBack)
}

// StageOf reads the stage a status records: by its release-action description, or, for a
// status release-action did not write, by its state.
func StageOf(s github.DeploymentStatus) Stage {
	if ours(s) {
		t := text(s)
		switch {
		case strings.HasPrefix(t, textDeployed):
			return StageDeployed
		case strings.HasPrefix(t, textValidated):
			return StageValidated
		case strings.HasPrefix(t, textDeploying):
			return StageDeploying
		case strings.HasPrefix(t, textDeployFailed), strings.HasPrefix(t, textDeployError):
			return StageDeployFailed
		case strings.HasPrefix(t, textSmokeFailed):
			return StageSmokeFailed
		case strings.HasPrefix(t, textRolledBack):
			return StageRolledBack
		}
	}
	switch s.State {
	case "success":
		return StageValidated
	case "in_progress", "queued", "pending", "waiting":
		return StageDeploying
	case "inactive":
		return StageInactive
	default:
		return StageDeployFailed
	}
}

// stageOf is the stage of a record whose statuses are sorted newest first.
func stageOf(statuses []github.DeploymentStatus) Stage {
	if len(statuses) == 0 {
		return StageCreated
	}
	return StageOf(statuses[0])
}

var (
	// timedOutRun matches the description timedOut writes: "deploy error: timed out after
	// 30m0s; run N was in_progress".
	timedOutRun = regexp.MustCompile(`^` + textDeployError + `: timed out after [^;]*; run ([0-9]{1,18}) was\b`)
	runInText   = regexp.MustCompile(`\(run ([0-9]{1,18})\)|\brun ([0-9]{1,18}) (?:concluded|ran)\b`)
	runInURL    = regexp.MustCompile(`/actions/runs/([0-9]{1,18})(?:[/?#]|$)`)
)

// runOf returns the deploy run a release-action status names, 0 if none: "(run N)" and
// "run N concluded|ran" in the descriptions Deploy writes, or the log_url of its
// in_progress statuses (always the run's page). Other statuses are ignored: their log_url
// may be the release run, not the deploy run.
func runOf(s github.DeploymentStatus) int64 {
	if !ours(s) {
		return 0
	}
	t := text(s)
	if !strings.HasPrefix(t, textDeploy) {
		return 0
	}
	if m := runInText.FindStringSubmatch(t); m != nil {
		if id, err := strconv.ParseInt(cmp.Or(m[1], m[2]), 10, 64); err == nil && id > 0 {
			return id
		}
	}
	if s.State == "in_progress" {
		if m := runInURL.FindStringSubmatch(s.LogURL); m != nil {
			if id, err := strconv.ParseInt(m[1], 10, 64); err == nil && id > 0 {
				return id
			}
		}
	}
	return 0
}

// timedOutRunOf returns the run a release-action "deploy error: timed out" status left
// running, 0 for any other status.
func timedOutRunOf(s github.DeploymentStatus) int64 {
	if !ours(s) {
		return 0
	}
	m := timedOutRun.FindStringSubmatch(text(s))
	if m == nil {
		return 0
	}
	id, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil || id <= 0 {
		return 0
	}
	return id
}

// isMonitored reports whether a status records that the post-release monitor passed.
func isMonitored(s github.DeploymentStatus) bool {
	return ours(s) && s.State == "success" && strings.HasPrefix(text(s), textMonitored)
}

// textDeploy starts every description Deploy writes ("deploying", "deployed; validating",
// "deploy failed", "deploy error").
const textDeploy = "deploy"

// runIDOf returns the run named by the newest status that names one (statuses newest first).
func runIDOf(statuses []github.DeploymentStatus) int64 {
	for _, s := range statuses {
		if id := runOf(s); id != 0 {
			return id
		}
	}
	return 0
}

// isOurRecord reports whether release-action created a Deployment record: its description
// starts with Prefix or its payload has release_action set (a payload may come back as a
// JSON object or as a string holding one).
func isOurRecord(d github.Deployment) bool {
	if strings.HasPrefix(d.Description, Prefix) {
		return true
	}
	var p struct {
		ReleaseAction int `json:"release_action"`
	}
	if json.Unmarshal(d.Payload, &p) == nil && p.ReleaseAction > 0 {
		return true
	}
	var s string
	if json.Unmarshal(d.Payload, &s) == nil && json.Unmarshal([]byte(s), &p) == nil && p.ReleaseAction > 0 {
		return true
	}
	return false
}

// SortNewestFirst orders records newest first: CreatedAt descending, ties by ID
// descending (GitHub documents no order). Every reader of deployment history uses it.
func SortNewestFirst(ds []github.Deployment) {
	slices.SortStableFunc(ds, func(a, b github.Deployment) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
}

// SortStatusesNewestFirst orders statuses newest first, whatever order they came in.
func SortStatusesNewestFirst(ss []github.DeploymentStatus) {
	slices.SortStableFunc(ss, func(a, b github.DeploymentStatus) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
}

// MarkValidated adds success "deployed and validated" after the deployment's checks passed.
func MarkValidated(ctx context.Context, gh GitHub, deploymentID int64, envURL, logURL string) error {
	return mark(ctx, gh, deploymentID, "success", textValidated, envURL, logURL)
}

// MarkMonitored adds success "deployed and validated; monitor passed" after the
// post-release monitor passed on a validated deployment, so that a re-run (after a later
// step failed) does not watch the environment again: Inspect reads it back as
// StageValidated with State.Monitored.
func MarkMonitored(ctx context.Context, gh GitHub, deploymentID int64, envURL, logURL string) error {
	return mark(ctx, gh, deploymentID, "success", textMonitored, envURL, logURL)
}

// MarkSmokeFailed adds failure "smoke failed: <detail>" after the deployment's smoke probes failed.
func MarkSmokeFailed(ctx context.Context, gh GitHub, deploymentID int64, detail, logURL string) error {
	t := textSmokeFailed
	if d := strings.TrimSpace(untrusted.Clean(detail)); d != "" {
		t += ": " + d
	}
	return mark(ctx, gh, deploymentID, "failure", t, "", logURL)
}

// MarkRolledBack adds failure "rolled back: <reason>" to the deployment of a commit that was
// rolled back. auto_inactive is left to GitHub.
func MarkRolledBack(ctx context.Context, gh GitHub, deploymentID int64, reason, logURL string) error {
	t := textRolledBack
	if r := strings.TrimSpace(untrusted.Clean(reason)); r != "" {
		t += ": " + r
	}
	return mark(ctx, gh, deploymentID, "failure", t, "", logURL)
}

func mark(ctx context.Context, gh GitHub, id int64, state, t, envURL, logURL string) error {
	_, err := gh.CreateDeploymentStatus(ctx, id, github.DeploymentStatusRequest{
		State: state, Description: Description(t), EnvironmentURL: envURL, LogURL: logURL,
	})
	if err != nil {
		return fmt.Errorf("add status %s %q to deployment %d: %w", state, untrusted.Cut(t, 60), id, err)
	}
	return nil
}
