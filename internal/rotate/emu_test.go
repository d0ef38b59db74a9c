package rotate_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/clock"
	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/deploy"
	"github.com/agentme/release-action/internal/gatewayemu"
	"github.com/agentme/release-action/internal/ghemu"
	"github.com/agentme/release-action/internal/github"
	"github.com/agentme/release-action/internal/outcome"
	"github.com/agentme/release-action/internal/rotate"
	"github.com/agentme/release-action/internal/sandbox"
	"github.com/agentme/release-action/internal/smoke"
)

const ghToken = "ghs_rotateTestToken0123456789"

// world is the sandbox world on a virtual clock: the GitHub emulator (whose Deploy
// restarts the gateways with the secrets it stores) and both gateway emulators.
type world struct {
	*sandbox.World
	gh   *github.Client
	clk  *clock.Virtual
	prod smoke.Options
}

func newWorld(t *testing.T, password bool) *world {
	t.Helper()
	clk := clock.NewVirtual(sandbox.Start)
	emu := ghemu.New(ghemu.Options{Clock: clk, Token: ghToken})
	base := emu.Start()
	t.Cleanup(emu.Close)
	prodOpts := gatewayemu.Options{Token: sandbox.ProductionToken, Clock: clk, TickInterval: -1}
	if password {
		prodOpts = gatewayemu.Options{Password: sandbox.ProductionToken, Clock: clk, TickInterval: -1}
	}
	w := &sandbox.World{
		GitHub:     emu,
		Staging:    gatewayemu.New(gatewayemu.Options{Token: sandbox.StagingToken, Clock: clk, TickInterval: -1}),
		Production: gatewayemu.New(prodOpts),
	}
	t.Cleanup(w.Staging.Close)
	t.Cleanup(w.Production.Close)
	w.Config = sandbox.ReleaseConfig(w.Staging.Start(), w.Production.Start())
	w.Secrets = map[string]string{sandbox.StagingEnv: sandbox.StagingToken, sandbox.ProductionEnv: sandbox.ProductionToken}
	if password {
		w.Config.Environments[1].TokenEnv, w.Config.Environments[1].PasswordEnv = "", "AGENTME_PRODUCTION_GATEWAY_PASSWORD"
		w.Secrets["AGENTME_PRODUCTION_GATEWAY_PASSWORD"] = sandbox.ProductionToken
	}
	c, err := github.New(github.Repo{Owner: emu.Owner(), Name: emu.Repo()}, github.Options{
		Token: ghToken, APIURL: base + "/api/v3", GraphQLURL: base + "/api/graphql", Clock: clk,
	})
	require.NoError(t, err)
	u, _ := url.Parse(w.Config.Environments[1].URL)
	return &world{World: w, gh: c, clk: clk,
		prod: smoke.Options{URL: u, Clock: clk, ProbeTimeout: 2 * time.Second, ChannelTimeout: 2 * time.Second}}
}

// output collects everything the rotation says and masks, to prove no value leaks.
type output struct {
	mu     sync.Mutex
	lines  []string
	masked []string
}

func (o *output) mask(s string)     { o.mu.Lock(); o.masked = append(o.masked, s); o.mu.Unlock() }
func (o *output) progress(s string) { o.mu.Lock(); o.lines = append(o.lines, s); o.mu.Unlock() }

func (w *world) request(out *output, mutate func(*rotate.Request)) rotate.Request {
	prod := w.Config.Environments[1]
	r := rotate.Request{
		Environment: prod, Trigger: w.Config.Deploy, Reason: "suspected leak in a CI log",
		OldCredential: sandbox.ProductionToken, Production: true, Smoke: w.prod,
		Clock: w.clk, Mask: out.mask, Progress: out.progress, PollInterval: 5 * time.Second,
	}
	if mutate != nil {
		mutate(&r)
	}
	return r
}

func TestRotateAgainstEmulators(t *testing.T) {
	tests := []struct {
		name      string
		password  bool
		bootstrap bool // production has a dedicated bootstrap secret
		rotateBS  bool // bootstrap-secret: true
		setup     func(w *world)
		scope     string
		verdict   string
		stage     string
		changed   bool
		problem   string
		failing   []string // verification probes that fail
		err       string   // Run returns an error with this text
		badInput  bool
		restarted bool // the production gateway runs the new secret
	}{
		{name: "token", verdict: "pass", stage: "done", changed: true, restarted: true},
		{name: "password", password: true, verdict: "pass", stage: "done", changed: true, restarted: true},
		{name: "environment-scoped secret", verdict: "pass", stage: "done", changed: true, restarted: true,
			scope: config.SecretScopeEnvironment},
		{name: "token and bootstrap secret", bootstrap: true, rotateBS: true, verdict: "pass", stage: "done", changed: true, restarted: true},
		{name: "stale bootstrap secret", bootstrap: true, verdict: "fail", stage: "verify", changed: true, restarted: true,
			failing: []string{smoke.ProbeOldBootstrapCode}, problem: "the dedicated bootstrap secret " + sandbox.ProductionBootSecret + " was not rotated: run rotate again with bootstrap-secret: true"},
		{name: "GITHUB_TOKEN cannot write secrets", setup: func(w *world) { w.GitHub.SetSecretsForbidden(true) },
			err: "GITHUB_TOKEN can never write secrets", badInput: true},
		{name: "the current token is wrong: nothing changes", setup: func(w *world) {
			_ = w.Production.RestartWith(gatewayemu.Credentials{Credential: "someone-else-rotated-it"})
		}, verdict: "fail", stage: "bootstrap", problem: "nothing was changed"},
		{name: "deploy run fails after the write", setup: func(w *world) { w.GitHub.FailDeploys("production", 1) },
			verdict: "fail", stage: "restart", changed: true, problem: "the restart failed"},
		{name: "gateway does not come back", setup: func(w *world) {
			w.Production.At(sandbox.Start.Add(40*time.Second), func(g *gatewayemu.Server) { g.SetHTTP5xx(503) })
		}, verdict: "fail", stage: "verify", changed: true,
			failing: []string{smoke.ProbeConnectAuth, smoke.ProbeControlUI, smoke.ProbeBootstrap, smoke.ProbeToolCall,
				smoke.ProbeOldCredentialConnect, smoke.ProbeOldCredentialTools, smoke.ProbeOldBootstrapCode}, problem: "NOT proven"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, tt.password)
			sandbox.RotateWorld(w.World, tt.bootstrap)
			if tt.scope == config.SecretScopeEnvironment {
				w.Config.Environments[1].Secrets.Scope = config.SecretScopeEnvironment
				w.GitHub.SetSecret("production", sandbox.ProductionTokenSecret, sandbox.ProductionToken)
				sandbox.WireSecretsDeploy(w.World)
			}
			if tt.password {
				s := w.Config.Environments[1].Secrets
				s.Password, s.Token = s.Token, ""
			}
			if tt.setup != nil {
				tt.setup(w)
			}
			out := &output{}
			req := w.request(out, func(r *rotate.Request) {
				r.Environment = w.Config.Environments[1]
				r.BootstrapSecret = tt.rotateBS
			})
			writesBefore := w.GitHub.SecretWrites()
			rep, err := rotate.Run(context.Background(), w.gh, req)
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				assert.Contains(t, err.Error(), "nothing was changed")
				assert.Equal(t, tt.badInput, errors.Is(err, outcome.ErrBadInput))
				assert.Equal(t, writesBefore, w.GitHub.SecretWrites())
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.verdict, string(rep.Verdict), rep.Problem)
			assert.Equal(t, tt.stage, rep.Stage)
			assert.Equal(t, tt.changed, rep.Changed)
			if tt.problem != "" {
				assert.Contains(t, rep.Problem, tt.problem)
			} else {
				assert.Empty(t, rep.Problem)
			}
			assert.Equal(t, sandbox.Previous, rep.Running.SHA)
			assert.Equal(t, sandbox.PreviousTag, rep.Running.Tag)

			scope := ghemu.RepoScope
			if tt.scope == config.SecretScopeEnvironment {
				scope = "production"
			}
			secretName := sandbox.ProductionTokenSecret
			stored, _ := w.GitHub.Secret(scope, secretName)
			if tt.changed {
				assert.NotEqual(t, sandbox.ProductionToken, stored, "a new value was written")
				assert.Len(t, stored, 43, "256 bits, base64url")
				require.NotEmpty(t, out.masked)
				assert.Equal(t, stored, out.masked[0], "the new value is masked before anything else")
				assert.Equal(t, w.GitHub.SecretsKeyID(scope), rep.Secrets[0].KeyID)
				assert.True(t, rep.Secrets[0].Written)
			} else {
				assert.Equal(t, sandbox.ProductionToken, stored, "nothing was written")
				assert.Equal(t, writesBefore, w.GitHub.SecretWrites())
			}
			if tt.rotateBS {
				boot, _ := w.GitHub.Secret(scope, sandbox.ProductionBootSecret)
				assert.NotEqual(t, sandbox.ProductionBootstrapSeed, boot)
				assert.NotEqual(t, stored, boot)
				require.Len(t, rep.Secrets, 2)
				assert.True(t, rep.Secrets[1].Written)
			}
			if tt.restarted {
				status := postTool(t, w, stored, tt.password)
				assert.Equal(t, 200, status, "the gateway runs the new secret")
				assert.Equal(t, 401, postTool(t, w, sandbox.ProductionToken, tt.password), "and refuses the old one")
			}
			if rep.Verification != nil {
				var failing []string
				for _, p := range rep.Verification.Probes {
					if !p.OK {
						failing = append(failing, p.Name)
					}
				}
				assert.Equal(t, tt.failing, failing)
			}
			if rep.Deploy != nil {
				d := deploymentOf(t, w, rep.Deploy.DeploymentID)
				assert.Equal(t, deploy.TaskRotate, d.Task)
				assert.Equal(t, sandbox.Previous, d.SHA)
				var payload deploy.Payload
				require.NoError(t, json.Unmarshal(d.Payload, &payload))
				assert.Equal(t, "suspected leak in a CI log", payload.Reason)
				assert.True(t, payload.Rotation)
				ss, err := w.gh.ListDeploymentStatuses(context.Background(), d.ID)
				require.NoError(t, err)
				last := ss[0]
				for _, s := range ss {
					if s.CreatedAt.After(last.CreatedAt) || (s.CreatedAt.Equal(last.CreatedAt) && s.ID > last.ID) {
						last = s
					}
				}
				if tt.verdict == "pass" {
					assert.Equal(t, "success", last.State)
				} else {
					assert.Equal(t, "failure", last.State)
				}
			}

			// No value anywhere: report, progress, problem.
			b, err := json.Marshal(rep)
			require.NoError(t, err)
			text := string(b) + strings.Join(out.lines, "\n")
			for _, secret := range append([]string{sandbox.ProductionToken, sandbox.ProductionBootstrapSeed}, out.masked...) {
				assert.NotContains(t, text, secret)
			}
		})
	}
}

func postTool(t *testing.T, w *world, cred string, _ bool) int {
	t.Helper()
	req, err := httpRequest(w.Config.Environments[1].URL+"/tools/invoke", cred)
	require.NoError(t, err)
	resp, err := w.Production.HTTPClient().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

func deploymentOf(t *testing.T, w *world, id int64) github.Deployment {
	t.Helper()
	ds, err := w.gh.ListDeployments(context.Background(), github.DeploymentFilter{Environment: "production"})
	require.NoError(t, err)
	for _, d := range ds {
		if d.ID == id {
			return d
		}
	}
	t.Fatalf("deployment %d not found", id)
	return github.Deployment{}
}

// TestRotateBadInput: everything that is wrong before anything is tried.
func TestRotateBadInput(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*rotate.Request)
		want   string
	}{
		{"no reason", func(r *rotate.Request) { r.Reason = " " }, "reason is required"},
		{"no secrets block", func(r *rotate.Request) { r.Environment.Secrets = nil }, "names no secret to rotate"},
		{"password asked of a token gateway", func(r *rotate.Request) { r.Kind = rotate.KindPassword }, "runs in token mode"},
		{"bootstrap without a secret name", func(r *rotate.Request) { r.BootstrapSecret = true }, "no secrets.bootstrap"},
		{"no current credential", func(r *rotate.Request) { r.OldCredential = "" }, "AGENTME_PRODUCTION_GATEWAY_TOKEN"},
		{"unknown kind", func(r *rotate.Request) { r.Kind = "key" }, "not token or password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, false)
			sandbox.RotateWorld(w.World, false)
			out := &output{}
			req := w.request(out, tt.mutate)
			_, err := rotate.Run(context.Background(), w.gh, req)
			require.Error(t, err)
			assert.True(t, errors.Is(err, outcome.ErrBadInput), err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Empty(t, out.masked, "nothing generated")
			assert.Zero(t, w.GitHub.SecretWrites())
		})
	}
}

func TestRotateNothingDeployed(t *testing.T) {
	w := newWorld(t, false)
	w.GitHub.LoadAgentMe(sandbox.Candidate)
	w.Config.Environments[1].Secrets = &config.Secrets{Token: sandbox.ProductionTokenSecret}
	out := &output{}
	rep, err := rotate.Run(context.Background(), w.gh, w.request(out, nil))
	require.NoError(t, err)
	assert.Equal(t, "fail", string(rep.Verdict))
	assert.False(t, rep.Changed)
	assert.Contains(t, rep.Problem, "nothing was changed: no deployment of production")
	assert.Empty(t, out.masked)
}

func TestGenerate(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		v, err := rotate.Generate()
		require.NoError(t, err)
		assert.Len(t, v, 43)
		assert.NotContains(t, v, "=")
		assert.Equal(t, -1, strings.IndexFunc(v, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_')
		}), v)
		assert.False(t, seen[v])
		seen[v] = true
	}
}

func httpRequest(u, cred string) (*http.Request, error) {
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(`{"tool":"sessions_list"}`))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+cred)
	req.Header.Set("Content-Type", "application/json")
	return req, nil
}

// TestRotateRunningCommit: the commit to redeploy is the one the environment runs, not
// the newest record's: a job's own environment record of a branch, a failed deploy and a
// rolled-back release are passed over.
func TestRotateRunningCommit(t *testing.T) {
	w := newWorld(t, false)
	sandbox.RotateWorld(w.World, false)
	w.clk.Advance(time.Minute)
	// The rotation workflow's own job (environment: production) on main.
	w.GitHub.AddCommit(sandbox.Newer, "main")
	w.GitHub.AddDeployment("production", sandbox.Newer, "main", true, "in_progress", "success")
	// A release candidate whose deploy failed.
	w.GitHub.AddAnnotatedTag("v"+sandbox.Version+"-rc.1", sandbox.Candidate, "rc")
	w.GitHub.AddDeployment("production", sandbox.Candidate, "v"+sandbox.Version+"-rc.1", true, "in_progress", "failure")
	out := &output{}
	rep, err := rotate.Run(context.Background(), w.gh, w.request(out, nil))
	require.NoError(t, err)
	assert.Equal(t, "pass", string(rep.Verdict), rep.Problem)
	assert.Equal(t, rotate.Running{SHA: sandbox.Previous, Tag: sandbox.PreviousTag, DeploymentID: rep.Running.DeploymentID}, rep.Running)

	// A second rotation finds the first one's record (release-action's own) and runs again.
	old, _ := w.GitHub.Secret(ghemu.RepoScope, sandbox.ProductionTokenSecret)
	req := w.request(out, nil)
	req.OldCredential = old
	rep2, err := rotate.Run(context.Background(), w.gh, req)
	require.NoError(t, err)
	assert.Equal(t, "pass", string(rep2.Verdict), rep2.Problem)
	assert.Equal(t, rep.Deploy.DeploymentID, rep2.Running.DeploymentID)
	now, _ := w.GitHub.Secret(ghemu.RepoScope, sandbox.ProductionTokenSecret)
	assert.NotEqual(t, old, now)
}

// TestRotateSecretsAPIFailures: where the secrets API fails decides what changed.
func TestRotateSecretsAPIFailures(t *testing.T) {
	const repoSecrets = "/repos/agentme/agentme/actions/secrets/"
	tests := []struct {
		name      string
		envScope  bool
		bootstrap bool
		fault     ghemu.Fault
		badInput  bool
		err       string // Run's error; "" means a report
		problem   string
	}{
		{name: "no such GitHub environment", envScope: true,
			fault:    ghemu.Fault{PathPrefix: "/repos/agentme/agentme/environments/production/secrets/public-key", Status: 404},
			badInput: true, err: "GitHub has no environment production"},
		{name: "public key unavailable", fault: ghemu.Fault{PathPrefix: repoSecrets + "public-key", Status: 500},
			err: "nothing was changed"},
		{name: "the first write is refused", fault: ghemu.Fault{PathPrefix: repoSecrets + sandbox.ProductionTokenSecret, Method: "PUT", Status: 422},
			err: "nothing was changed"},
		{name: "the first write gets no clear answer", fault: ghemu.Fault{PathPrefix: repoSecrets + sandbox.ProductionTokenSecret, Method: "PUT", Status: 502},
			err: "may or may not hold a new value"},
		{name: "the bootstrap write fails after the token's", bootstrap: true,
			fault:   ghemu.Fault{PathPrefix: repoSecrets + sandbox.ProductionBootSecret, Method: "PUT", Status: 500},
			problem: "secret " + sandbox.ProductionTokenSecret + " was written but " + sandbox.ProductionBootSecret + " was not"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, false)
			sandbox.RotateWorld(w.World, tt.bootstrap)
			if tt.envScope {
				w.Config.Environments[1].Secrets.Scope = config.SecretScopeEnvironment
			}
			w.GitHub.Inject(tt.fault)
			out := &output{}
			rep, err := rotate.Run(context.Background(), w.gh, w.request(out, func(r *rotate.Request) {
				r.Environment = w.Config.Environments[1]
				r.BootstrapSecret = tt.bootstrap
			}))
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				assert.Equal(t, tt.badInput, errors.Is(err, outcome.ErrBadInput), err)
				assert.Zero(t, w.GitHub.SecretWrites())
				for _, m := range out.masked {
					assert.NotContains(t, err.Error(), m)
				}
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "fail", string(rep.Verdict))
			assert.True(t, rep.Changed)
			assert.Equal(t, rotate.StageWrite, rep.Stage)
			assert.Contains(t, rep.Problem, tt.problem)
			assert.Nil(t, rep.Deploy, "no restart with half the secrets written")
			assert.Equal(t, 1, w.GitHub.SecretWrites())
		})
	}
}
