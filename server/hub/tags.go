package hub

import (
	"context"
	"encoding/json"
	"time"

	"github.com/wharfhub/wharf/models"
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

// TagQuery picks and orders a page of tags: Filter (part of the name,
// any case), Sort ("pushed", newest first, the default; "name"; "size",
// biggest first), Limit and Offset.
type TagQuery = models.TagQuery

// Tags lists a repository's tags, newest first, a page at a time.
func (s *Repos) Tags(ctx context.Context, id *auth.Identity, name string, limit, offset int) ([]Tag, error) {
	tags, _, err := s.TagPage(ctx, id, name, TagQuery{Limit: limit, Offset: offset})
	return tags, err
}

// TagPage lists the page of a repository's tags that q picks, and how
// many tags q picks in all.
func (s *Repos) TagPage(ctx context.Context, id *auth.Identity, name string, q TagQuery) ([]Tag, int64, error) {
	if !models.ValidTagSort(q.Sort) {
		return nil, 0, invalid("tags sort by pushed, name or size, not %q", q.Sort)
	}
	if len(q.Filter) > 128 {
		return nil, 0, invalid("a tag filter is at most 128 characters")
	}
	r, err := s.authorizeRepo(ctx, id, name, auth.ActionPull)
	if err != nil {
		return nil, 0, err
	}
	total, err := s.db.Tags.Count(ctx, r.ID, q)
	if err != nil {
		return nil, 0, err
	}
	rows, err := s.db.Tags.Details(ctx, r.ID, q)
	if err != nil {
		return nil, 0, err
	}
	return tagsOf(rows), total, nil
}

// PullTag is the tag a pull command names: latest if there is one, else
// the newest push; nil for a repository with no tags.
func (s *Repos) PullTag(ctx context.Context, id *auth.Identity, name string) (*Tag, error) {
	r, err := s.authorizeRepo(ctx, id, name, auth.ActionPull)
	if err != nil {
		return nil, err
	}
	for _, q := range []TagQuery{{Name: "latest", Limit: 1}, {Limit: 1}} {
		rows, err := s.db.Tags.Details(ctx, r.ID, q)
		if err != nil {
			return nil, err
		}
		if len(rows) > 0 {
			return &tagsOf(rows)[0], nil
		}
	}
	return nil, nil
}

func tagsOf(rows []models.TagDetail) []Tag {
	out := make([]Tag, 0, len(rows))
	for _, row := range rows {
		t := Tag{Name: row.Name, Digest: row.Digest, MediaType: row.MediaType, Size: row.ContentSize,
			PushedAt: row.UpdatedAt, Pusher: row.Pusher, Platforms: []content.Platform{}}
		if row.Platforms != "" {
			_ = json.Unmarshal([]byte(row.Platforms), &t.Platforms)
		}
		out = append(out, t)
	}
	return out
}
