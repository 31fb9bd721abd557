package mirror

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/opencontainers/go-digest"
	"golang.org/x/sync/singleflight"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/content"
	"github.com/wharfhub/wharf/server/events"
	"github.com/wharfhub/wharf/server/mirror/upstream"
)

// ErrUnavailable is a mirror's answer for content it has not cached while
// its upstream does not answer.
var ErrUnavailable = errors.New("the mirror's upstream is not available")

// Upstream is what a mirror asks of its upstream registry
// (*upstream.Client).
type Upstream interface {
	GetManifest(ctx context.Context, repo, ref string) (*upstream.Manifest, error)
	HeadManifest(ctx context.Context, repo, ref string) (digest.Digest, string, error)
	GetBlob(ctx context.Context, repo string, d digest.Digest) (io.ReadCloser, int64, error)
	HeadBlob(ctx context.Context, repo string, d digest.Digest) (int64, error)
	Referrers(ctx context.Context, repo string, d digest.Digest) ([]upstream.Descriptor, error)
}

// Mirror is one mirrored upstream.
type Mirror struct {
	// Name is the namespace.
	Name string
	// URL is the upstream's base URL, for messages and Docker Hub's
	// library/ names.
	URL      string
	Upstream Upstream
	// Source says where the mirror is defined: SourceFlags (--mirror, the
	// environment or the config file) or SourceAPI.
	Source string
}

// Where mirrors are defined.
const (
	SourceFlags = "flags"
	SourceAPI   = "api"
)

// Options tune the mirrors.
type Options struct {
	// TTL is how long a cached tag is trusted before the upstream is
	// asked whether it moved.
	TTL time.Duration
	// Now is the clock (time.Now).
	Now func() time.Time
	Log *slog.Logger
	// Root is the mirror that answers Docker Hub style names at the root
	// (--registry-mirror), if any.
	Root string
	// Events, if set, hears of evicted repositories.
	Events *events.Bus
}

// Stats count what the mirrors did.
type Stats struct {
	Hits, Misses, StaleServes, Revalidations atomic.Int64
	UpstreamErrors                           atomic.Int64
	// BytesFetched came from upstreams; BytesServed went to clients of
	// the mirrors' blobs, from the cache or as fetched.
	BytesFetched, BytesServed atomic.Int64
}

// Service serves the mirror namespaces.
type Service struct {
	db      *models.DB
	content *content.Service
	opts    Options

	// set is the mirrors now: Replace swaps it while requests read it.
	set   atomic.Pointer[map[string]*Mirror]
	stats Stats

	manifests singleflight.Group
	blobs     singleflight.Group

	// holder names this replica in claims on blob fetches.
	holder string

	mu sync.Mutex
	// referrersSynced is when each subject's referrers were last asked
	// of the upstream.
	referrersSynced map[string]time.Time
}

// New makes the mirror service.
func New(db *models.DB, c *content.Service, mirrors []Mirror, opts Options) *Service {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	s := &Service{db: db, content: c, opts: opts, holder: uuid.NewString(), referrersSynced: map[string]time.Time{}}
	s.Replace(mirrors)
	return s
}

// Replace makes mirrors the set of mirrors, for the requests that start
// after it.
func (s *Service) Replace(mirrors []Mirror) {
	m := make(map[string]*Mirror, len(mirrors))
	for i := range mirrors {
		mm := mirrors[i]
		m[mm.Name] = &mm
	}
	s.set.Store(&m)
}

func (s *Service) mirror(ns string) *Mirror { return (*s.set.Load())[ns] }

// List is the mirrors now, by name.
func (s *Service) List() []Mirror {
	set := *s.set.Load()
	out := make([]Mirror, 0, len(set))
	for _, m := range set {
		out = append(out, *m)
	}
	slices.SortFunc(out, func(a, b Mirror) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Upstream is the upstream URL of mirror ns, if ns is one.
func (s *Service) Upstream(ns string) (string, bool) {
	if m := s.mirror(ns); m != nil {
		return m.URL, true
	}
	return "", false
}

// Source says where mirror ns is defined (SourceFlags or SourceAPI).
func (s *Service) Source(ns string) string {
	if m := s.mirror(ns); m != nil {
		return m.Source
	}
	return ""
}

// IsNamespace reports whether ns is a mirror's namespace.
func (s *Service) IsNamespace(ns string) bool { return s.mirror(ns) != nil }

// Root is the mirror that answers Docker Hub style names, or "".
func (s *Service) Root() string { return s.opts.Root }

// Stats are the mirrors' counts.
func (s *Service) Stats() *Stats { return &s.stats }

// Is reports whether repository name is in a mirror namespace.
func (s *Service) Is(name string) bool { return s.mirror(models.NamespaceOf(name)) != nil }

// Names are the mirror namespaces.
func (s *Service) Names() []string {
	ms := s.List()
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Name
	}
	return out
}

// resolve splits a mirrored repository name into its mirror and the
// upstream's name of it; Docker Hub's official images are library/NAME.
func (s *Service) resolve(name string) (*Mirror, string, bool) {
	ns, rest, ok := strings.Cut(name, "/")
	m := s.mirror(ns)
	if !ok || m == nil || rest == "" {
		return nil, "", false
	}
	if u, err := url.Parse(m.URL); err == nil && isDockerHub(u.Host) && !strings.Contains(rest, "/") {
		rest = "library/" + rest
	}
	return m, rest, true
}

// Origin is where mirrored repository name comes from, as people write
// it: the upstream's host (docker.io for Docker Hub) and its own name of
// the repository.
func (s *Service) Origin(name string) (string, bool) {
	m, up, ok := s.resolve(name)
	if !ok {
		return "", false
	}
	host := strings.TrimPrefix(strings.TrimPrefix(m.URL, "https://"), "http://")
	if isDockerHub(host) {
		host = "docker.io"
	}
	return host + "/" + up, true
}

func isDockerHub(host string) bool {
	return host == "registry-1.docker.io" || host == "index.docker.io" || host == "docker.io"
}

// Manifest answers a manifest of a mirrored repository: from the cache
// while it is fresh (a tag within the TTL, a digest always), else from the
// upstream, and from the cache again when the upstream fails.
func (s *Service) Manifest(ctx context.Context, name string, ref content.Reference) (*models.Manifest, error) {
	m, up, ok := s.resolve(name)
	if !ok {
		return nil, content.ErrNameUnknown
	}
	if ref.Digest != "" {
		if got, err := s.content.Manifests.Get(ctx, name, ref); err == nil {
			s.stats.Hits.Add(1)
			return got, nil
		} else if !errors.Is(err, content.ErrManifestUnknown) {
			return nil, err
		}
		return s.fill(ctx, m, name, up, "", ref.Digest.String())
	}
	cached, err := s.db.Mirrors.Tag(ctx, name, ref.Tag)
	if errors.Is(err, models.ErrNotFound) {
		return s.fill(ctx, m, name, up, ref.Tag, ref.Tag)
	}
	if err != nil {
		return nil, err
	}
	now := s.opts.Now()
	if now.Sub(cached.CheckedAt) < s.opts.TTL {
		s.stats.Hits.Add(1)
		return cached.Manifest, nil
	}
	// Stale: one HEAD, shared by every caller of this tag meanwhile.
	v, err, _ := s.manifests.Do("head\x00"+name+"\x00"+ref.Tag, func() (any, error) {
		s.stats.Revalidations.Add(1)
		d, _, err := m.Upstream.HeadManifest(context.WithoutCancel(ctx), up, ref.Tag)
		return d, err
	})
	if err != nil {
		s.staleServe(m, name, ref.Tag, err)
		return cached.Manifest, nil
	}
	if d := v.(digest.Digest); d.String() == cached.Manifest.Digest {
		s.stats.Hits.Add(1)
		if err := s.db.Mirrors.Checked(ctx, name, ref.Tag, now); err != nil {
			s.opts.Log.Warn("mirror: could not record a tag's check", "repository", name, "tag", ref.Tag, "err", err)
		}
		return cached.Manifest, nil
	} else {
		// The tag moved upstream: fetch what it names now, by digest.
		got, err := s.fill(ctx, m, name, up, ref.Tag, d.String())
		if errors.Is(err, ErrUnavailable) || errors.Is(err, content.ErrManifestUnknown) {
			return cached.Manifest, nil
		}
		return got, err
	}
}

// staleServe records that a cached tag is served because the upstream
// did not confirm it.
func (s *Service) staleServe(m *Mirror, name, tag string, err error) {
	s.stats.StaleServes.Add(1)
	s.stats.UpstreamErrors.Add(1)
	s.opts.Log.Warn("mirror: serving the cached tag; the upstream did not confirm it",
		"mirror", m.Name, "upstream", m.URL, "repository", name, "tag", tag, "err", err)
}

// fill fetches a manifest from the upstream by fetch (a tag or a digest)
// and stores it, pointing tag at it if tag is set. Concurrent fills of one
// manifest make one upstream request.
func (s *Service) fill(ctx context.Context, m *Mirror, name, up, tag, fetch string) (*models.Manifest, error) {
	s.stats.Misses.Add(1)
	v, err, _ := s.manifests.Do("get\x00"+name+"\x00"+tag+"\x00"+fetch, func() (any, error) {
		// The fill finishes for the callers waiting on it even if the
		// first one leaves.
		fctx := context.WithoutCancel(ctx)
		got, err := m.Upstream.GetManifest(fctx, up, fetch)
		if err != nil {
			return nil, &upstreamError{err}
		}
		var want digest.Digest
		if d, err := digest.Parse(fetch); err == nil {
			want = d
		}
		if want == "" {
			want = got.Digest
		}
		stored, err := s.content.Manifests.Fill(fctx, name, tag, got.MediaType, got.Body, want, s.opts.Now())
		if errors.Is(err, content.ErrDigestInvalid) || errors.Is(err, content.ErrManifestInvalid) ||
			errors.Is(err, content.ErrManifestTooLarge) {
			return nil, &upstreamError{err} // what the upstream sent is not what it named
		}
		return stored, err
	})
	switch {
	case err == nil:
		return v.(*models.Manifest), nil
	case errors.Is(err, upstream.ErrNotFound):
		return nil, content.ErrManifestUnknown
	case errors.As(err, new(*upstreamError)):
		return nil, s.unavailable(m, name, fetch, err)
	}
	return nil, err
}

// unavailable counts and logs an upstream that did not answer for ref
// (a tag or a digest) of repository name, which is not cached, and is the
// error the client gets for it.
func (s *Service) unavailable(m *Mirror, name, ref string, err error) error {
	s.stats.UpstreamErrors.Add(1)
	s.opts.Log.Warn("mirror: the upstream did not answer for content not cached", "mirror", m.Name,
		"upstream", m.URL, "repository", name, "reference", ref, "err", err)
	return ErrUnavailable
}

// upstreamError is an error of the upstream's (unreachable, an error
// status, backing off, or content that fails its digest), as opposed to
// one of Wharf's own.
type upstreamError struct{ err error }

func (e *upstreamError) Error() string { return e.err.Error() }
func (e *upstreamError) Unwrap() error { return e.err }
