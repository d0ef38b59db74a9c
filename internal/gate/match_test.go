package gate

import (
	"testing"

	vocab "github.com/agentme/release-action/internal/outcome"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMatcher(t *testing.T) {
	cases := []struct {
		pattern string
		match   []string
		miss    []string
	}{
		{"check", []string{"check"}, []string{"Check", "checks", "check-docs", "pre-check"}},
		{"checks (*)", []string{"checks (node)", "checks ()"}, []string{"checks", "checks (a/b)"}},
		{"build *", []string{"build linux"}, []string{"build / test"}},
		{"test [linux]", []string{"test [linux]", "test l"}, []string{"test [mac]"}},
		{"install-smoke (?oot)", []string{"install-smoke (root)"}, []string{"install-smoke (nonroot)"}},
		{`a\*`, []string{"a*"}, []string{"ab"}},
		{"re:check", []string{"check", "check-docs", "pre-check"}, []string{"Check"}},
		{"re:^check$", []string{"check"}, []string{"check-docs"}},
	}
	for _, tc := range cases {
		m, err := newMatcher(tc.pattern)
		require.NoError(t, err, tc.pattern)
		for _, n := range tc.match {
			assert.True(t, m.match(n), "%q should match %q", tc.pattern, n)
		}
		for _, n := range tc.miss {
			assert.False(t, m.match(n), "%q should not match %q", tc.pattern, n)
		}
	}
	for _, bad := range []string{"", "re:", "re:(", "check[", `check\`} {
		_, err := newMatcher(bad)
		assert.ErrorIs(t, err, vocab.ErrBadInput, bad)
	}
	m, _ := newMatcher("check")
	assert.Equal(t, "named 'check'", m.describe())
	m, _ = newMatcher("check*")
	assert.Equal(t, "matching 'check*'", m.describe())
}
