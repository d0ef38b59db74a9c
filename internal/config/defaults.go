package config

import (
	"reflect"
	"strings"
	"time"
)

// DefaultPath is where the configuration file is looked for when no path is given.
const DefaultPath = ".github/release-action.yml"

// The smoke probes, by the names the configuration uses.
const (
	ProbeConnectAuth = "connect-auth"
	ProbeControlUI   = "control-ui"
	ProbeChannel     = "channel"
	ProbeBootstrap   = "bootstrap"
	ProbeToolCall    = "tool-call"
)

// AllProbes are the five smoke probes in the order they run: an environment's default.
func AllProbes() []string {
	return []string{ProbeConnectAuth, ProbeControlUI, ProbeChannel, ProbeBootstrap, ProbeToolCall}
}

// RollbackProbes are the runbook's post-rollback subset (connect/auth, channel send/receive,
// basic tool call), also the default of Monitor.Smoke.
func RollbackProbes() []string {
	return []string{ProbeConnectAuth, ProbeChannel, ProbeToolCall}
}

// Default is the built-in Agent Me configuration used when the file is absent: the four
// gates and the policy of the runbook, the default tag templates and deploy workflow, and
// no environments.
func Default() *Config {
	c := &Config{Gates: defaultGates()}
	fill(c, nil)
	return c
}

func defaultGates() []Gate {
	return []Gate{
		// Workflows by file, never by name: another file may declare the same name.
		{Name: "check", Check: "check", Workflow: ".github/workflows/ci.yml"},
		{Name: "Security Gate", Workflow: ".github/workflows/security-gate.yml"},
		{Name: "Install Smoke", Workflow: ".github/workflows/install-smoke.yml", Dispatch: true},
		{Name: "Targeted bootstrap/auth regressions", Tests: &TestsGate{
			Workflow: ".github/workflows/security-gate.yml",
			Job:      "hardening",
			Step:     "Security regression tests",
			Files: []string{
				"src/gateway/auth.test.ts",
				"src/gateway/tools-invoke-http.test.ts",
				"src/gateway/server-http.bootstrap.test.ts",
			},
		}},
	}
}

// fill puts defaults (from the table) in every key that was not written in the file
// (written reports that by path; nil means nothing was written). Written zero values
// stay, so that validation can refuse them instead of silently replacing them. It also
// writes weekdays in their canonical short form (Mon..Sun).
func fill(c *Config, written map[string]pos) {
	fillKeys("", keys, reflect.ValueOf(c).Elem(), func(path string) bool { _, ok := written[path]; return !ok })
	for _, e := range c.Environments {
		if w := e.Window; w != nil {
			for j := range w.Weekly {
				for k, day := range w.Weekly[j].Days {
					if wd, ok := parseWeekday(day); ok {
						w.Weekly[j].Days[k] = wd.String()[:3]
					}
				}
			}
		}
	}
}

// parseWeekday reads Mon, monday, MON, ... (English names or their first three letters).
func parseWeekday(s string) (time.Weekday, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if len(s) < 3 {
		return 0, false
	}
	for wd := time.Sunday; wd <= time.Saturday; wd++ {
		name := strings.ToLower(wd.String())
		if s == name || s == name[:3] {
			return wd, true
		}
	}
	return 0, false
}
