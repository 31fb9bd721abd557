package models

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"gorm.io/gorm"
)

// TagDeletion is what deleting a set of tags takes with it.
type TagDeletion struct {
	// Tags are the names deleted (or, on a dry run, that would be): those
	// asked for that exist, and the cosign tags (sha256-HEX.sig, .att,
	// .sbom, and the referrers tag sha256-HEX) of the manifests that go.
	Tags []string
	// Manifests are the digests that go: those the tags left without a
	// tag, the children only they held (an index's platforms), and what
	// was attached to them that nothing else holds.
	Manifests []string
	// Missing are the names asked for that are no tag here.
	Missing []string
	// Spared are the tags a prune left because an immutability rule
	// protects them.
	Spared []string
	// Bytes is what garbage collection can reclaim once they are gone:
	// the blobs no other manifest holds.
	Bytes int64
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
// delete events. A tag an immutability rule protects refuses the whole
// deletion (ImmutableError).
func (s *TagStore) DeleteMany(ctx context.Context, repoID int64, name string, tags []string, actor string, dryRun bool) (*TagDeletion, error) {
	var out *TagDeletion
	err := s.tx(ctx, func(tx *gorm.DB) error {
		p := newTagPlan(tx, repoID)
		rows, err := p.tags(tags)
		if err != nil {
			return err
		}
		if out, err = p.run(rows, nil); err != nil {
			return err
		}
		out.Missing = missing(tags, out.Tags)
		if err := checkDeletable(tx, repoID, name, out.Tags); err != nil {
			return err
		}
		if dryRun {
			return nil
		}
		return p.apply(name, actor)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// PruneRequest is what a retention run removes from one repository.
type PruneRequest struct {
	// Tags map the names to remove to the manifest each pointed at when
	// the rules were weighed: a tag pushed elsewhere since then stays.
	Tags map[string]int64
	// Untagged are digests of untagged manifests to remove: one that a
	// tag, a kept index or a kept subject holds stays.
	Untagged []string
	// Run, if set, is recorded in the prune's transaction with what it
	// removed (not on a dry run): when something goes, or always with
	// RecordEmpty.
	Run         *RetentionRun
	RecordEmpty bool
}

// Prune removes what req names from repository repoID, in one
// transaction, as DeleteMany does, except that a tag an immutability
// rule protects is spared (and so is what it holds) rather than refusing
// the rest. With dryRun it only says what would go.
func (s *TagStore) Prune(ctx context.Context, repoID int64, name string, req PruneRequest, actor string, dryRun bool) (*TagDeletion, error) {
	var out *TagDeletion
	err := s.tx(ctx, func(tx *gorm.DB) error {
		rules, err := rulesOf(tx, repoID, NamespaceOf(name))
		if err != nil {
			return err
		}
		plan := func() (*tagPlan, *TagDeletion, error) {
			p := newTagPlan(tx, repoID)
			p.spare = rules
			names := make([]string, 0, len(req.Tags))
			for n := range req.Tags {
				names = append(names, n)
			}
			rows, err := p.tags(names)
			if err != nil {
				return nil, nil, err
			}
			kept := rows[:0]
			for _, r := range rows {
				if req.Tags[r.Name] == r.ManifestID {
					kept = append(kept, r)
				}
			}
			roots, err := p.manifests(req.Untagged)
			if err != nil {
				return nil, nil, err
			}
			d, err := p.run(kept, roots)
			return p, d, err
		}
		p, d, err := plan()
		if err != nil || dryRun {
			out = d
			return err
		}
		if len(d.Tags) == 0 && len(d.Manifests) == 0 {
			out = d
			if req.Run == nil || !req.RecordEmpty {
				return nil
			}
			return recordRun(tx, req.Run, d)
		}
		// Hold what goes, so that a push relying on it waits and then
		// finds it gone (or it finds the push's index, and stays): then
		// weigh again under the locks.
		if err := p.lock(); err != nil {
			return err
		}
		if p, out, err = plan(); err != nil {
			return err
		}
		if err := p.apply(name, actor); err != nil || req.Run == nil {
			return err
		}
		return recordRun(tx, req.Run, out)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// missing lists the names asked for that found is not among.
func missing(asked, found []string) []string {
	got := map[string]bool{}
	for _, f := range found {
		got[f] = true
	}
	out := []string{}
	for _, n := range asked {
		if !got[n] {
			out = append(out, n)
		}
	}
	return out
}

// runListJSON is a run's list of names or digests, as the run records
// it: at most maxRunListed of them.
func runListJSON(xs []string) string {
	if len(xs) > maxRunListed {
		xs = xs[:maxRunListed]
	}
	b, _ := json.Marshal(xs)
	return string(b)
}

// maxRunListed bounds the tags and the manifests a run lists.
const maxRunListed = 1000

// recordRun stores run, with what d removed, inside tx.
func recordRun(tx *gorm.DB, r *RetentionRun, d *TagDeletion) error {
	r.TagCount, r.ManifestCount, r.Bytes = len(d.Tags), len(d.Manifests), d.Bytes
	r.Tags, r.Manifests = runListJSON(d.Tags), runListJSON(d.Manifests)
	r.FinishedAt = time.Now().UTC()
	return insertRun(tx, r)
}
