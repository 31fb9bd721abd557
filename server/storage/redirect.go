package storage

import (
	"context"

	"github.com/opencontainers/go-digest"
)

// Redirector is implemented by drivers that can hand a client a URL to
// fetch a blob straight from the backend; ok is false when redirects are
// off.
type Redirector interface {
	RedirectURL(ctx context.Context, dgst digest.Digest) (url string, ok bool, err error)
}
