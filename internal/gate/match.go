package gate

import (
	"path"
	"regexp"
	"strings"

	vocab "github.com/agentme/release-action/internal/outcome"
)

// matcher matches check names the way the configuration writes them:
//
//   - "re:<regexp>" is a Go regexp, unanchored as written: "re:check" also matches
//     "check-docs"; write "re:^check$" to anchor it.
//   - a pattern with *, ?, [ or \ is a glob with path.Match semantics (so * and ? do
//     not cross a "/": "build *" does not match "build / test"); a name equal to the
//     pattern always matches too, so a literal name such as "test [linux]" works.
//   - anything else is an exact, case-sensitive name.
type matcher struct {
	raw  string
	re   *regexp.Regexp
	glob bool
}

func newMatcher(p string) (matcher, error) {
	if p == "" {
		return matcher{}, vocab.BadInputf("invalid gate options: empty check name pattern")
	}
	if expr, ok := strings.CutPrefix(p, "re:"); ok {
		if expr == "" {
			return matcher{}, vocab.BadInputf("invalid gate options: the regexp after re: is empty")
		}
		re, err := regexp.Compile(expr)
		if err != nil {
			return matcher{}, vocab.BadInputf("invalid gate options: pattern %q: %v", p, err)
		}
		return matcher{raw: p, re: re}, nil
	}
	m := matcher{raw: p}
	if strings.ContainsAny(p, `*?[\`) {
		if _, err := path.Match(p, ""); err != nil {
			return matcher{}, vocab.BadInputf("invalid gate options: pattern %q is not a valid glob: %v", p, err)
		}
		m.glob = true
	}
	return m, nil
}

func (m matcher) match(name string) bool {
	if m.re != nil {
		return m.re.MatchString(name)
	}
	if name == m.raw {
		return true
	}
	if m.glob {
		ok, _ := path.Match(m.raw, name)
		return ok
	}
	return false
}

// literal reports whether the pattern names exactly one check.
func (m matcher) literal() bool { return m.re == nil && !m.glob }

// describe names what the matcher looks for, for reasons: "named 'check'",
// "matching 'checks (*)'".
func (m matcher) describe() string {
	if m.literal() {
		return "named " + quote(m.raw)
	}
	return "matching " + quote(m.raw)
}
