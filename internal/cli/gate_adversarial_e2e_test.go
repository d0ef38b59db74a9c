package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/cli"
	"github.com/agentme/release-action/internal/gate"
	"github.com/agentme/release-action/internal/ghemu"
	"github.com/agentme/release-action/internal/sandbox"
)

// Adversarial cases, one group per class of bug issue 13 found: each builds a commit an
// attacker (or an accident) could produce, runs the gate in action mode against the
// emulator, and holds it to the verdict and to a reason that names what happened.

const (
	securityCopy = ".github/workflows/security-gate-copy.yml"
	ciLint       = ".github/workflows/ci-lint.yml"
)

// agentMeWith loads Agent Me's workflows and a push on the candidate with the given CI and
// Security Gate jobs, then lets more happen.
func agentMeWith(ci []ghemu.JobSpec, security ghemu.JobSpec, more func(s *ghemu.Server)) func(*ghemu.Server) {
	return func(s *ghemu.Server) {
		s.LoadAgentMe(sandbox.Candidate)
		s.AddRun(ghemu.WorkflowCI, sandbox.Candidate, "push", ci...)
		s.AddRun(".github/workflows/security-gate.yml", sandbox.Candidate, "push", security)
		if more != nil {
			more(s)
		}
	}
}

type advCase struct {
	name     string
	setup    func(*ghemu.Server)
	config   string
	wantCode int
	// gate -> substrings of its reason
	reasons map[string][]string
	// gate -> substrings its reason must not hold
	notReasons map[string][]string
	// substrings of the summary, and of the one error annotation when the gate cannot run
	summary []string
	errText []string
}

func runAdversarial(t *testing.T, cases []advCase) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.setup)
			if tc.config != "" {
				path := filepath.Join(h.dir, "release-action.yml")
				require.NoError(t, os.WriteFile(path, []byte(tc.config), 0o644))
				h.env["INPUT_CONFIG"] = path
			}
			r := h.run()
			require.Equal(t, tc.wantCode, r.code, "stdout:\n%s", r.stdout)
			r.noSecret(t)
			if tc.wantCode == cli.ExitBadInput {
				var msgs []string
				for _, c := range r.commands() {
					if c.Name == "error" {
						msgs = append(msgs, c.Data)
					}
				}
				require.Len(t, msgs, 1)
				for _, want := range tc.errText {
					assert.Contains(t, msgs[0], want)
				}
				assert.Empty(t, r.outputs["result"], "no verdict without a valid configuration")
				return
			}
			var rep cli.GateReport
			require.NoError(t, json.Unmarshal([]byte(r.outputs["report"]), &rep))
			for name, wants := range tc.reasons {
				g := findGate(t, rep.Gate, name)
				for _, w := range wants {
					assert.Contains(t, g.Reason, w, "gate %s", name)
				}
			}
			for name, nots := range tc.notReasons {
				g := findGate(t, rep.Gate, name)
				for _, w := range nots {
					assert.NotContains(t, g.Reason, w, "gate %s", name)
				}
			}
			for _, w := range tc.summary {
				assert.Contains(t, r.summary, w)
			}
		})
	}
}

func findGate(t *testing.T, res *gate.Result, name string) gate.GateResult {
	t.Helper()
	for _, g := range res.Gates {
		if g.Name == name {
			return g
		}
	}
	t.Fatalf("no gate %q in the report", name)
	return gate.GateResult{}
}

func hardening(o ghemu.SecurityGateOptions) ghemu.JobSpec { return ghemu.SecurityGateJob(o) }

// TestAdversarialWorkflowIdentity: a workflow is its file.
func TestAdversarialWorkflowIdentity(t *testing.T) {
	failing := hardening(ghemu.SecurityGateOptions{Files: map[string]string{ghemu.TargetedTestFiles[0]: ghemu.FileFail}})
	twin := func(s *ghemu.Server) {
		s.AddWorkflow(ghemu.WorkflowSecurityGate, securityCopy)
		s.ConfigureWorkflow(securityCopy, false)
		// A green run of the copy, newer than the real one, with the same job name.
		s.AddRun(securityCopy, sandbox.Candidate, "push", hardening(ghemu.SecurityGateOptions{RunFor: time.Minute}))
	}
	twoGates := "gates:\n  - name: Security Gate\n    workflow: %s\n  - name: regressions\n    tests:\n      workflow: %s\n      job: hardening\n      step: Security regression tests\n      files: [src/gateway/auth.test.ts]\n"
	runAdversarial(t, []advCase{
		{
			name:     "a green copy named 'Security Gate' does not satisfy the real file (defaults)",
			setup:    agentMeWith(ghemu.CIJobs(ghemu.CIOptions{}), failing, twin),
			wantCode: cli.ExitFailed,
			reasons: map[string][]string{
				"Security Gate":                       {"'hardening' (Security Gate run", "failed"},
				"Targeted bootstrap/auth regressions": {"src/gateway/auth.test.ts"},
			},
			summary: []string{"read runs of `.github/workflows/security-gate.yml` only",
				"ignored check run `hardening` (success): from workflow file .github/workflows/security\\-gate\\-copy.yml, not .github/workflows/security\\-gate.yml"},
		},
		{
			name:     "configured by basename, the copy still does not count",
			setup:    agentMeWith(ghemu.CIJobs(ghemu.CIOptions{}), failing, twin),
			config:   strings.ReplaceAll(twoGates, "%s", "security-gate.yml"),
			wantCode: cli.ExitFailed,
			reasons:  map[string][]string{"Security Gate": {"failed"}, "regressions": {"1 of 1 test files failed: src/gateway/auth.test.ts"}},
		},
		{
			name:     "a display name two files declare is a configuration error naming both",
			setup:    agentMeWith(ghemu.CIJobs(ghemu.CIOptions{}), failing, twin),
			config:   strings.ReplaceAll(twoGates, "%s", "Security Gate"),
			wantCode: cli.ExitBadInput,
			errText: []string{"workflow 'Security Gate' matches 2 workflow files (.github/workflows/security-gate-copy.yml, .github/workflows/security-gate.yml)",
				"name the one file the gate trusts"},
		},
		{
			name: "a 'check' job in a second workflow named CI does not stand in for ci.yml's",
			setup: agentMeWith(ghemu.CIJobs(ghemu.CIOptions{Check: "failure"}), hardening(ghemu.SecurityGateOptions{}), func(s *ghemu.Server) {
				s.AddWorkflow(ghemu.WorkflowCI, ciLint)
				s.AddRun(ciLint, sandbox.Candidate, "push", ghemu.JobSpec{Name: "check", QueueFor: time.Second, RunFor: 30 * time.Second})
				s.AddStatus(sandbox.Candidate, "check", "success", "https://ci.example/check", "all good")
			}),
			config:   "gates:\n  - name: check\n    check: check\n    workflow: .github/workflows/ci.yml\n",
			wantCode: cli.ExitFailed,
			reasons:  map[string][]string{"check": {"'check' (CI run", "failed"}},
			summary: []string{"ignored check run `check` (success): from workflow file .github/workflows/ci\\-lint.yml",
				"ignored status `check` (success): a commit status; the gate reads check runs of .github/workflows/ci.yml only"},
		},
	})
}

// TestAdversarialStepEvidence: a step's evidence is its own output.
func TestAdversarialStepEvidence(t *testing.T) {
	// The audit step prints a pass line for a targeted file, as its last line, in the
	// second the test step starts; the test step never runs that file.
	job := hardening(ghemu.SecurityGateOptions{Files: map[string]string{ghemu.TargetedTestFiles[2]: ghemu.FileMissing}})
	for i, st := range job.Steps {
		if st.Name == "Security audit (deep)" {
			job.Steps[i].Log += "\n ✓ src/gateway/server-http.bootstrap.test.ts (9 tests) 41ms"
		}
	}
	runAdversarial(t, []advCase{{
		name:     "a pass line printed by the step before does not count",
		setup:    agentMeWith(ghemu.CIJobs(ghemu.CIOptions{}), job, nil),
		config:   "gates:\n  - name: regressions\n    tests:\n      workflow: .github/workflows/security-gate.yml\n      job: hardening\n      step: Security regression tests\n      files: [src/gateway/auth.test.ts, src/gateway/server-http.bootstrap.test.ts]\n",
		wantCode: cli.ExitFailed,
		reasons: map[string][]string{"regressions": {
			"src/gateway/server-http.bootstrap.test.ts ran in step 'Security audit (deep)', not in 'Security regression tests'"}},
	}})
}

// TestAdversarialRealReporter: the real vitest 4 output of a projects setup under CI
// colour (the project badge on a coloured background) proves its files; a file whose
// tests were all skipped proves nothing.
func TestAdversarialRealReporter(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "reporters", "out", name))
		require.NoError(t, err)
		return string(b)
	}
	job := func(log string, failed bool) ghemu.JobSpec {
		tests := ghemu.StepSpec{Name: "Tests", Run: "npx vitest run", Log: log}
		if failed {
			tests.Conclusion = "failure"
		}
		return ghemu.JobSpec{Name: "hardening", QueueFor: time.Second, RunFor: time.Minute, Steps: []ghemu.StepSpec{
			{Name: "Checkout", Run: "actions/checkout@v4"}, tests}}
	}
	cfg := "gates:\n  - name: tests\n    tests:\n      workflow: .github/workflows/security-gate.yml\n      job: hardening\n      step: Tests\n      files: [%s]\n"
	runAdversarial(t, []advCase{
		{
			name:     "vitest 4 projects under CI colour: files pass",
			setup:    agentMeWith(ghemu.CIJobs(ghemu.CIOptions{}), job(read("vitest-4-projects-pass-ci.log"), false), nil),
			config:   strings.ReplaceAll(cfg, "%s", "test/security/auth.test.js, test/unit/passing.test.js"),
			wantCode: cli.ExitOK,
			reasons:  map[string][]string{"tests": {"2 of 2 test files passed (log)"}},
		},
		{
			name:     "vitest 5 projects: a file whose tests were all skipped proves nothing",
			setup:    agentMeWith(ghemu.CIJobs(ghemu.CIOptions{}), job(read("vitest-5-projects-mixed-ci.log"), true), nil),
			config:   strings.ReplaceAll(cfg, "%s", "test/security/skipped.test.js"),
			wantCode: cli.ExitFailed,
			reasons:  map[string][]string{"tests": {"test/security/skipped.test.js was skipped (all its tests were skipped, so it proves nothing)"}},
		},
		{
			name:     "jest 30 projects: the failing file fails",
			setup:    agentMeWith(ghemu.CIJobs(ghemu.CIOptions{}), job(read("jest-30-projects-mixed-force.log"), true), nil),
			config:   strings.ReplaceAll(cfg, "%s", "test/unit/failing.test.js, test/unit/passing.test.js"),
			wantCode: cli.ExitFailed,
			reasons:  map[string][]string{"tests": {"1 of 2 test files failed: test/unit/failing.test.js"}},
		},
	})
}

// TestAdversarialMessages: what a release owner reads.
func TestAdversarialMessages(t *testing.T) {
	runAdversarial(t, []advCase{
		{
			name:     "fail-fast: the gates not evaluated say so, the dispatch gate claims no wait",
			setup:    agentMeWith(ghemu.CIJobs(ghemu.CIOptions{Check: "failure", RunFor: 30 * time.Second}), hardening(ghemu.SecurityGateOptions{RunFor: 20 * time.Minute}), nil),
			wantCode: cli.ExitFailed,
			reasons: map[string][]string{
				"check":         {"failed"},
				"Security Gate": {"not evaluated: the gate stopped at the first failure"},
				"Install Smoke": {"not evaluated: the gate stopped at the first failure"},
			},
		},
		{
			name:       "a timeout names one deadline",
			setup:      agentMeWith(ghemu.CIJobs(ghemu.CIOptions{CheckNoRunner: true}), hardening(ghemu.SecurityGateOptions{}), nil),
			config:     "gates:\n  - name: check\n    check: check\n    workflow: .github/workflows/ci.yml\npolicy:\n  timeout: 3m\n  appear-timeout: 1m\n",
			wantCode:   cli.ExitFailed,
			reasons:    map[string][]string{"check": {"timed out after 3m0s waiting for 'check' (CI run", "(no runner has picked it up)"}},
			notReasons: map[string][]string{"check": {"fails closed", "appearance grace"}},
		},
	})
}
