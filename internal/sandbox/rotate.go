package sandbox

import (
	"time"

	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/gatewayemu"
	"github.com/agentme/release-action/internal/ghemu"
)

// Secret names of the sandbox's rotation scenarios: what the (emulated) deploy workflow
// passes to each gateway.
const (
	StagingTokenSecret      = "AGENTME_STAGING_GATEWAY_TOKEN"
	ProductionTokenSecret   = "AGENTME_PRODUCTION_GATEWAY_TOKEN"
	ProductionBootSecret    = "AGENTME_PRODUCTION_BOOTSTRAP_SECRET"
	ProductionBootstrapSeed = "sandbox-production-bootstrap-secret"
)

// restartDelay is when, after the dispatch, the emulated deploy restarts the gateway:
// inside the deploy step, before the run completes (queue 5s + 55s).
const restartDelay = 50 * time.Second

// WireSecretsDeploy makes the emulated Deploy workflow behave like the deploy workflow
// the README shows: each environment's gateway reads its credential (and, when the
// environment names one, its AGENTME_BOOTSTRAP_SECRET) from the GitHub secrets its
// configuration names, and a successful deploy run restarts the gateway with the values
// those secrets hold when the run deploys. A failed run restarts nothing. A credential
// secret the emulator does not hold yet is loaded from w.Secrets (what the gateway runs
// with), when that has it.
func WireSecretsDeploy(w *World) {
	gateways := map[string]*gatewayemu.Server{"staging": w.Staging, "production": w.Production}
	envs := map[string]config.Environment{}
	for _, e := range w.Config.Environments {
		envs[e.Name] = e
		if e.Secrets == nil {
			continue
		}
		scope := secretScope(e)
		name, value := e.Secrets.Token+e.Secrets.Password, w.Secrets[e.TokenEnv+e.PasswordEnv]
		if _, ok := w.GitHub.Secret(scope, name); !ok && name != "" && value != "" {
			w.GitHub.SetSecret(scope, name, value)
		}
	}
	w.GitHub.OnDispatch(ghemu.WorkflowDeploy, func(d ghemu.Dispatch) []ghemu.JobSpec {
		env := d.Inputs["environment"]
		jobs := w.GitHub.DeployJobs(env)
		e, known := envs[env]
		g := gateways[env]
		if !known || g == nil || e.Secrets == nil || failed(jobs) {
			return jobs
		}
		scope := secretScope(e)
		g.At(d.At.Add(restartDelay), func(g *gatewayemu.Server) {
			cred, _ := w.GitHub.Secret(scope, e.Secrets.Token+e.Secrets.Password)
			var boot string
			if e.Secrets.Bootstrap != "" {
				boot, _ = w.GitHub.Secret(scope, e.Secrets.Bootstrap)
			}
			if err := g.RestartWith(gatewayemu.Credentials{Credential: cred, BootstrapSecret: boot}); err != nil {
				// An empty secret: the real gateway would not start either.
				g.SetHTTP5xx(502)
			}
		})
		return jobs
	})
}

func secretScope(e config.Environment) string {
	if e.Secrets.ScopeOrDefault() == config.SecretScopeEnvironment {
		return e.Name
	}
	return ghemu.RepoScope
}

func failed(jobs []ghemu.JobSpec) bool {
	for _, j := range jobs {
		if j.Conclusion == "failure" {
			return true
		}
		for _, s := range j.Steps {
			if s.Conclusion == "failure" {
				return true
			}
		}
	}
	return false
}

// RotateWorld is the Agent Me repository with production running PreviousTag and its
// token in the repository secret ProductionTokenSecret (staging's in
// StagingTokenSecret); bootstrap, when set, gives production a dedicated
// AGENTME_BOOTSTRAP_SECRET kept in ProductionBootSecret.
func RotateWorld(w *World, bootstrap bool) {
	AgentMeRepo(w.GitHub)
	// What the gateways run with now, as the deploy workflow passed it.
	w.GitHub.SetSecret(ghemu.RepoScope, StagingTokenSecret, StagingToken)
	w.GitHub.SetSecret(ghemu.RepoScope, ProductionTokenSecret, ProductionToken)
	w.Config.Environments[0].Secrets = &config.Secrets{Token: StagingTokenSecret, Scope: config.SecretScopeRepository}
	prod := &config.Secrets{Token: ProductionTokenSecret, Scope: config.SecretScopeRepository}
	if bootstrap {
		prod.Bootstrap = ProductionBootSecret
		w.GitHub.SetSecret(ghemu.RepoScope, ProductionBootSecret, ProductionBootstrapSeed)
		// The gateway was started with it: restart it so (it reads the secret at start).
		_ = w.Production.RestartWith(gatewayemu.Credentials{Credential: ProductionToken, BootstrapSecret: ProductionBootstrapSeed})
	}
	w.Config.Environments[1].Secrets = prod
	WireSecretsDeploy(w)
}

func rotateScenarios() []Scenario {
	return []Scenario{
		{
			Name:        "rotate",
			Description: "production's token is rotated: new secret written (sealed for the repository key), production redeployed on " + PreviousTag + " (task deploy:rotate), the new token works, the old token and a bootstrap link made with it are refused",
			Command:     "rotate", Want: "pass",
			SetupWorld: func(w *World) { RotateWorld(w, false) },
		},
		{
			Name:        "rotate-stale-bootstrap-secret",
			Description: "production has a dedicated AGENTME_BOOTSTRAP_SECRET that is not rotated: after the restart a bootstrap link made with the old token still exchanges (for the NEW token), so the rotation fails and says to rotate the bootstrap secret too",
			Command:     "rotate", Want: "fail",
			SetupWorld: func(w *World) { RotateWorld(w, true) },
		},
	}
}
