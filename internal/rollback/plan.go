package rollback

import (
	"cmp"
	"context"
	"fmt"
	"strings"

	"github.com/agentme/release-action/internal/outcome"
	"github.com/agentme/release-action/internal/stoprollout"
	"github.com/agentme/release-action/internal/untrusted"
)

// What a rollback plan says the rollback would do.
const (
	PlanDeploy = "deploy" // a new rollback deployment of the target
	PlanResume = "resume" // the rollback deployment an earlier attempt left, resumed
	PlanRefuse = "refuse" // nothing would change (no target, another deploy in progress)
	PlanFollow = "follow" // another run's rollback of the same bad commit is under way
)

// PlanResult is what a rollback would do if it started now, decided by the function the
// rollback acts on (decide), writing nothing.
//
// The coming stop-the-rollout step (issue 9) belongs in decide too: what it would stop
// then shows here as one more field, with no second decision path.
type PlanResult struct {
	Environment    string `json:"environment"`
	RollbackReason string `json:"rollback_reason"`
	// From is the bad deployment that would be marked "rolled back" (SHA empty: none found).
	From Ref `json:"from"`
	// To is the target: explicit (Options.To) or the last known good deployment (Source).
	To     Ref    `json:"to"`
	Source string `json:"source"`
	Action string `json:"action"`
	// ResumeDeploymentID is the rollback deployment an earlier attempt left (PlanResume).
	ResumeDeploymentID int64 `json:"resume_deployment_id"`
	// Probes are the smoke probes a run re-runs after the deploy.
	Probes []string `json:"probes"`
	// Issue is the label of the incident issue a run would open ("" when none).
	Issue string `json:"issue"`
	// Stop is what the run would stop first (runbook 3.1): the runs it would cancel and
	// the records it would mark, found as a run finds them; nil with stop-rollout: false.
	Stop *stoprollout.Report `json:"stop"`
	// Outcome: pass when the rollback would go ahead, fail when it would stop (Reason).
	Outcome outcome.Verdict `json:"outcome"`
	Reason  string          `json:"reason"`
}

// Plan decides what Run would do now without writing: the bad deployment, the target and
// how it would be deployed. The client should be read-only (github.Options.ReadOnly).
// Errors are bad requests (outcome.ErrBadInput) and API failures.
func Plan(ctx context.Context, gh GitHub, o Options) (*PlanResult, error) {
	r, err := newRunner(gh, o)
	if err != nil {
		return nil, err
	}
	r.res.Started = r.clk.Now()
	follow, stage, why, err := r.decideTarget(ctx)
	if err != nil {
		return nil, err
	}
	res := r.res
	p := &PlanResult{
		Environment: r.env.Name, RollbackReason: r.reason, From: res.From, To: res.To, Source: res.Source,
		Probes: append([]string{}, r.probes...),
	}
	if o.OpenIssue {
		p.Issue = cmp.Or(strings.TrimSpace(o.IssueLabel), DefaultIssueLabel)
	}
	if follow != nil {
		p.Action, p.Outcome = PlanFollow, outcome.Pass
		p.Reason = fmt.Sprintf("another run's rollback deployment %d of %s (stage %s) is under way: a rollback started now would follow it instead of starting another",
			follow.ID, untrusted.ShortSHA(follow.SHA), stage)
		return p, nil
	}
	if why != "" {
		p.Action, p.Outcome, p.Reason = PlanRefuse, outcome.Fail, why
		return p, nil
	}
	stopping := r.o.Config.Rollback.ShouldStopRollout()
	if stopping {
		// What the real run would stop first, read the same way, nothing cancelled.
		if p.Stop, err = r.findRollout(ctx); err != nil {
			return nil, err
		}
	}
	state, why, err := r.decideDeploy(ctx, stopping)
	if err != nil {
		return nil, err
	}
	if why != "" {
		p.Action, p.Outcome, p.Reason = PlanRefuse, outcome.Fail, why
		return p, nil
	}
	target := fmt.Sprintf("%s (%s)", untrusted.Clean(res.To.Tag), untrusted.ShortSHA(res.To.SHA))
	p.Action, p.Outcome = PlanDeploy, outcome.Pass
	how := "deploy " + target
	if state.Record != nil {
		p.Action, p.ResumeDeploymentID = PlanResume, state.Record.ID
		how = fmt.Sprintf("resume rollback deployment %d of %s (stage %s)", state.Record.ID, target, state.Stage)
	}
	var b strings.Builder
	if p.Stop != nil && (len(p.Stop.Runs) > 0 || len(p.Stop.Records) > 0) {
		fmt.Fprintf(&b, "stop %d run(s) rolling out to %s (marking %d deployment(s) stopped), then ", len(p.Stop.Runs), r.env.Name, len(p.Stop.Records))
	}
	fmt.Fprintf(&b, "%s in place of %s", how, r.fromText())
	if r.bad != nil {
		fmt.Fprintf(&b, ", mark deployment %d rolled back", r.bad.ID)
	}
	if len(p.Probes) > 0 {
		fmt.Fprintf(&b, ", smoke %s", strings.Join(p.Probes, ", "))
	}
	if p.Issue != "" {
		fmt.Fprintf(&b, ", open an issue labelled %s", untrusted.Clean(p.Issue))
	}
	p.Reason = "a rollback started now would " + b.String()
	if res.From.DeploymentID == 0 && r.bad != nil {
		p.From.DeploymentID = r.bad.ID
	}
	return p, nil
}
