package models

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// CommentStore keeps comments on repositories, with their rendered HTML.
type CommentStore struct{ *conn }

// Comment is a user's comment on a repository.
type Comment struct {
	ID           int64
	RepositoryID int64
	UserID       int64
	Body         string
	// BodyHTML is Body rendered to sanitized HTML by version
	// BodyHTMLVersion of the Markdown renderer; version 0 is none yet.
	BodyHTML        string
	BodyHTMLVersion int
	CreatedAt       time.Time
	UpdatedAt       time.Time
	// Username is the author's name, read with the comment.
	Username string `gorm:"->;-:migration"`
}

const commentColumns = "c.id, c.repository_id, c.user_id, c.body, c.body_html, c.body_html_version, c.created_at, c.updated_at, u.username"

// Count counts a repository's comments.
func (s *CommentStore) Count(ctx context.Context, repoID int64) (int64, error) {
	var n int64
	err := s.read(ctx).Model(&Comment{}).Where("repository_id = ?", repoID).Count(&n).Error
	return n, err
}

// List lists a repository's comments with their authors' names,
// the oldest first.
func (s *CommentStore) List(ctx context.Context, repoID int64, limit, offset int) ([]Comment, error) {
	cs := []Comment{}
	err := s.read(ctx).Table("comments c").Select(commentColumns).Joins("JOIN users u ON u.id = c.user_id").
		Where("c.repository_id = ?", repoID).Order("c.id").Limit(limit).Offset(offset).Scan(&cs).Error
	return cs, err
}

// Get finds comment id of repository repoID; a comment of another
// repository is ErrNotFound.
func (s *CommentStore) Get(ctx context.Context, repoID, id int64) (*Comment, error) {
	var cs []Comment
	err := s.read(ctx).Table("comments c").Select(commentColumns).Joins("JOIN users u ON u.id = c.user_id").
		Where("c.id = ? AND c.repository_id = ?", id, repoID).Limit(1).Scan(&cs).Error
	if err != nil {
		return nil, err
	}
	if len(cs) == 0 {
		return nil, ErrNotFound
	}
	return &cs[0], nil
}

// Create stores a new comment, setting its id and times. A missing
// repository or user is ErrNotFound.
func (s *CommentStore) Create(ctx context.Context, c *Comment) error {
	// Microseconds: what every database keeps, so a read gives it back.
	now := time.Now().UTC().Truncate(time.Microsecond)
	c.CreatedAt, c.UpdatedAt = now, now
	err := s.change(ctx, func(tx *gorm.DB) *gorm.DB { return tx.Omit("Username").Create(c) }).Error
	if err != nil && isForeignKeyViolation(err) {
		return ErrNotFound
	}
	return err
}

// Update replaces the body of comment id of repository repoID,
// with its HTML and the version of the renderer that made it.
func (s *CommentStore) Update(ctx context.Context, repoID, id int64, body, html string, version int) error {
	res := s.change(ctx, func(tx *gorm.DB) *gorm.DB {
		return tx.Model(&Comment{}).Where("id = ? AND repository_id = ?", id, repoID).
			Updates(map[string]any{"body": body, "body_html": html, "body_html_version": version, "updated_at": time.Now().UTC()})
	})
	if res.Error == nil && res.RowsAffected == 0 {
		return ErrNotFound
	}
	return res.Error
}

// SetHTML stores html, rendered from body by renderer version, as
// comment id's HTML, unless the comment's body has changed since or a
// renderer as new has stored its HTML already. It reports whether it did.
func (s *CommentStore) SetHTML(ctx context.Context, id int64, body, html string, version int) (bool, error) {
	res := s.write(ctx).Model(&Comment{}).Where("id = ? AND body = ? AND body_html_version < ?", id, body, version).
		Updates(map[string]any{"body_html": html, "body_html_version": version})
	return res.RowsAffected > 0, res.Error
}

// Delete deletes comment id of repository repoID.
func (s *CommentStore) Delete(ctx context.Context, repoID, id int64) error {
	res := s.change(ctx, func(tx *gorm.DB) *gorm.DB {
		return tx.Where("id = ? AND repository_id = ?", id, repoID).Delete(&Comment{})
	})
	if res.Error == nil && res.RowsAffected == 0 {
		return ErrNotFound
	}
	return res.Error
}
