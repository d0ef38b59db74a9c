package rotate

import (
	"cmp"
	"context"
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

// current finds the commit env runs: the newest Deployment record (of any creator) whose
// newest verdict says its deploy run put the commit in place — success, or
// release-action's "deployed; validating" and "smoke failed" (the commit runs, validated
// or not). Failed deploys, rollbacks (their "rolled back" status), GitHub's
// auto-inactive statuses and failed rotations are passed over. Records whose ref is a
// bare commit SHA cannot be redeployed through a workflow dispatch and are passed over
// too. Found false when no record qualifies.
func current(ctx context.Context, gh deploy.GitHub, env string) (Running, bool, error) {
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
	for _, r := range recs {
		if r.SHA == "" || r.Ref == "" || fullSHA.MatchString(r.Ref) || (r.Environment != "" && !strings.EqualFold(r.Environment, env)) {
			continue
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
				return Running{SHA: r.SHA, Tag: r.Ref, DeploymentID: r.ID}, true, nil
			}
			break
		}
	}
	return Running{}, false, nil
}
