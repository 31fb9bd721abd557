package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/opencontainers/go-digest"
)

var buffers = sync.Pool{New: func() any { b := make([]byte, partSize); return &b }}

// putStream writes r to key: one PUT when it fits in a buffer, else a
// multipart upload of buffer-sized parts.
func (d *Driver) putStream(ctx context.Context, key string, r io.Reader) error {
	bp := buffers.Get().(*[]byte)
	defer buffers.Put(bp)
	buf := *bp
	n, rerr := io.ReadFull(r, buf)
	if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
		_, err := d.core.PutObject(ctx, d.bucket, key, bytes.NewReader(buf[:n]), int64(n), "", "",
			minio.PutObjectOptions{DisableContentSha256: true})
		return err
	}
	if rerr != nil {
		return rerr
	}
	// Each part uploads while the next one is read from the client, so
	// the two transfers overlap.
	np := buffers.Get().(*[]byte)
	defer buffers.Put(np)
	cur, next := buf, *np
	type sent struct {
		part minio.ObjectPart
		err  error
	}
	return d.multipart(ctx, key, func(uploadID string) ([]minio.CompletePart, error) {
		var parts []minio.CompletePart
		for part := 1; ; part++ {
			done := make(chan sent, 1)
			go func(b []byte) {
				p, err := d.core.PutObjectPart(ctx, d.bucket, key, uploadID, part, bytes.NewReader(b), int64(len(b)),
					minio.PutObjectPartOptions{DisableContentSha256: true})
				done <- sent{p, err}
			}(cur[:n])
			var rerr error
			n, rerr = io.ReadFull(r, next)
			res := <-done
			if res.err != nil {
				return nil, res.err
			}
			parts = append(parts, minio.CompletePart{PartNumber: part, ETag: res.part.ETag})
			if rerr == io.EOF {
				return parts, nil
			}
			if rerr != nil && rerr != io.ErrUnexpectedEOF {
				return nil, rerr
			}
			cur, next = next, cur
		}
	})
}

// multipart writes key as one multipart upload whose parts fill sends,
// and completes it. On any error the upload is aborted (with a fresh
// context: the request's may be what failed), so nothing half-written
// becomes visible.
func (d *Driver) multipart(ctx context.Context, key string, fill func(uploadID string) ([]minio.CompletePart, error)) error {
	uploadID, err := d.core.NewMultipartUpload(ctx, d.bucket, key, minio.PutObjectOptions{})
	if err != nil {
		return err
	}
	parts, err := fill(uploadID)
	if err == nil {
		_, err = d.core.CompleteMultipartUpload(ctx, d.bucket, key, uploadID, parts, minio.PutObjectOptions{})
	}
	if err != nil {
		actx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = d.core.AbortMultipartUpload(actx, d.bucket, key, uploadID)
	}
	return err
}

// CommitUpload implements storage.Driver: the blob is assembled inside the
// store by copying the segments, never through this process.
func (d *Driver) CommitUpload(ctx context.Context, id string, size int64, dgst digest.Digest) error {
	prefix, err := d.uploadPrefix(id)
	if err != nil {
		return err
	}
	key, err := d.blobKey(dgst)
	if err != nil {
		return err
	}
	segs, err := d.segments(ctx, prefix)
	if err != nil {
		return err
	}
	var end int64
	if len(segs) > 0 {
		end = segs[len(segs)-1].end()
	}
	if end < size {
		return fmt.Errorf("s3 store: upload %s holds %d bytes, commit of %d", id, end, size)
	}
	if _, err := d.client.StatObject(ctx, d.bucket, key, minio.StatObjectOptions{}); err == nil {
		return d.removeAll(ctx, segs) // already stored: deduplicated
	} else if !isNotFound(err) {
		return err
	}
	switch {
	case size == 0:
		_, err = d.client.PutObject(ctx, d.bucket, key, bytes.NewReader(nil), 0, minio.PutObjectOptions{})
	case len(segs) == 1 && segs[0].size == size && size <= copyPiece:
		_, err = d.core.CopyObject(ctx, d.bucket, segs[0].key, d.bucket, key, nil,
			minio.CopySrcOptions{}, minio.PutObjectOptions{})
	default:
		err = d.compose(ctx, key, segs, size)
	}
	if err != nil {
		return err
	}
	return d.removeAll(ctx, segs)
}

// compose copies the first size bytes of segs into key with a multipart
// copy, several parts at a time: stores copy parts in parallel, and one
// large CopyObject is not.
func (d *Driver) compose(ctx context.Context, key string, segs []segment, size int64) error {
	type piece struct {
		src      string
		from, to int64
	}
	var pieces []piece
	for _, s := range segs {
		if s.start >= size {
			break
		}
		n := min(s.size, size-s.start)
		// Even pieces of at most copyPiece bytes: every piece of a segment
		// of at least minSegment bytes stays at least that big.
		k := max((n+copyPiece-1)/copyPiece, 1)
		for i := range k {
			pieces = append(pieces, piece{s.key, n * i / k, n * (i + 1) / k})
		}
	}
	return d.multipart(ctx, key, func(uploadID string) ([]minio.CompletePart, error) {
		parts := make([]minio.CompletePart, len(pieces))
		errs := make([]error, len(pieces))
		sem := make(chan struct{}, copyParallel)
		var wg sync.WaitGroup
		for i, p := range pieces {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				cp, err := d.core.CopyObjectPart(ctx, d.bucket, p.src, d.bucket, key, uploadID, i+1, p.from, p.to-p.from, nil)
				parts[i], errs[i] = minio.CompletePart{PartNumber: cp.PartNumber, ETag: cp.ETag}, err
			})
		}
		wg.Wait()
		return parts, errors.Join(errs...)
	})
}
