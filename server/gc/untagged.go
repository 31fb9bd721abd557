package gc

import (
	"context"
	"slices"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/events"
)

// untaggedGarbage marks the manifests that something keeps, and returns
// the others, in id order. Roots are tagged manifests and those used
// within the grace window; a kept index keeps its children, and a kept
// manifest keeps its referrers (signatures, SBOMs), within a repository.
func (r *run) untaggedGarbage(ctx context.Context) ([]models.GCManifest, error) {
	type key struct {
		repo   int64
		digest string
	}
	var all []models.GCManifest
	byID := map[int64]int{}
	byKey := map[key]int{}
	referrers := map[key][]int{} // by subject
	for after := int64(0); ; {
		ms, err := r.c.db.GC.Manifests(ctx, r.cutoff, after, 1000)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			i := len(all)
			all = append(all, m)
			byID[m.ID] = i
			byKey[key{m.RepositoryID, m.Digest}] = i
			if m.SubjectDigest != "" {
				k := key{m.RepositoryID, m.SubjectDigest}
				referrers[k] = append(referrers[k], i)
			}
			after = m.ID
		}
		if len(ms) < 1000 {
			break
		}
	}
	children := map[int][]int{}
	for after := int64(0); ; {
		cs, err := r.c.db.GC.Children(ctx, after, 1000)
		if err != nil {
			return nil, err
		}
		for _, ch := range cs {
			after = ch.ParentID
			p, ok := byID[ch.ParentID]
			if !ok {
				continue // stored after the listing: it is young anyway
			}
			if c, ok := byKey[key{all[p].RepositoryID, ch.Digest}]; ok {
				children[p] = append(children[p], c)
			}
		}
		if len(cs) == 0 {
			break
		}
	}
	live := make([]bool, len(all))
	var stack []int
	for i, m := range all {
		if m.Root {
			live[i] = true
			stack = append(stack, i)
		}
	}
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		next := append(slices.Clone(children[i]), referrers[key{all[i].RepositoryID, all[i].Digest}]...)
		for _, j := range next {
			if !live[j] {
				live[j] = true
				stack = append(stack, j)
			}
		}
	}
	var garbage []models.GCManifest
	for i, m := range all {
		if !live[i] {
			garbage = append(garbage, m)
		}
	}
	return garbage, nil
}

// deleteManifests deletes the garbage manifests, each after the database
// checks it again under its row lock. An index goes before its children
// and a subject before its referrers, so rounds repeat while they make
// progress; what a push used meanwhile stays.
func (r *run) deleteManifests(ctx context.Context, garbage []models.GCManifest) error {
	if r.opts.DryRun {
		for _, m := range garbage {
			r.rep.Manifests++
			r.rep.ManifestBytes += m.Size
		}
		return nil
	}
	pending := garbage
	for len(pending) > 0 {
		var next []models.GCManifest
		for _, m := range pending {
			deleted, err := r.c.db.GC.DeleteUntaggedManifest(ctx, m.ID, r.cutoff)
			if err != nil {
				return err
			}
			if !deleted {
				next = append(next, m)
				continue
			}
			r.rep.Manifests++
			r.rep.ManifestBytes += m.Size
			r.c.hooks.Events.Publish(events.Event{Kind: events.ManifestDeleted, Repository: m.Repository, Digest: m.Digest, Actor: "gc"})
		}
		if len(next) == len(pending) {
			r.rep.Kept += len(next)
			break
		}
		pending = next
	}
	return nil
}

// blobsOfGarbage adds to a dry run's report the blobs that only garbage
// manifests reference: a real run would delete those manifests first and
// then find the blobs unreferenced.
func (r *run) blobsOfGarbage(ctx context.Context, garbage []models.GCManifest) error {
	gone := make(map[int64]bool, len(garbage))
	ids := make([]int64, 0, len(garbage))
	for _, m := range garbage {
		gone[m.ID] = true
		ids = append(ids, m.ID)
	}
	seen := map[string]bool{}
	for chunk := range slices.Chunk(ids, batch) {
		digests, err := r.c.db.GC.BlobRefsOf(ctx, chunk)
		if err != nil {
			return err
		}
		var fresh []string
		for _, d := range digests {
			if !seen[d] {
				seen[d] = true
				fresh = append(fresh, d)
			}
		}
		refs, err := r.c.db.GC.BlobReferrers(ctx, fresh)
		if err != nil {
			return err
		}
		var orphaned []string
		for _, d := range fresh {
			if !slices.ContainsFunc(refs[d], func(id int64) bool { return !gone[id] }) {
				orphaned = append(orphaned, d)
			}
		}
		blobs, err := r.c.db.GC.BlobsUnusedSince(ctx, orphaned, r.cutoff, r.now)
		if err != nil {
			return err
		}
		for _, b := range blobs {
			r.rep.Blobs++
			r.rep.BlobBytes += b.Size
		}
	}
	return nil
}
