package models

import (
	"context"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Blob is a piece of content held once in the blob store.
type Blob struct {
	Digest    string `gorm:"primaryKey"`
	Size      int64
	CreatedAt time.Time
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
	err := db.read(ctx).Raw(`SELECT b.size FROM blobs b
		JOIN repository_blobs rb ON rb.digest = b.digest
		JOIN repositories r ON r.id = rb.repository_id
		WHERE r.name = ? AND b.digest = ?`, name, digest).Row().Scan(&size)
	if err != nil {
		return 0, notFound(asNoRows(err))
	}
	return size, nil
}

// BlobSize returns the size of a blob known to any repository.
func (db *DB) BlobSize(ctx context.Context, digest string) (int64, error) {
	var b Blob
	if err := db.read(ctx).Where("digest = ?", digest).Take(&b).Error; err != nil {
		return 0, notFound(err)
	}
	return b.Size, nil
}

// LinkBlob records a committed blob and links it into repository name,
// creating the repository if needed.
func (db *DB) LinkBlob(ctx context.Context, name, digest string, size int64) error {
	return db.tx(ctx, func(tx *gorm.DB) error {
		return db.linkBlob(tx, name, digest, size)
	})
}

func (db *DB) linkBlob(tx *gorm.DB, name, digest string, size int64) error {
	repoID, err := db.ensureRepository(tx, name)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	if err := tx.Clauses(clause.OnConflict{DoNothing: true}).
		Create(&Blob{Digest: digest, Size: size, CreatedAt: now}).Error; err != nil {
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
