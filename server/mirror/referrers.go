package mirror

import (
	"context"

	"github.com/opencontainers/go-digest"

	"github.com/wharfhub/wharf/server/content"
)

// SyncReferrers brings the referrers of subject d (signatures, SBOMs,
// attestations) of mirrored repository name into the cache: the
// upstream's referrers API, or its tag-schema index, is asked at most once
// per TTL, and each referrer not cached yet is fetched and stored, so that
// the local referrers answer lists them. An upstream that fails leaves the
// referrers cached before; only an error of Wharf's own is returned.
func (s *Service) SyncReferrers(ctx context.Context, name string, d digest.Digest) error {
	m, up, ok := s.resolve(name)
	if !ok {
		return nil
	}
	key := name + "\x00" + d.String()
	now := s.opts.Now()
	s.mu.Lock()
	last, seen := s.referrersSynced[key]
	if seen && now.Sub(last) < s.opts.TTL {
		s.mu.Unlock()
		return nil
	}
	s.referrersSynced[key] = now
	s.mu.Unlock()
	_, err, _ := s.manifests.Do("referrers\x00"+key, func() (any, error) {
		fctx := context.WithoutCancel(ctx)
		refs, err := m.Upstream.Referrers(fctx, up, d)
		if err != nil {
			s.stats.UpstreamErrors.Add(1)
			s.opts.Log.Warn("mirror: serving the cached referrers; the upstream did not list them",
				"mirror", m.Name, "repository", name, "subject", d, "err", err)
			return nil, nil
		}
		for _, r := range refs {
			if _, err := s.content.Manifests.Get(fctx, name, content.Reference{Digest: r.Digest}); err == nil {
				continue
			}
			if _, err := s.fill(fctx, m, name, up, "", r.Digest.String()); err != nil {
				s.opts.Log.Warn("mirror: a referrer was not fetched", "mirror", m.Name, "repository", name,
					"subject", d, "referrer", r.Digest, "err", err)
			}
		}
		return nil, nil
	})
	return err
}
