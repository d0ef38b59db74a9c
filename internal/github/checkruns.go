package github

import (
	"context"
	"fmt"

	gh "github.com/google/go-github/v89/github"
)

// maxOutputText is GitHub's limit on a check run's output summary and text (65,535
// characters; counted here in bytes, which is never more).
const maxOutputText = 65535

// CreateCheckRun creates a check run and returns its id. Conclusion is sent only when Status
// is "completed" (then it is required, and completed_at is the clock's now).
func (c *Client) CreateCheckRun(ctx context.Context, u CheckRunUpdate) (int64, error) {
	if u.Name == "" || !isFullSHA(u.HeadSHA) {
		return 0, fmt.Errorf("create check run in %s: a name and a 40-hex head SHA are required (got %q, %q)", c.repo, u.Name, u.HeadSHA)
	}
	if u.Status == "completed" && u.Conclusion == "" {
		return 0, fmt.Errorf("create check run %q in %s: status completed needs a conclusion", u.Name, c.repo)
	}
	opts := gh.CreateCheckRunOptions{
		Name:       u.Name,
		HeadSHA:    u.HeadSHA,
		DetailsURL: optional(u.DetailsURL),
		ExternalID: optional(u.ExternalID),
		Status:     optional(u.Status),
		Output:     c.checkOutput(u),
	}
	if u.Status == "completed" {
		opts.Conclusion = gh.Ptr(u.Conclusion)
		opts.CompletedAt = &gh.Timestamp{Time: c.clock.Now().UTC()}
	}
	owner, name := c.ownerName()
	cr, _, err := c.rest.Checks.CreateCheckRun(ctx, owner, name, opts)
	if err != nil {
		return 0, fmt.Errorf("create check run %q on %s in %s: %w", u.Name, u.HeadSHA, c.repo, c.convertErr(err))
	}
	if cr.GetID() == 0 {
		return 0, fmt.Errorf("create check run %q on %s in %s: the answer has no check run id", u.Name, u.HeadSHA, c.repo)
	}
	return cr.GetID(), nil
}

// UpdateCheckRun updates check run id. Name is required: go-github always sends it, and an
// empty name would rename the check run.
func (c *Client) UpdateCheckRun(ctx context.Context, id int64, u CheckRunUpdate) error {
	if u.Name == "" {
		return fmt.Errorf("update check run %d in %s: a name is required", id, c.repo)
	}
	if u.Status == "completed" && u.Conclusion == "" {
		return fmt.Errorf("update check run %q in %s: status completed needs a conclusion", u.Name, c.repo)
	}
	opts := gh.UpdateCheckRunOptions{
		Name:       u.Name,
		DetailsURL: optional(u.DetailsURL),
		ExternalID: optional(u.ExternalID),
		Status:     optional(u.Status),
		Output:     c.checkOutput(u),
	}
	if u.Status == "completed" {
		opts.Conclusion = gh.Ptr(u.Conclusion)
		opts.CompletedAt = &gh.Timestamp{Time: c.clock.Now().UTC()}
	}
	owner, name := c.ownerName()
	if _, _, err := c.rest.Checks.UpdateCheckRun(ctx, owner, name, id, opts); err != nil {
		return fmt.Errorf("update check run %d (%q) in %s: %w", id, u.Name, c.repo, c.convertErr(err))
	}
	return nil
}

// checkOutput is nil when there is nothing to show. GitHub requires title and summary
// together, so a missing title is the check's name and a missing summary the title; text
// beyond GitHub's limit is cut rather than refused.
func (c *Client) checkOutput(u CheckRunUpdate) *gh.CheckRunOutput {
	o := u.Output
	o.Title, o.Summary, o.Text = c.redact(o.Title), c.redact(o.Summary), c.redact(o.Text)
	if o.Title == "" && o.Summary == "" && o.Text == "" {
		return nil
	}
	if o.Title == "" {
		o.Title = u.Name
	}
	if o.Summary == "" {
		o.Summary = o.Title
	}
	out := &gh.CheckRunOutput{
		Title:   gh.Ptr(truncate(o.Title, 1000)),
		Summary: gh.Ptr(truncate(o.Summary, maxOutputText-len("…"))),
	}
	if o.Text != "" {
		out.Text = gh.Ptr(truncate(o.Text, maxOutputText-len("…")))
	}
	return out
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
