package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/agentme/release-action/internal/actions"
	"github.com/agentme/release-action/internal/outcome"
	"github.com/agentme/release-action/internal/smoke"
	"github.com/agentme/release-action/internal/summary"
)

var smokeInputs = []input{
	{name: "gateway-url", help: "the gateway's base URL (https or wss; http/ws only for loopback hosts or with allow-insecure)", env: []string{"AGENTME_GATEWAY_URL"}},
	{name: "gateway-token", help: "gateway token (secret)", secret: true, env: []string{"AGENTME_GATEWAY_TOKEN"}},
	{name: "gateway-password", help: "gateway password (secret), instead of a token", secret: true, env: []string{"AGENTME_GATEWAY_PASSWORD"}},
	{name: "origin", help: "Origin sent to the gateway (default: the URL's origin)"},
	{name: "base-path", help: "control UI base path (default /)"},
	{name: "probes", help: "comma-separated probes: connect-auth, control-ui, channel, bootstrap, tool-call (default all)"},
	{name: "probe-timeout", help: "per-probe timeout (default 10s)"},
	inChannelTimeout,
	{name: "ready-timeout", help: "readiness budget while a fresh deployment comes up (default 2m)"},
	{name: "allow-insecure", def: "false", help: "allow http/ws to a non-loopback gateway (the credential then crosses the network in clear text)"},
	{name: "session-key", help: "chat session the channel probe writes to (default a fresh release-action-smoke-<random>; never main)"},
	{name: "channel", help: "optional channel for an outbound `send` check (with --to)"},
	{name: "to", help: "recipient of the optional outbound `send` check"},
	{name: "tool", help: "read-only tool the tool-call probe invokes (default sessions_list)"},
}

func smokeCommand() *command {
	return &command{
		name:    "smoke",
		summary: "validate a running Agent Me gateway (connect/auth, control UI, channel, bootstrap, tool call)",
		inputs:  smokeInputs,
		run: func(ctx context.Context, a *app) error {
			o, err := a.smokeOptions()
			if err != nil {
				return outcome.BadInput(err)
			}
			return a.runSmoke(ctx, o, "Gateway smoke")
		},
	}
}

// smokeOptions turns the smoke inputs into probe options (validated, warnings printed).
func (a *app) smokeOptions() (smoke.Options, error) {
	var o smoke.Options
	raw := a.in.str("gateway-url")
	if raw == "" {
		return o, outcome.BadInputf("no gateway URL: pass gateway-url (--gateway-url), e.g. https://gateway.agentme.example")
	}
	u, err := parseURL("gateway-url", raw)
	if err != nil {
		return o, err
	}
	o.URL = u
	if o.AllowInsecure, err = a.in.boolean("allow-insecure"); err != nil {
		return o, err
	}
	o.Token, o.Password = a.in.str("gateway-token"), a.in.str("gateway-password")
	if o.Token == "" && o.Password == "" {
		return o, outcome.BadInputf("no gateway credential: pass gateway-token (--gateway-token, or AGENTME_GATEWAY_TOKEN) or gateway-password (--gateway-password, or AGENTME_GATEWAY_PASSWORD) from a secret")
	}
	o.Origin, o.BasePath = a.in.str("origin"), a.in.str("base-path")
	o.Probes = a.in.list("probes")
	if o.ProbeTimeout, err = a.in.duration("probe-timeout"); err != nil {
		return o, err
	}
	if o.ChannelTimeout, err = a.in.duration("channel-timeout"); err != nil {
		return o, err
	}
	if o.Ready, err = a.in.duration("ready-timeout"); err != nil {
		return o, err
	}
	o.SessionKey, o.Tool = a.in.str("session-key"), a.in.str("tool")
	if to := a.in.str("to"); to != "" || a.in.str("channel") != "" {
		o.ChannelTarget = &smoke.ChannelTarget{Channel: a.in.str("channel"), To: to}
	}
	o.Clock, o.HTTPClient, o.Redactor = a.env.Clock, a.env.HTTPClient, a.runner.Redactor()
	o.Progress = func(msg string) { a.runner.Infof("%s", msg) }
	warnings, err := o.Validate()
	if err != nil {
		return o, outcome.BadInput(fmt.Errorf("smoke options: %w", err))
	}
	for _, w := range warnings {
		a.runner.Warning(w, actions.Annotation{Title: "release-action smoke"})
	}
	return o, nil
}

// SmokeReport is the smoke command's `report` output.
type SmokeReport struct {
	Command string          `json:"command"`
	Version string          `json:"version"`
	Result  outcome.Verdict `json:"result"`
	Smoke   *smoke.Report   `json:"smoke"`
}

func (a *app) runSmoke(ctx context.Context, o smoke.Options, title string) error {
	r := a.runner
	r.Group(title)
	rep, err := smoke.Run(ctx, o)
	r.EndGroup()
	if err != nil {
		if errors.Is(err, outcome.ErrBadInput) {
			return fmt.Errorf("smoke: %w", err)
		}
		return fmt.Errorf("smoke: stopped before a verdict: %w", err)
	}
	md := summary.Smoke(rep, title, "##")
	a.writeResult(rep.Verdict, SmokeReport{Command: "smoke", Version: Version(), Result: rep.Verdict, Smoke: rep}, md, nil)
	for _, p := range rep.Probes {
		if !p.OK {
			r.Error(fmt.Sprintf("%s: %s", p.Name, p.Detail), actions.Annotation{Title: "Smoke probe failed"})
		}
	}
	return outcome.Decided(rep.Verdict, "a smoke probe failed")
}
