// Package s3 is the blob store on an S3-compatible object store (AWS S3,
// MinIO, Ceph RGW...), so that several replicas can share one store.
//
// Layout under the configured prefix:
//
//	blobs/<algorithm>/<first two hex chars>/<hex>   committed blobs
//	uploads/<upload id>/<20-digit start offset>     upload data, in segments
//
// S3 objects cannot be appended to, so each PATCH of an upload becomes a
// segment object. Every segment but the last is kept at least minSegment
// bytes long (a small tail is rewritten together with the next chunk),
// which is what lets the commit assemble the blob server-side with a
// multipart copy: S3 refuses copy parts under 5 MiB except the last. A
// segment is written with a single PUT or a multipart upload, both of
// which S3 makes visible atomically, so a failed request leaves the
// previous data untouched and any replica can continue the upload.
package s3

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/opencontainers/go-digest"

	"github.com/wharfhub/wharf/server/storage"
)

const (
	// minSegment is S3's smallest multipart part but the last.
	minSegment = 5 << 20
	// partSize is the size of the two buffers an in-flight segment write
	// holds (one uploading, one filling): the only memory an upload costs,
	// whatever the layer's size.
	partSize = 8 << 20
	// copyPiece is the largest part of the server-side copy that commits
	// a blob (S3 allows 5 GiB); copyParallel of them are copied at once.
	copyPiece    = 32 << 20
	copyParallel = 8
)

// Config names the bucket and how to reach it.
type Config struct {
	Endpoint  string // host:port
	Bucket    string
	Prefix    string // key prefix inside the bucket, e.g. "wharf/"
	Region    string
	AccessKey string
	SecretKey string
	Secure    bool // HTTPS to the endpoint
	// CreateBucket makes the bucket when it does not exist.
	CreateBucket bool
	// RedirectTTL, when above zero, lets blob GETs redirect to presigned
	// URLs valid this long, so bytes flow from the store to the client.
	RedirectTTL time.Duration
}

// Driver stores blobs in one bucket.
type Driver struct {
	client *minio.Client
	core   minio.Core
	bucket string
	prefix string
	ttl    time.Duration
}

var _ storage.Driver = (*Driver)(nil)

// New connects to the store and checks the bucket.
func New(ctx context.Context, cfg Config) (*Driver, error) {
	if cfg.Endpoint == "" || cfg.Bucket == "" {
		return nil, errors.New("s3 store: endpoint and bucket are required")
	}
	prefix := strings.Trim(cfg.Prefix, "/")
	if prefix != "" {
		prefix += "/"
	}
	client, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure: cfg.Secure,
		Region: cfg.Region,
		Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			MaxIdleConnsPerHost: 256,
			IdleConnTimeout:     90 * time.Second,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("s3 store: %w", err)
	}
	d := &Driver{client: client, core: minio.Core{Client: client}, bucket: cfg.Bucket, prefix: prefix, ttl: cfg.RedirectTTL}
	ok, err := client.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("s3 store: bucket %s: %w", cfg.Bucket, err)
	}
	if !ok {
		if !cfg.CreateBucket {
			return nil, fmt.Errorf("s3 store: bucket %s does not exist", cfg.Bucket)
		}
		if err := client.MakeBucket(ctx, cfg.Bucket, minio.MakeBucketOptions{Region: cfg.Region}); err != nil {
			return nil, fmt.Errorf("s3 store: create bucket %s: %w", cfg.Bucket, err)
		}
	}
	return d, nil
}

func (d *Driver) blobKey(dgst digest.Digest) (string, error) {
	if err := dgst.Validate(); err != nil {
		return "", err
	}
	hex := dgst.Encoded()
	return d.prefix + "blobs/" + string(dgst.Algorithm()) + "/" + hex[:2] + "/" + hex, nil
}

func (d *Driver) uploadPrefix(id string) (string, error) {
	if !storage.ValidUploadID(id) {
		return "", fmt.Errorf("invalid upload id %q", id)
	}
	return d.prefix + "uploads/" + id + "/", nil
}

func segmentKey(prefix string, start int64) string {
	return fmt.Sprintf("%s%020d", prefix, start)
}

func isNotFound(err error) bool {
	switch minio.ToErrorResponse(err).Code {
	case "NoSuchKey", "NoSuchUpload", "NotFound":
		return true
	}
	return false
}

func notFound(err error) error {
	if isNotFound(err) {
		return storage.ErrNotFound
	}
	return err
}

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

// segment is one object of an upload: bytes [start, start+size).
type segment struct {
	key   string
	start int64
	size  int64
	mod   time.Time
}

func (s segment) end() int64 { return s.start + s.size }

// segments lists an upload's segments in offset order.
func (d *Driver) segments(ctx context.Context, prefix string) ([]segment, error) {
	var out []segment
	for o := range d.client.ListObjects(ctx, d.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if o.Err != nil {
			return nil, o.Err
		}
		start, err := strconv.ParseInt(strings.TrimPrefix(o.Key, prefix), 10, 64)
		if err != nil {
			continue // not ours
		}
		out = append(out, segment{key: o.Key, start: start, size: o.Size, mod: o.LastModified})
	}
	slices.SortFunc(out, func(a, b segment) int { return cmp.Compare(a.start, b.start) })
	return out, nil
}

// AppendUpload implements storage.Driver.
func (d *Driver) AppendUpload(ctx context.Context, id string, offset int64, r io.Reader) (int64, error) {
	prefix, err := d.uploadPrefix(id)
	if err != nil {
		return 0, err
	}
	segs, err := d.segments(ctx, prefix)
	if err != nil {
		return 0, err
	}
	var end int64
	if len(segs) > 0 {
		end = segs[len(segs)-1].end()
	}
	if offset > end {
		return 0, storage.ErrOffsetMismatch
	}
	// Segments wholly before offset stay; the one that reaches past it (or
	// a short tail ending at it) is rewritten together with the new data;
	// those starting at or after offset go.
	var merge *segment
	var drop []string
	for i, s := range segs {
		switch {
		case s.end() < offset || s.end() == offset && s.size >= minSegment:
		case s.start < offset:
			merge = &segs[i]
		default:
			drop = append(drop, s.key)
		}
	}

	br := &countingReader{r: r}
	// An empty append changes nothing, but makes a new upload exist.
	first := make([]byte, 1)
	n, rerr := io.ReadFull(br, first)
	if rerr != nil && rerr != io.ErrUnexpectedEOF && rerr != io.EOF {
		return 0, rerr
	}
	body := io.MultiReader(bytes.NewReader(first[:n]), br)
	if n == 0 && len(drop) == 0 && (merge == nil || merge.end() == offset) {
		if len(segs) == 0 {
			_, err := d.client.PutObject(ctx, d.bucket, segmentKey(prefix, 0), bytes.NewReader(nil), 0, minio.PutObjectOptions{})
			return 0, err
		}
		return 0, nil
	}

	start := offset
	if merge != nil {
		start = merge.start
		head, err := d.readRange(ctx, merge.key, offset-merge.start)
		if err != nil {
			return 0, err
		}
		defer head.Close()
		body = io.MultiReader(head, body)
	}
	key := segmentKey(prefix, start)
	// Segments past offset go first: if the write then fails, the upload
	// holds exactly what the caller has accounted for, or the old tail.
	for _, k := range drop {
		if k == key {
			continue
		}
		if err := d.client.RemoveObject(ctx, d.bucket, k, minio.RemoveObjectOptions{}); err != nil && !isNotFound(err) {
			return 0, err
		}
	}
	if err := d.putStream(ctx, key, body); err != nil {
		return 0, err
	}
	return br.n, nil
}

// readRange opens the first n bytes of an object.
func (d *Driver) readRange(ctx context.Context, key string, n int64) (io.ReadCloser, error) {
	if n == 0 {
		return io.NopCloser(bytes.NewReader(nil)), nil
	}
	opts := minio.GetObjectOptions{}
	if err := opts.SetRange(0, n-1); err != nil {
		return nil, err
	}
	rc, _, _, err := d.core.GetObject(ctx, d.bucket, key, opts)
	if err != nil {
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{io.LimitReader(rc, n), rc}, nil
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

// ReadUpload implements storage.Driver.
func (d *Driver) ReadUpload(ctx context.Context, id string) (io.ReadCloser, error) {
	prefix, err := d.uploadPrefix(id)
	if err != nil {
		return nil, err
	}
	segs, err := d.segments(ctx, prefix)
	if err != nil {
		return nil, err
	}
	if len(segs) == 0 {
		return nil, storage.ErrNotFound
	}
	return &segmentReader{ctx: ctx, d: d, segs: segs}, nil
}

// segmentReader reads an upload's segments one after another.
type segmentReader struct {
	ctx  context.Context
	d    *Driver
	segs []segment
	cur  io.ReadCloser
}

func (s *segmentReader) Read(p []byte) (int, error) {
	for {
		if s.cur == nil {
			if len(s.segs) == 0 {
				return 0, io.EOF
			}
			rc, err := s.d.readRange(s.ctx, s.segs[0].key, s.segs[0].size)
			if err != nil {
				return 0, err
			}
			s.cur, s.segs = rc, s.segs[1:]
		}
		n, err := s.cur.Read(p)
		if err == io.EOF {
			s.cur.Close()
			s.cur = nil
			if n > 0 {
				return n, nil
			}
			continue
		}
		return n, err
	}
}

func (s *segmentReader) Close() error {
	if s.cur != nil {
		return s.cur.Close()
	}
	return nil
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

func (d *Driver) removeAll(ctx context.Context, segs []segment) error {
	for _, s := range segs {
		if err := d.client.RemoveObject(ctx, d.bucket, s.key, minio.RemoveObjectOptions{}); err != nil && !isNotFound(err) {
			return err
		}
	}
	return nil
}

// DeleteUpload implements storage.Driver.
func (d *Driver) DeleteUpload(ctx context.Context, id string) error {
	prefix, err := d.uploadPrefix(id)
	if err != nil {
		return nil
	}
	segs, err := d.segments(ctx, prefix)
	if err != nil {
		return err
	}
	return d.removeAll(ctx, segs)
}

// ListUploads implements storage.Driver.
func (d *Driver) ListUploads(ctx context.Context) ([]storage.UploadInfo, error) {
	root := d.prefix + "uploads/"
	latest := map[string]time.Time{}
	var order []string
	for o := range d.client.ListObjects(ctx, d.bucket, minio.ListObjectsOptions{Prefix: root, Recursive: true}) {
		if o.Err != nil {
			return nil, o.Err
		}
		id, _, ok := strings.Cut(strings.TrimPrefix(o.Key, root), "/")
		if !ok || !storage.ValidUploadID(id) {
			continue
		}
		t, seen := latest[id]
		if !seen {
			order = append(order, id)
		}
		if o.LastModified.After(t) {
			latest[id] = o.LastModified
		}
	}
	out := make([]storage.UploadInfo, 0, len(order))
	for _, id := range order {
		out = append(out, storage.UploadInfo{ID: id, ModTime: latest[id]})
	}
	return out, nil
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

// Ping implements storage.Pinger.
func (d *Driver) Ping(ctx context.Context) error {
	_, err := d.client.BucketExists(ctx, d.bucket)
	return err
}
