package webhook

import "encoding/json"

// Actions of a Payload. A push has no action, as on Docker Hub.
const (
	ActionTagDeleted        = "tag_deleted"
	ActionRepositoryDeleted = "repository_deleted"
)

// Payload is the body of a webhook delivery: Docker Hub's push payload, so
// that receivers written for Docker Hub accept it, plus Wharf's
// push_data.digest and, for deletions, an action.
type Payload struct {
	CallbackURL string     `json:"callback_url"`
	PushData    PushData   `json:"push_data"`
	Repository  Repository `json:"repository"`
	// Action is empty for a push, ActionTagDeleted or ActionRepositoryDeleted;
	// for a signature event the new status, for scan_completed the scan's.
	Action string `json:"action,omitempty"`
	// Scan is what the scan of push_data.digest found (scan_completed).
	Scan *ScanData `json:"scan,omitempty"`
}

// ScanData is a scan's outcome in a scan_completed delivery.
type ScanData struct {
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
	// Counts are findings by severity: critical, high, medium, low and
	// unknown.
	Counts  map[string]int `json:"counts"`
	Scanner string         `json:"scanner,omitempty"`
}

// PushData says what was pushed, when and by whom.
type PushData struct {
	PushedAt int64    `json:"pushed_at"` // unix seconds, as Docker Hub
	Images   []string `json:"images"`
	Pusher   string   `json:"pusher"`
	Tag      string   `json:"tag"`
	Digest   string   `json:"digest"` // the manifest digest the tag now points to
}

// MarshalJSON writes a nil Images as [] rather than null, as Docker Hub does.
func (p PushData) MarshalJSON() ([]byte, error) {
	type plain PushData
	if p.Images == nil {
		p.Images = []string{}
	}
	return json.Marshal(plain(p))
}

// Repository describes the repository, with Docker Hub's field names.
type Repository struct {
	CommentCount    int    `json:"comment_count"`
	DateCreated     int64  `json:"date_created"` // unix seconds
	Description     string `json:"description"`
	Dockerfile      string `json:"dockerfile"`
	FullDescription string `json:"full_description"`
	IsOfficial      bool   `json:"is_official"`
	IsPrivate       bool   `json:"is_private"`
	IsTrusted       bool   `json:"is_trusted"`
	Name            string `json:"name"`
	Namespace       string `json:"namespace"`
	Owner           string `json:"owner"`
	RepoName        string `json:"repo_name"` // namespace/name
	RepoURL         string `json:"repo_url"`
	StarCount       int    `json:"star_count"`
	Status          string `json:"status"`
}
