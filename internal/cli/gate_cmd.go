package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/agentme/release-action/internal/actions"
	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/environment"
	"github.com/agentme/release-action/internal/gate"
	"github.com/agentme/release-action/internal/github"
	"github.com/agentme/release-action/internal/markdown"
	"github.com/agentme/release-action/internal/outcome"
	"github.com/agentme/release-action/internal/summary"
)

var (
	inSHA          = input{name: "sha", help: "candidate commit (SHA, short SHA, branch or tag); default the pull request head, else GITHUB_SHA"}
	inTimeout      = input{name: "timeout", help: "overall gate timeout, e.g. 45m (default: policy.timeout of the configuration)"}
	inCheckRun     = input{name: "check-run", def: "false", help: "publish a check run listing every gate on the candidate commit"}
	inCheckRunName = input{name: "check-run-name", def: "release-gate", help: "name of the published check run"}
)

// gateOutputs are the gate's outputs besides result and report.
var gateOutputs = []string{"sha"}

func gateCommand() *command {
	return &command{
		name:    "gate",
		summary: "verify the runbook's pre-release gates on a candidate commit",
		inputs:  []input{inToken, inConfig, inRepo, inSHA, inTimeout, inCheckRun, inCheckRunName},
		outputs: gateOutputs,
		run: func(ctx context.Context, a *app) error {
			p, err := a.gateParams()
			if err != nil {
				return err
			}
			return a.runGate(ctx, p)
		},
	}
}

// gateParams is the gate command's typed input.
type gateParams struct {
	gh           ghContext
	token        string
	cfg          *config.Config
	ref          string
	checkRun     bool
	checkRunName string
	// timeout is the timeout input (0: the configuration's).
	timeout time.Duration
}

func (a *app) gateParams() (gateParams, error) {
	var p gateParams
	gh, err := a.githubContext()
	if err != nil {
		return p, err
	}
	p.gh = gh
	p.token = a.in.str("token")
	if p.token == "" {
		return p, outcome.BadInputf("no GitHub token: pass the token input (its default is ${{ github.token }}) or set GITHUB_TOKEN")
	}
	if p.cfg, err = a.loadConfig(); err != nil {
		return p, err
	}
	if d, err := a.in.duration("timeout"); err != nil {
		return p, err
	} else if d > 0 {
		p.timeout = d
		p.cfg.Policy.Timeout = config.Duration(d)
	}
	if p.ref, err = gh.candidateSHA(a.in.str("sha")); err != nil {
		return p, err
	}
	if p.checkRun, err = a.in.boolean("check-run"); err != nil {
		return p, err
	}
	p.checkRunName = a.in.str("check-run-name")
	return p, nil
}

// trustedConfig guards the gate against the change it gates: on pull request events
// the configuration is read from the pull request's BASE commit through the API, never
// from the checked-out head, so a pull request cannot weaken the gates that judge it.
// Elsewhere the configuration loaded from the workspace stands.
func (a *app) trustedConfig(ctx context.Context, client *github.Client, p gateParams) (*config.Config, error) {
	base, err := p.gh.prBaseSHA()
	if err != nil || base == "" {
		return p.cfg, err
	}
	path := strings.TrimPrefix(a.in.str("config"), "./")
	data, err := client.FileContent(ctx, path, base)
	var cfg *config.Config
	switch {
	case errors.Is(err, github.ErrNotFound):
		cfg = config.Default()
	case err != nil:
		return nil, environment.Classify(err, fmt.Sprintf("read %s at the pull request's base %s", path, base))
	default:
		if cfg, err = config.Parse(path+"@"+base, data); err != nil {
			return nil, outcome.BadInput(fmt.Errorf("configuration at the pull request's base is invalid; fix it on the base branch:\n%w", err))
		}
	}
	a.runner.Infof("Pull request: gates come from %s at the base commit %s, not from the pull request.", path, base)
	if p.timeout > 0 {
		cfg.Policy.Timeout = config.Duration(p.timeout)
	}
	return cfg, nil
}

// newClient builds the GitHub client every command shares.
func (a *app) newClient(gh ghContext, token string) (*github.Client, error) {
	c, err := github.New(gh.Repo, github.Options{
		Token:      token,
		APIURL:     gh.APIURL,
		GraphQLURL: gh.GraphQLURL,
		HTTPClient: a.env.HTTPClient,
		Clock:      a.env.Clock,
		UserAgent:  "agentme-release-action/" + Version(),
		Debugf:     a.runner.Debugf,
		Redactor:   a.runner.Redactor(),
	})
	if err != nil {
		return nil, outcome.BadInput(fmt.Errorf("GitHub client: %w", err))
	}
	return c, nil
}

// GateReport is the gate's `report` output. Field names and the shape are stable: every
// key is always present (check_run and owners are null when there is none).
type GateReport struct {
	Command    string          `json:"command"`
	Version    string          `json:"version"`
	Repository string          `json:"repository"`
	SHA        string          `json:"sha"`
	Result     outcome.Verdict `json:"result"`
	Gate       *gate.Result    `json:"gate"`
	Cost       github.Cost     `json:"api_cost"`
	CheckRun   *CheckRunInfo   `json:"check_run"`
	Owners     *config.Owners  `json:"owners"`
}

// CheckRunInfo is the published release-gate check run.
type CheckRunInfo struct {
	Name string `json:"name"`
	ID   int64  `json:"id"`
}

func (a *app) runGate(ctx context.Context, p gateParams) error {
	client, err := a.newClient(p.gh, p.token)
	if err != nil {
		return err
	}
	if p.cfg, err = a.trustedConfig(ctx, client, p); err != nil {
		return err
	}
	return a.evaluateGate(ctx, client, p)
}

// evaluateGate runs the gate and writes its outputs, summary and annotations. A blocked
// gate is an outcome.Decision with verdict fail.
func (a *app) evaluateGate(ctx context.Context, client *github.Client, p gateParams) error {
	r := a.runner
	r.Group("Candidate commit")
	sha, err := client.ResolveCommit(ctx, p.ref)
	r.EndGroup()
	if err != nil {
		if errors.Is(err, github.ErrNotFound) {
			return outcome.BadInputf("candidate commit %q was not found in %s: check the sha input (a full or short SHA, branch or tag of that repository)", p.ref, p.gh.Repo)
		}
		return environment.Classify(err, fmt.Sprintf("resolve candidate commit %q in %s", p.ref, p.gh.Repo))
	}
	r.Infof("Candidate: %s@%s (%d gates, timeout %s)", p.gh.Repo, sha, len(p.cfg.Gates), p.cfg.Policy.Timeout.D())

	var checkRunID int64
	if p.checkRun {
		checkRunID, err = client.CreateCheckRun(ctx, github.CheckRunUpdate{
			Name: p.checkRunName, HeadSHA: sha, Status: "in_progress", DetailsURL: p.gh.runURL(),
			Output: github.CheckRunOutput{Title: "Waiting for the pre-release gates", Summary: "release-action is evaluating the gates of this commit."},
		})
		if err != nil {
			r.Warning(fmt.Sprintf("could not publish the %s check run (the gate goes on; grant checks: write to publish it): %v", p.checkRunName, err), actions.Annotation{Title: "release-action"})
			checkRunID = 0
		}
	}

	r.Group("Pre-release gates")
	res, err := gate.Run(ctx, client, a.gateOptions(p, sha, checkRunID))
	r.EndGroup()
	if err != nil {
		if errors.Is(err, outcome.ErrBadInput) {
			return fmt.Errorf("gate configuration: %w", err)
		}
		e := environment.Classify(err, fmt.Sprintf("evaluate the gates on %s", sha))
		if checkRunID != 0 {
			a.completeCheckRun(client, p, sha, checkRunID, "", "The gate could not decide: "+markdown.Escape(a.runner.Redact(err.Error())))
		}
		return e
	}

	md := summary.Gate(res, summary.GateInfo{Commit: summary.CommitLink(p.gh.ServerURL, p.gh.Repo, sha)})
	md += summary.Owners(p.cfg.Owners)
	md += "\n" + summary.Cost(client.Cost()) + "\n"

	if checkRunID != 0 {
		a.completeCheckRun(client, p, sha, checkRunID, res.Verdict, md)
	}
	rep := GateReport{Command: "gate", Version: Version(), Repository: p.gh.Repo.String(), SHA: sha, Result: res.Verdict, Gate: res, Cost: client.Cost()}
	if checkRunID != 0 {
		rep.CheckRun = &CheckRunInfo{Name: p.checkRunName, ID: checkRunID}
	}
	if p.cfg.Owners != (config.Owners{}) {
		o := p.cfg.Owners
		rep.Owners = &o
	}
	a.writeResult(res.Verdict, rep, md, map[string]string{"sha": sha})

	for _, g := range res.Gates {
		if g.Verdict == gate.Fail {
			r.Error(fmt.Sprintf("%s: %s", g.Name, g.Reason), actions.Annotation{Title: "Release gate blocked"})
		}
	}
	for _, w := range res.Warnings {
		r.Warning(w, actions.Annotation{Title: "release-action"})
	}
	if res.Verdict == gate.Pass {
		r.Infof("Gate passed: every gate is satisfied on %s.", sha)
		return nil
	}
	r.Infof("Gate blocked: %s", res.Reason)
	return outcome.Decided(outcome.Fail, res.Reason)
}

// progress prints one progress line (with the sandbox's virtual time when set).
func (a *app) progress(msg string) {
	if a.elapsed != nil {
		a.runner.Infof("[%s] %s", a.elapsed(), msg)
		return
	}
	a.runner.Infof("%s", msg)
}

// completeCheckRun finishes the published check run. Conclusion "" means the gate could
// not decide (neutral would read as a pass on GitHub's UI, so it is "failure" there too).
func (a *app) completeCheckRun(client *github.Client, p gateParams, sha string, id int64, verdict outcome.Verdict, md string) {
	conclusion, title := "failure", "Release gate blocked"
	switch verdict {
	case gate.Pass:
		conclusion, title = "success", "Release gate passed"
	case "":
		title = "Release gate could not decide"
	}
	// A cancelled job still deserves an honest check run: use a fresh, short context.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const maxOutput = 65000 // GitHub caps check run summaries at 65,535 characters
	if len(md) > maxOutput {
		md = md[:maxOutput] + "\n\n… (truncated; the full report is in the job's `report` output)"
	}
	err := client.UpdateCheckRun(ctx, id, github.CheckRunUpdate{
		Name: p.checkRunName, HeadSHA: sha, Status: "completed", Conclusion: conclusion, DetailsURL: p.gh.runURL(),
		Output: github.CheckRunOutput{Title: title, Summary: md},
	})
	if err != nil {
		a.runner.Warning(fmt.Sprintf("could not complete the %s check run: %v", p.checkRunName, err), actions.Annotation{Title: "release-action"})
	}
}

// writeResult sets the result, report and extra outputs and appends the step summary. In
// a terminal the summary is printed as text instead, or the report alone with --json.
func (a *app) writeResult(result outcome.Verdict, report any, md string, extra map[string]string) {
	r := a.runner
	data, err := json.Marshal(report)
	if err != nil {
		// Every report type is plain data; failing here is a programming error worth seeing.
		r.Error("encode report: "+err.Error(), actions.Annotation{Title: "release-action"})
	}
	set := func(k, v string) {
		if err := r.SetOutput(k, v); err != nil {
			r.Error(fmt.Sprintf("set output %s: %v", k, err), actions.Annotation{Title: "release-action"})
		}
	}
	set("result", string(result))
	set("report", string(data))
	for k, v := range extra {
		set(k, v)
	}
	if r.Actions() {
		if err := r.AppendSummary(md); err != nil {
			r.Warning("write step summary: "+err.Error(), actions.Annotation{Title: "release-action"})
		}
		return
	}
	a.printResult(result, data, md)
}
