// Package indexer keeps the search index following the database: it
// subscribes to registry events, batches the repositories they touch off
// the request path, and rebuilds the whole index when it is new or broken.
package indexer

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/search"
	"github.com/wharfhub/wharf/server/events"
)

// FlushInterval bounds how long a change waits before it is searchable.
const FlushInterval = 200 * time.Millisecond

// Indexer feeds the search index.
type Indexer struct {
	db  *models.DB
	idx search.Index
	log *slog.Logger

	mu         sync.Mutex
	repos      map[string]bool   // repositories to reindex (or delete)
	namespaces map[string]bool   // namespaces to drop
	created    map[string]string // namespaces to add, with their kind
	wake       chan struct{}
	flushed    chan struct{} // closed and replaced after each flush, for Sync
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

// onEvent queues the repository an event touched; it never blocks.
func (ix *Indexer) onEvent(e events.Event) {
	ix.mu.Lock()
	switch {
	case e.Kind == events.NamespaceDeleted:
		ix.namespaces[e.Namespace] = true
		delete(ix.created, e.Namespace)
	case e.Kind == events.NamespaceCreated:
		ix.created[e.Namespace] = e.Actor
	case e.Repository != "":
		ix.repos[e.Repository] = true
	}
	ix.mu.Unlock()
	select {
	case ix.wake <- struct{}{}:
	default:
	}
}

// Touch queues a repository for reindexing.
func (ix *Indexer) Touch(name string) {
	ix.onEvent(events.Event{Kind: events.RepositoryChanged, Repository: name})
}

// Run flushes queued changes until ctx ends.
func (ix *Indexer) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			ix.flush(context.Background())
			return
		case <-ix.wake:
		}
		// Gather what arrives in a short window into one batch.
		select {
		case <-ctx.Done():
		case <-time.After(FlushInterval):
		}
		ix.flush(ctx)
	}
}

// Sync waits until everything queued before the call is in the index.
func (ix *Indexer) Sync(ctx context.Context) error {
	ix.mu.Lock()
	pending := len(ix.repos) > 0 || len(ix.namespaces) > 0 || len(ix.created) > 0
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

func (ix *Indexer) flush(ctx context.Context) {
	ix.mu.Lock()
	repos, nss, created := ix.repos, ix.namespaces, ix.created
	ix.repos, ix.namespaces, ix.created = map[string]bool{}, map[string]bool{}, map[string]string{}
	done := ix.flushed
	ix.flushed = make(chan struct{})
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
	rows, err := ix.db.SearchDocs(ctx, names)
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
	count := 0
	last := ""
	for {
		names, err := ix.db.ListRepositories(ctx, last, 500)
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
	nss, err := ix.db.ListNamespaces(ctx)
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
	return count, nil
}

// Open opens the index in dir; a missing index is created and a corrupt
// one replaced, and either is rebuilt in the background while serving.
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
	if created {
		go func() {
			if _, err := ix.Rebuild(ctx); err != nil && ctx.Err() == nil {
				log.Error("search: rebuild", "err", err)
			}
		}()
	}
	return ix, idx, nil
}
