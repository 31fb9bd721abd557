package models

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// Tag is a name in a repository pointing to one manifest.
type Tag struct {
	ID           int64
	RepositoryID int64
	Name         string
	ManifestID   int64
	Pusher       string
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// DeleteTag removes a tag; it reports whether the tag existed.
func (db *DB) DeleteTag(ctx context.Context, name, tag string) (bool, error) {
	var found bool
	err := db.tx(ctx, func(tx *gorm.DB) error {
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
		return touchRepository(tx, t.RepositoryID)
	})
	if err == ErrNotFound {
		return false, nil
	}
	return found, err
}

// ListTags lists the tag names of repository name after last in lexical
// order, at most n of them.
func (db *DB) ListTags(ctx context.Context, name, last string, n int) ([]string, error) {
	var tags []string
	err := db.read(ctx).Table("tags t").Joins("JOIN repositories r ON r.id = t.repository_id").
		Where("r.name = ? AND t.name > ?", name, last).Order("t.name").Limit(n).Pluck("t.name", &tags).Error
	return tags, err
}
