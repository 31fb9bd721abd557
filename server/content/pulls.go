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

// RecordPull counts one pull of repository name.
func (s *Service) RecordPull(name string) {
	s.pulls.mu.Lock()
	if s.pulls.counts == nil {
		s.pulls.counts = map[string]int64{}
	}
	s.pulls.counts[name]++
	s.pulls.mu.Unlock()
}

// FlushPulls writes the counted pulls.
func (s *Service) FlushPulls(ctx context.Context) error {
	s.pulls.mu.Lock()
	counts := s.pulls.counts
	s.pulls.counts = nil
	s.pulls.mu.Unlock()
	if len(counts) == 0 {
		return nil
	}
	return s.db.Repositories.AddPulls(ctx, counts)
}

// RunPullFlusher writes counted pulls every interval until ctx ends, then
// once more.
func (s *Service) RunPullFlusher(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			if err := s.FlushPulls(context.Background()); err != nil {
				s.log.Error("flush pull counts", "err", err)
			}
			return
		case <-t.C:
			if err := s.FlushPulls(ctx); err != nil {
				s.log.Error("flush pull counts", "err", err)
			}
		}
	}
}
