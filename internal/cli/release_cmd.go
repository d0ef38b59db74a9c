package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/agentme/release-action/internal/actions"
	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/environment"
	"github.com/agentme/release-action/internal/gate"
	"github.com/agentme/release-action/internal/github"
	"github.com/agentme/release-action/internal/outcome"
	"github.com/agentme/release-action/internal/release"
	"github.com/agentme/release-action/internal/summary"
)

var releaseInputs = []input{
	inToken, inConfig, inRepo, inSHA, inTimeout,
	{name: "tag", help: "explicit candidate tag name (default: tags.candidate of the configuration, v{version}-rc.{n})"},
	{name: "force", def: "false", help: "deploy a commit that was rolled back from an environment (recorded)"},
	{name: "force-window", def: "false", help: "deploy although a maintenance window is closed or frozen (needs force-reason; recorded in the summary and the deployment)"},
	{name: "force-reason", help: "why the window is overridden"},
	inPollInterval, inChannelTimeout,
}

// releaseOutputs are the release's outputs besides result and report.
var releaseOutputs = []string{"sha", "tag", "release-tag", "deployment-ids", "environment-urls", "next-window"}

func releaseCommand() *command {
	return &command{
		name:    "release",
		summary: "gate, tag, deploy staging, validate, deploy production in its window, monitor, tag the release",
		inputs:  releaseInputs,
		outputs: releaseOutputs,
		run: func(ctx context.Context, a *app) error {
			p, err := a.releaseParams()
			if err != nil {
				return err
			}
			return a.runRelease(ctx, p)
		},
	}
}

// releaseParams is the release command's typed input.
type releaseParams struct {
	gateParams
	tag         string
	force       bool
	forceWindow bool
	forceReason string
}

func (a *app) releaseParams() (releaseParams, error) {
	var p releaseParams
	var err error
	if p.gateParams, err = a.gateParams(); err != nil {
		return p, err
	}
	p.tag = a.in.str("tag")
	if p.force, err = a.in.boolean("force"); err != nil {
		return p, err
	}
	if p.forceWindow, err = a.in.boolean("force-window"); err != nil {
		return p, err
	}
	p.forceReason = a.in.str("force-reason")
	if p.forceWindow && p.forceReason == "" {
		return p, outcome.BadInputf("force-window needs force-reason: say why production is deployed outside its window (it is recorded in the summary and the deployment)")
	}
	if err := a.environmentTimings(); err != nil {
		return p, err
	}
	return p, a.checkRelease(p.cfg)
}

// checkRelease fails early, before anything is gated or deployed, when a validated
// environment lacks its gateway credential or the last environment's monitor (which the
// release runs) lacks its Prometheus token.
func (a *app) checkRelease(cfg *config.Config) error {
	svc := a.service(cfg, nil, ghContext{})
	if err := svc.CheckGateways(cfg.Environments...); err != nil {
		return err
	}
	if n := len(cfg.Environments); n > 0 {
		return svc.CheckPrometheus(cfg.Environments[n-1])
	}
	return nil
}

// service is the environment service of this invocation: one per GitHub client, all
// sharing the app's secret store so that every credential is masked once.
func (a *app) service(cfg *config.Config, client *github.Client, gh ghContext) *environment.Service {
	if a.secretStore == nil {
		lookup := a.env.Getenv
		if a.secrets != nil {
			lookup = func(name string) string {
				if v, ok := a.secrets[name]; ok {
					return v
				}
				return a.env.Getenv(name)
			}
		}
		a.secretStore = environment.NewSecrets(lookup, a.runner.Protect)
	}
	return environment.New(environment.Options{
		Config: cfg, GitHub: client, Repo: gh.Repo, ServerURL: gh.ServerURL, RunURL: gh.runURL(),
		Clock: a.env.Clock, HTTPClient: a.env.HTTPClient, Progress: a.progress,
		Group: func(title string) func() {
			a.runner.Group(title)
			return a.runner.EndGroup
		},
		Warn:    func(msg, title string) { a.runner.Warning(msg, actions.Annotation{Title: title}) },
		Secrets: a.secretStore, Redactor: a.runner.Redactor(), PollInterval: a.pollInterval, ChannelTimeout: a.channelTimeout,
	})
}

// ReleaseReport is the release command's `report` output.
type ReleaseReport struct {
	Command    string          `json:"command"`
	Version    string          `json:"version"`
	Repository string          `json:"repository"`
	Result     outcome.Verdict `json:"result"`
	Release    *release.Result `json:"release"`
	Cost       github.Cost     `json:"api_cost"`
	Owners     *config.Owners  `json:"owners"`
}

func (a *app) runRelease(ctx context.Context, p releaseParams) error {
	r := a.runner
	client, err := a.newClient(p.gh, p.token)
	if err != nil {
		return err
	}
	r.Group("Candidate commit")
	sha, err := client.ResolveCommit(ctx, p.ref)
	r.EndGroup()
	if err != nil {
		if errors.Is(err, github.ErrNotFound) {
			return outcome.BadInputf("candidate commit %q was not found in %s: check the sha input", p.ref, p.gh.Repo)
		}
		return environment.Classify(err, fmt.Sprintf("resolve candidate commit %q in %s", p.ref, p.gh.Repo))
	}
	res, err := a.service(p.cfg, client, p.gh).Release(ctx, environment.ReleaseRequest{
		SHA:         sha,
		Gate:        a.gateOptions(p.gateParams, sha, 0),
		Tag:         p.tag,
		Force:       p.force,
		ForceWindow: p.forceWindow,
		ForceReason: p.forceReason,
	})
	if res == nil {
		return err
	}
	info := summary.ReleaseInfo{Repo: p.gh.Repo, ServerURL: p.gh.ServerURL, Owners: p.cfg.Owners, Cost: summary.Cost(client.Cost())}
	md := summary.Release(res, info)
	rep := ReleaseReport{Command: "release", Version: Version(), Repository: p.gh.Repo.String(), Result: res.Verdict, Release: res, Cost: client.Cost()}
	if p.cfg.Owners != (config.Owners{}) {
		o := p.cfg.Owners
		rep.Owners = &o
	}
	extra := map[string]string{"sha": sha, "tag": res.Tag, "release-tag": res.ReleaseTag}
	ids, _ := json.Marshal(res.DeploymentIDs())
	urls, _ := json.Marshal(res.EnvironmentURLs())
	extra["deployment-ids"], extra["environment-urls"] = string(ids), string(urls)
	if !res.NextWindow.IsZero() {
		extra["next-window"] = res.NextWindow.Format(time.RFC3339)
	}
	a.writeResult(res.Verdict, rep, md, extra)

	if err != nil {
		return err
	}
	switch res.Verdict {
	case outcome.Pass:
		r.Infof("Release %s of %s done.", res.ReleaseTag, sha)
	case outcome.Scheduled:
		r.Notice(fmt.Sprintf("Production waits for its window: %s. Run the release again at %s.", res.Reason, res.NextWindow.Format(time.RFC3339)), actions.Annotation{Title: "Release scheduled"})
	default:
		r.Error(res.Reason, actions.Annotation{Title: "Release failed"})
		return outcome.Decided(outcome.Fail, res.Reason)
	}
	return nil
}

// gateOptions builds the gate's options for the candidate.
func (a *app) gateOptions(p gateParams, sha string, checkRunID int64) gate.Options {
	// On GitHub a check run created with GITHUB_TOKEN joins the check suite of a workflow
	// run on the commit: this or an earlier gate's release-gate check run must never be
	// evidence, whether or not this run publishes one (release never does).
	name := p.checkRunName
	if name == "" {
		name = inCheckRunName.def
	}
	self := gate.Self{RunID: p.gh.RunID, RunnerName: p.gh.RunnerName, JobKey: p.gh.Job, CheckRunNames: []string{name}}
	if checkRunID != 0 {
		self.CheckRunIDs = []int64{checkRunID}
	}
	runKey := ""
	if p.gh.RunID != 0 {
		runKey = fmt.Sprintf("%d-%s", p.gh.RunID, p.gh.RunAttempt)
	}
	return gate.Options{
		SHA: sha, Gates: p.cfg.Gates, Policy: p.cfg.Policy, Self: self, Clock: a.env.Clock,
		Progress: a.progress, RunKey: runKey,
	}
}
