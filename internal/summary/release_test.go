package summary

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/deploy"
	"github.com/agentme/release-action/internal/gate"
	"github.com/agentme/release-action/internal/github"
	"github.com/agentme/release-action/internal/monitor"
	"github.com/agentme/release-action/internal/outcome"
	"github.com/agentme/release-action/internal/release"
	"github.com/agentme/release-action/internal/smoke"
	"github.com/agentme/release-action/internal/window"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const (
	relSHA    = "0123456789abcdef0123456789abcdef01234567"
	relServer = "https://github.example"
	relRun    = "https://github.example/agentme/agentme/actions/runs/42"
)

var relStart = time.Date(2026, 11, 23, 16, 10, 0, 0, time.UTC)

func relInfo() ReleaseInfo {
	return ReleaseInfo{
		Repo:      github.Repo{Owner: "agentme", Name: "agentme"},
		ServerURL: relServer,
		Owners:    config.Owners{Release: "@agentme/release-owners", Security: "@agentme/security", OnCall: "@agentme/oncall"},
		Cost:      Cost(github.Cost{REST: 61, NotModified: 12, GraphQLQueries: 3, GraphQLPoints: 3}),
	}
}

func probes(failing string, detail string) *smoke.Report {
	r := &smoke.Report{Verdict: outcome.Pass, Gateway: "https://gateway.agentme.example", Ready: true,
		Duration: 9 * time.Second, Server: smoke.ServerInfo{Version: "2026.11.2"}}
	for _, p := range config.AllProbes() {
		pr := smoke.ProbeResult{Name: p, OK: true, Latency: 84 * time.Millisecond, Attempts: 1, Detail: "verified " + p}
		if p == failing {
			pr.OK, pr.Attempts, pr.Detail = false, 3, detail
			r.Verdict = outcome.Fail
		}
		r.Probes = append(r.Probes, pr)
	}
	return r
}

func dep(env string, id, run int64, url string) *deploy.Result {
	return &deploy.Result{Environment: env, DeploymentID: id, Trigger: deploy.TriggerDispatch, Workflow: "deploy.yml", RunID: run,
		RunURL: "https://github.example/agentme/agentme/actions/runs/" + strconv.FormatInt(run, 10), Conclusion: "success", State: deploy.StateSuccess,
		EnvironmentURL: url, Duration: config.Duration(3 * time.Minute)}
}

func steps(results ...[3]string) []release.Step {
	var out []release.Step
	for _, r := range results {
		d, _ := time.ParseDuration(r[2])
		out = append(out, release.Step{Name: r[0], Result: r[1], Duration: config.Duration(d)})
	}
	return out
}

func gateResult() *gate.Result {
	return &gate.Result{
		Verdict: gate.Pass, Reason: "all 2 gates passed", SHA: relSHA, Polls: 7, Duration: config.Duration(4 * time.Minute),
		Gates: []gate.GateResult{
			{Name: "check", Kind: "check", Verdict: gate.Pass, Duration: config.Duration(2 * time.Minute),
				Link:     "https://github.example/agentme/agentme/actions/runs/7/job/70",
				Evidence: []gate.Evidence{{Name: "check", Kind: "check_run", Workflow: "CI", Status: "completed", Conclusion: "success", Latest: true, Verdict: gate.Pass}}},
			{Name: "Security Gate", Kind: "workflow", Verdict: gate.Pass, Duration: config.Duration(4 * time.Minute),
				Evidence: []gate.Evidence{{Name: "hardening", Kind: "check_run", Workflow: "Security Gate", Status: "completed", Conclusion: "success", Latest: true, Verdict: gate.Pass}}},
		},
	}
}

func productionWindow() *window.Decision {
	return &window.Decision{Open: true, Reason: "inside window Tue 02:00-04:00 Australia/Brisbane (closes 2026-11-24T04:00:00+10:00)",
		ClosesAt: time.Date(2026, 11, 23, 18, 0, 0, 0, time.UTC)}
}

func passResult() *release.Result {
	staging, production := dep("staging", 1002, 501, "https://staging.agentme.example"), dep("production", 1006, 502, "https://gateway.agentme.example")
	production.WaitedApproval = config.Duration(6 * time.Minute)
	production.Approvers = []string{"@agentme/release-owners"}
	r := &release.Result{
		Verdict: outcome.Pass, Reason: "released v1.2.3 (candidate v1.2.3-rc.1) of 0123456 to staging, then production",
		SHA: relSHA, Version: "1.2.3", Tag: "v1.2.3-rc.1", ReleaseTag: "v1.2.3", RunURL: relRun,
		ReleaseURL: "https://github.example/agentme/agentme/releases/tag/v1.2.3",
		Steps: steps(
			[3]string{"gate", "pass", "4m"}, [3]string{"candidate tag", "pass", "1s"}, [3]string{"deploy staging", "pass", "3m"},
			[3]string{"validate staging", "pass", "9s"}, [3]string{"window production", "pass", "0s"}, [3]string{"deploy production", "pass", "9m"},
			[3]string{"validate production", "pass", "9s"}, [3]string{"monitor production", "pass", "45m"}, [3]string{"release tag", "pass", "2s"},
		),
		Gate: gateResult(),
		Environments: []release.EnvResult{
			{Name: "staging", URL: "https://staging.agentme.example", Stage: "none", Deploy: staging, Smoke: probes("", "")},
			{Name: "production", URL: "https://gateway.agentme.example", Stage: "none", Window: productionWindow(), Deploy: production,
				Smoke: probes("", ""), Monitor: &release.MonitorOutcome{Monitor: &monitor.Result{Verdict: "pass", Reason: "45 intervals, no sustained failure"},
					Summary: "| Signal | Bad intervals |\n| --- | --- |\n| auth errors | 0 |\n"}},
		},
		Started: relStart, Finished: relStart.Add(62 * time.Minute), Duration: config.Duration(62 * time.Minute),
	}
	r.Steps[2].Detail, r.Steps[2].Link = "deployment 1002, run 501 concluded success", staging.RunURL
	r.Steps[5].Detail, r.Steps[5].Link = "deployment 1006, run 502 concluded success; waited 6m0s for approval by @agentme/release-owners", production.RunURL
	r.Steps[8].Detail, r.Steps[8].Link = "created annotated tag v1.2.3 at 0123456; GitHub release published", r.ReleaseURL
	return r
}

func TestReleaseGolden(t *testing.T) {
	tests := []struct {
		name   string
		result func() *release.Result
	}{
		{"pass", passResult},
		{"smoke-failed-hostile", func() *release.Result {
			r := passResult()
			r.Verdict, r.ReleaseTag, r.ReleaseURL = outcome.Fail, "", ""
			r.Reason = "validating production failed: probe channel; fix it and run the release again: deployment 1006 is validated again without a new deploy"
			r.Steps[6].Result, r.Steps[6].Detail = release.StepFail, "smoke failed: probe channel"
			r.Steps[7].Result, r.Steps[7].Duration = release.StepNotRun, 0
			r.Steps[8] = release.Step{Name: "release tag", Result: release.StepNotRun}
			r.Version = "1.2.3|<b>x</b>"
			r.Environments[1].Monitor = nil
			r.Environments[1].Smoke = probes("channel", "reply was \"| ::error::pwned <img src=x onerror=alert(1)> [x](javascript:alert(1))\"\nsecond line")
			r.Environments[1].Smoke.Server.Restarted = true
			r.Finished, r.Duration = relStart.Add(17*time.Minute), config.Duration(17*time.Minute)
			return r
		}},
		{"scheduled", func() *release.Result {
			r := passResult()
			r.Verdict, r.ReleaseTag, r.ReleaseURL = outcome.Scheduled, "", ""
			next := time.Date(2026, 11, 24, 2, 0, 0, 0, time.FixedZone("AEST", 10*3600))
			reason := "outside window (Tue, Thu 02:00-04:00 Australia/Brisbane); next opens Tue 2026-11-24 02:00 AEST"
			r.NextWindow = next
			r.Reason = "the production window is closed: " + reason + "; nothing was deployed to production. Run the release again when the window opens (2026-11-23T16:00:00Z): it resumes where it stopped; or override with force-window and force-reason"
			r.Steps[4] = release.Step{Name: "window production", Result: release.StepScheduled, Detail: reason}
			for i := 5; i < len(r.Steps); i++ {
				r.Steps[i] = release.Step{Name: r.Steps[i].Name, Result: release.StepNotRun}
			}
			r.Environments[1] = release.EnvResult{Name: "production", URL: "https://gateway.agentme.example", Stage: "none",
				Window: &window.Decision{Reason: reason, NextOpen: next}}
			r.Finished, r.Duration = relStart.Add(8*time.Minute), config.Duration(8*time.Minute)
			return r
		}},
		{"already-complete", func() *release.Result {
			r := passResult()
			r.AlreadyComplete, r.Resumed, r.Gate = true, true, nil
			r.Reason = "v1.2.3 of 0123456 is already released (tag, deployments and validations are in GitHub): nothing to do; this summary was rebuilt from GitHub's records"
			for i := range r.Steps {
				r.Steps[i].Result, r.Steps[i].Duration = release.StepReused, 0
			}
			r.Steps[0].Detail = "the release is complete: its gate passed when it was made"
			for i := range r.Environments {
				e := &r.Environments[i]
				e.Stage, e.Smoke, e.Monitor, e.Window = "validated", nil, nil, nil
				e.Deploy.Reused, e.Deploy.WaitedApproval, e.Deploy.Approvers = true, 0, nil
			}
			return r
		}},
		{"forced-window-error", func() *release.Result {
			r := passResult()
			r.Verdict, r.ReleaseTag, r.ReleaseURL, r.Resumed = outcome.Error, "", "", true
			r.Reason = "the release stopped on an error: create deployment for production@0123456: POST /repos/agentme/agentme/deployments: 502 Bad Gateway (after 5 attempts); run it again: it resumes from what GitHub records"
			reason := "outside window (Tue, Thu 02:00-04:00 Australia/Brisbane); next opens Tue 2026-11-24 02:00 AEST"
			r.Steps[1].Result, r.Steps[1].Detail = release.StepReused, "v1.2.3-rc.1 already names 0123456: reused"
			r.Steps[4].Detail = "closed (" + reason + "); overridden by force-window: hotfix for CVE-2026-1234"
			r.Steps[5] = release.Step{Name: "deploy production", Result: release.StepError, Detail: "create deployment for production@0123456: POST /repos/agentme/agentme/deployments: 502 Bad Gateway (after 5 attempts)", Duration: config.Duration(2 * time.Second)}
			for i := 6; i < len(r.Steps); i++ {
				r.Steps[i] = release.Step{Name: r.Steps[i].Name, Result: release.StepNotRun}
			}
			r.Environments[1] = release.EnvResult{Name: "production", URL: "https://gateway.agentme.example", Stage: "none",
				Window: &window.Decision{Reason: reason}, Forced: true, ForcedReason: "hotfix for CVE-2026-1234"}
			return r
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Release(tt.result(), relInfo())
			path := filepath.Join("testdata", "release-"+tt.name+".md.golden")
			if *update {
				require.NoError(t, os.MkdirAll("testdata", 0o755))
				require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run go test ./internal/summary -run TestReleaseGolden -update")
			assert.Equal(t, string(want), got)
			checkMarkdownShape(t, got)
		})
	}
}

// checkMarkdownShape: every table row has as many cells as its header, no line can be read
// as a workflow command, and no raw HTML tag other than details/summary survives.
func checkMarkdownShape(t *testing.T, md string) {
	t.Helper()
	cols := 0
	for _, line := range strings.Split(md, "\n") {
		assert.False(t, strings.HasPrefix(strings.TrimSpace(line), "::"), "workflow command in %q", line)
		// Inside a code span "<b>" is text, not a tag (the hostile inputs have no backticks).
		text := codeSpan.ReplaceAllString(line, "")
		for _, tag := range []string{"<img", "<b>", "<script"} {
			assert.NotContains(t, text, tag)
		}
		if !strings.HasPrefix(line, "|") {
			cols = 0
			continue
		}
		n := cells(line)
		if cols == 0 {
			cols = n
		}
		assert.Equal(t, cols, n, "row %q", line)
	}
}

var codeSpan = regexp.MustCompile("`[^`]*`")

// cells counts a GFM row's cells: pipes not escaped by a backslash, minus the outer ones.
func cells(row string) int {
	n := 0
	for i := 0; i < len(row); i++ {
		if row[i] == '|' && (i == 0 || row[i-1] != '\\') {
			n++
		}
	}
	return n - 1
}

func TestReleaseSummaryFacts(t *testing.T) {
	r := passResult()
	got := Release(r, relInfo())
	assert.Contains(t, got, "## ✅ Release v1.2.3 passed")
	assert.Contains(t, got, "[0123456](https://github.example/agentme/agentme/commit/"+relSHA+")")
	assert.Contains(t, got, "candidate tag [v1.2.3\\-rc.1](https://github.example/agentme/agentme/tree/v1.2.3-rc.1)")
	assert.Contains(t, got, "### ✅ Release gate passed")
	// markdown.Escape escapes "@" (no autolinked mentions from a summary).
	assert.Contains(t, got, "Owners: release owner (go/no-go, rollback): \\@agentme/release\\-owners")
	assert.Contains(t, got, "API cost: 61 REST requests")

	r.Environments[1].Forced, r.Environments[1].ForcedReason = true, "hotfix <now>"
	got = Release(r, ReleaseInfo{})
	assert.Contains(t, got, "**overridden by force-window**")
	assert.Contains(t, got, "Reason given: hotfix &lt;now&gt;")
	assert.Contains(t, got, "Candidate `0123456`", "no server: the commit is shown, not linked")
	assert.NotContains(t, got, "Owners:")
}
