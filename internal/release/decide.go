package release

import (
	"context"
	"fmt"

	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/deploy"
	"github.com/agentme/release-action/internal/untrusted"
)

// decision is what the release does with one environment, decided from GitHub's state
// alone. The real run (environment) and the dry run (Plan) both start from it, so the two
// cannot disagree about what happens next.
type decision struct {
	st deploy.State
	// refused: the commit was rolled back from the environment (and Force is off).
	refused bool
	// act is deploy.Next's answer: ActionNone when the deployment was validated before.
	// Empty when refused.
	act deploy.Action
}

// decide inspects the environment and says what comes next. It reads, never writes.
func (r *runner) decide(ctx context.Context, env config.Environment) (decision, error) {
	st, err := r.inspect(ctx, env)
	if err != nil {
		return decision{}, err
	}
	if r.refused(st) {
		return decision{st: st, refused: true}, nil
	}
	if st.Stage == deploy.StageValidated {
		return decision{st: st, act: deploy.ActionNone}, nil
	}
	act, err := deploy.Next(ctx, r.gh, &st)
	if err != nil {
		return decision{}, err
	}
	return decision{st: st, act: act}, nil
}

// blockerMessage says why an in-progress deployment of another commit stops the
// environment, with its log link; "" when there is none.
func blockerMessage(env string, st deploy.State) (msg, link string) {
	b := st.Blocker
	if b == nil {
		return "", ""
	}
	msg = fmt.Sprintf("%s has an in-progress deployment of %s (deployment %d", env, sha7(untrusted.Clean(b.SHA)), b.ID)
	if st.BlockerStatus != nil && st.BlockerStatus.LogURL != "" {
		link = st.BlockerStatus.LogURL
		msg += ", " + untrusted.Clean(link)
	}
	msg += "): wait for it or cancel it; use a concurrency group (README)"
	return msg, link
}

// tagPlan is what ensureTag will do with a pattern, read without writing: reuse the tag
// that names the commit, fail (a name that would move), or create name (number n).
type tagPlan struct {
	tagOutcome
	n     int
	today string
}

// planTag decides the tag of pattern p for the commit; ensureTag acts on it, Plan reports it.
func (r *runner) planTag(ctx context.Context, p Pattern, what string) (tagPlan, error) {
	today := r.clk.Now().UTC().Format(dateLayout)
	ex, err := r.lookup(ctx, p, today)
	if err != nil {
		return tagPlan{}, err
	}
	if ex.found != "" {
		return tagPlan{tagOutcome: tagOutcome{name: ex.found, reused: true}, today: today}, nil
	}
	if ex.conflict != nil {
		return tagPlan{tagOutcome: tagOutcome{problem: r.neverMove(*ex.conflict)}, today: today}, nil
	}
	n := 0
	if p.Template().UsesN() {
		n = ex.maxN + 1
	}
	name := p.Render(Fields{N: n, Date: today})
	if err := config.CheckTagName(name); err != nil {
		return tagPlan{tagOutcome: tagOutcome{problem: fmt.Sprintf("the %s would be %q, which git refuses (%v): fix the template or the version",
			what, untrusted.Clean(name), err)}, n: n, today: today}, nil
	}
	return tagPlan{tagOutcome: tagOutcome{name: name}, n: n, today: today}, nil
}
