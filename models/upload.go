package models

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"gorm.io/gorm"
)

// UploadStore keeps blob upload sessions; completing one links its blob
// and releases its lease in one transaction.
type UploadStore struct{ *conn }

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

// Create records a new upload session unless its user already
// holds limit open ones (ErrTooManyUploads); limit 0, or no user, is no
// limit. The count and the insert share a transaction that holds the
// user's row, so concurrent starts, on any replica, cannot pass the limit
// together.
func (s *UploadStore) Create(ctx context.Context, u *Upload, limit int) error {
	u.Namespace = NamespaceOf(u.Repository)
	if limit <= 0 || u.UserID == nil {
		return s.write(ctx).Create(u).Error
	}
	return s.tx(ctx, func(tx *gorm.DB) error {
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

// Get finds an upload session by id.
func (s *UploadStore) Get(ctx context.Context, id string) (*Upload, error) {
	var u Upload
	if err := s.read(ctx).Where("id = ?", id).Take(&u).Error; err != nil {
		return nil, notFound(err)
	}
	return &u, nil
}

// SaveProgress stores how far an upload got and its hash state, if
// the session still exists.
func (s *UploadStore) SaveProgress(ctx context.Context, id string, size int64, state []byte) error {
	res := s.write(ctx).Model(&Upload{}).Where("id = ?", id).Updates(map[string]any{
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

// Delete removes an upload session.
func (s *UploadStore) Delete(ctx context.Context, id string) error {
	return s.write(ctx).Where("id = ?", id).Delete(&Upload{}).Error
}

// Complete ends an upload session, links its blob into the
// repository and releases the blob lease its commit held, in one
// transaction.
func (s *UploadStore) Complete(ctx context.Context, id, leaseID, name, digest string, size int64) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("id = ?", id).Delete(&Upload{}).Error; err != nil {
			return err
		}
		if err := s.linkBlob(tx, name, digest, size); err != nil {
			return err
		}
		return tx.Exec("DELETE FROM blob_leases WHERE id = ?", leaseID).Error
	})
}

// Stale lists sessions untouched since before. Sessions without a
// start time are never listed: we cannot tell their age, so they are kept.
func (s *UploadStore) Stale(ctx context.Context, before time.Time, limit int) ([]Upload, error) {
	var ups []Upload
	err := s.read(ctx).Where("started_at IS NOT NULL AND updated_at < ?", before).
		Limit(limit).Find(&ups).Error
	return ups, err
}

// Exists reports whether a session with id exists.
func (s *UploadStore) Exists(ctx context.Context, id string) (bool, error) {
	var n int64
	err := s.read(ctx).Model(&Upload{}).Where("id = ?", id).Count(&n).Error
	return n > 0, err
}

// Count counts open upload sessions.
func (s *UploadStore) Count(ctx context.Context) (int64, error) {
	var n int64
	err := s.read(ctx).Model(&Upload{}).Count(&n).Error
	return n, err
}
