package ghemu

import (
	"crypto/rand"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/agentme/release-action/internal/clock"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

//go:embed schema.graphql
var schemaSDL string

var schema = gqlparser.MustLoadSchema(&ast.Source{Name: "schema.graphql", Input: schemaSDL})

// Options configure a Server. The zero value is usable.
type Options struct {
	// Owner and Repo name the one repository served (default "agentme", "agentme").
	Owner, Repo string
	// Clock drives every state that changes over time (default clock.Real; tests and the
	// sandbox pass a clock.Virtual shared with the code under test).
	Clock clock.Clock
	// Token, when set, must arrive as "Authorization: Bearer <t>" or "token <t>" on every
	// REST and GraphQL request; otherwise 401 {"message":"Bad credentials"}.
	Token string
	// NoRunDetails behaves like GHES 3.20 and older: a dispatch body carrying
	// return_run_details answers 400.
	NoRunDetails bool
	// RateLimit is the primary limit per hour of each resource (REST core requests and
	// GraphQL points), default 5000.
	RateLimit int
	// DispatchLatency delays the run a dispatch creates when no run details were
	// returned (the run appears, and starts its queue time, this long after the
	// dispatch), like GitHub's few seconds before a dispatched run can be listed.
	DispatchLatency time.Duration
	// TokenStartsWorkflows makes the token behave like a PAT or App token: a deployment
	// created through the API starts a run (event "deployment") of every workflow
	// registered with OnDeployment. The default, false, is GITHUB_TOKEN's rule: events
	// it causes start no workflow (workflow_dispatch excepted).
	TokenStartsWorkflows bool
	// CheckRunSuiteOf, when set, makes a check run created through the API join the check
	// suite of the newest run of this workflow on its commit, as GitHub does with a check
	// run created with GITHUB_TOKEN (which run's suite it joins is not documented). It then
	// counts in that suite's status but is no job of the run. Default: a suite of its own.
	CheckRunSuiteOf string
}

// Server is the emulator. All methods are safe for concurrent use.
type Server struct {
	opts   Options
	clk    clock.Clock
	secret []byte
	routes []route

	mu      sync.Mutex
	w       *world
	secrets secretStore // under mu

	tsMu sync.Mutex
	ts   *httptest.Server
}

// New returns an emulator with an empty repository (no commits, no workflows).
func New(o Options) *Server {
	if o.Owner == "" {
		o.Owner = "agentme"
	}
	if o.Repo == "" {
		o.Repo = "agentme"
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.RateLimit <= 0 {
		o.RateLimit = 5000
	}
	s := &Server{opts: o, clk: o.Clock, w: newWorld(o.Owner, o.Repo), secret: make([]byte, 32)}
	_, _ = rand.Read(s.secret)
	s.w.core.limit, s.w.graphql.limit = o.RateLimit, o.RateLimit
	s.routes = s.restRoutes()
	return s
}

// Handler returns the emulator as an http.Handler (REST under /api/v3, GraphQL at
// /api/graphql, signed blobs under /_blobs/). URLs in answers use the request's Host.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// Start serves the emulator on a loopback port and returns its base URL; the REST API
// is at base+"/api/v3" and GraphQL at base+"/api/graphql". A second call returns the
// same URL.
func (s *Server) Start() string {
	s.tsMu.Lock()
	defer s.tsMu.Unlock()
	if s.ts == nil {
		s.ts = httptest.NewServer(s.Handler())
	}
	return s.ts.URL
}

// Close stops the server started by Start.
func (s *Server) Close() {
	s.tsMu.Lock()
	defer s.tsMu.Unlock()
	if s.ts != nil {
		s.ts.Close()
		s.ts = nil
	}
}

// Owner returns the served repository's owner.
func (s *Server) Owner() string { return s.opts.Owner }

// Repo returns the served repository's name.
func (s *Server) Repo() string { return s.opts.Repo }

func (s *Server) now() time.Time { return s.clk.Now().UTC() }

// reply is a buffered answer; the pipeline adds ETag, rate-limit and request headers.
type reply struct {
	status int
	body   []byte
	ctype  string
	header http.Header
	etag   string // overrides the body hash
}

// rc is the context of one request being answered, under Server.mu.
type rc struct {
	s      *Server
	w      *world
	r      *http.Request
	now    time.Time
	params map[string]string
	u      urls
	body   []byte
}

type urls struct {
	base string // scheme://host
	api  string // base + /api/v3
	repo string // api + /repos/o/r
	html string // base + /o/r
}

func (s *Server) urlsFor(r *http.Request) urls {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	base := scheme + "://" + r.Host
	api := base + "/api/v3"
	return urls{base: base, api: api, repo: api + "/repos/" + s.opts.Owner + "/" + s.opts.Repo,
		html: base + "/" + s.opts.Owner + "/" + s.opts.Repo}
}

const docsURL = "https://docs.github.com/rest"

func (s *Server) serveHTTP(hw http.ResponseWriter, r *http.Request) {
	path := r.URL.EscapedPath()
	s.mu.Lock()
	s.w.requestNo++
	reqID := requestID(s.w.requestNo)
	s.mu.Unlock()
	hw.Header().Set("X-GitHub-Request-Id", reqID)

	switch {
	case strings.HasPrefix(path, "/_blobs/"):
		s.serveBlob(hw, r, path, reqID)
	case path == "/api/graphql":
		s.serveAPI(hw, r, "graphql", reqID)
	case path == "/api/v3" || strings.HasPrefix(path, "/api/v3/"):
		s.serveAPI(hw, r, strings.TrimPrefix(path, "/api/v3"), reqID)
	default:
		s.finish(hw, r, errReply(http.StatusNotFound, "Not Found"), &s.w.core)
	}
}

// serveAPI runs the pipeline shared by REST and GraphQL: route, faults, auth, primary
// rate limit, handler, conditional GET, headers.
func (s *Server) serveAPI(hw http.ResponseWriter, r *http.Request, rel, reqID string) {
	var rt *route
	var params map[string]string
	key := "POST /graphql"
	if rel == "graphql" {
		if r.Method != http.MethodPost {
			s.count(func(st *Stats) { st.GraphQL++ })
			s.finish(hw, r, errReply(http.StatusNotFound, "Not Found"), &s.w.graphql)
			return
		}
	} else {
		rt, params = s.match(r.Method, rel)
		key = r.Method + " " + rel
		if rt != nil {
			key = r.Method + " " + rt.pattern
		}
	}
	s.count(func(st *Stats) {
		if rel == "graphql" {
			st.GraphQL++
		} else {
			st.REST++
		}
		st.Routes[key]++
	})

	if done := s.applyFault(hw, r, rel, reqID); done {
		return
	}
	bucket := &s.w.core
	if rel == "graphql" {
		bucket = &s.w.graphql
	}
	if s.opts.Token != "" && !authorized(r.Header.Get("Authorization"), s.opts.Token) {
		s.finish(hw, r, errReply(http.StatusUnauthorized, "Bad credentials"), bucket)
		return
	}
	body, err := readBody(r)
	if err != nil {
		s.finish(hw, r, errReply(http.StatusBadRequest, "Problems parsing JSON"), bucket)
		return
	}
	if rel == "graphql" {
		s.mu.Lock()
		c := &rc{s: s, w: s.w, r: r, now: s.now(), u: s.urlsFor(r), body: body}
		rep := s.graphqlHandler(c)
		s.mu.Unlock()
		s.finish(hw, r, rep, &s.w.graphql)
		return
	}
	if rt == nil {
		s.finish(hw, r, errReply(http.StatusNotFound, "Not Found"), &s.w.core)
		return
	}
	if !strings.EqualFold(params["owner"], s.opts.Owner) && params["owner"] != "" ||
		!strings.EqualFold(params["repo"], s.opts.Repo) && params["repo"] != "" {
		s.finish(hw, r, errReply(http.StatusNotFound, "Not Found"), &s.w.core)
		return
	}

	s.mu.Lock()
	now := s.now()
	b := &s.w.core
	b.refresh(now)
	if !rt.free && b.remaining() == 0 {
		s.mu.Unlock()
		s.finish(hw, r, errReply(http.StatusForbidden, fmt.Sprintf(
			"API rate limit exceeded for user ID 1. If you reach out to GitHub Support for help, please include the request ID %s.", reqID)), b)
		return
	}
	c := &rc{s: s, w: s.w, r: r, now: now, params: params, u: s.urlsFor(r), body: body}
	rep := rt.h(c)
	if r.Method == http.MethodGet && rep.status == http.StatusOK {
		etag := rep.etag
		if etag == "" {
			etag = etagOf(r.Header.Get("Authorization"), rep.body)
		}
		if rep.header == nil {
			rep.header = http.Header{}
		}
		rep.header.Set("ETag", etag)
		if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatch(inm, etag) {
			s.w.stats.NotModified++
			rep = reply{status: http.StatusNotModified, header: rep.header}
		}
	}
	if !rt.free && rep.status != http.StatusNotModified {
		b.used++
	}
	s.mu.Unlock()
	s.finish(hw, r, rep, b)
}

// finish writes rep with the rate-limit headers of b (nil: none).
func (s *Server) finish(hw http.ResponseWriter, r *http.Request, rep reply, b *bucket) {
	h := hw.Header()
	if b != nil {
		s.mu.Lock()
		b.refresh(s.now())
		res := "core"
		if b == &s.w.graphql {
			res = "graphql"
		}
		h.Set("X-RateLimit-Limit", fmt.Sprint(b.limit))
		h.Set("X-RateLimit-Remaining", fmt.Sprint(b.remaining()))
		h.Set("X-RateLimit-Used", fmt.Sprint(b.used))
		h.Set("X-RateLimit-Reset", fmt.Sprint(b.reset.Unix()))
		h.Set("X-RateLimit-Resource", res)
		s.mu.Unlock()
	}
	h.Set("X-GitHub-Media-Type", "github.v3; format=json")
	h.Set("Vary", "Accept, Authorization, Cookie, X-GitHub-OTP")
	if r.Method == http.MethodGet {
		h.Set("Cache-Control", "private, max-age=60, s-maxage=60")
	}
	writeReply(hw, rep)
}

func writeReply(hw http.ResponseWriter, rep reply) {
	h := hw.Header()
	for k, vs := range rep.header {
		h[k] = vs
	}
	if rep.body != nil || rep.ctype != "" {
		ct := rep.ctype
		if ct == "" {
			ct = "application/json; charset=utf-8"
		}
		h.Set("Content-Type", ct)
	}
	if rep.status == 0 {
		rep.status = http.StatusOK
	}
	hw.WriteHeader(rep.status)
	if rep.status != http.StatusNotModified && rep.status != http.StatusNoContent {
		_, _ = hw.Write(rep.body)
	}
}

func authorized(h, token string) bool {
	scheme, t, ok := strings.Cut(h, " ")
	if !ok {
		return false
	}
	s := strings.ToLower(scheme)
	return (s == "bearer" || s == "token") && strings.TrimSpace(t) == token
}

func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	defer r.Body.Close()
	b, err := io.ReadAll(io.LimitReader(r.Body, 64<<20+1))
	if err != nil {
		return nil, err
	}
	if len(b) > 64<<20 {
		return nil, errors.New("body too large")
	}
	return b, nil
}

func requestID(n int64) string {
	return fmt.Sprintf("%04X:%04X:%06X:%06X:%08X", 0xC0DE, n%0xFFFF, n*7919%0xFFFFFF, n*104729%0xFFFFFF, 0x67000000+n)
}

func (s *Server) count(f func(*Stats)) {
	s.mu.Lock()
	f(&s.w.stats)
	s.mu.Unlock()
}

// route is one REST endpoint. Patterns use {name} for one path segment and {name...}
// as the last element for the rest of the path.
type route struct {
	method, pattern string
	segs            []string
	h               func(*rc) reply
	free            bool // does not count against the primary rate limit
}

func (s *Server) match(method, rel string) (*route, map[string]string) {
	parts := strings.Split(strings.Trim(rel, "/"), "/")
	for i, p := range parts {
		if u, err := url.PathUnescape(p); err == nil {
			parts[i] = u
		}
	}
	for i := range s.routes {
		rt := &s.routes[i]
		if rt.method != method {
			continue
		}
		if params, ok := matchSegs(rt.segs, parts); ok {
			return rt, params
		}
	}
	return nil, nil
}

func matchSegs(segs, parts []string) (map[string]string, bool) {
	params := map[string]string{}
	for i, sg := range segs {
		if strings.HasSuffix(sg, "...}") {
			if i >= len(parts) || parts[i] == "" {
				return nil, false
			}
			params[sg[1:len(sg)-4]] = strings.Join(parts[i:], "/")
			return params, true
		}
		if i >= len(parts) {
			return nil, false
		}
		if strings.HasPrefix(sg, "{") {
			if parts[i] == "" {
				return nil, false
			}
			params[sg[1:len(sg)-1]] = parts[i]
			continue
		}
		if sg != parts[i] {
			return nil, false
		}
	}
	return params, len(segs) == len(parts)
}

func mkRoute(method, pattern string, h func(*rc) reply) route {
	return route{method: method, pattern: pattern, segs: strings.Split(strings.Trim(pattern, "/"), "/"), h: h}
}
