package cli

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/agentme/release-action/internal/actions"
	"github.com/agentme/release-action/internal/clock"
	"github.com/agentme/release-action/internal/sandbox"
)

// sandboxActor is who runs the sandbox's incident commands.
const sandboxActor = "sandbox-oncall"

// runSandboxSteps runs a multi-step scenario (Command "incident") against one world: each
// step's command with its inputs, in order, through the same code as the action. A step
// whose result is not the one the scenario expects fails the sandbox.
func (a *app) runSandboxSteps(ctx context.Context, sc sandbox.Scenario, w *sandbox.World, gp gateParams, clk *clock.Virtual) int {
	gp.gh.Actor = sandboxActor
	getenv := a.env.Getenv
	a.env.Getenv = func(k string) string { // the rollback step reads its actor from the environment
		if k == "GITHUB_ACTOR" {
			return sandboxActor
		}
		return getenv(k)
	}
	code := ExitOK
	for i, st := range sc.Steps {
		clk.Advance(st.After)
		if st.Before != nil {
			st.Before(w)
		}
		a.runner.Infof("")
		a.runner.Infof("Step %d of %d: %s %v", i+1, len(sc.Steps), st.Command, st.Inputs)
		in := values{}
		for _, def := range incidentInputs {
			in[def.name] = def.def
		}
		for k, v := range st.Inputs {
			in[k] = v
		}
		a.in = in
		switch st.Command {
		case "incident":
			o, err := a.incidentOptions(w.Config)
			if err != nil {
				return a.fail(exitCode(err), err)
			}
			code = a.runIncident(ctx, incidentParams{gh: gp.gh, token: sandboxToken, o: o})
		case "rollback":
			if err := a.checkCredentials(w.Config); err != nil {
				return a.fail(ExitBadInput, err)
			}
			code = a.runRollback(ctx, rollbackParams{gh: gp.gh, token: sandboxToken, cfg: w.Config, env: "production",
				reason: st.Inputs["reason"], openIssue: st.Inputs["open-issue"] == "true", label: "incident"})
		case "gate":
			g := gp
			g.cfg = w.Config
			code = a.runGate(ctx, g)
		default:
			return a.fail(ExitBadInput, fmt.Errorf("sandbox scenario %s: step %d runs unknown command %q", sc.Name, i+1, st.Command))
		}
		want := ExitOK
		if st.Want == "fail" {
			want = ExitFailed
		}
		if code != want {
			a.runner.Error(fmt.Sprintf("sandbox scenario %s: step %d (%s) was expected to %s but exited %d", sc.Name, i+1, st.Command, st.Want, code),
				actions.Annotation{Title: "Sandbox"})
			return ExitFailed
		}
	}
	if len(w.GitHub.Issues()) > 0 {
		is := w.GitHub.Issues()[0]
		a.runner.Infof("")
		a.runner.Infof("Incident issue #%d as the emulator holds it (%s, %d comments):", is.Number, is.State, len(is.Comments))
		a.runner.Infof("%s", is.Title)
		a.runner.Infof("")
		for _, l := range strings.Split(is.Body, "\n") {
			if strings.HasPrefix(l, "<!-- release-action:incident") {
				l = "<!-- release-action:incident v1 … (the hidden record) -->"
			}
			a.runner.Infof("%s", l)
		}
	}
	return code
}

// sandboxEvidenceDir gives the sandbox's incident records (incident and rollback scenarios)
// a temporary directory for their evidence bundles, so the sandbox leaves nothing behind in
// the working directory. The returned function removes it.
func (a *app) sandboxEvidenceDir() func() {
	dir, err := os.MkdirTemp("", "release-action-sandbox-evidence-")
	if err != nil {
		a.runner.Warning("sandbox: no temporary directory for evidence bundles: "+err.Error(), actions.Annotation{Title: "Sandbox"})
		return func() {}
	}
	a.evidenceDir = dir
	return func() { _ = os.RemoveAll(dir) }
}
