package rollback

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentme/release-action/internal/outcome"
	"github.com/agentme/release-action/internal/untrusted"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/github"
)

// The real client satisfies the interface.
var _ GitHub = (*github.Client)(nil)

// restDeployments serves the fake's deployments and statuses over GitHub's REST API with
// real pagination (per_page, page, Link rel="next"), so that the real client reads them.
type restDeployments struct {
	f     *fakeGH
	mu    sync.Mutex
	pages []string // "deployments env=production page=2"
}

func (s *restDeployments) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	const prefix = "/repos/agentme/agentme/deployments"
	q := r.URL.Query()
	per, _ := strconv.Atoi(q.Get("per_page"))
	if per <= 0 {
		per = 30
	}
	page, _ := strconv.Atoi(q.Get("page"))
	page = max(page, 1)
	var items []any
	what := ""
	switch {
	case r.Method == http.MethodGet && r.URL.Path == prefix:
		what = fmt.Sprintf("deployments env=%s sha=%s page=%d", q.Get("environment"), untrusted.ShortSHA(q.Get("sha")), page)
		for _, d := range s.f.Deployments() {
			if (q.Get("environment") == "" || d.Environment == q.Get("environment")) && (q.Get("sha") == "" || d.SHA == q.Get("sha")) {
				payload := d.Payload
				if len(payload) == 0 {
					payload = json.RawMessage(`{}`)
				}
				items = append(items, map[string]any{
					"id": d.ID, "sha": d.SHA, "ref": d.Ref, "task": d.Task, "environment": d.Environment,
					"description": d.Description, "payload": payload, "creator": map[string]any{"login": d.Creator},
					"created_at": d.CreatedAt.Format(time.RFC3339), "updated_at": d.UpdatedAt.Format(time.RFC3339),
				})
			}
		}
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, prefix+"/") && strings.HasSuffix(r.URL.Path, "/statuses"):
		id, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, prefix+"/"), "/statuses"), 10, 64)
		what = fmt.Sprintf("statuses %d page=%d", id, page)
		for _, st := range s.f.Statuses(id) {
			items = append(items, map[string]any{
				"id": st.ID, "state": st.State, "description": st.Description, "log_url": st.LogURL,
				"environment_url": st.EnvironmentURL, "created_at": st.CreatedAt.Format(time.RFC3339),
			})
		}
	default:
		s.f.t.Errorf("unexpected REST request %s %s", r.Method, r.URL)
		http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
		return
	}
	s.mu.Lock()
	s.pages = append(s.pages, what)
	s.mu.Unlock()

	from, to := min((page-1)*per, len(items)), min(page*per, len(items))
	if to < len(items) {
		next := *r.URL
		nq := next.Query()
		nq.Set("page", strconv.Itoa(page+1))
		next.RawQuery = nq.Encode()
		w.Header().Set("Link", fmt.Sprintf(`<http://%s%s>; rel="next"`, r.Host, next.RequestURI()))
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(append([]any{}, items[from:to]...))
}

// restGH reads deployments through the real client over HTTP and writes through the fake.
type restGH struct {
	*fakeGH
	c *github.Client
}

func (g restGH) ListDeployments(ctx context.Context, f github.DeploymentFilter) ([]github.Deployment, error) {
	return g.c.ListDeployments(ctx, f)
}

func (g restGH) ListDeploymentStatuses(ctx context.Context, id int64) ([]github.DeploymentStatus, error) {
	return g.c.ListDeploymentStatuses(ctx, id)
}

// TestLastKnownGoodAcrossPages finds the last known good three pages deep, past failed,
// errored, inactive and rolled-back deployments, through the real client's pagination.
func TestLastKnownGoodAcrossPages(t *testing.T) {
	f := newFake(t)
	badID, _ := history(f)
	srv := &restDeployments{f: f}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	c, err := github.New(github.Repo{Owner: "agentme", Name: "agentme"}, github.Options{APIURL: ts.URL, Clock: f.clk, HTTPClient: ts.Client()})
	require.NoError(t, err)

	res, err := Run(context.Background(), restGH{fakeGH: f, c: c}, newOpts(f, &fakeSmoke{}))
	require.NoError(t, err)
	assert.Equal(t, outcome.Pass, res.Verdict, res.Reason)
	assert.Equal(t, badID, res.From.DeploymentID)
	assert.Equal(t, goodSHA, res.To.SHA)
	assert.Equal(t, goodTag, res.To.Tag)
	assert.True(t, res.BadMarked)

	srv.mu.Lock()
	defer srv.mu.Unlock()
	assert.Contains(t, srv.pages, "deployments env=production sha= page=3", "the environment's history spans three pages of 100")
	assert.NotContains(t, srv.pages, "deployments env=production sha= page=4")
}
