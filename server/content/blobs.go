package content

import (
	"context"
	"errors"
	"fmt"

	"github.com/opencontainers/go-digest"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/reqlog"
	"github.com/wharfhub/wharf/server/storage"
)

// Stat returns the size of a blob linked into repository name.
func (s *Blobs) Stat(ctx context.Context, name string, dgst digest.Digest) (int64, error) {
	size, err := s.db.Blobs.SizeIn(ctx, name, dgst.String())
	if errors.Is(err, models.ErrNotFound) {
		return 0, ErrBlobUnknown
	}
	return size, err
}

// Open opens a blob linked into repository name. Blobs of other
// repositories are unknown here, whatever the store holds.
func (s *Blobs) Open(ctx context.Context, name string, dgst digest.Digest) (storage.Content, error) {
	if _, err := s.Stat(ctx, name, dgst); err != nil {
		return nil, err
	}
	c, err := s.store.Open(ctx, dgst)
	if errors.Is(err, storage.ErrNotFound) {
		reqlog.From(ctx, s.log).Error("blob linked but missing from the store", "repository", name, "digest", dgst)
		return nil, ErrBlobUnknown
	}
	if err != nil {
		return nil, fmt.Errorf("open blob %s: %w", dgst, err)
	}
	return c, nil
}

// Redirect returns a URL to fetch a blob linked into repository name
// straight from the store, when the store offers one; ok is false when the
// blob must be served through Wharf.
func (s *Blobs) Redirect(ctx context.Context, name string, dgst digest.Digest) (url string, ok bool, err error) {
	r, isRedirector := s.store.(storage.Redirector)
	if !isRedirector {
		return "", false, nil
	}
	if _, err := s.Stat(ctx, name, dgst); err != nil {
		return "", false, err
	}
	return r.RedirectURL(ctx, dgst)
}

// Delete unlinks a blob from repository name. The bytes stay in the
// store, possibly shared with other repositories, until garbage collection.
func (s *Blobs) Delete(ctx context.Context, name string, dgst digest.Digest) error {
	models.Note(ctx, models.AuditNote{Action: "blob.delete", Target: name + "@" + dgst.String(),
		Namespace: models.NamespaceOf(name), Repository: name})
	ok, err := s.db.Blobs.Unlink(ctx, name, dgst.String())
	if err != nil {
		return fmt.Errorf("delete blob %s: %w", dgst, err)
	}
	if !ok {
		return ErrBlobUnknown
	}
	return nil
}

// Mount links a blob that repository from holds into repository name.
// With from empty it mounts any blob the store holds; the caller has
// decided that the user may read it. It reports whether it mounted.
func (s *Blobs) Mount(ctx context.Context, name, from string, dgst digest.Digest) (bool, error) {
	var size int64
	var err error
	if from != "" {
		size, err = s.db.Blobs.SizeIn(ctx, from, dgst.String())
	} else {
		size, err = s.db.Blobs.Size(ctx, dgst.String())
	}
	if errors.Is(err, models.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if _, err := s.store.Stat(ctx, dgst); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return false, nil
		}
		return false, err
	}
	if err := s.checkQuota(ctx, name, dgst, size); err != nil {
		return false, err
	}
	// Garbage collection may have marked the blob since: then it links
	// nothing and the client uploads the blob instead.
	if err := s.db.Blobs.Link(ctx, name, dgst.String()); err != nil {
		if errors.Is(err, models.ErrNotFound) {
			return false, nil
		}
		return false, fmt.Errorf("mount blob %s: %w", dgst, err)
	}
	return true, nil
}

// Repositories lists up to limit repositories that link dgst.
func (s *Blobs) Repositories(ctx context.Context, dgst digest.Digest, limit int) ([]string, error) {
	return s.db.Blobs.Repositories(ctx, dgst.String(), limit)
}
