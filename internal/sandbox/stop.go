package sandbox

import (
	"strconv"
	"time"

	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/deploy"
	"github.com/agentme/release-action/internal/gatewayemu"
	"github.com/agentme/release-action/internal/ghemu"
)

// The workflows of the rollout that a rollback stops, and the rollback's own.
const (
	WorkflowRelease  = "Release"
	WorkflowRollback = "Rollback"
)

// Rollout is what ReleaseInMonitor left running.
type Rollout struct {
	// Release is the release run, in its 45-minute monitor; Deploy is its production
	// deploy run, still running a post-deploy job; Rollback is the rollback's own run.
	Release, Deploy, Rollback int64
	// Record is release-action's production record of the candidate (success, its payload
	// names the release run); JobRecord is the one GitHub Actions made for the deploy job's
	// `environment: production` (still in_progress, its log_url names the deploy run).
	Record, JobRecord int64
}

// ReleaseInMonitor puts the candidate live in production by a release that is still in its
// post-release monitor, while the deploy run behind it still runs (stubborn: its job runs
// `if: always()` steps and ignores a cancel). Production's tool calls are broken until a
// rollback to PreviousTag deploys (HealOnRollback). w.RunID becomes the rollback's own run.
func ReleaseInMonitor(w *World, stubborn bool) Rollout {
	s := w.GitHub
	AgentMeRepo(s)
	tag := "v" + Version + "-rc.1"
	s.AddAnnotatedTag(tag, Candidate, "Release candidate")
	HealOnRollback(w)
	w.Production.At(Start, func(g *gatewayemu.Server) { g.SetToolsBroken(true) })

	var r Rollout
	r.Release = s.AddRun(WorkflowRelease, Candidate, "workflow_dispatch", ghemu.JobSpec{Name: "release", RunFor: 3 * time.Hour}).ID
	r.Deploy = s.AddRun(ghemu.WorkflowDeploy, Candidate, "workflow_dispatch", ghemu.JobSpec{
		Name: "deploy (production)", RunFor: 2 * time.Hour, IgnoresCancel: stubborn,
		Steps: []ghemu.StepSpec{{Name: "Deploy the gateway"}, {Name: "Warm caches"}, {Name: "Report (if: always())"}},
	}).ID
	r.JobRecord = s.AddDeploymentRecord(ghemu.DeploymentSpec{
		Environment: "production", SHA: Candidate, Ref: tag, Production: true,
		Statuses: []ghemu.DeploymentStatusSpec{{State: "in_progress", LogURL: s.RunHTMLURL(r.Deploy) + "/job/1"}},
	})
	r.Record = s.AddDeploymentRecord(ghemu.DeploymentSpec{
		Environment: "production", SHA: Candidate, Ref: tag, Production: true, Description: deploy.Description(tag),
		Payload: deploy.Payload{ReleaseAction: 1, Commit: Candidate, Tag: tag, RunURL: s.RunHTMLURL(r.Release)},
		Statuses: []ghemu.DeploymentStatusSpec{
			{State: "in_progress", Description: deploy.Description("deploying (run " + itoa(r.Deploy) + ")"), LogURL: s.RunHTMLURL(r.Deploy)},
			{State: "in_progress", Description: deploy.Description("deployed; validating"), LogURL: s.RunHTMLURL(r.Release)},
			{State: "success", Description: deploy.Description("deployed and validated"), LogURL: s.RunHTMLURL(r.Release)},
		},
	})
	r.Rollback = s.AddRun(WorkflowRollback, Candidate, "workflow_dispatch", ghemu.JobSpec{Name: "rollback", RunFor: time.Hour}).ID
	w.RunID = r.Rollback
	return r
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func stopScenarios() []Scenario {
	return []Scenario{
		{
			Name:        "rollback-during-release",
			Description: "on-call rolls production back while the release is in its monitor and its production deploy run still runs: the rollback cancels both (never its own run), marks the interrupted deployment, rolls back to " + PreviousTag + " and validates it",
			Command:     "rollback", Want: "pass",
			SetupWorld: func(w *World) { ReleaseInMonitor(w, false) },
		},
		{
			Name:        "rollback-stubborn-run",
			Description: "as rollback-during-release, but the deploy run's always() steps ignore the cancel: after the 60s grace the rollback force-cancels it, then rolls back",
			Command:     "rollback", Want: "pass",
			SetupWorld: func(w *World) { ReleaseInMonitor(w, true) },
		},
		{
			Name:        "rollback-unstoppable",
			Description: "the deploy run ignores the cancel and rollback.stop-timeout (30s) ends before the grace: the rollback stops with exit 1 naming the run, and deploys nothing",
			Command:     "rollback", Want: "fail",
			SetupWorld: func(w *World) {
				ReleaseInMonitor(w, true)
				w.Config.Rollback.StopTimeout = configDuration(30 * time.Second)
			},
		},
	}
}

func configDuration(d time.Duration) config.Duration { return config.Duration(d) }
