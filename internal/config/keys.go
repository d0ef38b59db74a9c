package config

import "time"

// keys is every key of .github/release-action.yml, declared once. The table drives
// decoding (allowed keys, kinds, unknown-key suggestions), defaults, printing
// (`release-action config`), the generic checks of allowed values and duration ranges,
// and the JSON Schema (Schema). See the package doc for how to add a key.
var keys = []spec{
	{Name: "gates", Field: "Gates", Kind: vList, KeepEmpty: true, Default: defaultGates,
		What: "gates (mappings with a name and check, workflow or tests)",
		Doc:  "The pre-release gates, all of which must pass; replaces the built-in gates", Keys: []spec{
			{Name: "name", Field: "Name", Kind: vText, Required: true, Doc: "Unique name, shown in the summary and the check run"},
			{Name: "check", Field: "Check", Kind: vText, Doc: `Check-run name or commit status context: exact, glob (*, ?) or "re:<regexp>"`},
			{Name: "workflow", Field: "Workflow", Kind: vText, Doc: "Workflow file (.github/workflows/ci.yml, or ci.yml) or its name: (one file must declare it): alone, every check run of its latest run; with check, only its check runs count"},
			{Name: "dispatch", Field: "Dispatch", Kind: vBool, Doc: "A workflow gate with no run on the candidate dispatches the workflow there"},
			{Name: "inputs", Field: "Inputs", Kind: vTextMap, Doc: "Inputs of the dispatched workflow (at most 25)"},
			{Name: "tests", Field: "Tests", Kind: vObject, Doc: "Test evidence: named test files must run and pass in a job's log or JUnit reports", Keys: []spec{
				{Name: "workflow", Field: "Workflow", Kind: vText, Required: true, Doc: "Workflow file (or a name: one file declares) whose latest run holds the tests"},
				{Name: "job", Field: "Job", Kind: vText, Required: true, Doc: "Job that runs the tests"},
				{Name: "step", Field: "Step", Kind: vText, Doc: "Step of the job whose log is read (default: the whole job log)"},
				{Name: "files", Field: "Files", Kind: vTexts, Block: true, Required: true, What: "test file paths", Doc: "Test files that must run and pass"},
				{Name: "junit-artifact", Field: "JUnitArtifact", Kind: vText, Doc: "Artifact holding JUnit XML reports, a second source of evidence"},
				{Name: "reporter", Field: "Reporter", Kind: vText, Default: "auto", Enum: []string{"auto", "vitest", "jest"}, Doc: "Test runner whose log format is read"},
			}},
		}},
	{Name: "policy", Field: "Policy", Kind: vObject, Doc: "How conclusions and waiting are judged", Keys: []spec{
		{Name: "skipped", Field: "Skipped", Kind: vText, Default: "fail", Enum: []string{"fail", "pass"}, Doc: "What a skipped check counts as"},
		{Name: "neutral", Field: "Neutral", Kind: vText, Default: "pass", Enum: []string{"pass", "fail"}, Doc: "What a neutral check counts as"},
		{Name: "timeout", Field: "Timeout", Kind: vDuration, Default: Duration(45 * time.Minute), Min: time.Nanosecond, Max: maxJobTime, Doc: "Bound on the whole gate"},
		{Name: "appear-timeout", Field: "AppearTimeout", Kind: vDuration, Default: Duration(5 * time.Minute), Min: time.Nanosecond, Max: maxJobTime, Doc: "How long a gate may show no evidence at all before it fails closed"},
		{Name: "fail-fast", Field: "FailFast", Kind: vBool, Default: true, Doc: "Stop at the first definite failure"},
		{Name: "ignore", Field: "Ignore", Kind: vTexts, What: "check names", Doc: "Check names (matched like gates[].check) never taken as evidence"},
	}},
	{Name: "tags", Field: "Tags", Kind: vObject, Doc: "Tag templates: {version}, {n}, {sha7}, {date}", Keys: []spec{
		{Name: "candidate", Field: "Candidate", Kind: vText, Default: "v{version}-rc.{n}", Doc: "Release-candidate tag template"},
		{Name: "release", Field: "Release", Kind: vText, Default: "v{version}", Doc: "Final tag template"},
		{Name: "github-release", Field: "GitHubRelease", Kind: vBool, Default: true, Doc: "Create a GitHub release for the final tag"},
		{Name: "prerelease", Field: "Prerelease", Kind: vBool, Default: false, Doc: "Create a GitHub pre-release for the candidate tag"},
		{Name: "version-file", Field: "VersionFile", Kind: vText, Default: "package.json", Doc: `JSON file whose "version" fills {version}`},
	}},
	{Name: "deploy", Field: "Deploy", Kind: vObject, Doc: "How a deployment is triggered", Keys: []spec{
		{Name: "workflow", Field: "Workflow", Kind: vText, Default: "deploy.yml", Doc: "Deploy workflow file (or numeric id), dispatched with inputs environment, ref, deployment_id"},
		{Name: "event", Field: "Event", Kind: vText, Enum: []string{"deployment"}, Doc: "Trigger through the deployment event instead (needs a token that can start workflows)"},
	}},
	{Name: "environments", Field: "Environments", Kind: vList, What: "environments (mappings with a name)",
		Doc: "Deployment targets, deployed in the order listed", Keys: []spec{
			{Name: "name", Field: "Name", Kind: vText, Required: true, Doc: "GitHub environment name"},
			{Name: "url", Field: "URL", Kind: vText, Doc: "Gateway base URL (https, or http on a loopback host)"},
			{Name: "origin", Field: "Origin", Kind: vText, Doc: "Origin sent by smoke probes (default: the URL's origin)"},
			{Name: "token-env", Field: "TokenEnv", Kind: vText, Doc: "Environment variable holding the gateway token"},
			{Name: "password-env", Field: "PasswordEnv", Kind: vText, Doc: "Environment variable holding the gateway password"},
			{Name: "timeout", Field: "Timeout", Kind: vDuration, Default: Duration(30 * time.Minute), Min: time.Nanosecond, Max: maxJobTime, Doc: "Bound on deploying this environment"},
			{Name: "smoke", Field: "Smoke", Kind: vTexts, KeepEmpty: true, Default: AllProbes, Enum: AllProbes(), What: "smoke probe names", Doc: "Smoke probes run after deploying ([] for none)"},
			{Name: "window", Field: "Window", Kind: vObject, Doc: "When the environment may be deployed", Keys: []spec{
				{Name: "timezone", Field: "Timezone", Kind: vText, Required: true, Doc: "IANA time zone the window is written in"},
				{Name: "weekly", Field: "Weekly", Kind: vList, What: "weekly windows (days, start, end)", Doc: "Weekly opening hours", Keys: []spec{
					{Name: "days", Field: "Days", Kind: vTexts, Required: true, What: "days (Mon..Sun)", Doc: "Days the window opens (Mon..Sun or full names)"},
					{Name: "start", Field: "Start", Kind: vText, Required: true, Doc: "Opening time, HH:MM"},
					{Name: "end", Field: "End", Kind: vText, Required: true, Doc: "Closing time, HH:MM (at or before start: past midnight)"},
				}},
				{Name: "freeze", Field: "Freeze", Kind: vList, What: "freeze periods (from, to)", Doc: "Periods without deployments", Keys: []spec{
					{Name: "from", Field: "From", Kind: vText, Required: true, Doc: "First day (YYYY-MM-DD) or time (RFC 3339)"},
					{Name: "to", Field: "To", Kind: vText, Required: true, Doc: "Last day, inclusive (YYYY-MM-DD) or time (RFC 3339)"},
					{Name: "reason", Field: "Reason", Kind: vText, Doc: "Shown when a deployment is refused"},
				}},
				{Name: "max-wait", Field: "MaxWait", Kind: vDuration, What: "2h", Max: maxJobTime, Doc: "Wait this long for the window, else result=scheduled (0: do not wait)"},
			}},
			{Name: "monitor", Field: "Monitor", Kind: vObject, Doc: "Post-release watch", Keys: []spec{
				{Name: "duration", Field: "Duration", Kind: vDuration, Default: Duration(45 * time.Minute), Min: minMonitor, Max: maxJobTime, Doc: "How long to watch"},
				{Name: "interval", Field: "Interval", Kind: vDuration, Default: Duration(time.Minute), Min: minInterval, Max: maxJobTime, Doc: "Time between two readings"},
				{Name: "sustained", Field: "Sustained", Kind: vInt, Default: 3, Doc: "Consecutive bad intervals that make a breach"},
				{Name: "auto-rollback", Field: "AutoRollback", Kind: vBool, Default: false, Doc: "Roll back on a sustained breach"},
				{Name: "no-data", Field: "NoData", Kind: vText, Default: "fail", Enum: []string{"fail", "ignore"}, Doc: "What an interval without data counts as"},
				{Name: "smoke", Field: "Smoke", Kind: vTexts, KeepEmpty: true, Default: RollbackProbes, Enum: AllProbes(), What: "smoke probe names", Doc: "Smoke probes run every interval"},
				{Name: "prometheus", Field: "Prometheus", Kind: vObject, Doc: "Prometheus-compatible query API and its checks", Keys: []spec{
					{Name: "url", Field: "URL", Kind: vText, Required: true, Doc: "Base URL of the query API"},
					{Name: "token-env", Field: "TokenEnv", Kind: vText, Doc: "Environment variable holding a bearer token"},
					{Name: "checks", Field: "Checks", Kind: vList, Required: true, What: "metric checks (name, query, max and/or min)", Doc: "PromQL queries whose values must stay within bounds", Keys: []spec{
						{Name: "name", Field: "Name", Kind: vText, Required: true, Doc: "Name in the summary"},
						{Name: "query", Field: "Query", Kind: vText, Required: true, Doc: "PromQL instant query"},
						{Name: "max", Field: "Max", Kind: vNumber, Doc: "Largest allowed value"},
						{Name: "min", Field: "Min", Kind: vNumber, Doc: "Smallest allowed value"},
					}},
				}},
			}},
		}},
	{Name: "owners", Field: "Owners", Kind: vObject, Doc: "People named in summaries", Keys: []spec{
		{Name: "release", Field: "Release", Kind: vText, Doc: "Release owners"},
		{Name: "security", Field: "Security", Kind: vText, Doc: "Security owners"},
		{Name: "on-call", Field: "OnCall", Kind: vText, Doc: "On-call contact"},
	}},
}
