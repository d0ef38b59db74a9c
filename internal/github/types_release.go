package github

import (
	"encoding/json"
	"time"
)

// Tag is a git tag resolved to the commit it names.
type Tag struct {
	Name string
	// SHA is the commit the tag names (dereferenced through an annotated tag object).
	SHA string
	// ObjectSHA is what refs/tags/<name> points at: the tag object for annotated tags,
	// the commit for lightweight ones.
	ObjectSHA string
	Annotated bool
	Message   string
}

// Person is a tagger or author.
type Person struct {
	Name  string
	Email string
	Date  time.Time
}

// Release is a GitHub release.
type Release struct {
	ID         int64
	TagName    string
	Name       string
	Body       string
	Draft      bool
	Prerelease bool
	HTMLURL    string
}

// ReleaseRequest creates a GitHub release for an existing tag.
type ReleaseRequest struct {
	TagName string
	// Target is the commit SHA the release names (never a branch: a branch moves).
	Target        string
	Name          string
	Body          string
	Prerelease    bool
	GenerateNotes bool
	// MakeLatest is "true", "false" or "legacy" ("" leaves GitHub's default).
	MakeLatest string
}

// DeploymentRequest creates a Deployment. The client always sends required_contexts: []
// (the gate already decided; GitHub would otherwise answer 409 while unrelated checks are
// pending) and auto_merge: false (a deployment never merges anything).
type DeploymentRequest struct {
	Ref                   string
	Environment           string
	Description           string
	Task                  string // default "deploy"
	Payload               json.RawMessage
	ProductionEnvironment *bool
	TransientEnvironment  bool
}

// Deployment is a Deployment record.
type Deployment struct {
	ID          int64
	SHA         string
	Ref         string
	Environment string
	Task        string
	Description string
	Payload     json.RawMessage
	Creator     string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	URL         string
}

// DeploymentFilter narrows ListDeployments. Zero fields are not sent.
type DeploymentFilter struct {
	Environment string
	SHA         string
	Ref         string
	Task        string
}

// DeploymentStatus is one status of a Deployment.
type DeploymentStatus struct {
	ID             int64
	State          string // error, failure, inactive, in_progress, queued, pending, success
	Description    string
	LogURL         string
	EnvironmentURL string
	Creator        string
	CreatedAt      time.Time
}

// DeploymentStatusRequest adds a status. Description is cut to GitHub's 140 characters by
// the client. AutoInactive nil leaves GitHub's default (true).
type DeploymentStatusRequest struct {
	State          string
	Description    string
	LogURL         string
	EnvironmentURL string
	AutoInactive   *bool
}

// PendingDeployment is an environment a workflow run waits on for approval.
type PendingDeployment struct {
	Environment           string
	WaitTimer             int // minutes
	WaitTimerStartedAt    time.Time
	CurrentUserCanApprove bool
	// Reviewers are "@user" or "@org/team" names who can approve.
	Reviewers []string
}

// Issue is a created issue.
type Issue struct {
	Number  int
	HTMLURL string
}
