package environment

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/github"
	"github.com/agentme/release-action/internal/outcome"
)

func TestSecretsMaskEachValueOnce(t *testing.T) {
	env := map[string]string{"STAGING_TOKEN": "s3cret", "ALSO_STAGING": "s3cret", "PROM": "p-token"}
	var masked []string
	s := NewSecrets(func(k string) string { return env[k] }, func(v string) { masked = append(masked, v) })
	assert.Equal(t, "s3cret", s.Get("STAGING_TOKEN"))
	assert.Equal(t, "s3cret", s.Get("STAGING_TOKEN"))
	assert.Equal(t, "s3cret", s.Get("ALSO_STAGING"))
	assert.Equal(t, "p-token", s.Get("PROM"))
	assert.Empty(t, s.Get("UNSET"))
	assert.Empty(t, s.Get(""))
	assert.Equal(t, []string{"s3cret", "p-token"}, masked, "every value is registered once, where it enters")
}

func TestCheckGateways(t *testing.T) {
	validated := func(name, url, tokenEnv string) config.Environment {
		return config.Environment{Name: name, URL: url, TokenEnv: tokenEnv, Smoke: []string{"connect-auth"}}
	}
	env := map[string]string{"PROD_TOKEN": "t"}
	svc := New(Options{Secrets: NewSecrets(func(k string) string { return env[k] }, nil)})
	tests := []struct {
		name string
		envs []config.Environment
		want []string
	}{
		{"credential present", []config.Environment{validated("production", "https://gw.example", "PROD_TOKEN")}, nil},
		{"not validated: nothing needed", []config.Environment{{Name: "staging"}}, nil},
		{"every problem at once", []config.Environment{
			validated("staging", "", "STAGING_TOKEN"),
			validated("canary", "https://c.example", ""),
			validated("production", "https://gw.example", "MISSING_TOKEN"),
		}, []string{"environment staging: no url", "environment canary: no token-env or password-env", "environment production: MISSING_TOKEN is empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := svc.CheckGateways(tt.envs...)
			if tt.want == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, outcome.ErrBadInput)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestFind(t *testing.T) {
	cfg := &config.Config{Environments: []config.Environment{{Name: "staging"}, {Name: "production"}}}
	e, err := Find(cfg, "production")
	require.NoError(t, err)
	assert.Equal(t, "production", e.Name)
	_, err = Find(cfg, "prod")
	require.ErrorIs(t, err, outcome.ErrBadInput)
	assert.Contains(t, err.Error(), "[staging production]")
}

func TestClassify(t *testing.T) {
	tests := []struct {
		err  error
		bad  bool
		text string
	}{
		{outcome.BadInputf("no reason"), true, "roll back production: no reason"},
		{github.ErrUnauthorized, true, "GitHub refused the token (401)"},
		{github.ErrForbidden, true, "the token lacks a permission"},
		{github.ErrRateLimited, false, "GitHub or network failure"},
		{errors.New("502 Bad Gateway"), false, "re-run the job"},
	}
	for _, tt := range tests {
		err := Classify(tt.err, "roll back production")
		assert.Equal(t, tt.bad, errors.Is(err, outcome.ErrBadInput), err.Error())
		assert.Contains(t, err.Error(), tt.text)
		assert.ErrorIs(t, err, tt.err)
	}
}

func TestOperationsWithoutGitHubAreBadInput(t *testing.T) {
	svc := New(Options{})
	_, err := svc.Rollback(t.Context(), RollbackRequest{Environment: "production", Reason: "x"})
	assert.ErrorIs(t, err, outcome.ErrBadInput)
	_, err = svc.Release(t.Context(), ReleaseRequest{SHA: "abc"})
	assert.ErrorIs(t, err, outcome.ErrBadInput)
	_, err = svc.Monitor(t.Context(), MonitorRequest{Env: config.Environment{Name: "production"}})
	assert.ErrorIs(t, err, outcome.ErrBadInput)
}
