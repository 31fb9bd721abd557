package s3

import (
	"bufio"
	"context"
	"io"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/opencontainers/go-digest"

	"github.com/wharfhub/wharf/server/storage"
)

// Stat implements storage.Driver.
func (d *Driver) Stat(ctx context.Context, dgst digest.Digest) (int64, error) {
	key, err := d.blobKey(dgst)
	if err != nil {
		return 0, storage.ErrNotFound
	}
	info, err := d.client.StatObject(ctx, d.bucket, key, minio.StatObjectOptions{})
	if err != nil {
		return 0, notFound(err)
	}
	return info.Size, nil
}

// object is a blob opened for reading; minio.Object fetches lazily and
// turns Seek into ranged GETs. Each of its Reads is a round trip to the
// goroutine that holds the response, so reads go through a buffer far
// larger than the 32 KiB an HTTP response copies with.
type object struct {
	obj  *minio.Object
	buf  *bufio.Reader
	size int64
}

const readBuffer = 256 << 10

func (o *object) Size() int64 { return o.size }

func (o *object) Read(p []byte) (int, error) { return o.buf.Read(p) }

func (o *object) Seek(offset int64, whence int) (int64, error) {
	if whence == io.SeekCurrent {
		// The buffer has read ahead of the caller.
		offset -= int64(o.buf.Buffered())
	}
	n, err := o.obj.Seek(offset, whence)
	o.buf.Reset(o.obj)
	return n, err
}

func (o *object) Close() error { return o.obj.Close() }

// Open implements storage.Driver.
func (d *Driver) Open(ctx context.Context, dgst digest.Digest) (storage.Content, error) {
	key, err := d.blobKey(dgst)
	if err != nil {
		return nil, storage.ErrNotFound
	}
	obj, err := d.client.GetObject(ctx, d.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, notFound(err)
	}
	info, err := obj.Stat()
	if err != nil {
		obj.Close()
		return nil, notFound(err)
	}
	return &object{obj: obj, buf: bufio.NewReaderSize(obj, readBuffer), size: info.Size}, nil
}

// Delete implements storage.Driver.
func (d *Driver) Delete(ctx context.Context, dgst digest.Digest) error {
	key, err := d.blobKey(dgst)
	if err != nil {
		return nil
	}
	if err := d.client.RemoveObject(ctx, d.bucket, key, minio.RemoveObjectOptions{}); err != nil && !isNotFound(err) {
		return err
	}
	return nil
}

// RedirectURL returns a presigned GET URL for the blob when redirects are
// on; ok is false when they are off.
func (d *Driver) RedirectURL(ctx context.Context, dgst digest.Digest) (url string, ok bool, err error) {
	if d.ttl <= 0 {
		return "", false, nil
	}
	key, err := d.blobKey(dgst)
	if err != nil {
		return "", false, err
	}
	u, err := d.client.PresignedGetObject(ctx, d.bucket, key, d.ttl, nil)
	if err != nil {
		return "", false, err
	}
	return u.String(), true, nil
}

// WalkBlobs calls fn for every committed blob, with its size and last
// modification time.
func (d *Driver) WalkBlobs(ctx context.Context, fn func(dgst digest.Digest, size int64, modTime time.Time) error) error {
	root := d.prefix + "blobs/"
	for o := range d.client.ListObjects(ctx, d.bucket, minio.ListObjectsOptions{Prefix: root, Recursive: true}) {
		if o.Err != nil {
			return o.Err
		}
		parts := strings.Split(strings.TrimPrefix(o.Key, root), "/")
		if len(parts) != 3 {
			continue
		}
		dgst := digest.NewDigestFromEncoded(digest.Algorithm(parts[0]), parts[2])
		if dgst.Validate() != nil || !strings.HasPrefix(parts[2], parts[1]) {
			continue
		}
		if err := fn(dgst, o.Size, o.LastModified); err != nil {
			return err
		}
	}
	return nil
}
