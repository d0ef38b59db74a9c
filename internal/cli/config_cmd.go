package cli

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/outcome"
)

func configCommand() *command {
	return &command{
		name:    "config",
		summary: "validate the configuration file and print the effective configuration",
		inputs:  []input{inConfig},
		run: func(_ context.Context, a *app) error {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			if a.jsonOutput() {
				// source is "" for the built-in defaults, the file's path otherwise; config
				// has the file's keys, in the order config prints them.
				rep := struct {
					Command string          `json:"command"`
					Version string          `json:"version"`
					Source  string          `json:"source"`
					Config  json.RawMessage `json:"config"`
				}{"config", Version(), cfg.Source, json.RawMessage(cfg.JSON())}
				return a.printJSON(rep)
			}
			src := cfg.Source
			if src == "" {
				src = "built-in Agent Me defaults (" + a.in.str("config") + " does not exist)"
			}
			// The file is untrusted (on a pull request its author wrote it): Raw keeps any
			// workflow-command syntax in names or patterns from being executed.
			a.runner.Raw("# effective configuration from " + src + "\n" + cfg.YAML())
			return nil
		},
	}
}

// loadConfig loads the `config` input's file; every problem is bad input.
func (a *app) loadConfig() (*config.Config, error) {
	cfg, err := config.Load(a.path(a.in.str("config")))
	if err != nil {
		return nil, outcome.BadInput(fmt.Errorf("configuration is invalid; fix these and run again (release-action config checks a file):\n%w", err))
	}
	return cfg, nil
}
