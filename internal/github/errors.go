package github

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	gh "github.com/google/go-github/v89/github"
)

// Sentinels callers test with errors.Is. *APIError implements Is for them.
var (
	// ErrNotFound: the repository, commit, ref, workflow, run, job or artifact does not exist
	// (or the token cannot see it).
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists: a ref that was to be created exists already.
	ErrAlreadyExists = errors.New("already exists")
	// ErrUnauthorized: the token was refused (missing, expired or revoked).
	ErrUnauthorized = errors.New("unauthorized")
	// ErrForbidden: the token was accepted but lacks a permission for the request ("Resource
	// not accessible by integration"): a 403 that is not a rate limit, or GraphQL's
	// FORBIDDEN. Retrying does not help; the job's permissions must change.
	ErrForbidden = errors.New("forbidden")
	// ErrGone: the resource existed but is gone for good (410), such as a job log past the
	// repository's retention period.
	ErrGone = errors.New("gone")
)

// APIError is an answer from GitHub that is not a success, after retries.
type APIError struct {
	Method string
	// Path is the request path relative to the API root (no host, no query string), e.g.
	// /repos/o/r/git/refs.
	Path       string
	StatusCode int
	// Message is GitHub's message (untrusted text).
	Message   string
	RequestID string
	// Attempts is how many times the request was sent (1 when it was not retried).
	Attempts int
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %d %s", e.Method, e.Path, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " (after %d attempts)", e.Attempts)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " [request id %s]", e.RequestID)
	}
	return b.String()
}

// Is maps status codes to the package sentinels. GitHub answers 422 rather than 404 for an
// unknown commit SHA ("No commit found for SHA") and for deleting a missing ref ("Reference
// does not exist"), so those count as ErrNotFound too.
func (e *APIError) Is(target error) bool {
	msg := strings.ToLower(e.Message)
	switch target {
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound ||
			(e.StatusCode == http.StatusUnprocessableEntity &&
				(strings.Contains(msg, "no commit found") || strings.Contains(msg, "reference does not exist")))
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden && !rateLimitMessage(msg)
	case ErrGone:
		return e.StatusCode == http.StatusGone
	case ErrAlreadyExists:
		return e.StatusCode == http.StatusUnprocessableEntity && strings.Contains(msg, "already exists")
	case ErrRateLimited:
		return (e.StatusCode == http.StatusForbidden || e.StatusCode == http.StatusTooManyRequests) &&
			rateLimitMessage(msg)
	}
	return false
}

// rateLimitMessage tells GitHub's rate-limit 403s (primary, secondary, and the older "abuse
// detection" wording) from permission 403s; msg is lower case.
func rateLimitMessage(msg string) bool {
	return strings.Contains(msg, "rate limit") || strings.Contains(msg, "abuse")
}

// errNoBody: a success without the JSON the endpoint promises (a broken proxy or emulator);
// reading it as an empty list would hide evidence, so it is an error.
var errNoBody = errors.New("GitHub answered without a body")

// RateLimitError says a rate limit blocked a request for longer than the retry budget allows.
// It matches ErrRateLimited.
type RateLimitError struct {
	// Secondary is true for GitHub's secondary (abuse) limits, false for the hourly budget.
	Secondary bool
	// Until is when GitHub said requests may resume.
	Until time.Time
	// Budget is the retry budget that was too short to wait for it.
	Budget time.Duration
}

func (e *RateLimitError) Error() string {
	at := e.Until.UTC().Format("15:04:05 UTC")
	if e.Secondary {
		return fmt.Sprintf("GitHub secondary rate limit hit; requests may resume at %s, beyond the retry budget of %s: "+
			"send fewer concurrent or write requests, or run again later", at, e.Budget)
	}
	return fmt.Sprintf("GitHub API rate limit exhausted for this token until %s; that is beyond the retry budget of %s: "+
		"wait for the reset, reduce polling, or use a token with a higher limit (a GitHub App or personal access token)", at, e.Budget)
}

// Is reports whether target is ErrRateLimited.
func (e *RateLimitError) Is(target error) bool { return target == ErrRateLimited }

// convertErr turns go-github's error types into *APIError and strips the *url.Error wrapper
// that net/http adds around our transport's own errors (its URL adds nothing the caller's
// wrapping does not say). Everything else passes through.
func (c *Client) convertErr(err error) error {
	if err == nil {
		return nil
	}
	var rle *RateLimitError
	if errors.As(err, &rle) {
		return rle
	}
	var er *gh.ErrorResponse
	if errors.As(err, &er) {
		return c.apiError(er.Response, er.Message, er.Errors)
	}
	var pr *gh.RateLimitError
	if errors.As(err, &pr) {
		return c.apiError(pr.Response, pr.Message, nil)
	}
	var ar *gh.AbuseRateLimitError
	if errors.As(err, &ar) {
		return c.apiError(ar.Response, ar.Message, nil)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		var te *transportError
		if errors.As(ue.Err, &te) {
			return te
		}
	}
	return err
}

// apiError builds an *APIError from a response; details are GitHub's per-field errors.
func (c *Client) apiError(resp *http.Response, message string, details []gh.Error) *APIError {
	e := &APIError{Message: strings.TrimSpace(message)}
	defer func() { e.Message = c.redact(e.Message) }()
	for _, d := range details {
		s := d.Message
		if s == "" && d.Code != "" {
			s = strings.TrimSpace(d.Code + " " + d.Field)
		}
		if s != "" && !strings.Contains(e.Message, s) {
			if e.Message != "" {
				e.Message += "; "
			}
			e.Message += s
		}
	}
	if resp == nil {
		return e
	}
	e.StatusCode = resp.StatusCode
	e.RequestID = resp.Header.Get("X-GitHub-Request-Id")
	e.Attempts = attemptsOf(resp)
	if resp.Request != nil {
		e.Method = resp.Request.Method
		if resp.Request.URL != nil {
			e.Path = c.relPath(resp.Request.URL)
		}
	}
	return e
}

// redact removes registered secrets (the token first of all) from text that came from
// the server or goes where people read it: a misbehaving proxy or server echoing the
// request back, in any escaping, must not put a secret into an error message.
func (c *Client) redact(s string) string { return c.red.Redact(s) }

// relPath is u's path relative to the REST root, so GHES's /api/v3 prefix does not show.
func (c *Client) relPath(u *url.URL) string {
	p := u.Path
	if u.Host == c.apiBase.Host {
		if rest, ok := strings.CutPrefix(p, strings.TrimSuffix(c.apiBase.Path, "/")); ok {
			p = rest
		}
	}
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return p
}

// transportError is a request our transport gave up on (network failures after retries).
type transportError struct {
	method, path string
	attempts     int
	err          error
}

func (e *transportError) Error() string {
	if e.attempts > 1 {
		return fmt.Sprintf("%s %s: giving up after %d attempts: %v", e.method, e.path, e.attempts, e.err)
	}
	return fmt.Sprintf("%s %s: %v", e.method, e.path, e.err)
}

func (e *transportError) Unwrap() error { return e.err }
