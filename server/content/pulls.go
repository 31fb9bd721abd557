package content

import (
	"context"
	"sync"
	"time"
)

// pulls counts manifest pulls in memory and writes them in batches, so a
// pull costs no database write.
type pulls struct {
	mu     sync.Mutex
	counts map[string]int64
}

// Record counts one pull of repository name.
func (s *Pulls) Record(name string) {
	s.pulls.mu.Lock()
	if s.pulls.counts == nil {
		s.pulls.counts = map[string]int64{}
	}
	s.pulls.counts[name]++
	s.pulls.mu.Unlock()
}

// Flush writes the counted pulls.
func (s *Pulls) Flush(ctx context.Context) error {
	s.pulls.mu.Lock()
	counts := s.pulls.counts
	s.pulls.counts = nil
	s.pulls.mu.Unlock()
	if len(counts) == 0 {
		return nil
	}
	return s.db.Repositories.AddPulls(ctx, counts)
}

// Run writes counted pulls every interval until ctx ends, then
// once more.
func (s *Pulls) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			if err := s.Flush(context.Background()); err != nil {
				s.log.Error("flush pull counts", "err", err)
			}
			return
		case <-t.C:
			if err := s.Flush(ctx); err != nil {
				s.log.Error("flush pull counts", "err", err)
			}
		}
	}
}
