package github

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// gqlError is one entry of a GraphQL answer's errors[]. GitHub adds a type (NOT_FOUND,
// RATE_LIMITED, FORBIDDEN, ...) that githubv4 drops, so the transport reads it itself.
type gqlError struct {
	Type    string `json:"type"`
	Message string `json:"message"`
	Path    []any  `json:"path"`
}

// gqlAnswer is what the transport learnt from a GraphQL 200.
type gqlAnswer struct {
	errs   []gqlError
	noData bool
}

func (a *gqlAnswer) rateLimited() bool {
	for _, e := range a.errs {
		if e.Type == "RATE_LIMITED" {
			return true
		}
	}
	return false
}

// gqlOutcome carries the final answer's facts from the transport back to query (through the
// request context), because githubv4 reduces them to a bare message.
type gqlOutcome struct {
	status    int
	message   string
	requestID string
	attempts  int
	errs      []gqlError
	noData    bool
}

type gqlKey struct{}

// inspectGraphQL reads a GraphQL 200, counts its rateLimit.cost and collects its errors; the
// body is handed on unchanged.
func (c *Client) inspectGraphQL(resp *http.Response) (*gqlAnswer, error) {
	buf, err := io.ReadAll(io.LimitReader(resp.Body, maxGraphQLBody+1))
	if err != nil {
		resp.Body.Close()
		return nil, err
	}
	if len(buf) > maxGraphQLBody {
		resp.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(buf), resp.Body), resp.Body}
		return nil, nil
	}
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(buf))

	var env struct {
		Data   json.RawMessage `json:"data"`
		Errors []gqlError      `json:"errors"`
	}
	if err := json.Unmarshal(buf, &env); err != nil {
		// githubv4 will fail to decode it too and say so.
		return &gqlAnswer{}, nil
	}
	ans := &gqlAnswer{errs: env.Errors}
	data := bytes.TrimSpace(env.Data)
	if len(data) == 0 || bytes.Equal(data, []byte("null")) {
		ans.noData = true
		return ans, nil
	}
	var rl struct {
		RateLimit *struct {
			Cost int `json:"cost"`
		} `json:"rateLimit"`
	}
	if json.Unmarshal(data, &rl) == nil && rl.RateLimit != nil {
		c.addCost(func(k *Cost) { k.GraphQLPoints += rl.RateLimit.Cost })
	}
	return ans, nil
}

// recordGraphQL hands the final answer's facts to the query waiting on it.
func (c *Client) recordGraphQL(ctx context.Context, resp *http.Response, ans *gqlAnswer, attempts int) {
	o, _ := ctx.Value(gqlKey{}).(*gqlOutcome)
	if o == nil {
		return
	}
	o.status = resp.StatusCode
	o.requestID = resp.Header.Get("X-GitHub-Request-Id")
	o.attempts = attempts
	if ans != nil {
		o.errs, o.noData = ans.errs, ans.noData
		for i := range o.errs {
			o.errs[i].Message = c.redact(o.errs[i].Message)
		}
	}
	if resp.StatusCode != http.StatusOK {
		var m struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(peekBody(resp, maxErrorBody), &m) == nil {
			o.message = c.redact(m.Message)
		}
	}
}

// query runs one GraphQL query. A 200 with errors[] is an error naming the query, never empty
// data; NOT_FOUND matches ErrNotFound.
func (c *Client) query(ctx context.Context, name string, q any, vars map[string]any) error {
	o := &gqlOutcome{}
	err := c.gql.Query(context.WithValue(ctx, gqlKey{}, o), q, vars)
	switch {
	case o.status != 0 && o.status != http.StatusOK:
		return fmt.Errorf("GraphQL query %s: %w", name, &APIError{
			Method: http.MethodPost, Path: c.relPath(c.gqlURL), StatusCode: o.status,
			Message: o.message, RequestID: o.requestID, Attempts: o.attempts,
		})
	case len(o.errs) > 0:
		return fmt.Errorf("GraphQL query %s: %w", name, graphQLErrors(o.errs))
	case err != nil:
		return fmt.Errorf("GraphQL query %s: %w", name, c.convertErr(err))
	case o.noData:
		return fmt.Errorf("GraphQL query %s: GitHub answered without data", name)
	}
	return nil
}

// graphQLErrors is a GraphQL answer's errors[] as an error.
type graphQLErrors []gqlError

func (e graphQLErrors) Error() string {
	var b strings.Builder
	for i, g := range e {
		if i == 3 {
			fmt.Fprintf(&b, "; and %d more", len(e)-i)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		if g.Type != "" {
			b.WriteString(g.Type)
			b.WriteString(": ")
		}
		b.WriteString(truncate(g.Message, 300))
	}
	return b.String()
}

// Is matches ErrNotFound, ErrRateLimited, ErrUnauthorized and ErrForbidden by GitHub's
// error types.
func (e graphQLErrors) Is(target error) bool {
	for _, g := range e {
		switch {
		case target == ErrNotFound && g.Type == "NOT_FOUND",
			target == ErrRateLimited && g.Type == "RATE_LIMITED",
			target == ErrUnauthorized && g.Type == "UNAUTHORIZED",
			target == ErrForbidden && g.Type == "FORBIDDEN":
			return true
		}
	}
	return false
}

// truncate shortens untrusted text to n bytes on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
