package cli

import (
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestVersionText(t *testing.T) {
	defer func(v, c, i string) { version, commit, image = v, c, i }(version, commit, image)
	stamped := &debug.BuildInfo{Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.modified", Value: "true"}}}
	tests := []struct {
		name                   string
		version, commit, image string
		bi                     *debug.BuildInfo
		want                   string
	}{
		{name: "release image binary", version: "v1.2.3", commit: "0123456789abcdef0123456789abcdef01234567",
			want: "release-action v1.2.3\ncommit: 0123456789abcdef0123456789abcdef01234567\n"},
		{name: "release download", version: "v1.2.3", commit: "0123", image: "ghcr.io/agentme/release-action@sha256:" + "ab",
			want: "release-action v1.2.3\ncommit: 0123\nimage:  ghcr.io/agentme/release-action@sha256:ab\n"},
		{name: "local build with VCS stamp", bi: stamped, want: "release-action dev\ncommit: abc123 (modified)\n"},
		{name: "linker commit wins over the stamp", version: "v2.0.0", commit: "feed", bi: stamped, want: "release-action v2.0.0\ncommit: feed\n"},
		{name: "nothing known", bi: &debug.BuildInfo{}, want: "release-action dev\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			version, commit, image = tt.version, tt.commit, tt.image
			assert.Equal(t, tt.want, versionText(tt.bi, tt.bi != nil))
		})
	}
}
