package models

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

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

// RepositoryBlobSize returns the size of a blob linked into repository
// name, or ErrNotFound.
func (db *DB) RepositoryBlobSize(ctx context.Context, name, digest string) (int64, error) {
	var size int64
	err := rowOf(db.read(ctx).Raw(`SELECT b.size FROM blobs b
		JOIN repository_blobs rb ON rb.digest = b.digest
		JOIN repositories r ON r.id = rb.repository_id
		WHERE r.name = ? AND b.digest = ?`, name, digest)).Scan(&size)
	if err != nil {
		return 0, notFound(asNoRows(err))
	}
	return size, nil
}

// BlobSize returns the size of a blob known to any repository. A blob
// that garbage collection is deleting is unknown.
func (db *DB) BlobSize(ctx context.Context, digest string) (int64, error) {
	var b Blob
	if err := db.read(ctx).Where("digest = ? AND deleting_at IS NULL", digest).Take(&b).Error; err != nil {
		return 0, notFound(err)
	}
	return b.Size, nil
}

// LinkBlob links a blob the database already records into repository
// name (a cross-repository mount), creating the repository if needed. It
// touches the blob's used_at under its row lock, so garbage collection
// either sees the link's use or has already marked the blob: then it
// answers ErrNotFound and links nothing.
func (db *DB) LinkBlob(ctx context.Context, name, digest string) error {
	return db.tx(ctx, func(tx *gorm.DB) error {
		if err := touchBlobs(tx, []string{digest}, gcNow()); err != nil {
			if errors.Is(err, ErrMissingReference) {
				return ErrNotFound
			}
			return err
		}
		repoID, err := db.ensureRepository(tx, name)
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
func (db *DB) linkBlob(tx *gorm.DB, name, digest string, size int64) error {
	now := gcNow()
	if err := upsertBlob(tx, digest, size, now); err != nil {
		return err
	}
	repoID, err := db.ensureRepository(tx, name)
	if err != nil {
		return err
	}
	return tx.Clauses(clause.OnConflict{DoNothing: true}).
		Create(&RepositoryBlob{RepositoryID: repoID, Digest: digest, CreatedAt: now}).Error
}

// UnlinkBlob removes a blob from repository name; it reports whether the
// link existed. The content stays in the store for garbage collection.
func (db *DB) UnlinkBlob(ctx context.Context, name, digest string) (bool, error) {
	res := db.write(ctx).Exec(`DELETE FROM repository_blobs WHERE digest = ?
		AND repository_id = (SELECT id FROM repositories WHERE name = ?)`, digest, name)
	return res.RowsAffected > 0, res.Error
}

// RepositoriesWithBlob lists up to limit repositories that link digest.
func (db *DB) RepositoriesWithBlob(ctx context.Context, digest string, limit int) ([]string, error) {
	var names []string
	err := db.read(ctx).Table("repository_blobs rb").Joins("JOIN repositories r ON r.id = rb.repository_id").
		Where("rb.digest = ?", digest).Order("r.name").Limit(limit).Pluck("r.name", &names).Error
	return names, err
}
