// Package environment is the environment service: everything release-action does to a
// configured environment (deploy through the release pipeline, smoke, monitor, roll back)
// behind one value and request structs. Commands (release, rollback, monitor, and the
// coming rotate, incident and stop-the-rollout) parse their inputs, build one Service and
// call its methods; they neither wire pipelines nor read secrets themselves.
//
// Adding an operation: a request struct (named fields, zero values meaning "the
// configured default"), a method on *Service that reads its dependencies from s, and
// errors classified with Classify so the CLI's one exit-code mapper sees bad input
// (outcome.ErrBadInput) apart from GitHub failures.
package environment

import (
	"net/http"
	"sync"
	"time"

	"github.com/agentme/release-action/internal/clock"
	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/github"
	"github.com/agentme/release-action/internal/outcome"
	"github.com/agentme/release-action/internal/redact"
)

// Options are the dependencies of a Service. New fills every one left zero with a
// harmless default (the built-in configuration, the wall clock, no secrets, no output).
type Options struct {
	Config *config.Config
	// GitHub is the client for the repository; nil for commands that do not need it (a
	// monitor without auto-rollback). Methods that need it return bad input without it.
	GitHub *github.Client
	// Repo and ServerURL link commits and tags in rendered summaries; RunURL is this
	// workflow run ("" outside Actions), recorded in deployments and incident notes.
	Repo      github.Repo
	ServerURL string
	RunURL    string
	Clock     clock.Clock
	// HTTPClient reaches gateways and Prometheus (default: a fresh client, TLS verified).
	HTTPClient *http.Client
	// Progress prints one progress line (nil: none).
	Progress func(string)
	// Group opens a runner group and returns the func that ends it (nil: no groups).
	Group func(title string) func()
	// Warn raises a warning annotation with a title (nil: none).
	Warn func(msg, title string)
	// Secrets reads the credentials the configuration names.
	Secrets *Secrets
	// Redactor is the process's one redactor (the runner's): smoke probes and Prometheus
	// queries clean what they report with it (nil: a private one, for tests).
	Redactor *redact.Redactor
	// PollInterval is how often a deploy run is checked (0: deploy's default).
	PollInterval time.Duration
	// ChannelTimeout bounds the channel probe's wait for a reply (0: smoke's default).
	ChannelTimeout time.Duration
}

// Service performs operations on the configured environments.
type Service struct {
	o Options
}

// New returns a Service. It fills the optional dependencies with harmless defaults.
func New(o Options) *Service {
	if o.Config == nil {
		o.Config = config.Default()
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{}
	}
	if o.Progress == nil {
		o.Progress = func(string) {}
	}
	if o.Group == nil {
		o.Group = func(string) func() { return func() {} }
	}
	if o.Warn == nil {
		o.Warn = func(string, string) {}
	}
	if o.Redactor == nil {
		o.Redactor = redact.New()
	}
	if o.Secrets == nil {
		o.Secrets = NewSecrets(nil, nil)
	}
	return &Service{o: o}
}

// Config is the configuration the service acts on.
func (s *Service) Config() *config.Config { return s.o.Config }

// GitHub is the service's GitHub client (nil when it has none).
func (s *Service) GitHub() *github.Client { return s.o.GitHub }

// Secret returns the value of an environment variable the configuration names (token-env,
// password-env, ...), masked from then on; "" when it is unset.
func (s *Service) Secret(name string) string { return s.o.Secrets.Get(name) }

// progressFor prefixes progress lines with the environment's name.
func (s *Service) progressFor(env string) func(string) {
	return func(msg string) { s.o.Progress(env + ": " + msg) }
}

// Find returns the configured environment with the name (bad input when there is none).
func (s *Service) Find(name string) (config.Environment, error) {
	return Find(s.o.Config, name)
}

// Secrets reads the environment variables the configuration names (token-env,
// password-env, monitor.prometheus.token-env) and registers every non-empty value with
// the runner's masking the first time it is read: secrets enter the process here, and
// nowhere else is a configured credential read.
type Secrets struct {
	lookup  func(string) string
	protect func(string)
	mu      sync.Mutex
	seen    map[string]bool
}

// NewSecrets reads variables with lookup (nil: none are set) and masks each value with
// protect (nil: no masking, for tests).
func NewSecrets(lookup func(string) string, protect func(string)) *Secrets {
	if lookup == nil {
		lookup = func(string) string { return "" }
	}
	if protect == nil {
		protect = func(string) {}
	}
	return &Secrets{lookup: lookup, protect: protect, seen: map[string]bool{}}
}

// Get returns the variable's value ("" when unset), masked from then on.
func (s *Secrets) Get(name string) string {
	if name == "" {
		return ""
	}
	v := s.lookup(name)
	if v == "" {
		return ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.seen[v] {
		s.seen[v] = true
		s.protect(v)
	}
	return v
}

// Find returns the configured environment with the name (bad input when there is none).
func Find(cfg *config.Config, name string) (config.Environment, error) {
	var names []string
	for _, e := range cfg.Environments {
		if e.Name == name {
			return e, nil
		}
		names = append(names, e.Name)
	}
	if len(names) == 0 {
		return config.Environment{}, outcome.BadInputf("environment %q is not configured: the configuration has no environments; add them under environments: in %s", name, cfg.Source)
	}
	return config.Environment{}, outcome.BadInputf("environment %q is not configured; configured: %v", name, names)
}

// Location is the zone people read an environment's times in: its window's.
func Location(env config.Environment) *time.Location {
	if env.Window != nil {
		if loc, err := time.LoadLocation(env.Window.Timezone); err == nil {
			return loc
		}
	}
	return time.UTC
}
