package models

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// UserStore keeps accounts. Creating one claims its namespace, and deleting
// one drops the namespace with everything in it, in one transaction; an
// organization's only owner cannot be deleted.
type UserStore struct{ *conn }

// User is an account.
type User struct {
	ID           int64
	Username     string
	Email        string
	PasswordHash string
	IsAdmin      bool
	Disabled     bool
	// EmailVerified: the address is known to reach the account's owner
	// (reset links and notices go only there).
	EmailVerified bool
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// ErrEmailTaken is returned when another account has the email address.
var ErrEmailTaken = errors.New("email address already in use")

// Create inserts u and claims its namespace; a taken name answers
// ErrConflict, an email address another account has ErrEmailTaken.
func (s *UserStore) Create(ctx context.Context, u *User) error {
	now := time.Now().UTC()
	u.CreatedAt, u.UpdatedAt = now, now
	return s.tx(ctx, func(tx *gorm.DB) error { return createUser(tx, u, now) })
}

// createUser claims u's namespace and inserts u, inside tx.
func createUser(tx *gorm.DB, u *User, now time.Time) error {
	if err := claimNamespace(tx, u.Username, NamespaceUser, now); err != nil {
		return err
	}
	if err := checkEmailFree(tx, u.Email, 0); err != nil {
		return err
	}
	err := tx.Create(u).Error
	if err != nil && isUniqueViolation(err) {
		return ErrConflict
	}
	return err
}

// GetByName finds an account by username.
func (s *UserStore) GetByName(ctx context.Context, username string) (*User, error) {
	var u User
	if err := s.read(ctx).Where("username = ?", username).Take(&u).Error; err != nil {
		return nil, notFound(err)
	}
	return &u, nil
}

// Get finds an account by id.
func (s *UserStore) Get(ctx context.Context, id int64) (*User, error) {
	var u User
	if err := s.read(ctx).Where("id = ?", id).Take(&u).Error; err != nil {
		return nil, notFound(err)
	}
	return &u, nil
}

// SetPassword replaces an account's password hash.
func (s *UserStore) SetPassword(ctx context.Context, userID int64, hash string) error {
	return s.change(ctx, func(tx *gorm.DB) *gorm.DB {
		return tx.Model(&User{}).Where("id = ?", userID).
			Updates(map[string]any{"password_hash": hash, "updated_at": time.Now().UTC()})
	}).Error
}

// SetDisabled disables or enables an account.
func (s *UserStore) SetDisabled(ctx context.Context, userID int64, disabled bool) error {
	res := s.change(ctx, func(tx *gorm.DB) *gorm.DB {
		return tx.Model(&User{}).Where("id = ?", userID).
			Updates(map[string]any{"disabled": disabled, "updated_at": time.Now().UTC()})
	})
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

// Delete deletes an account, its repositories and its namespace with
// everything the namespace owns; memberships, collaborations, sessions and
// tokens go with it. The only owner of an organization is refused with a
// *SoleOwnerError.
func (s *UserStore) Delete(ctx context.Context, userID int64) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
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

// SetEmail changes an account's email address; one another account has
// answers ErrEmailTaken.
func (s *UserStore) SetEmail(ctx context.Context, userID int64, email string) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		if err := checkEmailFree(tx, email, userID); err != nil {
			return err
		}
		return tx.Model(&User{}).Where("id = ?", userID).
			Updates(map[string]any{"email": email, "updated_at": time.Now().UTC()}).Error
	})
}

// emailLock is the PostgreSQL advisory lock that checkEmailFree takes.
const emailLock = 0x7768617266656d6c // "wharfeml"

// checkEmailFree answers ErrEmailTaken if an account other than except (0
// for none) has email, compared without case or surrounding space.
//
// Unique addresses are kept here, in the write transaction, and not by a
// unique index on lower(email): databases of older Wharfs may already
// hold accounts that share an address, and creating the index would fail
// their migration. Those accounts keep working (GetByEmail finds neither);
// no new account or change can add to them. SQLite's write transactions
// are immediate, one at a time; on PostgreSQL the transaction takes an
// advisory lock first, so that two sign-ups cannot both pass the check.
func checkEmailFree(tx *gorm.DB, email string, except int64) error {
	if tx.Dialector.Name() == "postgres" {
		if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", int64(emailLock)).Error; err != nil {
			return err
		}
	}
	var n int64
	if err := tx.Raw("SELECT COUNT(*) FROM users WHERE lower(trim(email)) = lower(CAST(? AS TEXT)) AND id <> ?",
		strings.TrimSpace(email), except).Scan(&n).Error; err != nil {
		return err
	}
	if n > 0 {
		return ErrEmailTaken
	}
	return nil
}

// GetByEmail finds the one account with this email address (compared
// without case); none, or more than one, is ErrNotFound.
func (s *UserStore) GetByEmail(ctx context.Context, email string) (*User, error) {
	var us []User
	if err := s.read(ctx).Where("lower(email) = lower(?)", email).Limit(2).Find(&us).Error; err != nil {
		return nil, err
	}
	if len(us) != 1 {
		return nil, ErrNotFound
	}
	return &us[0], nil
}
