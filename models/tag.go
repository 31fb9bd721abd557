package models

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// TagStore lists and deletes tags. A push sets tags with its manifest
// (ManifestStore.Put); a delete writes its webhook events in the same
// transaction.
type TagStore struct{ *conn }

// Tag is a name in a repository pointing to one manifest.
type Tag struct {
	ID           int64
	RepositoryID int64
	Name         string
	ManifestID   int64
	Pusher       string
	CreatedAt    time.Time
	UpdatedAt    time.Time
	// CheckedAt, for a mirrored tag, is when the upstream last confirmed
	// it (nil for a pushed one).
	CheckedAt *time.Time
}

// Delete removes a tag; it reports whether the tag existed. Actor (may
// be "") is who deleted it, on the delete event.
func (s *TagStore) Delete(ctx context.Context, name, tag, actor string) (bool, error) {
	var found bool
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var t Tag
		err := tx.Raw(`SELECT t.id, t.repository_id FROM tags t JOIN repositories r ON r.id = t.repository_id
			WHERE r.name = ? AND t.name = ?`, name, tag).Take(&t).Error
		if err != nil {
			return notFound(err)
		}
		found = true
		if err := tx.Exec("DELETE FROM tags WHERE id = ?", t.ID).Error; err != nil {
			return err
		}
		if err := enqueue(tx, t.RepositoryID, outboxEvent{Event: "delete", Action: "tag_deleted", Repository: name, Tag: tag, Actor: actor}, false); err != nil {
			return err
		}
		return touchRepository(tx, t.RepositoryID)
	})
	if err == ErrNotFound {
		return false, nil
	}
	return found, err
}

// List lists the tag names of repository name after last in lexical
// order, at most n of them.
func (s *TagStore) List(ctx context.Context, name, last string, n int) ([]string, error) {
	var tags []string
	err := s.read(ctx).Table("tags t").Joins("JOIN repositories r ON r.id = t.repository_id").
		Where("r.name = ? AND t.name > ?", name, last).Order("t.name").Limit(n).Pluck("t.name", &tags).Error
	return tags, err
}

// TagDetail is a tag with what the hub shows about its manifest.
type TagDetail struct {
	Name        string
	Digest      string
	MediaType   string
	ContentSize int64
	Platforms   string
	Pusher      string
	UpdatedAt   time.Time
}

// Details lists a repository's tags, newest push first.
func (s *TagStore) Details(ctx context.Context, repoID int64, limit, offset int) ([]TagDetail, error) {
	var out []TagDetail
	err := s.read(ctx).Table("tags t").
		Select("t.name, m.digest, m.media_type, m.content_size, m.platforms, t.pusher, t.updated_at").
		Joins("JOIN manifests m ON m.id = t.manifest_id").
		Where("t.repository_id = ?", repoID).Order("t.updated_at DESC, t.name").
		Limit(limit).Offset(offset).Scan(&out).Error
	return out, err
}
