// Package ghemu is a GitHub emulator: a real HTTP server that answers the REST and
// GraphQL requests release-action's client sends, the way GitHub Enterprise Server
// lays them out (REST under /api/v3, GraphQL at POST /api/graphql). Tests, benchmarks
// and `release-action sandbox` drive it; it deliberately does not import
// internal/github, because it is the other side of that client.
//
// # Using it
//
//	clk := clock.NewVirtual(start)
//	s := ghemu.New(ghemu.Options{Clock: clk, Token: "t"})
//	base := s.Start() // REST: base+"/api/v3", GraphQL: base+"/api/graphql"
//	defer s.Close()
//	s.LoadAgentMe(sha)            // workflows, main -> sha, Install Smoke and Deploy handlers
//	ci, sec := s.AgentMePush(sha) // passing CI and Security Gate runs, created now
//	clk.Advance(10 * time.Minute) // jobs move queued -> in_progress -> completed
//
// Scenarios are built with AddCommit, AddBranch, AddTag, AddAnnotatedTag, AddFile,
// AddWorkflow, ConfigureWorkflow, OnDispatch, OnDeployment, AddRun, Rerun,
// AddCheckRun, AddStatus, AddArtifact, AddDeployment, ProtectEnvironment, Approve and
// FailDeploys; Inject adds faults (5xx, secondary rate limits, delays). Stats,
// GraphQLQueries, Dispatches, Refs, Tags, Releases, Deployments, Issues and
// RateRemaining let a test assert what the client did. agentme.go builds the Agent Me
// workflows' realistic jobs (CIJobs, SecurityGateJob, InstallSmokeJobs, DeployJob,
// VitestLog); LoadAgentMe makes a Deploy dispatch run DeployJobs(environment).
//
// A release scenario in brief:
//
//	s.LoadAgentMe(sha)
//	s.AddFile(sha, "package.json", []byte(`{"version":"2026.2.9"}`))
//	s.ProtectEnvironment("production", []string{"@agentme/release-owners"}, 0, 10*time.Minute)
//	s.FailDeploys("staging", 1) // the first staging deploy run concludes failure
//
// # What behaves like GitHub
//   - Endpoints: commits (sha, unique 7+ hex prefix, branch or tag; the sha media type),
//     check runs/suites, combined status and statuses, branches-where-head, workflows
//     by id or file name, workflow runs (filters head_sha, event, branch, status,
//     created, check_suite_id), dispatches (return_run_details), jobs (filter
//     latest|all, attempts), job logs and artifact zips (302 to a signed same-server
//     URL under /_blobs/ that needs no token), git refs, check runs created and
//     updated through the API, rate_limit. Phase 2: contents (files and directories,
//     base64 wrapped at 60 columns, git blob shas), annotated tag objects (POST and GET
//     /git/tags, shas computed as git does) and refs to them (object.type "tag"),
//     releases (create, get by id or tag, latest, list, update; a missing tag is created
//     from target_commitish), deployments and their statuses (filters, newest first,
//     409 on required_contexts, auto_inactive, delete), pending_deployments of a run
//     waiting on a protected environment, issues. Any other path answers 404 JSON.
//   - JSON field names and shapes, status codes and error messages; pagination with
//     per_page (max 100), page and RFC 5988 Link headers (prev, next, last, first);
//     a strong ETag on every GET (a hash of the Authorization header and the body,
//     since GitHub ties ETags to the token) and 304 on If-None-Match;
//     X-GitHub-Request-Id; x-ratelimit-* headers with an hourly primary limit per
//     resource (core for REST requests, graphql for points); 304 answers are free.
//   - Check runs, jobs, steps and workflow runs whose state moves queued ->
//     in_progress -> completed as Options.Clock moves: nothing is stored about the
//     present, everything is computed from creation times and JobSpecs. A job's check
//     run id equals its job id; each workflow run is one check suite.
//   - A workflow is its file: two files may declare the same name (AddWorkflow with two
//     paths), and the methods that take a workflow accept its path to tell them apart.
//     Runs say which file ran: REST path and workflow_id, GraphQL workflow.databaseId
//     and file.path.
//   - GraphQL documents are parsed and validated with gqlparser against schema.graphql,
//     a verbatim subset of GitHub's public schema (a test compares it with
//     testdata/github-schema.graphql), then executed over the same state: variables,
//     aliases, fragments, @skip/@include, __typename, connections with opaque cursors,
//     statusCheckRollup (latest check run per name per check suite plus the latest
//     status per context), rateLimit with GitHub's cost formula.
//
// # Decisions where the brief left GitHub's behaviour open
//   - started_at is null while a check run or job is queued; jobs carry created_at.
//   - Durations in JobSpec are rounded to whole seconds and runs are created at a whole
//     second, because GitHub reports job and step times to the second; log lines carry
//     7 fractional digits and always fall inside their step's [started_at, completed_at].
//   - A job with Steps gets "Set up job" (step 1) and "Complete job" (last) like GitHub,
//     and its log starts with a UTF-8 byte-order mark, as GitHub's job logs do. A
//     skipped job, or one not completed yet, has no log (404).
//   - A re-run keeps the run id and its check suite (that is why filter=latest, which
//     de-duplicates within a suite, hides the old attempt); its new jobs get higher ids.
//   - Check runs created through POST /check-runs (GITHUB_TOKEN: the github-actions app)
//     go into one check suite per commit that has no workflow run; only those can be
//     PATCHed (an Actions job's check run answers 403).
//   - Signed blob URLs (job logs, artifact zips) do not expire: a clock.Virtual advanced
//     by other goroutines between the 302 and the GET would otherwise make tests flaky.
//   - GraphQL pagination follows GitHub's documented rules strictly: every connection
//     needs first or last within 1-100 (MISSING_PAGINATION_BOUNDARIES,
//     EXCESSIVE_PAGINATION, INVALID_PAGINATION), at most 500,000 nodes per query
//     (MAX_NODE_LIMIT_EXCEEDED). Cost follows GitHub's formula: requests needed for
//     every connection / 100, rounded, at least 1; rateLimit(dryRun: true) charges
//     nothing. Over the limit GraphQL answers 200 with a RATE_LIMITED error.
//   - Rollup state: any failed check run (a completed conclusion other than success,
//     neutral or skipped) or failure status is FAILURE, then ERROR, then PENDING
//     (anything not completed, or a pending status), else SUCCESS. A commit with no
//     check runs and no statuses has a null statusCheckRollup.
//   - Workflow dispatch accepts a branch or tag, short or as refs/heads/x, refs/tags/x.
//     Without ConfigureWorkflow a workflow is dispatchable and accepts any inputs.
//   - Refs may name an annotated tag object; everything that needs a commit (commit
//     endpoints, dispatch, deployments, releases, GraphQL's Ref.target, which has no Tag
//     type in schema.graphql) peels it to the commit. Refs returns what refs point at.
//   - Files belong to one commit (no history: another commit does not inherit them).
//     GET /contents without ref reads main; a file over 1 MiB answers encoding "none".
//   - Releases: created_at is the date of the release's commit, as GitHub documents; a
//     draft creates no tag and is not found by GET /releases/tags/{tag} until published.
//     Generated notes ("## What's Changed", one line for the tagged commit, then
//     "**Full Changelog**" from the previous published release) follow the body after a
//     blank line. make_latest "true" (or absent) elects a published full release.
//   - Deployments: ref is a branch, tag (annotated ones peeled), full or short sha, else
//     422 "No ref found for: x". required_contexts absent or null requires every check
//     run (newest per name within its check suite) and status (newest per context) on
//     the commit to be success, else 409 naming each context; [] requires nothing; a named context the
//     commit lacks is reported with state "missing". auto_merge never merges (no
//     history), so there is no 202. The payload is kept as sent (a string stays a
//     string; absent is {}). environment defaults to production, and
//     production_environment to environment == "production". Lists are newest first
//     (by id); every write is by github-actions[bot], as with GITHUB_TOKEN.
//   - auto_inactive (default true) on a success status adds an inactive status to every
//     earlier non-transient, non-production deployment of the same environment whose
//     newest status is success. DELETE works on the repository's only deployment, or
//     on one whose newest status is not success (GitHub's documented rule), else 422.
//   - Protected environments: a run dispatched with input environment=<protected> (or
//     started by a deployment to it) is "waiting", and its jobs "waiting" with no
//     runner, until approved (Approve, or automatically approveAfter after the run was
//     created) and the wait timer has passed; then its jobs queue. The gate covers the
//     first attempt only. pending_deployments lists the environment while the run
//     waits (current_user_can_approve false: GITHUB_TOKEN cannot approve); approving
//     or rejecting through the API is not emulated.
//   - Options.TokenStartsWorkflows false (the default) is GITHUB_TOKEN: a deployment
//     starts no workflow. True starts one "deployment" run per OnDeployment workflow,
//     head_branch being the deployed branch or tag (empty for a sha). Actions jobs do
//     not create deployment records of their own as GitHub does for jobs that declare
//     an environment: only API calls and AddDeployment make them.
//   - FailDeploys counts per environment and is used up by DeployJobs, which the
//     default Deploy handler calls; a custom OnDispatch/OnDeployment handler calls
//     DeployJobs itself to honour it.
//   - Issues: labels are names or {"name"} objects; unknown ones are created (color
//     ededed); a known label keeps its first spelling.
//
// State lives in one mutex-protected world struct and REST endpoints in one route
// table (restRoutes); OnDispatch and OnDeployment handlers run without the lock.
package ghemu
