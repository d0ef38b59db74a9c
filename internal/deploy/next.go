package deploy

import (
	"context"
	"errors"
	"fmt"

	"github.com/agentme/release-action/internal/github"
	"github.com/agentme/release-action/internal/untrusted"
)

// Next says what the deployment of st's commit needs next. For a record at "deploying (run
// N)" or at a timed-out deploy of run N it reads run N (once: the answer is kept in st, so
// Deploy given the same State follows exactly what Next saw):
//
//   - validated: ActionNone.
//   - deployed or smoke failed: ActionValidate; ActionTrigger when another commit was
//     deployed since (State.Superseded): validating now would validate that commit.
//   - deploying (run N): ActionFollow while run N runs, and once it completed (Deploy
//     records its conclusion) unless another commit was deployed since; ActionTrigger when
//     run N is gone or no run is known.
//   - timed out (run N): ActionFollow while run N still runs, or when it concluded success
//     and no other commit was deployed since; ActionTrigger otherwise.
//   - anything else (none, created, deploy failed, rolled back, inactive): ActionTrigger.
//
// A caller with a deployment window checks it whenever the answer is ActionTrigger: only
// then does a new deploy run start.
func Next(ctx context.Context, gh GitHub, st *State) (Action, error) {
	switch st.Stage {
	case StageValidated:
		return ActionNone, nil
	case StageDeployed, StageSmokeFailed:
		if st.Superseded != nil {
			return ActionTrigger, nil
		}
		return ActionValidate, nil
	}
	_, ok, err := resumable(ctx, gh, st)
	if err != nil {
		return "", err
	}
	if ok {
		return ActionFollow, nil
	}
	return ActionTrigger, nil
}

// resumable returns the run of an earlier attempt to follow instead of starting a new one
// (see Next), reading it the first time.
func resumable(ctx context.Context, gh GitHub, st *State) (github.WorkflowRun, bool, error) {
	if st.Record == nil || st.RunID == 0 || (st.Stage != StageDeploying && !st.TimedOut) {
		return github.WorkflowRun{}, false, nil
	}
	if !st.runRead {
		run, err := gh.GetWorkflowRun(ctx, st.RunID)
		switch {
		case errors.Is(err, github.ErrNotFound):
			st.runGone = true
		case err != nil:
			return github.WorkflowRun{}, false, fmt.Errorf("read deploy run %d of %s in %s: %w", st.RunID, untrusted.ShortSHA(st.SHA), st.Environment, err)
		default:
			st.run = &run
		}
		st.runRead = true
	}
	if st.runGone {
		return github.WorkflowRun{}, false, nil
	}
	run := *st.run
	switch {
	case run.Status != "completed":
		return run, true, nil
	case st.Superseded != nil:
		return run, false, nil
	case st.TimedOut && run.Conclusion != "success":
		return run, false, nil
	}
	return run, true, nil
}

// resumeNote says why the run of an earlier attempt is not followed ("" when it is, or when
// there is none).
func resumeNote(st *State, run github.WorkflowRun, ok bool) string {
	switch {
	case ok || st.RunID == 0 || (st.Stage != StageDeploying && !st.TimedOut):
		return ""
	case st.runGone:
		return fmt.Sprintf("run %d of the earlier attempt is gone", st.RunID)
	case st.Superseded != nil:
		return fmt.Sprintf("run %d of the earlier attempt completed, but deployment %d of %s came after it: deploying again",
			st.RunID, st.Superseded.ID, untrusted.ShortSHA(st.Superseded.SHA))
	}
	return fmt.Sprintf("run %d of the earlier attempt, which timed out, concluded %s: deploying again", st.RunID, untrusted.Clean(run.Conclusion))
}
