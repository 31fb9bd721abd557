package models

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// WatchStore keeps who watches which repository.
type WatchStore struct{ *conn }

// Set makes userID watch repository repoID, or stop; either twice changes
// nothing. A missing user or repository is ErrNotFound.
func (s *WatchStore) Set(ctx context.Context, userID, repoID int64, on bool) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		if !on {
			return tx.Exec("DELETE FROM watches WHERE user_id = ? AND repository_id = ?", userID, repoID).Error
		}
		err := tx.Exec("INSERT INTO watches (user_id, repository_id, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
			userID, repoID, time.Now().UTC()).Error
		if err != nil && isForeignKeyViolation(err) {
			return ErrNotFound
		}
		return err
	})
}

// Watching reports whether userID watches repository repoID.
func (s *WatchStore) Watching(ctx context.Context, userID, repoID int64) (bool, error) {
	var n int64
	err := s.read(ctx).Table("watches").Where("user_id = ? AND repository_id = ?", userID, repoID).Count(&n).Error
	return n > 0, err
}

// Watchers lists the enabled accounts with a verified address that watch
// the repository named, at most limit.
func (s *WatchStore) Watchers(ctx context.Context, repository string, limit int) ([]User, error) {
	var out []User
	err := s.read(ctx).Table("users u").Select("u.*").Joins("JOIN watches w ON w.user_id = u.id").
		Joins("JOIN repositories r ON r.id = w.repository_id").
		Where("r.name = ? AND NOT u.disabled AND u.email_verified AND u.email <> ''", repository).
		Order("u.id").Limit(limit).Scan(&out).Error
	return out, err
}
