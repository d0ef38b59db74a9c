package config

import (
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

// Default values of keys a file may leave out.
const (
	defaultSkipped            = "fail"
	defaultNeutral            = "pass"
	defaultTimeout            = Duration(45 * time.Minute)
	defaultAppearTimeout      = Duration(5 * time.Minute)
	defaultCandidate          = "v{version}-rc.{n}"
	defaultRelease            = "v{version}"
	defaultVersionFile        = "package.json"
	defaultDeployWorkflow     = "deploy.yml"
	defaultReporter           = "auto"
	defaultEnvironmentTimeout = Duration(30 * time.Minute)
	defaultMonitorDuration    = Duration(45 * time.Minute)
	defaultMonitorInterval    = Duration(time.Minute)
	defaultSustained          = 3
	defaultNoData             = "fail"
)

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
		{Name: "check", Check: "check", Workflow: "CI"},
		{Name: "Security Gate", Workflow: "Security Gate"},
		{Name: "Install Smoke", Workflow: "Install Smoke", Dispatch: true},
		{Name: "Targeted bootstrap/auth regressions", Tests: &TestsGate{
			Workflow: "Security Gate",
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

// fill puts defaults in every key that was not written in the file (written reports that
// by path; nil means nothing was written). Written zero values stay, so that validation
// can refuse them instead of silently replacing them. It also writes weekdays in their
// canonical short form (Mon..Sun).
func fill(c *Config, written map[string]pos) {
	absent := func(path string) bool { _, ok := written[path]; return !ok }
	setStr := func(dst *string, path, def string) {
		if *dst == "" && absent(path) {
			*dst = def
		}
	}
	setDur := func(dst *Duration, path string, def Duration) {
		if *dst == 0 && absent(path) {
			*dst = def
		}
	}
	yes := func() *bool { b := true; return &b }

	if c.Gates == nil && absent("gates") {
		c.Gates = defaultGates()
	}
	for i := range c.Gates {
		if t := c.Gates[i].Tests; t != nil {
			setStr(&t.Reporter, index("gates", i)+".tests.reporter", defaultReporter)
		}
	}

	setStr(&c.Policy.Skipped, "policy.skipped", defaultSkipped)
	setStr(&c.Policy.Neutral, "policy.neutral", defaultNeutral)
	setDur(&c.Policy.Timeout, "policy.timeout", defaultTimeout)
	setDur(&c.Policy.AppearTimeout, "policy.appear-timeout", defaultAppearTimeout)
	if c.Policy.FailFast == nil {
		c.Policy.FailFast = yes()
	}

	setStr(&c.Tags.Candidate, "tags.candidate", defaultCandidate)
	setStr(&c.Tags.Release, "tags.release", defaultRelease)
	setStr(&c.Tags.VersionFile, "tags.version-file", defaultVersionFile)
	if c.Tags.GitHubRelease == nil {
		c.Tags.GitHubRelease = yes()
	}

	setStr(&c.Deploy.Workflow, "deploy.workflow", defaultDeployWorkflow)

	if c.Rollback.StopRollout == nil {
		c.Rollback.StopRollout = yes()
	}
	setDur(&c.Rollback.StopGrace, "rollback.stop-grace", Duration(DefaultStopGrace))
	setDur(&c.Rollback.StopTimeout, "rollback.stop-timeout", Duration(DefaultStopTimeout))

	for i := range c.Environments {
		e := &c.Environments[i]
		p := index("environments", i)
		setDur(&e.Timeout, p+".timeout", defaultEnvironmentTimeout)
		if e.Smoke == nil && absent(p+".smoke") {
			e.Smoke = AllProbes()
		}
		if w := e.Window; w != nil {
			for j := range w.Weekly {
				for k, day := range w.Weekly[j].Days {
					if wd, ok := parseWeekday(day); ok {
						w.Weekly[j].Days[k] = wd.String()[:3]
					}
				}
			}
		}
		if m := e.Monitor; m != nil {
			mp := p + ".monitor"
			setDur(&m.Duration, mp+".duration", defaultMonitorDuration)
			setDur(&m.Interval, mp+".interval", defaultMonitorInterval)
			if m.Sustained == 0 && absent(mp+".sustained") {
				m.Sustained = defaultSustained
			}
			setStr(&m.NoData, mp+".no-data", defaultNoData)
			if m.Smoke == nil && absent(mp+".smoke") {
				m.Smoke = RollbackProbes()
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
