package models

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// SignatureStore keeps, per signed manifest, each signature and
// attestation found for it and what verifying it said.
type SignatureStore struct{ *conn }

// Signature statuses; a manifest with no Signature rows is unsigned.
const (
	SignatureVerified   = "verified"
	SignatureUnverified = "unverified"
	SignatureUnsigned   = "unsigned"
)

// Signature is one signature (or attestation) of a manifest: layer Layer
// of the manifest SignatureDigest, which signs SubjectDigest.
type Signature struct {
	RepositoryID    int64  `gorm:"primaryKey"`
	SubjectDigest   string `gorm:"primaryKey"`
	SignatureDigest string `gorm:"primaryKey"`
	Layer           int    `gorm:"primaryKey"`
	// Kind is "signature" or "attestation".
	Kind   string
	Status string
	// KeyID and KeyName are the key that verified it (nil and "" if none
	// did).
	KeyID   *int64
	KeyName string
	// Identity is who signed, as far as Wharf can tell: the key's name,
	// or the certificate's subject.
	Identity      string
	PredicateType string // an attestation's in-toto predicate type
	// Reason says why it is not verified.
	Reason    string
	SignedAt  time.Time
	CheckedAt time.Time
}

// Replace stores what verifying the signatures of subject found,
// replacing what an earlier verification found, and reports the
// manifest's status before and after. A change of status is written to
// the webhook outbox (a signature event) in the same transaction.
func (s *SignatureStore) Replace(ctx context.Context, repoID int64, repository, subject string, sigs []Signature) (before, after string, err error) {
	now := time.Now().UTC()
	err = s.tx(ctx, func(tx *gorm.DB) error {
		var err error
		if before, err = statusOf(tx, repoID, subject); err != nil {
			return err
		}
		if err := tx.Where("repository_id = ? AND subject_digest = ?", repoID, subject).Delete(&Signature{}).Error; err != nil {
			return err
		}
		for i := range sigs {
			sigs[i].RepositoryID, sigs[i].SubjectDigest, sigs[i].CheckedAt = repoID, subject, now
		}
		if len(sigs) > 0 {
			if err := tx.CreateInBatches(sigs, 100).Error; err != nil {
				return err
			}
		}
		if after, err = statusOf(tx, repoID, subject); err != nil {
			return err
		}
		if before == after {
			return nil
		}
		return enqueue(tx, repoID, outboxEvent{Event: "signature", Action: after, Repository: repository, Digest: subject}, false)
	})
	return before, after, err
}

func statusOf(tx *gorm.DB, repoID int64, subject string) (string, error) {
	m, err := statuses(tx, repoID, []string{subject})
	if err != nil {
		return "", err
	}
	return m[subject], nil
}

// statuses are the signature status of each of digests: verified if a
// signature of it is, unverified if it has signatures but none is,
// unsigned if it has none.
func statuses(db *gorm.DB, repoID int64, digests []string) (map[string]string, error) {
	var rows []struct {
		SubjectDigest string
		Verified      int64
	}
	out := make(map[string]string, len(digests))
	for _, d := range digests {
		out[d] = SignatureUnsigned
	}
	if len(digests) == 0 {
		return out, nil
	}
	err := db.Table("signatures").
		Select("subject_digest, SUM(CASE WHEN status = ? THEN 1 ELSE 0 END) AS verified", SignatureVerified).
		Where("repository_id = ? AND subject_digest IN ?", repoID, digests).Group("subject_digest").Scan(&rows).Error
	for _, r := range rows {
		out[r.SubjectDigest] = SignatureUnverified
		if r.Verified > 0 {
			out[r.SubjectDigest] = SignatureVerified
		}
	}
	return out, err
}

// Statuses are the signature status of each of digests in repoID.
func (s *SignatureStore) Statuses(ctx context.Context, repoID int64, digests []string) (map[string]string, error) {
	return statuses(s.read(ctx), repoID, digests)
}

// ForSubject lists the signatures found for subject, verified first.
func (s *SignatureStore) ForSubject(ctx context.Context, repoID int64, subject string) ([]Signature, error) {
	var out []Signature
	err := s.read(ctx).Where("repository_id = ? AND subject_digest = ?", repoID, subject).
		Order("CASE WHEN status = 'verified' THEN 0 ELSE 1 END, signed_at, signature_digest, layer").Find(&out).Error
	return out, err
}

// SignedSubjects lists the digests that repository repoID has
// signatures or attestations for: those the referrers API names as
// subjects, those cosign's tags (sha256-HEX.sig, .att) name, and those
// with results already.
func (s *SignatureStore) SignedSubjects(ctx context.Context, repoID int64) ([]string, error) {
	var out []string
	err := s.read(ctx).Raw(`SELECT subject_digest FROM manifests
			WHERE repository_id = ? AND kind IN ('signature', 'attestation') AND subject_digest <> ''
		UNION SELECT 'sha256:' || SUBSTR(name, 8, 64) FROM tags
			WHERE repository_id = ? AND (name LIKE 'sha256-%.sig' OR name LIKE 'sha256-%.att') AND LENGTH(name) = 75
		UNION SELECT subject_digest FROM signatures WHERE repository_id = ?`, repoID, repoID, repoID).Scan(&out).Error
	return out, err
}
