package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	gh "github.com/google/go-github/v89/github"
)

// maxTagDepth bounds how many tag objects GetTag follows to reach a commit: git allows a tag
// of a tag, but a longer chain than this is not something a release process makes.
const maxTagDepth = 3

// GetTag reads refs/tags/<name> and resolves it to the commit it names. An annotated tag
// (the ref points at a tag object) is dereferenced through up to 3 tag objects; Annotated
// and Message then describe the outermost one. Missing -> error wrapping ErrNotFound, and so
// is a name no git tag can have. A tag naming a tree or blob is an error.
func (c *Client) GetTag(ctx context.Context, name string) (Tag, error) {
	name = strings.TrimPrefix(strings.TrimSpace(name), "refs/tags/")
	if name == "" {
		return Tag{}, fmt.Errorf("get tag in %s: empty tag name", c.repo)
	}
	if err := checkTagName(name); err != nil {
		return Tag{}, fmt.Errorf("get tag %q in %s: %w: %w", name, c.repo, err, ErrNotFound)
	}
	owner, repo := c.ownerName()
	ref, _, err := c.rest.Git.GetRef(ctx, owner, repo, "tags/"+name)
	if err != nil {
		return Tag{}, fmt.Errorf("get tag %s in %s: %w", name, c.repo, c.convertErr(err))
	}
	if ref == nil || ref.Object == nil {
		return Tag{}, fmt.Errorf("get tag %s in %s: %w", name, c.repo, errNoBody)
	}
	// GET /git/ref/ is an exact match on github.com; an old server answering with another
	// ref (a prefix match) must not pass that ref off as this tag.
	if got := ref.GetRef(); got != "refs/tags/"+name {
		return Tag{}, fmt.Errorf("get tag %s in %s: GitHub answered with ref %q instead: %w", name, c.repo, truncate(got, 200), ErrNotFound)
	}
	t := Tag{Name: name, ObjectSHA: strings.ToLower(ref.Object.GetSHA())}
	if !isFullSHA(t.ObjectSHA) {
		return Tag{}, fmt.Errorf("get tag %s in %s: GitHub answered object %q, which is not a SHA", name, c.repo, truncate(t.ObjectSHA, 80))
	}
	typ, sha := ref.Object.GetType(), t.ObjectSHA
	for depth := 0; ; depth++ {
		switch typ {
		case "commit":
			t.SHA = sha
			return t, nil
		case "tag":
		default:
			return Tag{}, fmt.Errorf("get tag %s in %s: it names a %s (%s), not a commit", name, c.repo, truncate(typ, 40), sha)
		}
		if depth == maxTagDepth {
			return Tag{}, fmt.Errorf("get tag %s in %s: it is a chain of more than %d tag objects; refusing to follow it further", name, c.repo, maxTagDepth)
		}
		obj, _, err := c.rest.Git.GetTag(ctx, owner, repo, sha)
		if err != nil {
			err = c.convertErr(err)
			if errors.Is(err, ErrNotFound) {
				// The tag exists, so this must not read as "no such tag": the caller
				// would try to create it.
				return Tag{}, fmt.Errorf("get tag %s in %s: its tag object %s cannot be read (%v)", name, c.repo, sha, err)
			}
			return Tag{}, fmt.Errorf("get tag %s in %s: read tag object %s: %w", name, c.repo, sha, err)
		}
		if obj == nil || obj.Object == nil {
			return Tag{}, fmt.Errorf("get tag %s in %s: read tag object %s: %w", name, c.repo, sha, errNoBody)
		}
		if depth == 0 {
			t.Annotated = true
			t.Message = obj.GetMessage()
		}
		typ, sha = obj.Object.GetType(), strings.ToLower(obj.Object.GetSHA())
		if !isFullSHA(sha) {
			return Tag{}, fmt.Errorf("get tag %s in %s: tag object names %q, which is not a SHA", name, c.repo, truncate(sha, 80))
		}
	}
}

// ListTagNames returns the names (without refs/tags/) of the tags that start with prefix,
// all pages, sorted by name. "" lists every tag. Tags are not dereferenced.
func (c *Client) ListTagNames(ctx context.Context, prefix string) ([]string, error) {
	prefix = strings.TrimPrefix(prefix, "refs/tags/")
	match := "tags/" + prefix
	if prefix == "" {
		match = "tags"
	}
	owner, repo := c.ownerName()
	var out []string
	for page := 1; ; page++ {
		var refs []*gh.Reference
		var resp *gh.Response
		var err error
		if page == 1 {
			refs, resp, err = c.rest.Git.ListMatchingRefs(ctx, owner, repo, match)
		} else {
			refs, resp, err = c.matchingRefsPage(ctx, match, page)
		}
		if err != nil {
			return nil, fmt.Errorf("list tags starting with %q in %s (page %d): %w", prefix, c.repo, page, c.convertErr(err))
		}
		for _, r := range refs {
			// The server's prefix match is not trusted to be exactly ours.
			if n, ok := strings.CutPrefix(r.GetRef(), "refs/tags/"); ok && n != "" && strings.HasPrefix(n, prefix) {
				out = append(out, n)
			}
		}
		if resp.NextPage == 0 {
			break
		}
		if page >= maxListPages {
			return nil, fmt.Errorf("list tags starting with %q in %s: more than %d pages; refusing to read on: use a longer prefix", prefix, c.repo, maxListPages)
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// matchingRefsPage reads a further page of GET /git/matching-refs: go-github's
// ListMatchingRefs takes no page option, though GitHub paginates the answer with Link headers.
func (c *Client) matchingRefsPage(ctx context.Context, match string, page int) ([]*gh.Reference, *gh.Response, error) {
	owner, repo := c.ownerName()
	u := fmt.Sprintf("repos/%s/%s/git/matching-refs/%s?page=%d", url.PathEscape(owner), url.PathEscape(repo), escapeSegments(match), page)
	req, err := c.rest.NewRequest(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, nil, err
	}
	var refs []*gh.Reference
	resp, err := c.rest.Do(req, &refs)
	return refs, resp, err
}

// CreateAnnotatedTag creates the tag object (POST /git/tags) for commit sha, then
// refs/tags/<name> pointing at it (POST /git/refs). If the ref exists already the error wraps
// ErrAlreadyExists: tags never move, so the caller reads the tag with GetTag and compares.
// The tag object created before is then unreferenced and harmless (git collects it). A
// retried POST that did land twice shows the same way, as ErrAlreadyExists for our own tag.
func (c *Client) CreateAnnotatedTag(ctx context.Context, name, sha, message string, tagger *Person) (Tag, error) {
	name = strings.TrimPrefix(strings.TrimSpace(name), "refs/tags/")
	if err := checkTagName(name); err != nil {
		return Tag{}, fmt.Errorf("create tag %q in %s: %w", name, c.repo, err)
	}
	if !isFullSHA(sha) {
		return Tag{}, fmt.Errorf("create tag %s in %s: %q is not a 40-hex commit SHA", name, c.repo, sha)
	}
	if strings.TrimSpace(message) == "" {
		return Tag{}, fmt.Errorf("create tag %s in %s: an annotated tag needs a message", name, c.repo)
	}
	sha = strings.ToLower(sha)
	body := gh.CreateTag{Tag: name, Message: c.redact(message), Object: sha, Type: "commit"}
	if tagger != nil {
		body.Tagger = &gh.CommitAuthor{Name: optional(tagger.Name), Email: optional(tagger.Email)}
		if !tagger.Date.IsZero() {
			body.Tagger.Date = &gh.Timestamp{Time: tagger.Date.UTC()}
		}
	}
	owner, repo := c.ownerName()
	obj, _, err := c.rest.Git.CreateTag(ctx, owner, repo, body)
	if err != nil {
		return Tag{}, fmt.Errorf("create tag object %s for %s in %s: %w", name, sha, c.repo, c.convertErr(err))
	}
	objSHA := strings.ToLower(obj.GetSHA())
	if !isFullSHA(objSHA) {
		return Tag{}, fmt.Errorf("create tag object %s for %s in %s: the answer has no tag object SHA", name, sha, c.repo)
	}
	full := "refs/tags/" + name
	if _, _, err := c.rest.Git.CreateRef(ctx, owner, repo, gh.CreateRef{Ref: full, SHA: objSHA}); err != nil {
		return Tag{}, fmt.Errorf("create ref %s for tag object %s in %s: %w", full, objSHA, c.repo, c.convertErr(err))
	}
	msg := message
	if obj.Message != nil {
		msg = obj.GetMessage()
	}
	return Tag{Name: name, SHA: sha, ObjectSHA: objSHA, Annotated: true, Message: msg}, nil
}

// checkTagName applies git's ref-name rules (git check-ref-format) so a bad name is refused
// with a reason rather than by a 422.
func checkTagName(name string) error {
	switch {
	case name == "":
		return errors.New("empty tag name")
	case name == "@", strings.HasPrefix(name, "/"), strings.HasSuffix(name, "/"), strings.HasSuffix(name, "."),
		strings.HasSuffix(name, ".lock"), strings.Contains(name, ".."), strings.Contains(name, "//"),
		strings.Contains(name, "@{"), strings.Contains(name, "/."), strings.HasPrefix(name, "."):
		return fmt.Errorf("%q is not a valid git tag name", name)
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f || strings.ContainsRune(" ~^:?*[\\", r) {
			return fmt.Errorf("%q is not a valid git tag name (it contains %q)", name, r)
		}
	}
	return nil
}

// escapeSegments escapes each path segment of a ref; an escaped "/" would not be
// recognised by GitHub.
func escapeSegments(ref string) string {
	parts := strings.Split(ref, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}
