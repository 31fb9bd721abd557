package s3

import (
	"bytes"
	"cmp"
	"context"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/wharfhub/wharf/server/storage"
)

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

	br := &storage.CountingReader{R: r}
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
	return br.N, nil
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
