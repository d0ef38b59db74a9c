package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	gh "github.com/google/go-github/v89/github"
)

// GetReleaseByTag returns the published release of tag (GitHub does not find drafts this
// way). Missing -> error wrapping ErrNotFound.
func (c *Client) GetReleaseByTag(ctx context.Context, tag string) (Release, error) {
	tag = strings.TrimSpace(tag)
	if tag == "" {
		return Release{}, fmt.Errorf("get release in %s: empty tag name", c.repo)
	}
	owner, repo := c.ownerName()
	// go-github puts the tag into the path unescaped; a "#" or "%" in it would change the URL.
	r, _, err := c.rest.Repositories.GetReleaseByTag(ctx, owner, repo, escapeSegments(tag))
	if err != nil {
		return Release{}, fmt.Errorf("get release of tag %s in %s: %w", tag, c.repo, c.convertErr(err))
	}
	if r == nil {
		return Release{}, fmt.Errorf("get release of tag %s in %s: %w", tag, c.repo, errNoBody)
	}
	return mapRelease(r), nil
}

// CreateRelease publishes a release (never a draft) for an existing tag. prerelease and
// generate_release_notes are always sent; name, body, target_commitish and make_latest only
// when set. A release that exists for the tag already -> error wrapping ErrAlreadyExists
// (GitHub answers 422 with the code "already_exists").
func (c *Client) CreateRelease(ctx context.Context, r ReleaseRequest) (Release, error) {
	tag := strings.TrimSpace(r.TagName)
	if tag == "" {
		return Release{}, fmt.Errorf("create release in %s: empty tag name", c.repo)
	}
	if r.Target != "" && !isFullSHA(r.Target) {
		return Release{}, fmt.Errorf("create release %s in %s: target %q is not a 40-hex commit SHA (a branch would move)", tag, c.repo, r.Target)
	}
	switch r.MakeLatest {
	case "", "true", "false", "legacy":
	default:
		return Release{}, fmt.Errorf("create release %s in %s: make_latest %q must be true, false or legacy", tag, c.repo, r.MakeLatest)
	}
	body := gh.CreateReleaseRequest{
		TagName:              tag,
		TargetCommitish:      optional(strings.ToLower(r.Target)),
		Name:                 optional(c.redact(r.Name)),
		Body:                 optional(c.redact(r.Body)),
		Draft:                gh.Ptr(false),
		Prerelease:           gh.Ptr(r.Prerelease),
		GenerateReleaseNotes: gh.Ptr(r.GenerateNotes),
		MakeLatest:           optional(r.MakeLatest),
	}
	owner, repo := c.ownerName()
	rel, _, err := c.rest.Repositories.CreateRelease(ctx, owner, repo, body)
	if err != nil {
		err = c.convertErr(err)
		var api *APIError
		if errors.As(err, &api) && api.StatusCode == http.StatusUnprocessableEntity && strings.Contains(api.Message, "already_exists") {
			return Release{}, fmt.Errorf("create release %s in %s: a release of this tag exists: %w: %w", tag, c.repo, ErrAlreadyExists, err)
		}
		return Release{}, fmt.Errorf("create release %s in %s: %w", tag, c.repo, err)
	}
	if rel == nil || rel.ID == 0 {
		return Release{}, fmt.Errorf("create release %s in %s: the answer has no release id", tag, c.repo)
	}
	return mapRelease(rel), nil
}

// UpdateReleaseBody replaces the body of release id (PATCH with the body only).
func (c *Client) UpdateReleaseBody(ctx context.Context, id int64, body string) error {
	owner, repo := c.ownerName()
	if _, _, err := c.rest.Repositories.UpdateRelease(ctx, owner, repo, id, gh.UpdateReleaseRequest{Body: gh.Ptr(c.redact(body))}); err != nil {
		return fmt.Errorf("update body of release %d in %s: %w", id, c.repo, c.convertErr(err))
	}
	return nil
}

func mapRelease(r *gh.RepositoryRelease) Release {
	return Release{
		ID:         r.ID,
		TagName:    r.TagName,
		Name:       r.GetName(),
		Body:       r.GetBody(),
		Draft:      r.Draft,
		Prerelease: r.Prerelease,
		HTMLURL:    r.HTMLURL,
	}
}
