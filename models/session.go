package models

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// SessionStore keeps browser sessions (by the hash of their id) and the
// failed logins the login throttle shares between replicas (throttle.go).
type SessionStore struct{ *conn }

// Session is a signed-in browser session. Only a hash of its id is stored.
type Session struct {
	IDHash    string `gorm:"primaryKey"`
	UserID    int64
	CSRFToken string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Create stores a session.
func (s *SessionStore) Create(ctx context.Context, sess *Session) error {
	return s.change(ctx, func(tx *gorm.DB) *gorm.DB { return tx.Create(sess) }).Error
}

// Get finds a live session by the hash of its id.
func (s *SessionStore) Get(ctx context.Context, idHash string, now time.Time) (*Session, error) {
	var sess Session
	if err := s.read(ctx).Where("id_hash = ? AND expires_at > ?", idHash, now).Take(&sess).Error; err != nil {
		return nil, notFound(err)
	}
	return &sess, nil
}

// Delete ends a session.
func (s *SessionStore) Delete(ctx context.Context, idHash string) error {
	return s.change(ctx, func(tx *gorm.DB) *gorm.DB { return tx.Where("id_hash = ?", idHash).Delete(&Session{}) }).Error
}

// DeleteForUser ends every session of a user (after a password change).
func (s *SessionStore) DeleteForUser(ctx context.Context, userID int64, except string) error {
	return s.write(ctx).Where("user_id = ? AND id_hash <> ?", userID, except).Delete(&Session{}).Error
}

// DeleteExpired removes sessions that ended before now.
func (s *SessionStore) DeleteExpired(ctx context.Context, now time.Time) error {
	return s.write(ctx).Where("expires_at <= ?", now).Delete(&Session{}).Error
}
