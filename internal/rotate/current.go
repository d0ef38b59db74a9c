package rotate

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/agentme/release-action/internal/deploy"
	"github.com/agentme/release-action/internal/github"
)

// Running is the deployment that put the commit an environment runs in place.
type Running struct {
	SHA          string `json:"commit"`
	Tag          string `json:"tag"`
	DeploymentID int64  `json:"deployment_id"`
}

var fullSHA = regexp.MustCompile(`^[0-9a-fA-F]{40}$`)

// current finds the commit env runs: the newest Deployment record (release-action's
// first, then any creator's) whose
// newest verdict says its deploy run put the commit in place — success, or
// release-action's "deployed; validating" and "smoke failed" (the commit runs, validated
// or not). Failed deploys, rollbacks (their "rolled back" status), GitHub's
// auto-inactive statuses and failed rotations are passed over, and so are records whose
// ref is not a tag that still names their commit (a bare SHA, or a branch, cannot be
// redeployed as what it was). Found false when no record qualifies.
func current(ctx context.Context, gh GitHub, env string) (Running, bool, error) {
	recs, err := gh.ListDeployments(ctx, github.DeploymentFilter{Environment: env})
	if err != nil {
		return Running{}, false, fmt.Errorf("list the deployments of %s to find the commit it runs: %w", env, err)
	}
	slices.SortStableFunc(recs, func(a, b github.Deployment) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
	// release-action's own records first: a job with `environment:` (the rotation's own
	// job included) makes GitHub record a deployment of whatever branch the workflow ran
	// on, which is not what the environment runs.
	for _, mine := range []bool{true, false} {
		for _, r := range recs {
			if ours(r) != mine {
				continue
			}
			run, ok, err := runs(ctx, gh, env, r)
			if err != nil || ok {
				return run, ok, err
			}
		}
	}
	return Running{}, false, nil
}

// runs reports whether record r put its commit in place (see current).
func runs(ctx context.Context, gh GitHub, env string, r github.Deployment) (Running, bool, error) {
	if r.SHA == "" || r.Ref == "" || fullSHA.MatchString(r.Ref) || (r.Environment != "" && !strings.EqualFold(r.Environment, env)) {
		return Running{}, false, nil
	}
	ss, err := gh.ListDeploymentStatuses(ctx, r.ID)
	if err != nil {
		return Running{}, false, fmt.Errorf("list the statuses of deployment %d of %s: %w", r.ID, env, err)
	}
	slices.SortStableFunc(ss, func(a, b github.DeploymentStatus) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
	for _, s := range ss {
		if s.State == "inactive" && !strings.HasPrefix(s.Description, deploy.Prefix) {
			// GitHub's auto_inactive: superseded, which says nothing about this record.
			continue
		}
		switch deploy.StageOf(s) {
		case deploy.StageValidated, deploy.StageDeployed, deploy.StageSmokeFailed:
			// Only a tag that still names the commit can be deployed again: a branch
			// (a job's own environment record) may have moved since.
			tag, err := gh.GetTag(ctx, r.Ref)
			switch {
			case errors.Is(err, github.ErrNotFound):
				return Running{}, false, nil
			case err != nil:
				return Running{}, false, fmt.Errorf("read tag %s of deployment %d of %s: %w", r.Ref, r.ID, env, err)
			case !strings.EqualFold(tag.SHA, r.SHA):
				return Running{}, false, nil
			}
			return Running{SHA: r.SHA, Tag: r.Ref, DeploymentID: r.ID}, true, nil
		}
		return Running{}, false, nil
	}
	return Running{}, false, nil
}

// ours reports whether release-action made the record (its description prefix or its
// payload's release_action).
func ours(d github.Deployment) bool {
	if strings.HasPrefix(d.Description, deploy.Prefix) {
		return true
	}
	var p struct {
		ReleaseAction int `json:"release_action"`
	}
	return json.Unmarshal(d.Payload, &p) == nil && p.ReleaseAction > 0
}
