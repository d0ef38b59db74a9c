package sandbox

import (
	"strconv"
	"time"

	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/ghemu"
)

// IncidentTest is the regression test the sandbox incidents require before a re-release.
const IncidentTest = "src/gateway/bootstrap-replay.test.ts"

// CandidateTag is the release candidate production runs in the incident scenarios.
const CandidateTag = "v" + Version + "-rc.1"

// incidentWorld is the Agent Me repository with the candidate released to production
// (deploy run and deployment records), as it is when an incident is found.
func incidentWorld(w *World) {
	AgentMeRepo(w.GitHub)
	w.GitHub.AddAnnotatedTag(CandidateTag, Candidate, "Release candidate")
	w.GitHub.AddRun(ghemu.WorkflowDeploy, Candidate, "workflow_dispatch", w.GitHub.DeployJobs("production")...)
	w.GitHub.AddDeployment("production", Candidate, CandidateTag, true, "in_progress", "success")
	HealOnRollback(w)
}

// incidentRotateWorld is incidentWorld whose production names the secret its deploy
// workflow reads, so the incident's rotation (checklist item 3) can write and prove it.
func incidentRotateWorld(w *World) {
	incidentWorld(w)
	w.Config.Environments[1].Secrets = &config.Secrets{Token: ProductionTokenSecret, Scope: config.SecretScopeRepository}
	WireSecretsDeploy(w)
}

func openInputs(tests string, rotate bool) map[string]string {
	return map[string]string{"action": "open", "severity": "active-exploit", "environment": "production",
		"summary": "bootstrap codes replayed from 203.0.113.9", "rotate": strconv.FormatBool(rotate), "regression-tests": tests}
}

func incidentScenarios() []Scenario {
	closeInputs := map[string]string{"action": "close",
		"root-cause":  "the bootstrap exchange accepted a code twice within its lifetime",
		"mitigations": "rolled production back to " + PreviousTag + "; blocked /api/bootstrap/* at the edge",
		"follow-ups":  "single-use codes; alert on repeated exchanges"}
	return []Scenario{
		{
			Name: "incident-open",
			Description: "an active exploit of production's bootstrap exchange: the incident record is opened with the runbook 5 checklist, " +
				"a timeline from the deployment records, the evidence bundle with sha256 sums, and the regression test the gate will require; " +
				"run twice, it updates the same issue. Rotation is asked for: production's token is rotated and proven (item 3 done, the proof's time recorded)",
			Command: "incident", Want: "pass", SetupWorld: incidentRotateWorld,
			Steps: []Step{
				{Command: "incident", After: 40 * time.Minute, Inputs: openInputs(IncidentTest, true), Want: "pass"},
				{Command: "incident", After: 5 * time.Minute, Inputs: openInputs("", true), Want: "pass"},
				{Command: "incident", After: 10 * time.Minute, Inputs: map[string]string{"action": "update", "tick": "endpoints",
					"note": "/api/bootstrap/* and /tools/invoke blocked at the edge proxy"}, Want: "pass"},
			},
		},
		{
			Name: "incident-close",
			Description: "the incident is opened, production is rolled back to " + PreviousTag + " (the rollback writes into the same record), " +
				"and close computes the impact window from the records: from the candidate's deployment to the rollback's validation",
			Command: "incident", Want: "pass", SetupWorld: incidentWorld,
			Steps: []Step{
				{Command: "incident", After: 40 * time.Minute, Inputs: openInputs(IncidentTest, false), Want: "pass"},
				{Command: "rollback", After: 5 * time.Minute, Inputs: map[string]string{"reason": "incident: bootstrap codes replayed", "open-issue": "true"}, Want: "pass"},
				{Command: "incident", After: time.Hour, Inputs: closeInputs, Want: "pass"},
			},
		},
		{
			Name: "incident-blocks-release",
			Description: "while the incident is open the gate requires its regression test " + IncidentTest + ": the candidate's Security Gate log lacks it, " +
				"so the gate fails; a Security Gate re-run that ran and passed it lets the gate pass",
			Command: "incident", Want: "pass", SetupWorld: incidentWorld,
			Steps: []Step{
				{Command: "incident", After: 40 * time.Minute, Inputs: openInputs(IncidentTest, false), Want: "pass"},
				{Command: "gate", After: time.Minute, Want: "fail"},
				{Command: "gate", After: 10 * time.Minute, Want: "pass", Before: func(w *World) {
					w.GitHub.AddRun(ghemu.WorkflowSecurityGate, Candidate, "workflow_dispatch", ghemu.SecurityGateJob(ghemu.SecurityGateOptions{
						Files: map[string]string{IncidentTest: ghemu.FilePass}}))
				}},
			},
		},
	}
}
