package incident

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Severities of runbook 5.1.
const (
	SeverityActiveExploit  = "active-exploit"
	SeverityAttemptedAbuse = "attempted-abuse"
)

// Checklist item keys, in the runbook's order (section 5, steps 1-6).
const (
	ItemClassify  = "classify"
	ItemLogs      = "logs"
	ItemRotate    = "rotate"
	ItemEndpoints = "endpoints"
	ItemPatch     = "patch"
	ItemNotes     = "notes"
)

// Items lists the checklist keys in order.
var Items = []string{ItemClassify, ItemLogs, ItemRotate, ItemEndpoints, ItemPatch, ItemNotes}

// Item states.
const (
	StateDone    = "done"
	StateOpen    = "open"
	StatePending = "pending" // waiting on something the action cannot do itself (rotation)
)

// HighRiskEndpoints are the gateway paths runbook 5.4 disables. The gateway has no switch
// for them, so the checklist names them for the edge (proxy, WAF) to block.
var HighRiskEndpoints = []string{"/api/bootstrap/*", "/tools/invoke"}

// Record is an incident's state. It lives in the issue body inside the marker, so the
// issue is the one record: re-runs read it back, change it and write the body again.
type Record struct {
	V            int       `json:"v"`
	ID           string    `json:"id"`
	Environment  string    `json:"environment"`
	Severity     string    `json:"severity"`
	Summary      string    `json:"summary,omitempty"`
	ClassifiedBy string    `json:"classified_by"`
	ClassifiedAt time.Time `json:"classified_at"`
	// Since starts the impact window; SinceFrom says where it came from.
	Since           time.Time        `json:"since"`
	SinceFrom       string           `json:"since_from"`
	RegressionTests []string         `json:"regression_tests,omitempty"`
	Items           map[string]*Item `json:"items"`
	// Events are timeline entries people added with update.
	Events    []Entry         `json:"events,omitempty"`
	Rotation  *RotationProof  `json:"rotation,omitempty"`
	Rollbacks []RollbackFact  `json:"rollbacks,omitempty"`
	Evidence  *EvidenceDigest `json:"evidence,omitempty"`
	Closure   *Closure        `json:"closure,omitempty"`
	OpenedBy  string          `json:"opened_by"`
	OpenedAt  time.Time       `json:"opened_at"`
}

// Item is one checklist item: its state and the notes that changed it.
type Item struct {
	State string `json:"state"`
	Notes []Note `json:"notes,omitempty"`
}

// Note says who did what, when.
type Note struct {
	By   string    `json:"by"`
	At   time.Time `json:"at"`
	Text string    `json:"text"`
}

// RollbackFact is a rollback that fed this incident (rollback's open-issue).
type RollbackFact struct {
	Environment  string     `json:"environment"`
	FromSHA      string     `json:"from_sha,omitempty"`
	ToTag        string     `json:"to_tag,omitempty"`
	ToSHA        string     `json:"to_sha,omitempty"`
	DeploymentID int64      `json:"deployment_id,omitempty"`
	Validated    bool       `json:"validated"`
	ValidatedAt  *time.Time `json:"validated_at,omitempty"`
	Reason       string     `json:"reason,omitempty"`
	RunURL       string     `json:"run_url,omitempty"`
}

// EvidenceDigest is what the record keeps of the latest evidence collection: the issue
// lists every file with its sha256; the bundle itself is uploaded by the workflow.
type EvidenceDigest struct {
	CollectedAt time.Time `json:"collected_at"`
	CollectedBy string    `json:"collected_by"`
	RunURL      string    `json:"run_url,omitempty"`
	Dir         string    `json:"dir"`
	Files       []File    `json:"files"`
	Missing     []string  `json:"missing,omitempty"`
}

// File is one evidence file.
type File struct {
	Path   string `json:"path"` // relative to the bundle directory
	SHA256 string `json:"sha256"`
	Bytes  int64  `json:"bytes"`
}

// Closure is what close adds: runbook 5.6's notes and the computed impact window.
type Closure struct {
	By          string    `json:"by"`
	At          time.Time `json:"at"`
	RootCause   string    `json:"root_cause"`
	Mitigations string    `json:"mitigations"`
	FollowUps   string    `json:"follow_ups"`
	Impact      *Window   `json:"impact"`
}

// Window is the impact window: from Since to the verified mitigation.
type Window struct {
	Start     time.Time  `json:"start"`
	StartFrom string     `json:"start_from"`
	End       *time.Time `json:"end,omitempty"`
	EndFrom   string     `json:"end_from,omitempty"`
	// Seconds is End-Start; 0 while the window has no verified end.
	Seconds int64 `json:"seconds"`
	Open    bool  `json:"open"`
	// Mitigations are every verified mitigation read from the records, oldest first.
	Mitigations []Mitigation `json:"mitigations,omitempty"`
}

// Mitigation is a verified mitigation with the record that proves it.
type Mitigation struct {
	Kind string    `json:"kind"` // rollback, rotation
	At   time.Time `json:"at"`
	What string    `json:"what"`
	URL  string    `json:"url,omitempty"`
}

// markerPrefix starts the hidden marker. The record is base64url JSON so no text from
// people or GitHub can close the HTML comment or forge a second marker.
const markerPrefix = "<!-- release-action:incident v1 "

var markerRe = regexp.MustCompile(`(?m)^<!-- release-action:incident v1 ([A-Za-z0-9_-]+) -->$`)

// maxMarker bounds the marker we decode (GitHub's body limit is 65,536 characters).
const maxMarker = 65536

// Marker renders the record as the hidden marker line.
func Marker(r *Record) (string, error) {
	// The evidence files are listed in the body and re-collected by every run: the marker
	// keeps only the collection's facts, so it stays small.
	c := *r
	if r.Evidence != nil {
		ev := *r.Evidence
		ev.Files = nil
		c.Evidence = &ev
	}
	b, err := json.Marshal(&c)
	if err != nil {
		return "", fmt.Errorf("encode incident record %s: %w", r.ID, err)
	}
	return markerPrefix + base64.RawURLEncoding.EncodeToString(b) + " -->", nil
}

// ParseMarker reads the record from an issue body. ok is false when the body has no
// marker, more than one, or one that does not decode to a record with an id: such an
// issue is not an incident record.
func ParseMarker(body string) (*Record, bool) {
	if !strings.Contains(body, markerPrefix) {
		return nil, false
	}
	m := markerRe.FindAllStringSubmatch(body, 2)
	if len(m) != 1 || len(m[0][1]) > maxMarker {
		return nil, false
	}
	b, err := base64.RawURLEncoding.DecodeString(m[0][1])
	if err != nil {
		return nil, false
	}
	var r Record
	if json.Unmarshal(b, &r) != nil || r.V != 1 || r.ID == "" || r.Environment == "" {
		return nil, false
	}
	if r.Items == nil {
		r.Items = map[string]*Item{}
	}
	for _, k := range Items {
		if r.Items[k] == nil {
			r.Items[k] = &Item{State: StateOpen}
		}
	}
	return &r, true
}

// newRecord starts a record with every checklist item open.
func newRecord(id, env string) *Record {
	r := &Record{V: 1, ID: id, Environment: env, Items: map[string]*Item{}}
	for _, k := range Items {
		r.Items[k] = &Item{State: StateOpen}
	}
	return r
}
