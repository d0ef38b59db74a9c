package cli

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/agentme/release-action/internal/actions"
	"github.com/agentme/release-action/internal/clock"
	"github.com/agentme/release-action/internal/environment"
	"github.com/agentme/release-action/internal/outcome"
	"github.com/agentme/release-action/internal/sandbox"
)

// sandboxActor is who runs the sandbox's incident commands.
const sandboxActor = "sandbox-oncall"

// runSandboxSteps runs a multi-step scenario (Command "incident") against one world: each
// step's command with its inputs, in order, through the same code as the action. Each
// step's end is reported as it would be in its own job; a step whose result is not the
// one the scenario expects fails the sandbox.
func (a *app) runSandboxSteps(ctx context.Context, sc sandbox.Scenario, w *sandbox.World, gp gateParams, clk *clock.Virtual) error {
	gp.gh.Actor = sandboxActor
	var err error
	for i, st := range sc.Steps {
		if i > 0 {
			a.exit(err)
		}
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
			o, oerr := a.incidentOptions(w.Config)
			if oerr != nil {
				return oerr
			}
			err = a.runIncident(ctx, incidentParams{gh: gp.gh, token: sandboxToken, o: o})
		case "rollback":
			err = a.runRollback(ctx, rollbackParams{gh: gp.gh, token: sandboxToken, cfg: w.Config, req: environment.RollbackRequest{
				Environment: "production", Reason: st.Inputs["reason"], OpenIssue: st.Inputs["open-issue"] == "true", IssueLabel: "incident"}})
		case "gate":
			g := gp
			g.cfg = w.Config
			err = a.runGate(ctx, g)
		default:
			return outcome.BadInputf("sandbox scenario %s: step %d runs unknown command %q", sc.Name, i+1, st.Command)
		}
		want := ExitOK
		if st.Want == "fail" {
			want = ExitFailed
		}
		if code := exitCode(err); code != want {
			a.exit(err)
			msg := fmt.Sprintf("sandbox scenario %s: step %d (%s) was expected to %s but exited %d", sc.Name, i+1, st.Command, st.Want, code)
			a.runner.Error(msg, actions.Annotation{Title: "Sandbox"})
			return outcome.Decided(outcome.Fail, msg)
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
	return err
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
