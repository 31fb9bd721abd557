package models

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"gorm.io/gorm"
)

// Upload is a blob upload session. Its hash state lets a resumed upload go
// on hashing without reading back what it already has.
type Upload struct {
	ID         string `gorm:"primaryKey"`
	Repository string
	// Namespace is Repository's namespace, whose quota counts the
	// session's bytes.
	Namespace string
	UserID    *int64
	Size      int64
	HashState []byte
	StartedAt *time.Time
	UpdatedAt time.Time
}

func asNoRows(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return gorm.ErrRecordNotFound
	}
	return err
}

// ErrTooManyUploads refuses a session to a user who holds the most open
// sessions allowed.
var ErrTooManyUploads = errors.New("too many open upload sessions")

// CreateUpload records a new upload session.
func (db *DB) CreateUpload(ctx context.Context, u *Upload) error {
	return db.CreateUploadLimited(ctx, u, 0)
}

// CreateUploadLimited records a new upload session unless its user already
// holds limit open ones (ErrTooManyUploads); limit 0, or no user, is no
// limit. The count and the insert share a transaction that holds the
// user's row, so concurrent starts, on any replica, cannot pass the limit
// together.
func (db *DB) CreateUploadLimited(ctx context.Context, u *Upload, limit int) error {
	u.Namespace = NamespaceOf(u.Repository)
	if limit <= 0 || u.UserID == nil {
		return db.write(ctx).Create(u).Error
	}
	return db.tx(ctx, func(tx *gorm.DB) error {
		var id int64
		err := rowOf(tx.Raw("SELECT id FROM users WHERE id = ?"+forUpdate(tx), *u.UserID)).Scan(&id)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		var n int64
		if err := tx.Model(&Upload{}).Where("user_id = ?", *u.UserID).Count(&n).Error; err != nil {
			return err
		}
		if n >= int64(limit) {
			return ErrTooManyUploads
		}
		return tx.Create(u).Error
	})
}

// GetUpload finds an upload session by id.
func (db *DB) GetUpload(ctx context.Context, id string) (*Upload, error) {
	var u Upload
	if err := db.read(ctx).Where("id = ?", id).Take(&u).Error; err != nil {
		return nil, notFound(err)
	}
	return &u, nil
}

// SaveUploadProgress stores how far an upload got and its hash state, if
// the session still exists.
func (db *DB) SaveUploadProgress(ctx context.Context, id string, size int64, state []byte) error {
	res := db.write(ctx).Model(&Upload{}).Where("id = ?", id).Updates(map[string]any{
		"size": size, "hash_state": state, "updated_at": time.Now().UTC(),
	})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// DeleteUpload removes an upload session.
func (db *DB) DeleteUpload(ctx context.Context, id string) error {
	return db.write(ctx).Where("id = ?", id).Delete(&Upload{}).Error
}

// CompleteUpload ends an upload session, links its blob into the
// repository and releases the blob lease its commit held, in one
// transaction.
func (db *DB) CompleteUpload(ctx context.Context, id, leaseID, name, digest string, size int64) error {
	return db.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("id = ?", id).Delete(&Upload{}).Error; err != nil {
			return err
		}
		if err := db.linkBlob(tx, name, digest, size); err != nil {
			return err
		}
		return tx.Exec("DELETE FROM blob_leases WHERE id = ?", leaseID).Error
	})
}

// StaleUploads lists sessions untouched since before. Sessions without a
// start time are never listed: we cannot tell their age, so they are kept.
func (db *DB) StaleUploads(ctx context.Context, before time.Time, limit int) ([]Upload, error) {
	var ups []Upload
	err := db.read(ctx).Where("started_at IS NOT NULL AND updated_at < ?", before).
		Limit(limit).Find(&ups).Error
	return ups, err
}

// UploadExists reports whether a session with id exists.
func (db *DB) UploadExists(ctx context.Context, id string) (bool, error) {
	var n int64
	err := db.read(ctx).Model(&Upload{}).Where("id = ?", id).Count(&n).Error
	return n > 0, err
}

// CountUploads counts open upload sessions.
func (db *DB) CountUploads(ctx context.Context) (int64, error) {
	var n int64
	err := db.read(ctx).Model(&Upload{}).Count(&n).Error
	return n, err
}
