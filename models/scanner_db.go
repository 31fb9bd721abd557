package models

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
)

// ScannerDBStore records the vulnerability databases imported for the
// scanner. A database's bundle is a blob in the blob store, kept from
// garbage collection while its row exists (see blobGarbage).
type ScannerDBStore struct{ *conn }

// ScannerDatabase is one imported database bundle.
type ScannerDatabase struct {
	ID     int64
	Digest string
	Size   int64
	// Version is the database's schema version; UpdatedAt is when its
	// makers built it (its age), NextUpdate when they meant the next.
	Version    int
	UpdatedAt  time.Time `gorm:"autoUpdateTime:false"`
	NextUpdate *time.Time
	ImportedBy string
	ImportedAt time.Time
}

// keptDatabases is how many databases are kept: the current one, and the
// one before it for the replicas still extracting the new one.
const keptDatabases = 2

// Add records an imported database whose bundle was committed to the
// store under the blob lease leaseID (released here), drops the rows of
// older ones beyond the last keptDatabases, and queues a rescan of every
// scanned manifest, in one transaction. Importing a bundle that is
// already recorded makes it the current one again.
func (s *ScannerDBStore) Add(ctx context.Context, d *ScannerDatabase, leaseID string) error {
	d.ImportedAt = time.Now().UTC()
	return s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("digest = ?", d.Digest).Delete(&ScannerDatabase{}).Error; err != nil {
			return err
		}
		d.ID = 0
		if err := tx.Create(d).Error; err != nil {
			return err
		}
		var keep []int64
		if err := tx.Model(&ScannerDatabase{}).Order("imported_at DESC, id DESC").Limit(keptDatabases).Pluck("id", &keep).Error; err != nil {
			return err
		}
		if err := tx.Where("id NOT IN ?", keep).Delete(&ScannerDatabase{}).Error; err != nil {
			return err
		}
		if leaseID != "" {
			if err := tx.Exec("DELETE FROM blob_leases WHERE id = ?", leaseID).Error; err != nil {
				return err
			}
		}
		return (&ScanStore{s.conn}).rescanAll(tx)
	})
}

// Current returns the newest imported database, or ErrNotFound.
func (s *ScannerDBStore) Current(ctx context.Context) (*ScannerDatabase, error) {
	var d ScannerDatabase
	err := s.read(ctx).Order("imported_at DESC, id DESC").Take(&d).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	return &d, err
}
