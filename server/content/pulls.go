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
	// manifests are the manifests pulled, by repository and digest, for
	// when each was last pulled (retention keeps what is pulled).
	manifests map[string]map[string]bool
}

// Record counts one pull of repository name: of its manifest digest, or
// of a blob (digest "").
func (s *Pulls) Record(name, digest string) {
	s.pulls.mu.Lock()
	if s.pulls.counts == nil {
		s.pulls.counts, s.pulls.manifests = map[string]int64{}, map[string]map[string]bool{}
	}
	s.pulls.counts[name]++
	if digest != "" {
		if s.pulls.manifests[name] == nil {
			s.pulls.manifests[name] = map[string]bool{}
		}
		s.pulls.manifests[name][digest] = true
	}
	s.pulls.mu.Unlock()
}

// Flush writes the counted pulls.
func (s *Pulls) Flush(ctx context.Context) error {
	s.pulls.mu.Lock()
	counts, manifests := s.pulls.counts, s.pulls.manifests
	s.pulls.counts, s.pulls.manifests = nil, nil
	s.pulls.mu.Unlock()
	if len(counts) == 0 {
		return nil
	}
	return s.db.Repositories.AddPulls(ctx, counts, manifests)
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
