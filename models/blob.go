package models

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// BlobStore records blobs, their links into repositories, and the leases
// uploads hold while they commit bytes to the store (see gc.go).
type BlobStore struct{ *conn }

// Blob is a piece of content held once in the blob store. UsedAt is when
// a writer last relied on it and DeletingAt is garbage collection's mark
// (see gc.go).
type Blob struct {
	Digest     string `gorm:"primaryKey"`
	Size       int64
	CreatedAt  time.Time
	UsedAt     *time.Time
	DeletingAt *time.Time
}

// RepositoryBlob links a blob into a repository: only linked blobs can be
// read through that repository.
type RepositoryBlob struct {
	RepositoryID int64  `gorm:"primaryKey"`
	Digest       string `gorm:"primaryKey"`
	CreatedAt    time.Time
}

// SizeIn returns the size of a blob linked into repository
// name, or ErrNotFound.
func (s *BlobStore) SizeIn(ctx context.Context, name, digest string) (int64, error) {
	var size int64
	err := rowOf(s.read(ctx).Raw(`SELECT b.size FROM blobs b
		JOIN repository_blobs rb ON rb.digest = b.digest
		JOIN repositories r ON r.id = rb.repository_id
		WHERE r.name = ? AND b.digest = ?`, name, digest)).Scan(&size)
	if err != nil {
		return 0, notFound(asNoRows(err))
	}
	return size, nil
}

// Size returns the size of a blob known to any repository. A blob
// that garbage collection is deleting is unknown.
func (s *BlobStore) Size(ctx context.Context, digest string) (int64, error) {
	var b Blob
	if err := s.read(ctx).Where("digest = ? AND deleting_at IS NULL", digest).Take(&b).Error; err != nil {
		return 0, notFound(err)
	}
	return b.Size, nil
}

// Link links a blob the database already records into repository
// name (a cross-repository mount), creating the repository if needed. It
// touches the blob's used_at under its row lock, so garbage collection
// either sees the link's use or has already marked the blob: then it
// answers ErrNotFound and links nothing.
func (s *BlobStore) Link(ctx context.Context, name, digest string) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		if err := touchBlobs(tx, []string{digest}, gcNow()); err != nil {
			if errors.Is(err, ErrMissingReference) {
				return ErrNotFound
			}
			return err
		}
		repoID, err := s.ensureRepository(tx, name)
		if err != nil {
			return err
		}
		return tx.Clauses(clause.OnConflict{DoNothing: true}).
			Create(&RepositoryBlob{RepositoryID: repoID, Digest: digest, CreatedAt: gcNow()}).Error
	})
}

// linkBlob records a blob just committed to the store (creating or
// touching its row) and links it into repository name. A blob that
// garbage collection is deleting answers ErrBlobDeleting.
func (c *conn) linkBlob(tx *gorm.DB, name, digest string, size int64) error {
	now := gcNow()
	if err := upsertBlob(tx, digest, size, now); err != nil {
		return err
	}
	repoID, err := c.ensureRepository(tx, name)
	if err != nil {
		return err
	}
	return tx.Clauses(clause.OnConflict{DoNothing: true}).
		Create(&RepositoryBlob{RepositoryID: repoID, Digest: digest, CreatedAt: now}).Error
}

// Unlink removes a blob from repository name; it reports whether the
// link existed. The content stays in the store for garbage collection.
func (s *BlobStore) Unlink(ctx context.Context, name, digest string) (bool, error) {
	res := s.change(ctx, func(tx *gorm.DB) *gorm.DB {
		return tx.Exec(`DELETE FROM repository_blobs WHERE digest = ?
		AND repository_id = (SELECT id FROM repositories WHERE name = ?)`, digest, name)
	})
	return res.RowsAffected > 0, res.Error
}

// Repositories lists up to limit repositories that link digest.
func (s *BlobStore) Repositories(ctx context.Context, digest string, limit int) ([]string, error) {
	var names []string
	err := s.read(ctx).Table("repository_blobs rb").Joins("JOIN repositories r ON r.id = rb.repository_id").
		Where("rb.digest = ?", digest).Order("r.name").Limit(limit).Pluck("r.name", &names).Error
	return names, err
}

// Lease records that an upload is about to commit digest to the store
// and returns the lease's id: until the lease is released or expires
// after ttl, GC leaves the blob alone whatever the grace window. A blob
// marked deleting answers ErrBlobDeleting; the caller waits for it to go
// (Deleting) and asks again.
func (s *BlobStore) Lease(ctx context.Context, digest string, size int64, ttl time.Duration) (string, error) {
	var b [16]byte
	_, _ = rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	now := gcNow()
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := upsertBlob(tx, digest, size, now); err != nil {
			return err
		}
		return tx.Exec("INSERT INTO blob_leases (id, digest, expires_at) VALUES (?, ?, ?)", id, digest, now.Add(ttl)).Error
	})
	if err != nil {
		return "", err
	}
	return id, nil
}

// ReleaseLease drops a lease (an upload that failed after taking it).
func (s *BlobStore) ReleaseLease(ctx context.Context, id string) error {
	return s.write(ctx).Exec("DELETE FROM blob_leases WHERE id = ?", id).Error
}

// Deleting reports whether GC has marked digest for deletion and not
// yet removed its row.
func (s *BlobStore) Deleting(ctx context.Context, digest string) (bool, error) {
	var n int64
	err := s.read(ctx).Model(&Blob{}).Where("digest = ? AND deleting_at IS NOT NULL", digest).Count(&n).Error
	return n > 0, err
}
