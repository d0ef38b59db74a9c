package ghemu

import (
	"fmt"
	"hash/fnv"
	"sort"
	"strings"
	"time"
)

// The Agent Me repository's workflows (reference/agentme.md).
const (
	WorkflowCI           = "CI"
	WorkflowSecurityGate = "Security Gate"
	WorkflowInstallSmoke = "Install Smoke"
	WorkflowDeploy       = "Deploy"

	// SecurityTestsStep is the hardening job's step that runs the targeted regressions.
	SecurityTestsStep = "Security regression tests"
)

// TargetedTestFiles are the regression files the release runbook requires, in the
// order the Security Gate's step passes them to vitest.
var TargetedTestFiles = []string{
	"src/gateway/auth.test.ts",
	"src/gateway/tools-invoke-http.test.ts",
	"src/gateway/server-http.bootstrap.test.ts",
}

// Outcomes of one test file in VitestLog and SecurityGateOptions.Files.
const (
	FilePass    = "pass"
	FileFail    = "fail"
	FileMissing = "missing" // the file did not run: absent from the output
)

// LoadAgentMe loads the Agent Me world: sha as the head of main; the workflows CI
// (ci.yml) and Security Gate (security-gate.yml), which run on push and pull_request
// only (a dispatch answers 422); Install Smoke (install-smoke.yml), dispatchable, whose
// dispatch creates the three install-smoke matrix jobs (all passing: replace with
// OnDispatch(WorkflowInstallSmoke, ...) to change that); and Deploy (deploy.yml),
// dispatchable with the inputs environment (required), ref and deployment_id, whose
// dispatch creates DeployJobs(environment): one job "deploy (<environment>)" that
// succeeds after about a minute unless FailDeploys says otherwise.
// No run exists yet: add them with AgentMePush or AddRun.
func (s *Server) LoadAgentMe(sha string) {
	s.AddCommit(sha, "main")
	s.AddWorkflow(WorkflowCI, ".github/workflows/ci.yml")
	s.AddWorkflow(WorkflowSecurityGate, ".github/workflows/security-gate.yml")
	s.AddWorkflow(WorkflowInstallSmoke, ".github/workflows/install-smoke.yml")
	s.AddWorkflow(WorkflowDeploy, ".github/workflows/deploy.yml")
	s.ConfigureWorkflow(WorkflowCI, false)
	s.ConfigureWorkflow(WorkflowSecurityGate, false)
	s.ConfigureWorkflow(WorkflowInstallSmoke, true)
	s.ConfigureWorkflow(WorkflowDeploy, true,
		WorkflowInput{Name: "environment", Required: true},
		WorkflowInput{Name: "ref"},
		WorkflowInput{Name: "deployment_id"})
	s.OnDispatch(WorkflowInstallSmoke, func(Dispatch) []JobSpec { return InstallSmokeJobs() })
	s.OnDispatch(WorkflowDeploy, func(d Dispatch) []JobSpec { return s.DeployJobs(d.Inputs["environment"]) })
}

func fnv32(s string) int64 {
	h := fnv.New32a()
	h.Write([]byte(s))
	return int64(h.Sum32())
}

// AgentMePush adds the runs a push of sha to main starts: CI and Security Gate, all
// passing.
func (s *Server) AgentMePush(sha string) (ci, security *Run) {
	ci = s.AddRun(WorkflowCI, sha, "push", CIJobs(CIOptions{})...)
	security = s.AddRun(WorkflowSecurityGate, sha, "push", SecurityGateJob(SecurityGateOptions{}))
	return ci, security
}

// CIOptions shape the CI workflow's jobs.
type CIOptions struct {
	// DocsOnly skips check and the code jobs, as Agent Me's CI does on docs-only changes.
	DocsOnly bool
	// Check is the conclusion of the check job (default success).
	Check string
	// CheckNoRunner leaves check queued forever: no runner picks up its label.
	CheckNoRunner bool
	// QueueFor and RunFor scale every job (defaults 10s and 3m).
	QueueFor, RunFor time.Duration
}

// CIJobs returns CI's jobs: docs-scope, changed-scope, check, build-artifacts,
// checks (node, test) and (bun, test), check-docs, secrets.
func CIJobs(o CIOptions) []JobSpec {
	q, r := o.QueueFor, o.RunFor
	if q == 0 {
		q = 10 * time.Second
	}
	if r == 0 {
		r = 3 * time.Minute
	}
	code := ""
	if o.DocsOnly {
		code = "skipped"
	}
	check := JobSpec{Name: "check", QueueFor: q, RunFor: r, Conclusion: o.Check, NeverStarts: o.CheckNoRunner,
		Steps: []StepSpec{
			{Name: "Checkout", Run: "actions/checkout@v4"},
			{Name: "Setup pnpm", Run: "pnpm/action-setup@v4"},
			{Name: "Setup Node", Run: "actions/setup-node@v4"},
			{Name: "Install deps", Run: "pnpm install --frozen-lockfile", Log: "Lockfile is up to date, resolution step is skipped\nDone in 21.4s"},
			{Name: "Types", Run: "pnpm tsgo", Log: ""},
			{Name: "Lint", Run: "pnpm lint", Log: "Found 0 warnings and 0 errors."},
			{Name: "Format (changed files)", Run: "pnpm format:check:changed", Log: "All matched files use Prettier code style!"},
		}}
	if o.Check != "" && isBad(o.Check) {
		check.Steps[5].Conclusion = o.Check
		check.Steps[5].Log = "src/gateway/auth.ts:41:7  error  'token' is assigned a value but never used\nFound 0 warnings and 1 error."
	}
	if o.DocsOnly {
		check.Conclusion, check.Steps = "skipped", nil
	}
	jobs := []JobSpec{
		{Name: "docs-scope", QueueFor: q, RunFor: 20 * time.Second, Log: "docs_only=" + fmt.Sprint(o.DocsOnly)},
		{Name: "changed-scope", QueueFor: q, RunFor: 20 * time.Second},
		check,
		{Name: "build-artifacts", QueueFor: q, RunFor: r, Conclusion: code},
		{Name: "checks (node, test)", QueueFor: q, RunFor: r + time.Minute, Conclusion: code},
		{Name: "checks (bun, test)", QueueFor: q, RunFor: r, Conclusion: code},
		{Name: "check-docs", QueueFor: q, RunFor: time.Minute},
		{Name: "secrets", QueueFor: q, RunFor: 40 * time.Second},
	}
	return jobs
}

// SecurityGateOptions shape the Security Gate's hardening job.
type SecurityGateOptions struct {
	// Files maps each targeted file to FilePass, FileFail or FileMissing; files not
	// listed pass, and nil means all of TargetedTestFiles pass.
	Files map[string]string
	// Plain prints vitest without ANSI colours (default coloured, as vitest does on
	// GitHub Actions).
	Plain bool
	// AuditFails fails "Security audit (deep)", so the regression tests are skipped.
	AuditFails bool
	// QueueFor and RunFor default to 5s and 2m.
	QueueFor, RunFor time.Duration
}

// SecurityGateJob returns the hardening job (no name: key, so the check run is
// "hardening") with the six steps of Agent Me's security-gate.yml.
func SecurityGateJob(o SecurityGateOptions) JobSpec {
	files := map[string]string{}
	for _, f := range TargetedTestFiles {
		files[f] = FilePass
	}
	for f, st := range o.Files {
		files[f] = st
	}
	log, failed := vitest(files, !o.Plain)
	tests := StepSpec{Name: SecurityTestsStep, Log: log,
		Run: "pnpm vitest run " + strings.Join(TargetedTestFiles, " ")}
	if failed {
		tests.Conclusion = "failure"
	}
	audit := StepSpec{Name: "Security audit (deep)", Run: "pnpm agentme security audit --deep",
		Log: "Security audit: 0 critical, 0 high, 2 moderate\nAudit passed."}
	if o.AuditFails {
		audit.Conclusion = "failure"
		audit.Log = "Security audit: 1 critical, 0 high, 2 moderate\nAudit failed: critical findings present."
		tests.Conclusion = "skipped"
	}
	q, r := o.QueueFor, o.RunFor
	if q == 0 {
		q = 5 * time.Second
	}
	if r == 0 {
		r = 2 * time.Minute
	}
	return JobSpec{Name: "hardening", QueueFor: q, RunFor: r, Steps: []StepSpec{
		{Name: "Checkout", Run: "actions/checkout@v4"},
		{Name: "Setup pnpm", Run: "pnpm/action-setup@v4"},
		{Name: "Setup Node", Run: "actions/setup-node@v4"},
		{Name: "Install deps", Run: "pnpm install --frozen-lockfile", Log: "Lockfile is up to date, resolution step is skipped\nDone in 19.8s"},
		audit,
		tests,
	}}
}

// InstallSmokeJobs returns the matrix jobs install-smoke (root|nonroot|cli); the
// modes named in failModes ("root", "nonroot", "cli") fail.
func InstallSmokeJobs(failModes ...string) []JobSpec {
	var jobs []JobSpec
	for _, mode := range []string{"root", "nonroot", "cli"} {
		j := JobSpec{Name: "install-smoke (" + mode + ")", QueueFor: 8 * time.Second, RunFor: 4 * time.Minute,
			Steps: []StepSpec{
				{Name: "Checkout", Run: "actions/checkout@v4"},
				{Name: "Install (" + mode + ")", Run: "bash scripts/install-smoke.sh " + mode,
					Log: "Installing agentme@2026.2.9 as " + mode + "\nagentme --version: 2026.2.9"},
				{Name: "Smoke", Run: "agentme gateway --smoke", Log: "gateway started on :18789\nsmoke ok"},
			}}
		for _, f := range failModes {
			if f == mode {
				j.Steps[2].Conclusion = "failure"
				j.Steps[2].Log = "gateway started on :18789\nsmoke failed: connect.challenge not received within 10s"
			}
		}
		jobs = append(jobs, j)
	}
	return jobs
}

// VitestLog renders vitest's default reporter for the given files (file -> FilePass,
// FileFail or FileMissing; missing files print nothing, as when vitest's filter
// matches no file), without colours: one line per file such as
// " ✓ src/gateway/auth.test.ts (24 tests) 113ms" or
// " ❯ src/gateway/tools-invoke-http.test.ts (9 tests | 1 failed) 88ms", the failures,
// then " Test Files  1 failed | 2 passed (3)" and the totals.
func VitestLog(files map[string]string) string {
	s, _ := vitest(files, false)
	return s
}

// VitestLogColor is VitestLog with the ANSI colours vitest prints on GitHub Actions.
func VitestLogColor(files map[string]string) string {
	s, _ := vitest(files, true)
	return s
}

var knownTests = map[string]int{
	"src/gateway/auth.test.ts":                  24,
	"src/gateway/tools-invoke-http.test.ts":     9,
	"src/gateway/server-http.bootstrap.test.ts": 12,
}

func fileFacts(f string) (tests, ms int) {
	h := fnv.New32a()
	h.Write([]byte(f))
	v := int(h.Sum32())
	tests = knownTests[f]
	if tests == 0 {
		tests = 3 + v%17
	}
	return tests, 40 + v%150
}

// vitest renders the log; failed reports whether vitest would exit non-zero.
func vitest(files map[string]string, color bool) (log string, failed bool) {
	paint := func(code, s string) string {
		if !color {
			return s
		}
		reset := "39"
		if code[0] == '4' { // background badge
			reset = "49"
		}
		return "\x1b[" + code + "m" + s + "\x1b[" + reset + "m"
	}
	dim := func(s string) string {
		if !color {
			return s
		}
		return "\x1b[2m" + s + "\x1b[22m"
	}
	bold := func(s string) string {
		if !color {
			return s
		}
		return "\x1b[1m" + s + "\x1b[22m"
	}
	names := make([]string, 0, len(files))
	for f := range files {
		names = append(names, f)
	}
	order := map[string]int{}
	for i, f := range TargetedTestFiles {
		order[f] = i + 1
	}
	sort.Slice(names, func(i, j int) bool {
		oi, oj := order[names[i]], order[names[j]]
		if oi != oj && oi > 0 && oj > 0 {
			return oi < oj
		}
		if (oi > 0) != (oj > 0) {
			return oi > 0
		}
		return names[i] < names[j]
	})

	var b strings.Builder
	b.WriteString("\n" + paint("46", " RUN ") + " " + paint("36", "v3.2.4 ") + dim("/home/runner/work/agentme/agentme") + "\n\n")
	var failedFiles, passedFiles, failedTests, passedTests, ran int
	var failures []string
	for _, f := range names {
		tests, ms := fileFacts(f)
		switch files[f] {
		case FileMissing:
			continue
		case FileFail:
			ran++
			failedFiles++
			failedTests++
			passedTests += tests - 1
			fmt.Fprintf(&b, " %s %s %s %s\n", paint("31", "❯"), f,
				dim("(")+dim(fmt.Sprintf("%d tests", tests))+dim(" | ")+paint("31", "1 failed")+dim(")"), paint("33", fmt.Sprintf("%dms", ms)))
			test := strings.TrimSuffix(f[strings.LastIndex(f, "/")+1:], ".test.ts") + " > rejects a forged credential"
			fmt.Fprintf(&b, "   %s %s %s\n", paint("31", "×"), test, dim(fmt.Sprintf("%dms", ms/4)))
			fmt.Fprintf(&b, "     %s\n", paint("31", "→ expected 401 to be 200 // Object.is equality"))
			failures = append(failures, f+" > "+test)
		default:
			ran++
			passedFiles++
			passedTests += tests
			fmt.Fprintf(&b, " %s %s %s %s\n", paint("32", "✓"), f, dim(fmt.Sprintf("(%d tests)", tests)), paint("90", fmt.Sprintf("%dms", ms)))
		}
	}
	if ran == 0 {
		b.WriteString(paint("31", "No test files found, exiting with code 1") + "\n")
		return b.String(), true
	}
	if len(failures) > 0 {
		bar := "⎯⎯⎯⎯⎯⎯⎯"
		fmt.Fprintf(&b, "\n%s\n\n", paint("31", bar+" "+bold(fmt.Sprintf("Failed Tests %d", len(failures)))+" "+bar))
		for i, name := range failures {
			fmt.Fprintf(&b, "%s %s\n", paint("41", " FAIL "), name)
			fmt.Fprintf(&b, "%s\n", paint("31", "AssertionError: expected 401 to be 200 // Object.is equality"))
			file, _, _ := strings.Cut(name, " > ")
			fmt.Fprintf(&b, " %s %s\n", paint("36", "❯"), file+":88:27")
			fmt.Fprintf(&b, "\n%s\n\n", dim(strings.Repeat("⎯", 50)+fmt.Sprintf("[%d/%d]⎯", i+1, len(failures))))
			// vitest's github-actions reporter, turned by the runner into an error annotation
			fmt.Fprintf(&b, "##[error]AssertionError: expected 401 to be 200 // Object.is equality\n")
		}
	}
	counts := func(failed, passed, total int) string {
		var parts []string
		if failed > 0 {
			parts = append(parts, bold(paint("31", fmt.Sprintf("%d failed", failed))))
		}
		if passed > 0 {
			parts = append(parts, bold(paint("32", fmt.Sprintf("%d passed", passed))))
		}
		return strings.Join(parts, dim(" | ")) + paint("90", fmt.Sprintf(" (%d)", total))
	}
	fmt.Fprintf(&b, "\n%s %s\n", dim(" Test Files "), counts(failedFiles, passedFiles, ran))
	fmt.Fprintf(&b, "%s %s\n", dim("      Tests "), counts(failedTests, passedTests, failedTests+passedTests))
	fmt.Fprintf(&b, "%s %s\n", dim("   Start at "), "10:00:01")
	fmt.Fprintf(&b, "%s %s\n", dim("   Duration "), "1.52s "+dim("(transform 312ms, setup 0ms, collect 801ms, tests 265ms, environment 1ms, prepare 402ms)"))
	return b.String(), failedFiles > 0
}
