package models

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// TokenStore keeps personal access tokens, stored as hashes of their
// secrets, with the scopes and repositories they are limited to.
type TokenStore struct{ *conn }

// AccessToken is a personal access token, stored as a hash.
type AccessToken struct {
	ID           int64
	UserID       int64
	Name         string
	TokenHash    string
	Scopes       string // space-separated
	Repositories string // space-separated; empty means all
	ExpiresAt    *time.Time
	LastUsedAt   *time.Time
	CreatedAt    time.Time
}

// Create stores a token.
func (s *TokenStore) Create(ctx context.Context, t *AccessToken) error {
	t.CreatedAt = time.Now().UTC()
	return s.change(ctx, func(tx *gorm.DB) *gorm.DB { return tx.Create(t) }).Error
}

// GetByHash finds a token by the hash of its secret.
func (s *TokenStore) GetByHash(ctx context.Context, hash string) (*AccessToken, error) {
	var t AccessToken
	if err := s.read(ctx).Where("token_hash = ?", hash).Take(&t).Error; err != nil {
		return nil, notFound(err)
	}
	return &t, nil
}

// List lists a user's tokens.
func (s *TokenStore) List(ctx context.Context, userID int64) ([]AccessToken, error) {
	var ts []AccessToken
	err := s.read(ctx).Where("user_id = ?", userID).Order("id").Find(&ts).Error
	return ts, err
}

// Delete revokes token id of userID; another user's token is
// ErrNotFound.
func (s *TokenStore) Delete(ctx context.Context, userID, id int64) error {
	res := s.change(ctx, func(tx *gorm.DB) *gorm.DB {
		return tx.Where("id = ? AND user_id = ?", id, userID).Delete(&AccessToken{})
	})
	if res.Error == nil && res.RowsAffected == 0 {
		return ErrNotFound
	}
	return res.Error
}

// DeleteAll revokes every token of userID and returns how many
// there were.
func (s *TokenStore) DeleteAll(ctx context.Context, userID int64) (int64, error) {
	res := s.change(ctx, func(tx *gorm.DB) *gorm.DB { return tx.Where("user_id = ?", userID).Delete(&AccessToken{}) })
	return res.RowsAffected, res.Error
}

// Touch records a token's use.
func (s *TokenStore) Touch(ctx context.Context, id int64, at time.Time) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		return tx.Model(&AccessToken{}).Where("id = ?", id).Update("last_used_at", at).Error
	})
}
