package storage

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/opencontainers/go-digest"
)

// ErrNotFound is returned for a blob or upload the store does not hold.
var ErrNotFound = errors.New("storage: not found")

// ErrOffsetMismatch is returned when an append does not start where the
// stored upload data ends.
var ErrOffsetMismatch = errors.New("storage: upload offset mismatch")

// Content is a committed blob opened for reading. Seek lets HTTP range
// requests skip ahead without reading what they skip.
type Content interface {
	io.ReadSeekCloser
	Size() int64
}

// Driver stores blobs by digest and upload data by id. Implementations must
// make CommitUpload atomic: after a crash the blob is either absent or whole.
type Driver interface {
	// Stat reports the size of a committed blob, or ErrNotFound.
	Stat(ctx context.Context, dgst digest.Digest) (int64, error)
	// Open opens a committed blob, or returns ErrNotFound.
	Open(ctx context.Context, dgst digest.Digest) (Content, error)
	// Delete removes a committed blob; a missing blob is not an error.
	Delete(ctx context.Context, dgst digest.Digest) error
	// WalkBlobs calls fn for every committed blob, with its size and last modification time.
	WalkBlobs(ctx context.Context, fn func(dgst digest.Digest, size int64, modTime time.Time) error) error

	// AppendUpload writes r to upload id starting at offset and returns the
	// bytes written. Data the store holds beyond offset (left by a request
	// that failed half-way) is discarded first. A store holding fewer than
	// offset bytes answers ErrOffsetMismatch.
	AppendUpload(ctx context.Context, id string, offset int64, r io.Reader) (int64, error)
	// ReadUpload opens the upload's data, for the rare verification pass of
	// an algorithm that was not hashed while streaming.
	ReadUpload(ctx context.Context, id string) (io.ReadCloser, error)
	// CommitUpload makes the first size bytes of upload id the blob dgst,
	// durably, and removes the upload. The caller has verified the digest.
	CommitUpload(ctx context.Context, id string, size int64, dgst digest.Digest) error
	// DeleteUpload removes an upload's data; a missing upload is not an error.
	DeleteUpload(ctx context.Context, id string) error
	// ListUploads lists the ids of uploads that hold data, for the purge of
	// data that no upload session owns any more.
	ListUploads(ctx context.Context) ([]UploadInfo, error)
}

// UploadInfo names upload data in the store and when it was last written.
type UploadInfo struct {
	ID      string
	ModTime time.Time
}

// Pinger is implemented by drivers that can tell whether their backend
// answers, for the readiness check.
type Pinger interface {
	Ping(ctx context.Context) error
}
