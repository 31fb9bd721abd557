package models

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// SigningKeyStore keeps the public keys whose signatures a repository
// trusts: its own and its namespace's. Adding or removing one queues the
// re-verification of what it may sign, in the same transaction.
type SigningKeyStore struct{ *conn }

// SigningKey is a cosign public key (PEM) of a repository or a namespace.
type SigningKey struct {
	ID           int64
	RepositoryID *int64
	// Namespace is set for a namespace's key: a foreign key to the
	// namespace's row, so the key goes with the namespace.
	Namespace   *string `gorm:"column:namespace_owner"`
	Name        string
	PublicKey   string
	Fingerprint string // hex SHA-256 of the key's DER form
	CreatedBy   string
	CreatedAt   time.Time
}

// reverify queues a verify-all job for the repository, or for every
// repository of the namespace, that a key of k's owner may sign.
func reverify(tx *gorm.DB, k *SigningKey) error {
	var ids []int64
	if k.RepositoryID != nil {
		ids = []int64{*k.RepositoryID}
	} else if err := tx.Table("repositories").Where("namespace = ?", *k.Namespace).Pluck("id", &ids).Error; err != nil {
		return err
	}
	for _, id := range ids {
		if err := enqueueJobs(tx, id, []JobRequest{{Kind: JobVerifyAll}}); err != nil {
			return err
		}
	}
	return nil
}

// Create stores a key and queues the re-verification of its owner's
// signatures. An owner with a key of the same fingerprint is ErrConflict.
func (s *SigningKeyStore) Create(ctx context.Context, k *SigningKey) error {
	k.CreatedAt = time.Now().UTC()
	return s.tx(ctx, func(tx *gorm.DB) error {
		var dup int64
		q := tx.Model(&SigningKey{}).Where("fingerprint = ?", k.Fingerprint)
		if k.RepositoryID != nil {
			q = q.Where("repository_id = ?", *k.RepositoryID)
		} else {
			q = q.Where("repository_id IS NULL AND namespace_owner = ?", *k.Namespace)
		}
		if err := q.Count(&dup).Error; err != nil {
			return err
		}
		if dup > 0 {
			return ErrConflict
		}
		if err := tx.Create(k).Error; err != nil {
			if isForeignKeyViolation(err) {
				return ErrNotFound
			}
			return err
		}
		return reverify(tx, k)
	})
}

// ListForRepository lists a repository's own keys.
func (s *SigningKeyStore) ListForRepository(ctx context.Context, repoID int64) ([]SigningKey, error) {
	var ks []SigningKey
	err := s.read(ctx).Where("repository_id = ?", repoID).Order("id").Find(&ks).Error
	return ks, err
}

// ListForNamespace lists a namespace's own keys.
func (s *SigningKeyStore) ListForNamespace(ctx context.Context, ns string) ([]SigningKey, error) {
	var ks []SigningKey
	err := s.read(ctx).Where("repository_id IS NULL AND namespace_owner = ?", ns).Order("id").Find(&ks).Error
	return ks, err
}

// Trusted lists every key whose signatures repository repoID (in
// namespace ns) trusts: its own, then its namespace's.
func (s *SigningKeyStore) Trusted(ctx context.Context, repoID int64, ns string) ([]SigningKey, error) {
	var ks []SigningKey
	err := s.read(ctx).Where("repository_id = ? OR (repository_id IS NULL AND namespace_owner = ?)", repoID, ns).
		Order("repository_id IS NULL, id").Find(&ks).Error
	return ks, err
}

// Get finds a key by id.
func (s *SigningKeyStore) Get(ctx context.Context, id int64) (*SigningKey, error) {
	var k SigningKey
	if err := s.read(ctx).Where("id = ?", id).Take(&k).Error; err != nil {
		return nil, notFound(err)
	}
	return &k, nil
}

// Delete removes a key and queues the re-verification of what it signed.
func (s *SigningKeyStore) Delete(ctx context.Context, k *SigningKey) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Where("id = ?", k.ID).Delete(&SigningKey{})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		return reverify(tx, k)
	})
}
