package models

import (
	"context"

	"gorm.io/gorm/clause"
)

// ReadmeStore keeps repositories' READMEs rendered to HTML.
type ReadmeStore struct{ *conn }

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

// Get returns the stored HTML of a repository's README;
// ErrNotFound if none was stored.
func (s *ReadmeStore) Get(ctx context.Context, repoID int64) (*ReadmeHTML, error) {
	var h ReadmeHTML
	if err := s.read(ctx).Where("repository_id = ?", repoID).Take(&h).Error; err != nil {
		return nil, notFound(err)
	}
	return &h, nil
}

// Save stores a README's HTML, replacing what was stored. A
// repository deleted meanwhile is ErrNotFound.
func (s *ReadmeStore) Save(ctx context.Context, h *ReadmeHTML) error {
	err := s.write(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "repository_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"source_sha256", "html", "version"}),
	}).Create(h).Error
	if err != nil && isForeignKeyViolation(err) {
		return ErrNotFound
	}
	return err
}
