package sandbox

import (
	"time"

	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/gatewayemu"
	"github.com/agentme/release-action/internal/ghemu"
	"github.com/agentme/release-action/internal/outcome"
)

// Credentials of the sandbox gateways. They are not secrets (the emulators live for
// one run on loopback), but the action treats them as it treats real ones.
const (
	StagingToken    = "sandbox-staging-gateway-token"
	ProductionToken = "sandbox-production-gateway-token"
	StagingEnv      = "AGENTME_STAGING_GATEWAY_TOKEN"
	ProductionEnv   = "AGENTME_PRODUCTION_GATEWAY_TOKEN"
	// Version is what package.json says at the candidate.
	Version = "2026.2.9"
	// Previous is the commit production ran before this release (tag PreviousTag): the
	// last known good a rollback returns to.
	Previous    = "2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e"
	PreviousTag = "v2026.2.8"
)

// World is everything a release scenario runs against.
type World struct {
	GitHub     *ghemu.Server
	Staging    *gatewayemu.Server
	Production *gatewayemu.Server
	// Config is the release configuration, pointing at the two gateways.
	Config *config.Config
	// Secrets are the environment variables the configuration names (token-env).
	Secrets map[string]string
	// RunID is the action's own workflow run (GITHUB_RUN_ID), 0 for none.
	RunID int64
}

// AgentMeRepo loads the Agent Me repository with a green candidate: CI, Security Gate,
// Install Smoke passed, package.json at the version.
func AgentMeRepo(s *ghemu.Server) {
	s.LoadAgentMe(Candidate)
	s.AgentMePush(Candidate)
	s.AddRun(ghemu.WorkflowInstallSmoke, Candidate, "workflow_dispatch", ghemu.InstallSmokeJobs()...)
	s.AddFile(Candidate, "package.json", []byte(`{"name":"agentme","version":"`+Version+`"}`))
	// The previous release, deployed and validated in both environments.
	s.AddCommit(Previous)
	s.AddAnnotatedTag(PreviousTag, Previous, "Release "+PreviousTag)
	s.AddDeployment("staging", Previous, PreviousTag, false, "in_progress", "success")
	s.AddDeployment("production", Previous, PreviousTag, true, "in_progress", "success")
}

// ReleaseConfig is the design brief's Agent Me configuration with the environments
// pointing at the sandbox gateways: staging, then production in a Tue/Thu 02:00-04:00
// Australia/Brisbane window with the brief's year-end freeze.
func ReleaseConfig(stagingURL, productionURL string) *config.Config {
	cfg := config.Default()
	all := []string{"connect-auth", "control-ui", "channel", "bootstrap", "tool-call"}
	cfg.Environments = []config.Environment{
		{Name: "staging", URL: stagingURL, TokenEnv: StagingEnv, Timeout: config.Duration(20 * time.Minute), Smoke: all},
		{Name: "production", URL: productionURL, TokenEnv: ProductionEnv, Timeout: config.Duration(30 * time.Minute), Smoke: all,
			Window: &config.Window{
				Timezone: "Australia/Brisbane",
				Weekly:   []config.WeeklyWindow{{Days: []string{"Tue", "Thu"}, Start: "02:00", End: "04:00"}},
				Freeze:   []config.Freeze{{From: "2026-12-20", To: "2027-01-05"}},
				MaxWait:  config.Duration(2 * time.Hour),
			},
			Monitor: &config.Monitor{
				Duration: config.Duration(45 * time.Minute), Interval: config.Duration(time.Minute), Sustained: 3,
				AutoRollback: true, NoData: "fail", Smoke: config.RollbackProbes(),
			}},
	}
	cfg.Owners = config.Owners{Release: "@agentme/release-owners", Security: "@agentme/security", OnCall: "@agentme/oncall"}
	return cfg
}

// HealOnRollback makes a deploy of PreviousTag to production bring the production
// gateway back to health when its run completes (and restart it, as a redeploy does):
// the old release does not have the regression.
func HealOnRollback(w *World) {
	w.GitHub.OnDispatch(ghemu.WorkflowDeploy, func(d ghemu.Dispatch) []ghemu.JobSpec {
		env := d.Inputs["environment"]
		if env == "production" && d.Ref == PreviousTag {
			w.Production.At(d.At.Add(time.Minute), func(g *gatewayemu.Server) {
				g.SetToolsBroken(false)
				g.SetNoModel(false)
				g.Restart()
			})
		}
		return w.GitHub.DeployJobs(env)
	})
}

func releaseScenarios() []Scenario {
	green := func(w *World) { AgentMeRepo(w.GitHub) }
	return []Scenario{
		{
			Name:        "release",
			Description: "the whole runbook: gate, candidate tag, staging deploy and smoke, production inside its window, release tag and GitHub release",
			Command:     "release", Want: outcome.Pass, SetupWorld: green,
		},
		{
			Name:        "release-deploy-failing",
			Description: "the staging deploy workflow fails: the deployment is marked failure and nothing reaches production",
			Command:     "release", Want: outcome.Fail,
			SetupWorld: func(w *World) { green(w); w.GitHub.FailDeploys("staging", 1) },
		},
		{
			Name:        "release-smoke-failing",
			Description: "staging comes up without a model provider: the channel probe times out and the release stops before production",
			Command:     "release", Want: outcome.Fail,
			SetupWorld: func(w *World) { green(w); w.Staging.SetNoModel(true) },
		},
		{
			Name:        "release-outside-window",
			Description: "Wednesday in Brisbane: production's next window (Thu 02:00) is beyond max-wait, so the release stops with result=scheduled after staging",
			Command:     "release", Want: outcome.Scheduled, SetupWorld: green,
			Start: time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC), // Wed 12:00 in Brisbane
		},
		{
			Name:        "release-frozen",
			Description: "inside the year-end freeze: production is not deployed, and the next window after the freeze is given",
			Command:     "release", Want: outcome.Scheduled, SetupWorld: green,
			Start: time.Date(2026, 12, 21, 16, 30, 0, 0, time.UTC), // Tue 22 Dec 02:30 in Brisbane
		},
		{
			Name:        "release-monitor-rollback",
			Description: "ten minutes after production is validated its tool calls start failing: after 3 bad intervals the monitor rolls production back to " + PreviousTag + " and the release fails without a release tag",
			Command:     "release", Want: outcome.Fail,
			SetupWorld: func(w *World) {
				green(w)
				w.Production.At(Start.Add(20*time.Minute), func(g *gatewayemu.Server) { g.SetToolsBroken(true) })
				HealOnRollback(w)
			},
		},
		{
			Name:        "release-monitor-transient",
			Description: "one bad interval (a single restart of production) during the monitor: not sustained, so nothing is rolled back and the release completes",
			Command:     "release", Want: outcome.Pass,
			SetupWorld: func(w *World) {
				green(w)
				w.Production.At(Start.Add(20*time.Minute), func(g *gatewayemu.Server) { g.Restart() })
			},
		},
		{
			Name:        "rollback",
			Description: "a manual rollback of production (reason given): back to the last known good " + PreviousTag + ", smoke re-run, the bad deployment marked, incident note written",
			Command:     "rollback", Want: outcome.Pass,
			SetupWorld: func(w *World) {
				green(w)
				w.GitHub.AddAnnotatedTag("v"+Version+"-rc.1", Candidate, "Release candidate")
				w.GitHub.AddDeployment("production", Candidate, "v"+Version+"-rc.1", true, "in_progress", "success")
			},
		},
		{
			Name:        "monitor-restart-loop",
			Description: "production restarts every few minutes: the restart signal is bad for 3 intervals in a row and the monitor fails (auto-rollback off)",
			Command:     "monitor", Want: outcome.Fail,
			SetupWorld: func(w *World) {
				green(w)
				w.Config.Environments[1].Monitor.AutoRollback = false
				for i := 1; i <= 10; i++ {
					w.Production.At(Start.Add(30*time.Second+time.Duration(i)*time.Minute), func(g *gatewayemu.Server) { g.Restart() })
				}
			},
		},
		{
			Name:        "release-resume",
			Description: "the production deploy fails once; the same release re-run resumes after staging and completes with one tag and one deployment per environment",
			Command:     "release", Want: outcome.Pass, Runs: 2,
			SetupWorld: func(w *World) { green(w); w.GitHub.FailDeploys("production", 1) },
		},
	}
}
