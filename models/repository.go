package models

import (
	"context"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Repository is a named collection of blobs, manifests and tags.
type Repository struct {
	ID        int64
	Name      string // full name, e.g. "library/nginx"
	Namespace string // first path component
	CreatedAt time.Time
	UpdatedAt time.Time
}

// GetRepository finds a repository by its full name.
func (db *DB) GetRepository(ctx context.Context, name string) (*Repository, error) {
	var r Repository
	err := db.read(ctx).Where("name = ?", name).Take(&r).Error
	if err != nil {
		return nil, notFound(err)
	}
	return &r, nil
}

// ensureRepository returns the id of repository name, creating it.
func ensureRepository(tx *gorm.DB, name string) (int64, error) {
	now := time.Now().UTC()
	ns, _, _ := strings.Cut(name, "/")
	r := Repository{Name: name, Namespace: ns, CreatedAt: now, UpdatedAt: now}
	if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&r).Error; err != nil {
		return 0, err
	}
	if r.ID != 0 {
		return r.ID, nil
	}
	if err := tx.Model(&Repository{}).Where("name = ?", name).Select("id").Take(&r.ID).Error; err != nil {
		return 0, err
	}
	return r.ID, nil
}

// touchRepository records that a repository changed.
func touchRepository(tx *gorm.DB, id int64) error {
	return tx.Model(&Repository{}).Where("id = ?", id).Update("updated_at", time.Now().UTC()).Error
}

// ListRepositories lists repository names after last in lexical order, at
// most n of them.
func (db *DB) ListRepositories(ctx context.Context, last string, n int) ([]string, error) {
	var names []string
	err := db.read(ctx).Model(&Repository{}).Where("name > ?", last).
		Order("name").Limit(n).Pluck("name", &names).Error
	return names, err
}
