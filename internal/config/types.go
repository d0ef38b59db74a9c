package config

import (
	"encoding/json"
	"reflect"
	"time"
)

// Config is the effective configuration of release-action: the parsed
// .github/release-action.yml, or the built-in Agent Me defaults when the file is absent.
// Every duration is already parsed; every list is already validated. The keys each
// field is written as are declared in keys.go, nowhere else (no struct tags).
type Config struct {
	// Source is the file the configuration came from, or "" for the built-in defaults.
	Source       string
	Gates        []Gate
	Policy       Policy
	Tags         Tags
	Deploy       Deploy
	Environments []Environment
	Owners       Owners
}

// Gate is one pre-release gate. Exactly one of Check, Workflow (without Tests) or Tests is
// the kind: a gate with Check set is a check gate (Workflow then only restricts it); a gate
// with Tests set is a tests gate; otherwise a gate with Workflow set is a workflow gate.
type Gate struct {
	Name string
	// Check matches check-run names and commit status contexts: exact, glob (*, ?), or "re:<regexp>".
	Check string
	// Workflow is a workflow file (".github/workflows/ci.yml" or "ci.yml") or a name (its
	// `name:`, which exactly one file must declare). For a check gate it restricts matches to
	// check runs of that workflow; alone it makes a workflow gate.
	Workflow string
	// Dispatch lets a workflow gate dispatch the workflow on the candidate when it has no run there.
	Dispatch bool
	// Inputs are passed to the dispatched workflow (at most 25).
	Inputs map[string]string
	Tests  *TestsGate
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
	Workflow string
	Job      string
	Step     string
	Files    []string
	// JUnitArtifact names an artifact holding JUnit XML reports (a second source of evidence).
	JUnitArtifact string
	// Reporter is "auto" (default), "vitest" or "jest".
	Reporter string
}

// Policy is how conclusions and waiting are judged.
type Policy struct {
	// Skipped is "fail" (default) or "pass".
	Skipped string
	// Neutral is "pass" (default) or "fail".
	Neutral string
	// Timeout bounds the whole gate (default 45m).
	Timeout Duration
	// AppearTimeout is how long a gate may show no evidence at all before it fails closed (default 5m).
	AppearTimeout Duration
	// FailFast stops at the first definite failure (default true).
	FailFast *bool
	// Ignore lists check names (same matching as Gate.Check) never taken as evidence.
	Ignore []string
}

// ShouldFailFast reports the effective fail-fast setting.
func (p Policy) ShouldFailFast() bool { return p.FailFast == nil || *p.FailFast }

// Tags are the tag templates of a release.
type Tags struct {
	// Candidate is the release-candidate tag template (default "v{version}-rc.{n}").
	Candidate string
	// Release is the final tag template (default "v{version}").
	Release string
	// GitHubRelease makes a GitHub release for the final tag (default true).
	GitHubRelease *bool
	// Prerelease makes a GitHub pre-release for the candidate tag (default false).
	Prerelease bool
	// VersionFile is the JSON file whose "version" fills {version} (default package.json).
	VersionFile string
}

// Deploy is how a deployment is triggered.
type Deploy struct {
	// Workflow is the deploy workflow file dispatched with inputs environment, ref, deployment_id (default deploy.yml).
	Workflow string
	// Event "deployment" triggers through the deployment event instead (needs a token that can start workflows).
	Event string
}

// Environment is one deployment target, deployed in the order listed.
type Environment struct {
	Name        string
	URL         string
	TokenEnv    string
	PasswordEnv string
	Timeout     Duration
	Window      *Window
	Smoke       []string
	Monitor     *Monitor
	// Origin for smoke probes (default: the URL's origin).
	Origin string
}

// Window is when an environment may be deployed.
type Window struct {
	Timezone string
	Weekly   []WeeklyWindow
	Freeze   []Freeze
	MaxWait  Duration
}

// WeeklyWindow opens on Days from Start to End (HH:MM, local to the window's time zone;
// End at or before Start means the window runs past midnight).
type WeeklyWindow struct {
	Days  []string
	Start string
	End   string
}

// Freeze blocks deployments from From through To (dates YYYY-MM-DD inclusive, or RFC 3339 times).
type Freeze struct {
	From   string
	To     string
	Reason string
}

// Monitor is the post-release watch of an environment.
type Monitor struct {
	Duration     Duration
	Interval     Duration
	Sustained    int
	AutoRollback bool
	NoData       string
	Smoke        []string
	Prometheus   *Prometheus
}

// Prometheus is a Prometheus-compatible query API and the checks read from it.
type Prometheus struct {
	URL      string
	TokenEnv string
	Checks   []MetricCheck
}

// MetricCheck is a PromQL query whose value must stay within Min/Max.
type MetricCheck struct {
	Name  string
	Query string
	Max   *float64
	Min   *float64
}

// Owners are named in summaries. In JSON (reports) they are written with their keys,
// empty ones left out.
type Owners struct {
	Release  string
	Security string
	OnCall   string
}

// Duration is the one duration type of the configuration and of every report: Go
// duration text without zero tails ("45m", "1h30m", "1m30s", "850ms") in YAML and JSON,
// so a report never mixes "45m" and "45m0s".
type Duration time.Duration

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// MarshalJSON writes the owners with their configuration keys (see keys.go).
func (o Owners) MarshalJSON() ([]byte, error) {
	return json.Marshal(treeOf(fieldSpec(keys, "Owners").Keys, reflect.ValueOf(o)))
}
