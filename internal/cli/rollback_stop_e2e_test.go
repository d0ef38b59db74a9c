package cli_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/cli"
	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/ghemu"
	"github.com/agentme/release-action/internal/sandbox"
)

// webhookReceiver is a real HTTP receiver on loopback standing in for Slack and an
// incident tool.
type webhookReceiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	bodies map[string]string
}

func newWebhookReceiver(t *testing.T) *webhookReceiver {
	r := &webhookReceiver{bodies: map[string]string{}}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.bodies[req.URL.Path] = string(b)
		r.mu.Unlock()
		if strings.Contains(req.URL.Path, "down") {
			http.Error(w, "upstream down at "+req.URL.Path, http.StatusBadGateway)
			return
		}
		w.Write([]byte("ok"))
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *webhookReceiver) body(path string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.bodies[path]
}

// TestRollbackDuringRelease: on-call rolls production back while the release is in its
// monitor and its deploy run still runs. The rollback cancels both (never its own run),
// marks the interrupted record, rolls back to the last known good, validates it, and
// announces it to the webhooks, one of which is down; no secret or webhook URL shows.
func TestRollbackDuringRelease(t *testing.T) {
	for _, stubborn := range []bool{false, true} {
		t.Run(fmt.Sprintf("ignores-cancel=%v", stubborn), func(t *testing.T) {
			rcv := newWebhookReceiver(t)
			slackURL := rcv.srv.URL + "/services/T0AGENT/B0ME/slackSECRETpath0123"
			jsonURL := rcv.srv.URL + "/hooks/incident?key=jsonSECRETkey4567"
			downURL := rcv.srv.URL + "/down/downSECRETpath89ab"
			var ro sandbox.Rollout
			h := newRollbackHarness(t, func(w *sandbox.World) {
				ro = sandbox.ReleaseInMonitor(w, stubborn)
				w.Config.Announce.Webhooks = []config.Webhook{{Env: "SLACK_WEBHOOK_URL", Format: "slack"}, {Env: "INCIDENT_WEBHOOK", Format: "json"}, {Env: "DOWN_WEBHOOK", Format: "slack"}}
			})
			h.env["GITHUB_RUN_ID"] = fmt.Sprint(ro.Rollback)
			h.env["SLACK_WEBHOOK_URL"] = slackURL
			h.env["INCIDENT_WEBHOOK"] = jsonURL
			h.env["DOWN_WEBHOOK"] = downURL
			h.env["INPUT_OPEN-ISSUE"] = "true"

			r := h.runFresh()
			require.Equal(t, cli.ExitOK, r.code, r.stdout)
			assert.Equal(t, "pass", r.outputs["result"])
			assert.Equal(t, sandbox.PreviousTag, r.outputs["tag"])

			// Both runs of the rollout were cancelled, the rollback's own never.
			cancelled := map[int64]bool{}
			forced := false
			for _, c := range h.emu.Cancels() {
				require.NotEqual(t, ro.Rollback, c.RunID, "the rollback cancelled its own run")
				cancelled[c.RunID] = true
				forced = forced || c.Force
			}
			assert.True(t, cancelled[ro.Release], "the release run in its monitor is cancelled")
			assert.True(t, cancelled[ro.Deploy], "the deploy run is cancelled")
			assert.Equal(t, stubborn, forced, "force-cancel only for a run that ignores the cancel")
			for _, id := range []int64{ro.Release, ro.Deploy} {
				st, concl := h.emu.RunStatus(id)
				assert.Equal(t, "completed", st)
				assert.Equal(t, "cancelled", concl)
			}
			st, _ := h.emu.RunStatus(ro.Rollback)
			assert.Equal(t, "in_progress", st)

			// The interrupted record is marked; the bad one rolled back; production runs the target.
			for _, d := range h.emu.Deployments() {
				last := d.Statuses[len(d.Statuses)-1]
				switch d.ID {
				case ro.JobRecord:
					assert.Equal(t, "error", last.State)
					assert.Equal(t, "release-action: stopped by rollback: on-call: auth errors after the release", last.Description)
				case ro.Record:
					assert.Equal(t, "failure", last.State)
					assert.Contains(t, last.Description, "rolled back")
				}
			}
			d, state := newestProduction(h.emu)
			assert.Equal(t, sandbox.Previous, d.SHA)
			assert.Equal(t, "success", state)

			// The report and the summary say what was stopped.
			var rep struct {
				Rollback struct {
					Stop struct {
						Runs []struct {
							ID     int64  `json:"id"`
							URL    string `json:"url"`
							Forced bool   `json:"forced"`
							Took   string `json:"took"`
						} `json:"runs"`
						Records []struct {
							ID     int64 `json:"id"`
							Marked bool  `json:"marked"`
						} `json:"records"`
					} `json:"stop"`
				} `json:"rollback"`
			}
			require.NoError(t, json.Unmarshal([]byte(r.outputs["report"]), &rep))
			require.Len(t, rep.Rollback.Stop.Runs, 2)
			require.Len(t, rep.Rollback.Stop.Records, 1)
			assert.Equal(t, ro.JobRecord, rep.Rollback.Stop.Records[0].ID)
			assert.Contains(t, r.summary, "Stopped first")
			assert.Contains(t, r.summary, fmt.Sprintf("/actions/runs/%d)", ro.Deploy))

			// Announced: Slack text and the report JSON; the down webhook is a warning.
			assert.Contains(t, rcv.body("/services/T0AGENT/B0ME/slackSECRETpath0123"), "Rollback of production")
			assert.Contains(t, rcv.body("/services/T0AGENT/B0ME/slackSECRETpath0123"), "Stopped first")
			assert.Contains(t, rcv.body("/hooks/incident"), `"command":"rollback"`)
			var warned bool
			for _, c := range r.commands() {
				if c.Name == "warning" && strings.Contains(c.Data, "DOWN_WEBHOOK") {
					warned = true
					assert.Contains(t, c.Data, "502")
				}
			}
			assert.True(t, warned, "a failed webhook is a warning")

			for _, path := range []string{"/services/T0AGENT/B0ME/slackSECRETpath0123", "/hooks/incident"} {
				for _, secret := range []string{knownToken, sandbox.ProductionToken, sandbox.StagingToken, "SECRET"} {
					assert.NotContains(t, rcv.body(path), secret, "a secret reached webhook %s", path)
				}
			}
			r.noGatewaySecret(t)
			r.noSecret(t, slackURL, jsonURL, downURL, "slackSECRETpath0123", "jsonSECRETkey4567", "downSECRETpath89ab")
			issues := h.emu.Issues()
			require.Len(t, issues, 1)
			assert.NotContains(t, issues[0].Body, "SECRET")
			if !stubborn {
				golden(t, "rollback-during-release.md", r.summary)
			}
		})
	}
}

// TestRollbackStopRolloutOff keeps the old refusal: nothing is cancelled.
func TestRollbackStopRolloutOff(t *testing.T) {
	var ro sandbox.Rollout
	h := newRollbackHarness(t, func(w *sandbox.World) {
		ro = sandbox.ReleaseInMonitor(w, false)
		off := false
		w.Config.Rollback.StopRollout = &off
	})
	h.env["GITHUB_RUN_ID"] = fmt.Sprint(ro.Rollback)
	r := h.runFresh()
	require.Equal(t, cli.ExitFailed, r.code, r.stdout)
	assert.Contains(t, r.outputs["report"], "stop that deploy first")
	assert.Empty(t, h.emu.Cancels())
}

// TestRollbackUnstoppable: a run still going at stop-timeout fails the rollback with exit 1
// naming the run, and nothing is deployed.
func TestRollbackUnstoppable(t *testing.T) {
	var ro sandbox.Rollout
	h := newRollbackHarness(t, func(w *sandbox.World) {
		ro = sandbox.ReleaseInMonitor(w, true)
		w.Config.Rollback.StopTimeout = config.Duration(30_000_000_000)
	})
	h.env["GITHUB_RUN_ID"] = fmt.Sprint(ro.Rollback)
	before := len(h.emu.Deployments())
	r := h.runFresh()
	require.Equal(t, cli.ExitFailed, r.code, r.stdout)
	assert.Equal(t, "fail", r.outputs["result"])
	assert.Contains(t, r.outputs["report"], fmt.Sprintf("run %d", ro.Deploy))
	assert.Len(t, h.emu.Deployments(), before, "nothing deployed while a deploy still runs")
	for _, d := range h.emu.Deployments() {
		if d.ID == ro.JobRecord {
			assert.Equal(t, "in_progress", d.Statuses[len(d.Statuses)-1].State, "a record whose run still goes is not marked stopped")
		}
	}
}

// TestRollbackFollowsMonitorRollback: the release's own monitor is rolling production back
// when on-call starts a rollback; the second follows the first instead of starting another
// or cancelling the release run that does it.
func TestRollbackFollowsMonitorRollback(t *testing.T) {
	var ro sandbox.Rollout
	var other int64
	h := newRollbackHarness(t, func(w *sandbox.World) {
		ro = sandbox.ReleaseInMonitor(w, false)
		// The monitor's rollback (made by the release run) is deploying the previous tag.
		deployRun := w.GitHub.AddRun(ghemu.WorkflowDeploy, sandbox.Previous, "workflow_dispatch", ghemu.DeployJob("production", false))
		other = w.GitHub.AddDeploymentRecord(ghemu.DeploymentSpec{
			Environment: "production", SHA: sandbox.Previous, Ref: sandbox.PreviousTag, Production: true,
			Description: "release-action: " + sandbox.PreviousTag,
			Payload: map[string]any{"release_action": 1, "commit": sandbox.Previous, "tag": sandbox.PreviousTag,
				"run_url": w.GitHub.RunHTMLURL(ro.Release), "rollback": true, "rollback_from": sandbox.Candidate, "reason": "monitor: tool-call"},
			Statuses: []ghemu.DeploymentStatusSpec{{State: "in_progress", Description: fmt.Sprintf("release-action: deploying (run %d)", deployRun.ID), LogURL: w.GitHub.RunHTMLURL(deployRun.ID)}},
		})
	})
	h.env["GITHUB_RUN_ID"] = fmt.Sprint(ro.Rollback)
	// The monitor's rollback validates its deployment while the second rollback follows it:
	// on the fifth read of that record's statuses (the third while following).
	reads := 0
	statusPath := fmt.Sprintf("/deployments/%d/statuses", other)
	h.transport = func(req *http.Request) {
		if req.Method == http.MethodGet && strings.HasSuffix(req.URL.Path, statusPath) {
			if reads++; reads == 5 {
				h.emu.AddDeploymentStatus(other, "success", "release-action: deployed and validated")
			}
		}
	}
	r := h.runFresh()
	require.Equal(t, cli.ExitOK, r.code, r.stdout)
	assert.Empty(t, h.emu.Cancels(), "following cancels nothing")
	assert.Contains(t, r.outputs["report"], `"followed"`)
	assert.Contains(t, r.summary, "Followed")
	d, _ := newestProduction(h.emu)
	assert.Equal(t, other, d.ID, "no second rollback deployment")
	r.noGatewaySecret(t)
	golden(t, "rollback-follows-monitor.md", r.summary)
}
