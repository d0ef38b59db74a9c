// Package incident keeps runbook section 5 (the incident response checklist) as one GitHub
// issue per incident: the checklist with its states and the facts the action can establish
// (severity, a timeline from GitHub's records, an evidence bundle with sha256 sums, rotation
// proof, the endpoints to block, the regression tests the gate requires, and the
// post-incident notes with the impact window computed from the records).
//
// The issue body is the record: its state is kept in a hidden marker (base64 JSON in an
// HTML comment), so re-runs read it back and update the same issue, never a second one.
// Only issues the token's own identity wrote count as records (author and marker): an
// issue anyone opens, whatever its text, changes nothing, and never what the gate requires.
package incident

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/agentme/release-action/internal/clock"
	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/github"
	"github.com/agentme/release-action/internal/outcome"
	"github.com/agentme/release-action/internal/untrusted"
)

// API is what the incident needs from GitHub.
type API interface {
	LogFetcher
	Viewer(ctx context.Context) (string, error)
	ListIssues(ctx context.Context, f github.IssueFilter) ([]github.IssueRecord, error)
	GetIssue(ctx context.Context, number int) (github.IssueRecord, error)
	CreateIssueRecord(ctx context.Context, title, body string, labels []string) (github.IssueRecord, error)
	EditIssue(ctx context.Context, number int, e github.IssueEdit) (github.IssueRecord, error)
	CommentIssue(ctx context.Context, number int, body string) (string, error)
	ListDeployments(ctx context.Context, f github.DeploymentFilter) ([]github.Deployment, error)
	ListDeploymentStatuses(ctx context.Context, deploymentID int64) ([]github.DeploymentStatus, error)
	ListRunsBetween(ctx context.Context, from, to time.Time) ([]github.RunRecord, error)
}

// ErrBadInput marks a request the caller must fix (outcome's one sentinel).
var ErrBadInput = outcome.ErrBadInput

func badInput(format string, a ...any) error { return outcome.BadInputf(format, a...) }

// Actions.
const (
	ActionOpen   = "open"
	ActionUpdate = "update"
	ActionClose  = "close"
)

// Verdicts.
const (
	VerdictPass = outcome.Pass
	VerdictFail = outcome.Fail
)

// DefaultLabel labels every incident issue (plus severity:<value>).
const DefaultLabel = "incident"

// Options of one incident run.
type Options struct {
	Action string
	Config *config.Config
	// Environment (default production) names the environment the incident is about.
	Environment string
	// Issue targets an existing record by number (0: the open record of Environment).
	Issue int

	// open (and update, to reclassify)
	Severity        string
	Summary         string
	Since           string // RFC 3339, or a duration back from now ("6h"); default: see package doc
	RegressionTests []string
	Labels          []string // default: incident, severity:<value>
	// Rotate runs the rotate command as checklist item 3 (nil: rotation stays pending).
	Rotate Rotator
	// RotateUnavailable says why rotation was asked for but cannot run (no rotate command
	// in this build): item 3 is marked pending with that note.
	RotateUnavailable string
	// Rollback is the rollback that opens or feeds this record (rollback's open-issue):
	// it may open a record before anyone classified the severity. SinceAt/SinceFrom then
	// give the window's start the rollback read from the deployment records.
	Rollback  *RollbackFact
	SinceAt   time.Time
	SinceFrom string

	// update
	Tick   []string // item keys (or their numbers 1-6) to mark done with Note
	Reopen []string // item keys to mark open again with Note
	Note   string
	Events []string // timeline entries: "text", or "<RFC 3339 time> text"

	// close
	RootCause, Mitigations, FollowUps string

	// Actor is who runs it (GITHUB_ACTOR): who classified, ticked, closed.
	Actor string
	// RunURL is this workflow run.
	RunURL string
	// EvidenceRoot is where bundles go (the workspace); each collection gets its own
	// directory <root>/incident-evidence/<id>/<time>.
	EvidenceRoot string
	// Announce tells the rollback's webhooks (nil: not announced).
	Announce Announcer
	Clock    clock.Clock
	Progress func(string)
}

// Result of an incident run; its JSON field names are stable (the report output).
type Result struct {
	Verdict  outcome.Verdict `json:"verdict"`
	Reason   string          `json:"reason"`
	Action   string          `json:"action"`
	ID       string          `json:"id"`
	Issue    int             `json:"issue"`
	IssueURL string          `json:"issue_url"`
	Created  bool            `json:"created"`
	State    string          `json:"state"` // open, closed
	Record   *Record         `json:"record"`
	Timeline []Entry         `json:"timeline"`
	Evidence *EvidenceDigest `json:"evidence,omitempty"`
	// EvidencePath is the bundle's directory on this machine (the evidence-path output).
	EvidencePath string   `json:"evidence_path,omitempty"`
	Impact       *Window  `json:"impact_window,omitempty"`
	Announced    bool     `json:"announced"`
	Warnings     []string `json:"warnings,omitempty"`
	Body         string   `json:"-"`
	Environment  string   `json:"environment"`
}

// Run performs one incident action. A returned error with a nil Result means nothing was
// written; with a Result, the record was written as far as Result says.
func Run(ctx context.Context, api API, o Options) (*Result, error) {
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.Progress == nil {
		o.Progress = func(string) {}
	}
	o.Action = cmp.Or(strings.TrimSpace(o.Action), ActionOpen)
	o.Environment = cmp.Or(strings.TrimSpace(o.Environment), "production")
	o.Actor = cmp.Or(strings.TrimSpace(o.Actor), "unknown")
	if o.Config == nil {
		o.Config = config.Default()
	}
	r := &run{api: api, o: o, now: o.Clock.Now().UTC().Truncate(time.Second)}
	switch o.Action {
	case ActionOpen:
		if o.Severity == "" && o.Rollback != nil {
			break // classified later by people (update with severity)
		}
		if err := r.validateOpen(); err != nil {
			return nil, err
		}
	case ActionUpdate, ActionClose:
	default:
		return nil, badInput("action %q is not one of open, update, close", o.Action)
	}
	if len(o.RegressionTests) > 50 {
		return nil, badInput("regression-tests names %d files; at most 50: name the test files that prove the fix", len(o.RegressionTests))
	}
	for _, t := range o.RegressionTests {
		if strings.TrimSpace(t) == "" || strings.ContainsAny(t, "\n\r") || len(t) > 300 {
			return nil, badInput("regression-tests has an empty, multi-line or over-long entry: give one test file path (at most 300 characters) per entry")
		}
	}
	if err := r.find(ctx); err != nil {
		return nil, err
	}
	switch o.Action {
	case ActionOpen:
		return r.open(ctx)
	case ActionUpdate:
		return r.update(ctx)
	default:
		return r.close(ctx)
	}
}

type run struct {
	api   API
	o     Options
	now   time.Time
	me    string              // the token's login
	issue *github.IssueRecord // the existing record's issue (nil: none)
	rec   *Record
	res   Result
	added []Entry // timeline entries this run added
}

func (r *run) say(format string, a ...any) { r.o.Progress(fmt.Sprintf(format, a...)) }

func (r *run) warn(format string, a ...any) {
	r.res.Warnings = append(r.res.Warnings, fmt.Sprintf(format, a...))
}

func (r *run) validateOpen() error {
	switch r.o.Severity {
	case SeverityActiveExploit, SeverityAttemptedAbuse:
	case "":
		return badInput("open needs severity: %s or %s (runbook 5.1)", SeverityActiveExploit, SeverityAttemptedAbuse)
	default:
		return badInput("severity %q is not %s or %s (runbook 5.1)", untrusted.OneLine(r.o.Severity, 40), SeverityActiveExploit, SeverityAttemptedAbuse)
	}
	return nil
}

// find reads the token's identity and the record to act on: the issue given, or the open
// record of the environment.
func (r *run) find(ctx context.Context) error {
	me, err := identity(ctx, r.api, r.warn)
	if err != nil {
		return err
	}
	r.me = me
	if r.o.Issue != 0 {
		is, err := r.api.GetIssue(ctx, r.o.Issue)
		if errors.Is(err, github.ErrNotFound) {
			return badInput("issue #%d does not exist: pass the number of the incident issue release-action wrote", r.o.Issue)
		}
		if err != nil {
			return err
		}
		rec, ok := Trusted(is, me)
		if !ok {
			return badInput("issue #%d is not an incident record release-action wrote (its author is %s, not %s, or it has no record marker): pass the number of the incident issue the action opened",
				r.o.Issue, untrusted.OneLine(is.Author, 60), me)
		}
		// The record's environment wins over the environment input (which has a default).
		r.issue, r.rec = &is, rec
		r.o.Environment = rec.Environment
		return nil
	}
	records, err := OpenRecords(ctx, r.api, me)
	if err != nil {
		return err
	}
	for _, tr := range records {
		if tr.Record.Environment == r.o.Environment {
			is := tr.Issue
			r.issue, r.rec = &is, tr.Record
			break // newest first
		}
	}
	if r.issue == nil && r.o.Action != ActionOpen {
		return badInput("no open incident of %s written by release-action (%s): open one first (action: open), or pass issue: <number>", r.o.Environment, me)
	}
	return nil
}

// TrustedRecord is an incident record with its issue.
type TrustedRecord struct {
	Issue  github.IssueRecord
	Record *Record
}

// Trusted reads the record of an issue only when the token's identity wrote it; login
// comparison is case-insensitive, as GitHub's logins are.
func Trusted(is github.IssueRecord, me string) (*Record, bool) {
	if me == "" || !strings.EqualFold(is.Author, me) {
		return nil, false
	}
	return ParseMarker(is.Body)
}

// OpenRecords lists the open incident records the identity me wrote, newest first. The
// listing is of every open issue, not those labelled incident: a label anyone with triage
// rights can remove must not hide a record from the gate.
func OpenRecords(ctx context.Context, api interface {
	ListIssues(ctx context.Context, f github.IssueFilter) ([]github.IssueRecord, error)
}, me string) ([]TrustedRecord, error) {
	issues, err := api.ListIssues(ctx, github.IssueFilter{State: "open"})
	if err != nil {
		return nil, fmt.Errorf("read the open incident records: %w", err)
	}
	var out []TrustedRecord
	for _, is := range issues {
		if rec, ok := Trusted(is, me); ok {
			out = append(out, TrustedRecord{Issue: is, Record: rec})
		}
	}
	return out, nil
}

// parseSince reads the since input: RFC 3339, or a duration back from now.
func parseSince(s string, now time.Time) (time.Time, string, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		if t.After(now) {
			return time.Time{}, "", badInput("since %s is in the future", s)
		}
		return t.UTC(), "given (since: " + s + ")", nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), fmt.Sprintf("given (since: %s before %s)", s, stamp(now)), nil
	}
	return time.Time{}, "", badInput("since %q is neither an RFC 3339 time (2026-03-10T12:00:00Z) nor a duration back from now (6h, 90m)", untrusted.OneLine(s, 60))
}

func (r *run) open(ctx context.Context) (*Result, error) {
	o := r.o
	if r.issue != nil && r.issue.State == "closed" {
		return nil, badInput("incident #%d is closed: open a new incident (leave issue empty)", r.issue.Number)
	}
	created := r.issue == nil
	if created {
		r.rec = newRecord(fmt.Sprintf("%s-%s", o.Environment, r.now.Format("20060102T150405Z")), o.Environment)
		r.rec.OpenedBy, r.rec.OpenedAt = o.Actor, r.now
	} else {
		r.say("incident #%d (%s) is open for %s: updating it, not opening another", r.issue.Number, r.rec.ID, o.Environment)
	}
	rec := r.rec
	if o.Severity != "" && rec.Severity != o.Severity {
		rec.Severity, rec.ClassifiedBy, rec.ClassifiedAt = o.Severity, o.Actor, r.now
		r.addNote(ItemClassify, StateDone, fmt.Sprintf("classified %s", o.Severity))
	}
	if fb := o.Rollback; fb != nil {
		rec.Rollbacks = append(rec.Rollbacks, *fb)
		text := fmt.Sprintf("rollback of %s to %s", fb.Environment, cmp.Or(fb.ToTag, untrusted.ShortSHA(fb.ToSHA), "?"))
		if fb.Validated {
			text += " validated"
		} else {
			text += " not validated"
		}
		if fb.Reason != "" {
			text += ": " + fb.Reason
		}
		at := r.now
		if fb.ValidatedAt != nil {
			at = *fb.ValidatedAt
		}
		r.added = append(r.added, Entry{At: at, Source: "rollback", Text: text, By: o.Actor})
		rec.Events = append(rec.Events, r.added[len(r.added)-1])
	}
	if s := strings.TrimSpace(o.Summary); s != "" {
		rec.Summary = untrusted.Cut(s, maxText)
	}
	switch {
	case !o.SinceAt.IsZero() && (created || rec.Since.IsZero() || o.SinceAt.Before(rec.Since)):
		rec.Since, rec.SinceFrom = o.SinceAt.UTC(), cmp.Or(o.SinceFrom, "given by the rollback")
	case created || strings.TrimSpace(o.Since) != "":
		if err := r.setSince(ctx); err != nil {
			return nil, err
		}
	}
	for _, t := range o.RegressionTests {
		t = strings.TrimSpace(t)
		if !slices.Contains(rec.RegressionTests, t) {
			rec.RegressionTests = append(rec.RegressionTests, t)
		}
	}
	r.rotateOrNote(ctx)
	verb := "opened"
	if !created {
		verb = "updated"
	}
	return r.write(ctx, created, verb)
}

func (r *run) setSince(ctx context.Context) error {
	if strings.TrimSpace(r.o.Since) != "" {
		t, from, err := parseSince(r.o.Since, r.now)
		if err != nil {
			return err
		}
		r.rec.Since, r.rec.SinceFrom = t, from
		return nil
	}
	t, from, err := firstDeploymentOfCurrent(ctx, r.api, r.o.Environment)
	if errors.Is(err, errNoCurrent) {
		return badInput("%s has no deployment whose newest status is success, so the impact window has no default start: pass since (an RFC 3339 time or a duration back from now, e.g. 6h)", r.o.Environment)
	}
	if err != nil {
		return err
	}
	r.rec.Since, r.rec.SinceFrom = t.UTC(), from
	return nil
}

// itemKey reads an item name: its key or its runbook number.
func itemKey(s string) (string, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	for i, k := range Items {
		if s == k || s == fmt.Sprint(i+1) || s == "5."+fmt.Sprint(i+1) {
			return k, true
		}
	}
	return "", false
}

// maxNotes bounds the notes kept per item (the issue's edit history keeps the rest), so
// the record stays within an issue body however long the incident runs.
const maxNotes = 20

// maxEvents bounds the timeline entries people add; maxText each piece of text.
const (
	maxEvents = 200
	maxText   = 4000
)

func (r *run) addNote(item, state, text string) {
	it := r.rec.Items[item]
	it.State = state
	it.Notes = append(it.Notes, Note{By: r.o.Actor, At: r.now, Text: untrusted.Cut(text, 1000)})
	if n := len(it.Notes); n > maxNotes {
		it.Notes = it.Notes[n-maxNotes:]
	}
}

func (r *run) update(ctx context.Context) (*Result, error) {
	o := r.o
	if r.issue.State == "closed" {
		return nil, badInput("incident #%d is closed; open a new one", r.issue.Number)
	}
	note := strings.TrimSpace(o.Note)
	for _, t := range o.Tick {
		k, ok := itemKey(t)
		if !ok {
			return nil, badInput("tick %q names no checklist item: use %s (or 1-6)", untrusted.OneLine(t, 40), strings.Join(Items, ", "))
		}
		if k == ItemNotes {
			return nil, badInput("item notes is done by close (action: close with root-cause, mitigations, follow-ups)")
		}
		r.addNote(k, StateDone, cmp.Or(note, "done"))
	}
	for _, t := range o.Reopen {
		k, ok := itemKey(t)
		if !ok {
			return nil, badInput("reopen %q names no checklist item: use %s (or 1-6)", untrusted.OneLine(t, 40), strings.Join(Items, ", "))
		}
		r.addNote(k, StateOpen, cmp.Or(note, "reopened"))
	}
	if len(o.Tick) == 0 && len(o.Reopen) == 0 && note != "" {
		r.added = append(r.added, Entry{At: r.now, Source: "note", Text: note, By: o.Actor})
	}
	for _, ev := range o.Events {
		e, err := parseEvent(ev, r.now)
		if err != nil {
			return nil, err
		}
		e.By = o.Actor
		r.added = append(r.added, e)
	}
	r.rec.Events = append(r.rec.Events, r.added...)
	if n := len(r.rec.Events); n > maxEvents {
		r.rec.Events = r.rec.Events[n-maxEvents:]
	}
	if o.Severity != "" {
		if err := r.validateOpen(); err != nil {
			return nil, err
		}
		if o.Severity != r.rec.Severity {
			r.rec.Severity, r.rec.ClassifiedBy, r.rec.ClassifiedAt = o.Severity, o.Actor, r.now
			r.addNote(ItemClassify, StateDone, "reclassified "+o.Severity)
		}
	}
	if strings.TrimSpace(o.Since) != "" {
		if err := r.setSince(ctx); err != nil {
			return nil, err
		}
	}
	for _, t := range o.RegressionTests {
		if t = strings.TrimSpace(t); !slices.Contains(r.rec.RegressionTests, t) {
			r.rec.RegressionTests = append(r.rec.RegressionTests, t)
		}
	}
	r.rotateOrNote(ctx)
	return r.write(ctx, false, "updated")
}

// parseEvent reads "text" or "<RFC 3339> text".
func parseEvent(s string, now time.Time) (Entry, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Entry{}, badInput("an empty timeline event")
	}
	first, rest, _ := strings.Cut(s, " ")
	if t, err := time.Parse(time.RFC3339, first); err == nil {
		if strings.TrimSpace(rest) == "" {
			return Entry{}, badInput("timeline event %q has a time but no text", untrusted.OneLine(s, 60))
		}
		return Entry{At: t.UTC(), Source: "note", Text: untrusted.Cut(strings.TrimSpace(rest), 1000)}, nil
	}
	return Entry{At: now, Source: "note", Text: untrusted.Cut(s, 1000)}, nil
}

func (r *run) close(ctx context.Context) (*Result, error) {
	o := r.o
	if r.issue.State == "closed" {
		return nil, badInput("incident #%d is already closed", r.issue.Number)
	}
	var missing []string
	for _, kv := range [][2]string{{"root-cause", o.RootCause}, {"mitigations", o.Mitigations}, {"follow-ups", o.FollowUps}} {
		if strings.TrimSpace(kv[1]) == "" {
			missing = append(missing, kv[0])
		}
	}
	if len(missing) > 0 {
		return nil, badInput("close needs the post-incident notes (runbook 5.6): pass %s", strings.Join(missing, ", "))
	}
	r.rec.Closure = &Closure{By: o.Actor, At: r.now, RootCause: untrusted.Cut(strings.TrimSpace(o.RootCause), maxText),
		Mitigations: untrusted.Cut(strings.TrimSpace(o.Mitigations), maxText), FollowUps: untrusted.Cut(strings.TrimSpace(o.FollowUps), maxText)}
	r.addNote(ItemNotes, StateDone, "post-incident notes published")
	return r.write(ctx, false, "closed")
}

// impact computes the impact window from the records: from Since to the time the
// mitigation was verified. Verified mitigations are validated rollback deployments of the
// environment (their success status) and the rotate command's proof. When there are
// several, the window ends at the last: it closes when every verified mitigation is in
// place, so it never understates the exposure.
func (r *run) impact(recs *Records) *Window {
	rec := r.rec
	w := &Window{Start: rec.Since, StartFrom: rec.SinceFrom}
	w.Mitigations = rollbackMitigations(recs, rec.Environment, rec.Since)
	if p := rec.Rotation; p != nil && p.Done && !p.ProvenAt.IsZero() && !p.ProvenAt.Before(rec.Since) {
		w.Mitigations = append(w.Mitigations, Mitigation{Kind: "rotation", At: p.ProvenAt, What: "credentials rotated and proven: " + cmp.Or(p.Summary, "rotate"), URL: p.RunURL})
	}
	slices.SortStableFunc(w.Mitigations, func(a, b Mitigation) int { return a.At.Compare(b.At) })
	if len(w.Mitigations) == 0 {
		w.Open = true
		return w
	}
	last := w.Mitigations[len(w.Mitigations)-1]
	end := last.At
	w.End, w.EndFrom = &end, last.What
	w.Seconds = int64(max(end.Sub(w.Start), 0) / time.Second)
	return w
}

// write collects the records and evidence, renders the body and writes the issue.
func (r *run) write(ctx context.Context, created bool, verb string) (*Result, error) {
	o, rec := r.o, r.rec
	res := &r.res
	res.Action, res.ID, res.Environment = o.Action, rec.ID, rec.Environment
	to := r.now
	if rec.Closure != nil {
		to = rec.Closure.At
	}
	envs := []string{rec.Environment}
	for _, e := range o.Config.Environments {
		if !slices.Contains(envs, e.Name) {
			envs = append(envs, e.Name)
		}
	}
	r.say("reading GitHub's records of %s to %s (%s)", stamp(rec.Since), stamp(to), strings.Join(envs, ", "))
	recs, err := collectRecords(ctx, r.api, envs, o.Config.Deploy.Workflow, rec.Since, to)
	if err != nil {
		return nil, err
	}
	res.Timeline = Timeline(recs, rec.Events)
	if rec.Closure != nil {
		rec.Closure.Impact = r.impact(recs)
		res.Impact = rec.Closure.Impact
	}
	if err := r.evidence(ctx, recs); err != nil {
		return nil, err
	}
	body, err := Render(rec, res.Timeline, o.Config)
	if err != nil {
		return nil, err
	}
	res.Body = body
	title := Title(rec)
	state := ""
	if rec.Closure != nil {
		state = "closed"
	}
	if created {
		labels := o.Labels
		if len(labels) == 0 {
			labels = []string{DefaultLabel}
			if rec.Severity != "" {
				labels = append(labels, "severity:"+rec.Severity)
			}
		}
		is, err := r.api.CreateIssueRecord(ctx, title, body, labels)
		if err != nil {
			return nil, err
		}
		r.issue = &is
		res.Created = true
		if !strings.EqualFold(is.Author, r.me) {
			r.warn("GitHub recorded the incident issue's author as %s, not %s: later runs will not recognise it as a record", untrusted.OneLine(is.Author, 60), r.me)
		}
	} else {
		edit := github.IssueEdit{Title: &title, Body: &body}
		if labels, changed := severityLabels(r.issue.Labels, rec.Severity); changed && len(o.Labels) == 0 {
			edit.Labels = &labels
		}
		if state != "" {
			edit.State, edit.StateReason = state, "completed"
		}
		is, err := r.api.EditIssue(ctx, r.issue.Number, edit)
		if err != nil {
			return nil, err
		}
		r.issue = &is
	}
	res.Issue, res.IssueURL, res.State, res.Record = r.issue.Number, r.issue.HTMLURL, r.issue.State, rec
	if !created {
		if c := r.comment(); c != "" {
			if _, err := r.api.CommentIssue(ctx, r.issue.Number, c); err != nil {
				r.warn("the record was written, but commenting on #%d failed: %v", r.issue.Number, err)
			}
		}
	}
	r.say("incident #%d %s: %s", r.issue.Number, verb, r.issue.HTMLURL)
	r.announce(ctx, verb)
	res.Verdict = VerdictPass
	res.Reason = fmt.Sprintf("incident #%d of %s %s", r.issue.Number, rec.Environment, verb)
	if rec.Rotation != nil && !rec.Rotation.Done && rec.Rotation.Failure != "" && o.Rotate != nil {
		res.Verdict = VerdictFail
		res.Reason += "; the rotation failed: " + rec.Rotation.Failure
	}
	return res, nil
}

// comment is the change an update or close makes, as an issue comment (so people watching
// the issue are notified; the body holds the whole record).
func (r *run) comment() string {
	var parts []string
	for _, k := range Items {
		it := r.rec.Items[k]
		if n := len(it.Notes); n > 0 && it.Notes[n-1].At.Equal(r.now) {
			parts = append(parts, fmt.Sprintf("- %s **%s**: %s (@%s)", checkbox(it.State), itemTitle(k), escapeText(it.Notes[n-1].Text), escapeLogin(it.Notes[n-1].By)))
		}
	}
	for _, e := range r.added {
		parts = append(parts, fmt.Sprintf("- timeline %s: %s", stamp(e.At), escapeText(e.Text)))
	}
	if r.o.Action == ActionClose && r.rec.Closure != nil {
		parts = append(parts, "- closed; impact window: "+windowText(r.rec.Closure.Impact))
	}
	if ev := r.res.Evidence; ev != nil {
		parts = append(parts, fmt.Sprintf("- evidence collected again: %d files (%s)", len(ev.Files), stamp(ev.CollectedAt)))
	}
	if len(parts) == 0 {
		return ""
	}
	return fmt.Sprintf("**%s** by @%s at %s\n\n%s\n", strings.ToUpper(r.o.Action[:1])+r.o.Action[1:], escapeLogin(r.o.Actor), stamp(r.now), strings.Join(parts, "\n"))
}

// evidence writes a new bundle for this collection.
func (r *run) evidence(ctx context.Context, recs *Records) error {
	root := cmp.Or(r.o.EvidenceRoot, ".")
	rel := path.Join("incident-evidence", safeName(r.rec.ID), r.now.Format("20060102T150405Z"))
	dir := filepath.Join(root, filepath.FromSlash(rel))
	r.say("preserving the evidence in %s", dir)
	digest := &EvidenceDigest{CollectedAt: r.now, CollectedBy: r.o.Actor, RunURL: r.o.RunURL, Dir: rel}
	prev := r.rec.Evidence
	r.rec.Evidence = digest
	files, missing, err := writeEvidence(ctx, r.api, dir, recs, r.rec)
	if err != nil {
		r.rec.Evidence = prev
		return err
	}
	digest.Files, digest.Missing = files, missing
	r.res.Evidence, r.res.EvidencePath = digest, dir
	text := fmt.Sprintf("timeline of %d records from %s and an evidence bundle of %d files (sha256 below)", len(r.res.Timeline), stamp(r.rec.Since), len(files))
	if len(missing) > 0 {
		text += fmt.Sprintf("; %d not available (listed below)", len(missing))
	}
	// One note: the latest collection (earlier ones are in the issue's edit history).
	r.rec.Items[ItemLogs].Notes = nil
	r.addNote(ItemLogs, StateDone, text)
	return nil
}

// rotateOrNote runs the rotation when asked for and not yet proven, or records why it
// cannot run.
func (r *run) rotateOrNote(ctx context.Context) {
	if p := r.rec.Rotation; p != nil && p.Done {
		return
	}
	switch {
	case r.o.Rotate != nil:
		r.rotate(ctx)
	case r.o.RotateUnavailable != "":
		r.addNote(ItemRotate, StatePending, "rotation asked for, but "+r.o.RotateUnavailable)
	}
}

func (r *run) rotate(ctx context.Context) {
	r.say("rotating the credentials of %s (runbook 5.3, section 4)", r.o.Environment)
	p, err := r.o.Rotate(ctx, r.o.Environment)
	switch {
	case err != nil:
		r.rec.Rotation = &RotationProof{Failure: err.Error()}
		r.addNote(ItemRotate, StatePending, "rotate failed: "+err.Error())
	case p == nil || !p.Done:
		if p == nil {
			p = &RotationProof{Failure: "rotate returned no proof"}
		}
		r.rec.Rotation = p
		r.addNote(ItemRotate, StatePending, "rotate did not prove the rotation: "+cmp.Or(p.Failure, "no proof"))
	default:
		if p.ProvenAt.IsZero() {
			p.ProvenAt = r.now
		}
		r.rec.Rotation = p
		r.addNote(ItemRotate, StateDone, "rotated and proven: "+cmp.Or(p.Summary, "rotate"))
	}
}

func (r *run) announce(ctx context.Context, verb string) {
	if r.o.Announce == nil {
		return
	}
	a := Announcement{Event: "incident-" + verb, Title: Title(r.rec), URL: r.res.IssueURL, Environment: r.rec.Environment,
		Severity: r.rec.Severity, Text: fmt.Sprintf("Incident #%d of %s %s by %s", r.res.Issue, r.rec.Environment, verb, r.o.Actor)}
	if c := r.rec.Closure; c != nil && c.Impact != nil {
		a.Text += "; impact window " + plainWindow(c.Impact)
	}
	if err := r.o.Announce(ctx, a); err != nil {
		r.warn("announcing the incident failed: %v", err)
		return
	}
	r.res.Announced = true
}

// Title is the issue title of a record.
func Title(rec *Record) string {
	t := fmt.Sprintf("Incident (%s): %s", cmp.Or(rec.Severity, "unclassified"), rec.Environment)
	if s := untrusted.OneLine(rec.Summary, 120); s != "" {
		t += ": " + s
	}
	return t
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

// severityLabels replaces the severity:<value> label of an issue with the record's
// severity, keeping every other label people added.
func severityLabels(current []string, severity string) ([]string, bool) {
	if severity == "" {
		return current, false
	}
	want := "severity:" + severity
	out := []string{}
	found, removed := false, false
	for _, l := range current {
		switch {
		case l == want:
			found = true
			out = append(out, l)
		case strings.HasPrefix(l, "severity:"):
			removed = true
		default:
			out = append(out, l)
		}
	}
	if !found {
		out = append(out, want)
	}
	changed := !found || removed
	return out, changed
}

// DefaultBotLogin is GITHUB_TOKEN's identity, assumed when the server names none.
const DefaultBotLogin = "github-actions[bot]"

// identity is the token's login. When the server has no way to say (github.ErrIdentityUnknown:
// neither GraphQL's viewer nor GET /user answers for this token), it is assumed to be
// GITHUB_TOKEN's github-actions[bot]: an account no person can write issues as, so the
// assumption never lets an issue anyone opens count as a record.
func identity(ctx context.Context, api interface {
	Viewer(ctx context.Context) (string, error)
}, warn func(string, ...any)) (string, error) {
	me, err := api.Viewer(ctx)
	if errors.Is(err, github.ErrIdentityUnknown) {
		if warn != nil {
			warn("the server does not say who the token is (%v); assuming %s, GITHUB_TOKEN's identity", err, DefaultBotLogin)
		}
		return DefaultBotLogin, nil
	}
	return me, err
}
