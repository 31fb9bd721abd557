package models

import (
	"context"
	"time"
)

// Session is a signed-in browser session. Only a hash of its id is stored.
type Session struct {
	IDHash    string `gorm:"primaryKey"`
	UserID    int64
	CSRFToken string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// CreateSession stores a session.
func (db *DB) CreateSession(ctx context.Context, s *Session) error {
	return db.write(ctx).Create(s).Error
}

// GetSession finds a live session by the hash of its id.
func (db *DB) GetSession(ctx context.Context, idHash string, now time.Time) (*Session, error) {
	var s Session
	if err := db.read(ctx).Where("id_hash = ? AND expires_at > ?", idHash, now).Take(&s).Error; err != nil {
		return nil, notFound(err)
	}
	return &s, nil
}

// DeleteSession ends a session.
func (db *DB) DeleteSession(ctx context.Context, idHash string) error {
	return db.write(ctx).Where("id_hash = ?", idHash).Delete(&Session{}).Error
}

// DeleteUserSessions ends every session of a user (after a password change).
func (db *DB) DeleteUserSessions(ctx context.Context, userID int64, except string) error {
	return db.write(ctx).Where("user_id = ? AND id_hash <> ?", userID, except).Delete(&Session{}).Error
}

// DeleteExpiredSessions removes sessions that ended before now.
func (db *DB) DeleteExpiredSessions(ctx context.Context, now time.Time) error {
	return db.write(ctx).Where("expires_at <= ?", now).Delete(&Session{}).Error
}
