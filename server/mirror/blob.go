package mirror

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/opencontainers/go-digest"

	"github.com/wharfhub/wharf/server/content"
	"github.com/wharfhub/wharf/server/mirror/upstream"
	"github.com/wharfhub/wharf/server/storage"
)

// ErrBlobCorrupt is the upstream sending a blob that does not match its
// digest: nothing is stored, and the client's download is cut short.
var ErrBlobCorrupt = errors.New("the upstream's blob does not match its digest")

// FetchBlob fetches blob d of mirrored repository name from the upstream
// and stores it, verified. Concurrent calls for one blob make one fetch:
// the first caller's w receives the bytes while they are stored (start,
// if set, is called with the size before the first byte), and it reports
// served; the others, and callers on other replicas while this one
// fetches, wait for the store to hold the blob and report !served, to
// read it from there. An error after bytes reached w means the caller
// must cut the response short.
func (s *Service) FetchBlob(ctx context.Context, name string, d digest.Digest, w io.Writer, start func(size int64)) (served bool, err error) {
	m, up, ok := s.resolve(name)
	if !ok {
		return false, content.ErrBlobUnknown
	}
	s.stats.Misses.Add(1)
	for range 3 {
		leader, fetched := false, false
		_, err, _ = s.blobs.Do(name+"\x00"+d.String(), func() (any, error) {
			leader = true
			var err error
			fetched, err = s.fetchClaimed(context.WithoutCancel(ctx), m, name, up, d, w, start)
			return nil, err
		})
		if leader || err != nil {
			return fetched, err
		}
		if _, err := s.content.Blobs.Stat(ctx, name, d); err == nil {
			return false, nil // stored: read it from there
		}
		// Passed through uncached (the quota is full): fetch a copy of
		// our own.
	}
	return false, ErrUnavailable
}

// StatBlob asks the upstream for the size of blob d of mirrored
// repository name, which is not cached: HEAD costs the upstream a HEAD,
// not the blob.
func (s *Service) StatBlob(ctx context.Context, name string, d digest.Digest) (int64, error) {
	m, up, ok := s.resolve(name)
	if !ok {
		return -1, content.ErrBlobUnknown
	}
	size, err := m.Upstream.HeadBlob(ctx, up, d)
	if errors.Is(err, upstream.ErrNotFound) {
		return -1, content.ErrBlobUnknown
	}
	if err != nil {
		return -1, s.unavailable(m, name, d.String(), err)
	}
	return size, nil
}

func (s *Service) fetchBlob(ctx context.Context, m *Mirror, name, up string, d digest.Digest, w io.Writer, start func(int64)) error {
	body, size, err := m.Upstream.GetBlob(ctx, up, d)
	if errors.Is(err, upstream.ErrNotFound) {
		return content.ErrBlobUnknown
	}
	if err != nil {
		return s.unavailable(m, name, d.String(), err)
	}
	defer body.Close()
	if start != nil {
		start(size)
	}
	tee := newTee(w)
	defer tee.close()
	counted := &storage.CountingReader{R: body}
	// The client gets the last bytes once they are verified, not once they
	// are on disk: a cold pull is not held to the disk's pace.
	err = s.content.Uploads.Put(ctx, name, d, content.Chunk{Start: -1, Length: size, Body: io.TeeReader(counted, tee), Verified: tee.flush})
	if errors.Is(err, content.ErrQuotaExceeded) && counted.N == 0 {
		// The mirror's quota is full: the client gets the blob, verified
		// the same way, and nothing is stored.
		s.opts.Log.Warn("mirror: the quota is full; serving a blob without caching it", "mirror", m.Name,
			"repository", name, "digest", d)
		v := d.Verifier()
		_, err = io.Copy(io.MultiWriter(tee, v), counted)
		s.stats.BytesFetched.Add(counted.N)
		if err != nil {
			return fmt.Errorf("mirror: pass a blob through: %w", err)
		}
		if !v.Verified() || (size >= 0 && counted.N != size) {
			s.stats.UpstreamErrors.Add(1)
			return ErrBlobCorrupt
		}
		tee.flush()
		return nil
	}
	s.stats.BytesFetched.Add(counted.N)
	if err != nil && tee.flushed {
		// The client has the blob, verified; only the cache missed it.
		s.opts.Log.Warn("mirror: served a blob but could not cache it", "mirror", m.Name,
			"repository", name, "digest", d, "err", err)
		return nil
	}
	if err != nil {
		if errors.Is(err, content.ErrDigestInvalid) || errors.Is(err, content.ErrSizeInvalid) {
			s.stats.UpstreamErrors.Add(1)
			s.opts.Log.Error("mirror: refused a blob from the upstream", "mirror", m.Name, "upstream", m.URL,
				"repository", name, "digest", d, "err", err)
			return ErrBlobCorrupt
		}
		return err
	}
	tee.flush()
	return nil
}
