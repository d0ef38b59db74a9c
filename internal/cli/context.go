package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/agentme/release-action/internal/github"
	"github.com/agentme/release-action/internal/outcome"
)

// ghContext is the workflow run's context, read once from the runner's GITHUB_*
// variables (or their CLI equivalents).
type ghContext struct {
	Repo       github.Repo
	APIURL     string
	GraphQLURL string
	ServerURL  string
	EventName  string
	EventPath  string
	SHA        string
	RunID      int64
	RunAttempt string
	Job        string
	RunnerName string
	Actor      string
}

func readGitHubContext(getenv func(string) string, repository string) (ghContext, error) {
	c := ghContext{
		APIURL:     strings.TrimRight(getenv("GITHUB_API_URL"), "/"),
		GraphQLURL: getenv("GITHUB_GRAPHQL_URL"),
		ServerURL:  strings.TrimRight(getenv("GITHUB_SERVER_URL"), "/"),
		EventName:  getenv("GITHUB_EVENT_NAME"),
		EventPath:  getenv("GITHUB_EVENT_PATH"),
		SHA:        getenv("GITHUB_SHA"),
		RunAttempt: getenv("GITHUB_RUN_ATTEMPT"),
		Job:        getenv("GITHUB_JOB"),
		RunnerName: getenv("RUNNER_NAME"),
		Actor:      getenv("GITHUB_ACTOR"),
	}
	if c.APIURL == "" {
		c.APIURL = "https://api.github.com"
	}
	if c.GraphQLURL == "" {
		// GHES serves GraphQL at /api/graphql beside /api/v3; github.com at /graphql.
		if base, ok := strings.CutSuffix(c.APIURL, "/api/v3"); ok {
			c.GraphQLURL = base + "/api/graphql"
		} else {
			c.GraphQLURL = c.APIURL + "/graphql"
		}
	}
	if c.ServerURL == "" {
		c.ServerURL = "https://github.com"
	}
	if id := getenv("GITHUB_RUN_ID"); id != "" {
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil {
			return c, outcome.BadInputf("GITHUB_RUN_ID %q is not a number", id)
		}
		c.RunID = n
	}
	owner, name, ok := strings.Cut(repository, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		if repository == "" {
			return c, outcome.BadInputf("no repository: set GITHUB_REPOSITORY or --repository to owner/name")
		}
		return c, outcome.BadInputf("repository %q is not owner/name", repository)
	}
	c.Repo = github.Repo{Owner: owner, Name: name}
	return c, nil
}

// runURL is the link to this workflow run, or "" outside Actions.
func (c ghContext) runURL() string {
	if c.RunID == 0 {
		return ""
	}
	return fmt.Sprintf("%s/%s/actions/runs/%d", c.ServerURL, c.Repo, c.RunID)
}

// isPullRequest reports whether the event is one whose GITHUB_SHA is a merge commit.
func (c ghContext) isPullRequest() bool {
	switch c.EventName {
	case "pull_request", "pull_request_target", "pull_request_review", "pull_request_review_comment":
		return true
	}
	return false
}

// prCommits reads the pull request's head and base commits from the event payload
// ("" for both when the event is not a pull request or the payload has none).
func (c ghContext) prCommits() (head, base string, err error) {
	if !c.isPullRequest() || c.EventPath == "" {
		return "", "", nil
	}
	data, err := os.ReadFile(c.EventPath)
	if err != nil {
		return "", "", fmt.Errorf("read event payload %s: %w", c.EventPath, err)
	}
	var ev struct {
		PullRequest struct {
			Head struct {
				SHA string `json:"sha"`
			} `json:"head"`
			Base struct {
				SHA string `json:"sha"`
			} `json:"base"`
		} `json:"pull_request"`
	}
	if err := json.Unmarshal(data, &ev); err != nil {
		return "", "", outcome.BadInputf("event payload %s is not valid JSON: %v", c.EventPath, err)
	}
	return ev.PullRequest.Head.SHA, ev.PullRequest.Base.SHA, nil
}

// prBaseSHA is the pull request's base commit, or "".
func (c ghContext) prBaseSHA() (string, error) {
	_, base, err := c.prCommits()
	return base, err
}

// candidateSHA picks the commit to evaluate: the explicit input, else the pull request's
// head (checks are reported there, not on the merge commit GITHUB_SHA names), else GITHUB_SHA.
func (c ghContext) candidateSHA(explicit string) (string, error) {
	if explicit != "" {
		return explicit, nil
	}
	head, _, err := c.prCommits()
	if err != nil {
		return "", err
	}
	if head != "" {
		return head, nil
	}
	if c.SHA != "" {
		return c.SHA, nil
	}
	return "", outcome.BadInputf("no candidate commit: set the sha input (--sha), or run in a workflow where GITHUB_SHA is set")
}
