package models

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// ResetStore keeps password reset links, by the hash of their secret.
type ResetStore struct{ *conn }

// PasswordReset is a live reset link of an account. A link is spent by
// deleting it: a row is a link that still works until ExpiresAt.
type PasswordReset struct {
	ID        int64
	UserID    int64
	TokenHash string
	// CreatedBy is who issued it: "" for the account itself (by e-mail),
	// a site admin's name, or the command that printed it.
	CreatedBy string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Create stores a new link of its account, in place of any it had: only
// the newest link works.
func (s *ResetStore) Create(ctx context.Context, r *PasswordReset) error {
	r.ID = 0
	return s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("user_id = ?", r.UserID).Delete(&PasswordReset{}).Error; err != nil {
			return err
		}
		if err := tx.Create(r).Error; err != nil {
			if isForeignKeyViolation(err) {
				return ErrNotFound
			}
			return err
		}
		return nil
	})
}

// Live finds the link with this hash that works at now, and its account.
func (s *ResetStore) Live(ctx context.Context, hash string, now time.Time) (*User, error) {
	var u User
	err := s.read(ctx).Table("users u").Select("u.*").Joins("JOIN password_resets r ON r.user_id = u.id").
		Where("r.token_hash = ? AND r.expires_at > ?", hash, now.UTC()).Take(&u).Error
	if err != nil {
		return nil, notFound(err)
	}
	return &u, nil
}

// Redeem spends the link with this hash, if it works at now: in one
// transaction, it sets the account's password hash, deletes the link
// (and any other of the account) and ends every session of the account.
// Of two redeeming one link at once, one wins; the other is ErrNotFound.
func (s *ResetStore) Redeem(ctx context.Context, hash string, now time.Time, passwordHash string) (*User, error) {
	var u User
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var r PasswordReset
		if err := tx.Where("token_hash = ? AND expires_at > ?", hash, now.UTC()).Take(&r).Error; err != nil {
			return notFound(err)
		}
		res := tx.Where("id = ?", r.ID).Delete(&PasswordReset{})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNotFound // spent meanwhile
		}
		for _, q := range []string{
			"DELETE FROM password_resets WHERE user_id = ?",
			"DELETE FROM sessions WHERE user_id = ?",
		} {
			if err := tx.Exec(q, r.UserID).Error; err != nil {
				return err
			}
		}
		if err := tx.Exec("UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?", passwordHash, now.UTC(), r.UserID).Error; err != nil {
			return err
		}
		return notFound(tx.Where("id = ?", r.UserID).Take(&u).Error)
	})
	if err != nil {
		return nil, err
	}
	return &u, nil
}

// DeleteExpired removes links that stopped working before now.
func (s *ResetStore) DeleteExpired(ctx context.Context, now time.Time) error {
	return s.write(ctx).Where("expires_at <= ?", now.UTC()).Delete(&PasswordReset{}).Error
}
