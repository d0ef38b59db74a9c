package smoke

import (
	"encoding/json"
	"time"

	"github.com/agentme/release-action/internal/config"
	vocab "github.com/agentme/release-action/internal/outcome"
)

// Report is the outcome of one smoke run. Its JSON field names are stable: they are
// part of the action's `report` output.
type Report struct {
	Verdict vocab.Verdict // vocab.Pass when every selected probe passed
	Gateway string        // base URL without user info, query or fragment
	// Ready is false when the gateway never came up within the readiness budget; the
	// probes were then not run and each carries the reason.
	Ready bool
	// ReadyAfter is how long the gateway took to accept a WebSocket handshake (0 when it
	// was up at once), or the budget spent when it never came up.
	ReadyAfter time.Duration
	Duration   time.Duration // whole run, readiness included
	SessionKey string        // chat session the channel probe wrote to (empty if it did not run)
	Probes     []ProbeResult
	Server     ServerInfo
}

// ProbeResult is the outcome of one probe.
type ProbeResult struct {
	Name     string
	OK       bool
	Latency  time.Duration // duration of the last attempt
	Attempts int           // 0 when the probe never ran (gateway not ready, run cancelled)
	// Detail tells an operator what was verified, or on failure what happened, why, and
	// what to look at. Gateway text in it is sanitized and secrets are redacted.
	Detail string
}

// ServerInfo is what the gateway said about itself in its first hello-ok.
type ServerInfo struct {
	Version  string
	ConnID   string
	UptimeMs int64
	// Restarted is true when a later connection of the same run saw a lower uptime (or
	// another version): the gateway restarted while it was being probed.
	Restarted bool
}

// Passed reports whether the verdict is a pass.
func (r *Report) Passed() bool { return r != nil && r.Verdict == vocab.Pass }

type reportJSON struct {
	Verdict    vocab.Verdict   `json:"verdict"`
	Gateway    string          `json:"gateway"`
	Ready      bool            `json:"ready"`
	ReadyAfter config.Duration `json:"ready_after"`
	Duration   config.Duration `json:"duration"`
	SessionKey string          `json:"session_key,omitempty"`
	Probes     []ProbeResult   `json:"probes"`
	Server     ServerInfo      `json:"server"`
}

// MarshalJSON writes durations as config.Duration text rounded to the millisecond
// ("1.5s", "250ms"), the one spelling of every report.
func (r Report) MarshalJSON() ([]byte, error) {
	probes := r.Probes
	if probes == nil {
		probes = []ProbeResult{}
	}
	return json.Marshal(reportJSON{
		Verdict: r.Verdict, Gateway: r.Gateway, Ready: r.Ready,
		ReadyAfter: ms(r.ReadyAfter), Duration: ms(r.Duration),
		SessionKey: r.SessionKey, Probes: probes, Server: r.Server,
	})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (r *Report) UnmarshalJSON(b []byte) error {
	var j reportJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*r = Report{
		Verdict: j.Verdict, Gateway: j.Gateway, Ready: j.Ready,
		ReadyAfter: j.ReadyAfter.D(),
		Duration:   j.Duration.D(),
		SessionKey: j.SessionKey, Probes: j.Probes, Server: j.Server,
	}
	return nil
}

type probeJSON struct {
	Name     string          `json:"name"`
	OK       bool            `json:"ok"`
	Latency  config.Duration `json:"latency"`
	Attempts int             `json:"attempts"`
	Detail   string          `json:"detail"`
}

// MarshalJSON writes name, ok, latency, attempts, detail.
func (p ProbeResult) MarshalJSON() ([]byte, error) {
	return json.Marshal(probeJSON{Name: p.Name, OK: p.OK, Latency: ms(p.Latency), Attempts: p.Attempts, Detail: p.Detail})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (p *ProbeResult) UnmarshalJSON(b []byte) error {
	var j probeJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*p = ProbeResult{Name: j.Name, OK: j.OK, Latency: j.Latency.D(), Attempts: j.Attempts, Detail: j.Detail}
	return nil
}

type serverJSON struct {
	Version   string          `json:"version,omitempty"`
	ConnID    string          `json:"conn_id,omitempty"`
	Uptime    config.Duration `json:"uptime"`
	Restarted bool            `json:"restarted"`
}

// MarshalJSON writes version, conn_id, uptime (the gateway's milliseconds as a
// config.Duration), restarted.
func (s ServerInfo) MarshalJSON() ([]byte, error) {
	return json.Marshal(serverJSON{Version: s.Version, ConnID: s.ConnID, Uptime: config.Duration(time.Duration(s.UptimeMs) * time.Millisecond), Restarted: s.Restarted})
}

// ms rounds a measured duration to the millisecond for the report.
func ms(d time.Duration) config.Duration { return config.Duration(d.Round(time.Millisecond)) }

// UnmarshalJSON reads what MarshalJSON writes.
func (s *ServerInfo) UnmarshalJSON(b []byte) error {
	var j serverJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*s = ServerInfo{Version: j.Version, ConnID: j.ConnID, UptimeMs: j.Uptime.D().Milliseconds(), Restarted: j.Restarted}
	return nil
}
