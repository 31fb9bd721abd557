package scan

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/opencontainers/go-digest"

	"github.com/wharfhub/wharf/models"
)

// Bounds of a database bundle: Trivy's is about 80 MB packed and under
// 1 GB unpacked.
const (
	MaxBundle     = 4 << 30
	maxDBFile     = 16 << 30
	maxMetadata   = 64 << 10
	dbFile        = "trivy.db"
	metadataFile  = "metadata.json"
	schemaVersion = 2
	// maxTrailer bounds what may follow the tar's end in the gzip stream
	// (tar pads its last record with zeros: to 10 KiB with GNU tar).
	maxTrailer = 1 << 20
)

// ErrBundle is a database bundle that is not one.
var ErrBundle = errors.New("not a Trivy database bundle")

// metadata is a Trivy database's metadata.json.
type metadata struct {
	Version      int       `json:"Version"`
	NextUpdate   time.Time `json:"NextUpdate"`
	UpdatedAt    time.Time `json:"UpdatedAt"`
	DownloadedAt time.Time `json:"DownloadedAt"`
}

// readBundle reads a bundle (a gzip'd tar of trivy.db and metadata.json,
// as `oras pull ghcr.io/aquasecurity/trivy-db:2` gets it), handing each
// of the two files to file, and returns its metadata.
func readBundle(r io.Reader, file func(name string, r io.Reader) error) (*metadata, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBundle, err)
	}
	tr := tar.NewReader(zr)
	var meta *metadata
	haveDB := false
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBundle, err)
		}
		name := path.Clean(strings.TrimPrefix(h.Name, "./"))
		if h.Typeflag == tar.TypeDir && (name == "." || name == "db") {
			continue
		}
		name = strings.TrimPrefix(name, "db/")
		if h.Typeflag != tar.TypeReg || (name != dbFile && name != metadataFile) {
			return nil, fmt.Errorf("%w: it holds %q, and a bundle holds only %s and %s", ErrBundle, h.Name, dbFile, metadataFile)
		}
		switch name {
		case metadataFile:
			if meta != nil || h.Size > maxMetadata {
				return nil, fmt.Errorf("%w: a second or oversized %s", ErrBundle, metadataFile)
			}
			b, err := io.ReadAll(io.LimitReader(tr, maxMetadata))
			if err != nil {
				return nil, fmt.Errorf("%w: %v", ErrBundle, err)
			}
			meta = new(metadata)
			if err := json.Unmarshal(b, meta); err != nil {
				return nil, fmt.Errorf("%w: %s: %v", ErrBundle, metadataFile, err)
			}
			if err := file(name, strings.NewReader(string(b))); err != nil {
				return nil, err
			}
		case dbFile:
			if haveDB || h.Size > maxDBFile {
				return nil, fmt.Errorf("%w: a second or oversized %s", ErrBundle, dbFile)
			}
			haveDB = true
			if err := file(name, io.LimitReader(tr, h.Size)); err != nil {
				return nil, err
			}
		}
	}
	// Read the stream to its end, so that gzip checks its CRC-32 and
	// length: else a corrupted bundle whose tar still parses would pass.
	if n, err := io.Copy(io.Discard, io.LimitReader(zr, maxTrailer+1)); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBundle, err)
	} else if n > maxTrailer {
		return nil, fmt.Errorf("%w: more than %d bytes after the tar", ErrBundle, maxTrailer)
	}
	switch {
	case meta == nil || !haveDB:
		return nil, fmt.Errorf("%w: it lacks %s or %s", ErrBundle, dbFile, metadataFile)
	case meta.Version != schemaVersion:
		return nil, fmt.Errorf("%w: its schema version is %d; this Trivy reads version %d (ghcr.io/aquasecurity/trivy-db:%d)",
			ErrBundle, meta.Version, schemaVersion, schemaVersion)
	case meta.UpdatedAt.IsZero():
		return nil, fmt.Errorf("%w: %s has no UpdatedAt", ErrBundle, metadataFile)
	}
	return meta, nil
}

// ImportDatabase stores the database bundle read from r as the
// scanner's database and queues a rescan of every scanned image. The
// bundle is checked whole before it counts: its bytes are streamed to
// the blob store, read back and checked, then committed.
func (s *Service) ImportDatabase(ctx context.Context, r io.Reader, by string) (*models.ScannerDatabase, error) {
	// The import is in the audit log whichever door asked for it (the
	// API, through hub.Scans, or wharf scanner db import).
	models.Note(ctx, models.AuditNote{Action: "scanner.database.import", Target: "scanner"})
	id := "scanner-db-" + uuid.NewString()
	h := sha256.New()
	n, err := s.store.AppendUpload(ctx, id, 0, io.TeeReader(io.LimitReader(r, MaxBundle+1), h))
	defer func() { _ = s.store.DeleteUpload(context.WithoutCancel(ctx), id) }()
	if err != nil {
		return nil, fmt.Errorf("store the bundle: %w", err)
	}
	if n > MaxBundle {
		return nil, fmt.Errorf("%w: it is larger than %d bytes", ErrBundle, MaxBundle)
	}
	rc, err := s.store.ReadUpload(ctx, id)
	if err != nil {
		return nil, err
	}
	meta, err := readBundle(rc, func(string, io.Reader) error { return nil })
	rc.Close()
	if err != nil {
		return nil, err
	}
	dgst := digest.NewDigest(digest.SHA256, h)
	lease, err := s.db.Blobs.Lease(ctx, dgst.String(), n, time.Hour)
	if err != nil {
		return nil, err
	}
	if err := s.store.CommitUpload(ctx, id, n, dgst); err != nil {
		_ = s.db.Blobs.ReleaseLease(context.WithoutCancel(ctx), lease)
		return nil, fmt.Errorf("commit the bundle: %w", err)
	}
	d := &models.ScannerDatabase{Digest: dgst.String(), Size: n, Version: meta.Version, UpdatedAt: meta.UpdatedAt.UTC(), ImportedBy: by}
	if !meta.NextUpdate.IsZero() {
		next := meta.NextUpdate.UTC()
		d.NextUpdate = &next
	}
	if err := s.db.ScannerDBs.Add(ctx, d, lease); err != nil {
		_ = s.db.Blobs.ReleaseLease(context.WithoutCancel(ctx), lease)
		return nil, err
	}
	s.log.Info("scanner: database imported", "digest", d.Digest, "size", n, "updated_at", d.UpdatedAt, "by", by)
	if s.wake != nil {
		s.wake()
	}
	return d, nil
}

// databaseDir returns the directory to hand trivy for database d (its
// db/ holds trivy.db and metadata.json), unpacking the bundle from the
// blob store on first use. Directories of other databases are removed.
// The caller holds s.mu.
func (s *Service) databaseDir(ctx context.Context, d *models.ScannerDatabase) (string, error) {
	root := filepath.Join(s.dataDir, "scanner")
	hex := strings.TrimPrefix(d.Digest, "sha256:")
	dir := filepath.Join(root, "trivy-"+hex[:min(len(hex), 24)])
	if _, err := os.Stat(filepath.Join(dir, "db", metadataFile)); err == nil {
		return dir, nil
	}
	if err := os.MkdirAll(root, 0o750); err != nil {
		return "", err
	}
	old, _ := filepath.Glob(filepath.Join(root, "*"))
	for _, o := range old {
		_ = os.RemoveAll(o) // another database's, or a half-made one
	}
	tmp, err := os.MkdirTemp(root, ".unpack-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	if err := os.Mkdir(filepath.Join(tmp, "db"), 0o750); err != nil {
		return "", err
	}
	blob, err := s.store.Open(ctx, digest.Digest(d.Digest))
	if err != nil {
		return "", fmt.Errorf("open database %s: %w", d.Digest, err)
	}
	defer blob.Close()
	h := sha256.New()
	if _, err := readBundle(io.TeeReader(blob, h), func(name string, r io.Reader) error {
		return writeFile(filepath.Join(tmp, "db", name), r)
	}); err != nil {
		return "", err
	}
	if _, err := io.Copy(h, blob); err != nil { // the rest, so that the digest covers every byte
		return "", err
	}
	if got := digest.NewDigest(digest.SHA256, h); got.String() != d.Digest {
		return "", fmt.Errorf("database %s: the store holds %s", d.Digest, got)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return "", err
	}
	return dir, nil
}

// writeFile writes r to name durably.
func writeFile(name string, r io.Reader) error {
	f, err := os.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
