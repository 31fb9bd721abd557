package filesystem

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/wharfhub/wharf/server/storage"
)

// Driver stores blobs under a root directory.
type Driver struct {
	root string
}

// New prepares root (creating it if needed) and returns a driver on it.
func New(root string) (*Driver, error) {
	for _, dir := range []string{"blobs", "uploads"} {
		if err := os.MkdirAll(filepath.Join(root, dir), 0o750); err != nil {
			return nil, fmt.Errorf("filesystem store: %w", err)
		}
	}
	return &Driver{root: root}, nil
}

var _ storage.Driver = (*Driver)(nil)

func (d *Driver) blobPath(dgst digest.Digest) (string, error) {
	if err := dgst.Validate(); err != nil {
		return "", err
	}
	hex := dgst.Encoded()
	return filepath.Join(d.root, "blobs", string(dgst.Algorithm()), hex[:2], hex), nil
}

func (d *Driver) uploadPath(id string) (string, error) {
	if !storage.ValidUploadID(id) {
		return "", fmt.Errorf("invalid upload id %q", id)
	}
	return filepath.Join(d.root, "uploads", id), nil
}

func notFound(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return storage.ErrNotFound
	}
	return err
}

// Stat implements storage.Driver.
func (d *Driver) Stat(_ context.Context, dgst digest.Digest) (int64, error) {
	p, err := d.blobPath(dgst)
	if err != nil {
		return 0, storage.ErrNotFound
	}
	fi, err := os.Stat(p)
	if err != nil {
		return 0, notFound(err)
	}
	return fi.Size(), nil
}

type file struct {
	*os.File
	size int64
}

func (f file) Size() int64 { return f.size }

// Open implements storage.Driver.
func (d *Driver) Open(_ context.Context, dgst digest.Digest) (storage.Content, error) {
	p, err := d.blobPath(dgst)
	if err != nil {
		return nil, storage.ErrNotFound
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, notFound(err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return file{File: f, size: fi.Size()}, nil
}

// Delete implements storage.Driver.
func (d *Driver) Delete(_ context.Context, dgst digest.Digest) error {
	p, err := d.blobPath(dgst)
	if err != nil {
		return nil
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// WalkBlobs implements storage.Driver. It lists blobs/<alg>/<xx>/ in
// lexical order; entries that are not blobs at their right path are
// skipped, and so are blobs deleted while it walks.
func (d *Driver) WalkBlobs(ctx context.Context, fn func(dgst digest.Digest, size int64, modTime time.Time) error) error {
	base := filepath.Join(d.root, "blobs")
	algs, err := os.ReadDir(base)
	if err != nil {
		return fmt.Errorf("walk blobs: %w", err)
	}
	for _, alg := range algs {
		if !alg.IsDir() {
			continue
		}
		prefixes, err := readDirIfExists(filepath.Join(base, alg.Name()))
		if err != nil {
			return fmt.Errorf("walk blobs: %w", err)
		}
		for _, prefix := range prefixes {
			if !prefix.IsDir() {
				continue
			}
			entries, err := readDirIfExists(filepath.Join(base, alg.Name(), prefix.Name()))
			if err != nil {
				return fmt.Errorf("walk blobs: %w", err)
			}
			for _, e := range entries {
				if err := ctx.Err(); err != nil {
					return err
				}
				dgst := digest.NewDigestFromEncoded(digest.Algorithm(alg.Name()), e.Name())
				if !e.Type().IsRegular() || dgst.Validate() != nil || e.Name()[:2] != prefix.Name() {
					continue
				}
				fi, err := e.Info()
				if errors.Is(err, fs.ErrNotExist) {
					continue // deleted meanwhile
				}
				if err != nil {
					return fmt.Errorf("walk blobs: %w", err)
				}
				if err := fn(dgst, fi.Size(), fi.ModTime()); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// readDirIfExists reads a directory that may have been removed meanwhile.
func readDirIfExists(dir string) ([]os.DirEntry, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return entries, err
}

// copyBufs keeps 1 MiB copy buffers: large writes keep syscalls few on big
// layers, and pooling keeps memory flat under many concurrent uploads.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 1<<20); return &b }}

// AppendUpload implements storage.Driver.
func (d *Driver) AppendUpload(ctx context.Context, id string, offset int64, r io.Reader) (int64, error) {
	p, err := d.uploadPath(id)
	if err != nil {
		return 0, err
	}
	flags := os.O_WRONLY
	if offset == 0 {
		flags |= os.O_CREATE // only a new upload may start a file
	}
	f, err := os.OpenFile(p, flags, 0o640)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, storage.ErrOffsetMismatch
	}
	if err != nil {
		return 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	if fi.Size() < offset {
		return 0, storage.ErrOffsetMismatch
	}
	if fi.Size() > offset {
		// A failed earlier request left bytes the session never accounted
		// for: drop them so the data matches the saved hash state.
		if err := f.Truncate(offset); err != nil {
			return 0, err
		}
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return 0, err
	}
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	n, err := io.CopyBuffer(newWritebackWriter(f, offset), ctxReader{ctx, r}, *bp)
	if err != nil {
		// Leave no partial chunk behind (a full disk, a client hang-up).
		_ = f.Truncate(offset)
		return 0, err
	}
	return n, nil
}

// ctxReader stops a copy when the request's context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// ReadUpload implements storage.Driver.
func (d *Driver) ReadUpload(_ context.Context, id string) (io.ReadCloser, error) {
	p, err := d.uploadPath(id)
	if err != nil {
		return nil, storage.ErrNotFound
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, notFound(err)
	}
	return f, nil
}

// CommitUpload implements storage.Driver.
func (d *Driver) CommitUpload(_ context.Context, id string, size int64, dgst digest.Digest) error {
	src, err := d.uploadPath(id)
	if err != nil {
		return storage.ErrNotFound
	}
	dst, err := d.blobPath(dgst)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(src, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) && size == 0 {
		// An empty upload never wrote a file.
		f, err = os.OpenFile(src, os.O_RDWR|os.O_CREATE, 0o640)
	}
	if err != nil {
		return notFound(err)
	}
	fi, err := f.Stat()
	switch {
	case err != nil:
	case fi.Size() < size:
		err = fmt.Errorf("upload holds %d bytes, fewer than %d", fi.Size(), size)
	case fi.Size() > size:
		err = f.Truncate(size)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("commit upload %s: %w", id, err)
	}
	if _, err := os.Stat(dst); err == nil {
		// Content addressing: the blob is already whole at its path.
		return os.Remove(src)
	}
	dir := filepath.Dir(dst)
	created, err := mkdirs(dir)
	if err != nil {
		return fmt.Errorf("commit upload %s: %w", id, err)
	}
	if err := os.Rename(src, dst); err != nil {
		return fmt.Errorf("commit upload %s: %w", id, err)
	}
	if err := syncDir(dir); err != nil {
		return err
	}
	// A directory made for this blob is durable only once its parent is.
	for _, c := range created {
		if err := syncDir(filepath.Dir(c)); err != nil {
			return err
		}
	}
	return nil
}

// mkdirs makes dir and its missing parents, and lists those it made.
func mkdirs(dir string) ([]string, error) {
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil {
			break
		}
		missing = append(missing, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	return missing, nil
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// DeleteUpload implements storage.Driver.
func (d *Driver) DeleteUpload(_ context.Context, id string) error {
	p, err := d.uploadPath(id)
	if err != nil {
		return nil
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// ListUploads implements storage.Driver.
func (d *Driver) ListUploads(_ context.Context) ([]storage.UploadInfo, error) {
	entries, err := os.ReadDir(filepath.Join(d.root, "uploads"))
	if err != nil {
		return nil, err
	}
	infos := make([]storage.UploadInfo, 0, len(entries))
	for _, e := range entries {
		if !storage.ValidUploadID(e.Name()) {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		infos = append(infos, storage.UploadInfo{ID: e.Name(), ModTime: fi.ModTime()})
	}
	return infos, nil
}

// Ping implements storage.Pinger: the blob directory must be there.
func (d *Driver) Ping(context.Context) error {
	fi, err := os.Stat(filepath.Join(d.root, "blobs"))
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", filepath.Join(d.root, "blobs"))
	}
	return nil
}
