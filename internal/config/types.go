package config

import "time"

// Config is the effective configuration of release-action: the parsed
// .github/release-action.yml, or the built-in Agent Me defaults when the file is absent.
// Every duration is already parsed; every list is already validated.
type Config struct {
	// Source is the file the configuration came from, or "" for the built-in defaults.
	Source       string        `yaml:"-" json:"-"`
	Gates        []Gate        `yaml:"gates" json:"gates"`
	Policy       Policy        `yaml:"policy" json:"policy"`
	Tags         Tags          `yaml:"tags" json:"tags"`
	Deploy       Deploy        `yaml:"deploy" json:"deploy"`
	Environments []Environment `yaml:"environments" json:"environments"`
	Owners       Owners        `yaml:"owners" json:"owners"`
	Rollback     Rollback      `yaml:"rollback,omitempty" json:"rollback,omitempty"`
	Announce     Announce      `yaml:"announce,omitempty" json:"announce,omitempty"`
}

// Gate is one pre-release gate. Exactly one of Check, Workflow (without Tests) or Tests is
// the kind: a gate with Check set is a check gate (Workflow then only restricts it); a gate
// with Tests set is a tests gate; otherwise a gate with Workflow set is a workflow gate.
type Gate struct {
	Name string `yaml:"name" json:"name"`
	// Check matches check-run names and commit status contexts: exact, glob (*, ?), or "re:<regexp>".
	Check string `yaml:"check,omitempty" json:"check,omitempty"`
	// Workflow is a workflow name (its `name:`). For a check gate it restricts matches to
	// check runs of that workflow; alone it makes a workflow gate.
	Workflow string `yaml:"workflow,omitempty" json:"workflow,omitempty"`
	// Dispatch lets a workflow gate dispatch the workflow on the candidate when it has no run there.
	Dispatch bool `yaml:"dispatch,omitempty" json:"dispatch,omitempty"`
	// Inputs are passed to the dispatched workflow (at most 25).
	Inputs map[string]string `yaml:"inputs,omitempty" json:"inputs,omitempty"`
	Tests  *TestsGate        `yaml:"tests,omitempty" json:"tests,omitempty"`
}

// Kind names what a gate is satisfied by.
type Kind string

// The gate kinds.
const (
	KindCheck    Kind = "check"
	KindWorkflow Kind = "workflow"
	KindTests    Kind = "tests"
)

// Kind reports the gate's kind (see Gate).
func (g Gate) Kind() Kind {
	switch {
	case g.Tests != nil:
		return KindTests
	case g.Check != "":
		return KindCheck
	default:
		return KindWorkflow
	}
}

// TestsGate locates test evidence: the log of Job in the latest run of Workflow, limited
// to Step, and/or a JUnit XML artifact of that run.
type TestsGate struct {
	Workflow string   `yaml:"workflow" json:"workflow"`
	Job      string   `yaml:"job" json:"job"`
	Step     string   `yaml:"step,omitempty" json:"step,omitempty"`
	Files    []string `yaml:"files" json:"files"`
	// JUnitArtifact names an artifact holding JUnit XML reports (a second source of evidence).
	JUnitArtifact string `yaml:"junit-artifact,omitempty" json:"junit-artifact,omitempty"`
	// Reporter is "auto" (default), "vitest" or "jest".
	Reporter string `yaml:"reporter,omitempty" json:"reporter,omitempty"`
}

// Policy is how conclusions and waiting are judged.
type Policy struct {
	// Skipped is "fail" (default) or "pass".
	Skipped string `yaml:"skipped" json:"skipped"`
	// Neutral is "pass" (default) or "fail".
	Neutral string `yaml:"neutral" json:"neutral"`
	// Timeout bounds the whole gate (default 45m).
	Timeout Duration `yaml:"timeout" json:"timeout"`
	// AppearTimeout is how long a gate may show no evidence at all before it fails closed (default 5m).
	AppearTimeout Duration `yaml:"appear-timeout" json:"appear-timeout"`
	// FailFast stops at the first definite failure (default true).
	FailFast *bool `yaml:"fail-fast,omitempty" json:"fail-fast,omitempty"`
	// Ignore lists check names (same matching as Gate.Check) never taken as evidence.
	Ignore []string `yaml:"ignore,omitempty" json:"ignore,omitempty"`
}

// ShouldFailFast reports the effective fail-fast setting.
func (p Policy) ShouldFailFast() bool { return p.FailFast == nil || *p.FailFast }

// Tags are the tag templates of a release.
type Tags struct {
	// Candidate is the release-candidate tag template (default "v{version}-rc.{n}").
	Candidate string `yaml:"candidate" json:"candidate"`
	// Release is the final tag template (default "v{version}").
	Release string `yaml:"release" json:"release"`
	// GitHubRelease makes a GitHub release for the final tag (default true).
	GitHubRelease *bool `yaml:"github-release,omitempty" json:"github-release,omitempty"`
	// Prerelease makes a GitHub pre-release for the candidate tag (default false).
	Prerelease bool `yaml:"prerelease,omitempty" json:"prerelease,omitempty"`
	// VersionFile is the JSON file whose "version" fills {version} (default package.json).
	VersionFile string `yaml:"version-file,omitempty" json:"version-file,omitempty"`
}

// Deploy is how a deployment is triggered.
type Deploy struct {
	// Workflow is the deploy workflow file dispatched with inputs environment, ref, deployment_id (default deploy.yml).
	Workflow string `yaml:"workflow" json:"workflow"`
	// Event "deployment" triggers through the deployment event instead (needs a token that can start workflows).
	Event string `yaml:"event,omitempty" json:"event,omitempty"`
}

// Environment is one deployment target, deployed in the order listed.
type Environment struct {
	Name        string   `yaml:"name" json:"name"`
	URL         string   `yaml:"url,omitempty" json:"url,omitempty"`
	TokenEnv    string   `yaml:"token-env,omitempty" json:"token-env,omitempty"`
	PasswordEnv string   `yaml:"password-env,omitempty" json:"password-env,omitempty"`
	Timeout     Duration `yaml:"timeout,omitempty" json:"timeout,omitempty"`
	Window      *Window  `yaml:"window,omitempty" json:"window,omitempty"`
	Smoke       []string `yaml:"smoke,omitempty" json:"smoke,omitempty"`
	Monitor     *Monitor `yaml:"monitor,omitempty" json:"monitor,omitempty"`
	// Origin for smoke probes (default: the URL's origin).
	Origin string `yaml:"origin,omitempty" json:"origin,omitempty"`
}

// Window is when an environment may be deployed.
type Window struct {
	Timezone string         `yaml:"timezone" json:"timezone"`
	Weekly   []WeeklyWindow `yaml:"weekly,omitempty" json:"weekly,omitempty"`
	Freeze   []Freeze       `yaml:"freeze,omitempty" json:"freeze,omitempty"`
	MaxWait  Duration       `yaml:"max-wait,omitempty" json:"max-wait,omitempty"`
}

// WeeklyWindow opens on Days from Start to End (HH:MM, local to the window's time zone;
// End at or before Start means the window runs past midnight).
type WeeklyWindow struct {
	Days  []string `yaml:"days" json:"days"`
	Start string   `yaml:"start" json:"start"`
	End   string   `yaml:"end" json:"end"`
}

// Freeze blocks deployments from From through To (dates YYYY-MM-DD inclusive, or RFC 3339 times).
type Freeze struct {
	From   string `yaml:"from" json:"from"`
	To     string `yaml:"to" json:"to"`
	Reason string `yaml:"reason,omitempty" json:"reason,omitempty"`
}

// Monitor is the post-release watch of an environment.
type Monitor struct {
	Duration     Duration    `yaml:"duration,omitempty" json:"duration,omitempty"`
	Interval     Duration    `yaml:"interval,omitempty" json:"interval,omitempty"`
	Sustained    int         `yaml:"sustained,omitempty" json:"sustained,omitempty"`
	AutoRollback bool        `yaml:"auto-rollback,omitempty" json:"auto-rollback,omitempty"`
	NoData       string      `yaml:"no-data,omitempty" json:"no-data,omitempty"`
	Smoke        []string    `yaml:"smoke,omitempty" json:"smoke,omitempty"`
	Prometheus   *Prometheus `yaml:"prometheus,omitempty" json:"prometheus,omitempty"`
}

// Prometheus is a Prometheus-compatible query API and the checks read from it.
type Prometheus struct {
	URL      string        `yaml:"url" json:"url"`
	TokenEnv string        `yaml:"token-env,omitempty" json:"token-env,omitempty"`
	Checks   []MetricCheck `yaml:"checks" json:"checks"`
}

// MetricCheck is a PromQL query whose value must stay within Min/Max.
type MetricCheck struct {
	Name  string   `yaml:"name" json:"name"`
	Query string   `yaml:"query" json:"query"`
	Max   *float64 `yaml:"max,omitempty" json:"max,omitempty"`
	Min   *float64 `yaml:"min,omitempty" json:"min,omitempty"`
}

// Owners are named in summaries.
type Owners struct {
	Release  string `yaml:"release,omitempty" json:"release,omitempty"`
	Security string `yaml:"security,omitempty" json:"security,omitempty"`
	OnCall   string `yaml:"on-call,omitempty" json:"on-call,omitempty"`
}

// Duration is the one duration type of the configuration and of every report: Go
// duration text without zero tails ("45m", "1h30m", "1m30s", "850ms") in YAML and JSON,
// so a report never mixes "45m" and "45m0s".
type Duration time.Duration

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }
