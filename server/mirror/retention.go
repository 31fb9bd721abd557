package mirror

import (
	"context"
	"fmt"
	"time"

	"github.com/wharfhub/wharf/server/events"
)

// evictBatch is how many repositories one pass of Evict looks at a time.
const evictBatch = 100

// Evict deletes the cached repositories of every mirror that nobody
// pulled since before, and reports how many went; garbage collection
// then reclaims their blobs. The next pull fetches them again.
func (s *Service) Evict(ctx context.Context, before time.Time) (int, error) {
	n := 0
	for {
		repos, err := s.db.Mirrors.Unpulled(ctx, s.Names(), before, evictBatch)
		if err != nil {
			return n, fmt.Errorf("mirror retention: %w", err)
		}
		for _, r := range repos {
			if err := s.db.Repositories.Delete(ctx, r.ID, ""); err != nil {
				return n, fmt.Errorf("mirror retention: evict %s: %w", r.Name, err)
			}
			s.opts.Events.Publish(events.Event{Kind: events.RepositoryDeleted, Repository: r.Name, Namespace: r.Namespace})
			n++
		}
		if len(repos) < evictBatch {
			return n, nil
		}
	}
}

// RunRetention evicts what was not pulled within retention, every
// interval, until ctx ends.
func (s *Service) RunRetention(ctx context.Context, retention, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if n, err := s.Evict(ctx, s.opts.Now().Add(-retention)); err != nil && ctx.Err() == nil {
			s.opts.Log.Error("mirror retention", "err", err)
		} else if n > 0 {
			s.opts.Log.Info("mirror retention: evicted repositories nobody pulled", "count", n, "retention", retention.String())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
