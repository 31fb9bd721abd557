package content

import (
	"context"
	"errors"
	"fmt"

	"github.com/opencontainers/go-digest"

	"github.com/wharfhub/wharf/models"
)

// ErrQuotaExceeded refuses content that would take a namespace over its
// storage quota.
var ErrQuotaExceeded = errors.New("storage quota exceeded")

// checkQuota refuses adding size bytes of dgst (empty for a manifest) to
// repository name when its namespace has a quota it would exceed. A blob
// the namespace already holds costs nothing.
func (s *Service) checkQuota(ctx context.Context, name string, dgst digest.Digest, size int64) error {
	ns := models.NamespaceOf(name)
	u, err := s.db.NamespaceUsage(ctx, ns)
	if err != nil {
		return fmt.Errorf("check quota of %s: %w", ns, err)
	}
	if u.QuotaBytes <= 0 || u.Bytes+size <= u.QuotaBytes {
		return nil
	}
	if dgst != "" {
		if has, err := s.db.NamespaceHasBlob(ctx, ns, dgst.String()); err != nil || has {
			return err
		}
	}
	return detailf(ErrQuotaExceeded, map[string]int64{"used": u.Bytes, "quota": u.QuotaBytes, "adding": size},
		"namespace %s would exceed its storage quota: %d of %d bytes used, adding %d", ns, u.Bytes, u.QuotaBytes, size)
}
