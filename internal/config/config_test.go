package config_test

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the binary embeds tzdata in main; tests must not depend on the host's zoneinfo

	"github.com/goccy/go-yaml"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/config"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

func ptr[T any](v T) *T { return &v }

func mins(n int) config.Duration { return config.Duration(time.Duration(n) * time.Minute) }

// defaultGates are the built-in gates: workflows named by file.
func defaultGates() []config.Gate {
	gs := designGates()
	gs[0].Workflow = ".github/workflows/ci.yml"
	gs[1].Workflow = ".github/workflows/security-gate.yml"
	gs[2].Workflow = ".github/workflows/install-smoke.yml"
	gs[3].Tests.Workflow = ".github/workflows/security-gate.yml"
	return gs
}

// designGates are the gates of the design brief's example, which names workflows by name.
func designGates() []config.Gate {
	return []config.Gate{
		{Name: "check", Check: "check", Workflow: "CI"},
		{Name: "Security Gate", Workflow: "Security Gate"},
		{Name: "Install Smoke", Workflow: "Install Smoke", Dispatch: true},
		{Name: "Targeted bootstrap/auth regressions", Tests: &config.TestsGate{
			Workflow: "Security Gate",
			Job:      "hardening",
			Step:     "Security regression tests",
			Files: []string{
				"src/gateway/auth.test.ts",
				"src/gateway/tools-invoke-http.test.ts",
				"src/gateway/server-http.bootstrap.test.ts",
			},
			Reporter: "auto",
		}},
	}
}

func defaultPolicy() config.Policy {
	return config.Policy{Skipped: "fail", Neutral: "pass", Timeout: mins(45), AppearTimeout: mins(5), FailFast: ptr(true)}
}

func defaultTags() config.Tags {
	return config.Tags{Candidate: "v{version}-rc.{n}", Release: "v{version}", GitHubRelease: ptr(true), VersionFile: "package.json"}
}

func TestDefault(t *testing.T) {
	want := &config.Config{
		Gates:  defaultGates(),
		Policy: defaultPolicy(),
		Tags:   defaultTags(),
		Deploy: config.Deploy{Workflow: "deploy.yml"},
	}
	got := config.Default()
	assert.Equal(t, want, got)
	assert.Empty(t, got.Source)
	assert.Nil(t, got.Environments)
	require.NoError(t, got.Validate())

	// Each call is a fresh value: a caller changing one must not change the next.
	got.Gates[0].Name = "changed"
	got.Gates[3].Tests.Files[0] = "changed"
	assert.Equal(t, want, config.Default())
}

func TestParseDesignExample(t *testing.T) {
	data, err := os.ReadFile("testdata/agentme.yml")
	require.NoError(t, err)
	got, err := config.Parse(".github/release-action.yml", data)
	require.NoError(t, err)

	smoke := []string{"connect-auth", "control-ui", "channel", "bootstrap", "tool-call"}
	want := &config.Config{
		Source: ".github/release-action.yml",
		Gates:  designGates(),
		Policy: defaultPolicy(),
		Tags:   defaultTags(),
		Deploy: config.Deploy{Workflow: "deploy.yml"},
		Environments: []config.Environment{
			{
				Name:     "staging",
				URL:      "https://staging.agentme.example",
				TokenEnv: "AGENTME_STAGING_GATEWAY_TOKEN",
				Timeout:  mins(20),
				Smoke:    smoke,
			},
			{
				Name:     "production",
				URL:      "https://gateway.agentme.example",
				TokenEnv: "AGENTME_PRODUCTION_GATEWAY_TOKEN",
				Timeout:  mins(30),
				Window: &config.Window{
					Timezone: "Australia/Brisbane",
					Weekly:   []config.WeeklyWindow{{Days: []string{"Tue", "Thu"}, Start: "02:00", End: "04:00"}},
					Freeze:   []config.Freeze{{From: "2026-12-20", To: "2027-01-05"}},
					MaxWait:  mins(120),
				},
				Smoke: smoke,
				Monitor: &config.Monitor{
					Duration:     mins(45),
					Interval:     mins(1),
					Sustained:    3,
					AutoRollback: true,
					NoData:       "fail",
					Smoke:        []string{"connect-auth", "channel", "tool-call"},
					Prometheus: &config.Prometheus{
						URL:      "https://prometheus.agentme.example",
						TokenEnv: "PROMETHEUS_TOKEN",
						Checks: []config.MetricCheck{{
							Name:  "auth errors",
							Query: "sum(rate(agentme_gateway_auth_failures_total[5m]))",
							Max:   ptr(0.5),
						}},
					},
				},
			},
		},
		Owners: config.Owners{Release: "@agentme/release-owners", Security: "@agentme/security", OnCall: "@agentme/oncall"},
	}
	assert.Equal(t, want, got)

	// The example's gates and policy are the built-in defaults, except that the defaults
	// name each workflow by its file (two files may declare the same name:).
	def := config.Default()
	assert.Equal(t, defaultGates(), def.Gates)
	assert.Equal(t, def.Policy, got.Policy)
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()

	t.Run("missing file means the defaults", func(t *testing.T) {
		got, err := config.Load(filepath.Join(dir, "absent.yml"))
		require.NoError(t, err)
		assert.Equal(t, config.Default(), got)
		assert.Empty(t, got.Source)
	})
	t.Run("file is read and named", func(t *testing.T) {
		p := filepath.Join(dir, "release-action.yml")
		require.NoError(t, os.WriteFile(p, []byte("policy:\n  skipped: pass\n"), 0o600))
		got, err := config.Load(p)
		require.NoError(t, err)
		assert.Equal(t, p, got.Source)
		assert.Equal(t, "pass", got.Policy.Skipped)
		assert.Equal(t, defaultGates(), got.Gates)
	})
	t.Run("errors name the file", func(t *testing.T) {
		p := filepath.Join(dir, "bad.yml")
		require.NoError(t, os.WriteFile(p, []byte("policy:\n  skipped: maybe\n"), 0o600))
		_, err := config.Load(p)
		require.Error(t, err)
		assert.Equal(t, p+`:2:12: policy.skipped: "maybe" is not allowed; use one of: fail, pass`, err.Error())
	})
	t.Run("a directory is a read error, not the defaults", func(t *testing.T) {
		_, err := config.Load(dir)
		require.Error(t, err)
		assert.Empty(t, config.Errors(err), "a read error is not a configuration problem")
		assert.Contains(t, err.Error(), dir)
	})
	t.Run("oversized file", func(t *testing.T) {
		p := filepath.Join(dir, "big.yml")
		require.NoError(t, os.WriteFile(p, []byte("# "+strings.Repeat("x", 1<<20)+"\n"), 0o600))
		_, err := config.Load(p)
		require.Error(t, err)
		assert.Contains(t, err.Error(), p+":1:1: the file is larger than 1024 KiB")
	})
}

func TestEmptyMeansDefaults(t *testing.T) {
	for name, src := range map[string]string{
		"empty":         "",
		"blank lines":   "\n\n   \n",
		"comments only": "# nothing configured yet\n  # still nothing\n",
		"document mark": "---\n",
		"null":          "~\n",
		"null keys":     "gates:\npolicy:\ntags:\ndeploy:\nenvironments:\nowners:\n",
	} {
		t.Run(name, func(t *testing.T) {
			got, err := config.Parse("c.yml", []byte(src))
			require.NoError(t, err)
			want := config.Default()
			want.Source = "c.yml"
			assert.Equal(t, want, got)
		})
	}
}

func TestGatesReplaceDefaults(t *testing.T) {
	got, err := config.Parse("c.yml", []byte("gates:\n  - name: ci\n    check: \"ci / *\"\n"))
	require.NoError(t, err)
	assert.Equal(t, []config.Gate{{Name: "ci", Check: "ci / *"}}, got.Gates)

	got, err = config.Parse("c.yml", []byte("policy:\n  timeout: 1h\n"))
	require.NoError(t, err)
	assert.Equal(t, defaultGates(), got.Gates, "a file without gates keeps the built-in gates")
	assert.Equal(t, config.Duration(time.Hour), got.Policy.Timeout)
}

func TestEnvironmentDefaults(t *testing.T) {
	src := `
environments:
  - name: staging
    url: https://staging.example
    password-env: STAGING_PASSWORD
    monitor:
      prometheus:
        url: http://127.0.0.1:9090
        checks:
          - {name: restarts, query: "changes(process_start_time_seconds[5m])", max: 0}
    window:
      timezone: UTC
      weekly:
        - {days: [monday, FRIDAY, sun], start: "22:00", end: "02:00"}
  - name: preview
    smoke: []
`
	got, err := config.Parse("c.yml", []byte(src))
	require.NoError(t, err)
	require.Len(t, got.Environments, 2)
	st := got.Environments[0]
	assert.Equal(t, mins(30), st.Timeout)
	assert.Equal(t, config.AllProbes(), st.Smoke)
	assert.Equal(t, &config.Monitor{
		Duration: mins(45), Interval: mins(1), Sustained: 3, NoData: "fail",
		Smoke: config.RollbackProbes(),
		Prometheus: &config.Prometheus{URL: "http://127.0.0.1:9090", Checks: []config.MetricCheck{
			{Name: "restarts", Query: "changes(process_start_time_seconds[5m])", Max: ptr(0.0)},
		}},
	}, st.Monitor)
	assert.Equal(t, []string{"Mon", "Fri", "Sun"}, st.Window.Weekly[0].Days, "days are normalised")
	assert.Zero(t, st.Window.MaxWait, "no max-wait means do not wait")

	pv := got.Environments[1]
	assert.Equal(t, []string{}, pv.Smoke, "an explicit empty smoke list means no probes")
	assert.Empty(t, pv.URL)
}

func TestRoundTrip(t *testing.T) {
	files, err := filepath.Glob("testdata/good/*.yml")
	require.NoError(t, err)
	files = append(files, "testdata/agentme.yml")
	require.GreaterOrEqual(t, len(files), 5)
	check := func(t *testing.T, c *config.Config) {
		out := c.YAML()
		back, err := config.Parse("printed.yml", []byte(out))
		require.NoError(t, err, "YAML() output:\n%s", out)
		back.Source = c.Source
		assert.Equal(t, c, back, "YAML() output:\n%s", out)
		assert.Equal(t, out, back.YAML(), "printing is stable")
	}
	t.Run("defaults", func(t *testing.T) { check(t, config.Default()) })
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			require.NoError(t, err)
			c, err := config.Parse(f, data)
			require.NoError(t, err)
			check(t, c)
		})
	}
}

// TestGolden compares the printed effective configuration of each good case with its
// .effective.yml (and .json for the example); go test -update rewrites them.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/good/*.yml")
	require.NoError(t, err)
	files = append(files, "testdata/agentme.yml")
	for _, f := range files {
		if strings.HasSuffix(f, ".effective.yml") {
			continue
		}
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			require.NoError(t, err)
			c, err := config.Parse(f, data)
			require.NoError(t, err)
			golden(t, strings.TrimSuffix(f, ".yml")+".effective.yml.golden", c.YAML())
		})
	}
	golden(t, "testdata/default.effective.yml.golden", config.Default().YAML())
	golden(t, "testdata/default.effective.json.golden", config.Default().JSON())
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to create it")
	assert.Equal(t, string(want), got, "%s differs; run go test -update and review the diff", path)
}

// TestBad parses each testdata/bad/*.yml and compares every error line with its .out file.
func TestBad(t *testing.T) {
	files, err := filepath.Glob("testdata/bad/*.yml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			require.NoError(t, err)
			c, err := config.Parse(f, data)
			require.Error(t, err)
			assert.Nil(t, c)
			errs := config.Errors(err)
			require.NotEmpty(t, errs)
			var lines []string
			for _, e := range errs {
				assert.Equal(t, f, e.File)
				assert.GreaterOrEqual(t, e.Line, 1)
				assert.GreaterOrEqual(t, e.Column, 1)
				lines = append(lines, e.Error())
			}
			got := strings.Join(lines, "\n") + "\n"
			assert.Equal(t, got, err.Error()+"\n", "the joined error prints one problem per line")
			golden(t, strings.TrimSuffix(f, ".yml")+".out", got)
		})
	}
}

func TestErrorsAreSortedAndJoined(t *testing.T) {
	src := "tags:\n  release: \"{foo}\"\npolicy:\n  neutral: maybe\n  skipped: never\n"
	_, err := config.Parse("c.yml", []byte(src))
	require.Error(t, err)
	errs := config.Errors(err)
	require.Len(t, errs, 3)
	assert.Equal(t, []int{2, 4, 5}, []int{errs[0].Line, errs[1].Line, errs[2].Line})
	var one *config.Error
	require.True(t, errors.As(err, &one))
	assert.Equal(t, "tags.release", one.Path)

	_, err = config.Parse("c.yml", []byte("policy:\n  neutral: maybe\n"))
	var single *config.Error
	require.ErrorAs(t, err, &single)
	assert.Equal(t, &config.Error{File: "c.yml", Line: 2, Column: 12, Path: "policy.neutral", Msg: `"maybe" is not allowed; use one of: pass, fail`}, single)
}

func TestErrorString(t *testing.T) {
	for _, tc := range []struct {
		err  config.Error
		want string
	}{
		{config.Error{File: "f.yml", Line: 7, Column: 14, Path: "policy.skipped", Msg: "bad"}, "f.yml:7:14: policy.skipped: bad"},
		{config.Error{File: "f.yml", Line: 1, Column: 1, Msg: "bad"}, "f.yml:1:1: bad"},
		{config.Error{File: "f.yml", Path: "gates", Msg: "bad"}, "f.yml: gates: bad"},
		{config.Error{Path: "gates", Msg: "bad"}, "gates: bad"},
		{config.Error{Line: 2, Column: 3, Msg: "bad"}, "2:3: bad"},
	} {
		assert.Equal(t, tc.want, tc.err.Error())
	}
}

// Credentials pasted into the file must never be echoed back in an error message.
func TestSecretsNotEchoed(t *testing.T) {
	const secret = "ghp_R3alLookingT0kenValue1234567890abcd"
	const pass = "hunter2-S3cret-Passw0rd"
	for name, src := range map[string]string{
		"token key":           "environments:\n  - name: s\n    url: https://s.example\n    token: " + secret + "\n",
		"password key":        "environments:\n  - name: s\n    url: https://s.example\n    password: " + pass + "\n",
		"token in token-env":  "environments:\n  - name: s\n    url: https://s.example\n    token-env: " + secret + "\n",
		"mixed-case secret":   "environments:\n  - name: s\n    url: https://s.example\n    password-env: Zx8PqR2mTv5LkW9sNb3Yh\n",
		"password in url":     "environments:\n  - name: s\n    url: https://admin:" + pass + "@s.example\n    token-env: T\n",
		"password in url bad": "environments:\n  - name: s\n    url: \"https://admin:" + pass + "@s.example/%zz\"\n    token-env: T\n",
		"prometheus token":    "environments:\n  - name: s\n    smoke: []\n    monitor:\n      smoke: []\n      prometheus:\n        url: https://p.example\n        token: " + secret + "\n        checks: [{name: a, query: b, max: 1}]\n",
		"not an env name":     "environments:\n  - name: s\n    url: https://s.example\n    token-env: \"" + pass + "\"\n",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := config.Parse("c.yml", []byte(src))
			require.Error(t, err)
			msg := err.Error()
			assert.NotContains(t, msg, secret)
			assert.NotContains(t, msg, pass)
			assert.NotContains(t, msg, "Zx8PqR2mTv5LkW9sNb3Yh")
			assert.NotContains(t, msg, "hunter2")
		})
	}
}

func TestValidateProgrammatic(t *testing.T) {
	c := config.Default()
	c.Policy.Timeout = 0
	c.Environments = []config.Environment{{Name: "prod", URL: "http://prod.example", TokenEnv: "T", Timeout: mins(5), Smoke: []string{"tool-call"}}}
	err := c.Validate()
	require.Error(t, err)
	errs := config.Errors(err)
	require.Len(t, errs, 2)
	// Without positions, problems are in path order.
	assert.Equal(t, "environments[0].url: use https: http is allowed only for loopback hosts (127.0.0.1, localhost, ::1), since a credential travels with each request", errs[0].Error())
	assert.Equal(t, "policy.timeout: 0s; want a duration greater than 0", errs[1].Error())
	assert.Zero(t, errs[0].Line, "a configuration built in code has no positions")
}

func TestDuration(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		text string
	}{
		{45 * time.Minute, "45m"},
		{time.Hour, "1h"},
		{90 * time.Minute, "1h30m"},
		{90 * time.Second, "1m30s"},
		{2*time.Hour + 5*time.Second, "2h0m5s"},
		{10 * time.Second, "10s"},
		{1500 * time.Millisecond, "1.5s"},
		{0, "0s"},
	} {
		d := config.Duration(tc.d)
		assert.Equal(t, tc.text, d.String())
		b, err := d.MarshalText()
		require.NoError(t, err)
		var back config.Duration
		require.NoError(t, back.UnmarshalText(b))
		assert.Equal(t, d, back, tc.text)
	}
	var d config.Duration
	err := d.UnmarshalText([]byte("45 minutes"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"45 minutes" is not a duration`)

	// Other decoders fill a Duration from text too.
	var y struct {
		T config.Duration `yaml:"t"`
	}
	require.NoError(t, yaml.Unmarshal([]byte("t: 1h30m\n"), &y))
	assert.Equal(t, config.Duration(90*time.Minute), y.T)
	var j struct {
		T config.Duration `json:"t"`
	}
	require.NoError(t, json.Unmarshal([]byte(`{"t":"45m"}`), &j))
	assert.Equal(t, mins(45), j.T)
	b, err := json.Marshal(j)
	require.NoError(t, err)
	assert.JSONEq(t, `{"t":"45m"}`, string(b))
}

func TestErrorsHelper(t *testing.T) {
	assert.Nil(t, config.Errors(nil))
	assert.Nil(t, config.Errors(errors.New("plain")))
	e1 := &config.Error{File: "a", Line: 1, Column: 1, Msg: "one"}
	e2 := &config.Error{File: "a", Line: 2, Column: 1, Msg: "two"}
	assert.Equal(t, []*config.Error{e1}, config.Errors(e1))
	assert.Equal(t, []*config.Error{e1, e2}, config.Errors(errors.Join(e1, e2)))
	assert.Equal(t, []*config.Error{e1, e2}, config.Errors(fmt.Errorf("load: %w", errors.Join(e1, e2))))
}
