package content

import (
	"errors"
	"fmt"

	"github.com/wharfhub/wharf/models"
)

// Errors the service answers; callers map them to their protocol's codes.
var (
	ErrBlobUnknown         = errors.New("blob unknown")
	ErrUploadUnknown       = errors.New("upload unknown")
	ErrDigestInvalid       = errors.New("digest invalid")
	ErrSizeInvalid         = errors.New("size invalid")
	ErrRangeInvalid        = errors.New("content range invalid")
	ErrManifestInvalid     = errors.New("manifest invalid")
	ErrManifestTooLarge    = errors.New("manifest too large")
	ErrManifestBlobUnknown = errors.New("manifest references unknown content")
	ErrManifestUnknown     = errors.New("manifest unknown")
	ErrNameUnknown         = errors.New("repository unknown")
	ErrTagInvalid          = errors.New("tag invalid")
	ErrNotAcceptable       = errors.New("manifest media type not accepted")
	// ErrTooManyUploads refuses a new upload session to a user who holds
	// the most open ones allowed.
	ErrTooManyUploads = errors.New("too many open upload sessions")
	// ErrBusy asks the client to retry: the blob it writes is being
	// garbage collected.
	ErrBusy = errors.New("temporarily unavailable")
)

// Detail carries client-visible detail with a service error.
type Detail struct {
	Err    error
	Msg    string
	Detail any
}

func (d *Detail) Error() string { return d.Err.Error() + ": " + d.Msg }
func (d *Detail) Unwrap() error { return d.Err }

func detailf(err error, detail any, format string, args ...any) error {
	return &Detail{Err: err, Msg: fmt.Sprintf(format, args...), Detail: detail}
}

// ImmutableError refuses moving or deleting a tag that an immutability
// rule protects; its message names the rule.
type ImmutableError = models.ImmutableError
