// Package monitor is the runbook's post-release verification (section 6): for a fixed
// duration (default 45m) it checks an environment once per interval (default 1m) and
// fails on a sustained breach, so that a release can roll back by itself.
//
// Each interval reads these signals:
//
//   - one per smoke probe of the monitor's subset (default connect-auth, channel,
//     tool-call): the probe passed (ok) or failed (bad). Every interval writes to the same
//     chat session (one key per monitor run) and does not wait for readiness: a gateway
//     that is down is bad, not "still starting".
//   - "restarts": the gateway process restarted since the previous interval (its uptime
//     went down, or it is younger than the time since the previous interval allows), a
//     probe saw it restart during the interval (smoke.ServerInfo.Restarted), or a
//     connection was closed with 1012 service restart. Present when a WebSocket probe
//     (connect-auth, control-ui, channel) runs, since only hello-ok carries the uptime.
//   - one per Prometheus check: an instant query whose value must stay within max and/or
//     min. The query is evaluated at the Prometheus server's own "now", not the monitor's,
//     so clock skew between the runner and Prometheus does not matter.
//
// No data is not a pass (argo-rollouts#4479: an analysis whose measurements all errored
// reported success). A query that errors, returns an empty vector or only NaN (a quantile
// over no observations), or a restart signal without a hello-ok, is "no data". With
// no-data "fail" (the default) it counts as a bad interval; with "ignore" the interval is
// skipped for that signal: it neither extends nor breaks a run of bad intervals. Even
// with "ignore", a monitor in which no signal ever produced data fails: nothing was
// proven good.
//
// A breach is Sustained (default 3) consecutive bad intervals of the SAME signal; a
// single bad interval never triggers anything. The monitor stops at the first breach
// with Verdict "fail" and the breached Signal, and then calls OnBreach (the CLI wires
// the automatic rollback there, with reason "monitor: <signal>").
//
// The monitor's own probes show up in the gateway's metrics: each interval the subset
// causes 3 auth failures (connect-auth's wrong-token connect; tool-call's unauthenticated
// and wrong-token calls) and no bootstrap exchange failure (the bootstrap probe, if added,
// causes 1). They are NOT subtracted from query results, because a PromQL expression's
// shape (rate, increase, window, aggregation) is unknown to the monitor: thresholds must
// allow for them. With a 1m interval that is 0.05 auth failures per second, 3 per
// minute, 15 in a [5m] increase. Result.ProbeLoad states the numbers for the configured
// probes and interval. RunbookChecks lists checks for the runbook's signals.
package monitor
