package release

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/untrusted"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/agentme/release-action/internal/github"
)

// tagTries bounds how many {n} a release tries when other commits keep taking the next
// free name (a concurrent release) before it gives up.
const tagTries = 3

// maxBody is GitHub's limit on a release body, in characters.
const maxBody = 125000

// maxVersion bounds the version read from the version file (it becomes part of tag names).
const maxVersion = 128

// readVersion reads "version" of the version file at the commit. A missing file, a file
// that is not a JSON object, or a missing or empty "version" is the repository's state:
// returned as a problem (a failed release), not as an error.
func (r *runner) readVersion(ctx context.Context, why string) (version, problem string, err error) {
	file := r.cfg.Tags.VersionFile
	if file == "" {
		file = "package.json"
	}
	at := sha7(r.o.SHA)
	raw, err := r.gh.FileContent(ctx, file, r.o.SHA)
	if errors.Is(err, github.ErrNotFound) {
		return "", fmt.Sprintf("%s uses {version}, but %s does not exist at %s: add it with a \"version\" field, "+
			"set tags.version-file to the file that has one, or use a template without {version}", why, untrusted.Clean(file), at), nil
	}
	if err != nil {
		return "", "", fmt.Errorf("read %s at %s for {version}: %w", file, at, err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return "", fmt.Sprintf("%s uses {version}, but %s at %s is not a JSON object (%s): fix the file or set tags.version-file",
			why, untrusted.Clean(file), at, untrusted.Clean(untrusted.Cut(err.Error(), 100))), nil
	}
	v, ok := fields["version"]
	if !ok {
		return "", fmt.Sprintf("%s uses {version}, but %s at %s has no \"version\" field: add one, or use a template without {version}",
			why, untrusted.Clean(file), at), nil
	}
	if err := json.Unmarshal(v, &version); err != nil || strings.TrimSpace(version) == "" {
		return "", fmt.Sprintf("%s uses {version}, but \"version\" in %s at %s is not a non-empty string: set it, like \"1.2.3\"",
			why, untrusted.Clean(file), at), nil
	}
	version = strings.TrimSpace(version)
	if utf8.RuneCountInString(version) > maxVersion {
		return "", fmt.Sprintf("%s uses {version}, but \"version\" in %s at %s is longer than %d characters",
			why, untrusted.Clean(file), at, maxVersion), nil
	}
	return version, "", nil
}

// existing is what GitHub has of a pattern's names.
type existing struct {
	// found is a name of the pattern that names the commit (newest first: latest date,
	// highest n), "" if none.
	found string
	// conflict is the tag that takes the name this release would make, at another commit
	// (patterns without {n}: their name cannot move on to a free one).
	conflict *github.Tag
	// maxN is the highest {n} among the pattern's names for today's date (0 if none).
	maxN int
}

// lookup reads the pattern's existing tags without writing anything.
func (r *runner) lookup(ctx context.Context, p Pattern, today string) (existing, error) {
	var ex existing
	if !p.Variable() {
		name := p.Render(Fields{})
		t, err := r.gh.GetTag(ctx, name)
		switch {
		case errors.Is(err, github.ErrNotFound):
		case err != nil:
			return ex, fmt.Errorf("read tag %s: %w", name, err)
		case sameSHA(t.SHA, r.o.SHA):
			ex.found = name
		default:
			ex.conflict = &t
		}
		return ex, nil
	}
	names, err := r.gh.ListTagNames(ctx, p.Prefix())
	if err != nil {
		return ex, fmt.Errorf("list tags starting with %q: %w", p.Prefix(), err)
	}
	type match struct {
		name string
		f    Fields
	}
	var ms []match
	for _, n := range names {
		if f, ok := p.Parse(n); ok {
			ms = append(ms, match{n, f})
			if f.N > ex.maxN && (f.Date == "" || f.Date == today) {
				ex.maxN = f.N
			}
		}
	}
	slices.SortFunc(ms, func(a, b match) int {
		if c := strings.Compare(b.f.Date, a.f.Date); c != 0 {
			return c
		}
		if a.f.N != b.f.N {
			return b.f.N - a.f.N
		}
		return strings.Compare(b.name, a.name)
	})
	todays := p.Render(Fields{N: 1, Date: today})
	for _, m := range ms {
		t, err := r.gh.GetTag(ctx, m.name)
		if errors.Is(err, github.ErrNotFound) {
			continue // deleted since it was listed
		}
		if err != nil {
			return ex, fmt.Errorf("read tag %s: %w", m.name, err)
		}
		if sameSHA(t.SHA, r.o.SHA) {
			ex.found = m.name
			ex.conflict = nil
			return ex, nil
		}
		if !p.Template().UsesN() && m.name == todays {
			ex.conflict = &t
		}
	}
	return ex, nil
}

// tagOutcome is what ensureTag did.
type tagOutcome struct {
	name    string
	reused  bool
	problem string // a failed step (tags never move), not an error
}

// ensureTag finds the pattern's tag of the commit or makes it: an annotated tag with
// message(name). A name taken by another commit is never moved: a pattern with {n} moves on
// to the next number (at most tagTries times, for concurrent releases), any other fails.
func (r *runner) ensureTag(ctx context.Context, p Pattern, what string, message func(string) string) (tagOutcome, error) {
	pl, err := r.planTag(ctx, p, what)
	if err != nil || pl.reused || pl.problem != "" {
		return pl.tagOutcome, err
	}
	today, n := pl.today, pl.n
	var taken []string
	for range tagTries {
		name := p.Render(Fields{N: n, Date: today})
		if err := config.CheckTagName(name); err != nil {
			return tagOutcome{problem: fmt.Sprintf("the %s would be %q, which git refuses (%v): fix the template or the version", what, untrusted.Clean(name), err)}, nil
		}
		r.say(fmt.Sprintf("creating %s %s at %s", what, name, sha7(r.o.SHA)))
		_, err := r.gh.CreateAnnotatedTag(ctx, name, r.o.SHA, message(name), nil)
		if err == nil {
			return tagOutcome{name: name}, nil
		}
		if !errors.Is(err, github.ErrAlreadyExists) {
			return tagOutcome{}, fmt.Errorf("create tag %s at %s: %w", name, sha7(r.o.SHA), err)
		}
		// Someone made the name between our listing and our write: read what it names.
		t, err := r.gh.GetTag(ctx, name)
		if err != nil {
			return tagOutcome{}, fmt.Errorf("read tag %s, which appeared while it was being created: %w", name, err)
		}
		if sameSHA(t.SHA, r.o.SHA) {
			r.say(fmt.Sprintf("%s appeared meanwhile and names %s: reusing it", name, sha7(r.o.SHA)))
			return tagOutcome{name: name, reused: true}, nil
		}
		if !p.Template().UsesN() {
			return tagOutcome{problem: r.neverMove(t)}, nil
		}
		r.say(fmt.Sprintf("%s was just taken by %s; trying the next number", name, sha7(untrusted.Clean(t.SHA))))
		taken = append(taken, name)
		n++
	}
	return tagOutcome{problem: fmt.Sprintf("could not make a %s: %s were taken by other commits while this release tried them; "+
		"another release is running at the same time: give the release job a concurrency group (README) and run it again",
		what, strings.Join(taken, ", "))}, nil
}

// neverMove is the failure for a tag that names another commit.
func (r *runner) neverMove(t github.Tag) string {
	return fmt.Sprintf("tag %s already names %s, not the candidate %s; tags never move: bump the version or delete the tag deliberately",
		untrusted.Clean(t.Name), sha7(untrusted.Clean(t.SHA)), sha7(r.o.SHA))
}

// publish makes (or finds) the GitHub release of tag. An existing final release gets the
// new body; an existing pre-release is left as it is.
func (r *runner) publish(ctx context.Context, tag, body string, prerelease bool) (github.Release, bool, error) {
	rel, err := r.gh.GetReleaseByTag(ctx, tag)
	switch {
	case err == nil:
		if !prerelease {
			if err := r.gh.UpdateReleaseBody(ctx, rel.ID, cutBody(body)); err != nil {
				return rel, true, fmt.Errorf("update the body of the GitHub release %d of %s: %w", rel.ID, tag, err)
			}
		}
		return rel, true, nil
	case !errors.Is(err, github.ErrNotFound):
		return rel, false, fmt.Errorf("read the GitHub release of %s: %w", tag, err)
	}
	latest := "true"
	if prerelease {
		latest = "false"
	}
	rel, err = r.gh.CreateRelease(ctx, github.ReleaseRequest{
		TagName: tag, Target: r.o.SHA, Name: tag, Body: cutBody(body),
		Prerelease: prerelease, GenerateNotes: true, MakeLatest: latest,
	})
	if err != nil {
		return rel, false, fmt.Errorf("create the GitHub release of %s: %w", tag, err)
	}
	return rel, false, nil
}

// cutBody keeps a release body within GitHub's limit.
func cutBody(s string) string {
	if utf8.RuneCountInString(s) <= maxBody {
		return s
	}
	const note = "\n\n… (cut: the full summary is in the release run's step summary)\n"
	keep := maxBody - utf8.RuneCountInString(note)
	n := 0
	for i := range s {
		if n == keep {
			return s[:i] + note
		}
		n++
	}
	return s
}

func sameSHA(a, b string) bool { return a != "" && strings.EqualFold(a, b) }

// tagMessage is the annotated tag's message: what it names and the run that made it.
func (r *runner) tagMessage(kind string) func(string) string {
	return func(name string) string {
		by := "Created by release-action."
		if r.o.RunURL != "" {
			by = "Created by release-action: " + r.o.RunURL
		}
		return fmt.Sprintf("%s %s of %s\n\n%s", kind, name, r.o.SHA, by)
	}
}
