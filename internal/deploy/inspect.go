package deploy

import (
	"cmp"
	"context"
	"fmt"
	"github.com/agentme/release-action/internal/untrusted"
	"slices"
	"strings"
	"time"

	"github.com/agentme/release-action/internal/github"
)

// blockerChecks bounds how many records of other commits Inspect reads statuses of: only the
// most recently active ones can still be deploying.
const blockerChecks = 5

// Inspect reads how the deployment of sha to env stands in GitHub: the release-action record
// of (env, sha) and its stage, the deploy run it names, whether the commit was rolled back
// from env, and whether a deployment of another commit is still in progress there (younger
// than 2x envTimeout at now; envTimeout 0 means DefaultTimeout).
func Inspect(ctx context.Context, gh GitHub, env string, sha string, envTimeout time.Duration, now time.Time) (State, error) {
	st, err := inspectCommit(ctx, gh, env, sha)
	if err != nil {
		return State{}, err
	}
	if envTimeout <= 0 {
		envTimeout = DefaultTimeout
	}
	st.Blocker, st.BlockerStatus, err = findBlocker(ctx, gh, env, sha, 2*envTimeout, now)
	if err != nil {
		return State{}, err
	}
	return st, nil
}

// inspectCommit reads the records of (env, sha): the newest release-action record with its
// stage and run, and the newest "rolled back" status of any of them.
func inspectCommit(ctx context.Context, gh GitHub, env, sha string) (State, error) {
	st := State{Environment: env, SHA: sha, Stage: StageNone}
	recs, err := gh.ListDeployments(ctx, github.DeploymentFilter{Environment: env, SHA: sha})
	if err != nil {
		return State{}, fmt.Errorf("list deployments of %s to %s: %w", untrusted.ShortSHA(sha), env, err)
	}
	sortDeployments(recs)
	for _, r := range recs {
		// The server filtered already; a record of another commit or environment here
		// would make resume follow the wrong deployment, so check again.
		if !strings.EqualFold(r.SHA, sha) || !sameEnv(r.Environment, env) {
			continue
		}
		ss, err := statuses(ctx, gh, r.ID)
		if err != nil {
			return State{}, err
		}
		for _, s := range ss {
			if isRolledBack(s) && (st.RolledBack == nil || newer(s, *st.RolledBack)) {
				s := s
				st.RolledBack = &s
			}
		}
		if st.Record == nil && isOurRecord(r) {
			rec := r
			st.Record = &rec
			st.Stage = stageOf(ss)
			st.RunID = runIDOf(ss)
			if len(ss) > 0 {
				latest := ss[0]
				st.Latest = &latest
			}
		}
	}
	return st, nil
}

// findBlocker returns the most recently active deployment of another commit in env whose
// newest status says it is still going (queued, pending, in_progress, waiting) and whose
// last activity (record or status creation) is within window of now. Records of every
// creator count, GitHub Actions' own environment records included: they show a deploy job
// really running. Only the blockerChecks most recently active records are read.
func findBlocker(ctx context.Context, gh GitHub, env, sha string, window time.Duration, now time.Time) (*github.Deployment, *github.DeploymentStatus, error) {
	recs, err := gh.ListDeployments(ctx, github.DeploymentFilter{Environment: env})
	if err != nil {
		return nil, nil, fmt.Errorf("list deployments of %s to find one in progress: %w", env, err)
	}
	var others []github.Deployment
	for _, r := range recs {
		if sameEnv(r.Environment, env) && !strings.EqualFold(r.SHA, sha) {
			others = append(others, r)
		}
	}
	// A reused record is old but active again: UpdatedAt (when GitHub bumps it) says so.
	activity := func(d github.Deployment) time.Time { return later(d.CreatedAt, d.UpdatedAt) }
	slices.SortStableFunc(others, func(a, b github.Deployment) int {
		if c := activity(b).Compare(activity(a)); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
	for i, r := range others {
		if i == blockerChecks {
			break
		}
		ss, err := statuses(ctx, gh, r.ID)
		if err != nil {
			return nil, nil, err
		}
		if len(ss) == 0 || !active(ss[0].State) {
			continue
		}
		if now.Sub(later(r.CreatedAt, ss[0].CreatedAt)) > window {
			continue
		}
		rec, s := r, ss[0]
		return &rec, &s, nil
	}
	return nil, nil, nil
}

// LastKnownGood returns the newest deployment of env (by CreatedAt, ties by ID) whose newest
// status is success and whose commit is not exclude, with that status. Records whose newest
// status is anything else (failure, error, inactive, in_progress, queued, pending) are
// skipped, and so is a commit rolled back after that success: any record of the same commit
// with a "rolled back" status at or after it (a commit re-deployed with force and validated
// again after its rollback counts as good). Records of every creator count: a deployment made
// before release-action was adopted can be the last known good. None -> (nil, nil, nil).
func LastKnownGood(ctx context.Context, gh GitHub, env, exclude string) (*github.Deployment, *github.DeploymentStatus, error) {
	recs, err := gh.ListDeployments(ctx, github.DeploymentFilter{Environment: env})
	if err != nil {
		return nil, nil, fmt.Errorf("list deployments of %s to find the last known good one: %w", env, err)
	}
	sortDeployments(recs)
	cache := map[int64][]github.DeploymentStatus{}
	get := func(id int64) ([]github.DeploymentStatus, error) {
		if ss, ok := cache[id]; ok {
			return ss, nil
		}
		ss, err := statuses(ctx, gh, id)
		if err != nil {
			return nil, err
		}
		cache[id] = ss
		return ss, nil
	}
	for _, r := range recs {
		if r.SHA == "" || !sameEnv(r.Environment, env) || strings.EqualFold(r.SHA, exclude) {
			continue
		}
		ss, err := get(r.ID)
		if err != nil {
			return nil, nil, err
		}
		if len(ss) == 0 || ss[0].State != "success" {
			continue
		}
		rolled := false
		for _, o := range recs {
			if rolled || !strings.EqualFold(o.SHA, r.SHA) || !sameEnv(o.Environment, env) {
				continue
			}
			oss, err := get(o.ID)
			if err != nil {
				return nil, nil, err
			}
			rolled = slices.ContainsFunc(oss, func(s github.DeploymentStatus) bool {
				return isRolledBack(s) && !s.CreatedAt.Before(ss[0].CreatedAt)
			})
		}
		if rolled {
			continue
		}
		rec, s := r, ss[0]
		return &rec, &s, nil
	}
	return nil, nil, nil
}

// statuses reads a record's statuses, newest first.
func statuses(ctx context.Context, gh GitHub, id int64) ([]github.DeploymentStatus, error) {
	ss, err := gh.ListDeploymentStatuses(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("list statuses of deployment %d: %w", id, err)
	}
	sortStatuses(ss)
	return ss, nil
}

// active reports whether a status state means the deployment is still going.
func active(state string) bool {
	switch state {
	case "queued", "pending", "in_progress", "waiting":
		return true
	}
	return false
}

// sameEnv compares environment names as GitHub does (case-insensitively); an empty name on
// a record (not filled by the server) is taken as the filtered one.
func sameEnv(got, want string) bool { return got == "" || strings.EqualFold(got, want) }

func newer(a, b github.DeploymentStatus) bool {
	if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
		return c > 0
	}
	return a.ID > b.ID
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
