package models

import (
	"slices"
	"strings"

	"gorm.io/gorm"
)

// tagPlan works out a deletion inside its transaction.
type tagPlan struct {
	tx          *gorm.DB
	repoID      int64
	deleted     map[int64]string // tag id → name
	tagManifest map[int64]int64  // tag id → manifest id
	gone        map[int64]string // manifest id → digest
	digestOf    map[int64]string
	// spare, on a prune, are the immutability rules: a tag they protect
	// stays (spared), and so does what it holds.
	spare  []ImmutableRule
	spared map[string]bool
}

type tagRow struct {
	ID, ManifestID int64
	Name, Digest   string
}

type manifestRow struct {
	ID     int64
	Digest string
}

func newTagPlan(tx *gorm.DB, repoID int64) *tagPlan {
	return &tagPlan{tx: tx, repoID: repoID, deleted: map[int64]string{}, gone: map[int64]string{},
		tagManifest: map[int64]int64{}, digestOf: map[int64]string{}, spared: map[string]bool{}}
}

// run works out what goes with the tag rows and the manifest roots: the
// tags, then every manifest left with no tag, no index that stays
// holding it and no subject that stays, with their cosign tags.
func (p *tagPlan) run(rows []tagRow, roots []manifestRow) (*TagDeletion, error) {
	var queue []int64
	add := func(rows []tagRow) {
		for _, r := range rows {
			if _, ok := p.deleted[r.ID]; ok {
				continue
			}
			if p.spare != nil && protects(p.spare, r.Name) != nil {
				p.spared[r.Name] = true
				continue
			}
			p.deleted[r.ID], p.tagManifest[r.ID], p.digestOf[r.ManifestID] = r.Name, r.ManifestID, r.Digest
			queue = append(queue, r.ManifestID)
		}
	}
	add(rows)
	for _, m := range roots {
		p.digestOf[m.ID] = m.Digest
		queue = append(queue, m.ID)
	}
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
		var next []manifestRow
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
			t := "sha256-" + hex
			cosign, err := p.tags([]string{t + ".sig", t + ".att", t + ".sbom", t})
			if err != nil {
				return nil, err
			}
			add(cosign)
		}
	}
	out := &TagDeletion{Tags: []string{}, Manifests: []string{}, Missing: []string{}, Spared: []string{}}
	for _, t := range p.deleted {
		out.Tags = append(out.Tags, t)
	}
	for _, d := range p.gone {
		out.Manifests = append(out.Manifests, d)
	}
	for t := range p.spared {
		out.Spared = append(out.Spared, t)
	}
	slices.Sort(out.Tags)
	slices.Sort(out.Manifests)
	slices.Sort(out.Spared)
	var err error
	out.Bytes, err = p.bytes()
	return out, err
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

// manifests loads the repository's manifests with these digests.
func (p *tagPlan) manifests(digests []string) ([]manifestRow, error) {
	var out []manifestRow
	for _, chunk := range chunks(digests, 500) {
		var rows []manifestRow
		err := p.tx.Raw(`SELECT id, digest FROM manifests WHERE repository_id = ? AND digest IN ?`, p.repoID, chunk).Scan(&rows).Error
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

// bytes is what garbage collection can reclaim once the plan is done:
// the blobs that only the manifests that go hold (in any repository).
func (p *tagPlan) bytes() (int64, error) {
	ids := keys(p.gone)
	var total int64
	held := map[string]int64{} // blob digest → manifests going that hold it
	for _, chunk := range chunks(ids, 500) {
		var refs []string
		if err := p.tx.Raw(`SELECT digest FROM manifest_references WHERE manifest_id IN ? AND kind = 'blob'`, chunk).Scan(&refs).Error; err != nil {
			return 0, err
		}
		for _, d := range refs {
			held[d]++
		}
	}
	digests := make([]string, 0, len(held))
	for d := range held {
		digests = append(digests, d)
	}
	for _, chunk := range chunks(digests, 500) {
		var rows []struct {
			Digest string
			N      int64
			Size   int64
		}
		err := p.tx.Raw(`SELECT r.digest, COUNT(*) AS n, MAX(b.size) AS size FROM manifest_references r
			JOIN blobs b ON b.digest = r.digest
			WHERE r.kind = 'blob' AND r.digest IN ? GROUP BY r.digest`, chunk).Scan(&rows).Error
		if err != nil {
			return 0, err
		}
		for _, r := range rows {
			if r.N <= held[r.Digest] {
				total += r.Size
			}
		}
	}
	return total, nil
}

// lock holds the rows the plan removes until its transaction ends: a
// push that relies on one of them (an index naming a child, a tag
// moving) waits, then finds it gone.
func (p *tagPlan) lock() error {
	for _, chunk := range chunks(keys(p.gone), 500) {
		if err := p.tx.Exec("UPDATE manifests SET used_at = used_at WHERE id IN ?", chunk).Error; err != nil {
			return err
		}
	}
	for _, chunk := range chunks(keys(p.deleted), 500) {
		if err := p.tx.Exec("UPDATE tags SET manifest_id = manifest_id WHERE id IN ?", chunk).Error; err != nil {
			return err
		}
	}
	return nil
}

// apply removes what the plan found, with the delete events of its tags.
// Actor (may be "") is who removed them.
func (p *tagPlan) apply(name, actor string) error {
	for id, digest := range p.gone {
		if err := forgetTrust(p.tx, p.repoID, id, digest); err != nil {
			return err
		}
	}
	for id, tag := range p.deleted {
		digest := p.digestOf[p.tagManifest[id]]
		if err := enqueue(p.tx, p.repoID, outboxEvent{Event: "delete", Action: "tag_deleted", Repository: name, Tag: tag, Digest: digest, Actor: actor}, false); err != nil {
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
			if err := p.tx.Exec(q.sql, chunk).Error; err != nil {
				return err
			}
		}
	}
	if len(tagIDs) == 0 && len(manifestIDs) == 0 {
		return nil
	}
	return touchRepository(p.tx, p.repoID)
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
