package github

import (
	"context"
	"fmt"
	"strings"

	gh "github.com/google/go-github/v89/github"
)

// FileContent returns the bytes of the file at path in the commit, branch or tag ref ("" is
// the default branch), decoded from the base64 the contents API answers with. A missing file
// or ref -> error wrapping ErrNotFound. A directory, a submodule, a symlink GitHub does not
// resolve, and a file over the contents API's 1 MiB limit (GitHub then answers with an empty
// content and encoding "none") are errors saying so: the files this is for (package.json)
// are small, and reading a larger one would need the raw media type this client does not use.
func (c *Client) FileContent(ctx context.Context, path, ref string) ([]byte, error) {
	p := strings.Trim(strings.TrimSpace(path), "/")
	if p == "" {
		return nil, fmt.Errorf("read file in %s: empty path: give the path of a file in the repository", c.repo)
	}
	where := p
	if ref != "" {
		where = p + "@" + ref
	}
	owner, name := c.ownerName()
	file, dir, _, err := c.rest.Repositories.GetContents(ctx, owner, name, p, &gh.RepositoryContentGetOptions{Ref: ref})
	if err != nil {
		return nil, fmt.Errorf("read %s in %s: %w", where, c.repo, c.convertErr(err))
	}
	if dir != nil {
		return nil, fmt.Errorf("read %s in %s: it is a directory, not a file: give the path of a file", where, c.repo)
	}
	if file == nil {
		return nil, fmt.Errorf("read %s in %s: %w", where, c.repo, errNoBody)
	}
	switch t := file.GetType(); t {
	case "file", "":
	case "symlink":
		return nil, fmt.Errorf("read %s in %s: it is a symlink to %q outside the files GitHub resolves: give the path of the file itself",
			where, c.repo, truncate(file.GetTarget(), 200))
	default:
		return nil, fmt.Errorf("read %s in %s: it is a %s, not a file", where, c.repo, truncate(t, 40))
	}
	if file.GetEncoding() == "none" || (file.Content == nil || *file.Content == "") && file.GetSize() > 0 {
		return nil, fmt.Errorf("read %s in %s: the file is %d bytes, more than the 1 MiB GitHub's contents API returns: keep it smaller",
			where, c.repo, file.GetSize())
	}
	s, err := file.GetContent()
	if err != nil {
		return nil, fmt.Errorf("read %s in %s: decode GitHub's answer: %w", where, c.repo, err)
	}
	if file.Size != nil && len(s) != file.GetSize() {
		return nil, fmt.Errorf("read %s in %s: GitHub said the file has %d bytes but sent %d", where, c.repo, file.GetSize(), len(s))
	}
	return []byte(s), nil
}
