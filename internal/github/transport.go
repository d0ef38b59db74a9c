package github

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Headers our transport puts on the responses it hands to go-github (never sent to GitHub).
const (
	// headerNotModified marks a 200 that was served from the ETag cache after a 304.
	headerNotModified = "X-Release-Action-Not-Modified"
	// headerAttempts says how many times the request was sent, when more than once.
	headerAttempts = "X-Release-Action-Attempts"
)

const (
	backoffBase = time.Second
	backoffCap  = 30 * time.Second
	// secondaryWait is the first wait after a secondary rate limit without Retry-After
	// (GitHub: "wait at least one minute"); it doubles on each further hit.
	secondaryWait = time.Minute
	// maxErrorBody bounds how much of a 403/429 or GraphQL error answer we read to classify it.
	maxErrorBody = 64 << 10
	// maxGraphQLBody bounds a GraphQL answer we parse for errors and rateLimit.cost.
	maxGraphQLBody = 32 << 20
)

type reqKind int

const (
	kindOther reqKind = iota // a blob host (job logs, artifacts): no token, not counted
	kindREST
	kindGraphQL
)

// transport is the one RoundTripper under REST, GraphQL and downloads.
//
// Retry policy. Idempotent requests (GET, HEAD, OPTIONS, PUT, DELETE, and GraphQL POSTs,
// which are read-only queries here) are retried on network errors, timeouts and 500, 502,
// 503, 504. Writes (POST, PATCH) are retried only when GitHub cannot have acted on them:
// 502, 503 and 504 (answered by GitHub's front end, before the request reaches the service
// that would process it), rate-limit refusals (403/429), and connections that failed to
// dial. A 500 or a network error after the request was sent is not retried for a write,
// because GitHub may have processed it (a second dispatch starts a second run). Callers
// that create refs get ErrAlreadyExists if a retried write did land twice.
//
// Rate limits. 403/429 with Retry-After waits that long; with x-ratelimit-remaining: 0 waits
// until x-ratelimit-reset; a 403/429 mentioning a secondary rate limit waits 60s, doubling.
// A wait beyond the request's RetryBudget fails at once with *RateLimitError, which names
// the reset time. A GraphQL 200 whose errors say RATE_LIMITED is treated the same way.
type transport struct {
	c         *Client
	base      http.RoundTripper
	userAgent string
}

// outgoing is one request as the transport sends it, attempt after attempt.
type outgoing struct {
	kind reqKind
	path string // relative to the API base, for messages
	body []byte
	hdr  http.Header
	// key and entry: the cache slot of a conditional GET (key "" when not cached).
	key        string
	entry      *cacheEntry
	idempotent bool
	timeout    time.Duration
}

// prepare reads the body once (it is re-sent on every attempt), sets the token for API
// hosts only and, for a cached REST GET, the If-None-Match that makes an unchanged answer
// free.
func (t *transport) prepare(req *http.Request) (*outgoing, error) {
	c := t.c
	o := &outgoing{kind: c.classify(req.URL), path: c.relPath(req.URL)}
	if req.Body != nil && req.Body != http.NoBody {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("%s %s: read request body: %w", req.Method, o.path, err)
		}
		o.body = b
	}

	o.hdr = req.Header.Clone()
	if o.hdr == nil {
		o.hdr = http.Header{}
	}
	// Whatever the caller or a redirect carried, the token goes to the API hosts only.
	o.hdr.Del("Authorization")
	if o.kind != kindOther && c.token != "" {
		o.hdr.Set("Authorization", "Bearer "+c.token)
	}
	if o.hdr.Get("User-Agent") == "" {
		o.hdr.Set("User-Agent", t.userAgent)
	}

	if o.kind == kindREST && req.Method == http.MethodGet && o.hdr.Get("If-None-Match") == "" {
		o.key = cacheKey(req.URL.String(), o.hdr.Get("Accept"))
		if o.entry = c.cache.get(o.key); o.entry != nil {
			o.hdr.Set("If-None-Match", o.entry.etag)
		}
	}

	o.idempotent = o.kind == kindGraphQL
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete:
		o.idempotent = true
	}
	o.timeout = c.timeout
	if o.kind == kindOther {
		o.timeout = downloadTimeout
	}
	return o, nil
}

// RoundTrip implements http.RoundTripper.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	c := t.c
	ctx := req.Context()
	o, err := t.prepare(req)
	if err != nil {
		return nil, err
	}
	kind, path, body, hdr := o.kind, o.path, o.body, o.hdr
	key, entry, idempotent, timeout := o.key, o.entry, o.idempotent, o.timeout

	var waited time.Duration
	secondaryHits := 0
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, timeout)
		r := req.Clone(actx)
		r.Header = hdr.Clone()
		r.Body, r.GetBody, r.ContentLength = nil, nil, 0
		if body != nil {
			r.Body = io.NopCloser(bytes.NewReader(body))
			r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
			r.ContentLength = int64(len(body))
		}

		// retry decides whether to go round again after waiting d; it returns false when
		// the attempts or the budget are spent.
		retry := func(d time.Duration, why string) (bool, error) {
			if attempt >= c.maxAttempts || waited+d > c.budget {
				return false, nil
			}
			c.addCost(func(k *Cost) { k.Retries++ })
			c.debugf("github: %s %s: %s; retry %d of %d in %s", req.Method, path, why, attempt, c.maxAttempts-1, d.Round(time.Millisecond))
			if err := c.clock.Sleep(ctx, d); err != nil {
				return false, err
			}
			waited += d
			return true, nil
		}

		resp, err := t.base.RoundTrip(r)
		if err != nil {
			cancel()
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if idempotent || isDialError(err) {
				again, serr := retry(c.backoff(attempt), describeNetErr(err))
				if serr != nil {
					return nil, serr
				}
				if again {
					continue
				}
			}
			if errors.Is(err, context.DeadlineExceeded) {
				err = fmt.Errorf("no answer within %s: %w", timeout, err)
			}
			return nil, &transportError{method: req.Method, path: path, attempts: attempt, err: err}
		}
		resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
		c.account(kind, resp)

		if resp.StatusCode == http.StatusNotModified && entry != nil {
			drain(resp)
			return notModified(req, resp, entry, attempt), nil
		}

		var ans *gqlAnswer
		if kind == kindGraphQL && resp.StatusCode == http.StatusOK {
			ans, err = c.inspectGraphQL(resp)
			if err != nil {
				again, serr := retry(c.backoff(attempt), "reading the GraphQL answer failed: "+describeNetErr(err))
				if serr != nil {
					return nil, serr
				}
				if again {
					continue
				}
				return nil, &transportError{method: req.Method, path: path, attempts: attempt, err: err}
			}
		}

		// Rate limits: writes too may be sent again, GitHub refused them unprocessed.
		if wait, secondary, until, ok := c.rateLimitWait(kind, resp, ans, secondaryHits); ok {
			if secondary {
				secondaryHits++
			}
			drain(resp)
			again, serr := retry(wait, rateLimitReason(resp, secondary, until))
			if serr != nil {
				return nil, serr
			}
			if again {
				continue
			}
			return nil, &RateLimitError{Secondary: secondary, Until: until, Budget: c.budget}
		}

		if transient(resp.StatusCode, idempotent) {
			d := c.backoff(attempt)
			if attempt < c.maxAttempts && waited+d <= c.budget {
				drain(resp)
				again, serr := retry(d, fmt.Sprintf("GitHub answered %d", resp.StatusCode))
				if serr != nil {
					return nil, serr
				}
				if again {
					continue
				}
			}
			c.debugf("github: %s %s: giving up after %d attempts (last answer %d)", req.Method, path, attempt, resp.StatusCode)
		}

		if attempt > 1 {
			resp.Header.Set(headerAttempts, strconv.Itoa(attempt))
		}
		if kind == kindGraphQL {
			c.recordGraphQL(ctx, resp, ans, attempt)
		}
		if key != "" && resp.StatusCode == http.StatusOK {
			if err := c.store(key, resp); err != nil {
				again, serr := retry(c.backoff(attempt), "reading the answer failed: "+describeNetErr(err))
				if serr != nil {
					return nil, serr
				}
				if again {
					continue
				}
				return nil, &transportError{method: req.Method, path: path, attempts: attempt, err: err}
			}
		}
		return resp, nil
	}
}

// classify tells API requests (which get the token and are counted) from downloads.
func (c *Client) classify(u *url.URL) reqKind {
	if sameOrigin(u, c.gqlURL) && strings.TrimSuffix(u.Path, "/") == strings.TrimSuffix(c.gqlURL.Path, "/") {
		return kindGraphQL
	}
	if sameOrigin(u, c.apiBase) && strings.HasPrefix(u.Path, c.apiBase.Path) {
		return kindREST
	}
	return kindOther
}

func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Hostname(), b.Hostname()) && port(a) == port(b)
}

func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if strings.EqualFold(u.Scheme, "http") {
		return "80"
	}
	return "443"
}

// backoff is exponential with full jitter: a random wait in [0, min(cap, base*2^(n-1))).
func (c *Client) backoff(attempt int) time.Duration {
	d := backoffCap
	if attempt < 6 {
		d = min(backoffCap, backoffBase<<(attempt-1))
	}
	return c.jitter(d)
}

func transient(status int, idempotent bool) bool {
	switch status {
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	case http.StatusInternalServerError:
		return idempotent
	}
	return false
}

// rateLimitWait reports whether resp is a rate-limit refusal and how long to wait before
// sending again (until is when GitHub said requests may resume).
func (c *Client) rateLimitWait(kind reqKind, resp *http.Response, ans *gqlAnswer, secondaryHits int) (wait time.Duration, secondary bool, until time.Time, ok bool) {
	now := c.clock.Now()
	primary := func() (time.Duration, bool, time.Time, bool) {
		if reset, err := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64); err == nil && reset > 0 {
			until := time.Unix(reset, 0)
			// One second of slack: GitHub's reset is rounded to the second.
			return max(until.Sub(now)+time.Second, time.Second), false, until, true
		}
		d := secondaryWait << min(secondaryHits, 4)
		return d, false, now.Add(d), true
	}
	if kind == kindGraphQL && resp.StatusCode == http.StatusOK {
		if ans != nil && ans.rateLimited() {
			return primary()
		}
		return 0, false, time.Time{}, false
	}
	if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusTooManyRequests {
		return 0, false, time.Time{}, false
	}
	if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), now); ok {
		return d, true, now.Add(d), true
	}
	if resp.Header.Get("X-RateLimit-Remaining") == "0" {
		return primary()
	}
	b := peekBody(resp, maxErrorBody)
	if resp.StatusCode == http.StatusTooManyRequests || bytes.Contains(bytes.ToLower(b), []byte("secondary rate limit")) {
		d := secondaryWait << min(secondaryHits, 4)
		return d, true, now.Add(d), true
	}
	return 0, false, time.Time{}, false
}

func rateLimitReason(resp *http.Response, secondary bool, until time.Time) string {
	if secondary {
		return fmt.Sprintf("secondary rate limit (%d) until %s", resp.StatusCode, until.UTC().Format("15:04:05 UTC"))
	}
	return fmt.Sprintf("rate limit exhausted (%d) until %s", resp.StatusCode, until.UTC().Format("15:04:05 UTC"))
}

// parseRetryAfter reads Retry-After as seconds or as an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			n = 0
		}
		return max(time.Duration(n)*time.Second, time.Second), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), time.Second), true
	}
	return 0, false
}

// account counts the answer and remembers the rate-limit headers.
func (c *Client) account(kind reqKind, resp *http.Response) {
	if kind == kindOther {
		return
	}
	rl, hasRate := parseRate(resp.Header)
	var low *RateLimit
	c.mu.Lock()
	switch kind {
	case kindREST:
		c.cost.REST++
		if resp.StatusCode == http.StatusNotModified {
			c.cost.NotModified++
		}
	case kindGraphQL:
		c.cost.GraphQLQueries++
	}
	if hasRate {
		target := &c.rates.Core
		if rl.Resource == "graphql" || (rl.Resource == "" && kind == kindGraphQL) {
			target = &c.rates.GraphQL
		}
		if rl.Low && !target.Low {
			low = &rl
		}
		*target = rl
	}
	c.mu.Unlock()
	if low != nil {
		c.debugf("github: %s rate limit low: %d of %d left until %s", low.Resource, low.Remaining, low.Limit, low.Reset.UTC().Format("15:04:05 UTC"))
	}
}

func parseRate(h http.Header) (RateLimit, bool) {
	rem := h.Get("X-RateLimit-Remaining")
	if rem == "" {
		return RateLimit{}, false
	}
	var rl RateLimit
	rl.Remaining, _ = strconv.Atoi(rem)
	rl.Limit, _ = strconv.Atoi(h.Get("X-RateLimit-Limit"))
	rl.Used, _ = strconv.Atoi(h.Get("X-RateLimit-Used"))
	if v, err := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64); err == nil && v > 0 {
		rl.Reset = time.Unix(v, 0).UTC()
	}
	rl.Resource = h.Get("X-RateLimit-Resource")
	if rl.Resource == "" {
		rl.Resource = "core"
	}
	rl.Low = rl.Remaining <= rateReserve
	return rl, true
}

// store keeps a 200 answer with an ETag in the cache and hands the body on unchanged.
func (c *Client) store(key string, resp *http.Response) error {
	etag := resp.Header.Get("ETag")
	if etag == "" {
		c.cache.remove(key)
		return nil
	}
	buf, err := io.ReadAll(io.LimitReader(resp.Body, int64(c.cache.maxBody)+1))
	if err != nil {
		resp.Body.Close()
		return err
	}
	if len(buf) > c.cache.maxBody {
		c.cache.remove(key)
		resp.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(buf), resp.Body), resp.Body}
		return nil
	}
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(buf))
	h := resp.Header.Clone()
	h.Del(headerAttempts)
	c.cache.put(&cacheEntry{key: key, etag: etag, header: h, body: buf})
	return nil
}

// notModified turns a 304 into the cached 200, marked so Snapshot knows nothing changed.
func notModified(req *http.Request, resp *http.Response, e *cacheEntry, attempt int) *http.Response {
	h := e.header.Clone()
	for k, v := range resp.Header {
		switch k {
		case "Content-Length", "Content-Type", "Content-Encoding", "Transfer-Encoding":
			continue
		}
		h[k] = v
	}
	h.Set(headerNotModified, "1")
	if attempt > 1 {
		h.Set(headerAttempts, strconv.Itoa(attempt))
	}
	return &http.Response{
		Status:        "200 OK",
		StatusCode:    http.StatusOK,
		Proto:         resp.Proto,
		ProtoMajor:    resp.ProtoMajor,
		ProtoMinor:    resp.ProtoMinor,
		Header:        h,
		Body:          io.NopCloser(bytes.NewReader(e.body)),
		ContentLength: int64(len(e.body)),
		Request:       req,
		TLS:           resp.TLS,
	}
}

// isNotModified reports whether a response was served from the cache after a 304.
func isNotModified(resp *http.Response) bool {
	return resp != nil && resp.Header.Get(headerNotModified) != ""
}

func attemptsOf(resp *http.Response) int {
	if resp == nil {
		return 0
	}
	if n, err := strconv.Atoi(resp.Header.Get(headerAttempts)); err == nil {
		return n
	}
	return 1
}

// peekBody reads up to limit bytes of the body and puts them back.
func peekBody(resp *http.Response, limit int64) []byte {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, limit))
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(b), resp.Body), resp.Body}
	return b
}

// drain reads a little of an answer we discard so the connection can be reused.
func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
	resp.Body.Close()
}

// cancelOnClose ends the attempt's context when the body is closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// isDialError: the connection was never made, so nothing was sent and a write may be retried.
func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

func describeNetErr(err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return "no answer within the attempt timeout"
	}
	return err.Error()
}
