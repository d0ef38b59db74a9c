package incident

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/agentme/release-action/internal/deploy"
	"github.com/agentme/release-action/internal/github"
	"github.com/agentme/release-action/internal/untrusted"
)

// Entry is one line of the timeline.
type Entry struct {
	At     time.Time `json:"at"`
	Source string    `json:"source"` // deployment, run, tag, note, incident
	Text   string    `json:"text"`
	URL    string    `json:"url,omitempty"`
	// By is who added a note entry (update's events).
	By string `json:"by,omitempty"`
}

// DeploymentRecord is a deployment with its statuses (newest first), as preserved.
type DeploymentRecord struct {
	Deployment github.Deployment         `json:"deployment"`
	Statuses   []github.DeploymentStatus `json:"statuses"`
}

// RunKind classifies a workflow run in the window.
const (
	RunDeploy  = "deploy"
	RunRelease = "release" // release, rollback and incident runs of release-action's workflows
)

// RunEvidence is a run in the window the incident preserves.
type RunEvidence struct {
	Kind string           `json:"kind"`
	Run  github.RunRecord `json:"run"`
}

// Records are GitHub's records of the window.
type Records struct {
	From        time.Time          `json:"from"`
	To          time.Time          `json:"to"`
	Deployments []DeploymentRecord `json:"deployments"`
	Runs        []RunEvidence      `json:"runs"`
	// Tags maps the tags the deployments of the window name to their commits.
	Tags map[string]string `json:"tags"`
}

// releaseRunName matches workflows that run release-action's release, rollback or
// incident commands: by file or name, as workflows are usually called. The deploy workflow
// is known exactly from the configuration.
var releaseRunName = regexp.MustCompile(`(?i)release|rollback|incident|hotfix`)

// maxRunsWithLogs bounds how many runs' job logs are downloaded in one collection.
const maxRunsWithLogs = 20

// statusesBefore is how many deployments created before the window have their statuses read:
// the one live when the window opened, and a few it may have replaced.
const statusesBefore = 3

// collectRecords reads GitHub's records of [from, to] for the environments.
func collectRecords(ctx context.Context, api API, envs []string, deployWorkflow string, from, to time.Time) (*Records, error) {
	rec := &Records{From: from, To: to, Tags: map[string]string{}}
	for _, env := range envs {
		deps, err := api.ListDeployments(ctx, github.DeploymentFilter{Environment: env})
		if err != nil {
			return nil, fmt.Errorf("read the deployments of %s: %w", env, err)
		}
		before := 0
		for _, d := range deps { // newest first
			in := !d.CreatedAt.Before(from) && !d.CreatedAt.After(to)
			if d.CreatedAt.After(to) {
				continue
			}
			if !in {
				if before >= statusesBefore {
					break
				}
				before++
			}
			ss, err := api.ListDeploymentStatuses(ctx, d.ID)
			if err != nil {
				return nil, fmt.Errorf("read the statuses of deployment %d (%s): %w", d.ID, env, err)
			}
			if !in && !anyIn(ss, from, to) && before > 1 {
				continue
			}
			rec.Deployments = append(rec.Deployments, DeploymentRecord{Deployment: d, Statuses: ss})
			if t := deploy.TagOf(d); t != "" {
				rec.Tags[t] = d.SHA
			}
		}
	}
	slices.SortStableFunc(rec.Deployments, func(a, b DeploymentRecord) int {
		return cmp.Or(a.Deployment.CreatedAt.Compare(b.Deployment.CreatedAt), cmp.Compare(a.Deployment.ID, b.Deployment.ID))
	})
	runs, err := api.ListRunsBetween(ctx, from, to)
	if err != nil {
		return nil, fmt.Errorf("read the workflow runs of the window: %w", err)
	}
	for _, r := range runs {
		if r.CreatedAt.Before(from) || r.CreatedAt.After(to) {
			continue // a server that ignores the created filter
		}
		if k := runKind(r, deployWorkflow); k != "" {
			rec.Runs = append(rec.Runs, RunEvidence{Kind: k, Run: r})
		}
	}
	slices.SortStableFunc(rec.Runs, func(a, b RunEvidence) int {
		return cmp.Or(a.Run.CreatedAt.Compare(b.Run.CreatedAt), cmp.Compare(a.Run.ID, b.Run.ID))
	})
	return rec, nil
}

func anyIn(ss []github.DeploymentStatus, from, to time.Time) bool {
	for _, s := range ss {
		if !s.CreatedAt.Before(from) && !s.CreatedAt.After(to) {
			return true
		}
	}
	return false
}

// runKind classifies a run: the configured deploy workflow's runs (and runs started by a
// deployment event) are deploy runs; workflows named for releases, rollbacks or incidents
// are release runs; the rest (CI and the like) are not the incident's evidence.
func runKind(r github.RunRecord, deployWorkflow string) string {
	file := path.Base(r.Path)
	switch {
	case deployWorkflow != "" && (file == path.Base(deployWorkflow) || r.Path == deployWorkflow || r.Name == deployWorkflow):
		return RunDeploy
	case r.Event == "deployment":
		return RunDeploy
	case releaseRunName.MatchString(file) || releaseRunName.MatchString(r.Name):
		return RunRelease
	}
	return ""
}

// Timeline turns the records into timeline entries, oldest first, with the notes people
// added.
func Timeline(rec *Records, notes []Entry) []Entry {
	var out []Entry
	if rec != nil {
		for _, dr := range rec.Deployments {
			d := dr.Deployment
			what := untrusted.ShortSHA(d.SHA)
			if t := deploy.TagOf(d); t != "" {
				what = t + " (" + what + ")"
			}
			kind := "deployment"
			if deploy.PayloadOf(d).Rollback {
				kind = "rollback deployment"
			}
			// A deployment with anything in the window is shown whole (its creation and
			// every status up to the window's end), so each row reads against its record;
			// one live before the window with nothing in it is shown as the state the
			// window opened on.
			touched := !d.CreatedAt.Before(rec.From) || anyIn(dr.Statuses, rec.From, rec.To)
			if !touched {
				if n := len(dr.Statuses); n > 0 {
					out = append(out, Entry{At: rec.From, Source: "deployment",
						Text: fmt.Sprintf("%s %d of %s (%s) when the window opened: %s since %s", kind, d.ID, what, d.Environment, dr.Statuses[0].State, stamp(dr.Statuses[0].CreatedAt))})
				}
				continue
			}
			out = append(out, Entry{At: d.CreatedAt, Source: "deployment",
				Text: fmt.Sprintf("%s %d of %s to %s created by %s", kind, d.ID, what, d.Environment, cmp.Or(d.Creator, "unknown"))})
			for i := len(dr.Statuses) - 1; i >= 0; i-- { // oldest first
				s := dr.Statuses[i]
				if s.CreatedAt.After(rec.To) {
					continue
				}
				text := fmt.Sprintf("%s %d of %s (%s): %s", kind, d.ID, what, d.Environment, s.State)
				if desc := untrusted.OneLine(s.Description, 140); desc != "" {
					text += " — " + desc
				}
				out = append(out, Entry{At: s.CreatedAt, Source: "deployment status", Text: text, URL: s.LogURL})
			}
		}
		for _, re := range rec.Runs {
			r := re.Run
			name := fmt.Sprintf("%s run %q #%d (%s, %s)", re.Kind, untrusted.OneLine(r.Name, 80), r.RunNumber, r.Event, untrusted.ShortSHA(r.HeadSHA))
			out = append(out, Entry{At: r.CreatedAt, Source: "workflow run", Text: name + " started", URL: r.HTMLURL})
			if r.Status == "completed" {
				out = append(out, Entry{At: r.UpdatedAt, Source: "workflow run", Text: name + " completed: " + cmp.Or(r.Conclusion, "unknown"), URL: r.HTMLURL})
			}
		}
	}
	out = append(out, notes...)
	slices.SortStableFunc(out, func(a, b Entry) int { return a.At.Compare(b.At) })
	return out
}

// LogFetcher downloads evidence logs; the API satisfies it.
type LogFetcher interface {
	ListJobs(ctx context.Context, runID int64) ([]github.Job, error)
	JobLog(ctx context.Context, jobID int64) ([]byte, error)
}

// writeEvidence writes the bundle under dir: the records as JSON, the job logs of the
// deploy and release runs of the window, the incident record, and SHA256SUMS. A log
// GitHub cannot give (still running, expired) is listed as missing, not an error: the
// rest is still preserved. A failure to write a file is an error.
func writeEvidence(ctx context.Context, api LogFetcher, dir string, rec *Records, record *Record) (files []File, missing []string, err error) {
	if err := os.MkdirAll(filepath.Join(dir, "logs"), 0o755); err != nil {
		return nil, nil, fmt.Errorf("create the evidence directory %s: %w", dir, err)
	}
	write := func(rel string, b []byte) error {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return fmt.Errorf("write evidence file %s: %w", p, err)
		}
		sum := sha256.Sum256(b)
		files = append(files, File{Path: rel, SHA256: hex.EncodeToString(sum[:]), Bytes: int64(len(b))})
		return nil
	}
	writeJSON := func(rel string, v any) error {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return fmt.Errorf("encode evidence file %s: %w", rel, err)
		}
		return write(rel, append(b, '\n'))
	}
	if err := writeJSON("deployments.json", rec.Deployments); err != nil {
		return nil, nil, err
	}
	if err := writeJSON("runs.json", rec.Runs); err != nil {
		return nil, nil, err
	}
	if err := writeJSON("tags.json", rec.Tags); err != nil {
		return nil, nil, err
	}
	n := 0
	for _, re := range rec.Runs {
		r := re.Run
		if r.Status != "completed" {
			missing = append(missing, fmt.Sprintf("logs of %s run %d: still %s", re.Kind, r.ID, cmp.Or(r.Status, "running")))
			continue
		}
		if n >= maxRunsWithLogs {
			missing = append(missing, fmt.Sprintf("logs of %s run %d: more than %d runs in the window; download them from %s", re.Kind, r.ID, maxRunsWithLogs, r.HTMLURL))
			continue
		}
		n++
		jobs, err := api.ListJobs(ctx, r.ID)
		if err != nil {
			if ctx.Err() != nil {
				return nil, nil, ctx.Err()
			}
			missing = append(missing, fmt.Sprintf("jobs of %s run %d: %v", re.Kind, r.ID, err))
			continue
		}
		if err := writeJSON(fmt.Sprintf("jobs-%d.json", r.ID), jobs); err != nil {
			return nil, nil, err
		}
		for _, j := range jobs {
			b, err := api.JobLog(ctx, j.ID)
			if err != nil {
				if ctx.Err() != nil {
					return nil, nil, ctx.Err()
				}
				missing = append(missing, fmt.Sprintf("log of job %d (%s) of run %d: %v", j.ID, untrusted.OneLine(j.Name, 60), r.ID, err))
				continue
			}
			if err := write(fmt.Sprintf("logs/%d-%d-%s.log", r.ID, j.ID, safeName(j.Name)), b); err != nil {
				return nil, nil, err
			}
		}
	}
	if err := writeJSON("incident.json", record); err != nil {
		return nil, nil, err
	}
	var sums strings.Builder
	for _, f := range files {
		fmt.Fprintf(&sums, "%s  %s\n", f.SHA256, f.Path)
	}
	if err := os.WriteFile(filepath.Join(dir, "SHA256SUMS"), []byte(sums.String()), 0o644); err != nil {
		return nil, nil, fmt.Errorf("write evidence file SHA256SUMS: %w", err)
	}
	return files, missing, nil
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// safeName turns a job name into a file name part.
func safeName(s string) string {
	s = strings.Trim(unsafeChars.ReplaceAllString(s, "_"), "_.")
	if len(s) > 60 {
		s = s[:60]
	}
	return cmp.Or(s, "job")
}

var hexRef = regexp.MustCompile(`^[0-9a-fA-F]{7,40}$`)

// rollbackMitigations are the rollbacks of env at or after since whose statuses say they
// were validated, at the time of that success status. A rollback is a deployment whose
// payload says so (release-action's rollback), or a redeploy of a commit the environment
// ran before since other than the one it ran when the window opened (a rollback made by
// other tooling).
func rollbackMitigations(rec *Records, env string, since time.Time) []Mitigation {
	earlier := map[string]bool{}
	liveAtSince := ""
	for i := len(rec.Deployments) - 1; i >= 0; i-- { // newest first
		d := rec.Deployments[i].Deployment
		if d.Environment != env || d.CreatedAt.After(since) {
			continue
		}
		if liveAtSince == "" {
			liveAtSince = d.SHA
			continue
		}
		earlier[d.SHA] = true
	}
	delete(earlier, liveAtSince)
	var out []Mitigation
	for _, dr := range rec.Deployments {
		d := dr.Deployment
		if d.Environment != env || !d.CreatedAt.After(since) {
			continue
		}
		marked := deploy.PayloadOf(d).Rollback
		if !marked && !earlier[d.SHA] {
			continue
		}
		for i := len(dr.Statuses) - 1; i >= 0; i-- { // oldest first: the first validation
			s := dr.Statuses[i]
			if s.State == "success" && deploy.StageOf(s) == deploy.StageValidated {
				what := fmt.Sprintf("rollback deployment %d of %s validated", d.ID, cmp.Or(deploy.TagOf(d), untrusted.ShortSHA(d.SHA)))
				if !marked {
					what = fmt.Sprintf("deployment %d of %s, a commit %s ran before the incident, succeeded", d.ID, cmp.Or(deploy.TagOf(d), untrusted.ShortSHA(d.SHA)), env)
				}
				out = append(out, Mitigation{Kind: "rollback", At: s.CreatedAt, What: what, URL: s.LogURL})
				break
			}
		}
	}
	return out
}

// firstDeploymentOfCurrent finds the default start of the window: the first deployment
// of the commit env runs now (the newest deployment whose newest status is success), at
// its first success status (else its creation).
func firstDeploymentOfCurrent(ctx context.Context, api API, env string) (time.Time, string, error) {
	deps, err := api.ListDeployments(ctx, github.DeploymentFilter{Environment: env})
	if err != nil {
		return time.Time{}, "", fmt.Errorf("read the deployments of %s: %w", env, err)
	}
	sha := ""
	for _, d := range deps {
		ss, err := api.ListDeploymentStatuses(ctx, d.ID)
		if err != nil {
			return time.Time{}, "", fmt.Errorf("read the statuses of deployment %d: %w", d.ID, err)
		}
		if len(ss) > 0 && ss[0].State == "success" {
			sha = d.SHA
			break
		}
	}
	if sha == "" {
		return time.Time{}, "", errNoCurrent
	}
	first := deps[0]
	for _, d := range deps {
		if d.SHA == sha {
			first = d // deps are newest first: the last match is the first deployment
		}
	}
	ss, err := api.ListDeploymentStatuses(ctx, first.ID)
	if err != nil {
		return time.Time{}, "", fmt.Errorf("read the statuses of deployment %d: %w", first.ID, err)
	}
	for i := len(ss) - 1; i >= 0; i-- {
		if ss[i].State == "success" {
			return ss[i].CreatedAt, fmt.Sprintf("first success status of deployment %d, the first deployment of %s (the commit %s runs now)", first.ID, untrusted.ShortSHA(sha), env), nil
		}
	}
	return first.CreatedAt, fmt.Sprintf("creation of deployment %d, the first deployment of %s (the commit %s runs now)", first.ID, untrusted.ShortSHA(sha), env), nil
}

var errNoCurrent = errors.New("no deployment of the environment has success as its newest status")
