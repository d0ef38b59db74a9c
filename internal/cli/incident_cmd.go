package cli

import (
	"cmp"
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/agentme/release-action/internal/actions"
	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/environment"
	"github.com/agentme/release-action/internal/github"
	"github.com/agentme/release-action/internal/incident"
	"github.com/agentme/release-action/internal/outcome"
	"github.com/agentme/release-action/internal/rollback"
	"github.com/agentme/release-action/internal/rotate"
	"github.com/agentme/release-action/internal/summary"
)

var incidentInputs = []input{
	inToken, inConfig, inRepo,
	{name: "action", def: "open", help: "incident - open, update or close the incident record"},
	{name: "environment", def: "production", help: "the environment the incident is about"},
	{name: "severity", help: "incident open - active-exploit or attempted-abuse (runbook 5.1); update - reclassify"},
	{name: "summary", help: "incident open - what happened, in a line"},
	{name: "since", help: "incident open - start of the impact window: RFC 3339 time or a duration back from now (6h); default the first deployment of the commit the environment runs now"},
	{name: "rotate", def: "false", help: "incident open/update - run the rotate command as checklist item 3"},
	{name: "regression-tests", help: "incident open/update - test files (comma or newline separated) the gate requires to pass before any re-release"},
	{name: "labels", help: "incident open - issue labels (default incident, severity:<value>)"},
	{name: "issue", help: "incident - the incident issue's number (default the open record of the environment)"},
	{name: "tick", help: "incident update - checklist items done: classify, logs, rotate, endpoints, patch or 1-6 (comma separated)"},
	{name: "reopen", help: "incident update - checklist items to mark open again"},
	{name: "note", help: "incident update - what was done (recorded with who and when)"},
	{name: "events", help: "incident update - timeline entries, one per line: text, or '<RFC 3339 time> text'"},
	{name: "root-cause", help: "incident close - root cause"},
	{name: "mitigations", help: "incident close - mitigations"},
	{name: "follow-ups", help: "incident close - follow-up actions"},
	{name: "evidence-dir", help: "incident - where the evidence bundle is written (default the workspace, GITHUB_WORKSPACE)"},
}

// incidentOutputs are the incident's outputs besides result and report.
var incidentOutputs = []string{"issue-number", "issue-url", "evidence-path", "impact-window-start", "impact-window-end"}

func incidentCommand() *command {
	return &command{
		name:    "incident",
		summary: "keep the runbook's incident checklist (section 5) as one GitHub issue: open, update, close",
		inputs:  incidentInputs,
		outputs: incidentOutputs,
		run: func(ctx context.Context, a *app) error {
			p, err := a.incidentParams()
			if err != nil {
				return err
			}
			return a.runIncident(ctx, p)
		},
	}
}

// incidentParams is the incident command's typed input.
type incidentParams struct {
	gh    ghContext
	token string
	o     incident.Options
}

func (a *app) incidentParams() (incidentParams, error) {
	var p incidentParams
	gh, err := a.githubContext()
	if err != nil {
		return p, err
	}
	p.gh, p.token = gh, a.in.str("token")
	if p.token == "" {
		return p, outcome.BadInputf("no GitHub token: pass the token input (its default is ${{ github.token }}) or set GITHUB_TOKEN")
	}
	cfg, err := a.loadConfig()
	if err != nil {
		return p, err
	}
	p.o, err = a.incidentOptions(cfg)
	return p, err
}

// incidentOptions reads the incident inputs.
func (a *app) incidentOptions(cfg *config.Config) (incident.Options, error) {
	var o incident.Options
	rotate, err := a.in.boolean("rotate")
	if err != nil {
		return o, err
	}
	issue, err := a.in.integer("issue")
	if err != nil {
		return o, err
	}
	o = incident.Options{
		Action: a.in.str("action"), Config: cfg, Environment: a.in.str("environment"), Issue: issue,
		Severity: strings.TrimSpace(a.in.str("severity")), Summary: a.in.str("summary"), Since: a.in.str("since"),
		RegressionTests: a.in.list("regression-tests"), Labels: splitComma(a.in.str("labels")),
		Tick: a.in.list("tick"), Reopen: a.in.list("reopen"), Note: a.in.str("note"), Events: lines(a.in.str("events")),
		RootCause: a.in.str("root-cause"), Mitigations: a.in.str("mitigations"), FollowUps: a.in.str("follow-ups"),
		EvidenceRoot: a.in.str("evidence-dir"),
	}
	if o.EvidenceRoot == "" {
		o.EvidenceRoot = a.evidenceRoot()
	}
	if rotate {
		// Set for real once the client exists (runIncident); non-nil marks the wish.
		o.Rotate = func(context.Context, string) (*incident.RotationProof, error) { return nil, nil }
	}
	return o, nil
}

// evidenceRoot is where evidence bundles go: the sandbox's directory, else the workspace.
func (a *app) evidenceRoot() string {
	if a.evidenceDir != "" {
		return a.evidenceDir
	}
	return a.env.Getenv("GITHUB_WORKSPACE")
}

// rotator runs the rotate command as checklist item 3 (runbook 5.3: "Rotate
// token/password and bootstrap secret"): the environment's configured credential, and its
// dedicated bootstrap secret when the configuration names one, through the same
// environment service and proof as `command: rotate`. The proof's time can end the
// impact window.
func (a *app) rotator(client *github.Client, cfg *config.Config, gh ghContext, reason string) incident.Rotator {
	return func(ctx context.Context, envName string) (*incident.RotationProof, error) {
		svc := a.service(cfg, client, gh)
		env, err := svc.Find(envName)
		if err != nil {
			return nil, err
		}
		bootstrap := env.Secrets != nil && env.Secrets.Bootstrap != ""
		// AddMask, not Protect: the new value is born inside the action (see rotate).
		rep, err := svc.Rotate(ctx, environment.RotateRequest{Env: env, BootstrapSecret: bootstrap, Reason: reason, Mask: a.runner.AddMask})
		if err != nil {
			return nil, err
		}
		what := "gateway " + rep.Kind
		if rep.BootstrapSecret {
			what += " and bootstrap secret"
		}
		proof := &incident.RotationProof{Done: rep.Passed(), ProvenAt: rep.Finished, Summary: what, RunURL: gh.runURL(), Failure: rep.Problem}
		if rep.Passed() {
			at := rep.Finished.UTC().Format("15:04:05 UTC")
			proof.Facts = []string{
				"new " + rep.Kind + " written to " + secretNames(rep.Secrets) + " and in force after the redeploy",
				"old " + rep.Kind + " refused on connect and on /tools/invoke at " + at,
				"bootstrap code made before the rotation refused at " + at,
			}
		}
		return proof, nil
	}
}

// secretNames lists the secrets a rotation wrote, by name.
func secretNames(ws []rotate.SecretWrite) string {
	var names []string
	for _, w := range ws {
		if w.Written {
			names = append(names, w.Name)
		}
	}
	if len(names) == 0 {
		return "no secret"
	}
	return strings.Join(names, ", ")
}

// announcer tells the configuration's announce webhooks (the rollback's: runbook 3.5)
// about the incident: the line in text for Slack-compatible hooks, the announcement as
// JSON for the others. Without webhooks the record says it was not announced.
func (a *app) announcer(client *github.Client, cfg *config.Config, gh ghContext) incident.Announcer {
	if len(cfg.Announce.Webhooks) == 0 {
		return nil
	}
	return func(ctx context.Context, an incident.Announcement) error {
		text := fmt.Sprintf("*%s*\n%s\n%s", an.Title, an.Text, an.URL)
		return a.service(cfg, client, gh).Announce(ctx, an.Event, text, an)
	}
}

func splitComma(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// IncidentReport is the incident command's `report` output. Field names are stable.
type IncidentReport struct {
	Command    string           `json:"command"`
	Version    string           `json:"version"`
	Repository string           `json:"repository"`
	Result     outcome.Verdict  `json:"result"`
	Incident   *incident.Result `json:"incident"`
	Cost       github.Cost      `json:"api_cost"`
}

func (a *app) runIncident(ctx context.Context, p incidentParams) error {
	client, err := a.newClient(p.gh, p.token)
	if err != nil {
		return err
	}
	o := p.o
	o.Actor = p.gh.Actor
	if o.Actor == "" {
		o.Actor = a.env.Getenv("USER")
	}
	o.RunURL, o.Clock, o.Progress, o.Announce = p.gh.runURL(), a.env.Clock, a.progress, a.announcer(client, o.Config, p.gh)
	if o.Rotate != nil {
		o.Rotate = a.rotator(client, o.Config, p.gh, "incident response: "+cmp.Or(o.Summary, "credentials presumed leaked"))
	}
	a.runner.Group("Incident " + o.Action)
	res, err := incident.Run(ctx, client, o)
	a.runner.EndGroup()
	if err != nil {
		return environment.Classify(err, "incident "+o.Action)
	}
	md := incident.Summary(res) + "\n" + summary.Cost(client.Cost()) + "\n"
	extra := map[string]string{"issue-number": strconv.Itoa(res.Issue), "issue-url": res.IssueURL, "evidence-path": res.EvidencePath}
	if w := res.Impact; w != nil {
		extra["impact-window-start"] = w.Start.Format(time.RFC3339)
		if w.End != nil {
			extra["impact-window-end"] = w.End.Format(time.RFC3339)
		}
	}
	a.writeResult(res.Verdict, IncidentReport{Command: "incident", Version: Version(), Repository: p.gh.Repo.String(),
		Result: res.Verdict, Incident: res, Cost: client.Cost()}, md, extra)
	for _, w := range res.Warnings {
		a.runner.Warning(w, actions.Annotation{Title: "release-action incident"})
	}
	if res.Verdict != incident.VerdictPass {
		a.runner.Error(res.Reason, actions.Annotation{Title: "Incident"})
		return outcome.Decided(outcome.Fail, res.Reason)
	}
	a.runner.Infof("%s: %s", res.Reason, res.IssueURL)
	return nil
}

// incidentWriter makes the rollback's incident issue the environment's incident record.
func (a *app) incidentWriter(client *github.Client, cfg *config.Config, env, label, actor string) func(ctx context.Context, res *rollback.Result) (int, string, error) {
	return func(ctx context.Context, res *rollback.Result) (int, string, error) {
		fact, since, from := incident.FromRollback(res, env)
		o := incident.Options{Action: incident.ActionOpen, Config: cfg, Environment: env, Rollback: &fact,
			SinceAt: since, SinceFrom: from, Actor: actor, RunURL: res.RunURL, Clock: a.env.Clock, Progress: a.progress,
			EvidenceRoot: a.evidenceRoot()} // the rollback announces itself (runbook 3.5)
		if label != "" && label != incident.DefaultLabel {
			o.Labels = []string{label}
		}
		ir, err := incident.Run(ctx, client, o)
		if err != nil {
			return 0, "", err
		}
		if ir.EvidencePath != "" {
			if err := a.runner.SetOutput("evidence-path", ir.EvidencePath); err != nil {
				a.runner.Warning("set output evidence-path: "+err.Error(), actions.Annotation{Title: "release-action"})
			}
		}
		return ir.Issue, ir.IssueURL, nil
	}
}

// incidentGates adds the regression tests of every open incident record release-action
// wrote to the gates, as tests gates named for the incident (see incident.Requirements).
// It works on a copy: the configuration itself is not changed.
func (a *app) incidentGates(ctx context.Context, client *github.Client, cfg *config.Config) (*config.Config, error) {
	reqs, err := incident.Requirements(ctx, client, cfg)
	if err != nil {
		return nil, err
	}
	if len(reqs) == 0 {
		return cfg, nil
	}
	c := *cfg
	c.Gates = append([]config.Gate(nil), cfg.Gates...)
	for _, r := range reqs {
		a.runner.Infof("Open incident #%d (%s) requires its regression tests before any release: %s", r.Issue, r.IssueURL, strings.Join(r.Gate.Tests.Files, ", "))
		c.Gates = append(c.Gates, r.Gate)
	}
	return &c, nil
}
