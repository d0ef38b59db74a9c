package incident

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/github"
)

// GateAPI is what the gate's requirement lookup needs.
type GateAPI interface {
	Viewer(ctx context.Context) (string, error)
	ListIssues(ctx context.Context, f github.IssueFilter) ([]github.IssueRecord, error)
}

// Requirement is one open incident's regression tests, as a tests gate.
type Requirement struct {
	Issue    int         `json:"issue"`
	IssueURL string      `json:"issue_url"`
	ID       string      `json:"id"`
	Gate     config.Gate `json:"gate"`
}

// GateName names the gate an incident adds, so the summary says which incident requires
// the tests.
func GateName(issue int, id string) string {
	return fmt.Sprintf("Incident #%d regression tests (%s)", issue, id)
}

// Requirements returns a tests gate for every open incident record the token's identity
// wrote that names regression tests: the tests must be proven run and passed where the
// configuration's targeted regression tests are (TestsGate). Closing the incident lifts
// it. Issues anyone else wrote, or without the marker, are ignored whatever they say.
//
// The identity is only asked for when an open issue carries the marker at all, so a
// repository without incidents pays one REST request (usually a 304 on re-polls).
func Requirements(ctx context.Context, api GateAPI, cfg *config.Config) ([]Requirement, error) {
	issues, err := api.ListIssues(ctx, github.IssueFilter{State: "open"})
	if errors.Is(err, github.ErrGone) {
		return nil, nil // issues are disabled in the repository (410): there can be no record
	}
	if err != nil {
		return nil, fmt.Errorf("read the open incident records (the gate requires their regression tests; grant the job issues: read): %w", err)
	}
	var marked []github.IssueRecord
	for _, is := range issues {
		if strings.Contains(is.Body, markerPrefix) {
			marked = append(marked, is)
		}
	}
	if len(marked) == 0 {
		return nil, nil
	}
	me, err := identity(ctx, api, nil)
	if err != nil {
		return nil, fmt.Errorf("identify the token to recognise release-action's incident records: %w", err)
	}
	tg := TestsGate(cfg)
	var out []Requirement
	for _, is := range marked {
		rec, ok := Trusted(is, me)
		if !ok || len(rec.RegressionTests) == 0 {
			continue
		}
		g := tg
		g.Files = slices.Clone(rec.RegressionTests)
		g.JUnitArtifact = tg.JUnitArtifact
		out = append(out, Requirement{Issue: is.Number, IssueURL: is.HTMLURL, ID: rec.ID,
			Gate: config.Gate{Name: GateName(is.Number, rec.ID), Tests: &g}})
	}
	slices.SortFunc(out, func(a, b Requirement) int { return a.Issue - b.Issue })
	return out, nil
}
