package mirror

import (
	"context"
	"io"
	"time"

	"github.com/opencontainers/go-digest"
)

// How replicas share a cold blob: the one that fetches it claims the
// fetch in the database for claimFor at a time, extending the claim while
// it fetches; the others poll, every claimPoll, until the blob is stored
// (and serve it from there) or the claim ends (and fetch it themselves: the
// fetcher failed, died, or passed the blob through a full quota). They
// give up after claimWait.
var (
	claimFor  = 30 * time.Second
	claimPoll = 100 * time.Millisecond
	claimWait = 5 * time.Minute
)

// fetchClaimed fetches blob d of name as fetchBlob does, unless another
// replica is fetching it already. It reports whether it fetched (and so
// served w); if not, the blob is stored.
func (s *Service) fetchClaimed(ctx context.Context, m *Mirror, name, up string, d digest.Digest, w io.Writer, start func(int64)) (bool, error) {
	key := name + "@" + d.String()
	deadline := time.Now().Add(claimWait)
	tick := time.NewTicker(claimPoll)
	defer tick.Stop()
	waited := false
	for {
		now := time.Now()
		mine, err := s.db.Mirrors.TakeFetch(ctx, key, s.holder, now, now.Add(claimFor))
		if err != nil {
			// A blob fetched twice beats a pull that fails.
			s.opts.Log.Warn("mirror: could not claim a blob's fetch; fetching it anyway", "repository", name, "digest", d, "err", err)
			return true, s.fetchBlob(ctx, m, name, up, d, w, start)
		}
		if mine {
			if waited {
				if _, err := s.content.Blobs.Stat(ctx, name, d); err == nil {
					_ = s.db.Mirrors.ReleaseFetch(ctx, key, s.holder)
					return false, nil // the other replica stored it as its claim ended
				}
			}
			stop := s.keepClaim(ctx, key)
			err := s.fetchBlob(ctx, m, name, up, d, w, start)
			stop()
			if rerr := s.db.Mirrors.ReleaseFetch(ctx, key, s.holder); rerr != nil {
				s.opts.Log.Warn("mirror: could not release a blob's fetch", "repository", name, "digest", d, "err", rerr)
			}
			return true, err
		}
		waited = true
		<-tick.C
		if _, err := s.content.Blobs.Stat(ctx, name, d); err == nil {
			return false, nil
		}
		if time.Now().After(deadline) {
			s.opts.Log.Warn("mirror: gave up waiting for another replica's fetch of a blob", "repository", name, "digest", d)
			return false, ErrUnavailable
		}
	}
}

// keepClaim extends this replica's claim on key until stop is called.
func (s *Service) keepClaim(ctx context.Context, key string) (stop func()) {
	done := make(chan struct{})
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		t := time.NewTicker(claimFor / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				now := time.Now()
				if ok, err := s.db.Mirrors.TakeFetch(ctx, key, s.holder, now, now.Add(claimFor)); err != nil || !ok {
					s.opts.Log.Warn("mirror: could not extend a blob fetch's claim", "key", key, "claimed", ok, "err", err)
				}
			}
		}
	}()
	return func() { close(done); <-ended }
}
