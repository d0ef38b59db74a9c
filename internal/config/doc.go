// Package config reads .github/release-action.yml, the file in which a repository tells
// release-action what gates a release, how tags are named, how deployments are triggered,
// which environments are deployed, when, and how they are watched.
//
// Load and Parse return the effective configuration: every key is optional and every
// default is filled in, so consumers never see a zero value where a default exists. A
// missing file is the built-in Agent Me configuration (Default): the runbook's four gates
// and policy, the default tag templates and deploy workflow, and no environments.
// (*Config).YAML and JSON print the effective configuration; YAML output parses back to an
// equal Config.
//
// # Keys are declared once
//
// Every key is one row of the table in keys.go: its name, the Go field it decodes into,
// its kind, default, allowed values, duration bounds and a one-line doc. The table
// drives everything that knows a key: decoding (allowed keys, unknown-key suggestions
// by Levenshtein distance), defaults, printing (YAML and JSON, `release-action config`),
// the generic checks (allowed values, duration bounds), the key paths in messages (the
// validator names a field by its address, never by spelling its key: see pathsOf), and
// the JSON Schema (Schema), published at SchemaPath.
//
// To add a key:
//
//  1. add the field to its struct in types.go (no struct tags: the table names it);
//  2. add one row to keys.go under its parent, e.g.
//     {Name: "notify", Field: "Notify", Kind: vTexts, What: "team handles", Doc: "Teams told of a release"};
//     a new section is a row of Kind vObject (or vList) whose Keys are its rows;
//  3. if the value needs a check beyond its kind, allowed values and bounds, add it to
//     validate.go, naming the field with v.path(&x.Field);
//  4. run go test ./internal/config -update: it rewrites the published schema and the
//     golden effective configurations; review and commit them.
//
// TestTableMatchesTypes fails when a field has no row or a row no field.
//
// # Errors
//
// A file is checked as a whole and every problem is reported, each as an *Error with the
// file, line and column of the key or value at fault, the path of the key
// (gates[2].tests.files) and a message that names the allowed keys or values. Several
// problems come joined with errors.Join, sorted by position; Errors unpacks them. The
// package walks goccy/go-yaml's syntax tree itself rather than decoding reflectively, which
// is what makes positions exact and lets one run report everything. A problem that
// follows from another (a required key whose value failed to parse) is not reported twice.
//
// # Decisions where the design was silent
//
//   - A key with no value (`policy:`) counts as absent. An explicit empty or zero value
//     (`timeout: 0s`, `skipped: ""`) is an error rather than silently the default.
//   - `gates:` replaces the built-in gates entirely. An empty list is an error: a release
//     with no gates would pass unchecked (fail closed); remove the key for the defaults.
//   - `smoke: []` on an environment means no probes, which is the one way to deploy an
//     environment without a gateway URL. Any probe (the environment's or its monitor's)
//     needs url and exactly one of token-env / password-env. A monitor must watch
//     something: smoke probes or Prometheus checks.
//   - Credentials never live in the file: `token:` or `password:` where token-env or
//     password-env is allowed, a URL with user info, and a token-env value that looks like
//     a token are errors, and those messages never repeat the value.
//   - Gate names and environment names are unique regardless of case (GitHub ignores case
//     in environment names; gate names label check-run output).
//   - tags.candidate and tags.release must differ. Templates accept {version}, {n}, {sha7}
//     and {date}; a template is also rendered with sample values and must give a name git
//     accepts as a tag (no spaces, "..", "~", ...).
//   - deploy.workflow is a file name (deploy.yml) or a numeric workflow id, never a path.
//   - Waits are capped at 6h (policy.timeout, environment timeout, window max-wait, monitor
//     duration), the most a job on a GitHub-hosted runner may run; the appear timeout may
//     not exceed the gate timeout; a monitor needs interval < duration and sustained × interval <=
//     duration, else a breach could never be seen.
//   - Windows: days are Mon..Sun or full names in any case, stored as Mon..Sun; times are
//     HH:MM (H:MM accepted) from 00:00 to 24:00, start before 24:00; end at or before start
//     runs past midnight, so equal times are a 24-hour window. A freeze date covers the
//     whole day in the window's zone, To inclusive; from must be before to. A window needs
//     weekly entries or freezes (a window with neither is almost surely a mistake), and a
//     time zone that loads ("Local" is refused: it depends on the machine).
//   - Prometheus URLs may be plain http unless a token-env is set, when only https or a
//     loopback host is accepted; gateway URLs are https, or http on a loopback host only.
//   - Anchors, aliases and merge keys (<<) work; custom tags (!env) are refused; a file
//     holds one YAML document; files over 1 MiB or nested past 50 levels (100 brackets)
//     are refused before parsing.
//   - Scalars read as the text written: `name: 0123` is "0123". A plain number such as
//     1e-3 is a number where one is wanted; a quoted "0.5" stays text and is refused there.
//
// Time zones load through time.LoadLocation; the binary embeds tzdata (time/tzdata in
// main), and tests of packages that parse windows should import it too.
package config
