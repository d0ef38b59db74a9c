package cli_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/cli"
	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/sandbox"
)

// TestIncidentAnnouncesThroughTheRollbackWebhooks: opening and closing an incident tells
// the same webhooks the rollback tells (runbook 5 and 3.5): Slack-compatible text with the
// issue link, the announcement as JSON; a webhook that is down is a warning; no webhook
// URL appears in anything the action writes.
func TestIncidentAnnouncesThroughTheRollbackWebhooks(t *testing.T) {
	rcv := newWebhookReceiver(t)
	slackURL := rcv.srv.URL + "/services/T0AGENT/B0ME/slackSECRETpath0123"
	jsonURL := rcv.srv.URL + "/hooks/incident?key=jsonSECRETkey4567"
	downURL := rcv.srv.URL + "/down/downSECRETpath89ab"
	h := newReleaseHarness(t, time.Time{}, func(w *sandbox.World) {
		incidentLive(w)
		w.Config.Announce.Webhooks = []config.Webhook{{Env: "SLACK_WEBHOOK_URL", Format: "slack"}, {Env: "INCIDENT_WEBHOOK", Format: "json"}, {Env: "DOWN_WEBHOOK", Format: "slack"}}
	})
	h.env["SLACK_WEBHOOK_URL"], h.env["INCIDENT_WEBHOOK"], h.env["DOWN_WEBHOOK"] = slackURL, jsonURL, downURL
	h.env["GITHUB_ACTOR"] = "alice"
	h.clk.Advance(40 * time.Minute)

	r := runIncident(h, map[string]string{"action": "open", "severity": "attempted-abuse", "summary": "bootstrap codes replayed"})
	require.Equal(t, cli.ExitOK, r.code, r.stdout)
	slack := rcv.body("/services/T0AGENT/B0ME/slackSECRETpath0123")
	require.NotEmpty(t, slack, "the Slack-compatible webhook got the announcement")
	var text struct {
		Text string `json:"text"`
	}
	require.NoError(t, json.Unmarshal([]byte(slack), &text))
	assert.Contains(t, text.Text, "Incident #1 of production opened by alice")
	assert.Contains(t, text.Text, r.outputs["issue-url"])
	var an struct {
		Event, Severity, URL string
	}
	require.NoError(t, json.Unmarshal([]byte(rcv.body("/hooks/incident")), &an))
	assert.Equal(t, "incident-opened", an.Event)
	assert.Equal(t, "attempted-abuse", an.Severity)
	assert.Contains(t, r.stdout, "::warning", "the webhook that is down is a warning")
	var rep struct {
		Incident struct {
			Announced bool `json:"announced"`
		} `json:"incident"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.outputs["report"]), &rep))
	assert.True(t, rep.Incident.Announced)

	h.clk.Advance(time.Hour)
	r = runIncident(h, map[string]string{"action": "close", "root-cause": "replayed codes", "mitigations": "rotated", "follow-ups": "alerts"})
	require.Equal(t, cli.ExitOK, r.code, r.stdout)
	require.NoError(t, json.Unmarshal([]byte(rcv.body("/services/T0AGENT/B0ME/slackSECRETpath0123")), &text))
	assert.Contains(t, text.Text, "closed by alice")

	for _, secret := range []string{"slackSECRETpath0123", "jsonSECRETkey4567", "downSECRETpath89ab"} {
		for what, s := range map[string]string{"stdout": r.stdout, "stderr": r.stderr, "summary": r.summary, "report": r.outputs["report"]} {
			assert.NotContains(t, s, secret, "a webhook URL reached the %s", what)
		}
		for _, is := range h.emu.Issues() {
			assert.False(t, strings.Contains(is.Body, secret), "a webhook URL reached the issue")
		}
	}
}
