package models

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// EmailVerification is a link that verifies Email for an account; only
// the newest of an account works.
type EmailVerification struct {
	ID        int64
	UserID    int64
	Email     string
	TokenHash string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// StartVerification stores v in place of any verification its account
// had.
func (s *ResetStore) StartVerification(ctx context.Context, v *EmailVerification) error {
	v.ID = 0
	return s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("user_id = ?", v.UserID).Delete(&EmailVerification{}).Error; err != nil {
			return err
		}
		// The account's own address, verified anew, is unverified until
		// then (a sign-up's); another address waits beside it.
		if err := tx.Exec("UPDATE users SET email_verified = false WHERE id = ? AND email = ?", v.UserID, v.Email).Error; err != nil {
			return err
		}
		return tx.Create(v).Error
	})
}

// Verify spends the verification with this hash, if it works at now: the
// account's address becomes the one verified, verified (another account
// with it meanwhile is ErrEmailTaken). It returns the account.
func (s *ResetStore) Verify(ctx context.Context, hash string, now time.Time) (*User, error) {
	var u User
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var v EmailVerification
		if err := tx.Where("token_hash = ? AND expires_at > ?", hash, now.UTC()).Take(&v).Error; err != nil {
			return notFound(err)
		}
		res := tx.Where("id = ?", v.ID).Delete(&EmailVerification{})
		if res.Error != nil || res.RowsAffected == 0 {
			return notFound(res.Error)
		}
		if err := checkEmailFree(tx, v.Email, v.UserID); err != nil {
			return err
		}
		if err := tx.Model(&User{}).Where("id = ?", v.UserID).
			Updates(map[string]any{"email": v.Email, "email_verified": true, "updated_at": now.UTC()}).Error; err != nil {
			return err
		}
		return notFound(tx.Where("id = ?", v.UserID).Take(&u).Error)
	})
	if err != nil {
		return nil, err
	}
	return &u, nil
}

// PendingEmail is the address an account's live verification would
// give it ("" for none).
func (s *ResetStore) PendingEmail(ctx context.Context, userID int64, now time.Time) (string, error) {
	var out []string
	err := s.read(ctx).Model(&EmailVerification{}).Where("user_id = ? AND expires_at > ?", userID, now.UTC()).
		Limit(1).Pluck("email", &out).Error
	if err != nil || len(out) == 0 {
		return "", err
	}
	return out[0], nil
}
