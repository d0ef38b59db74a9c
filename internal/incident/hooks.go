package incident

import (
	"context"
	"time"
)

// Rotator runs the rotate command (runbook section 4: token or password mode, and the
// bootstrap secret) on an environment and returns its proof. The CLI builds it from the
// rotate package (branch i10-rotate); until that is merged it passes nil and item 3 stays
// pending with a note saying how to finish it. An error or a proof without Done leaves the
// item pending and makes the run fail.
type Rotator func(ctx context.Context, environment string) (*RotationProof, error)

// RotationProof is what the rotate command established.
type RotationProof struct {
	// Done: the new credential works and the old one is refused, as rotate proved.
	Done bool `json:"done"`
	// ProvenAt is when the proof was made (it can end the impact window).
	ProvenAt time.Time `json:"proven_at,omitzero"`
	// Summary says what was rotated ("gateway token and bootstrap secret").
	Summary string `json:"summary,omitempty"`
	// Facts are the checks that prove it ("old token refused at 12:03:10 UTC").
	Facts  []string `json:"facts,omitempty"`
	RunURL string   `json:"run_url,omitempty"`
	// Failure says why it was not done.
	Failure string `json:"failure,omitempty"`
}

// Announcer posts an announcement through the rollback's webhooks. The CLI builds it from
// the announce package (branch i9-stop); until that is merged it passes nil and the
// result says the incident was not announced.
type Announcer func(ctx context.Context, a Announcement) error

// Announcement is one incident event for people watching a channel.
type Announcement struct {
	Event       string `json:"event"` // incident-opened, incident-updated, incident-closed
	Title       string `json:"title"`
	Text        string `json:"text"`
	URL         string `json:"url"`
	Environment string `json:"environment"`
	Severity    string `json:"severity"`
}
