// Package github is release-action's only door to GitHub: REST through go-github and
// GraphQL through githubv4, over one http.Client whose transport adds the token (to the API
// hosts only), retries with backoff and jitter under a budget, honours rate limits,
// revalidates GETs with ETags, and counts what every request cost.
package github

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	gh "github.com/google/go-github/v89/github"
	"github.com/shurcooL/githubv4"

	"github.com/agentme/release-action/internal/clock"
	"github.com/agentme/release-action/internal/redact"
)

// Defaults of Options.
const (
	DefaultMaxAttempts    = 5
	DefaultRetryBudget    = 3 * time.Minute
	DefaultAttemptTimeout = 30 * time.Second
	// downloadTimeout bounds one attempt at a log or artifact download from the blob host:
	// these are up to 256 MiB, far more than an API answer.
	downloadTimeout = 10 * time.Minute
	// rateReserve is the remaining-requests level at which RateLimit.Low turns true.
	rateReserve = 5
)

// Options configure a Client.
type Options struct {
	// Token is sent as "Authorization: Bearer <token>" to the API hosts only; "" sends none
	// (anonymous, e.g. the sandbox).
	Token string
	// APIURL is the REST base (GITHUB_API_URL), e.g. https://api.github.com or
	// https://ghe.example/api/v3. Empty means https://api.github.com.
	APIURL string
	// GraphQLURL is GITHUB_GRAPHQL_URL, e.g. https://api.github.com/graphql or
	// https://ghe.example/api/graphql. Empty derives it from APIURL.
	GraphQLURL string
	// HTTPClient is an optional base client (tests); its Transport is wrapped by ours. A
	// Timeout set on it bounds a whole request including retry waits.
	HTTPClient *http.Client
	// Clock times retry waits (required).
	Clock     clock.Clock
	UserAgent string
	// MaxAttempts bounds the sends of one request (default 5).
	MaxAttempts int
	// RetryBudget bounds the total time one request may spend waiting between attempts
	// (default 3m).
	RetryBudget time.Duration
	// AttemptTimeout bounds one attempt at an API request, answer body included, so a hung
	// server is retried rather than waited on forever (default 30s). Log and artifact
	// downloads from the blob host get 10 minutes per attempt.
	AttemptTimeout time.Duration
	// Redactor is the process's one redactor (actions.Runner.Redactor). The client
	// registers Token with it and redacts server text that reaches an error, and the
	// text it writes where people read it (check-run output, issue, release and tag
	// text, deployment descriptions). Nil means a private one holding only Token.
	Redactor *redact.Redactor
	// Debugf receives one line per retry and rate-limit event; it never gets secrets. It may
	// be called from several goroutines at once.
	Debugf func(format string, args ...any)
}

// Client talks to GitHub about one repository. Safe for concurrent use.
type Client struct {
	repo        Repo
	token       string
	red         *redact.Redactor
	clock       clock.Clock
	maxAttempts int
	budget      time.Duration
	timeout     time.Duration
	debugf      func(format string, args ...any)

	apiBase *url.URL // always ends in "/"
	gqlURL  *url.URL

	http  *http.Client
	rest  *gh.Client
	gql   *githubv4.Client
	cache *etagCache

	// jitter returns a random duration in [0, max); tests replace it.
	jitter func(max time.Duration) time.Duration

	mu    sync.Mutex
	cost  Cost
	rates RateLimits
}

// New returns a client bound to repo.
func New(repo Repo, opts Options) (*Client, error) {
	if repo.Owner == "" || repo.Name == "" || strings.Contains(repo.Owner, "/") || strings.Contains(repo.Name, "/") {
		return nil, fmt.Errorf("github client: repository %q is not of the form owner/name", repo.String())
	}
	if opts.Clock == nil {
		return nil, errors.New("github client: a clock is required")
	}
	apiBase, err := parseBase(opts.APIURL, "https://api.github.com/")
	if err != nil {
		return nil, fmt.Errorf("github client: API URL: %w", err)
	}
	gqlRaw := opts.GraphQLURL
	if gqlRaw == "" {
		gqlRaw = defaultGraphQLURL(apiBase)
	}
	gqlURL, err := url.Parse(gqlRaw)
	if err != nil || gqlURL.Host == "" || (gqlURL.Scheme != "https" && gqlURL.Scheme != "http") {
		return nil, fmt.Errorf("github client: GraphQL URL %q is not an absolute http(s) URL", gqlRaw)
	}
	if opts.Token != "" {
		for _, u := range []*url.URL{apiBase, gqlURL} {
			if u.Scheme == "http" && !isLoopback(u.Hostname()) {
				return nil, fmt.Errorf("github client: refusing to send the token over plain http to %s; use https", u.Host)
			}
		}
	}
	red := opts.Redactor
	if red == nil {
		red = redact.New()
	}
	red.Add(opts.Token)
	c := &Client{
		repo:        repo,
		token:       opts.Token,
		red:         red,
		clock:       opts.Clock,
		maxAttempts: opts.MaxAttempts,
		budget:      opts.RetryBudget,
		timeout:     opts.AttemptTimeout,
		debugf:      opts.Debugf,
		apiBase:     apiBase,
		gqlURL:      gqlURL,
		cache:       newETagCache(512, 2<<20),
		jitter: func(max time.Duration) time.Duration {
			if max <= 0 {
				return 0
			}
			return rand.N(max)
		},
	}
	if c.maxAttempts <= 0 {
		c.maxAttempts = DefaultMaxAttempts
	}
	if c.budget <= 0 {
		c.budget = DefaultRetryBudget
	}
	if c.timeout <= 0 {
		c.timeout = DefaultAttemptTimeout
	}
	if c.debugf == nil {
		c.debugf = func(string, ...any) {}
	}

	hc := &http.Client{}
	if opts.HTTPClient != nil {
		copied := *opts.HTTPClient
		hc = &copied
	}
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	ua := opts.UserAgent
	if ua == "" {
		ua = "release-action"
	}
	hc.Transport = &transport{c: c, base: base, userAgent: ua}
	c.http = hc

	rest, err := gh.NewClient(
		gh.WithHTTPClient(hc),
		gh.WithURLs(gh.Ptr(apiBase.String()), gh.Ptr(uploadURL(apiBase))),
		gh.WithUserAgent(ua),
		// Our transport waits for rate limits on the injected clock; go-github's own
		// pre-emptive checks would use the wall clock and refuse without asking.
		gh.WithDisableRateLimitCheck(),
	)
	if err != nil {
		return nil, fmt.Errorf("github client: %w", err)
	}
	c.rest = rest
	c.gql = githubv4.NewEnterpriseClient(gqlURL.String(), hc)
	return c, nil
}

// Repo returns the repository the client is bound to.
func (c *Client) Repo() Repo { return c.repo }

// Cost returns what the client has spent so far.
func (c *Client) Cost() Cost {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cost
}

// RateLimit returns the last rate-limit state GitHub reported for REST (core) and GraphQL.
func (c *Client) RateLimit() RateLimits {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rates
}

func parseBase(raw, def string) (*url.URL, error) {
	if raw == "" {
		raw = def
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%q: %w", raw, err)
	}
	if u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("%q is not an absolute http(s) URL", raw)
	}
	if u.User != nil {
		return nil, fmt.Errorf("%s://%s%s must not carry credentials; pass the token separately", u.Scheme, u.Host, u.Path)
	}
	u.RawQuery, u.Fragment = "", ""
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	u.RawPath = ""
	return u, nil
}

// defaultGraphQLURL mirrors what the runner sets: api.github.com/graphql, or /api/graphql
// beside a GHES /api/v3.
func defaultGraphQLURL(api *url.URL) string {
	u := *api
	if p, ok := strings.CutSuffix(u.Path, "/api/v3/"); ok {
		u.Path = p + "/api/graphql"
	} else {
		u.Path += "graphql"
	}
	return u.String()
}

// uploadURL is never used by this client, but go-github wants one that matches the host.
func uploadURL(api *url.URL) string {
	u := *api
	switch {
	case u.Host == "api.github.com":
		return "https://uploads.github.com/"
	case strings.HasSuffix(u.Path, "/api/v3/"):
		u.Path = strings.TrimSuffix(u.Path, "/api/v3/") + "/api/uploads/"
	}
	return u.String()
}

// isLoopback: plain http is acceptable for emulators on this machine only.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ownerName is a shortcut for go-github calls.
func (c *Client) ownerName() (string, string) { return c.repo.Owner, c.repo.Name }

func (c *Client) addCost(f func(*Cost)) {
	c.mu.Lock()
	f(&c.cost)
	c.mu.Unlock()
}
