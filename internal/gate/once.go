package gate

import (
	"context"
	"fmt"
	"strings"

	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/untrusted"
)

// Once evaluates the gates of o on o.SHA a single time, with the same rules as Run, and
// returns what they say now: a dry run's "gate verdict so far". It never waits and never
// writes: dispatch is turned off (a gate that Run would dispatch says so in its reason),
// so no temporary branch is made. The verdict is Pass or Fail when every gate is decided
// (Fail also as soon as one gate failed), else Pending.
func Once(ctx context.Context, gh GitHub, o Options) (*Result, error) {
	o.Gates = append(o.Gates[:0:0], o.Gates...)
	dispatched := map[string]bool{}
	for i := range o.Gates {
		if o.Gates[i].Dispatch {
			dispatched[o.Gates[i].Name] = true
			o.Gates[i].Dispatch = false
		}
	}
	r, err := newRunner(gh, o)
	if err != nil {
		return nil, err
	}
	r.start = r.clk.Now()
	r.deadline = r.start.Add(r.timeout)
	for _, g := range r.gates {
		g.started = r.start
		g.cur = outcome{verdict: Pending}
	}
	if err := r.findSelf(ctx); err != nil {
		return nil, err
	}
	if err := r.resolveWorkflows(ctx); err != nil {
		return nil, err
	}
	if _, err := r.poll(ctx); err != nil {
		return nil, err
	}
	if !r.done {
		now := r.clk.Now()
		r.finished = now
		var pending []string
		for _, g := range r.gates {
			g.final = g.cur
			if g.cur.verdict == Pending {
				if dispatched[g.cfg.Name] && !g.cur.hasEvidence {
					g.final.reason += "; a real run dispatches it when it never ran on the commit"
				}
				pending = append(pending, g.cfg.Name)
			}
		}
		r.verdict = Pending
		r.reason = fmt.Sprintf("%d of %s not decided yet (%s): a real run waits for them up to %s",
			len(pending), plural(len(r.gates), "gate"), untrusted.Clean(strings.Join(pending, ", ")), config.Duration(r.timeout))
	}
	return r.result(), nil
}
