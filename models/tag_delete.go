package models

import (
	"context"
	"errors"
	"slices"
	"strings"

	"gorm.io/gorm"
)

// TagDeletion is what deleting a set of tags takes with it.
type TagDeletion struct {
	// Tags are the names deleted (or, on a dry run, that would be): those
	// asked for that exist, and the cosign tags (sha256-HEX.sig, .att,
	// .sbom) of the manifests that go.
	Tags []string
	// Manifests are the digests that go: those the tags left without a
	// tag, the children only they held (an index's platforms), and what
	// was attached to them that nothing else holds.
	Manifests []string
	// Missing are the names asked for that are no tag here.
	Missing []string
}

// maxDeletedManifests bounds one deletion.
const maxDeletedManifests = 10000

// ErrTooMany refuses a deletion that would take more than
// maxDeletedManifests manifests with it.
var ErrTooMany = errors.New("too many manifests in one deletion")

// DeleteMany deletes the tags named of repository repoID (name is its
// full name), in one transaction, with every manifest that is left with
// no tag, no index holding it and no kept subject. With dryRun, it only
// says what would go. Actor (may be "") is who deleted them, on the
// delete events.
func (s *TagStore) DeleteMany(ctx context.Context, repoID int64, name string, tags []string, actor string, dryRun bool) (*TagDeletion, error) {
	var out *TagDeletion
	err := s.tx(ctx, func(tx *gorm.DB) error {
		p := &tagPlan{tx: tx, repoID: repoID, deleted: map[int64]string{}, gone: map[int64]string{}}
		var err error
		if out, err = p.run(tags); err != nil {
			return err
		}
		if err := checkDeletable(tx, repoID, name, out.Tags); err != nil {
			return err
		}
		if dryRun {
			return nil
		}
		for id, digest := range p.gone {
			if err := forgetTrust(tx, repoID, id, digest); err != nil {
				return err
			}
		}
		for id, tag := range p.deleted {
			digest := p.digestOf[p.tagManifest[id]]
			if err := enqueue(tx, repoID, outboxEvent{Event: "delete", Action: "tag_deleted", Repository: name, Tag: tag, Digest: digest, Actor: actor}, false); err != nil {
				return err
			}
		}
		tagIDs := keys(p.deleted)
		manifestIDs := keys(p.gone)
		for _, q := range []struct {
			sql string
			ids []int64
		}{
			{"DELETE FROM tags WHERE id IN ?", tagIDs},
			{"DELETE FROM manifest_references WHERE manifest_id IN ?", manifestIDs},
			{"DELETE FROM manifests WHERE id IN ?", manifestIDs},
		} {
			for _, chunk := range chunks(q.ids, 500) {
				if err := tx.Exec(q.sql, chunk).Error; err != nil {
					return err
				}
			}
		}
		if len(tagIDs) == 0 {
			return nil
		}
		return touchRepository(tx, repoID)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// tagPlan works out a deletion inside its transaction.
type tagPlan struct {
	tx          *gorm.DB
	repoID      int64
	deleted     map[int64]string // tag id → name
	tagManifest map[int64]int64  // tag id → manifest id
	gone        map[int64]string // manifest id → digest
	digestOf    map[int64]string
}

type tagRow struct {
	ID, ManifestID int64
	Name, Digest   string
}

func (p *tagPlan) run(names []string) (*TagDeletion, error) {
	p.tagManifest, p.digestOf = map[int64]int64{}, map[int64]string{}
	var queue []int64
	add := func(rows []tagRow) {
		for _, r := range rows {
			if _, ok := p.deleted[r.ID]; ok {
				continue
			}
			p.deleted[r.ID], p.tagManifest[r.ID], p.digestOf[r.ManifestID] = r.Name, r.ManifestID, r.Digest
			queue = append(queue, r.ManifestID)
		}
	}
	rows, err := p.tags(names)
	if err != nil {
		return nil, err
	}
	add(rows)
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		if _, ok := p.gone[id]; ok {
			continue
		}
		keep, err := p.kept(id)
		if err != nil || keep {
			if err != nil {
				return nil, err
			}
			continue
		}
		if len(p.gone) >= maxDeletedManifests {
			return nil, ErrTooMany
		}
		p.gone[id] = p.digestOf[id]
		// What only it held: its children, what is attached to it, and
		// its cosign tags.
		var next []struct {
			ID     int64
			Digest string
		}
		err = p.tx.Raw(`SELECT c.id, c.digest FROM manifests c WHERE c.repository_id = ? AND (
			c.digest IN (SELECT r.digest FROM manifest_references r WHERE r.manifest_id = ? AND r.kind = 'manifest')
			OR c.subject_digest = ?)`, p.repoID, id, p.digestOf[id]).Scan(&next).Error
		if err != nil {
			return nil, err
		}
		for _, n := range next {
			p.digestOf[n.ID] = n.Digest
			queue = append(queue, n.ID)
		}
		if hex, ok := strings.CutPrefix(p.digestOf[id], "sha256:"); ok {
			cosign, err := p.tags([]string{"sha256-" + hex + ".sig", "sha256-" + hex + ".att", "sha256-" + hex + ".sbom"})
			if err != nil {
				return nil, err
			}
			add(cosign)
		}
	}
	out := &TagDeletion{Tags: []string{}, Manifests: []string{}, Missing: []string{}}
	found := map[string]bool{}
	for _, t := range p.deleted {
		out.Tags = append(out.Tags, t)
		found[t] = true
	}
	for _, d := range p.gone {
		out.Manifests = append(out.Manifests, d)
	}
	for _, n := range names {
		if !found[n] {
			out.Missing = append(out.Missing, n)
		}
	}
	slices.Sort(out.Tags)
	slices.Sort(out.Manifests)
	return out, nil
}

// tags loads the tags of the repository with these names.
func (p *tagPlan) tags(names []string) ([]tagRow, error) {
	var out []tagRow
	for _, chunk := range chunks(names, 500) {
		var rows []tagRow
		err := p.tx.Raw(`SELECT t.id, t.manifest_id, t.name, m.digest FROM tags t JOIN manifests m ON m.id = t.manifest_id
			WHERE t.repository_id = ? AND t.name IN ?`, p.repoID, chunk).Scan(&rows).Error
		if err != nil {
			return nil, err
		}
		out = append(out, rows...)
	}
	return out, nil
}

// kept reports whether manifest id stays: a tag not deleted points at
// it, an index that stays holds it, or its subject stays.
func (p *tagPlan) kept(id int64) (bool, error) {
	var ids []int64
	if err := p.tx.Table("tags").Where("manifest_id = ?", id).Pluck("id", &ids).Error; err != nil {
		return false, err
	}
	for _, t := range ids {
		if _, ok := p.deleted[t]; !ok {
			return true, nil
		}
	}
	var parents []int64
	err := p.tx.Raw(`SELECT p.id FROM manifest_references r JOIN manifests p ON p.id = r.manifest_id
		WHERE p.repository_id = ? AND r.digest = ? AND r.kind = 'manifest'`, p.repoID, p.digestOf[id]).Scan(&parents).Error
	if err != nil {
		return false, err
	}
	for _, parent := range parents {
		if _, ok := p.gone[parent]; !ok {
			return true, nil
		}
	}
	var subject []int64
	err = p.tx.Raw(`SELECT s.id FROM manifests m JOIN manifests s ON s.repository_id = m.repository_id AND s.digest = m.subject_digest
		WHERE m.id = ?`, id).Scan(&subject).Error
	if err != nil {
		return false, err
	}
	for _, s := range subject {
		if _, ok := p.gone[s]; !ok {
			return true, nil
		}
	}
	return false, nil
}

func keys[V any](m map[int64]V) []int64 {
	out := make([]int64, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func chunks[T any](xs []T, n int) [][]T {
	var out [][]T
	for len(xs) > n {
		out = append(out, xs[:n])
		xs = xs[n:]
	}
	if len(xs) > 0 {
		out = append(out, xs)
	}
	return out
}
