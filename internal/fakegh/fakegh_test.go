package fakegh

import (
	"context"
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/clock"
	"github.com/agentme/release-action/internal/github"
)

var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// spy is a testing.TB that records failures and cleanups instead of acting on them, so the
// fake's loudness itself can be asserted.
type spy struct {
	testing.TB
	errs     []string
	cleanups []func()
}

func (s *spy) Helper()           {}
func (s *spy) Cleanup(fn func()) { s.cleanups = append(s.cleanups, fn) }
func (s *spy) Errorf(format string, args ...any) {
	s.errs = append(s.errs, fmt.Sprintf(format, args...))
}

func (s *spy) cleanup() {
	for i := len(s.cleanups) - 1; i >= 0; i-- {
		s.cleanups[i]()
	}
}

func newSpied(t *testing.T) (*Fake, *spy) {
	s := &spy{TB: t}
	return New(s, clock.NewVirtual(t0), 100), s
}

// TestUnscriptedCallsFail: every method the test did not script fails the test, naming the
// call and its arguments, and returns ErrUnscripted.
func TestUnscriptedCallsFail(t *testing.T) {
	ctx := context.Background()
	calls := map[string]func(f *Fake) error{
		"CreateDeployment production v1": func(f *Fake) error {
			_, err := f.CreateDeployment(ctx, github.DeploymentRequest{Environment: "production", Ref: "v1"})
			return err
		},
		"FindWorkflow deploy.yml": func(f *Fake) error { _, err := f.FindWorkflow(ctx, "deploy.yml"); return err },
		"DispatchWorkflow 7 v1": func(f *Fake) error {
			_, err := f.DispatchWorkflow(ctx, 7, "v1", nil)
			return err
		},
		"ListWorkflowRuns 7 workflow_dispatch": func(f *Fake) error {
			_, err := f.ListWorkflowRuns(ctx, 7, github.RunFilter{Event: "workflow_dispatch"})
			return err
		},
		"GetWorkflowRun 9":     func(f *Fake) error { _, err := f.GetWorkflowRun(ctx, 9); return err },
		"PendingDeployments 9": func(f *Fake) error { _, err := f.PendingDeployments(ctx, 9); return err },
		"FileContent package.json abc": func(f *Fake) error {
			_, err := f.FileContent(ctx, "package.json", "abc")
			return err
		},
		"GetTag v1":        func(f *Fake) error { _, err := f.GetTag(ctx, "v1"); return err },
		"ListTagNames v1.": func(f *Fake) error { _, err := f.ListTagNames(ctx, "v1."); return err },
		"CreateAnnotatedTag v1 abc": func(f *Fake) error {
			_, err := f.CreateAnnotatedTag(ctx, "v1", "abc", "m", nil)
			return err
		},
		"GetReleaseByTag v1": func(f *Fake) error { _, err := f.GetReleaseByTag(ctx, "v1"); return err },
		"CreateRelease v1": func(f *Fake) error {
			_, err := f.CreateRelease(ctx, github.ReleaseRequest{TagName: "v1"})
			return err
		},
		"UpdateReleaseBody 3": func(f *Fake) error { return f.UpdateReleaseBody(ctx, 3, "b") },
		"ResolveCommit main":  func(f *Fake) error { _, err := f.ResolveCommit(ctx, "main"); return err },
		"CreateIssue down":    func(f *Fake) error { _, err := f.CreateIssue(ctx, "down", "b", nil); return err },
		"ListDeploymentStatuses of an unknown deployment 42": func(f *Fake) error {
			_, err := f.ListDeploymentStatuses(ctx, 42)
			return err
		},
		"CreateDeploymentStatus on an unknown deployment 42": func(f *Fake) error {
			_, err := f.CreateDeploymentStatus(ctx, 42, github.DeploymentStatusRequest{State: "success"})
			return err
		},
	}
	for want, call := range calls {
		t.Run(want, func(t *testing.T) {
			f, s := newSpied(t)
			err := call(f)
			require.ErrorIs(t, err, ErrUnscripted)
			assert.Equal(t, []string{"fakegh: unscripted call " + want}, s.errs)
		})
	}
}

// TestScriptedCallsAnswer: a scripted method answers through its script, silently.
func TestScriptedCallsAnswer(t *testing.T) {
	f, s := newSpied(t)
	f.GetTagFunc = func(name string) (github.Tag, error) { return github.Tag{Name: name, SHA: "abc"}, nil }
	tag, err := f.GetTag(context.Background(), "v1")
	require.NoError(t, err)
	assert.Equal(t, "abc", tag.SHA)
	assert.Empty(t, s.errs)
	assert.Equal(t, []string{"GetTag v1"}, f.CallStrings())
}

// TestDeploymentsStored: records and statuses are stored, listed oldest first whatever
// their creation times, filtered by environment (any case) and commit, and statuses move
// the record's UpdatedAt.
func TestDeploymentsStored(t *testing.T) {
	ctx := context.Background()
	f, s := newSpied(t)
	f.CreateDeploymentFunc = func(r github.DeploymentRequest) (string, error) { return "c0ffee", nil }
	older := f.AddDeployment(github.Deployment{SHA: "abc", Environment: "production", CreatedAt: t0.Add(time.Hour)})
	created, err := f.CreateDeployment(ctx, github.DeploymentRequest{Environment: "production", Ref: "v1", Task: "deploy", Description: "d"})
	require.NoError(t, err)
	assert.Equal(t, github.Deployment{ID: 102, SHA: "c0ffee", Ref: "v1", Environment: "production", Task: "deploy", Description: "d",
		Creator: "release-bot", CreatedAt: t0, UpdatedAt: t0}, created)
	f.AddDeployment(github.Deployment{SHA: "abc", Environment: "staging", CreatedAt: t0})

	got, err := f.ListDeployments(ctx, github.DeploymentFilter{Environment: "Production"})
	require.NoError(t, err)
	assert.Equal(t, []int64{older.ID, created.ID}, ids(got), "oldest first by creation order, not by time")
	got, err = f.ListDeployments(ctx, github.DeploymentFilter{SHA: "abc"})
	require.NoError(t, err)
	assert.Len(t, got, 2)

	st, err := f.CreateDeploymentStatus(ctx, created.ID, github.DeploymentStatusRequest{State: "success", Description: "ok"})
	require.NoError(t, err)
	assert.Equal(t, "success", st.State)
	later := f.AddStatus(created.ID, github.DeploymentStatus{State: "inactive", CreatedAt: t0.Add(time.Minute)})
	sts, err := f.ListDeploymentStatuses(ctx, created.ID)
	require.NoError(t, err)
	assert.Equal(t, []int64{st.ID, later.ID}, []int64{sts[0].ID, sts[1].ID})
	assert.Equal(t, t0.Add(time.Minute), f.Deployments()[1].UpdatedAt)
	assert.Equal(t, []int{2, 2}, []int{f.Calls()[1].Returned, f.Calls()[2].Returned})
	assert.Empty(t, s.errs)
}

// TestGitHubRulesEnforced: what GitHub rejects, and what release-action must not send,
// fails the test.
func TestGitHubRulesEnforced(t *testing.T) {
	ctx := context.Background()
	long := strings.Repeat("é", maxDescription+1)
	tests := []struct {
		name string
		call func(f *Fake, id int64)
		want string
	}{
		{"long deployment description", func(f *Fake, _ int64) {
			_, _ = f.CreateDeployment(ctx, github.DeploymentRequest{Environment: "e", Description: long})
		}, "fakegh: deployment description has 141 characters"},
		{"long status description", func(f *Fake, id int64) {
			_, _ = f.CreateDeploymentStatus(ctx, id, github.DeploymentStatusRequest{State: "success", Description: long})
		}, "fakegh: status description has 141 characters"},
		{"auto_inactive", func(f *Fake, id int64) {
			no := false
			_, _ = f.CreateDeploymentStatus(ctx, id, github.DeploymentStatusRequest{State: "success", AutoInactive: &no})
		}, "fakegh: auto_inactive set"},
		{"ref filter", func(f *Fake, _ int64) {
			_, _ = f.ListDeployments(ctx, github.DeploymentFilter{Ref: "v1"})
		}, "fakegh: ListDeployments with a ref or task filter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, s := newSpied(t)
			f.CreateDeploymentFunc = func(github.DeploymentRequest) (string, error) { return "abc", nil }
			id := f.AddDeployment(github.Deployment{Environment: "e", CreatedAt: t0}).ID
			tt.call(f, id)
			require.Len(t, s.errs, 1)
			assert.True(t, strings.HasPrefix(s.errs[0], tt.want), s.errs[0])
		})
	}
}

// TestInjectedFailures: Fail fails every call until cleared, FailNext only the next one;
// failed calls are still recorded, and a failed write stores nothing.
func TestInjectedFailures(t *testing.T) {
	ctx := context.Background()
	f, s := newSpied(t)
	boom := errors.New("502 Bad Gateway")
	id := f.AddDeployment(github.Deployment{Environment: "e", CreatedAt: t0}).ID
	f.FailNext("CreateDeploymentStatus", boom)
	_, err := f.CreateDeploymentStatus(ctx, id, github.DeploymentStatusRequest{State: "success"})
	require.ErrorIs(t, err, boom)
	assert.Empty(t, f.Statuses(id))
	_, err = f.CreateDeploymentStatus(ctx, id, github.DeploymentStatusRequest{State: "success"})
	require.NoError(t, err)

	f.Fail("ListDeployments", boom)
	for range 2 {
		_, err = f.ListDeployments(ctx, github.DeploymentFilter{})
		require.ErrorIs(t, err, boom)
	}
	f.Fail("ListDeployments", nil)
	_, err = f.ListDeployments(ctx, github.DeploymentFilter{})
	require.NoError(t, err)
	assert.Equal(t, 3, f.Count("ListDeployments"))
	assert.Equal(t, 2, f.Count("CreateDeploymentStatus"))

	f.OnStatus = func(github.Deployment, github.DeploymentStatusRequest) error { return boom }
	_, err = f.CreateDeploymentStatus(ctx, id, github.DeploymentStatusRequest{State: "failure"})
	require.ErrorIs(t, err, boom)
	assert.Len(t, f.Statuses(id), 1, "a refused status is not stored")
	assert.Empty(t, s.errs)
}

// TestRequired: a required method never called fails the test at cleanup; one called does not.
func TestRequired(t *testing.T) {
	f, s := newSpied(t)
	f.GetTagFunc = func(string) (github.Tag, error) { return github.Tag{}, nil }
	f.Require("GetTag", "CreateIssue")
	_, _ = f.GetTag(context.Background(), "v1")
	s.cleanup()
	assert.Equal(t, []string{"fakegh: CreateIssue was required but never called"}, s.errs)
}

// TestOnlyTestsImportFakegh: the fake is a test helper; production code must not depend on it.
func TestOnlyTestsImportFakegh(t *testing.T) {
	const self = "github.com/agentme/release-action/internal/fakegh"
	root := filepath.Join("..", "..")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && path != root || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		file, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range file.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); p == self {
				t.Errorf("%s imports %s; only _test.go files may", path, self)
			}
		}
		return nil
	})
	require.NoError(t, err)
}

func ids(ds []github.Deployment) []int64 {
	var out []int64
	for _, d := range ds {
		out = append(out, d.ID)
	}
	return out
}
