package rollback

import (
	"cmp"
	"context"
	"fmt"

	"github.com/agentme/release-action/internal/deploy"
	"github.com/agentme/release-action/internal/github"
	"github.com/agentme/release-action/internal/untrusted"
)

// The rollback decides in two reads, around the one write that must come between them
// (stopping the rollout): decideTarget (the bad deployment, another rollback to follow,
// the target) and decideDeploy (how the target is deployed). They read, never write: the
// real run (run) acts on them and the dry run (Plan) reports them, so they cannot
// disagree. Errors wrapping outcome.ErrBadInput are bad requests; others are API failures.

// decideTarget finds the bad deployment and the target. follow, when not nil, is another
// run's rollback of the same bad commit (at stage) that this one follows instead of
// starting its own; why, when not empty, is why the rollback cannot go ahead.
func (r *runner) decideTarget(ctx context.Context) (follow *github.Deployment, stage deploy.Stage, why string, err error) {
	if err := r.findCurrent(ctx); err != nil {
		return nil, "", "", err
	}
	// One rollback at a time per bad deployment: follow one already under way.
	if d, stage, err := r.otherRollback(ctx); err != nil || d != nil {
		return d, stage, "", err
	}
	why, err = r.findTarget(ctx)
	return nil, "", why, err
}

// decideDeploy says how the target is deployed: state is the deployment to create (Stage
// none) or resume. stopping says the rollout is (or would be) stopped first, so a deploy
// still in progress is no reason to refuse: the stop ends it before anything is deployed.
func (r *runner) decideDeploy(ctx context.Context, stopping bool) (state *deploy.State, why string, err error) {
	res := r.res
	st, err := deploy.Inspect(ctx, r.gh, r.env.Name, res.To.SHA, r.env.Timeout.D(), r.clk.Now())
	if err != nil {
		return nil, "", err
	}
	if b, bs := st.Blocker, st.BlockerStatus; !stopping && b != nil && bs != nil && deploy.StageOf(*bs) == deploy.StageDeploying {
		return nil, fmt.Sprintf("deployment %d of %s to %s is still in progress (%s %q, %s): a rollback now would race it; stop that deploy first (runbook: stop the rollout), then run the rollback again",
			b.ID, untrusted.ShortSHA(b.SHA), r.env.Name, untrusted.Clean(bs.State), untrusted.OneLine(bs.Description, 100), cmp.Or(untrusted.Clean(bs.LogURL), "no log link")), nil
	}
	state = &deploy.State{Environment: r.env.Name, SHA: res.To.SHA, Stage: deploy.StageNone}
	if st.Record != nil && isRollbackOf(*st.Record, res.From.SHA) {
		switch st.Stage {
		case deploy.StageValidated, deploy.StageRolledBack, deploy.StageInactive:
		default:
			state = &st
			r.say("resuming rollback deployment %d (stage %s)", st.Record.ID, st.Stage)
		}
	}
	return state, "", nil
}
