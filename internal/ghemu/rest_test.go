package ghemu_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/agentme/release-action/internal/ghemu"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var linkRe = regexp.MustCompile(`<([^>]+)>; rel="(\w+)"`)

func links(h string) map[string]string {
	out := map[string]string{}
	for _, m := range linkRe.FindAllStringSubmatch(h, -1) {
		out[m[2]] = m[1]
	}
	return out
}

func pageOf(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	require.NoError(t, err)
	return u.Query().Get("page")
}

func TestCheckRunsPaginationAndLinks(t *testing.T) {
	e := newEnv(t, ghemu.Options{})
	var jobs []ghemu.JobSpec
	for i := range 250 {
		jobs = append(jobs, ghemu.JobSpec{Name: fmt.Sprintf("job-%03d", i), RunFor: time.Minute})
	}
	e.s.AddRun("CI", shaA, "push", jobs...)

	tests := []struct {
		name      string
		query     string
		wantSizes []int
		wantRels  []map[string]string // rel -> page
	}{
		{"per_page=100", "?per_page=100", []int{100, 100, 50}, []map[string]string{
			{"next": "2", "last": "3"},
			{"prev": "1", "next": "3", "last": "3", "first": "1"},
			{"prev": "2", "first": "1"},
		}},
		{"default 30", "", []int{30, 30, 30, 30, 30, 30, 30, 30, 10}, nil},
		{"per_page above 100 is clamped", "?per_page=500&filter=latest", []int{100, 100, 50}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			next := e.api + "/commits/" + shaA + "/check-runs" + tc.query
			seen := map[int64]bool{}
			var sizes []int
			for i := 0; next != ""; i++ {
				var p checkRunsPage
				r := e.getJSON(next, &p)
				assert.Equal(t, 250, p.TotalCount)
				sizes = append(sizes, len(p.CheckRuns))
				for _, cr := range p.CheckRuns {
					assert.False(t, seen[cr.ID], "check run %d listed twice", cr.ID)
					seen[cr.ID] = true
				}
				ls := links(r.Header.Get("Link"))
				if tc.wantRels != nil {
					got := map[string]string{}
					for rel, l := range ls {
						got[rel] = pageOf(t, l)
					}
					assert.Equal(t, tc.wantRels[i], got, "page %d", i+1)
				}
				for _, l := range ls {
					assert.True(t, strings.HasPrefix(l, e.base+"/api/v3/repos/agentme/agentme/commits/"), l)
				}
				next = ls["next"]
			}
			assert.Equal(t, tc.wantSizes, sizes)
			assert.Len(t, seen, 250)
		})
	}
}

func TestETagAndNotModified(t *testing.T) {
	e := newEnv(t, ghemu.Options{})
	e.s.AddRun("CI", shaA, "push", ghemu.JobSpec{Name: "check", QueueFor: time.Minute, RunFor: time.Minute})
	u := "/commits/" + shaA + "/check-runs?filter=latest&per_page=100"

	first := e.get(u)
	require.Equal(t, http.StatusOK, first.StatusCode)
	etag := first.Header.Get("ETag")
	require.Regexp(t, `^"[0-9a-f]{64}"$`, etag)
	remaining := first.Header.Get("X-RateLimit-Remaining")

	again := e.get(u, "If-None-Match", etag)
	assert.Equal(t, http.StatusNotModified, again.StatusCode)
	assert.Empty(t, again.body)
	assert.Equal(t, etag, again.Header.Get("ETag"))
	assert.Equal(t, remaining, again.Header.Get("X-RateLimit-Remaining"), "a 304 is free")

	e.clk.Advance(90 * time.Second) // check starts: the body changes
	changed := e.get(u, "If-None-Match", etag)
	assert.Equal(t, http.StatusOK, changed.StatusCode)
	assert.NotEqual(t, etag, changed.Header.Get("ETag"))

	other := e.get(u, "Authorization", "Bearer someone-else")
	assert.NotEqual(t, changed.Header.Get("ETag"), other.Header.Get("ETag"), "ETags are tied to the token")

	st := e.s.Stats()
	assert.Equal(t, 1, st.NotModified)
	assert.Equal(t, 4, st.REST)
	assert.Equal(t, 4, st.Routes["GET /repos/{owner}/{repo}/commits/{ref}/check-runs"])
}

func TestCheckRunStateOverTime(t *testing.T) {
	e := newEnv(t, ghemu.Options{})
	run := e.s.AddRun("CI", shaA, "push", ghemu.JobSpec{Name: "check", QueueFor: 30 * time.Second,
		RunFor: 60 * time.Second, Conclusion: "failure", Steps: steps(2)})
	start := t0.Add(30 * time.Second)
	end := start.Add(60 * time.Second)

	tests := []struct {
		at             time.Duration
		status, concl  string
		started, ended bool
		stepStatuses   []string
	}{
		{0, "queued", "", false, false, nil},
		{29 * time.Second, "queued", "", false, false, nil},
		{30 * time.Second, "in_progress", "", true, false, []string{"in_progress", "queued", "queued", "queued"}},
		{50 * time.Second, "in_progress", "", true, false, []string{"completed", "in_progress", "queued", "queued"}},
		{89 * time.Second, "in_progress", "", true, false, []string{"completed", "completed", "completed", "in_progress"}},
		{90 * time.Second, "completed", "failure", true, true, []string{"completed", "completed", "completed", "completed"}},
		{time.Hour, "completed", "failure", true, true, []string{"completed", "completed", "completed", "completed"}},
	}
	for _, tc := range tests {
		t.Run(tc.at.String(), func(t *testing.T) {
			e.clk.Set(t0.Add(tc.at))
			var p checkRunsPage
			e.getJSON("/commits/"+shaA+"/check-runs", &p)
			require.Len(t, p.CheckRuns, 1)
			cr := p.CheckRuns[0]
			assert.Equal(t, run.JobIDs[0], cr.ID, "a job's check run id equals its job id")
			assert.Equal(t, tc.status, cr.Status)
			assert.Equal(t, tc.concl, deref(cr.Conclusion))
			assert.Equal(t, tc.started, cr.StartedAt != nil)
			assert.Equal(t, tc.ended, cr.CompletedAt != nil)
			if tc.started {
				assert.Equal(t, start.Format(time.RFC3339), *cr.StartedAt)
			}
			if tc.ended {
				assert.Equal(t, end.Format(time.RFC3339), *cr.CompletedAt)
			}

			var j job
			e.getJSON(fmt.Sprintf("/actions/jobs/%d", cr.ID), &j)
			assert.Equal(t, tc.status, j.Status)
			assert.Equal(t, run.ID, j.RunID)
			var got []string
			for _, s := range j.Steps {
				got = append(got, s.Status)
			}
			assert.Equal(t, tc.stepStatuses, got)

			var r workflowRun
			e.getJSON(fmt.Sprintf("/actions/runs/%d", run.ID), &r)
			assert.Equal(t, tc.status, r.Status)
			assert.Equal(t, tc.concl, deref(r.Conclusion))
		})
	}

	var j job
	e.getJSON(fmt.Sprintf("/actions/jobs/%d", run.JobIDs[0]), &j)
	names := []string{}
	for _, s := range j.Steps {
		names = append(names, s.Name+"="+deref(s.Conclusion))
	}
	assert.Equal(t, []string{"Set up job=success", "step 1=success", "step 2=failure", "Complete job=success"}, names,
		"a job that fails without a failing step gets its last step failed")
}

func TestSkippedAndNeverStartedJobs(t *testing.T) {
	e := newEnv(t, ghemu.Options{})
	run := e.s.AddRun("CI", shaA, "push",
		ghemu.JobSpec{Name: "check", Conclusion: "skipped", Steps: steps(2)},
		ghemu.JobSpec{Name: "macos", NeverStarts: true, RunFor: time.Minute})
	e.clk.Advance(24 * time.Hour)
	var p jobsPage
	e.getJSON(fmt.Sprintf("/actions/runs/%d/jobs", run.ID), &p)
	require.Len(t, p.Jobs, 2)
	assert.Equal(t, "completed", p.Jobs[0].Status)
	assert.Equal(t, "skipped", deref(p.Jobs[0].Conclusion))
	assert.Empty(t, p.Jobs[0].Steps, "skipped jobs run no steps")
	assert.Equal(t, "queued", p.Jobs[1].Status)
	assert.Nil(t, p.Jobs[1].RunnerName)
	assert.Equal(t, http.StatusNotFound, e.get(fmt.Sprintf("/actions/jobs/%d/logs", p.Jobs[0].ID)).StatusCode)
	var r workflowRun
	e.getJSON(fmt.Sprintf("/actions/runs/%d", run.ID), &r)
	assert.Equal(t, "in_progress", r.Status)
}

func TestDispatch(t *testing.T) {
	type dispatchAnswer struct {
		WorkflowRunID int64  `json:"workflow_run_id"`
		RunURL        string `json:"run_url"`
		HTMLURL       string `json:"html_url"`
	}
	tests := []struct {
		name       string
		opts       ghemu.Options
		workflow   string
		body       any
		wantStatus int
		wantMsg    string
		wantRun    bool
	}{
		{"run details", ghemu.Options{}, "install-smoke.yml",
			map[string]any{"ref": "main", "inputs": map[string]string{"mode": "all"}, "return_run_details": true}, 200, "", true},
		{"plain", ghemu.Options{}, "install-smoke.yml", map[string]any{"ref": "main"}, 204, "", true},
		{"full ref name", ghemu.Options{}, "install-smoke.yml", map[string]any{"ref": "refs/heads/main"}, 204, "", true},
		{"tag", ghemu.Options{}, "install-smoke.yml", map[string]any{"ref": "v1.0.0"}, 204, "", true},
		{"old GHES refuses return_run_details", ghemu.Options{NoRunDetails: true}, "install-smoke.yml",
			map[string]any{"ref": "main", "return_run_details": true}, 400,
			"Invalid request.\n\nreturn_run_details is not a permitted key.", false},
		{"old GHES plain dispatch", ghemu.Options{NoRunDetails: true}, "install-smoke.yml", map[string]any{"ref": "main"}, 204, "", true},
		{"sha is not a ref", ghemu.Options{}, "install-smoke.yml", map[string]any{"ref": shaA}, 422, "No ref found for: " + shaA, false},
		{"unknown ref", ghemu.Options{}, "install-smoke.yml", map[string]any{"ref": "nope"}, 422, "No ref found for: nope", false},
		{"too many inputs", ghemu.Options{}, "install-smoke.yml", map[string]any{"ref": "main", "inputs": manyInputs(26)}, 422, "", false},
		{"25 inputs are fine", ghemu.Options{}, "install-smoke.yml", map[string]any{"ref": "main", "inputs": manyInputs(25)}, 204, "", true},
		{"no workflow_dispatch trigger", ghemu.Options{}, "ci.yml", map[string]any{"ref": "main"}, 422,
			"Workflow does not have 'workflow_dispatch' trigger", false},
		{"unknown workflow", ghemu.Options{}, "nope.yml", map[string]any{"ref": "main"}, 404, "Not Found", false},
		{"missing required input", ghemu.Options{}, "deploy.yml", map[string]any{"ref": "main"}, 422,
			"Required input 'environment' not provided", false},
		{"unexpected input", ghemu.Options{}, "deploy.yml",
			map[string]any{"ref": "main", "inputs": map[string]string{"environment": "staging", "color": "red"}}, 422,
			`Unexpected inputs provided: ["color"]`, false},
		{"declared inputs", ghemu.Options{}, "deploy.yml",
			map[string]any{"ref": "main", "inputs": map[string]string{"environment": "staging", "deployment_id": "7"}}, 204, "", true},
		{"bad json", ghemu.Options{}, "install-smoke.yml", "{", 400, "Problems parsing JSON", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.opts)
			e.s.LoadAgentMe(shaA)
			e.s.AddTag("v1.0.0", shaA)
			r := e.do("POST", "/actions/workflows/"+tc.workflow+"/dispatches", tc.body)
			require.Equal(t, tc.wantStatus, r.StatusCode, string(r.body))
			if tc.wantMsg != "" {
				assert.Equal(t, tc.wantMsg, r.message(t))
			}
			ds := e.s.Dispatches()
			if !tc.wantRun {
				assert.Empty(t, ds)
				return
			}
			require.Len(t, ds, 1)
			var runs runsPage
			e.getJSON("/actions/runs?event=workflow_dispatch&head_sha="+shaA, &runs)
			require.Len(t, runs.WorkflowRuns, 1)
			run := runs.WorkflowRuns[0]
			assert.Equal(t, ds[0].RunID, run.ID)
			assert.Equal(t, shaA, run.HeadSHA)
			assert.Equal(t, strings.TrimPrefix(ds[0].Ref, "refs/heads/"), run.HeadBranch)
			if tc.wantStatus == 200 {
				var a dispatchAnswer
				r.json(t, &a)
				assert.Equal(t, run.ID, a.WorkflowRunID)
				assert.Equal(t, fmt.Sprintf("%s/actions/runs/%d", e.api, run.ID), a.RunURL)
				assert.Equal(t, run.HTMLURL, a.HTMLURL)
				assert.Equal(t, map[string]string{"mode": "all"}, ds[0].Inputs)
			}
		})
	}
}

func manyInputs(n int) map[string]string {
	m := map[string]string{}
	for i := range n {
		m[fmt.Sprintf("in%d", i)] = "x"
	}
	return m
}

func TestDispatchHandlerAndLatency(t *testing.T) {
	e := newEnv(t, ghemu.Options{DispatchLatency: 5 * time.Second})
	e.s.AddCommit(shaA, "main")
	e.s.AddWorkflow("Install Smoke", ".github/workflows/install-smoke.yml")
	e.s.OnDispatch("Install Smoke", func(d ghemu.Dispatch) []ghemu.JobSpec {
		e.s.AddBranch("seen-"+d.Ref, d.SHA) // handlers may call back into the server
		return ghemu.InstallSmokeJobs("cli")
	})
	r := e.do("POST", "/actions/workflows/install-smoke.yml/dispatches", map[string]any{"ref": "main"})
	require.Equal(t, http.StatusNoContent, r.StatusCode, string(r.body))
	assert.Equal(t, shaA, e.s.Refs()["refs/heads/seen-main"])

	var runs runsPage
	e.getJSON("/actions/workflows/install-smoke.yml/runs?head_sha="+shaA, &runs)
	assert.Empty(t, runs.WorkflowRuns, "a dispatched run is not listed at once")
	e.clk.Advance(5 * time.Second)
	e.getJSON("/actions/workflows/install-smoke.yml/runs?head_sha="+shaA, &runs)
	require.Len(t, runs.WorkflowRuns, 1)
	assert.Equal(t, "workflow_dispatch", runs.WorkflowRuns[0].Event)

	e.clk.Advance(time.Hour)
	var jobs jobsPage
	e.getJSON(fmt.Sprintf("/actions/runs/%d/jobs", runs.WorkflowRuns[0].ID), &jobs)
	got := map[string]string{}
	for _, j := range jobs.Jobs {
		got[j.Name] = deref(j.Conclusion)
	}
	assert.Equal(t, map[string]string{"install-smoke (root)": "success", "install-smoke (nonroot)": "success",
		"install-smoke (cli)": "failure"}, got)
}

func TestRefs(t *testing.T) {
	e := newEnv(t, ghemu.Options{})
	e.s.AddCommit(shaA, "main")
	e.s.AddCommit(shaB)

	steps := []struct {
		name       string
		method     string
		path       string
		body       any
		wantStatus int
		wantMsg    string
	}{
		{"create", "POST", "/git/refs", map[string]string{"ref": "refs/heads/release-gate/tmp", "sha": shaB}, 201, ""},
		{"exists", "POST", "/git/refs", map[string]string{"ref": "refs/heads/release-gate/tmp", "sha": shaB}, 422, "Reference already exists"},
		{"no refs/ prefix", "POST", "/git/refs", map[string]string{"ref": "heads/x", "sha": shaB}, 422,
			"Reference name must start with 'refs/' and have at least two slashes."},
		{"one slash", "POST", "/git/refs", map[string]string{"ref": "refs/x", "sha": shaB}, 422,
			"Reference name must start with 'refs/' and have at least two slashes."},
		{"unknown sha", "POST", "/git/refs", map[string]string{"ref": "refs/tags/v9", "sha": shaC}, 422, "Object does not exist"},
		{"tag", "POST", "/git/refs", map[string]string{"ref": "refs/tags/v1.2.3", "sha": shaA}, 201, ""},
		{"get", "GET", "/git/ref/heads/release-gate/tmp", nil, 200, ""},
		{"get missing", "GET", "/git/ref/heads/nope", nil, 404, "Not Found"},
		{"delete", "DELETE", "/git/refs/heads/release-gate/tmp", nil, 204, ""},
		{"delete again", "DELETE", "/git/refs/heads/release-gate/tmp", nil, 422, "Reference does not exist"},
	}
	for _, st := range steps {
		r := e.do(st.method, st.path, st.body)
		require.Equal(t, st.wantStatus, r.StatusCode, "%s: %s", st.name, r.body)
		if st.wantMsg != "" {
			assert.Equal(t, st.wantMsg, r.message(t), st.name)
		}
		if st.name == "get" {
			var ref struct {
				Ref    string `json:"ref"`
				Object struct {
					SHA  string `json:"sha"`
					Type string `json:"type"`
				} `json:"object"`
			}
			r.json(t, &ref)
			assert.Equal(t, "refs/heads/release-gate/tmp", ref.Ref)
			assert.Equal(t, shaB, ref.Object.SHA)
			assert.Equal(t, "commit", ref.Object.Type)
		}
	}
	assert.Equal(t, map[string]string{"refs/heads/main": shaA, "refs/tags/v1.2.3": shaA}, e.s.Refs())

	var matching []struct {
		Ref string `json:"ref"`
	}
	e.getJSON("/git/matching-refs/tags/v1", &matching)
	require.Len(t, matching, 1)
	assert.Equal(t, "refs/tags/v1.2.3", matching[0].Ref)

	var branches []struct {
		Name string `json:"name"`
	}
	e.getJSON("/commits/"+shaA+"/branches-where-head", &branches)
	require.Len(t, branches, 1)
	assert.Equal(t, "main", branches[0].Name)
}

func TestCommitResolution(t *testing.T) {
	e := newEnv(t, ghemu.Options{})
	e.s.AddCommit(shaA, "main", "feature")
	e.s.AddCommit("a1b2c3d4ffffffffffffffffffffffffffffffff")
	e.s.AddTag("v1.0.0", shaA)
	tests := []struct {
		ref        string
		wantStatus int
		wantSHA    string
	}{
		{shaA, 200, shaA},
		{shaA[:12], 200, shaA},
		{"main", 200, shaA},
		{"v1.0.0", 200, shaA},
		{"a1b2c3d4", 422, ""}, // ambiguous prefix
		{shaA[:6], 422, ""},   // too short
		{shaC, 422, ""},
		{"no-such-branch", 422, ""},
	}
	for _, tc := range tests {
		t.Run(tc.ref, func(t *testing.T) {
			r := e.get("/commits/" + tc.ref)
			require.Equal(t, tc.wantStatus, r.StatusCode, string(r.body))
			if tc.wantStatus != 200 {
				assert.Equal(t, "No commit found for SHA: "+tc.ref, r.message(t))
				return
			}
			raw := e.get("/commits/"+tc.ref, "Accept", "application/vnd.github.v3.sha")
			assert.Equal(t, tc.wantSHA, string(raw.body), "the sha media type answers the bare sha")
			assert.Equal(t, `"`+tc.wantSHA+`"`, raw.Header.Get("ETag"))
			assert.Equal(t, 304, e.get("/commits/"+tc.ref, "Accept", "application/vnd.github.v3.sha",
				"If-None-Match", `"`+tc.wantSHA+`"`).StatusCode)
			var c struct {
				SHA    string `json:"sha"`
				Commit struct {
					Message string `json:"message"`
				} `json:"commit"`
			}
			r.json(t, &c)
			assert.Equal(t, tc.wantSHA, c.SHA)
		})
	}
}

func TestJobLogs(t *testing.T) {
	e := newEnv(t, ghemu.Options{Token: "s3cret"})
	e.s.LoadAgentMe(shaA)
	_, sec := e.s.AgentMePush(shaA)
	jobID := sec.JobIDs[0]
	logURL := fmt.Sprintf("/actions/jobs/%d/logs", jobID)

	assert.Equal(t, http.StatusNotFound, e.get(logURL).StatusCode, "no log before the job completes")
	e.clk.Advance(time.Hour)

	r := e.get(logURL)
	require.Equal(t, http.StatusFound, r.StatusCode)
	loc := r.Header.Get("Location")
	require.True(t, strings.HasPrefix(loc, e.base+"/_blobs/"), loc)
	assert.NotContains(t, loc, "s3cret")

	anon := &http.Client{}
	blob, err := anon.Get(loc) // a signed URL: no Authorization needed
	require.NoError(t, err)
	defer blob.Body.Close()
	require.Equal(t, http.StatusOK, blob.StatusCode)
	assert.Contains(t, blob.Header.Get("Content-Type"), "text/plain")
	raw, err := io.ReadAll(blob.Body)
	require.NoError(t, err)
	text := strings.TrimPrefix(string(raw), "\ufeff")

	var j job
	e.getJSON(fmt.Sprintf("/actions/jobs/%d", jobID), &j)
	require.Len(t, j.Steps, 8)
	var testsStep int
	for i, s := range j.Steps {
		if s.Name == ghemu.SecurityTestsStep {
			testsStep = i
		}
	}
	from, err := time.Parse(time.RFC3339, *j.Steps[testsStep].StartedAt)
	require.NoError(t, err)
	to, err := time.Parse(time.RFC3339, *j.Steps[testsStep].CompletedAt)
	require.NoError(t, err)

	lineRe := regexp.MustCompile(`^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z) (.*)$`)
	var inStep []string
	for _, l := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		m := lineRe.FindStringSubmatch(l)
		require.NotNil(t, m, "line without timestamp: %q", l)
		at, err := time.Parse(time.RFC3339Nano, m[1])
		require.NoError(t, err)
		if !at.Before(from) && !at.After(to) && (len(inStep) > 0 || strings.HasPrefix(m[2], "##[group]Run pnpm vitest")) {
			inStep = append(inStep, m[2])
		}
	}
	require.NotEmpty(t, inStep)
	assert.Equal(t, "##[group]Run pnpm vitest run "+strings.Join(ghemu.TargetedTestFiles, " "), inStep[0])
	assert.Contains(t, inStep, "##[endgroup]")
	joined := stripANSI(strings.Join(inStep, "\n"))
	assert.Contains(t, joined, " ✓ src/gateway/auth.test.ts (24 tests)")
	assert.Contains(t, joined, " Test Files  3 passed (3)")

	bad := strings.Replace(loc, "sig=", "sig=00", 1)
	res, err := anon.Get(bad)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
}

var ansiRe = regexp.MustCompile("\x1b\\[[0-9;]*m")

func stripANSI(s string) string { return ansiRe.ReplaceAllString(s, "") }

func TestArtifacts(t *testing.T) {
	e := newEnv(t, ghemu.Options{})
	run := e.s.AddRun("Security Gate", shaA, "push")
	files := map[string][]byte{"junit.xml": []byte("<testsuites/>"), "dir/notes.txt": []byte("hello")}
	id := e.s.AddArtifact(run.ID, "vitest-junit", files)

	var list struct {
		TotalCount int `json:"total_count"`
		Artifacts  []struct {
			ID                 int64  `json:"id"`
			Name               string `json:"name"`
			SizeInBytes        int    `json:"size_in_bytes"`
			ArchiveDownloadURL string `json:"archive_download_url"`
			Expired            bool   `json:"expired"`
		} `json:"artifacts"`
	}
	e.getJSON(fmt.Sprintf("/actions/runs/%d/artifacts", run.ID), &list)
	require.Equal(t, 1, list.TotalCount)
	a := list.Artifacts[0]
	assert.Equal(t, id, a.ID)
	assert.Equal(t, "vitest-junit", a.Name)
	assert.False(t, a.Expired)

	r := e.get(a.ArchiveDownloadURL)
	require.Equal(t, http.StatusFound, r.StatusCode)
	z := e.get(r.Header.Get("Location"))
	require.Equal(t, http.StatusOK, z.StatusCode)
	assert.Equal(t, "application/zip", z.Header.Get("Content-Type"))
	assert.Len(t, z.body, a.SizeInBytes)
	zr, err := zip.NewReader(bytes.NewReader(z.body), int64(len(z.body)))
	require.NoError(t, err)
	got := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		require.NoError(t, err)
		b, err := io.ReadAll(rc)
		require.NoError(t, err)
		rc.Close()
		got[f.Name] = b
	}
	assert.Equal(t, files, got)
	assert.Equal(t, http.StatusNotFound, e.get("/actions/artifacts/1/zip").StatusCode)
}

func TestRerun(t *testing.T) {
	e := newEnv(t, ghemu.Options{})
	run := e.s.AddRun("CI", shaA, "push",
		ghemu.JobSpec{Name: "check", RunFor: time.Minute, Conclusion: "failure"},
		ghemu.JobSpec{Name: "secrets", RunFor: time.Minute})
	e.clk.Advance(10 * time.Minute)
	again := e.s.Rerun(run.ID, ghemu.JobSpec{Name: "check", RunFor: time.Minute})
	assert.Equal(t, 2, again.RunAttempt)
	assert.Equal(t, run.CheckSuiteID, again.CheckSuiteID, "a re-run stays in its check suite")
	require.Len(t, again.JobIDs, 1)
	assert.Greater(t, again.JobIDs[0], run.JobIDs[1])

	var r workflowRun
	e.getJSON(fmt.Sprintf("/actions/runs/%d", run.ID), &r)
	assert.Equal(t, 2, r.RunAttempt)
	assert.Equal(t, "in_progress", r.Status)

	var latest, all checkRunsPage
	e.getJSON("/commits/"+shaA+"/check-runs", &latest)
	e.getJSON("/commits/"+shaA+"/check-runs?filter=all", &all)
	assert.Equal(t, 2, latest.TotalCount)
	assert.Equal(t, 3, all.TotalCount)
	ids := map[string]int64{}
	for _, cr := range latest.CheckRuns {
		ids[cr.Name] = cr.ID
	}
	assert.Equal(t, map[string]int64{"check": again.JobIDs[0], "secrets": run.JobIDs[1]}, ids)

	var jobs jobsPage
	e.getJSON(fmt.Sprintf("/actions/runs/%d/jobs", run.ID), &jobs)
	assert.Equal(t, 2, jobs.TotalCount)
	e.getJSON(fmt.Sprintf("/actions/runs/%d/jobs?filter=all", run.ID), &jobs)
	assert.Equal(t, 3, jobs.TotalCount)
	e.getJSON(fmt.Sprintf("/actions/runs/%d/attempts/1/jobs", run.ID), &jobs)
	assert.Equal(t, 2, jobs.TotalCount)

	e.clk.Advance(time.Minute)
	e.getJSON(fmt.Sprintf("/actions/runs/%d", run.ID), &r)
	assert.Equal(t, "completed", r.Status)
	assert.Equal(t, "success", deref(r.Conclusion), "the latest attempt of every job decides")

	full := e.s.Rerun(run.ID)
	assert.Equal(t, 3, full.RunAttempt)
	assert.Len(t, full.JobIDs, 1, "a re-run without specs repeats the previous attempt's jobs")
}

func TestAuth(t *testing.T) {
	e := newEnv(t, ghemu.Options{Token: "t0k"})
	e.s.AddCommit(shaA, "main")
	tests := []struct {
		auth string
		want int
	}{
		{"", 401},
		{"Bearer wrong", 401},
		{"Bearer t0k", 200},
		{"token t0k", 200},
		{"Basic t0k", 401},
	}
	for _, tc := range tests {
		t.Run(tc.auth, func(t *testing.T) {
			e.auth = tc.auth
			r := e.get("/commits/main")
			assert.Equal(t, tc.want, r.StatusCode)
			if tc.want == 401 {
				assert.Equal(t, "Bad credentials", r.message(t))
			}
			assert.NotEmpty(t, r.Header.Get("X-RateLimit-Limit"))
			g := e.do("POST", e.base+"/api/graphql", map[string]string{"query": "{ rateLimit { cost } }"})
			assert.Equal(t, tc.want, g.StatusCode)
		})
	}
}

func TestFaults(t *testing.T) {
	tests := []struct {
		name       string
		fault      ghemu.Fault
		wantStatus []int
		check      func(t *testing.T, r resp)
	}{
		{"502 once then OK", ghemu.Fault{PathPrefix: "/repos/agentme/agentme/commits", Status: 502, Count: 1},
			[]int{502, 200, 200}, nil},
		{"every request", ghemu.Fault{Status: 500}, []int{500, 500, 500}, nil},
		{"other method untouched", ghemu.Fault{Method: "POST", Status: 500}, []int{200, 200}, nil},
		{"other path untouched", ghemu.Fault{PathPrefix: "/repos/agentme/agentme/actions", Status: 500}, []int{200}, nil},
		{"secondary rate limit", ghemu.Fault{SecondaryLimit: true, RetryAfter: 30 * time.Second, Count: 2},
			[]int{403, 403, 200}, func(t *testing.T, r resp) {
				if r.StatusCode != 403 {
					return
				}
				assert.Equal(t, "30", r.Header.Get("Retry-After"))
				assert.Contains(t, r.message(t), "You have exceeded a secondary rate limit")
				assert.NotEmpty(t, r.Header.Get("X-RateLimit-Remaining"))
			}},
		{"slow but fine", ghemu.Fault{Delay: 5 * time.Millisecond, Count: 1}, []int{200, 200}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, ghemu.Options{})
			e.s.AddCommit(shaA, "main")
			e.s.Inject(tc.fault)
			for i, want := range tc.wantStatus {
				r := e.get("/commits/main")
				require.Equal(t, want, r.StatusCode, "request %d: %s", i+1, r.body)
				assert.NotEmpty(t, r.Header.Get("X-GitHub-Request-Id"))
				if tc.check != nil {
					tc.check(t, r)
				}
			}
		})
	}
}

func TestGraphQLFault(t *testing.T) {
	e := newEnv(t, ghemu.Options{})
	e.s.Inject(ghemu.Fault{PathPrefix: "graphql", Status: 502, Count: 1})
	r := e.do("POST", e.base+"/api/graphql", map[string]string{"query": "{ rateLimit { cost } }"})
	assert.Equal(t, 502, r.StatusCode)
	a, _ := e.graphql("{ rateLimit { cost } }", nil)
	assert.Empty(t, a.Errors)
	assert.Equal(t, 1, e.s.Stats().Faults)
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t, ghemu.Options{RateLimit: 3})
	e.s.AddCommit(shaA, "main")
	r := e.get("/commits/main")
	assert.Equal(t, "3", r.Header.Get("X-RateLimit-Limit"))
	assert.Equal(t, "2", r.Header.Get("X-RateLimit-Remaining"))
	assert.Equal(t, "1", r.Header.Get("X-RateLimit-Used"))
	assert.Equal(t, "core", r.Header.Get("X-RateLimit-Resource"))
	assert.Equal(t, fmt.Sprint(t0.Add(time.Hour).Unix()), r.Header.Get("X-RateLimit-Reset"))
	assert.Equal(t, 304, e.get("/commits/main", "If-None-Match", r.Header.Get("ETag")).StatusCode)
	e.get("/commits/main")
	last := e.get("/commits/main")
	assert.Equal(t, 200, last.StatusCode)
	assert.Equal(t, "0", last.Header.Get("X-RateLimit-Remaining"))
	over := e.get("/commits/main")
	assert.Equal(t, 403, over.StatusCode)
	assert.Contains(t, over.message(t), "API rate limit exceeded")

	var rl struct {
		Resources map[string]struct {
			Limit, Remaining, Used int
		} `json:"resources"`
	}
	e.getJSON(e.base+"/api/v3/rate_limit", &rl)
	assert.Equal(t, 0, rl.Resources["core"].Remaining)
	assert.Equal(t, 3, rl.Resources["graphql"].Remaining)

	e.clk.Advance(time.Hour)
	assert.Equal(t, 200, e.get("/commits/main").StatusCode, "the limit resets every hour")
}

func TestNotFound(t *testing.T) {
	e := newEnv(t, ghemu.Options{})
	e.s.AddCommit(shaA, "main")
	for _, u := range []string{e.base + "/nope", e.base + "/api/v3/nope", e.base + "/api/v3/repos/other/repo/commits/main",
		e.api + "/actions/runs/12", e.api + "/check-runs/1"} {
		r := e.get(u)
		assert.Equal(t, http.StatusNotFound, r.StatusCode, u)
		var body struct {
			Message          string `json:"message"`
			DocumentationURL string `json:"documentation_url"`
		}
		r.json(t, &body)
		assert.Equal(t, "Not Found", body.Message)
		assert.NotEmpty(t, body.DocumentationURL)
		assert.NotEmpty(t, r.Header.Get("X-RateLimit-Remaining"), "rate-limit headers on every answer")
	}
	assert.Equal(t, http.StatusNotFound, e.do("PUT", "/commits/main", nil).StatusCode)
}

func TestPublishedCheckRun(t *testing.T) {
	e := newEnv(t, ghemu.Options{})
	e.s.AddCommit(shaA, "main")
	r := e.do("POST", "/check-runs", map[string]any{"name": "release-gate", "head_sha": shaA, "status": "in_progress",
		"output": map[string]string{"title": "Gate", "summary": "waiting"}})
	require.Equal(t, http.StatusCreated, r.StatusCode, string(r.body))
	var cr struct {
		ID         int64   `json:"id"`
		Status     string  `json:"status"`
		StartedAt  *string `json:"started_at"`
		Conclusion *string `json:"conclusion"`
	}
	r.json(t, &cr)
	assert.Equal(t, "in_progress", cr.Status)
	assert.NotNil(t, cr.StartedAt)

	var list checkRunsPage
	e.getJSON("/commits/"+shaA+"/check-runs", &list)
	require.Equal(t, 1, list.TotalCount)
	assert.Equal(t, cr.ID, list.CheckRuns[0].ID)
	assert.Equal(t, "github-actions", list.CheckRuns[0].App.Slug)

	tests := []struct {
		name       string
		body       map[string]any
		wantStatus int
		wantMsg    string
	}{
		{"completed needs a conclusion", map[string]any{"status": "completed"}, 422, ""},
		{"bad conclusion", map[string]any{"conclusion": "great"}, 422, ""},
		{"summary too long", map[string]any{"output": map[string]string{"title": "x", "summary": strings.Repeat("a", 65536)}}, 422,
			"Invalid request.\n\nOnly 65535 characters are allowed; 65536 were supplied."},
		{"complete", map[string]any{"conclusion": "success"}, 200, ""},
	}
	for _, tc := range tests {
		r := e.do("PATCH", fmt.Sprintf("/check-runs/%d", cr.ID), tc.body)
		require.Equal(t, tc.wantStatus, r.StatusCode, "%s: %s", tc.name, r.body)
		if tc.wantMsg != "" {
			assert.Equal(t, tc.wantMsg, r.message(t))
		}
	}
	e.getJSON(fmt.Sprintf("/check-runs/%d", cr.ID), &cr)
	assert.Equal(t, "completed", cr.Status)
	assert.Equal(t, "success", deref(cr.Conclusion))

	a, _ := e.graphql(snapshotQuery, snapshotVars(shaA, nil))
	require.Empty(t, a.Errors)
	var d rollupAnswer
	require.NoError(t, json.Unmarshal(a.Data, &d))
	nodes := d.Repository.Object.StatusCheckRollup.Contexts.Nodes
	require.Len(t, nodes, 1, "a published check run is part of the rollup")
	assert.Equal(t, cr.ID, nodes[0].DatabaseID)
	assert.Equal(t, "release-gate", nodes[0].Name)
	assert.Nil(t, nodes[0].CheckSuite.WorkflowRun, "it belongs to no workflow run")
	assert.Equal(t, "SUCCESS", deref(nodes[0].Conclusion))

	r = e.do("POST", "/check-runs", map[string]any{"name": "x", "head_sha": shaC})
	assert.Equal(t, http.StatusUnprocessableEntity, r.StatusCode)
}

func TestStatuses(t *testing.T) {
	tests := []struct {
		name   string
		states [][2]string // context, state in order
		want   string
		count  int
	}{
		{"none is pending", nil, "pending", 0},
		{"all success", [][2]string{{"a", "success"}, {"b", "success"}}, "success", 2},
		{"latest per context wins", [][2]string{{"a", "failure"}, {"a", "success"}}, "success", 1},
		{"one pending", [][2]string{{"a", "success"}, {"b", "pending"}}, "pending", 2},
		{"error fails", [][2]string{{"a", "error"}, {"b", "pending"}}, "failure", 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, ghemu.Options{})
			e.s.AddCommit(shaA, "main")
			for _, st := range tc.states {
				e.s.AddStatus(shaA, st[0], st[1], "https://ci.example/1", "desc")
			}
			var combined struct {
				State      string `json:"state"`
				TotalCount int    `json:"total_count"`
				Statuses   []struct {
					Context, State string
				} `json:"statuses"`
			}
			e.getJSON("/commits/"+shaA+"/status", &combined)
			assert.Equal(t, tc.want, combined.State)
			assert.Equal(t, tc.count, combined.TotalCount)
			var all []struct{ Context string }
			e.getJSON("/commits/"+shaA+"/statuses", &all)
			assert.Len(t, all, len(tc.states))
		})
	}
}

func TestWorkflowRunFilters(t *testing.T) {
	e := newEnv(t, ghemu.Options{})
	e.s.AddCommit(shaA, "main")
	e.s.AddCommit(shaB, "dev")
	ci := e.s.AddWorkflow("CI", ".github/workflows/ci.yml")
	first := e.s.AddRun("CI", shaA, "push")
	e.clk.Advance(time.Hour)
	second := e.s.AddRun("CI", shaA, "pull_request", ghemu.JobSpec{Name: "check", RunFor: time.Hour})
	third := e.s.AddRun("CI", shaB, "push")
	e.s.AddRun("Security Gate", shaA, "push")
	e.clk.Advance(time.Minute)

	tests := []struct {
		query string
		want  []int64
	}{
		{"", []int64{third.ID, second.ID, first.ID}},
		{"?head_sha=" + shaA, []int64{second.ID, first.ID}},
		{"?event=push", []int64{third.ID, first.ID}},
		{"?branch=dev", []int64{third.ID}},
		{"?status=in_progress", []int64{second.ID}},
		{"?status=success", []int64{third.ID, first.ID}},
		{"?created=" + url.QueryEscape(">="+t0.Add(30*time.Minute).Format(time.RFC3339)), []int64{third.ID, second.ID}},
		{"?created=" + url.QueryEscape("<"+t0.Add(30*time.Minute).Format(time.RFC3339)), []int64{first.ID}},
		{"?created=2026-11-20", []int64{third.ID, second.ID, first.ID}},
		{"?created=2026-11-19..2026-11-19", nil},
		{fmt.Sprintf("?check_suite_id=%d", first.CheckSuiteID), []int64{first.ID}},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			for _, base := range []string{"/actions/workflows/ci.yml/runs", fmt.Sprintf("/actions/workflows/%d/runs", ci.ID)} {
				var p runsPage
				e.getJSON(base+tc.query, &p)
				var got []int64
				for _, r := range p.WorkflowRuns {
					got = append(got, r.ID)
					assert.Equal(t, ci.ID, r.WorkflowID)
				}
				assert.Equal(t, tc.want, got)
				assert.Equal(t, len(tc.want), p.TotalCount)
			}
		})
	}
	var all runsPage
	e.getJSON("/actions/runs", &all)
	assert.Equal(t, 4, all.TotalCount)
	assert.Equal(t, 422, e.get("/actions/runs?created=yesterday").StatusCode)

	var wfs struct {
		TotalCount int `json:"total_count"`
		Workflows  []struct {
			ID   int64  `json:"id"`
			Name string `json:"name"`
			Path string `json:"path"`
		} `json:"workflows"`
	}
	e.getJSON("/actions/workflows", &wfs)
	assert.Equal(t, 2, wfs.TotalCount)
	assert.Equal(t, ".github/workflows/ci.yml", wfs.Workflows[0].Path)
	assert.Equal(t, 404, e.get("/actions/workflows/.github%2Fworkflows%2Fci.yml").StatusCode)
}

func TestCheckSuitesAndExternalChecks(t *testing.T) {
	e := newEnv(t, ghemu.Options{})
	e.s.AddCommit(shaA, "main")
	run := e.s.AddRun("CI", shaA, "push", ghemu.JobSpec{Name: "check", RunFor: time.Minute})
	ext := e.s.AddCheckRun(shaA, "codecov/patch", ghemu.JobSpec{RunFor: 2 * time.Minute, Conclusion: "neutral"})
	e.clk.Advance(90 * time.Second)
	var suites struct {
		TotalCount  int `json:"total_count"`
		CheckSuites []struct {
			ID         int64   `json:"id"`
			Status     string  `json:"status"`
			Conclusion *string `json:"conclusion"`
			App        struct {
				Slug string `json:"slug"`
			} `json:"app"`
		} `json:"check_suites"`
	}
	e.getJSON("/commits/"+shaA+"/check-suites", &suites)
	require.Equal(t, 2, suites.TotalCount)
	assert.Equal(t, run.CheckSuiteID, suites.CheckSuites[0].ID)
	assert.Equal(t, "completed", suites.CheckSuites[0].Status)
	assert.Equal(t, "in_progress", suites.CheckSuites[1].Status)
	assert.Equal(t, "external-ci", suites.CheckSuites[1].App.Slug)

	var list checkRunsPage
	e.getJSON("/commits/main/check-runs?check_name=codecov/patch", &list)
	require.Equal(t, 1, list.TotalCount)
	assert.Equal(t, ext, list.CheckRuns[0].ID)
	e.getJSON("/commits/main/check-runs?status=completed", &list)
	require.Equal(t, 1, list.TotalCount)
	assert.Equal(t, "check", list.CheckRuns[0].Name)
	assert.Equal(t, http.StatusNotFound, e.get(fmt.Sprintf("/actions/jobs/%d", ext)).StatusCode, "not an Actions job")
}
