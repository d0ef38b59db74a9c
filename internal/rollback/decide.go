package rollback

import (
	"cmp"
	"context"
	"fmt"

	"github.com/agentme/release-action/internal/deploy"
	"github.com/agentme/release-action/internal/untrusted"
)

// decide finds the bad deployment and the target and says what the rollback deploys:
// state is the deployment to create (Stage none) or resume; why, when not empty, is why
// the rollback cannot go ahead (nothing changes). It reads, never writes: the real run
// (run) acts on it and the dry run (Plan) reports it, so they cannot disagree. Errors
// wrapping outcome.ErrBadInput are bad requests; others are API failures.
func (r *runner) decide(ctx context.Context) (state *deploy.State, why string, err error) {
	res := r.res
	if err := r.findCurrent(ctx); err != nil {
		return nil, "", err
	}
	if why, err := r.findTarget(ctx); err != nil || why != "" {
		return nil, why, err
	}
	st, err := deploy.Inspect(ctx, r.gh, r.env.Name, res.To.SHA, r.env.Timeout.D(), r.clk.Now())
	if err != nil {
		return nil, "", err
	}
	if b, bs := st.Blocker, st.BlockerStatus; b != nil && bs != nil && deploy.StageOf(*bs) == deploy.StageDeploying {
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
