package incident

import (
	"time"

	"github.com/agentme/release-action/internal/rollback"
)

// FromRollback turns a rollback's result into the options that open (or feed) the
// environment's incident record: the rollback's facts, and the impact window's start the
// rollback read from the deployment records. Severity is left for people to classify.
func FromRollback(res *rollback.Result, env string) (fact RollbackFact, since time.Time, sinceFrom string) {
	fact = RollbackFact{Environment: env, FromSHA: res.From.SHA, ToTag: res.To.Tag, ToSHA: res.To.SHA,
		DeploymentID: res.To.DeploymentID, Validated: res.Validated, Reason: res.RollbackReason, RunURL: res.RunURL}
	if w := res.ImpactWindow; w != nil {
		since, sinceFrom = w.Start, "the rollback's impact window: "+w.StartFrom
		if w.End != nil {
			end := *w.End
			fact.ValidatedAt = &end
		}
	}
	return fact, since, sinceFrom
}
