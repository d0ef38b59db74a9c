package pinimage

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	hex    = "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"
	digest = "sha256:" + hex
	ref    = "ghcr.io/agentme/release-action@" + digest
	pinned = "docker://" + ref
)

func TestParseReference(t *testing.T) {
	tests := []struct {
		name, in, want, err string
	}{
		{name: "ghcr", in: ref, want: pinned},
		{name: "with scheme", in: pinned, want: pinned},
		{name: "registry with port", in: "localhost:5000/a/b@" + digest, want: "docker://localhost:5000/a/b@" + digest},
		{name: "no registry", in: "agentme/release-action@" + digest, want: "docker://agentme/release-action@" + digest},
		{name: "separators", in: "ghcr.io/a-b/c_d.e__f@" + digest, want: "docker://ghcr.io/a-b/c_d.e__f@" + digest},
		{name: "mutable tag", in: "ghcr.io/agentme/release-action:v1", err: `mutable tag "v1"`},
		{name: "latest", in: "docker://ghcr.io/agentme/release-action:latest", err: `mutable tag "latest"`},
		{name: "bare name", in: "ghcr.io/agentme/release-action", err: "has no digest"},
		{name: "registry port, no digest", in: "localhost:5000/a/b", err: "has no digest"},
		{name: "tag and digest", in: "ghcr.io/agentme/release-action:v1@" + digest, err: `carries the tag "v1"`},
		{name: "upper-case hex", in: "ghcr.io/a/b@sha256:" + strings.ToUpper(hex), err: "not sha256:<64"},
		{name: "short digest", in: "ghcr.io/a/b@sha256:" + hex[:63], err: "not sha256:<64"},
		{name: "long digest", in: "ghcr.io/a/b@sha256:" + hex + "0", err: "not sha256:<64"},
		{name: "sha512", in: "ghcr.io/a/b@sha512:" + hex + hex, err: "not sha256:<64"},
		{name: "upper-case name", in: "ghcr.io/AgentMe/release-action@" + digest, err: "not a valid repository name"},
		{name: "empty name", in: "@" + digest, err: "not a valid repository name"},
		{name: "space inside", in: "ghcr.io/a b/c@" + digest, err: "not a valid repository name"},
		{name: "newline injection", in: "ghcr.io/a/b@" + digest + "\nfoo: bar", err: "not sha256:<64"},
		{name: "Dockerfile", in: "Dockerfile", err: "has no digest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseReference(tt.in)
			if tt.err != "" {
				require.ErrorIs(t, err, ErrInvalid)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.True(t, IsPinned(got))
		})
	}
	assert.False(t, IsPinned("Dockerfile"))
	assert.False(t, IsPinned(ref), "without docker:// the runner would read it as a Dockerfile path")
	assert.False(t, IsPinned("docker://ghcr.io/a/b:v1"))
}

func TestPinRewritesOnlyTheImage(t *testing.T) {
	tests := []struct {
		name   string
		before string // %s marks the scalar as written
		value  string
	}{
		{name: "plain", value: "Dockerfile", before: "name: x\nruns:\n  using: docker\n  image: %s\n"},
		{name: "plain with comment", value: "Dockerfile", before: "runs:\n  using: docker\n  image: %s   # built on every job\n  args: [a]\n"},
		{name: "single-quoted", value: "'Dockerfile'", before: "runs:\n  using: docker\n  image: %s\n"},
		{name: "single-quoted with escaped quote", value: "'Docker''file'", before: "runs:\n  using: docker\n  image: %s\n"},
		{name: "double-quoted with escape", value: `"Docker\"file"`, before: "runs:\n  using: docker\n  image: %s # c\n"},
		{name: "CRLF", value: "Dockerfile", before: "name: x\r\nruns:\r\n  using: docker\r\n  image: %s\r\n  entrypoint: /x\r\n"},
		{name: "no final newline", value: "Dockerfile", before: "runs:\n  using: docker\n  image: %s"},
		{name: "image before using", value: "Dockerfile", before: "runs:\n  image:    %s\n  using: 'docker'\n"},
		{name: "already pinned", value: "docker://ghcr.io/agentme/release-action@sha256:" + strings.Repeat("0", 64), before: "runs:\n  using: docker\n  image: %s\n"},
		{name: "other image keys untouched", value: "Dockerfile", before: "inputs:\n  image:\n    description: 'image: Dockerfile'\n    default: Dockerfile\nruns:\n  using: docker\n  image: %s\n# image: Dockerfile\n"},
		{name: "tagged scalar (the tag belongs to the value)", value: "!!str Dockerfile", before: "runs:\n  using: docker\n  image: %s\n"},
		{name: "flow mapping", value: "Dockerfile", before: "runs: {using: docker, image: %s}\n"},
		{name: "unicode before", value: "Dockerfile", before: "description: \"déployer → prod\"\nruns: {using: docker,  image: %s }\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := []byte(strings.Replace(tt.before, "%s", tt.value, 1))
			got, err := Pin(src, ref)
			require.NoError(t, err)
			assert.Equal(t, strings.Replace(tt.before, "%s", pinned, 1), string(got))
			img, err := Image(got)
			require.NoError(t, err)
			assert.Equal(t, pinned, img)
		})
	}
}

func TestPinRefuses(t *testing.T) {
	tests := []struct{ name, src, ref, err string }{
		{name: "mutable tag", src: "runs:\n  using: docker\n  image: Dockerfile\n", ref: "ghcr.io/a/b:v1", err: "mutable tag"},
		{name: "composite action", src: "runs:\n  using: composite\n  steps: []\n", ref: ref, err: "not docker"},
		{name: "node action", src: "runs:\n  using: node20\n  main: index.js\n", ref: ref, err: "not docker"},
		{name: "no image", src: "runs:\n  using: docker\n", ref: ref, err: "missing"},
		{name: "block scalar", src: "runs:\n  using: docker\n  image: |\n    Dockerfile\n", ref: ref, err: "block scalar"},
		{name: "continued plain scalar", src: "runs:\n  using: docker\n  image: Docker\n    file\n", ref: ref, err: "single-line scalar"},
		{name: "plain scalar with a comma", src: "runs:\n  using: docker\n  image: Docker,file\n", ref: ref, err: "single-line scalar"},
		{name: "not yaml", src: "runs: [\n", ref: ref, err: "not valid YAML"},
		{name: "two documents", src: "runs:\n  using: docker\n  image: Dockerfile\n---\nx: 1\n", ref: ref, err: "2 YAML documents"},
		{name: "not utf-8", src: "name: \xff\nruns:\n  using: docker\n  image: Dockerfile\n", ref: ref, err: "not UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Pin([]byte(tt.src), tt.ref)
			require.ErrorIs(t, err, ErrInvalid)
			assert.Contains(t, err.Error(), tt.err)
			assert.Nil(t, got)
		})
	}
}

// TestPinActionYML pins the repository's own metadata: one line changes, nothing else.
func TestPinActionYML(t *testing.T) {
	src, err := os.ReadFile("../../action.yml")
	require.NoError(t, err)
	img, err := Image(src)
	require.NoError(t, err)
	require.False(t, IsPinned(img), "action.yml on the development branch builds from the Dockerfile; only release commits pin a digest")
	got, err := Pin(src, ref)
	require.NoError(t, err)
	before, after := strings.Split(string(src), "\n"), strings.Split(string(got), "\n")
	require.Len(t, after, len(before))
	changed := 0
	for i := range before {
		if before[i] != after[i] {
			changed++
			assert.Equal(t, "  image: "+pinned, after[i])
		}
	}
	assert.Equal(t, 1, changed)
}

func TestMain(t *testing.T) {
	write := func(t *testing.T, content string) string {
		p := filepath.Join(t.TempDir(), "action.yml")
		require.NoError(t, os.WriteFile(p, []byte(content), 0o640))
		return p
	}
	const unpinned = "name: x # keep\nruns:\n  using: docker\n  image: 'Dockerfile'\n"
	run := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := Main(args, &out, &errb)
		return code, out.String(), errb.String()
	}

	t.Run("pin in place", func(t *testing.T) {
		p := write(t, unpinned)
		code, out, _ := run("-file", p, "-image", ref)
		require.Equal(t, 0, code)
		assert.Contains(t, out, pinned)
		data, err := os.ReadFile(p)
		require.NoError(t, err)
		assert.Equal(t, "name: x # keep\nruns:\n  using: docker\n  image: "+pinned+"\n", string(data))
		fi, err := os.Stat(p)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o640), fi.Mode().Perm())
		entries, err := os.ReadDir(filepath.Dir(p))
		require.NoError(t, err)
		assert.Len(t, entries, 1, "no temporary file left behind")

		code, out, _ = run("-file", p, "-check")
		assert.Equal(t, 0, code)
		assert.Equal(t, pinned+"\n", out)
	})
	t.Run("refused tag leaves the file alone", func(t *testing.T) {
		p := write(t, unpinned)
		code, _, errs := run("-file", p, "-image", "ghcr.io/agentme/release-action:latest")
		assert.Equal(t, 2, code)
		assert.Contains(t, errs, "mutable tag")
		data, err := os.ReadFile(p)
		require.NoError(t, err)
		assert.Equal(t, unpinned, string(data))
	})
	t.Run("check unpinned", func(t *testing.T) {
		code, _, errs := run("-file", write(t, unpinned), "-check")
		assert.Equal(t, 1, code)
		assert.Contains(t, errs, `runs.image is "Dockerfile"`)
	})
	t.Run("check tag", func(t *testing.T) {
		code, _, _ := run("-file", write(t, "runs:\n  using: docker\n  image: docker://ghcr.io/a/b:v1\n"), "-check")
		assert.Equal(t, 1, code)
	})
	for _, args := range [][]string{{}, {"-check", "-image", ref}, {"-image", ref, "extra"}, {"-nope"}, {"-file", "/nonexistent/action.yml", "-check"}} {
		code, _, _ := run(args...)
		assert.Equal(t, 2, code, "%q", args)
	}
}

// FuzzPin: whatever the metadata, a successful Pin changes one contiguous span, and the
// result names the pinned image.
func FuzzPin(f *testing.F) {
	f.Add("runs:\n  using: docker\n  image: Dockerfile\n")
	f.Add("runs: {using: docker, image: 'Dock''er'}\n")
	f.Add("runs:\n  using: docker\n  image: \"a\\\"b\" # c\r\n")
	f.Add("runs:\n  using: docker\n  image: a\n  b\n")
	f.Fuzz(func(t *testing.T, src string) {
		got, err := Pin([]byte(src), ref)
		if err != nil {
			return
		}
		img, err := Image(got)
		require.NoError(t, err)
		require.Equal(t, pinned, img)
		p := 0
		for p < len(src) && p < len(got) && src[p] == got[p] {
			p++
		}
		s := 0
		for s < len(src)-p && s < len(got)-p && src[len(src)-1-s] == got[len(got)-1-s] {
			s++
		}
		require.Contains(t, pinned, string(got[p:len(got)-s]), "only the image value changed")
	})
}
