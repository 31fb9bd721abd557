package indexer

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/search"
	"github.com/wharfhub/wharf/server/events"
)

// FlushInterval bounds how long a change waits before it is searchable.
const FlushInterval = 200 * time.Millisecond

// PollInterval is how often the change log is read for other replicas'
// changes when this one is quiet.
const PollInterval = 500 * time.Millisecond

// Indexer feeds the search index.
type Indexer struct {
	db  *models.DB
	idx search.Index
	log *slog.Logger

	mu         sync.Mutex
	pending    []models.Change   // events seen here, to record in the log
	repos      map[string]bool   // repositories to reindex (or delete)
	namespaces map[string]bool   // namespaces to drop
	created    map[string]string // namespaces to add, with their kind
	wake       chan struct{}
	flushed    chan struct{} // closed and replaced after each flush, for Sync
	busy       bool          // a step is carrying recorded events to the index

	follow follower
	// rebuild is set by Open for an index Run must rebuild first; until
	// the rebuild is done the cursor is not saved, so that one cut short
	// (by a shutdown) is started again on the next start.
	rebuild    bool
	rebuilding atomic.Bool
}

// New makes an indexer and subscribes it to bus.
func New(db *models.DB, idx search.Index, bus *events.Bus, log *slog.Logger) *Indexer {
	ix := &Indexer{db: db, idx: idx, log: log, repos: map[string]bool{}, namespaces: map[string]bool{}, created: map[string]string{},
		wake: make(chan struct{}, 1), flushed: make(chan struct{})}
	if bus != nil {
		bus.Subscribe(ix.onEvent)
	}
	return ix
}

// onEvent queues an event for the change log; it never blocks.
func (ix *Indexer) onEvent(e events.Event) {
	c := models.Change{Kind: string(e.Kind), Repository: e.Repository, Namespace: e.Namespace}
	if e.Kind == events.NamespaceCreated {
		c.Detail = e.Actor // the namespace's kind
	}
	ix.mu.Lock()
	ix.pending = append(ix.pending, c)
	ix.mu.Unlock()
	select {
	case ix.wake <- struct{}{}:
	default:
	}
}

// apply queues what one change touched; ix.mu is held.
func (ix *Indexer) apply(c models.Change) {
	switch {
	case c.Kind == string(events.NamespaceDeleted):
		ix.namespaces[c.Namespace] = true
		delete(ix.created, c.Namespace)
	case c.Kind == string(events.NamespaceCreated):
		ix.created[c.Namespace] = c.Detail
	case c.Repository != "":
		ix.repos[c.Repository] = true
	}
}

// Touch queues a repository for reindexing, on every replica.
func (ix *Indexer) Touch(name string) {
	ix.onEvent(events.Event{Kind: events.RepositoryChanged, Repository: name})
}

// Run records, follows and flushes changes until ctx ends (rebuilding
// the index first, while serving, if Open found that it needs one). When
// ctx ends it flushes what is queued, saves its place in the change log
// and returns.
func (ix *Indexer) Run(ctx context.Context) error {
	if ix.rebuild {
		ix.rebuild = false
		ix.rebuilding.Store(true)
		done := make(chan struct{})
		defer func() { <-done }()
		go func() {
			defer close(done)
			if _, err := ix.Rebuild(ctx); err != nil && ctx.Err() == nil {
				ix.log.Error("search: rebuild", "err", err)
			}
		}()
	}
	// A step that has begun finishes, even if ctx ends meanwhile: the
	// events it took are in no queue but its own.
	work := context.WithoutCancel(ctx)
	poll := time.NewTicker(PollInterval)
	defer poll.Stop()
	prune := time.NewTicker(time.Hour)
	defer prune.Stop()
	for {
		select {
		case <-ctx.Done():
			ix.step(work)
			return nil
		case <-prune.C:
			ix.prune(ctx)
			continue
		case <-poll.C:
		case <-ix.wake:
			// Gather what arrives in a short window into one batch.
			select {
			case <-ctx.Done():
			case <-time.After(FlushInterval):
			}
		}
		ix.step(work)
	}
}

// Sync waits until everything queued before the call is in the index.
func (ix *Indexer) Sync(ctx context.Context) error {
	ix.mu.Lock()
	pending := ix.busy || len(ix.pending) > 0 || len(ix.repos) > 0 || len(ix.namespaces) > 0 || len(ix.created) > 0
	ch := ix.flushed
	ix.mu.Unlock()
	if !pending {
		return nil
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// step records the events seen here, reads the log past the cursor and
// flushes what it names into the index.
func (ix *Indexer) step(ctx context.Context) {
	ix.mu.Lock()
	rec := ix.pending
	ix.pending = nil
	ix.busy = ix.busy || len(rec) > 0
	ix.mu.Unlock()
	if err := ix.db.Changes.Append(ctx, rec); err != nil {
		// Not lost here at least: index them locally.
		ix.log.Error("search: record changes", "count", len(rec), "err", err)
		ix.mu.Lock()
		for _, c := range rec {
			ix.apply(c)
		}
		ix.mu.Unlock()
	}
	changes, err := ix.follow.next(ctx, ix.db)
	if err != nil {
		ix.log.Error("search: read change log", "err", err)
	}
	ix.mu.Lock()
	for _, c := range changes {
		ix.apply(c)
	}
	ix.mu.Unlock()
	ix.flush(ctx)
	if ix.rebuilding.Load() {
		return // Rebuild saves the cursor when it is done
	}
	if err := ix.follow.save(); err != nil {
		ix.log.Error("search: save change log cursor", "err", err)
	}
}

func (ix *Indexer) prune(ctx context.Context) {
	if n, err := ix.db.Changes.Prune(ctx, time.Now().Add(-LogRetention)); err != nil {
		ix.log.Error("search: prune change log", "err", err)
	} else if n > 0 {
		ix.log.Debug("search: pruned change log", "entries", n)
	}
}

func (ix *Indexer) flush(ctx context.Context) {
	ix.mu.Lock()
	repos, nss, created := ix.repos, ix.namespaces, ix.created
	ix.repos, ix.namespaces, ix.created = map[string]bool{}, map[string]bool{}, map[string]string{}
	done := ix.flushed
	ix.flushed = make(chan struct{})
	ix.busy = false
	ix.mu.Unlock()
	defer close(done)
	for ns := range nss {
		if err := ix.idx.DeleteNamespace(ctx, ns); err != nil {
			ix.log.Error("search: drop namespace", "namespace", ns, "err", err)
		}
	}
	if len(created) > 0 {
		var add []search.Namespace
		for n, kind := range created {
			add = append(add, search.Namespace{Name: n, Kind: kind})
		}
		if err := ix.idx.IndexNamespaces(ctx, add); err != nil {
			ix.log.Error("search: index namespaces", "err", err)
		}
	}
	names := make([]string, 0, len(repos))
	for n := range repos {
		names = append(names, n)
	}
	if err := ix.indexNames(ctx, names); err != nil {
		ix.log.Error("search: index repositories", "count", len(names), "err", err)
	}
}

// indexNames loads repositories from the database and indexes them, or
// deletes those that are gone.
func (ix *Indexer) indexNames(ctx context.Context, names []string) error {
	if len(names) == 0 {
		return nil
	}
	docs, err := ix.load(ctx, names)
	if err != nil {
		return err
	}
	found := map[string]bool{}
	for _, d := range docs {
		found[d.Name] = true
	}
	var gone []string
	for _, n := range names {
		if !found[n] {
			gone = append(gone, n)
		}
	}
	if len(docs) > 0 {
		if err := ix.idx.IndexRepos(ctx, docs); err != nil {
			return err
		}
	}
	if len(gone) > 0 {
		return ix.idx.DeleteRepos(ctx, gone)
	}
	return nil
}

// load builds index documents for the named repositories that exist.
func (ix *Indexer) load(ctx context.Context, names []string) ([]search.Repo, error) {
	rows, err := ix.db.Repositories.SearchDocs(ctx, names)
	if err != nil {
		return nil, err
	}
	out := make([]search.Repo, 0, len(rows))
	for _, r := range rows {
		d := search.Repo{
			Name: r.Name, Namespace: r.Namespace, Description: r.Description, Readme: r.Readme,
			Tags: r.Tags, Stars: r.StarCount, Pulls: r.PullCount, Updated: r.UpdatedAt,
			Readers: []string{search.NamespaceReader(r.Namespace)},
		}
		if r.Visibility == models.VisibilityPublic {
			d.Readers = append(d.Readers, search.PublicReader)
		}
		for _, uid := range r.Collaborators {
			d.Readers = append(d.Readers, search.CollaboratorReader(uid))
		}
		out = append(out, d)
	}
	return out, nil
}

// Rebuild indexes every repository and namespace from the database, in
// batches, while the index keeps serving what it has.
func (ix *Indexer) Rebuild(ctx context.Context) (int, error) {
	start := time.Now()
	// Changes logged from here on are followed anyway; those before are
	// covered by reading the database.
	_, upTo, err := ix.db.Changes.IDRange(ctx)
	if err != nil {
		return 0, err
	}
	count := 0
	last := ""
	for {
		names, err := ix.db.Repositories.List(ctx, last, 500)
		if err != nil {
			return count, err
		}
		if len(names) == 0 {
			break
		}
		if err := ix.indexNames(ctx, names); err != nil {
			return count, err
		}
		count += len(names)
		last = names[len(names)-1]
	}
	nss, err := ix.db.Namespaces.List(ctx)
	if err != nil {
		return count, err
	}
	batch := make([]search.Namespace, 0, len(nss))
	for _, n := range nss {
		batch = append(batch, search.Namespace{Name: n.Name, Kind: n.Kind})
	}
	if err := ix.idx.IndexNamespaces(ctx, batch); err != nil {
		return count, err
	}
	ix.log.Info("search index rebuilt", "repositories", count, "namespaces", len(nss), "took", time.Since(start).Round(time.Millisecond))
	ix.follow.skipTo(upTo)
	ix.rebuilding.Store(false)
	return count, ix.follow.save()
}

// Open opens the index in dir; a missing index is created and a corrupt
// one replaced, and either is rebuilt by Run while serving, as is one
// whose place in the change log is unknown or pruned away.
func Open(ctx context.Context, dir string, db *models.DB, bus *events.Bus, log *slog.Logger) (*Indexer, search.Index, error) {
	idx, created, err := search.OpenBleve(dir)
	if errors.Is(err, search.ErrCorrupt) {
		log.Warn("search index is corrupt; rebuilding it", "dir", dir, "err", err)
		if err := search.RemoveBleve(dir); err != nil {
			return nil, nil, err
		}
		idx, created, err = search.OpenBleve(dir)
	}
	if err != nil {
		return nil, nil, err
	}
	ix := New(db, idx, bus, log)
	stale, err := ix.follow.load(ctx, CursorPath(dir), db)
	if err != nil {
		idx.Close()
		return nil, nil, err
	}
	if created || stale {
		if created {
			log.Info("search index is new; rebuilding it", "dir", dir)
		} else {
			log.Warn("search index missed changes the log no longer holds; rebuilding it")
		}
		// Follow from now; the rebuild covers everything before.
		_, upTo, err := db.Changes.IDRange(ctx)
		if err != nil {
			idx.Close()
			return nil, nil, err
		}
		ix.follow.skipTo(upTo)
		ix.rebuild = true
	}
	return ix, idx, nil
}

// PersistCursor makes the indexer keep its place in the change log in a
// file, for an index rebuilt offline.
func (ix *Indexer) PersistCursor(dir string) {
	ix.follow.mu.Lock()
	ix.follow.path, ix.follow.saved = CursorPath(dir), -1
	ix.follow.mu.Unlock()
}

// Lag is how many entries of the change log this replica's index has yet
// to apply (the admin console's health page shows it).
func (ix *Indexer) Lag(ctx context.Context) (int64, error) {
	_, last, err := ix.db.Changes.IDRange(ctx)
	if err != nil {
		return 0, err
	}
	ix.follow.mu.Lock()
	cursor := ix.follow.cursor
	ix.follow.mu.Unlock()
	return max(last-cursor, 0), nil
}
