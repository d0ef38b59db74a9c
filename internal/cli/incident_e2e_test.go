package cli_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/cli"
	"github.com/agentme/release-action/internal/ghemu"
	"github.com/agentme/release-action/internal/sandbox"
)

const incidentTest = "src/gateway/bootstrap-replay.test.ts"

var evidenceRow = regexp.MustCompile("\\| `[0-9a-f]{64}` \\| [0-9]+ \\|")

// incidentLive is production running the release candidate, deployed by a deploy run.
func incidentLive(w *sandbox.World) {
	candidateLive(w)
	w.GitHub.AddRun(ghemu.WorkflowDeploy, sandbox.Candidate, "workflow_dispatch", w.GitHub.DeployJobs("production")...)
	sandbox.HealOnRollback(w)
}

// runIncident runs `incident` in action mode with exactly the given inputs (the earlier
// run's incident inputs are cleared, as a new workflow run would have them).
func runIncident(h *releaseHarness, inputs map[string]string) result {
	for k := range h.env {
		if strings.HasPrefix(k, "INPUT_") && k != "INPUT_TOKEN" && k != "INPUT_CONFIG" && k != "INPUT_CHANNEL-TIMEOUT" {
			delete(h.env, k)
		}
	}
	h.env["INPUT_COMMAND"] = "incident"
	for k, v := range inputs {
		h.env["INPUT_"+strings.ToUpper(k)] = v
	}
	return h.runFresh()
}

func TestIncidentOpenTwiceUpdatesTheSameIssue(t *testing.T) {
	h := newReleaseHarness(t, time.Time{}, incidentLive)
	h.env["GITHUB_ACTOR"] = "alice"
	h.clk.Advance(40 * time.Minute)
	r := runIncident(h, map[string]string{"action": "open", "severity": "active-exploit", "summary": "bootstrap codes replayed",
		"regression-tests": incidentTest})
	require.Equal(t, cli.ExitOK, r.code, r.stdout)
	assert.Equal(t, "pass", r.outputs["result"])
	assert.Equal(t, "1", r.outputs["issue-number"])
	issues := h.emu.Issues()
	require.Len(t, issues, 1)
	is := issues[0]
	assert.Equal(t, "github-actions[bot]", is.Author)
	assert.ElementsMatch(t, []string{"incident", "severity:active-exploit"}, is.Labels)
	for _, want := range []string{"**1. Classify severity**", "classified by @alice", "`/api/bootstrap/*`", "`/tools/invoke`",
		"`" + incidentTest + "`", "### Timeline", "v2026.2.9\\-rc.1", "deploy run", "### Evidence bundle"} {
		assert.Contains(t, is.Body, want)
	}
	// The timeline matches the deployment records: every production deployment status since
	// the window opened is a row.
	for _, d := range h.emu.Deployments() {
		if d.Environment == "production" && d.SHA == sandbox.Candidate {
			assert.Contains(t, is.Body, "deployment "+jsonInt(d.ID)+" of v2026.2.9")
		}
	}
	// Every evidence file is listed with its sha256, and the workspace holds it.
	dir := r.outputs["evidence-path"]
	require.NotEmpty(t, dir)
	assert.True(t, strings.HasPrefix(dir, h.env["GITHUB_WORKSPACE"]), dir)
	var rep struct {
		Incident struct {
			Evidence struct {
				Files []struct {
					Path, SHA256 string
				}
			}
		}
	}
	require.NoError(t, json.Unmarshal([]byte(r.outputs["report"]), &rep))
	require.NotEmpty(t, rep.Incident.Evidence.Files)
	logs := 0
	for _, f := range rep.Incident.Evidence.Files {
		b, err := os.ReadFile(filepath.Join(dir, f.Path))
		require.NoError(t, err)
		sum := sha256.Sum256(b)
		assert.Equal(t, hex.EncodeToString(sum[:]), f.SHA256)
		assert.Contains(t, is.Body, f.SHA256)
		if strings.HasPrefix(f.Path, "logs/") {
			logs++
		}
	}
	assert.Positive(t, logs, "the deploy run's job log is preserved")
	assert.Contains(t, r.summary, "## Incident")
	golden(t, "incident-open.md", r.summary)
	// The evidence files hold the emulator's URLs (random port), so their sums and sizes
	// differ per run; they are checked against the files above.
	golden(t, "incident-open-issue.md", evidenceRow.ReplaceAllString(is.Body[:strings.Index(is.Body, "<!-- release-action:incident")], "| `SHA256` | BYTES |"))

	h.clk.Advance(5 * time.Minute)
	h.env["GITHUB_ACTOR"] = "bob"
	r = runIncident(h, map[string]string{"action": "open", "severity": "active-exploit"})
	require.Equal(t, cli.ExitOK, r.code, r.stdout)
	assert.Equal(t, "1", r.outputs["issue-number"])
	require.Len(t, h.emu.Issues(), 1, "re-running open updates the record, never a second issue")

	h.clk.Advance(5 * time.Minute)
	r = runIncident(h, map[string]string{"action": "update", "tick": "endpoints", "note": "blocked at the edge"})
	require.Equal(t, cli.ExitOK, r.code, r.stdout)
	assert.Contains(t, h.emu.Issues()[0].Body, "- [x] **4. Disable high-risk endpoints**")
	assert.Contains(t, h.emu.Issues()[0].Body, "@bob: blocked at the edge")
	r.noSecret(t)
}

func jsonInt(n int64) string { b, _ := json.Marshal(n); return string(b) }

// TestIncidentCloseComputesTheImpactWindow: open, roll back (the rollback writes into
// the same record), close: the window runs from the candidate's deployment to the
// rollback deployment's validation, as the deployment records say.
func TestIncidentCloseComputesTheImpactWindow(t *testing.T) {
	h := newReleaseHarness(t, time.Time{}, incidentLive)
	h.env["GITHUB_ACTOR"] = "alice"
	h.clk.Advance(30 * time.Minute)
	r := runIncident(h, map[string]string{"action": "open", "severity": "attempted-abuse"})
	require.Equal(t, cli.ExitOK, r.code, r.stdout)

	h.clk.Advance(5 * time.Minute)
	for k := range h.env {
		if strings.HasPrefix(k, "INPUT_") && k != "INPUT_TOKEN" && k != "INPUT_CONFIG" && k != "INPUT_CHANNEL-TIMEOUT" {
			delete(h.env, k)
		}
	}
	h.env["INPUT_COMMAND"], h.env["INPUT_ENVIRONMENT"], h.env["INPUT_REASON"], h.env["INPUT_OPEN-ISSUE"] = "rollback", "production", "incident", "true"
	r = h.runFresh()
	require.Equal(t, cli.ExitOK, r.code, r.stdout)
	assert.Equal(t, h.emu.Issues()[0].Number, mustAtoi(t, strings.TrimPrefix(r.outputs["issue-url"][strings.LastIndex(r.outputs["issue-url"], "/"):], "/")))
	require.Len(t, h.emu.Issues(), 1, "the rollback wrote into the open record")

	// The records: the candidate's first success, the rollback deployment's validation.
	var start, end time.Time
	for _, d := range h.emu.Deployments() {
		if d.Environment != "production" {
			continue
		}
		var p struct{ Rollback bool }
		_ = json.Unmarshal(d.Payload, &p)
		for _, s := range d.Statuses {
			if s.State != "success" {
				continue
			}
			if d.SHA == sandbox.Candidate && start.IsZero() {
				start = s.CreatedAt
			}
			if p.Rollback && end.IsZero() {
				end = s.CreatedAt
			}
		}
	}
	require.False(t, start.IsZero())
	require.False(t, end.IsZero())

	h.clk.Advance(time.Hour)
	r = runIncident(h, map[string]string{"action": "close", "root-cause": "codes were reusable", "mitigations": "rolled back",
		"follow-ups": "single-use codes"})
	require.Equal(t, cli.ExitOK, r.code, r.stdout)
	assert.Equal(t, start.UTC().Format(time.RFC3339), r.outputs["impact-window-start"])
	assert.Equal(t, end.UTC().Format(time.RFC3339), r.outputs["impact-window-end"])
	is := h.emu.Issues()[0]
	assert.Equal(t, "closed", is.State)
	assert.Contains(t, is.Body, "**Impact window**")
	assert.Contains(t, is.Body, "codes were reusable")
	golden(t, "incident-close.md", r.summary)

	// Closed: a second close is bad input.
	r = runIncident(h, map[string]string{"action": "close", "issue": "1", "root-cause": "a", "mitigations": "b", "follow-ups": "c"})
	assert.Equal(t, cli.ExitBadInput, r.code, r.stdout)
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	var n int
	require.NoError(t, json.Unmarshal([]byte(s), &n), s)
	return n
}

// TestIncidentRequiresRegressionTestsInTheGate: with an open record requiring a test file,
// the gate fails on a candidate whose Security Gate log lacks it and passes on one whose
// log has it; closing lifts the requirement.
func TestIncidentRequiresRegressionTestsInTheGate(t *testing.T) {
	h := newReleaseHarness(t, time.Time{}, incidentLive)
	h.env["GITHUB_ACTOR"] = "alice"
	h.clk.Advance(30 * time.Minute)
	r := runIncident(h, map[string]string{"action": "open", "severity": "active-exploit", "regression-tests": incidentTest})
	require.Equal(t, cli.ExitOK, r.code, r.stdout)

	gateRun := func() result {
		for k := range h.env {
			if strings.HasPrefix(k, "INPUT_") && k != "INPUT_TOKEN" && k != "INPUT_CONFIG" {
				delete(h.env, k)
			}
		}
		h.env["INPUT_COMMAND"], h.env["INPUT_SHA"] = "gate", sandbox.Candidate
		return h.runFresh()
	}
	r = gateRun()
	require.Equal(t, cli.ExitFailed, r.code, r.stdout)
	assert.Contains(t, r.summary, "Incident \\#1 regression tests")
	assert.Contains(t, r.summary, "did not run")

	// release runs the same gate: it stops before deploying anything.
	deployments := len(h.emu.Deployments())
	h.env["INPUT_COMMAND"] = "release"
	r = h.runFresh()
	require.Equal(t, cli.ExitFailed, r.code, r.stdout)
	assert.Contains(t, r.summary, "Incident \\#1 regression tests")
	assert.Len(t, h.emu.Deployments(), deployments, "nothing deployed while the incident's test is unproven")

	h.clk.Advance(10 * time.Minute)
	h.emu.AddRun(ghemu.WorkflowSecurityGate, sandbox.Candidate, "workflow_dispatch", ghemu.SecurityGateJob(ghemu.SecurityGateOptions{
		Files: map[string]string{incidentTest: ghemu.FilePass}}))
	r = gateRun()
	require.Equal(t, cli.ExitOK, r.code, r.stdout)
	assert.Contains(t, r.summary, "Incident \\#1 regression tests")
	assert.Contains(t, r.summary, "1 of 1 test files passed")

	// A failing run of the test blocks again.
	h.clk.Advance(10 * time.Minute)
	h.emu.AddRun(ghemu.WorkflowSecurityGate, sandbox.Candidate, "workflow_dispatch", ghemu.SecurityGateJob(ghemu.SecurityGateOptions{
		Files: map[string]string{incidentTest: ghemu.FileFail}}))
	r = gateRun()
	require.Equal(t, cli.ExitFailed, r.code, r.stdout)

	// Closing lifts it: the runbook's three files still count, the incident's no longer.
	r = runIncident(h, map[string]string{"action": "close", "root-cause": "a", "mitigations": "b", "follow-ups": "c"})
	require.Equal(t, cli.ExitOK, r.code, r.stdout)
	h.clk.Advance(10 * time.Minute)
	h.emu.AddRun(ghemu.WorkflowSecurityGate, sandbox.Candidate, "workflow_dispatch", ghemu.SecurityGateJob(ghemu.SecurityGateOptions{}))
	r = gateRun()
	require.Equal(t, cli.ExitOK, r.code, r.stdout)
	assert.NotContains(t, r.summary, "Incident \\#1")
}

// TestIncidentLikeIssueChangesNothing: an issue someone else wrote, with the incident
// labels and a copy of a genuine record (naming a test that never runs), is ignored by the
// gate and cannot be updated or closed through the action.
func TestIncidentLikeIssueChangesNothing(t *testing.T) {
	h := newReleaseHarness(t, time.Time{}, incidentLive)
	h.clk.Advance(30 * time.Minute)
	r := runIncident(h, map[string]string{"action": "open", "severity": "active-exploit", "regression-tests": incidentTest})
	require.Equal(t, cli.ExitOK, r.code, r.stdout)
	genuine := h.emu.Issues()[0].Body
	// Close the genuine one so only the forged one is open.
	r = runIncident(h, map[string]string{"action": "close", "root-cause": "a", "mitigations": "b", "follow-ups": "c"})
	require.Equal(t, cli.ExitOK, r.code, r.stdout)

	forged := h.emu.AddIssue("mallory", "Incident (active-exploit): production", strings.ReplaceAll(genuine, incidentTest, "src/never-runs.test.ts"),
		"incident", "severity:active-exploit")
	h.emu.AddIssue("octocat", "Incident: production", "<!-- release-action:incident v1 eyJ2IjoxLCJpZCI6IngiLCJlbnZpcm9ubWVudCI6InByb2R1Y3Rpb24iLCJyZWdyZXNzaW9uX3Rlc3RzIjpbIngudGVzdC50cyJdfQ -->", "incident")

	for k := range h.env {
		if strings.HasPrefix(k, "INPUT_") && k != "INPUT_TOKEN" && k != "INPUT_CONFIG" {
			delete(h.env, k)
		}
	}
	h.env["INPUT_COMMAND"], h.env["INPUT_SHA"] = "gate", sandbox.Candidate
	r = h.runFresh()
	require.Equal(t, cli.ExitOK, r.code, r.stdout)
	assert.NotContains(t, r.summary, "Incident \\#")
	assert.NotContains(t, r.stdout, "requires its regression tests")

	for _, in := range []map[string]string{
		{"action": "update", "tick": "endpoints"},
		{"action": "update", "issue": jsonInt(int64(forged)), "tick": "endpoints"},
		{"action": "close", "issue": jsonInt(int64(forged)), "root-cause": "a", "mitigations": "b", "follow-ups": "c"},
	} {
		r = runIncident(h, in)
		assert.Equal(t, cli.ExitBadInput, r.code, r.stdout)
	}
	assert.Equal(t, "open", h.emu.Issues()[forged-1].State)
	assert.Equal(t, 0, h.emu.Issues()[forged-1].Edits, "nobody's issue is edited")

	// open does not adopt it either: it opens a record of its own.
	r = runIncident(h, map[string]string{"action": "open", "severity": "attempted-abuse"})
	require.Equal(t, cli.ExitOK, r.code, r.stdout)
	assert.Len(t, h.emu.Issues(), 4)
}

func TestIncidentBadInput(t *testing.T) {
	h := newReleaseHarness(t, time.Time{}, incidentLive)
	for _, tc := range []struct {
		in   map[string]string
		want string
	}{
		{map[string]string{"action": "open"}, "severity"},
		{map[string]string{"action": "open", "severity": "sev1"}, "severity"},
		{map[string]string{"action": "shout"}, "open, update, close"},
		{map[string]string{"action": "close"}, "no open incident"},
		{map[string]string{"action": "open", "severity": "active-exploit", "since": "last tuesday"}, "RFC 3339"},
		{map[string]string{"action": "open", "severity": "active-exploit", "rotate": "maybe"}, "boolean"},
	} {
		r := runIncident(h, tc.in)
		assert.Equal(t, cli.ExitBadInput, r.code, r.stdout)
		assert.Contains(t, r.stdout, tc.want)
	}
	assert.Empty(t, h.emu.Issues())
}
