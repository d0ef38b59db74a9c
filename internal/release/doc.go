// Package release runs the release runbook's section 2 for one commit: gate the candidate,
// tag it, deploy and validate each environment in configuration order (staging, then
// production in its maintenance window), watch the last environment with the post-release
// monitor, then make the release tag and its GitHub release.
//
// The release's state lives in GitHub, so a re-run of the same commit resumes instead of
// duplicating anything:
//
//   - Before the gate, without writing, Run reads the version file (for {version}), looks
//     for the release tag, and inspects every environment. A release tag naming another
//     commit stops the release at once (tags never move). A release tag naming the commit,
//     every environment validated and the GitHub release present (when configured) mean the
//     release is complete: Run writes nothing, runs no gate and reports every step "reused"
//     from GitHub's records. An environment the commit was rolled back from refuses the
//     release before anything is tagged or deployed, unless Force (the kargo#3016 lesson).
//   - The candidate tag of the commit is reused when one exists (names of the template,
//     newest first); otherwise the next free {n} is taken. A name another commit takes
//     meanwhile (a concurrent release) moves on to the next {n}, at most three times.
//   - Per environment, deploy.Inspect and deploy.Next say where the deployment stands:
//     validated (reused as it is), deployed or smoke failed (validated again, no new
//     deploy, unless another commit was deployed there since: then deployed again),
//     deploying or timed out with its run still running (the run is followed, never a
//     second one started), or anything else, a gone or failed run included (deployed
//     again, with the same Deployment record). The window is checked whenever a new deploy
//     run would start, and only then.
//   - The monitor is reused when the release tag already names the commit (it is made only
//     after the monitor passed), or when the last environment's deployment carries the
//     success status "deployed and validated; monitor passed" that the release adds once
//     the monitor passed: a re-run after a later step failed does not watch again.
//   - A failed automatic rollback is named in the monitor step and the release's reason
//     ("auto-rollback FAILED: <what the environment is left running>").
//
// Decisions where the runbook is silent:
//   - The environment named "production" (deploy.ProductionIndex), else the last one, is
//     deployed with production_environment true. The monitor watches the last environment
//     (the one deployed last, before the release tag).
//   - {date} matches any date when existing tags are looked for, so a re-run on the next
//     day still finds the candidate; new names use today's UTC date, and {n} counts from
//     the highest number of today's names.
//   - A missing or unusable version file fails the step that needs {version} (the candidate
//     tag, or the release tag when only its template uses it) before the gate runs.
//   - A window that never opens within window.Horizon fails the release (nothing to
//     schedule); a closed window that opens later than max-wait schedules it.
//   - An environment without smoke probes is marked validated after its deploy, and its
//     validate step is reported "skipped".
//   - A failed monitor leaves the release without its release tag; the monitor decides on
//     rollback itself (MonitorOutcome.RolledBack).
package release
