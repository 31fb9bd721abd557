package models

import (
	"context"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// ManifestStore keeps manifests with their references. A put stores the
// manifest, moves its tags and writes the webhook outbox in one
// transaction.
type ManifestStore struct{ *conn }

// Manifest is a manifest stored in a repository, with the bytes exactly as
// pushed and the fields the referrers API and the hub need.
type Manifest struct {
	ID            int64
	RepositoryID  int64
	Digest        string
	MediaType     string
	Size          int64
	ArtifactType  string
	SubjectDigest string
	ConfigDigest  string
	Annotations   string // JSON object, or empty
	Payload       []byte
	// ContentSize is what a pull downloads: config and layers, or the sum
	// over an index's children.
	ContentSize int64
	// Platforms is a JSON list of {os, architecture, variant}, with each
	// platform's digest and size in an index.
	Platforms string
	// Kind is what the manifest holds (artifact.Kind), or "" for a row
	// from before kinds were recorded that its media types do not settle.
	Kind string
	// Pusher is who pushed it first ("" for a mirror's fill).
	Pusher    string
	CreatedAt time.Time
	// UsedAt is when a put last relied on the manifest (see gc.go).
	UsedAt *time.Time
	// PulledAt is when it was last pulled, by tag or by digest (nil:
	// never); retention rules keep what is pulled.
	PulledAt *time.Time
}

// Reference kinds of a manifest: the blobs it names and child manifests.
const (
	RefBlob     = "blob"
	RefManifest = "manifest"
)

// ManifestReference is one descriptor a manifest points to.
type ManifestReference struct {
	ManifestID int64  `gorm:"primaryKey"`
	Digest     string `gorm:"primaryKey"`
	Kind       string
}

// Get finds a manifest of repository name by digest.
func (s *ManifestStore) Get(ctx context.Context, name, digest string) (*Manifest, error) {
	var m Manifest
	err := s.read(ctx).Raw(`SELECT m.* FROM manifests m JOIN repositories r ON r.id = m.repository_id
		WHERE r.name = ? AND m.digest = ?`, name, digest).Take(&m).Error
	if err != nil {
		return nil, notFound(err)
	}
	return &m, nil
}

// GetTagged finds the manifest tag points to in repository name.
func (s *ManifestStore) GetTagged(ctx context.Context, name, tag string) (*Manifest, error) {
	var m Manifest
	err := s.read(ctx).Raw(`SELECT m.* FROM manifests m
		JOIN tags t ON t.manifest_id = m.id
		JOIN repositories r ON r.id = t.repository_id
		WHERE r.name = ? AND t.name = ?`, name, tag).Take(&m).Error
	if err != nil {
		return nil, notFound(err)
	}
	return &m, nil
}

// MissingReferences returns the digests in blobs that repository name does
// not link and the digests in manifests that it does not hold.
func (s *ManifestStore) MissingReferences(ctx context.Context, name string, blobs, manifests []string) ([]string, error) {
	var missing []string
	var repoIDs []int64
	if err := s.read(ctx).Model(&Repository{}).Where("name = ?", name).Pluck("id", &repoIDs).Error; err != nil {
		return nil, err
	}
	if len(repoIDs) == 0 {
		return append(append(missing, blobs...), manifests...), nil
	}
	check := func(table string, want []string) error {
		if len(want) == 0 {
			return nil
		}
		var have []string
		if err := s.read(ctx).Table(table).Where("repository_id = ? AND digest IN ?", repoIDs[0], want).
			Pluck("digest", &have).Error; err != nil {
			return err
		}
		set := make(map[string]bool, len(have))
		for _, d := range have {
			set[d] = true
		}
		for _, d := range want {
			if !set[d] {
				missing = append(missing, d)
			}
		}
		return nil
	}
	if err := check("repository_blobs", blobs); err != nil {
		return nil, err
	}
	if err := check("manifests", manifests); err != nil {
		return nil, err
	}
	return missing, nil
}

// Put stores m in repository name (creating the repository), with
// its references, and points tags at it, in one transaction. Storing a
// manifest that is already there only moves the tags.
//
// Before anything else it touches, under their row locks, the blobs and
// child manifests that refs name and the manifest itself (see gc.go): a
// garbage collection that got there first has marked or removed them, and
// the put fails with a MissingReferenceError instead of referencing
// content that is going away.
//
// jobs are queued (signatures to verify, say) in the same transaction.
func (s *ManifestStore) Put(ctx context.Context, name string, m *Manifest, refs []ManifestReference, tags []string, pusher string, jobs ...JobRequest) error {
	return s.tx(ctx, func(tx *gorm.DB) error { return s.putManifest(tx, name, m, refs, tags, pusher, time.Time{}, jobs) })
}

// putManifest is Put in a transaction. A cache fill (a mirror storing
// what its upstream has: checked is when the upstream confirmed it) makes
// the repository public, records refs without asking that they be present
// (a mirror fetches blobs and child manifests as clients ask for them),
// marks the tags checked then, and queues no webhook: nobody pushed.
func (c *conn) putManifest(tx *gorm.DB, name string, m *Manifest, refs []ManifestReference, tags []string, pusher string, checked time.Time, jobs []JobRequest) error {
	fill := !checked.IsZero()
	var blobs, children []string
	for _, r := range refs {
		if r.Kind == RefManifest {
			children = append(children, r.Digest)
		} else {
			blobs = append(blobs, r.Digest)
		}
	}
	visibility := c.defaultVisibility()
	if fill {
		visibility = VisibilityPublic
	}
	repoID, err := c.ensureRepositoryAs(tx, name, visibility, false)
	if err != nil {
		return err
	}
	now := gcNow()
	if !fill {
		if err := touchManifests(tx, repoID, children, now); err != nil {
			return err
		}
		if err := touchBlobs(tx, blobs, now); err != nil {
			return err
		}
	}
	m.RepositoryID = repoID
	m.ID = 0
	res := tx.Exec("UPDATE manifests SET used_at = ? WHERE repository_id = ? AND digest = ?", now, repoID, m.Digest)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		m.CreatedAt, m.UsedAt = now, &now
		if !fill {
			m.Pusher = pusher
		}
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(m).Error; err != nil {
			return err
		}
		if m.ID != 0 && len(refs) > 0 {
			for i := range refs {
				refs[i].ManifestID = m.ID
			}
			if err := tx.Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(refs, 200).Error; err != nil {
				return err
			}
		}
	}
	if m.ID == 0 {
		if err := tx.Model(&Manifest{}).Where("repository_id = ? AND digest = ?", repoID, m.Digest).
			Select("id").Take(&m.ID).Error; err != nil {
			return err
		}
	}
	var rules []ImmutableRule
	if !fill && len(tags) > 0 {
		if rules, err = rulesOf(tx, repoID, NamespaceOf(name)); err != nil {
			return err
		}
	}
	for _, tag := range tags {
		t := Tag{RepositoryID: repoID, Name: tag, ManifestID: m.ID, Pusher: pusher, CreatedAt: now, UpdatedAt: now}
		if r := protects(rules, tag); r != nil {
			// An immutable tag is created, never moved: the insert does
			// nothing if it exists, and then it must point here already.
			if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&t).Error; err != nil {
				return err
			}
			var at []int64
			if err := tx.Model(&Tag{}).Where("repository_id = ? AND name = ?", repoID, tag).Pluck("manifest_id", &at).Error; err != nil {
				return err
			}
			if len(at) != 1 || at[0] != m.ID {
				return &ImmutableError{Tag: tag, Rule: r.Pattern, Owner: r.owner(name)}
			}
			if err := enqueue(tx, repoID, outboxEvent{Event: "push", Repository: name, Tag: tag, Digest: m.Digest, Actor: pusher}, false); err != nil {
				return err
			}
			continue
		}
		cols := []string{"manifest_id", "pusher", "updated_at"}
		if fill {
			at := checked.UTC()
			t.CheckedAt = &at
			cols = append(cols, "checked_at")
		}
		if err := tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "repository_id"}, {Name: "name"}},
			DoUpdates: clause.AssignmentColumns(cols),
		}).Create(&t).Error; err != nil {
			return err
		}
		if fill {
			continue
		}
		// The webhook outbox, in the same transaction as the tag.
		if err := enqueue(tx, repoID, outboxEvent{Event: "push", Repository: name, Tag: tag, Digest: m.Digest, Actor: pusher}, false); err != nil {
			return err
		}
	}
	if err := enqueueJobs(tx, repoID, jobs); err != nil {
		return err
	}
	return touchRepository(tx, repoID)
}

// Delete removes a manifest, the tags that point to it and its
// references; it reports whether the manifest existed. Actor (may be "")
// is who deleted it, on the delete events of the tags that go with it.
func (s *ManifestStore) Delete(ctx context.Context, name, digest, actor string) (bool, error) {
	var found bool
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var m Manifest
		err := tx.Raw(`SELECT m.id, m.repository_id FROM manifests m JOIN repositories r ON r.id = m.repository_id
			WHERE r.name = ? AND m.digest = ?`, name, digest).Take(&m).Error
		if err != nil {
			return notFound(err)
		}
		found = true
		var tags []string
		if err := tx.Table("tags").Where("manifest_id = ?", m.ID).Pluck("name", &tags).Error; err != nil {
			return err
		}
		if err := checkDeletable(tx, m.RepositoryID, name, tags); err != nil {
			return err
		}
		for _, t := range tags {
			if err := enqueue(tx, m.RepositoryID, outboxEvent{Event: "delete", Action: "tag_deleted", Repository: name, Tag: t, Digest: digest, Actor: actor}, false); err != nil {
				return err
			}
		}
		if err := forgetTrust(tx, m.RepositoryID, m.ID, digest); err != nil {
			return err
		}
		for _, q := range []string{
			"DELETE FROM tags WHERE manifest_id = ?",
			"DELETE FROM manifest_references WHERE manifest_id = ?",
			"DELETE FROM manifests WHERE id = ?",
		} {
			if err := tx.Exec(q, m.ID).Error; err != nil {
				return err
			}
		}
		return touchRepository(tx, m.RepositoryID)
	})
	if err == ErrNotFound {
		return false, nil
	}
	return found, err
}

// Referrers lists the manifests of repository name whose subject is
// digest, optionally only those of artifactType.
func (s *ManifestStore) Referrers(ctx context.Context, name, digest, artifactType string) ([]Manifest, error) {
	var ms []Manifest
	q := s.read(ctx).Table("manifests m").
		Select("m.id, m.digest, m.media_type, m.size, m.artifact_type, m.annotations, m.created_at, m.kind, m.pusher, m.content_size, m.subject_digest").
		Joins("JOIN repositories r ON r.id = m.repository_id").
		Where("r.name = ? AND m.subject_digest = ?", name, digest)
	if artifactType != "" {
		q = q.Where("m.artifact_type = ?", artifactType)
	}
	err := q.Order("m.id").Find(&ms).Error
	return ms, err
}

// ContentSizes returns the content size of each of digests that
// repository name holds.
func (s *ManifestStore) ContentSizes(ctx context.Context, name string, digests []string) (map[string]int64, error) {
	var rows []struct {
		Digest      string
		ContentSize int64
	}
	err := s.read(ctx).Table("manifests m").Select("m.digest, m.content_size").
		Joins("JOIN repositories r ON r.id = m.repository_id").
		Where("r.name = ? AND m.digest IN ?", name, digests).Scan(&rows).Error
	out := make(map[string]int64, len(rows))
	for _, r := range rows {
		out[r.Digest] = r.ContentSize
	}
	return out, err
}

// Summaries loads the manifests of repository name with the given
// digests, without their payloads (an index's children, on the hub's
// page of the index).
func (s *ManifestStore) Summaries(ctx context.Context, name string, digests []string) ([]Manifest, error) {
	var ms []Manifest
	if len(digests) == 0 {
		return ms, nil
	}
	err := s.read(ctx).Table("manifests m").
		Select("m.id, m.digest, m.media_type, m.size, m.artifact_type, m.kind, m.content_size, m.platforms, m.pusher, m.created_at").
		Joins("JOIN repositories r ON r.id = m.repository_id").
		Where("r.name = ? AND m.digest IN ?", name, digests).Find(&ms).Error
	return ms, err
}

// Parents lists the digests of the indexes of repository repoID that hold
// the manifest digest.
func (s *ManifestStore) Parents(ctx context.Context, repoID int64, digest string) ([]string, error) {
	var out []string
	err := s.read(ctx).Table("manifests m").Joins("JOIN manifest_references r ON r.manifest_id = m.id").
		Where("m.repository_id = ? AND r.digest = ? AND r.kind = ?", repoID, digest, RefManifest).
		Pluck("m.digest", &out).Error
	return out, err
}

// forgetTrust drops what trusting manifest id (digest) of repository
// repoID found, inside the transaction that deletes it: what it signed
// is verified again without it, and its own signatures and scan go.
func forgetTrust(tx *gorm.DB, repoID, id int64, digest string) error {
	var subjects []string
	if err := tx.Table("signatures").Where("repository_id = ? AND signature_digest = ?", repoID, digest).
		Distinct().Pluck("subject_digest", &subjects).Error; err != nil {
		return err
	}
	for _, sub := range subjects {
		if err := enqueueJobs(tx, repoID, []JobRequest{{Kind: JobVerify, Digest: sub}}); err != nil {
			return err
		}
	}
	if err := tx.Exec("DELETE FROM signatures WHERE repository_id = ? AND (signature_digest = ? OR subject_digest = ?)",
		repoID, digest, digest).Error; err != nil {
		return err
	}
	return forgetScans(tx, id)
}
