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
// from env, whether a deployment of another commit is still in progress there (younger
// than 2x envTimeout at now; envTimeout 0 means DefaultTimeout), and whether another
// commit was deployed there since this one (State.Superseded).
func Inspect(ctx context.Context, gh GitHub, env string, sha string, envTimeout time.Duration, now time.Time) (State, error) {
	st, err := inspectCommit(ctx, gh, env, sha)
	if err != nil {
		return State{}, err
	}
	if envTimeout <= 0 {
		envTimeout = DefaultTimeout
	}
	recs, err := gh.ListDeployments(ctx, github.DeploymentFilter{Environment: env})
	if err != nil {
		return State{}, fmt.Errorf("list deployments of %s to find one in progress: %w", env, err)
	}
	var others []github.Deployment
	for _, r := range recs {
		if sameEnv(r.Environment, env) && !strings.EqualFold(r.SHA, sha) {
			others = append(others, r)
		}
	}
	// A reused record is old but active again: UpdatedAt (when GitHub bumps it) says so.
	slices.SortStableFunc(others, func(a, b github.Deployment) int {
		if c := activity(b).Compare(activity(a)); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
	cache := statusCache{}
	st.Blocker, st.BlockerStatus, err = findBlocker(ctx, gh, cache, others, 2*envTimeout, now)
	if err != nil {
		return State{}, err
	}
	if !st.deployedAt.IsZero() {
		st.Superseded, st.SupersededStatus, err = findSuperseded(ctx, gh, cache, others, st.deployedAt)
		if err != nil {
			return State{}, err
		}
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
	SortNewestFirst(recs)
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
				if id := timedOutRunOf(latest); id != 0 {
					st.TimedOut, st.RunID = true, id
				}
				st.Monitored = isMonitored(latest)
			}
			st.deployedAt = deployedAt(ss)
		}
	}
	// Only where the environment may still run (or be about to run) the commit does it
	// matter whether another commit was deployed since.
	switch {
	case st.Stage == StageDeploying, st.Stage == StageDeployed, st.Stage == StageSmokeFailed, st.TimedOut:
	default:
		st.deployedAt = time.Time{}
	}
	return st, nil
}

// deployedAt is when the commit was last put into the environment: the newest
// release-action "deploying" or "deployed; validating" status (statuses newest first).
func deployedAt(ss []github.DeploymentStatus) time.Time {
	for _, s := range ss {
		if !ours(s) {
			continue
		}
		if st := StageOf(s); st == StageDeploying || st == StageDeployed {
			return s.CreatedAt
		}
	}
	return time.Time{}
}

// statusCache holds the statuses of records already read, newest first.
type statusCache map[int64][]github.DeploymentStatus

func (c statusCache) get(ctx context.Context, gh GitHub, id int64) ([]github.DeploymentStatus, error) {
	if ss, ok := c[id]; ok {
		return ss, nil
	}
	ss, err := statuses(ctx, gh, id)
	if err != nil {
		return nil, err
	}
	c[id] = ss
	return ss, nil
}

// activity is when a record was last active: created, or (when GitHub bumps UpdatedAt for a
// new status) given a status.
func activity(d github.Deployment) time.Time { return later(d.CreatedAt, d.UpdatedAt) }

// findBlocker returns the most recently active deployment of another commit (others, most
// recently active first) whose newest status says it is still going (queued, pending,
// in_progress, waiting) and whose last activity (record or status creation) is within
// window of now. Records of every creator count, GitHub Actions' own environment records
// included: they show a deploy job really running. Only the blockerChecks most recently
// active records are read.
func findBlocker(ctx context.Context, gh GitHub, cache statusCache, others []github.Deployment, window time.Duration, now time.Time) (*github.Deployment, *github.DeploymentStatus, error) {
	for i, r := range others {
		if i == blockerChecks {
			break
		}
		ss, err := cache.get(ctx, gh, r.ID)
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

// findSuperseded returns the most recently active deployment of another commit (others,
// most recently active first) with a status after since that put it into the environment:
// success (of any creator) or release-action's "deployed; validating". Only records active
// after since are read.
func findSuperseded(ctx context.Context, gh GitHub, cache statusCache, others []github.Deployment, since time.Time) (*github.Deployment, *github.DeploymentStatus, error) {
	for _, r := range others {
		if !activity(r).After(since) {
			break // sorted by activity: none of the rest was active since
		}
		ss, err := cache.get(ctx, gh, r.ID)
		if err != nil {
			return nil, nil, err
		}
		for _, s := range ss {
			if !s.CreatedAt.After(since) {
				break // newest first
			}
			if s.State == "success" || (ours(s) && StageOf(s) == StageDeployed) {
				rec, st := r, s
				return &rec, &st, nil
			}
		}
	}
	return nil, nil, nil
}

// LastKnownGood returns the newest deployment of env (by CreatedAt, ties by ID) that is known
// good, with its success status, skipping the commit exclude. A record is good when its
// newest status that is not an auto-inactive one is success: GitHub adds an "inactive"
// status (auto_inactive) to earlier successful non-production deployments when a newer one
// succeeds, so an inactive status release-action did not write, following a success, keeps
// the record good; a record whose last other status is failure, error, in progress, queued
// or pending (or that has only inactive ones) is skipped. A commit is skipped as a whole
//
//   - when it was rolled back after that success: any record of it with a "rolled back"
//     status at or after it (a commit re-deployed with force and validated again after its
//     rollback counts as good);
//   - when release-action's own verdict on it is not "validated": any release-action record
//     of it whose newest stage is deploying, deployed (never validated), smoke failed or
//     deploy failed. The record GitHub Actions makes for the deploy job's `environment:`
//     ends success as soon as the job does, before release-action validated (or failed)
//     the commit; it must not override release-action's verdict.
//
// Records of every creator count otherwise: a deployment made before release-action was
// adopted can be the last known good. None -> (nil, nil, nil).
func LastKnownGood(ctx context.Context, gh GitHub, env, exclude string) (*github.Deployment, *github.DeploymentStatus, error) {
	recs, err := gh.ListDeployments(ctx, github.DeploymentFilter{Environment: env})
	if err != nil {
		return nil, nil, fmt.Errorf("list deployments of %s to find the last known good one: %w", env, err)
	}
	SortNewestFirst(recs)
	cache := statusCache{}
	// badCommit reports whether release-action's records of the commit say it is not good
	// after its success at `since`.
	badCommit := func(sha string, since time.Time) (bool, error) {
		for _, o := range recs {
			if !strings.EqualFold(o.SHA, sha) || !sameEnv(o.Environment, env) {
				continue
			}
			oss, err := cache.get(ctx, gh, o.ID)
			if err != nil {
				return false, err
			}
			if slices.ContainsFunc(oss, func(s github.DeploymentStatus) bool {
				return isRolledBack(s) && !s.CreatedAt.Before(since)
			}) {
				return true, nil
			}
			if !isOurRecord(o) || o.Task == TaskRotate {
				// A rotation's verdict is about credentials, not about the commit.
				continue
			}
			if s := lastVerdict(oss); s != nil {
				switch StageOf(*s) {
				case StageDeploying, StageDeployed, StageSmokeFailed, StageDeployFailed:
					return true, nil
				}
			}
		}
		return false, nil
	}
	for _, r := range recs {
		if r.SHA == "" || !sameEnv(r.Environment, env) || strings.EqualFold(r.SHA, exclude) {
			continue
		}
		ss, err := cache.get(ctx, gh, r.ID)
		if err != nil {
			return nil, nil, err
		}
		s := lastVerdict(ss)
		if s == nil || s.State != "success" {
			continue
		}
		bad, err := badCommit(r.SHA, s.CreatedAt)
		if err != nil {
			return nil, nil, err
		}
		if bad {
			continue
		}
		rec, good := r, *s
		return &rec, &good, nil
	}
	return nil, nil, nil
}

// lastVerdict returns the newest status (statuses newest first) that is not an "inactive"
// release-action did not write (GitHub's auto_inactive), nil if there is none.
func lastVerdict(ss []github.DeploymentStatus) *github.DeploymentStatus {
	for i := range ss {
		if ss[i].State == "inactive" && !ours(ss[i]) {
			continue
		}
		return &ss[i]
	}
	return nil
}

// statuses reads a record's statuses, newest first.
func statuses(ctx context.Context, gh GitHub, id int64) ([]github.DeploymentStatus, error) {
	ss, err := gh.ListDeploymentStatuses(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("list statuses of deployment %d: %w", id, err)
	}
	SortStatusesNewestFirst(ss)
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
