package github

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	gh "github.com/google/go-github/v89/github"
)

// ResolveCommit returns the full 40-hex SHA of ref (a SHA, short SHA, branch or tag).
// Unknown -> error wrapping ErrNotFound.
func (c *Client) ResolveCommit(ctx context.Context, ref string) (string, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return "", fmt.Errorf("resolve commit in %s: empty ref: give a SHA, branch or tag", c.repo)
	}
	owner, name := c.ownerName()
	sha, _, err := c.rest.Repositories.GetCommitSHA1(ctx, owner, name, ref, "")
	if err != nil {
		return "", fmt.Errorf("resolve %q to a commit in %s: %w", ref, c.repo, c.convertErr(err))
	}
	sha = strings.TrimSpace(sha)
	if !isFullSHA(sha) {
		// A server that ignores the application/vnd.github.sha media type answers the
		// commit as JSON; its sha field is the same answer, with no second request.
		var commit struct {
			SHA string `json:"sha"`
		}
		if json.Unmarshal([]byte(sha), &commit) == nil && isFullSHA(commit.SHA) {
			sha = commit.SHA
		}
	}
	if !isFullSHA(sha) {
		return "", fmt.Errorf("resolve %q to a commit in %s: GitHub answered %q, which is not a commit SHA", ref, c.repo, truncate(sha, 80))
	}
	return strings.ToLower(sha), nil
}

// BranchesWhereHead returns the names of the branches whose head is sha.
func (c *Client) BranchesWhereHead(ctx context.Context, sha string) ([]string, error) {
	if !isFullSHA(sha) {
		return nil, fmt.Errorf("list branches whose head is %q in %s: not a 40-hex commit SHA", sha, c.repo)
	}
	owner, name := c.ownerName()
	bs, _, err := c.rest.Repositories.ListBranchesHeadCommit(ctx, owner, name, sha)
	if err != nil {
		return nil, fmt.Errorf("list branches whose head is %s in %s: %w", sha, c.repo, c.convertErr(err))
	}
	out := make([]string, 0, len(bs))
	for _, b := range bs {
		if n := b.GetName(); n != "" {
			out = append(out, n)
		}
	}
	return out, nil
}

// CreateRef creates ref ("refs/heads/x" or "refs/tags/x"; "heads/x" and "tags/x" are accepted)
// at sha. An existing ref -> error wrapping ErrAlreadyExists.
func (c *Client) CreateRef(ctx context.Context, ref, sha string) error {
	full, err := fullRef(ref)
	if err != nil {
		return fmt.Errorf("create ref in %s: %w", c.repo, err)
	}
	if !isFullSHA(sha) {
		return fmt.Errorf("create ref %s in %s: %q is not a 40-hex commit SHA", full, c.repo, sha)
	}
	owner, name := c.ownerName()
	_, _, err = c.rest.Git.CreateRef(ctx, owner, name, gh.CreateRef{Ref: full, SHA: strings.ToLower(sha)})
	if err != nil {
		return fmt.Errorf("create ref %s at %s in %s: %w", full, sha, c.repo, c.convertErr(err))
	}
	return nil
}

// DeleteRef deletes a branch or tag ref ("refs/heads/x" or "heads/x"). Missing -> error
// wrapping ErrNotFound (GitHub says 422 "Reference does not exist").
func (c *Client) DeleteRef(ctx context.Context, ref string) error {
	full, err := fullRef(ref)
	if err != nil {
		return fmt.Errorf("delete ref in %s: %w", c.repo, err)
	}
	owner, name := c.ownerName()
	if _, err := c.rest.Git.DeleteRef(ctx, owner, name, full); err != nil {
		return fmt.Errorf("delete ref %s in %s: %w", full, c.repo, c.convertErr(err))
	}
	return nil
}

// fullRef turns "heads/x", "tags/x", "refs/heads/x" or "refs/tags/x" into the refs/ form.
func fullRef(ref string) (string, error) {
	r := strings.TrimPrefix(strings.TrimSpace(ref), "refs/")
	head, rest, ok := strings.Cut(r, "/")
	if !ok || rest == "" || (head != "heads" && head != "tags") || strings.Contains(r, "..") {
		return "", fmt.Errorf("ref %q must be refs/heads/<branch> or refs/tags/<tag>", ref)
	}
	return "refs/" + r, nil
}
