package models

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// User is an account.
type User struct {
	ID           int64
	Username     string
	Email        string
	PasswordHash string
	IsAdmin      bool
	Disabled     bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Namespace kinds: a namespace belongs to a user or an organization, and
// the names of both share one table so they stay unique together.
const (
	NamespaceUser = "user"
	NamespaceOrg  = "org"
)

// Namespace is a name that repositories live under.
type Namespace struct {
	Name      string `gorm:"primaryKey"`
	Kind      string
	CreatedAt time.Time
}

// claimNamespace takes a name for a new user or organization. A name that
// still has repositories (left by a site administrator's push to a name
// nobody owned) is taken too: a new owner never inherits what it did not
// create.
func claimNamespace(tx *gorm.DB, name, kind string, now time.Time) error {
	var left int64
	if err := tx.Raw("SELECT COUNT(*) FROM repositories WHERE namespace = ?", name).Scan(&left).Error; err != nil {
		return err
	}
	if left > 0 {
		return ErrConflict
	}
	err := tx.Create(&Namespace{Name: name, Kind: kind, CreatedAt: now}).Error
	if err != nil && isUniqueViolation(err) {
		return ErrConflict
	}
	return err
}

// dropNamespace deletes a namespace with its repositories; what else it
// owns (webhooks, its quota) references its row and goes with it.
func dropNamespace(tx *gorm.DB, name string) error {
	for _, q := range []string{
		"DELETE FROM repositories WHERE namespace = ?",
		"DELETE FROM namespaces WHERE name = ?",
	} {
		if err := tx.Exec(q, name).Error; err != nil {
			return err
		}
	}
	return nil
}

// CreateUser inserts u and claims its namespace; a taken name answers
// ErrConflict.
func (db *DB) CreateUser(ctx context.Context, u *User) error {
	now := time.Now().UTC()
	u.CreatedAt, u.UpdatedAt = now, now
	return db.tx(ctx, func(tx *gorm.DB) error {
		if err := claimNamespace(tx, u.Username, NamespaceUser, now); err != nil {
			return err
		}
		err := tx.Create(u).Error
		if err != nil && isUniqueViolation(err) {
			return ErrConflict
		}
		return err
	})
}

// GetUserByName finds an account by username.
func (db *DB) GetUserByName(ctx context.Context, username string) (*User, error) {
	var u User
	if err := db.read(ctx).Where("username = ?", username).Take(&u).Error; err != nil {
		return nil, notFound(err)
	}
	return &u, nil
}

// GetUser finds an account by id.
func (db *DB) GetUser(ctx context.Context, id int64) (*User, error) {
	var u User
	if err := db.read(ctx).Where("id = ?", id).Take(&u).Error; err != nil {
		return nil, notFound(err)
	}
	return &u, nil
}

// GetNamespace finds a namespace by name.
func (db *DB) GetNamespace(ctx context.Context, name string) (*Namespace, error) {
	var n Namespace
	if err := db.read(ctx).Where("name = ?", name).Take(&n).Error; err != nil {
		return nil, notFound(err)
	}
	return &n, nil
}

// SetPassword replaces an account's password hash.
func (db *DB) SetPassword(ctx context.Context, userID int64, hash string) error {
	return db.write(ctx).Model(&User{}).Where("id = ?", userID).
		Updates(map[string]any{"password_hash": hash, "updated_at": time.Now().UTC()}).Error
}

// SetUserDisabled disables or enables an account.
func (db *DB) SetUserDisabled(ctx context.Context, userID int64, disabled bool) error {
	res := db.write(ctx).Model(&User{}).Where("id = ?", userID).
		Updates(map[string]any{"disabled": disabled, "updated_at": time.Now().UTC()})
	if res.Error == nil && res.RowsAffected == 0 {
		return ErrNotFound
	}
	return res.Error
}

// SoleOwnerError refuses to delete an account that is the only owner of
// organizations: they would be left with nobody to manage them.
type SoleOwnerError struct{ Orgs []string }

func (e *SoleOwnerError) Error() string {
	return fmt.Sprintf("the account is the only owner of %s: make someone else an owner or delete the organization first",
		strings.Join(e.Orgs, ", "))
}

// Is makes a SoleOwnerError an ErrLastOwner.
func (e *SoleOwnerError) Is(target error) bool { return target == ErrLastOwner }

// DeleteUser deletes an account, its repositories and its namespace with
// everything the namespace owns; memberships, collaborations, sessions and
// tokens go with it. The only owner of an organization is refused with a
// *SoleOwnerError.
func (db *DB) DeleteUser(ctx context.Context, userID int64) error {
	return db.tx(ctx, func(tx *gorm.DB) error {
		var u User
		if err := tx.Where("id = ?", userID).Take(&u).Error; err != nil {
			return notFound(err)
		}
		var sole []string
		if err := tx.Raw(`SELECT o.name FROM organizations o JOIN org_members m ON m.org_id = o.id
			WHERE m.user_id = ? AND m.role = ? AND NOT EXISTS (
				SELECT 1 FROM org_members k WHERE k.org_id = o.id AND k.role = ? AND k.user_id <> ?)
			ORDER BY o.name`, userID, RoleOwner, RoleOwner, userID).Scan(&sole).Error; err != nil {
			return err
		}
		if len(sole) > 0 {
			return &SoleOwnerError{Orgs: sole}
		}
		// The user's stars go with it: keep other repositories' counts right.
		if err := tx.Exec(`UPDATE repositories SET star_count = star_count - 1
			WHERE id IN (SELECT repository_id FROM stars WHERE user_id = ?)`, userID).Error; err != nil {
			return err
		}
		if err := dropNamespace(tx, u.Username); err != nil {
			return err
		}
		return tx.Exec("DELETE FROM users WHERE id = ?", userID).Error
	})
}

func isUniqueViolation(err error) bool {
	if errors.Is(err, ErrConflict) {
		return true
	}
	s := err.Error()
	return strings.Contains(s, "UNIQUE constraint failed") || strings.Contains(s, "duplicate key value")
}

// SetEmail changes an account's email address.
func (db *DB) SetEmail(ctx context.Context, userID int64, email string) error {
	return db.write(ctx).Model(&User{}).Where("id = ?", userID).
		Updates(map[string]any{"email": email, "updated_at": time.Now().UTC()}).Error
}
