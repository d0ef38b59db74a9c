// Package sandbox holds the Agent Me scenarios that `release-action sandbox` and the
// end-to-end tests run against the built-in emulators: no token, no network, virtual
// time, so a 45-minute gate finishes in a second and gives the same answer every time.
package sandbox

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/agentme/release-action/internal/ghemu"
	"github.com/agentme/release-action/internal/outcome"
)

// Start is the virtual time every scenario begins at (Tuesday 02:30 in Brisbane,
// inside the example production window).
var Start = time.Date(2026, 11, 23, 16, 30, 0, 0, time.UTC)

// Candidate is the candidate commit of every scenario.
const Candidate = "4f6c2a9e81d3b5a7c0e9f1d2b3a4c5d6e7f80912"

// Newer is a later commit on main, for scenarios where the candidate is not main's head.
const Newer = "9a8b7c6d5e4f30211f0e9d8c7b6a5f4e3d2c1b0a"

// Scenario is one Agent Me situation loaded into the emulators.
type Scenario struct {
	Name        string
	Description string
	// Command is what the scenario runs: "gate" (Setup) or "release" (SetupWorld).
	Command string
	// Want is the verdict the scenario must produce (tests hold the engine to it). For a
	// release run twice, it is the verdict of the last run.
	Want outcome.Verdict
	// Setup loads a gate scenario into a fresh GitHub emulator.
	Setup func(s *ghemu.Server)
	// SetupWorld loads a release scenario (GitHub, both gateways, the configuration).
	SetupWorld func(w *World)
	// Runs is how many times the release runs (a resume scenario runs it twice); 0 means once.
	Runs int
	// Between runs between two runs of a release (e.g. fixing what made the first fail).
	Between func(w *World)
	// Start is the scenario's virtual start time (zero: Start).
	Start time.Time
}

// Scenarios lists every scenario, sorted by name.
func Scenarios() []Scenario {
	list := []Scenario{
		{
			Name:        "all-green",
			Description: "CI, Security Gate and its targeted regression tests pass; Install Smoke already ran on the candidate",
			Want:        "pass",
			Setup: func(s *ghemu.Server) {
				s.LoadAgentMe(Candidate)
				s.AgentMePush(Candidate)
				s.AddRun(ghemu.WorkflowInstallSmoke, Candidate, "workflow_dispatch", ghemu.InstallSmokeJobs()...)
			},
		},
		{
			Name:        "test-failing",
			Description: "src/gateway/tools-invoke-http.test.ts fails in Security Gate's regression step",
			Want:        "fail",
			Setup: func(s *ghemu.Server) {
				s.LoadAgentMe(Candidate)
				s.AddRun(ghemu.WorkflowCI, Candidate, "push", ghemu.CIJobs(ghemu.CIOptions{})...)
				s.AddRun(ghemu.WorkflowSecurityGate, Candidate, "push", ghemu.SecurityGateJob(ghemu.SecurityGateOptions{
					Files: map[string]string{"src/gateway/tools-invoke-http.test.ts": ghemu.FileFail}}))
				s.AddRun(ghemu.WorkflowInstallSmoke, Candidate, "workflow_dispatch", ghemu.InstallSmokeJobs()...)
			},
		},
		{
			Name:        "test-missing",
			Description: "src/gateway/server-http.bootstrap.test.ts did not run (the step passed without it)",
			Want:        "fail",
			Setup: func(s *ghemu.Server) {
				s.LoadAgentMe(Candidate)
				s.AddRun(ghemu.WorkflowCI, Candidate, "push", ghemu.CIJobs(ghemu.CIOptions{})...)
				s.AddRun(ghemu.WorkflowSecurityGate, Candidate, "push", ghemu.SecurityGateJob(ghemu.SecurityGateOptions{
					Files: map[string]string{"src/gateway/server-http.bootstrap.test.ts": ghemu.FileMissing}}))
				s.AddRun(ghemu.WorkflowInstallSmoke, Candidate, "workflow_dispatch", ghemu.InstallSmokeJobs()...)
			},
		},
		{
			Name:        "check-skipped",
			Description: "a docs-only change: CI skips `check`, and a skipped required check is not a pass",
			Want:        "fail",
			Setup: func(s *ghemu.Server) {
				s.LoadAgentMe(Candidate)
				s.AddRun(ghemu.WorkflowCI, Candidate, "push", ghemu.CIJobs(ghemu.CIOptions{DocsOnly: true})...)
				s.AddRun(ghemu.WorkflowSecurityGate, Candidate, "push", ghemu.SecurityGateJob(ghemu.SecurityGateOptions{}))
				s.AddRun(ghemu.WorkflowInstallSmoke, Candidate, "workflow_dispatch", ghemu.InstallSmokeJobs()...)
			},
		},
		{
			Name:        "rerun-green",
			Description: "Security Gate's first attempt failed auth.test.ts; the re-run passed, and the latest attempt wins",
			Want:        "pass",
			Setup: func(s *ghemu.Server) {
				s.LoadAgentMe(Candidate)
				s.AddRun(ghemu.WorkflowCI, Candidate, "push", ghemu.CIJobs(ghemu.CIOptions{})...)
				first := s.AddRun(ghemu.WorkflowSecurityGate, Candidate, "push", ghemu.SecurityGateJob(ghemu.SecurityGateOptions{
					Files: map[string]string{"src/gateway/auth.test.ts": ghemu.FileFail}, QueueFor: time.Second, RunFor: 10 * time.Second}))
				s.Rerun(first.ID, ghemu.SecurityGateJob(ghemu.SecurityGateOptions{}))
				s.AddRun(ghemu.WorkflowInstallSmoke, Candidate, "workflow_dispatch", ghemu.InstallSmokeJobs()...)
			},
		},
		{
			Name:        "check-queued",
			Description: "no runner picks up `check`: it stays queued until the gate's 45m timeout, which fails closed",
			Want:        "fail",
			Setup: func(s *ghemu.Server) {
				s.LoadAgentMe(Candidate)
				s.AddRun(ghemu.WorkflowCI, Candidate, "push", ghemu.CIJobs(ghemu.CIOptions{CheckNoRunner: true})...)
				s.AddRun(ghemu.WorkflowSecurityGate, Candidate, "push", ghemu.SecurityGateJob(ghemu.SecurityGateOptions{}))
				s.AddRun(ghemu.WorkflowInstallSmoke, Candidate, "workflow_dispatch", ghemu.InstallSmokeJobs()...)
			},
		},
		{
			Name:        "install-smoke-dispatch",
			Description: "Install Smoke never ran on the candidate (it only runs on dispatch and schedule) and main has moved on: the gate dispatches it on a temporary branch, follows it, and removes the branch",
			Want:        "pass",
			Setup: func(s *ghemu.Server) {
				s.LoadAgentMe(Candidate)
				s.AddCommit(Newer)
				s.AddBranch("main", Newer)
				s.AgentMePush(Candidate)
			},
		},
		{
			Name:        "flaky-api",
			Description: "GitHub answers 502s, a secondary rate limit with Retry-After and slow answers; retries absorb them and the verdict is unchanged",
			Want:        "pass",
			Setup: func(s *ghemu.Server) {
				s.LoadAgentMe(Candidate)
				s.AgentMePush(Candidate)
				s.AddRun(ghemu.WorkflowInstallSmoke, Candidate, "workflow_dispatch", ghemu.InstallSmokeJobs()...)
				s.Inject(ghemu.Fault{PathPrefix: "/repos/agentme/agentme/commits/" + Candidate + "/check-runs", Count: 2, Status: 502})
				s.Inject(ghemu.Fault{PathPrefix: "graphql", Count: 1, SecondaryLimit: true, RetryAfter: 7 * time.Second})
				s.Inject(ghemu.Fault{PathPrefix: "/repos/agentme/agentme/actions/runs", Count: 1, Status: 500})
				s.Inject(ghemu.Fault{PathPrefix: "/repos/agentme/agentme/actions/jobs", Count: 1, Delay: 50 * time.Millisecond})
			},
		},
	}
	for i := range list {
		list[i].Command = "gate"
	}
	list = append(list, releaseScenarios()...)
	sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	return list
}

// Find returns the named scenario.
func Find(name string) (Scenario, error) {
	var names []string
	for _, sc := range Scenarios() {
		if sc.Name == name {
			return sc, nil
		}
		names = append(names, sc.Name)
	}
	return Scenario{}, fmt.Errorf("unknown sandbox scenario %q: choose one of %s", name, strings.Join(names, ", "))
}
