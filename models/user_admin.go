package models

import (
	"context"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm"
)

// ErrLastAdmin refuses taking away the last site administrator: nobody
// would be left to administer the site.
var ErrLastAdmin = errors.New("That is the last site administrator: make someone else one first.")

// List lists, by username, up to limit accounts from offset whose name
// or e-mail address contains q (all for ""), and how many match.
func (s *UserStore) List(ctx context.Context, q string, offset, limit int) ([]User, int64, error) {
	db := s.read(ctx).Model(&User{})
	if q = strings.ToLower(strings.TrimSpace(q)); q != "" {
		like := "%" + likeEscape(q) + "%"
		db = db.Where(`(username LIKE ? ESCAPE '\') OR (LOWER(email) LIKE ? ESCAPE '\')`, like, like)
	}
	var total int64
	if err := db.Count(&total).Error; err != nil {
		return nil, 0, err
	}
	var us []User
	err := db.Order("username").Offset(offset).Limit(limit).Find(&us).Error
	return us, total, err
}

// SetAdmin makes an account a site administrator, or not; taking it
// from the last enabled one is ErrLastAdmin.
func (s *UserStore) SetAdmin(ctx context.Context, userID int64, admin bool) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		if !admin {
			if tx.Dialector.Name() == "postgres" {
				if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", int64(adminLock)).Error; err != nil {
					return err
				}
			}
			var others int64
			if err := tx.Model(&User{}).Where("is_admin AND NOT disabled AND id <> ?", userID).Count(&others).Error; err != nil {
				return err
			}
			if others == 0 {
				return ErrLastAdmin
			}
		}
		res := tx.Model(&User{}).Where("id = ?", userID).Updates(map[string]any{"is_admin": admin, "updated_at": time.Now().UTC()})
		if res.Error == nil && res.RowsAffected == 0 {
			return ErrNotFound
		}
		return res.Error
	})
}

// adminLock is the PostgreSQL advisory lock that SetAdmin takes, so that
// two admins cannot take it from each other at once.
const adminLock = 0x7768617266616474 // "wharfadt"
