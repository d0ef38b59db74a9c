package config_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/agentme/release-action/internal/config"
)

// schemaFile is the published schema, at the repository root.
var schemaFile = filepath.Join("..", "..", filepath.FromSlash(config.SchemaPath))

// TestSchemaPublished: the schema in the repository is the one the key table gives;
// go test -update rewrites it.
func TestSchemaPublished(t *testing.T) {
	got := config.Schema()
	if *update {
		require.NoError(t, os.WriteFile(schemaFile, got, 0o644))
	}
	want, err := os.ReadFile(schemaFile)
	require.NoError(t, err, "run go test ./internal/config -update to create it")
	assert.Equal(t, string(want), string(got), "%s is stale; run go test ./internal/config -update and commit it", config.SchemaPath)
}

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(config.Schema()))
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	require.NoError(t, c.AddResource(config.SchemaID, doc))
	s, err := c.Compile(config.SchemaID)
	require.NoError(t, err, "the schema is valid draft 2020-12")
	return s
}

// instance reads YAML the way an editor's language server sees it: YAML 1.2 core
// schema values (1e-3 is a number, 2026-12-20 is text), as JSON.
func instance(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	require.NoError(t, yaml.Unmarshal(data, &v))
	j, err := json.Marshal(v)
	require.NoError(t, err)
	out, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
	require.NoError(t, err)
	return out
}

// TestSchemaAcceptsGoodFiles: the design brief's example and every file the loader
// accepts are valid against the schema.
func TestSchemaAcceptsGoodFiles(t *testing.T) {
	s := compileSchema(t)
	files, err := filepath.Glob(filepath.Join("testdata", "good", "*.yml"))
	require.NoError(t, err)
	files = append(files, filepath.Join("testdata", "agentme.yml"))
	for _, f := range files {
		if strings.HasSuffix(f, ".effective.yml") {
			continue
		}
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			require.NoError(t, err)
			_, err = config.Parse(f, data)
			require.NoError(t, err, "the loader accepts it")
			assert.NoError(t, s.Validate(instance(t, data)))
		})
	}
	assert.NoError(t, s.Validate(instance(t, []byte(config.Default().YAML()))), "the printed default configuration")
}

// TestSchemaRejectsMisspeltKeys: a misspelt key is refused by the schema (an editor
// underlines it) and by the loader, with its position and a suggestion.
func TestSchemaRejectsMisspeltKeys(t *testing.T) {
	s := compileSchema(t)
	example, err := os.ReadFile(filepath.Join("testdata", "agentme.yml"))
	require.NoError(t, err)
	for _, tc := range []struct{ from, to, want string }{
		{"  appear-timeout: 5m", "  apear-timeout: 5m", `testdata/agentme.yml:24:3: policy.apear-timeout: unknown key (did you mean "appear-timeout"?)`},
		{"    token-env: AGENTME_STAGING_GATEWAY_TOKEN", "    tokenenv: AGENTME_STAGING_GATEWAY_TOKEN", `testdata/agentme.yml:38:5: environments[0].tokenenv: unknown key (did you mean "token-env"?)`},
		{"      sustained: 3", "      sustaned: 3", `testdata/agentme.yml:59:7: environments[1].monitor.sustaned: unknown key (did you mean "sustained"?)`},
	} {
		t.Run(tc.to, func(t *testing.T) {
			bad := bytes.Replace(example, []byte(tc.from), []byte(tc.to), 1)
			require.NotEqual(t, example, bad)
			err := s.Validate(instance(t, bad))
			var ve *jsonschema.ValidationError
			require.True(t, errors.As(err, &ve), "the schema refuses it: %v", err)
			assert.Contains(t, err.Error(), strings.Fields(tc.to)[0][:len(strings.Fields(tc.to)[0])-1])

			_, err = config.Parse("testdata/agentme.yml", bad)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	for _, tc := range []struct{ name, yml string }{
		{"value not allowed", "policy:\n  skipped: maybe\n"},
		{"not a duration", "policy:\n  timeout: soon\n"},
		{"unknown probe", "environments:\n  - name: x\n    smoke: [chanel]\n"},
		{"wrong type", "tags:\n  github-release: yes please\n"},
		{"gate without name", "gates:\n  - check: build\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Error(t, s.Validate(instance(t, []byte(tc.yml))))
		})
	}
}
