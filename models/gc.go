package models

// Garbage collection and the writers coordinate through the database, so
// that several replicas sharing one database and one blob store stay safe
// without any lock in memory:
//
//   - Every writer about to rely on a blob touches blobs.used_at under the
//     row's lock, in the transaction that records its use: an upload takes
//     a lease (BlobStore.Lease) before committing the bytes to the store and
//     drops it when it links the blob; a mount touches it as it links it;
//     a manifest put touches every blob (and child manifest) it names as it
//     stores its references. A touch of a blob marked deleting fails.
//   - GC locks a blob's row, then (in fresh statements, so under READ
//     COMMITTED it sees whatever the lock waited for) checks that it is
//     still garbage: unreferenced by any manifest, unused since the grace
//     cutoff and without a live lease. Only then does it mark it
//     (deleting_at) and drop its repository links, in that transaction.
//     Then it deletes the bytes and, last, the row.
//
// So either the writer's transaction comes first and GC sees the use, or
// GC's mark comes first and the writer sees it: an upload waits for the
// row to go and commits afresh, a mount or a manifest answers that the
// blob is unknown. Store files without a row (a crash's leftovers) are
// claimed by inserting a row already marked deleting, which writers treat
// the same way.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"
)

// GCStore is what garbage collection reads and marks: candidate blobs and
// manifests, and the checked-again deletes described above.
type GCStore struct{ *conn }

// ErrBlobDeleting is returned to a writer that wants a blob which garbage
// collection has marked for deletion: it must wait for the row to go (and
// then write the blob afresh) or treat the blob as absent.
var ErrBlobDeleting = errors.New("blob is being deleted by garbage collection")

// ErrMissingReference is returned when a manifest names a blob or child
// manifest that is gone or being deleted.
var ErrMissingReference = errors.New("referenced content is missing or being deleted")

// MissingReferenceError names the missing content; it matches
// ErrMissingReference.
type MissingReferenceError struct{ Digest string }

func (e *MissingReferenceError) Error() string {
	return fmt.Sprintf("%v: %s", ErrMissingReference, e.Digest)
}

// Is makes errors.Is(err, ErrMissingReference) true.
func (e *MissingReferenceError) Is(target error) bool { return target == ErrMissingReference }

// gcNow is the time writers and GC record: UTC, in microseconds (what
// every database keeps).
func gcNow() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// upsertBlob records a blob (or touches the row that records it) as used
// now; a row marked deleting answers ErrBlobDeleting.
func upsertBlob(tx *gorm.DB, digest string, size int64, now time.Time) error {
	res := tx.Exec(`INSERT INTO blobs (digest, size, created_at, used_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (digest) DO UPDATE SET used_at = excluded.used_at WHERE blobs.deleting_at IS NULL`,
		digest, size, now, now)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return ErrBlobDeleting
	}
	return nil
}

// touchBlobs marks blobs as used now, one row at a time in digest order
// (the same lock order in every transaction, so two manifest puts cannot
// deadlock). A blob without a row, or marked deleting, is a
// MissingReferenceError.
func touchBlobs(tx *gorm.DB, digests []string, now time.Time) error {
	for _, d := range sortedUnique(digests) {
		res := tx.Exec("UPDATE blobs SET used_at = ? WHERE digest = ? AND deleting_at IS NULL", now, d)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return &MissingReferenceError{Digest: d}
		}
	}
	return nil
}

// touchManifests marks manifests of repository repoID as used now, so that
// untagged-manifest cleanup cannot take a child an index is being stored
// with.
func touchManifests(tx *gorm.DB, repoID int64, digests []string, now time.Time) error {
	for _, d := range sortedUnique(digests) {
		res := tx.Exec("UPDATE manifests SET used_at = ? WHERE repository_id = ? AND digest = ?", now, repoID, d)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return &MissingReferenceError{Digest: d}
		}
	}
	return nil
}

func sortedUnique(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}

// blobGarbage is the condition under which a blob row b may be deleted:
// unmarked, unused since the cutoff (first parameter), referenced by no
// manifest, leased by no upload (second parameter: now) and not a
// scanner database that is kept.
const blobGarbage = `b.deleting_at IS NULL AND COALESCE(b.used_at, b.created_at) < ?
	AND NOT EXISTS (SELECT 1 FROM manifest_references r WHERE r.digest = b.digest AND r.kind = 'blob')
	AND NOT EXISTS (SELECT 1 FROM scanner_databases d WHERE d.digest = b.digest)
	AND NOT EXISTS (SELECT 1 FROM blob_leases l WHERE l.digest = b.digest AND l.expires_at > ?)`

// GCBlob is a blob garbage collection considers.
type GCBlob struct {
	Digest string
	Size   int64
	// Deleting is set for a mark a GC left behind longer ago than the
	// stale cutoff (it crashed half-way); GC takes it over.
	Deleting bool
}

// BlobCandidates lists, in digest order after after, up to limit blobs
// that look like garbage: unreferenced and unused since cutoff, or marked
// before stale by a GC that never finished. MarkBlobDeleting checks again.
func (s *GCStore) BlobCandidates(ctx context.Context, cutoff, stale, now time.Time, after string, limit int) ([]GCBlob, error) {
	var out []GCBlob
	err := s.read(ctx).Raw(`SELECT b.digest, b.size, b.deleting_at IS NOT NULL AS deleting FROM blobs b
		WHERE b.digest > ? AND ((`+blobGarbage+`) OR b.deleting_at < ?)
		ORDER BY b.digest LIMIT ?`, after, cutoff, now, stale, limit).Scan(&out).Error
	return out, err
}

// BlobsUnusedSince lists those of digests that would be garbage if no
// manifest referenced them: for a dry run that deletes no manifest.
func (s *GCStore) BlobsUnusedSince(ctx context.Context, digests []string, cutoff, now time.Time) ([]GCBlob, error) {
	var out []GCBlob
	if len(digests) == 0 {
		return nil, nil
	}
	err := s.read(ctx).Raw(`SELECT b.digest, b.size FROM blobs b
		WHERE b.digest IN ? AND b.deleting_at IS NULL AND COALESCE(b.used_at, b.created_at) < ?
		AND NOT EXISTS (SELECT 1 FROM scanner_databases d WHERE d.digest = b.digest)
		AND NOT EXISTS (SELECT 1 FROM blob_leases l WHERE l.digest = b.digest AND l.expires_at > ?)`,
		digests, cutoff, now).Scan(&out).Error
	return out, err
}

// BlobReferrers maps each of digests to the manifests that reference it
// as a blob.
func (s *GCStore) BlobReferrers(ctx context.Context, digests []string) (map[string][]int64, error) {
	var rows []struct {
		Digest     string
		ManifestID int64
	}
	out := map[string][]int64{}
	if len(digests) == 0 {
		return out, nil
	}
	err := s.read(ctx).Raw(`SELECT digest, manifest_id FROM manifest_references
		WHERE kind = 'blob' AND digest IN ?`, digests).Scan(&rows).Error
	for _, r := range rows {
		out[r.Digest] = append(out[r.Digest], r.ManifestID)
	}
	return out, err
}

// MarkBlobDeleting marks digest for deletion if it is still garbage (or
// its mark is older than stale), dropping its repository links in the
// same transaction, and returns its size. marked is false when a writer
// got there first or another GC holds the mark.
func (s *GCStore) MarkBlobDeleting(ctx context.Context, digest string, cutoff, stale, now time.Time) (size int64, marked bool, err error) {
	err = s.tx(ctx, func(tx *gorm.DB) error {
		// The row lock first: every writer touches the row, so the checks
		// below see what a writer committed while we waited for it.
		res := tx.Exec("UPDATE blobs SET size = size WHERE digest = ?", digest)
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		var rows []struct {
			Size     int64
			Deleting bool
			Stale    bool
			Garbage  bool
		}
		if err := tx.Raw(`SELECT b.size, b.deleting_at IS NOT NULL AS deleting,
			(b.deleting_at IS NOT NULL AND b.deleting_at < ?) AS stale,
			(`+blobGarbage+`) AS garbage
			FROM blobs b WHERE b.digest = ?`, stale, cutoff, now, digest).Scan(&rows).Error; err != nil {
			return err
		}
		if len(rows) == 0 {
			return nil
		}
		r := rows[0]
		switch {
		case r.Deleting && !r.Stale:
			return nil // another GC is deleting it
		case !r.Deleting && !r.Garbage:
			return nil // a writer used it meanwhile
		}
		if err := tx.Exec("UPDATE blobs SET deleting_at = ? WHERE digest = ?", now, digest).Error; err != nil {
			return err
		}
		if err := tx.Exec("DELETE FROM repository_blobs WHERE digest = ?", digest).Error; err != nil {
			return err
		}
		size, marked = r.Size, true
		return nil
	})
	return size, marked, err
}

// MarkOrphanBlob claims a store file that has no row for deletion, by
// inserting its row already marked. It reports false when a row exists
// (a writer recorded the blob meanwhile).
func (s *GCStore) MarkOrphanBlob(ctx context.Context, digest string, size int64, now time.Time) (bool, error) {
	res := s.write(ctx).Exec(`INSERT INTO blobs (digest, size, created_at, used_at, deleting_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (digest) DO NOTHING`, digest, size, now, now, now)
	return res.RowsAffected == 1, res.Error
}

// ForgetBlob removes the row of a blob whose bytes GC has deleted.
func (s *GCStore) ForgetBlob(ctx context.Context, digest string) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Exec("DELETE FROM repository_blobs WHERE digest = ?", digest).Error; err != nil {
			return err
		}
		return tx.Exec("DELETE FROM blobs WHERE digest = ? AND deleting_at IS NOT NULL", digest).Error
	})
}

// KnownBlobs reports which of digests have a row.
func (s *GCStore) KnownBlobs(ctx context.Context, digests []string) (map[string]bool, error) {
	known := make(map[string]bool, len(digests))
	if len(digests) == 0 {
		return known, nil
	}
	var have []string
	if err := s.read(ctx).Model(&Blob{}).Where("digest IN ?", digests).Pluck("digest", &have).Error; err != nil {
		return nil, err
	}
	for _, d := range have {
		known[d] = true
	}
	return known, nil
}

// DeleteExpiredLeases drops leases of uploads that never finished.
func (s *GCStore) DeleteExpiredLeases(ctx context.Context, now time.Time) (int64, error) {
	res := s.write(ctx).Exec("DELETE FROM blob_leases WHERE expires_at <= ?", now)
	return res.RowsAffected, res.Error
}

// GCManifest is a manifest as untagged-manifest cleanup sees it. Root is
// set for a manifest that is kept whatever points to it: tagged, or used
// since the cutoff.
type GCManifest struct {
	ID            int64
	RepositoryID  int64
	Repository    string
	Digest        string
	SubjectDigest string
	Size          int64
	Root          bool
}

// Manifests lists manifests with ids after after, up to limit, in id
// order.
func (s *GCStore) Manifests(ctx context.Context, cutoff time.Time, after int64, limit int) ([]GCManifest, error) {
	var out []GCManifest
	err := s.read(ctx).Raw(`SELECT m.id, m.repository_id, r.name AS repository, m.digest, m.subject_digest, m.size,
		(EXISTS (SELECT 1 FROM tags t WHERE t.manifest_id = m.id) OR COALESCE(m.used_at, m.created_at) >= ?) AS root
		FROM manifests m JOIN repositories r ON r.id = m.repository_id
		WHERE m.id > ? ORDER BY m.id LIMIT ?`, cutoff, after, limit).Scan(&out).Error
	return out, err
}

// GCChild is an index's reference to a child manifest.
type GCChild struct {
	ParentID int64
	Digest   string
}

// Children lists the child-manifest references of manifests with ids
// after after, up to limit, in parent id order.
func (s *GCStore) Children(ctx context.Context, after int64, limit int) ([]GCChild, error) {
	var out []GCChild
	err := s.read(ctx).Raw(`SELECT manifest_id AS parent_id, digest FROM manifest_references
		WHERE kind = 'manifest' AND manifest_id IN (
			SELECT DISTINCT manifest_id FROM manifest_references WHERE kind = 'manifest' AND manifest_id > ?
			ORDER BY manifest_id LIMIT ?)
		ORDER BY manifest_id, digest`, after, limit).Scan(&out).Error
	return out, err
}

// BlobRefsOf lists the distinct blobs that manifests ids reference.
func (s *GCStore) BlobRefsOf(ctx context.Context, ids []int64) ([]string, error) {
	var out []string
	if len(ids) == 0 {
		return nil, nil
	}
	err := s.read(ctx).Raw(`SELECT DISTINCT digest FROM manifest_references
		WHERE kind = 'blob' AND manifest_id IN ?`, ids).Scan(&out).Error
	return out, err
}

// DeleteUntaggedManifest deletes manifest id if, under its row lock, it is
// still untagged, unused since cutoff, no child of a manifest of its
// repository and no referrer of a manifest its repository holds. It
// reports whether it deleted it.
func (s *GCStore) DeleteUntaggedManifest(ctx context.Context, id int64, cutoff time.Time) (bool, error) {
	deleted := false
	err := s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Exec("UPDATE manifests SET used_at = used_at WHERE id = ?", id)
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		var n int64
		if err := tx.Raw(`SELECT COUNT(*) FROM manifests m WHERE m.id = ?
			AND COALESCE(m.used_at, m.created_at) < ?
			AND NOT EXISTS (SELECT 1 FROM tags t WHERE t.manifest_id = m.id)
			AND NOT EXISTS (SELECT 1 FROM manifest_references r JOIN manifests p ON p.id = r.manifest_id
				WHERE r.kind = 'manifest' AND r.digest = m.digest AND p.repository_id = m.repository_id)
			AND (m.subject_digest = '' OR NOT EXISTS (SELECT 1 FROM manifests s
				WHERE s.repository_id = m.repository_id AND s.digest = m.subject_digest))`,
			id, cutoff).Scan(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		if err := forgetScans(tx, id); err != nil {
			return err
		}
		for _, q := range []string{
			"DELETE FROM manifest_references WHERE manifest_id = ?",
			"DELETE FROM manifests WHERE id = ?",
		} {
			if err := tx.Exec(q, id).Error; err != nil {
				return err
			}
		}
		deleted = true
		return nil
	})
	return deleted, err
}
