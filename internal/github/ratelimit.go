package github

import (
	"errors"
	"time"
)

// ErrRateLimited: a GitHub rate limit (primary or secondary) blocked a request for longer
// than the retry budget allowed. *RateLimitError and rate-limit *APIError values match it.
var ErrRateLimited = errors.New("rate limited")

// RateLimit is the last rate-limit state GitHub reported for one resource
// (x-ratelimit-* headers).
type RateLimit struct {
	Resource  string    `json:"resource"`
	Limit     int       `json:"limit"`
	Remaining int       `json:"remaining"`
	Used      int       `json:"used"`
	Reset     time.Time `json:"reset,omitzero"`
	// Low is true when Remaining is at or below the client's reserve (5): callers should
	// slow down before GitHub starts refusing.
	Low bool `json:"low"`
}

// RateLimits holds the last known state of the budgets this client spends.
type RateLimits struct {
	Core    RateLimit `json:"core"`
	GraphQL RateLimit `json:"graphql"`
}
