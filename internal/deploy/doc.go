// Package deploy deploys one commit to one environment the way the release runbook asks,
// with the state kept in GitHub so that a re-run resumes instead of duplicating:
//
//   - One Deployment record per (environment, commit), ref = the candidate tag, created by
//     release-action (description "release-action: <tag>", payload release_action=1).
//     Records GitHub Actions makes itself for jobs with `environment:` are recognised as not
//     ours and never reused or written to.
//   - Statuses say where the deployment stands, each description prefixed "release-action: "
//     and at most 140 characters: in_progress "deploying (run N)", in_progress "deployed;
//     validating", success "deployed and validated", failure "deploy failed: ...", failure
//     "smoke failed: ...", error "deploy error: ...", failure "rolled back: ...". Inspect
//     reads them back as a Stage.
//   - The trigger is a workflow_dispatch of the deploy workflow (default deploy.yml) on the
//     tag with inputs environment, ref and deployment_id, which works with GITHUB_TOKEN; or the
//     `deployment` event, where the record's creation starts the workflow. deploy.workflow
//     must name the workflow in both modes: with the event it is the workflow whose runs are
//     followed. Deployments created with GITHUB_TOKEN start no workflows: without a run
//     within the grace the deployment ends with that explanation.
//   - The run is followed to completion with the Clock; waits for environment reviewers are
//     reported and timed; the environment's timeout bounds the whole deployment. A run that
//     outlives it is not cancelled: Next (and Deploy) follow it on a re-run while it runs
//     instead of starting a second one.
//   - Next says what a re-run does with the state Inspect read, including whether another
//     commit was deployed to the environment since (then the commit is deployed again, not
//     validated as it stands); callers check deployment windows whenever it says
//     ActionTrigger.
//   - LastKnownGood reads GitHub's auto_inactive statuses as "superseded", not "bad", and
//     lets release-action's own verdict on a commit (smoke failed, never validated) win over
//     the success of the record GitHub Actions makes for the deploy job.
//
// Only API failures and cancellation are errors; outcomes are Result values.
package deploy
