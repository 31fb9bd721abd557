package mirror

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/opencontainers/go-digest"

	"github.com/wharfhub/wharf/server/content"
	"github.com/wharfhub/wharf/server/mirror/upstream"
)

// holdBack is how many of a blob's last bytes the first client gets only
// once the digest is verified.
const holdBack = 64 << 10

// ErrBlobCorrupt is the upstream sending a blob that does not match its
// digest: nothing is stored, and the client's download is cut short.
var ErrBlobCorrupt = errors.New("the upstream's blob does not match its digest")

// FetchBlob fetches blob d of mirrored repository name from the upstream
// and stores it, verified. Concurrent calls for one blob make one fetch:
// the first caller's w receives the bytes while they are stored (start,
// if set, is called with the size before the first byte), and it reports
// served; the others wait for the store to hold the blob and report
// !served, to read it from there. An error after bytes reached w means
// the caller must cut the response short.
func (s *Service) FetchBlob(ctx context.Context, name string, d digest.Digest, w io.Writer, start func(size int64)) (served bool, err error) {
	m, up, ok := s.resolve(name)
	if !ok {
		return false, content.ErrBlobUnknown
	}
	s.stats.Misses.Add(1)
	for range 3 {
		leader := false
		_, err, _ = s.blobs.Do(name+"\x00"+d.String(), func() (any, error) {
			leader = true
			return nil, s.fetchBlob(context.WithoutCancel(ctx), m, name, up, d, w, start)
		})
		if leader || err != nil {
			return leader, err
		}
		if _, err := s.content.Blobs.Stat(ctx, name, d); err == nil {
			return false, nil // stored: read it from there
		}
		// Passed through uncached (the quota is full): fetch a copy of
		// our own.
	}
	return false, ErrUnavailable
}

func (s *Service) fetchBlob(ctx context.Context, m *Mirror, name, up string, d digest.Digest, w io.Writer, start func(int64)) error {
	body, size, err := m.Upstream.GetBlob(ctx, up, d)
	if errors.Is(err, upstream.ErrNotFound) {
		return content.ErrBlobUnknown
	}
	if err != nil {
		s.stats.UpstreamErrors.Add(1)
		s.opts.Log.Warn("mirror: the upstream did not answer for a blob not cached", "mirror", m.Name,
			"upstream", m.URL, "repository", name, "digest", d, "err", err)
		return ErrUnavailable
	}
	defer body.Close()
	if start != nil {
		start(size)
	}
	tee := &heldTee{w: w}
	counted := &countingReader{r: body}
	err = s.content.Uploads.Put(ctx, name, d, content.Chunk{Start: -1, Length: size, Body: io.TeeReader(counted, tee)})
	if errors.Is(err, content.ErrQuotaExceeded) && counted.n == 0 {
		// The mirror's quota is full: the client gets the blob, verified
		// the same way, and nothing is stored.
		s.opts.Log.Warn("mirror: the quota is full; serving a blob without caching it", "mirror", m.Name,
			"repository", name, "digest", d)
		v := d.Verifier()
		_, err = io.Copy(io.MultiWriter(tee, v), counted)
		s.stats.BytesFetched.Add(counted.n)
		if err != nil {
			return fmt.Errorf("mirror: pass a blob through: %w", err)
		}
		if !v.Verified() || (size >= 0 && counted.n != size) {
			s.stats.UpstreamErrors.Add(1)
			return ErrBlobCorrupt
		}
		tee.flush()
		return nil
	}
	s.stats.BytesFetched.Add(counted.n)
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

// heldTee writes what passes through it to w, but for its last holdBack
// bytes, which flush writes once the digest is verified. A client that
// went away stops getting bytes; the fill goes on.
type heldTee struct {
	w    io.Writer
	held []byte
	dead bool
}

func (t *heldTee) Write(p []byte) (int, error) {
	if t.dead || t.w == nil {
		return len(p), nil
	}
	t.held = append(t.held, p...)
	if over := len(t.held) - holdBack; over > 0 {
		if _, err := t.w.Write(t.held[:over]); err != nil {
			t.dead = true
			return len(p), nil
		}
		t.held = append(t.held[:0], t.held[over:]...)
	}
	return len(p), nil
}

func (t *heldTee) flush() {
	if !t.dead && t.w != nil && len(t.held) > 0 {
		if _, err := t.w.Write(t.held); err != nil {
			t.dead = true
		}
	}
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
