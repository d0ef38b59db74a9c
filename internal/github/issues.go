package github

import (
	"context"
	"fmt"
	"strings"

	gh "github.com/google/go-github/v89/github"
)

// CreateIssue opens an issue with labels (labels are sent only when given; GitHub creates
// labels that do not exist yet when the token may push). Issues disabled in the repository
// -> *APIError 410.
func (c *Client) CreateIssue(ctx context.Context, title, body string, labels []string) (Issue, error) {
	title, body = strings.TrimSpace(c.redact(title)), c.redact(body)
	if title == "" {
		return Issue{}, fmt.Errorf("create issue in %s: empty title", c.repo)
	}
	req := &gh.IssueRequest{Title: gh.Ptr(title), Body: optional(body)}
	if len(labels) > 0 {
		req.Labels = &labels
	}
	owner, repo := c.ownerName()
	is, _, err := c.rest.Issues.Create(ctx, owner, repo, req)
	if err != nil {
		return Issue{}, fmt.Errorf("create issue %q in %s: %w", truncate(title, 80), c.repo, c.convertErr(err))
	}
	if is == nil || is.GetNumber() == 0 {
		return Issue{}, fmt.Errorf("create issue %q in %s: the answer has no issue number", truncate(title, 80), c.repo)
	}
	return Issue{Number: is.GetNumber(), HTMLURL: is.GetHTMLURL()}, nil
}
