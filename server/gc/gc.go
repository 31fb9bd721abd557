package gc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/events"
	"github.com/wharfhub/wharf/server/storage"
)

// DefaultGrace is how long a blob or manifest nobody uses is kept, as
// Harbor does: a push uploads its layers well before its manifest.
const DefaultGrace = 2 * time.Hour

// staleMark is how old a deletion mark must be before another run takes
// it over (its collector died between the mark and the row's removal).
const staleMark = 10 * time.Minute

// batch is how many rows or store entries one query handles.
const batch = 256

// Options chooses what a run does.
type Options struct {
	// Grace keeps blobs and manifests used more recently than this.
	Grace time.Duration
	// DeleteUntagged also deletes manifests that no tag, index or
	// subject keeps (and then the blobs only they referenced).
	DeleteUntagged bool
	// DryRun reports what a run would delete and deletes nothing.
	DryRun bool
}

// Report says what a run deleted, or in a dry run would delete.
type Report struct {
	DryRun bool
	// Manifests and ManifestBytes: untagged manifests (stored in the
	// database).
	Manifests     int
	ManifestBytes int64
	// Blobs and BlobBytes: blobs the database recorded.
	Blobs     int
	BlobBytes int64
	// Orphans and OrphanBytes: store files the database did not know.
	Orphans     int
	OrphanBytes int64
	// Kept counts candidates that a push used again before they went.
	Kept int
	// Errors counts blobs the store failed to delete (retried next run).
	Errors   int
	Duration time.Duration
}

// BytesReclaimed is everything the run freed (or would free).
func (r Report) BytesReclaimed() int64 { return r.BlobBytes + r.OrphanBytes + r.ManifestBytes }

func (r Report) String() string {
	verb := "deleted"
	if r.DryRun {
		verb = "would delete"
	}
	return fmt.Sprintf("%s %d blobs (%d bytes), %d unrecorded store files (%d bytes) and %d untagged manifests (%d bytes): %d bytes reclaimed; %d kept because used meanwhile, %d errors, in %s",
		verb, r.Blobs, r.BlobBytes, r.Orphans, r.OrphanBytes, r.Manifests, r.ManifestBytes,
		r.BytesReclaimed(), r.Kept, r.Errors, r.Duration.Round(time.Millisecond))
}

// Collector runs garbage collection on one database and blob store.
type Collector struct {
	db    *models.DB
	store storage.Driver
	log   *slog.Logger
	hooks Hooks
	// now is the clock (tests move it).
	now func() time.Time
	// beforeMark, if set, runs between a blob's listing as a candidate
	// and its mark (tests race writers there).
	beforeMark func(dgst string)
	// mu runs one collection at a time in this process; runs in other
	// processes are safe too, only wasteful.
	mu sync.Mutex
}

// Hooks connect a collector to the rest of the server; each may be nil.
type Hooks struct {
	// Events hears of each untagged manifest deleted.
	Events *events.Bus
	// Observe is told of every run that is not a dry run (for metrics).
	Observe func(Report, error)
	// Turn tells RunEvery whether this replica collects in the interval
	// starting now, so that replicas take turns instead of each
	// collecting (which is safe, only wasted work).
	Turn func(ctx context.Context, interval time.Duration) (bool, error)
}

// New makes a collector.
func New(db *models.DB, store storage.Driver, log *slog.Logger, hooks Hooks) *Collector {
	return &Collector{db: db, store: store, log: log, hooks: hooks, now: time.Now}
}

// Run collects garbage once and reports what it reclaimed.
func (c *Collector) Run(ctx context.Context, opts Options) (Report, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	start := time.Now()
	r := &run{c: c, opts: opts, now: c.now().UTC(), rep: Report{DryRun: opts.DryRun}}
	r.cutoff = r.now.Add(-opts.Grace)
	r.stale = r.now.Add(-staleMark)
	err := r.do(ctx)
	r.rep.Duration = time.Since(start)
	if c.hooks.Observe != nil && !opts.DryRun {
		c.hooks.Observe(r.rep, err)
	}
	return r.rep, err
}

// run is one collection's state.
type run struct {
	c      *Collector
	opts   Options
	now    time.Time
	cutoff time.Time // used before this is unused
	stale  time.Time // marked before this is abandoned
	rep    Report
}

func (r *run) do(ctx context.Context) error {
	if !r.opts.DryRun {
		if _, err := r.c.db.GC.DeleteExpiredLeases(ctx, r.now); err != nil {
			return fmt.Errorf("gc: expire leases: %w", err)
		}
	}
	var garbage []models.GCManifest
	if r.opts.DeleteUntagged {
		var err error
		if garbage, err = r.untaggedGarbage(ctx); err != nil {
			return fmt.Errorf("gc: untagged manifests: %w", err)
		}
		if err := r.deleteManifests(ctx, garbage); err != nil {
			return fmt.Errorf("gc: untagged manifests: %w", err)
		}
	}
	if err := r.sweepBlobs(ctx); err != nil {
		return fmt.Errorf("gc: blobs: %w", err)
	}
	if r.opts.DryRun && len(garbage) > 0 {
		if err := r.blobsOfGarbage(ctx, garbage); err != nil {
			return fmt.Errorf("gc: blobs of untagged manifests: %w", err)
		}
	}
	if err := r.sweepOrphans(ctx); err != nil {
		return fmt.Errorf("gc: store files: %w", err)
	}
	return nil
}

// sweepBlobs deletes recorded blobs that no manifest references, one at a
// time: mark (the database decides, against concurrent writers), delete
// the bytes, forget the row. A writer waiting on the mark waits for one
// blob only.
func (r *run) sweepBlobs(ctx context.Context) error {
	after := ""
	for {
		cands, err := r.c.db.GC.BlobCandidates(ctx, r.cutoff, r.stale, r.now, after, batch)
		if err != nil {
			return err
		}
		for _, b := range cands {
			after = b.Digest
			if r.opts.DryRun {
				if !b.Deleting {
					r.rep.Blobs++
					r.rep.BlobBytes += b.Size
				}
				continue
			}
			if err := r.deleteBlob(ctx, b.Digest); err != nil {
				return err
			}
		}
		if len(cands) < batch {
			return nil
		}
	}
}

// deleteBlob marks one candidate and, if the mark holds, deletes it.
func (r *run) deleteBlob(ctx context.Context, dgst string) error {
	if r.c.beforeMark != nil {
		r.c.beforeMark(dgst)
	}
	_, marked, err := r.c.db.GC.MarkBlobDeleting(ctx, dgst, r.cutoff, r.stale, r.now)
	if err != nil {
		return err
	}
	if !marked {
		r.rep.Kept++
		return nil
	}
	size, ok, err := r.removeBytes(ctx, digest.Digest(dgst))
	if err != nil || !ok {
		return err
	}
	if err := r.c.db.GC.ForgetBlob(ctx, dgst); err != nil {
		return err
	}
	r.rep.Blobs++
	r.rep.BlobBytes += size
	return nil
}

// removeBytes deletes a marked blob's bytes and returns how many the store
// held. A store that fails leaves the mark for a later run (ok false).
func (r *run) removeBytes(ctx context.Context, dgst digest.Digest) (size int64, ok bool, err error) {
	size, err = r.c.store.Stat(ctx, dgst)
	if errors.Is(err, storage.ErrNotFound) {
		size, err = 0, nil // an upload that never committed, or a retry
	}
	if err == nil {
		err = r.c.store.Delete(ctx, dgst)
	}
	if err != nil {
		if ctx.Err() != nil {
			return 0, false, ctx.Err()
		}
		r.c.log.Error("gc: delete blob from the store", "digest", dgst, "err", err)
		r.rep.Errors++
		return 0, false, nil
	}
	return size, true, nil
}

// sweepOrphans deletes store files older than the grace window that the
// database does not record: leftovers of crashes, or of a lost database.
func (r *run) sweepOrphans(ctx context.Context) error {
	type file struct {
		dgst digest.Digest
		size int64
	}
	var pending []file
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		digests := make([]string, len(pending))
		for i, f := range pending {
			digests[i] = f.dgst.String()
		}
		known, err := r.c.db.GC.KnownBlobs(ctx, digests)
		if err != nil {
			return err
		}
		for _, f := range pending {
			if known[f.dgst.String()] {
				continue
			}
			if r.opts.DryRun {
				r.rep.Orphans++
				r.rep.OrphanBytes += f.size
				continue
			}
			// Claiming the file with a marked row turns away any writer
			// that records the blob from now on; one that did already
			// made the claim fail.
			claimed, err := r.c.db.GC.MarkOrphanBlob(ctx, f.dgst.String(), f.size, r.now)
			if err != nil {
				return err
			}
			if !claimed {
				r.rep.Kept++
				continue
			}
			size, ok, err := r.removeBytes(ctx, f.dgst)
			if err != nil || !ok {
				return err
			}
			if err := r.c.db.GC.ForgetBlob(ctx, f.dgst.String()); err != nil {
				return err
			}
			r.rep.Orphans++
			r.rep.OrphanBytes += size
		}
		pending = pending[:0]
		return nil
	}
	err := r.c.store.WalkBlobs(ctx, func(dgst digest.Digest, size int64, modTime time.Time) error {
		if !modTime.Before(r.cutoff) {
			return nil
		}
		pending = append(pending, file{dgst, size})
		if len(pending) >= batch {
			return flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	return flush()
}
