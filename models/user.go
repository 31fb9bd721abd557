package models

import (
	"context"
	"errors"
	"strings"
	"time"
)

// User is an account.
type User struct {
	ID           int64
	Username     string
	Email        string
	PasswordHash string
	IsAdmin      bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// CreateUser inserts u; a taken username answers ErrConflict.
func (db *DB) CreateUser(ctx context.Context, u *User) error {
	now := time.Now().UTC()
	u.CreatedAt, u.UpdatedAt = now, now
	err := db.write(ctx).Create(u).Error
	if err != nil && isUniqueViolation(err) {
		return ErrConflict
	}
	return err
}

// GetUserByName finds an account by username.
func (db *DB) GetUserByName(ctx context.Context, username string) (*User, error) {
	var u User
	if err := db.read(ctx).Where("username = ?", username).Take(&u).Error; err != nil {
		return nil, notFound(err)
	}
	return &u, nil
}

func isUniqueViolation(err error) bool {
	if errors.Is(err, ErrConflict) {
		return true
	}
	s := err.Error()
	return strings.Contains(s, "UNIQUE constraint failed") || strings.Contains(s, "duplicate key value")
}
