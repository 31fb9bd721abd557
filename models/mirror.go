package models

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// MirrorStore is what a mirror keeps of its upstream: cache fills and when
// each tag was last confirmed.
type MirrorStore struct{ *conn }

// Fill stores manifest m of repository name as its upstream has it, with
// refs (present or not: a mirror fetches them as clients ask), pointing
// tag at it (none for a fill by digest), as the upstream confirmed it at
// checked.
func (s *MirrorStore) Fill(ctx context.Context, name string, m *Manifest, refs []ManifestReference, tag string, checked time.Time, jobs ...JobRequest) error {
	var tags []string
	if tag != "" {
		tags = []string{tag}
	}
	return s.tx(ctx, func(tx *gorm.DB) error { return s.putManifest(tx, name, m, refs, tags, "", checked, jobs) })
}

// MirroredTag is a tag as a mirror holds it.
type MirroredTag struct {
	Manifest  *Manifest // what it points at
	CheckedAt time.Time // zero if never checked
}

// Tag returns the manifest repository name's tag points at and when the
// upstream last confirmed it (one query, as a local tag's pull makes), or
// ErrNotFound.
func (s *MirrorStore) Tag(ctx context.Context, name, tag string) (*MirroredTag, error) {
	var row struct {
		Manifest     `gorm:"embedded"`
		TagCheckedAt *time.Time
	}
	err := s.read(ctx).Raw(`SELECT m.*, t.checked_at AS tag_checked_at FROM manifests m
		JOIN tags t ON t.manifest_id = m.id
		JOIN repositories r ON r.id = t.repository_id
		WHERE r.name = ? AND t.name = ?`, name, tag).Take(&row).Error
	if err != nil {
		return nil, notFound(err)
	}
	t := &MirroredTag{Manifest: &row.Manifest}
	if row.TagCheckedAt != nil {
		t.CheckedAt = *row.TagCheckedAt
	}
	return t, nil
}

// Checked records that the upstream confirmed repository name's tag at.
func (s *MirrorStore) Checked(ctx context.Context, name, tag string, at time.Time) error {
	return s.write(ctx).Exec(`UPDATE tags SET checked_at = ? WHERE name = ? AND repository_id =
		(SELECT id FROM repositories WHERE name = ?)`, at.UTC(), tag, name).Error
}

// Unpulled lists up to limit repositories of the namespaces nss that
// nobody pulled since before (or, never pulled, that were made before),
// oldest first: what a mirror's retention evicts.
func (s *MirrorStore) Unpulled(ctx context.Context, nss []string, before time.Time, limit int) ([]Repository, error) {
	var out []Repository
	if len(nss) == 0 {
		return out, nil
	}
	err := s.read(ctx).Where("namespace IN ? AND COALESCE(pulled_at, created_at) < ?", nss, before.UTC()).
		Order("COALESCE(pulled_at, created_at), id").Limit(limit).Find(&out).Error
	return out, err
}

// MirrorDef is a mirror defined through the API.
type MirrorDef struct {
	Name           string `gorm:"primaryKey"`
	URL            string
	Username       string
	SealedPassword []byte
	CreatedAt      time.Time
}

// TableName is the mirrors' table.
func (MirrorDef) TableName() string { return "mirrors" }

// Define records a mirror and takes its namespace: a name an account, an
// organization or another mirror holds is ErrConflict.
func (s *MirrorStore) Define(ctx context.Context, d *MirrorDef) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		if err := claimNamespace(tx, d.Name, NamespaceMirror, time.Now().UTC()); err != nil {
			return err
		}
		d.CreatedAt = time.Now().UTC()
		if err := tx.Create(d).Error; err != nil {
			if isUniqueViolation(err) {
				return ErrConflict
			}
			return err
		}
		return nil
	})
}

// Defined lists the mirrors defined through the API.
func (s *MirrorStore) Defined(ctx context.Context) ([]MirrorDef, error) {
	var out []MirrorDef
	err := s.read(ctx).Order("name").Find(&out).Error
	return out, err
}

// Undefine removes a mirror defined through the API with its namespace
// and everything it cached; a name no such mirror has is ErrNotFound.
func (s *MirrorStore) Undefine(ctx context.Context, name string) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Exec("DELETE FROM mirrors WHERE name = ?", name)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		return dropNamespace(tx, name)
	})
}

// TakeFetch claims the fetch called key for holder until until, if no
// other holder has a claim that lasts past now; holder's own claim is
// extended. It reports whether holder has the claim.
func (s *MirrorStore) TakeFetch(ctx context.Context, key, holder string, now, until time.Time) (bool, error) {
	res := s.write(ctx).Exec(`INSERT INTO mirror_fetches (key, holder, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		WHERE mirror_fetches.expires_at <= ? OR mirror_fetches.holder = excluded.holder`,
		key, holder, until.UTC(), now.UTC())
	return res.RowsAffected == 1, res.Error
}

// ReleaseFetch ends holder's claim on the fetch called key.
func (s *MirrorStore) ReleaseFetch(ctx context.Context, key, holder string) error {
	return s.write(ctx).Exec("DELETE FROM mirror_fetches WHERE key = ? AND holder = ?", key, holder).Error
}
