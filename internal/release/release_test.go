package release

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
	"github.com/agentme/release-action/internal/rollback"
	"github.com/agentme/release-action/internal/smoke"
)

const releaseRunURL = serverURL + repoPath + "/actions/runs/42"

var brisbane = func() *time.Location {
	l, err := time.LoadLocation("Australia/Brisbane")
	if err != nil {
		panic(err)
	}
	return l
}()

// at is a wall time in Brisbane (production's window zone): "2026-11-24 02:10".
func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, brisbane)
	if err != nil {
		panic(err)
	}
	return t
}

// inWindow is a Tuesday inside production's 02:00-04:00 window.
var inWindow = at("2026-11-24 02:10")

func testConfig() *config.Config {
	c := config.Default()
	probes := config.AllProbes()
	c.Environments = []config.Environment{
		{Name: "staging", URL: "https://staging.agentme.example", Timeout: config.Duration(20 * time.Minute), Smoke: probes},
		{
			Name: "production", URL: "https://gateway.agentme.example", Timeout: config.Duration(30 * time.Minute), Smoke: probes,
			Window: &config.Window{
				Timezone: "Australia/Brisbane",
				Weekly:   []config.WeeklyWindow{{Days: []string{"Tue", "Thu"}, Start: "02:00", End: "04:00"}},
				Freeze:   []config.Freeze{{From: "2026-12-20", To: "2027-01-05", Reason: "holidays"}},
				MaxWait:  config.Duration(2 * time.Hour),
			},
			Monitor: &config.Monitor{Duration: config.Duration(45 * time.Minute), Interval: config.Duration(time.Minute), Sustained: 3},
		},
	}
	return c
}

// harness runs releases against the fake with scripted gate, smoke and monitor.
type harness struct {
	t   *testing.T
	gh  *fakeGH
	cfg *config.Config

	gateVerdicts []outcome.Verdict // verdicts of the next gate runs (then pass)
	smokeFails   map[string]int    // failing smoke runs left per environment
	monitorFails int
	noMonitor    bool
	tweak        func(*Options)

	gateCalls, monitorCalls int
	smokeCalls              map[string]int
	monitorIDs              []int64
	lines, groups           []string
	open                    int // groups open
}

func newHarness(t *testing.T, start time.Time) *harness {
	return &harness{t: t, gh: newFake(t, start), cfg: testConfig(), smokeFails: map[string]int{}, smokeCalls: map[string]int{}}
}

func (h *harness) options() Options {
	o := Options{
		Config: h.cfg, SHA: testSHA, RunURL: releaseRunURL, Clock: h.gh.clk,
		Progress: func(s string) { h.lines = append(h.lines, s) },
		Group: func(title string) func() {
			if h.open != 0 {
				h.t.Errorf("group %q opened inside another", title)
			}
			h.open++
			h.groups = append(h.groups, title)
			return func() { h.open-- }
		},
		Gate: func(ctx context.Context) (*gate.Result, error) {
			h.gateCalls++
			h.gh.clk.Advance(4 * time.Minute)
			v := gate.Pass
			if len(h.gateVerdicts) > 0 {
				v, h.gateVerdicts = h.gateVerdicts[0], h.gateVerdicts[1:]
			}
			reason := "all 4 gates passed"
			if v != gate.Pass {
				reason = "1 of 4 gates failed: Security Gate concluded failure"
			}
			return &gate.Result{Verdict: v, Reason: reason, SHA: testSHA}, nil
		},
		Smoke: func(ctx context.Context, env config.Environment) (*smoke.Report, error) {
			h.smokeCalls[env.Name]++
			h.gh.clk.Advance(time.Minute)
			rep := &smoke.Report{Verdict: outcome.Pass, Gateway: env.URL, Ready: true}
			for _, p := range env.Smoke {
				rep.Probes = append(rep.Probes, smoke.ProbeResult{Name: p, OK: true, Attempts: 1, Latency: 80 * time.Millisecond})
			}
			if h.smokeFails[env.Name] > 0 {
				h.smokeFails[env.Name]--
				rep.Verdict = outcome.Fail
				rep.Probes[2].OK, rep.Probes[2].Detail = false, "no reply within 30s"
			}
			return rep, nil
		},
		Monitor: func(ctx context.Context, env config.Environment, id int64) (*MonitorOutcome, error) {
			h.monitorCalls++
			h.monitorIDs = append(h.monitorIDs, id)
			h.gh.clk.Advance(45 * time.Minute)
			if h.monitorFails > 0 {
				h.monitorFails--
				return &MonitorOutcome{Monitor: &monitor.Result{Verdict: "fail", Reason: "auth errors above 0.5/s for 3 intervals"}}, nil
			}
			return &MonitorOutcome{Monitor: &monitor.Result{Verdict: "pass", Reason: "45 intervals, no sustained failure"}, Summary: "monitor ok"}, nil
		},
		Render:       func(r *Result) string { return fmt.Sprintf("summary: %s %s of %s", r.Verdict, r.ReleaseTag, r.SHA) },
		PollInterval: 30 * time.Second,
	}
	if h.noMonitor {
		o.Monitor = nil
	}
	if h.tweak != nil {
		h.tweak(&o)
	}
	return o
}

func (h *harness) run() (*Result, error) {
	h.t.Helper()
	r, err := Run(context.Background(), h.gh, h.options())
	assert.Zero(h.t, h.open, "every group opened is closed")
	return r, err
}

// mustRun runs a release that ends without error.
func (h *harness) mustRun() *Result {
	h.t.Helper()
	r, err := h.run()
	require.NoError(h.t, err)
	require.NotNil(h.t, r)
	return r
}

func stepResults(r *Result) []string {
	var out []string
	for _, s := range r.Steps {
		out = append(out, s.Name+": "+s.Result)
	}
	return out
}

func allSteps(results ...string) []string {
	names := []string{"gate", "candidate tag", "deploy staging", "validate staging", "window production",
		"deploy production", "validate production", "monitor production", "release tag"}
	out := make([]string, len(names))
	for i, n := range names {
		res := results[len(results)-1]
		if i < len(results) {
			res = results[i]
		}
		out[i] = n + ": " + res
	}
	return out
}

func fullWrites(candidate string, stagingRun, productionRun int) []string {
	return []string{
		"tag " + candidate + " 0123456",
		"deployment staging " + candidate,
		"dispatch staging " + candidate,
		fmt.Sprintf(`status staging in_progress "release-action: deploying (run %d)"`, stagingRun),
		`status staging in_progress "release-action: deployed; validating"`,
		`status staging success "release-action: deployed and validated"`,
		"deployment production " + candidate,
		"dispatch production " + candidate,
		fmt.Sprintf(`status production in_progress "release-action: deploying (run %d)"`, productionRun),
		`status production in_progress "release-action: deployed; validating"`,
		`status production success "release-action: deployed and validated"`,
		`status production success "release-action: deployed and validated; monitor passed"`,
		"tag v1.2.3 0123456",
		"release v1.2.3 prerelease=false",
	}
}

func TestReleaseHappyPath(t *testing.T) {
	h := newHarness(t, inWindow)
	r := h.mustRun()

	assert.Equal(t, outcome.Pass, r.Verdict, r.Reason)
	assert.Equal(t, "released v1.2.3 (candidate v1.2.3-rc.1) of 0123456 to staging, then production", r.Reason)
	assert.Equal(t, fullWrites("v1.2.3-rc.1", 501, 502), h.gh.writes)
	assert.Equal(t, allSteps("pass"), stepResults(r))
	assert.Equal(t, []string{"Gate", "Candidate tag", "Deploy staging", "Validate staging", "Window production",
		"Deploy production", "Validate production", "Monitor production", "Release tag"}, h.groups)

	assert.Equal(t, "1.2.3", r.Version)
	assert.Equal(t, "v1.2.3-rc.1", r.Tag)
	assert.Equal(t, "v1.2.3", r.ReleaseTag)
	assert.Equal(t, serverURL+repoPath+"/releases/tag/v1.2.3", r.ReleaseURL)
	assert.False(t, r.Resumed)
	assert.False(t, r.AlreadyComplete)
	assert.Equal(t, 1, h.gateCalls)
	assert.Equal(t, map[string]int{"staging": 1, "production": 1}, h.smokeCalls)
	require.Len(t, r.Environments, 2)
	stagingID, productionID := r.Environments[0].Deploy.DeploymentID, r.Environments[1].Deploy.DeploymentID
	assert.Equal(t, map[string]int64{"staging": stagingID, "production": productionID}, r.DeploymentIDs())
	assert.Equal(t, map[string]string{"staging": "https://staging.agentme.example", "production": "https://gateway.agentme.example"}, r.EnvironmentURLs())
	assert.Equal(t, []int64{productionID}, h.monitorIDs, "the monitor watches production's deployment")
	assert.True(t, r.Environments[1].Window.Open)
	assert.False(t, r.Environments[1].Forced)
	assert.Equal(t, runURL(502), r.Step("deploy production").Link)
	assert.Equal(t, "deployment "+fmt.Sprint(productionID)+", run 502 concluded success", r.Step("deploy production").Detail)
	assert.Equal(t, "5 of 5 smoke probes passed", r.Step("validate staging").Detail)
	assert.Equal(t, r.Finished.Sub(r.Started), r.Duration.D())
	assert.Equal(t, 57*time.Minute, r.Duration.D(), "gate 4m, two deploys of 3m, two smokes of 1m, monitor 45m")

	// What was written says what it is.
	assert.Equal(t, "Release candidate v1.2.3-rc.1 of "+testSHA+"\n\nCreated by release-action: "+releaseRunURL, h.gh.tagMsgs["v1.2.3-rc.1"])
	assert.Equal(t, "Release v1.2.3 of "+testSHA+"\n\nCreated by release-action: "+releaseRunURL, h.gh.tagMsgs["v1.2.3"])
	require.Len(t, h.gh.releaseRq, 1)
	assert.Equal(t, github.ReleaseRequest{TagName: "v1.2.3", Target: testSHA, Name: "v1.2.3", Body: "summary: pass v1.2.3 of " + testSHA,
		GenerateNotes: true, MakeLatest: "true"}, h.gh.releaseRq[0])
	require.Len(t, h.gh.depReqs, 2)
	for i, req := range h.gh.depReqs {
		var p deploy.Payload
		require.NoError(t, json.Unmarshal(req.Payload, &p))
		assert.Equal(t, deploy.Payload{ReleaseAction: 1, Commit: testSHA, Tag: "v1.2.3-rc.1", RunURL: releaseRunURL}, p)
		assert.Equal(t, i == 1, req.ProductionEnvironment != nil && *req.ProductionEnvironment, "only the last environment is production")
	}
	assert.Equal(t, map[string]string{"environment": "production", "ref": "v1.2.3-rc.1", "deployment_id": fmt.Sprint(productionID)}, h.gh.dispatchs[1])
	assert.Contains(t, h.lines, "candidate tag: pass: created annotated tag v1.2.3-rc.1 at 0123456")

	// The report is JSON with stable names.
	b, err := json.Marshal(r)
	require.NoError(t, err)
	var back map[string]any
	require.NoError(t, json.Unmarshal(b, &back))
	for _, k := range []string{"verdict", "reason", "sha", "version", "tag", "release_tag", "release_url", "steps", "environments", "started", "finished", "duration", "resumed", "already_complete"} {
		assert.Contains(t, back, k)
	}
	assert.Equal(t, "57m", back["duration"])
}

// Each step fails in turn; a re-run then completes with one candidate tag and one deployment
// per environment, and a third run finds the release complete and writes nothing.
func TestReleaseFailsThenResumes(t *testing.T) {
	tests := []struct {
		name        string
		start       time.Time
		setup       func(h *harness)
		fix         func(h *harness)
		wantVerdict outcome.Verdict
		wantSteps   []string
		wantReason  string
		wantWrites  int // writes of the first run
		// second run
		wantResumed   bool
		wantCandidate string
		wantDispatch  map[string]int // dispatches per environment over both runs
		wantSmoke     map[string]int
	}{
		{
			name:          "gate",
			setup:         func(h *harness) { h.gateVerdicts = []outcome.Verdict{gate.Fail} },
			wantVerdict:   outcome.Fail,
			wantSteps:     allSteps("fail", "not run"),
			wantReason:    "the gate blocked the release: 1 of 4 gates failed: Security Gate concluded failure",
			wantCandidate: "v1.2.3-rc.1",
			wantDispatch:  map[string]int{"staging": 1, "production": 1},
			wantSmoke:     map[string]int{"staging": 1, "production": 1},
		},
		{
			name: "candidate tag taken by concurrent releases",
			setup: func(h *harness) {
				h.gh.beforeCreateTag = func(name string) {
					if strings.HasPrefix(name, "v1.2.3-rc.") {
						h.gh.addTag(name, otherSHA)
					}
				}
			},
			fix:         func(h *harness) { h.gh.beforeCreateTag = nil },
			wantVerdict: outcome.Fail,
			wantSteps:   allSteps("pass", "fail", "not run"),
			wantReason: "could not make a candidate tag: v1.2.3-rc.1, v1.2.3-rc.2, v1.2.3-rc.3 were taken by other commits while this " +
				"release tried them; another release is running at the same time: give the release job a concurrency group (README) and run it again",
			wantCandidate: "v1.2.3-rc.4",
			wantDispatch:  map[string]int{"staging": 1, "production": 1},
			wantSmoke:     map[string]int{"staging": 1, "production": 1},
		},
		{
			name:        "staging deploy",
			setup:       func(h *harness) { h.gh.conclusions["staging"] = []string{"failure"} },
			wantVerdict: outcome.Fail,
			wantSteps:   allSteps("pass", "pass", "fail", "not run"),
			wantReason: "deploying 0123456 to staging failed: deploy failed: run 501 of deploy.yml concluded failure after 3m0s; its log: " +
				runURL(501) + "; run the release again once fixed: it reuses deployment 1002",
			wantWrites:    5, // tag, record, dispatch, deploying, failed
			wantResumed:   true,
			wantCandidate: "v1.2.3-rc.1",
			wantDispatch:  map[string]int{"staging": 2, "production": 1},
			wantSmoke:     map[string]int{"staging": 1, "production": 1},
		},
		{
			name:        "staging smoke",
			setup:       func(h *harness) { h.smokeFails["staging"] = 1 },
			wantVerdict: outcome.Fail,
			wantSteps:   allSteps("pass", "pass", "pass", "fail", "not run"),
			wantReason: "validating staging failed: probe channel: no reply within 30s; fix it and run the release again: deployment 1002 is validated again " +
				"without a new deploy",
			wantWrites:    6,
			wantResumed:   true,
			wantCandidate: "v1.2.3-rc.1",
			wantDispatch:  map[string]int{"staging": 1, "production": 1},
			wantSmoke:     map[string]int{"staging": 2, "production": 1},
		},
		{
			name:        "production window closed",
			start:       at("2026-11-23 10:00"),
			fix:         func(h *harness) { h.gh.clk.Set(at("2026-11-24 02:05")) },
			wantVerdict: outcome.Scheduled,
			wantSteps:   allSteps("pass", "pass", "pass", "pass", "scheduled", "not run"),
			wantReason: "the production window is closed: outside window (Tue, Thu 02:00-04:00 Australia/Brisbane); next opens " +
				"Tue 2026-11-24 02:00 AEST; nothing was deployed to production. Run the release again when the window opens " +
				"(2026-11-23T16:00:00Z): it resumes where it stopped; or override with force-window and force-reason",
			wantWrites:    6,
			wantResumed:   true,
			wantCandidate: "v1.2.3-rc.1",
			wantDispatch:  map[string]int{"staging": 1, "production": 1},
			wantSmoke:     map[string]int{"staging": 1, "production": 1},
		},
		{
			name:        "production deploy",
			setup:       func(h *harness) { h.gh.conclusions["production"] = []string{"cancelled"} },
			wantVerdict: outcome.Fail,
			wantSteps:   allSteps("pass", "pass", "pass", "pass", "pass", "fail", "not run"),
			wantReason: "deploying 0123456 to production failed: deploy failed: run 502 of deploy.yml concluded cancelled after 3m0s; its log: " +
				runURL(502) + "; run the release again once fixed: it reuses deployment 1006",
			wantWrites:    10,
			wantResumed:   true,
			wantCandidate: "v1.2.3-rc.1",
			wantDispatch:  map[string]int{"staging": 1, "production": 2},
			wantSmoke:     map[string]int{"staging": 1, "production": 1},
		},
		{
			name:        "production smoke",
			setup:       func(h *harness) { h.smokeFails["production"] = 1 },
			wantVerdict: outcome.Fail,
			wantSteps:   allSteps("pass", "pass", "pass", "pass", "pass", "pass", "fail", "not run"),
			wantReason: "validating production failed: probe channel: no reply within 30s; fix it and run the release again: deployment 1006 is validated again " +
				"without a new deploy",
			wantWrites:    11,
			wantResumed:   true,
			wantCandidate: "v1.2.3-rc.1",
			wantDispatch:  map[string]int{"staging": 1, "production": 1},
			wantSmoke:     map[string]int{"staging": 1, "production": 2},
		},
		{
			name:          "monitor",
			setup:         func(h *harness) { h.monitorFails = 1 },
			wantVerdict:   outcome.Fail,
			wantSteps:     allSteps("pass", "pass", "pass", "pass", "pass", "pass", "pass", "fail", "not run"),
			wantReason:    "the post-release monitor of production failed: auth errors above 0.5/s for 3 intervals",
			wantWrites:    11,
			wantResumed:   true,
			wantCandidate: "v1.2.3-rc.1",
			wantDispatch:  map[string]int{"staging": 1, "production": 1},
			wantSmoke:     map[string]int{"staging": 1, "production": 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := tt.start
			if start.IsZero() {
				start = inWindow
			}
			h := newHarness(t, start)
			if tt.setup != nil {
				tt.setup(h)
			}
			r := h.mustRun()
			assert.Equal(t, tt.wantVerdict, r.Verdict)
			assert.Equal(t, tt.wantReason, r.Reason)
			assert.Equal(t, tt.wantSteps, stepResults(r))
			assert.Len(t, h.gh.writes, tt.wantWrites, "writes of the first run: %q", h.gh.writes)
			assert.NotContains(t, h.gh.tags, "v1.2.3", "no release tag for an unfinished release")
			if tt.wantVerdict == outcome.Scheduled {
				assert.Equal(t, at("2026-11-24 02:00").UTC(), r.NextWindow.UTC())
			} else {
				assert.True(t, r.NextWindow.IsZero())
			}

			if tt.fix != nil {
				tt.fix(h)
			}
			gateCalls := h.gateCalls
			r = h.mustRun()
			assert.Equal(t, outcome.Pass, r.Verdict, r.Reason)
			assert.Equal(t, gateCalls+1, h.gateCalls, "a resumed release is gated again")
			assert.Equal(t, tt.wantResumed, r.Resumed)
			assert.Equal(t, tt.wantCandidate, r.Tag)
			assert.Equal(t, []string{tt.wantCandidate}, h.gh.tagsAt(testSHA, "v1.2.3-rc."), "exactly one candidate tag of the commit")
			assert.Len(t, h.gh.deploymentsOf("staging", testSHA), 1)
			assert.Len(t, h.gh.deploymentsOf("production", testSHA), 1)
			dispatched := map[string]int{}
			for _, in := range h.gh.dispatchs {
				dispatched[in["environment"]]++
			}
			assert.Equal(t, tt.wantDispatch, dispatched)
			assert.Equal(t, tt.wantSmoke, h.smokeCalls)
			assert.Equal(t, testSHA, h.gh.tags["v1.2.3"].SHA)
			assert.Contains(t, h.gh.releases, "v1.2.3")
			for _, s := range r.Steps {
				assert.Contains(t, []string{StepPass, StepReused}, s.Result, s.Name)
			}

			writes, gateCalls := len(h.gh.writes), h.gateCalls
			r = h.mustRun()
			assert.Equal(t, outcome.Pass, r.Verdict)
			assert.True(t, r.AlreadyComplete)
			assert.Len(t, h.gh.writes, writes, "a complete release writes nothing")
			assert.Equal(t, gateCalls, h.gateCalls, "a complete release is not gated again")
			assert.Equal(t, allSteps("reused"), stepResults(r))
		})
	}
}

func TestReleaseAlreadyComplete(t *testing.T) {
	h := newHarness(t, inWindow)
	first := h.mustRun()
	require.Equal(t, outcome.Pass, first.Verdict)
	writes := len(h.gh.writes)
	h.gh.clk.Advance(24 * time.Hour)

	r := h.mustRun()
	assert.Equal(t, outcome.Pass, r.Verdict)
	assert.True(t, r.AlreadyComplete)
	assert.True(t, r.Resumed)
	assert.Len(t, h.gh.writes, writes)
	assert.Equal(t, 1, h.gateCalls)
	assert.Equal(t, map[string]int{"staging": 1, "production": 1}, h.smokeCalls)
	assert.Equal(t, 1, h.monitorCalls)
	assert.Equal(t, "v1.2.3 of 0123456 is already released (tag, deployments and validations are in GitHub): nothing to do; "+
		"this summary was rebuilt from GitHub's records", r.Reason)
	assert.Equal(t, allSteps("reused"), stepResults(r))
	assert.Empty(t, h.groups[len(first.Steps):], "nothing ran, so no group opened")
	assert.Equal(t, first.Tag, r.Tag)
	assert.Equal(t, first.ReleaseTag, r.ReleaseTag)
	assert.Equal(t, first.ReleaseURL, r.ReleaseURL)
	assert.Equal(t, first.DeploymentIDs(), r.DeploymentIDs())
	assert.Equal(t, runURL(501), r.Environments[0].Deploy.RunURL)
	assert.Equal(t, runURL(502), r.Environments[1].Deploy.RunURL)
	assert.Equal(t, "https://gateway.agentme.example", r.Environments[1].Deploy.EnvironmentURL)
	assert.Equal(t, string(deploy.StageValidated), r.Environments[1].Stage)
	assert.Nil(t, r.Gate)
}

func TestReleaseTagExistsElsewhere(t *testing.T) {
	t.Run("release tag: stop before the gate", func(t *testing.T) {
		h := newHarness(t, inWindow)
		h.gh.addTag("v1.2.3", otherSHA)
		r := h.mustRun()
		assert.Equal(t, outcome.Fail, r.Verdict)
		assert.Equal(t, "tag v1.2.3 already names fedcba9, not the candidate 0123456; tags never move: bump the version or delete the tag deliberately", r.Reason)
		assert.Equal(t, allSteps("not run", "not run", "not run", "not run", "not run", "not run", "not run", "not run", "fail"), stepResults(r))
		assert.Zero(t, h.gateCalls)
		assert.Empty(t, h.gh.writes)
	})
	t.Run("candidate tag without {n}", func(t *testing.T) {
		h := newHarness(t, inWindow)
		h.cfg.Tags.Candidate = "v{version}-rc"
		h.gh.addTag("v1.2.3-rc", otherSHA)
		r := h.mustRun()
		assert.Equal(t, outcome.Fail, r.Verdict)
		assert.Equal(t, "tag v1.2.3-rc already names fedcba9, not the candidate 0123456; tags never move: bump the version or delete the tag deliberately", r.Reason)
		assert.Equal(t, allSteps("pass", "fail", "not run"), stepResults(r))
		assert.Empty(t, h.gh.writes)
	})
	t.Run("candidate tag without {n} taken during the release", func(t *testing.T) {
		h := newHarness(t, inWindow)
		h.cfg.Tags.Candidate = "v{version}-rc"
		h.gh.beforeCreateTag = func(name string) { h.gh.addTag(name, otherSHA) }
		r := h.mustRun()
		assert.Equal(t, outcome.Fail, r.Verdict)
		assert.Equal(t, "tag v1.2.3-rc already names fedcba9, not the candidate 0123456; tags never move: bump the version or delete the tag deliberately", r.Reason)
		assert.Equal(t, 1, h.gh.count("CreateAnnotatedTag"))
		assert.Empty(t, h.gh.writes)
	})
}

func TestCandidateTagNames(t *testing.T) {
	tests := []struct {
		name     string
		existing map[string]string // tag -> sha
		race     map[string]string // tags that appear just before the release creates them
		want     string
		reused   bool
		wantGets []string // GetTag calls before the tag was settled
	}{
		{name: "first candidate", want: "v1.2.3-rc.1", wantGets: []string{}},
		{
			name:     "next free number after other commits' candidates",
			existing: map[string]string{"v1.2.3-rc.1": otherSHA, "v1.2.3-rc.2": otherSHA, "v1.2.3-rc.x": otherSHA, "v1.2.4-rc.7": otherSHA},
			want:     "v1.2.3-rc.3", wantGets: []string{"v1.2.3-rc.2", "v1.2.3-rc.1"},
		},
		{
			name:     "numbers compare as numbers",
			existing: map[string]string{"v1.2.3-rc.9": otherSHA, "v1.2.3-rc.10": otherSHA},
			want:     "v1.2.3-rc.11", wantGets: []string{"v1.2.3-rc.10", "v1.2.3-rc.9"},
		},
		{
			name:     "the commit's newest candidate is reused",
			existing: map[string]string{"v1.2.3-rc.1": testSHA, "v1.2.3-rc.2": otherSHA, "v1.2.3-rc.3": testSHA, "v1.2.3-rc.4": otherSHA},
			want:     "v1.2.3-rc.3", reused: true, wantGets: []string{"v1.2.3-rc.4", "v1.2.3-rc.3"},
		},
		{
			name: "a concurrent release takes the number",
			race: map[string]string{"v1.2.3-rc.1": otherSHA},
			want: "v1.2.3-rc.2", wantGets: []string{"v1.2.3-rc.1"},
		},
		{
			name: "a concurrent run of this release makes the same tag",
			race: map[string]string{"v1.2.3-rc.1": testSHA},
			want: "v1.2.3-rc.1", reused: true, wantGets: []string{"v1.2.3-rc.1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, inWindow)
			h.cfg.Environments = nil
			*h.cfg.Tags.GitHubRelease = false
			for n, sha := range tt.existing {
				h.gh.addTag(n, sha)
			}
			h.gh.beforeCreateTag = func(name string) {
				if sha, ok := tt.race[name]; ok {
					h.gh.addTag(name, sha)
					delete(tt.race, name)
				}
			}
			r := h.mustRun()
			require.Equal(t, outcome.Pass, r.Verdict, r.Reason)
			assert.Equal(t, tt.want, r.Tag)
			wantResult := StepPass
			if tt.reused {
				wantResult = StepReused
			}
			assert.Equal(t, wantResult, r.Step("candidate tag").Result)
			assert.Equal(t, []string{"gate: pass", "candidate tag: " + wantResult, "monitor: not configured", "release tag: pass"}, stepResults(r))
			var gets []string
			for _, c := range h.gh.CallStrings() {
				if n, ok := strings.CutPrefix(c, "GetTag v1.2.3-rc"); ok {
					gets = append(gets, "v1.2.3-rc"+n)
				}
			}
			if gets == nil {
				gets = []string{}
			}
			assert.Equal(t, tt.wantGets, gets)
			assert.Equal(t, testSHA, h.gh.tags[tt.want].SHA)
		})
	}
}

func TestReleaseWindow(t *testing.T) {
	t.Run("freeze: scheduled for the first window after it", func(t *testing.T) {
		h := newHarness(t, at("2026-12-22 02:10"))
		r := h.mustRun()
		assert.Equal(t, outcome.Scheduled, r.Verdict)
		assert.Equal(t, at("2027-01-07 02:00").UTC(), r.NextWindow.UTC())
		assert.Equal(t, "frozen until Wed 2027-01-06 00:00 AEST (freeze 2026-12-20..2027-01-05: holidays); next opens Thu 2027-01-07 02:00 AEST",
			r.Step("window production").Detail)
		assert.True(t, r.Environments[1].Window.Frozen)
		assert.Nil(t, r.Environments[1].Deploy)
		assert.Empty(t, h.gh.deploymentsOf("production", testSHA))
		assert.Len(t, h.gh.deploymentsOf("staging", testSHA), 1, "staging has no window")
	})
	t.Run("opens within max-wait: waits, then deploys", func(t *testing.T) {
		h := newHarness(t, at("2026-11-24 00:30"))
		r := h.mustRun()
		require.Equal(t, outcome.Pass, r.Verdict, r.Reason)
		deps := h.gh.deploymentsOf("production", testSHA)
		require.Len(t, deps, 1)
		assert.False(t, deps[0].CreatedAt.Before(at("2026-11-24 02:00")), "production deployed at %s", deps[0].CreatedAt.In(brisbane))
		assert.Equal(t, at("2026-11-24 02:00").Sub(at("2026-11-24 00:38")), r.Environments[1].WindowWaited.D())
		assert.Equal(t, "opened after waiting 1h22m0s: inside window Tue 02:00-04:00 Australia/Brisbane (closes 2026-11-24T04:00:00+10:00)",
			r.Step("window production").Detail)
		assert.Contains(t, h.lines, "production: deployment window closed; waiting until it opens Tue 2026-11-24 02:00 AEST (1h22m0s left, max-wait 2h0m0s)")
	})
	t.Run("force-window overrides and is recorded", func(t *testing.T) {
		h := newHarness(t, at("2026-11-23 10:00"))
		h.tweak = func(o *Options) { o.ForceWindow, o.ForceReason = true, "hotfix for CVE-2026-1234, approved by @alice" }
		r := h.mustRun()
		require.Equal(t, outcome.Pass, r.Verdict, r.Reason)
		env := r.Environments[1]
		assert.True(t, env.Forced)
		assert.Equal(t, "hotfix for CVE-2026-1234, approved by @alice", env.ForcedReason)
		assert.False(t, env.Window.Open)
		assert.Equal(t, "closed (outside window (Tue, Thu 02:00-04:00 Australia/Brisbane); next opens Tue 2026-11-24 02:00 AEST); "+
			"overridden by force-window: hotfix for CVE-2026-1234, approved by @alice", r.Step("window production").Detail)
		require.Len(t, h.gh.depReqs, 2)
		var staging, production deploy.Payload
		require.NoError(t, json.Unmarshal(h.gh.depReqs[0].Payload, &staging))
		require.NoError(t, json.Unmarshal(h.gh.depReqs[1].Payload, &production))
		assert.False(t, staging.ForcedWindow, "staging has no window to force")
		assert.True(t, production.ForcedWindow)
		assert.Equal(t, "hotfix for CVE-2026-1234, approved by @alice", production.ForcedReason)
	})
	t.Run("force-window needs a reason", func(t *testing.T) {
		h := newHarness(t, inWindow)
		h.tweak = func(o *Options) { o.ForceWindow = true }
		r, err := h.run()
		require.ErrorIs(t, err, outcome.ErrBadInput)
		assert.Nil(t, r)
		assert.Empty(t, h.gh.Calls())
	})
}

func TestReleaseBlocker(t *testing.T) {
	h := newHarness(t, inWindow)
	other := h.gh.addDeployment("production", otherSHA, "v1.2.2-rc.1", deploy.Prefix+"v1.2.2-rc.1", json.RawMessage(`{"release_action":1}`), inWindow.Add(-10*time.Minute))
	h.gh.addStatus(other.ID, "in_progress", deploy.Prefix+"deploying (run 400)", runURL(400), "", inWindow.Add(-9*time.Minute))

	r := h.mustRun()
	assert.Equal(t, outcome.Fail, r.Verdict)
	want := "production has an in-progress deployment of fedcba9 (deployment 1001, " + runURL(400) +
		"): wait for it or cancel it; use a concurrency group (README)"
	assert.Equal(t, want, r.Reason)
	assert.Equal(t, allSteps("pass", "pass", "pass", "pass", "pass", "fail", "not run"), stepResults(r))
	assert.Equal(t, runURL(400), r.Step("deploy production").Link)
	assert.Empty(t, h.gh.deploymentsOf("production", testSHA))

	// The other deployment finishes; the re-run deploys production only.
	h.gh.addStatus(other.ID, "success", deploy.Prefix+"deployed and validated", "", "", h.gh.clk.Now())
	r = h.mustRun()
	assert.Equal(t, outcome.Pass, r.Verdict, r.Reason)
	assert.Len(t, h.gh.deploymentsOf("production", testSHA), 1)
	assert.Len(t, h.gh.deploymentsOf("staging", testSHA), 1)
	assert.Equal(t, StepReused, r.Step("deploy staging").Result)
}

func TestReleaseRolledBack(t *testing.T) {
	setup := func(t *testing.T) (*harness, int64) {
		h := newHarness(t, inWindow)
		h.gh.addTag("v1.2.3-rc.1", testSHA)
		d := h.gh.addDeployment("production", testSHA, "v1.2.3-rc.1", deploy.Prefix+"v1.2.3-rc.1", json.RawMessage(`{"release_action":1}`), inWindow.Add(-48*time.Hour))
		h.gh.addStatus(d.ID, "success", deploy.Prefix+"deployed and validated", "", "https://gateway.agentme.example", inWindow.Add(-47*time.Hour))
		h.gh.addStatus(d.ID, "failure", deploy.Prefix+"rolled back: auth errors above 0.5/s", runURL(300), "", at("2026-11-22 04:00"))
		return h, d.ID
	}
	t.Run("refused before anything is done", func(t *testing.T) {
		h, _ := setup(t)
		r := h.mustRun()
		assert.Equal(t, outcome.Fail, r.Verdict)
		assert.Equal(t, "commit 0123456 was rolled back from production at 2026-11-21T18:00:00Z (auth errors above 0.5/s); re-deploying it needs force: true", r.Reason)
		assert.Equal(t, allSteps("not run", "not run", "not run", "not run", "not run", "fail", "not run"), stepResults(r))
		assert.Zero(t, h.gateCalls)
		assert.Empty(t, h.gh.writes)
	})
	t.Run("force re-deploys with the same record", func(t *testing.T) {
		h, id := setup(t)
		h.tweak = func(o *Options) { o.Force = true }
		r := h.mustRun()
		require.Equal(t, outcome.Pass, r.Verdict, r.Reason)
		assert.Equal(t, "v1.2.3-rc.1", r.Tag)
		assert.Equal(t, StepReused, r.Step("candidate tag").Result)
		assert.Equal(t, id, r.Environments[1].Deploy.DeploymentID)
		assert.True(t, r.Environments[1].Deploy.Reused)
		assert.Equal(t, string(deploy.StageRolledBack), r.Environments[1].Stage)
		assert.Len(t, h.gh.deploymentsOf("production", testSHA), 1)
		assert.Equal(t, 2, len(h.gh.dispatchs))

		// Validated after the rollback: a re-run without force is complete, not refused.
		h.tweak = nil
		writes := len(h.gh.writes)
		r = h.mustRun()
		assert.Equal(t, outcome.Pass, r.Verdict, r.Reason)
		assert.True(t, r.AlreadyComplete)
		assert.Len(t, h.gh.writes, writes)
	})
}

func TestReleaseVersion(t *testing.T) {
	tests := []struct {
		name       string
		file       string // version-file ("" = default)
		content    *string
		wantReason string
		wantTag    string
	}{
		{name: "package.json", content: ptr(`{"version": "2.0.0-beta.1"}`), wantTag: "v2.0.0-beta.1-rc.1"},
		{name: "another version file", file: "apps/gateway/package.json", content: ptr(`{"version":"3.1.4"}`), wantTag: "v3.1.4-rc.1"},
		{
			name: "missing file",
			wantReason: `tags.candidate (v{version}-rc.{n}) uses {version}, but package.json does not exist at 0123456: add it with a "version" field, ` +
				`set tags.version-file to the file that has one, or use a template without {version}`,
		},
		{
			name:       "no version field",
			content:    ptr(`{"name":"agentme"}`),
			wantReason: `tags.candidate (v{version}-rc.{n}) uses {version}, but package.json at 0123456 has no "version" field: add one, or use a template without {version}`,
		},
		{
			name:       "version not a string",
			content:    ptr(`{"version": 3}`),
			wantReason: `tags.candidate (v{version}-rc.{n}) uses {version}, but "version" in package.json at 0123456 is not a non-empty string: set it, like "1.2.3"`,
		},
		{
			name:       "not JSON",
			content:    ptr(`version: 1.2.3`),
			wantReason: `tags.candidate (v{version}-rc.{n}) uses {version}, but package.json at 0123456 is not a JSON object (invalid character 'v' looking for beginning of value): fix the file or set tags.version-file`,
		},
		{
			name:       "version git refuses in a tag",
			content:    ptr(`{"version": "1.2 .3"}`),
			wantReason: `the candidate tag would be "v1.2 .3-rc.1", which git refuses (it contains ' '): fix the template or the version`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, inWindow)
			h.cfg.Environments = nil
			delete(h.gh.files, "package.json@"+testSHA)
			file := "package.json"
			if tt.file != "" {
				h.cfg.Tags.VersionFile, file = tt.file, tt.file
			}
			if tt.content != nil {
				h.gh.files[file+"@"+testSHA] = *tt.content
			}
			r := h.mustRun()
			if tt.wantReason != "" {
				assert.Equal(t, outcome.Fail, r.Verdict)
				assert.Equal(t, tt.wantReason, r.Reason)
				assert.Empty(t, h.gh.writes)
				assert.Equal(t, []string{"gate: not run", "candidate tag: fail", "monitor: not run", "release tag: not run"}, stepResults(r))
				assert.Zero(t, h.gateCalls, "a release that cannot be named is not gated")
				return
			}
			assert.Equal(t, outcome.Pass, r.Verdict, r.Reason)
			assert.Equal(t, tt.wantTag, r.Tag)
			assert.Equal(t, []string{"tag " + tt.wantTag + " 0123456", "tag " + strings.TrimSuffix(tt.wantTag, "-rc.1") + " 0123456",
				"release " + strings.TrimSuffix(tt.wantTag, "-rc.1") + " prerelease=false"}, h.gh.writes)
		})
	}
	t.Run("templates without {version} read no file", func(t *testing.T) {
		h := newHarness(t, at("2026-11-24 02:10"))
		h.cfg.Environments = nil
		h.cfg.Tags.Candidate, h.cfg.Tags.Release = "rc-{date}.{n}", "release-{date}-{sha7}"
		r := h.mustRun()
		require.Equal(t, outcome.Pass, r.Verdict, r.Reason)
		assert.Zero(t, h.gh.count("FileContent"))
		assert.Equal(t, "rc-20261123.1", r.Tag, "{date} is the UTC date")
		assert.Equal(t, "release-20261123-0123456", r.ReleaseTag)
	})
}

func ptr[T any](v T) *T { return &v }

func TestReleaseAPIErrorThenResume(t *testing.T) {
	h := newHarness(t, inWindow)
	h.gh.FailNext("CreateDeployment", errors.New("POST /repos/agentme/agentme/deployments: 502 Bad Gateway (after 5 attempts)"))
	r, err := h.run()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "create deployment for staging@0123456")
	require.NotNil(t, r)
	assert.Equal(t, outcome.Error, r.Verdict)
	assert.Equal(t, allSteps("pass", "pass", "error", "not run"), stepResults(r))
	assert.Contains(t, r.Reason, "run it again: it resumes from what GitHub records")

	r = h.mustRun()
	assert.Equal(t, outcome.Pass, r.Verdict, r.Reason)
	assert.Equal(t, []string{"v1.2.3-rc.1"}, h.gh.tagsAt(testSHA, "v1.2.3-rc."))
	assert.Len(t, h.gh.deploymentsOf("staging", testSHA), 1)
	assert.Len(t, h.gh.deploymentsOf("production", testSHA), 1)
}

func TestReleaseOptionalParts(t *testing.T) {
	t.Run("no monitor given: not configured, release still made", func(t *testing.T) {
		h := newHarness(t, inWindow)
		h.noMonitor = true
		r := h.mustRun()
		require.Equal(t, outcome.Pass, r.Verdict, r.Reason)
		assert.Equal(t, StepNotConfigured, r.Step("monitor production").Result)
		assert.Equal(t, "production has a monitor: block, but this run has no monitor to run it", r.Step("monitor production").Detail)
		assert.Contains(t, h.gh.tags, "v1.2.3")
	})
	t.Run("no gate given: skipped", func(t *testing.T) {
		h := newHarness(t, inWindow)
		h.tweak = func(o *Options) { o.Gate = nil }
		r := h.mustRun()
		require.Equal(t, outcome.Pass, r.Verdict, r.Reason)
		assert.Equal(t, StepSkipped, r.Step("gate").Result)
	})
	t.Run("candidate pre-release and explicit tag", func(t *testing.T) {
		h := newHarness(t, inWindow)
		h.cfg.Tags.Prerelease = true
		h.tweak = func(o *Options) { o.Tag = "agentme-2026-11-24" }
		r := h.mustRun()
		require.Equal(t, outcome.Pass, r.Verdict, r.Reason)
		assert.Equal(t, "agentme-2026-11-24", r.Tag)
		assert.Equal(t, serverURL+repoPath+"/releases/tag/agentme-2026-11-24", r.PrereleaseURL)
		require.Len(t, h.gh.releaseRq, 2)
		assert.Equal(t, github.ReleaseRequest{TagName: "agentme-2026-11-24", Target: testSHA, Name: "agentme-2026-11-24",
			Body:       "Release candidate agentme-2026-11-24 of " + testSHA + ".\n\nRelease run: " + releaseRunURL + "\n",
			Prerelease: true, GenerateNotes: true, MakeLatest: "false"}, h.gh.releaseRq[0])
		assert.Equal(t, "release v1.2.3 prerelease=false", h.gh.writes[len(h.gh.writes)-1])
	})
	t.Run("release tag made but GitHub release missing: it is made on the re-run", func(t *testing.T) {
		h := newHarness(t, inWindow)
		h.gh.FailNext("CreateRelease", errors.New("POST /repos/agentme/agentme/releases: 500 Internal Server Error"))
		_, err := h.run()
		require.Error(t, err)
		require.Contains(t, h.gh.tags, "v1.2.3")

		r := h.mustRun()
		require.Equal(t, outcome.Pass, r.Verdict, r.Reason)
		assert.False(t, r.AlreadyComplete)
		assert.Equal(t, allSteps("pass", "reused", "reused", "reused", "reused", "reused", "reused", "reused", "reused"), stepResults(r))
		assert.Equal(t, 1, h.monitorCalls, "the release tag exists only after the monitor passed")
		assert.Equal(t, "release v1.2.3 prerelease=false", h.gh.writes[len(h.gh.writes)-1])
		assert.Equal(t, serverURL+repoPath+"/releases/tag/v1.2.3", r.ReleaseURL)
	})
	t.Run("existing GitHub release gets the new body", func(t *testing.T) {
		h := newHarness(t, inWindow)
		h.gh.addTag("v1.2.3", testSHA)
		h.gh.releases["v1.2.3"] = github.Release{ID: 9, TagName: "v1.2.3", Body: "old", HTMLURL: serverURL + repoPath + "/releases/tag/v1.2.3"}
		r := h.mustRun()
		require.Equal(t, outcome.Pass, r.Verdict, r.Reason)
		assert.Equal(t, "release body v1.2.3", h.gh.writes[len(h.gh.writes)-1])
		assert.Equal(t, "summary: pass v1.2.3 of "+testSHA, h.gh.releases["v1.2.3"].Body)
		assert.Equal(t, StepReused, r.Step("release tag").Result)
	})
	t.Run("no GitHub release configured", func(t *testing.T) {
		h := newHarness(t, inWindow)
		*h.cfg.Tags.GitHubRelease = false
		r := h.mustRun()
		require.Equal(t, outcome.Pass, r.Verdict, r.Reason)
		assert.Zero(t, h.gh.count("CreateRelease"))
		assert.Empty(t, r.ReleaseURL)
		writes := len(h.gh.writes)
		r = h.mustRun()
		assert.True(t, r.AlreadyComplete)
		assert.Len(t, h.gh.writes, writes)
	})
	t.Run("environment without smoke probes is validated without them", func(t *testing.T) {
		h := newHarness(t, inWindow)
		h.cfg.Environments[0].Smoke = nil
		r := h.mustRun()
		require.Equal(t, outcome.Pass, r.Verdict, r.Reason)
		assert.Equal(t, StepSkipped, r.Step("validate staging").Result)
		assert.Zero(t, h.smokeCalls["staging"])
		assert.Contains(t, h.gh.writes, `status staging success "release-action: deployed and validated"`)
	})
}

func TestOptionsCheck(t *testing.T) {
	good := func() Options {
		return Options{Config: testConfig(), SHA: testSHA, Clock: newFake(t, inWindow).clk,
			Smoke: func(context.Context, config.Environment) (*smoke.Report, error) { return nil, nil }}
	}
	tests := []struct {
		name   string
		change func(*Options)
		want   string
	}{
		{"short sha", func(o *Options) { o.SHA = "0123456" }, `the commit "0123456" is not a full 40-character SHA; resolve it first`},
		{"no config", func(o *Options) { o.Config = nil }, "no configuration"},
		{"no clock", func(o *Options) { o.Clock = nil }, "no clock"},
		{"force without reason", func(o *Options) { o.ForceWindow, o.ForceReason = true, " " }, "force-window needs force-reason"},
		{"bad explicit tag", func(o *Options) { o.Tag = "v1..2" }, `the tag "v1..2" is not a valid tag name: it contains '..'`},
		{"bad template", func(o *Options) { o.Config.Tags.Release = "v{ver}" }, "tags.release: tag template \"v{ver}\" uses the unknown placeholder {ver}"},
		{"smoke list without runner", func(o *Options) { o.Smoke = nil }, "environment staging lists smoke probes but no smoke runner was given"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := good()
			require.NoError(t, o.check(newFake(t, inWindow)))
			tt.change(&o)
			err := o.check(newFake(t, inWindow))
			require.ErrorIs(t, err, outcome.ErrBadInput)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestReleaseFailureRecords(t *testing.T) {
	t.Run("smoke failure marks the deployment", func(t *testing.T) {
		h := newHarness(t, inWindow)
		h.smokeFails["staging"] = 1
		r := h.mustRun()
		require.Equal(t, outcome.Fail, r.Verdict)
		assert.Equal(t, `status staging failure "release-action: smoke failed: probe channel: no reply within 30s"`, h.gh.writes[len(h.gh.writes)-1])
		st := h.gh.Statuses(r.Environments[0].Deploy.DeploymentID)
		assert.Equal(t, releaseRunURL, st[len(st)-1].LogURL, "the smoke ran in the release run")
		assert.False(t, r.Environments[0].Smoke.Passed())
	})
	t.Run("monitor rolled back", func(t *testing.T) {
		h := newHarness(t, inWindow)
		h.tweak = func(o *Options) {
			o.Monitor = func(context.Context, config.Environment, int64) (*MonitorOutcome, error) {
				return &MonitorOutcome{Monitor: &monitor.Result{Verdict: "fail", Reason: "3 bad intervals of auth errors"}, Rollback: &rollback.Result{Verdict: "pass"}}, nil
			}
		}
		r := h.mustRun()
		assert.Equal(t, outcome.Fail, r.Verdict)
		assert.Equal(t, "the post-release monitor of production failed: 3 bad intervals of auth errors; production was rolled back, "+
			"and re-deploying this commit there needs force: true", r.Reason)
		assert.Equal(t, "3 bad intervals of auth errors; production was rolled back", r.Step("monitor production").Detail)
		assert.True(t, r.Environments[1].Monitor.RolledBack())
		assert.NotContains(t, h.gh.tags, "v1.2.3")
	})
	t.Run("gate error is an error, not a verdict", func(t *testing.T) {
		h := newHarness(t, inWindow)
		h.tweak = func(o *Options) {
			o.Gate = func(context.Context) (*gate.Result, error) {
				return nil, errors.New("snapshot of 0123456: GitHub API rate limit exhausted")
			}
		}
		r, err := h.run()
		require.Error(t, err)
		assert.Equal(t, "gate on 0123456: snapshot of 0123456: GitHub API rate limit exhausted", err.Error())
		assert.Equal(t, outcome.Error, r.Verdict)
		assert.Equal(t, StepError, r.Step("gate").Result)
		assert.Empty(t, h.gh.writes)
	})
}
