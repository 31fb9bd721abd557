package models

import (
	"context"

	"gorm.io/gorm/clause"
)

// ReadmeHTML is a repository's README rendered to sanitized HTML by a
// version of the Markdown renderer. SourceSHA256 is the hex SHA-256 of
// the README it was rendered from: HTML whose source differs from the
// README is stale, whoever wrote either.
type ReadmeHTML struct {
	RepositoryID int64  `gorm:"primaryKey;autoIncrement:false"`
	SourceSHA256 string `gorm:"column:source_sha256"`
	HTML         string `gorm:"column:html"`
	Version      int
}

// TableName is readme_html (migration 12).
func (ReadmeHTML) TableName() string { return "readme_html" }

// GetReadmeHTML returns the stored HTML of a repository's README;
// ErrNotFound if none was stored.
func (db *DB) GetReadmeHTML(ctx context.Context, repoID int64) (*ReadmeHTML, error) {
	var h ReadmeHTML
	if err := db.read(ctx).Where("repository_id = ?", repoID).Take(&h).Error; err != nil {
		return nil, notFound(err)
	}
	return &h, nil
}

// SaveReadmeHTML stores a README's HTML, replacing what was stored. A
// repository deleted meanwhile is ErrNotFound.
func (db *DB) SaveReadmeHTML(ctx context.Context, h *ReadmeHTML) error {
	err := db.write(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "repository_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"source_sha256", "html", "version"}),
	}).Create(h).Error
	if err != nil && isForeignKeyViolation(err) {
		return ErrNotFound
	}
	return err
}
