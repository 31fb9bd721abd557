package hub

import (
	"context"
	"encoding/json"
	"time"

	"github.com/wharfhub/wharf/server/auth"
	"github.com/wharfhub/wharf/server/content"
)

// Tag is a tag as the hub shows it.
type Tag struct {
	Name      string             `json:"name"`
	Digest    string             `json:"digest"`
	MediaType string             `json:"media_type"`
	Size      int64              `json:"size"`
	Platforms []content.Platform `json:"platforms"`
	PushedAt  time.Time          `json:"pushed_at"`
	Pusher    string             `json:"pusher"`
}

// Tags lists a repository's tags, newest first, a page at a time.
func (s *Repos) Tags(ctx context.Context, id *auth.Identity, name string, limit, offset int) ([]Tag, error) {
	r, err := s.authorizeRepo(ctx, id, name, auth.ActionPull)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.Tags.Details(ctx, r.ID, limit, offset)
	if err != nil {
		return nil, err
	}
	out := make([]Tag, 0, len(rows))
	for _, row := range rows {
		t := Tag{Name: row.Name, Digest: row.Digest, MediaType: row.MediaType, Size: row.ContentSize,
			PushedAt: row.UpdatedAt, Pusher: row.Pusher, Platforms: []content.Platform{}}
		if row.Platforms != "" {
			_ = json.Unmarshal([]byte(row.Platforms), &t.Platforms)
		}
		out = append(out, t)
	}
	return out, nil
}
