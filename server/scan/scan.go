package scan

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/artifact"
	"github.com/wharfhub/wharf/server/content"
	"github.com/wharfhub/wharf/server/storage"
)

// Report is what one scan found.
type Report struct {
	Findings []models.Finding
	// Packages is how many packages the scanner listed.
	Packages int
	// SBOM is a CycloneDX SBOM of the image, if one was asked for.
	SBOM []byte
}

// Pusher is the name SBOMs that Wharf attaches are pushed under.
const Pusher = "wharf-scanner"

// SBOMType is the artifact type of the SBOMs Wharf attaches.
const SBOMType = "application/vnd.cyclonedx+json"

// failedAttempts is how many runs of a scan may fail before it is
// recorded as failed (the job is retried, with backoff, until then).
const failedAttempts = 3

// Service runs scans: the scan jobs, the database imports and the
// schedule of rescans.
type Service struct {
	db      *models.DB
	store   storage.Driver
	content *content.Service
	scanner Scanner
	log     *slog.Logger
	dataDir string
	target  func(ctx context.Context, repository, digest string) (Target, error)
	// wake makes the job worker look for due jobs (after an import).
	wake func()

	// mu runs one scan at a time on this replica: each is a process
	// that reads a database of about a gigabyte.
	mu sync.Mutex
}

// Config is what a Service needs.
type Config struct {
	DB      *models.DB
	Store   storage.Driver
	Content *content.Service
	// Scanner is nil when scanning is off: then imports still work, and
	// scans wait.
	Scanner Scanner
	Log     *slog.Logger
	// DataDir is where databases are unpacked for the scanner.
	DataDir string
	// Target says where and how the scanner pulls an image.
	Target func(ctx context.Context, repository, digest string) (Target, error)
	// Wake, if set, is called when new work was queued.
	Wake func()
}

// New makes the scan service.
func New(c Config) *Service {
	return &Service{db: c.DB, store: c.Store, content: c.Content, scanner: c.Scanner, log: c.Log,
		dataDir: c.DataDir, target: c.Target, wake: c.Wake}
}

// Enabled reports whether a scanner is set up.
func (s *Service) Enabled() bool { return s.scanner != nil }

// ScannerName names the scanner ("" when none is set up).
func (s *Service) ScannerName() string {
	if s.scanner == nil {
		return ""
	}
	return s.scanner.Name()
}

// Database returns the database scans use, or models.ErrNotFound.
func (s *Service) Database(ctx context.Context) (*models.ScannerDatabase, error) {
	return s.db.ScannerDBs.Current(ctx)
}

// Handle runs one scan job: scan the image, attach an SBOM if it has
// none from Wharf yet, and record what was found. A run that fails is
// retried; after failedAttempts the scan is recorded as failed.
func (s *Service) Handle(ctx context.Context, j models.Job) error {
	if s.scanner == nil {
		return errors.New("no scanner is set up")
	}
	m, err := s.db.Manifests.Get(ctx, j.Repository, j.Digest)
	if errors.Is(err, models.ErrNotFound) {
		return nil // deleted since
	}
	if err != nil {
		return err
	}
	if artifact.Kind(m.Kind) != artifact.Image {
		return nil
	}
	d, err := s.db.ScannerDBs.Current(ctx)
	if errors.Is(err, models.ErrNotFound) {
		// Importing a database queues this scan again.
		return s.db.Scans.Wait(ctx, j.RepositoryID, j.Digest, "No vulnerability database has been imported yet.")
	}
	if err != nil {
		return err
	}
	prev, err := s.db.Scans.Get(ctx, j.RepositoryID, j.Digest)
	if err != nil && !errors.Is(err, models.ErrNotFound) {
		return err
	}
	wantSBOM := prev == nil || prev.SBOMDigest == ""
	report, err := s.scan(ctx, j, d, wantSBOM)
	if err != nil {
		if ctx.Err() != nil || j.Attempts < failedAttempts {
			return err
		}
		s.log.Warn("scanner: scan failed", "repository", j.Repository, "digest", j.Digest, "err", err)
		_, rerr := s.db.Scans.Record(ctx, j.RepositoryID, j.Repository, j.Digest, models.ScanResult{
			Status: models.ScanFailed, Reason: err.Error(), Scanner: s.scanner.Name(), DatabaseDigest: d.Digest})
		if errors.Is(rerr, models.ErrNotFound) {
			return nil
		}
		return rerr
	}
	res := models.ScanResult{Status: models.ScanDone, Scanner: s.scanner.Name(), DatabaseDigest: d.Digest, Findings: report.Findings}
	if len(report.SBOM) > 0 {
		if res.SBOMDigest, err = s.attachSBOM(ctx, j.Repository, m, report.SBOM); err != nil {
			return err
		}
	}
	sc, err := s.db.Scans.Record(ctx, j.RepositoryID, j.Repository, j.Digest, res)
	if errors.Is(err, models.ErrNotFound) {
		return nil // deleted while it was scanned
	}
	if err != nil {
		return err
	}
	s.log.Info("scanner: scanned", "repository", j.Repository, "digest", j.Digest, "packages", report.Packages,
		"critical", sc.Critical, "high", sc.High, "medium", sc.Medium, "low", sc.Low, "unknown", sc.Unknown)
	return nil
}

// scan runs the scanner on one image, one scan at a time.
func (s *Service) scan(ctx context.Context, j models.Job, d *models.ScannerDatabase, sbom bool) (*Report, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	dir, err := s.databaseDir(ctx, d)
	if err != nil {
		return nil, fmt.Errorf("vulnerability database: %w", err)
	}
	t, err := s.target(ctx, j.Repository, j.Digest)
	if err != nil {
		return nil, err
	}
	return s.scanner.Scan(ctx, t, dir, sbom)
}

// attachSBOM pushes sbom as an OCI artifact whose subject is m, so that
// the referrers API (oras discover) and the tag page list it.
func (s *Service) attachSBOM(ctx context.Context, repository string, m *models.Manifest, sbom []byte) (string, error) {
	empty := []byte("{}")
	blobs := [][]byte{empty, sbom}
	for _, b := range blobs {
		d := digest.FromBytes(b)
		if _, err := s.content.Blobs.Stat(ctx, repository, d); err == nil {
			continue
		}
		if err := s.content.Uploads.Put(ctx, repository, d, content.Chunk{Length: int64(len(b)), Body: bytes.NewReader(b)}); err != nil {
			return "", fmt.Errorf("sbom: %w", err)
		}
	}
	doc := ocispec.Manifest{
		MediaType:    ocispec.MediaTypeImageManifest,
		ArtifactType: SBOMType,
		Config:       ocispec.DescriptorEmptyJSON,
		Layers: []ocispec.Descriptor{{MediaType: SBOMType, Digest: digest.FromBytes(sbom), Size: int64(len(sbom)),
			Annotations: map[string]string{ocispec.AnnotationTitle: "sbom.cdx.json"}}},
		Subject:     &ocispec.Descriptor{MediaType: m.MediaType, Digest: digest.Digest(m.Digest), Size: m.Size},
		Annotations: map[string]string{ocispec.AnnotationCreated: time.Now().UTC().Format(time.RFC3339), "dev.wharf.generator": s.scanner.Name()},
	}
	doc.SchemaVersion = 2
	payload, err := json.Marshal(doc)
	if err != nil {
		return "", err
	}
	res, err := s.content.Manifests.Put(ctx, content.PutManifestRequest{Name: repository, ContentType: ocispec.MediaTypeImageManifest,
		Payload: payload, Ref: content.Reference{Digest: digest.FromBytes(payload)}, Pusher: Pusher})
	if err != nil {
		return "", fmt.Errorf("sbom: %w", err)
	}
	return res.Digest.String(), nil
}

// Run queues, now and then, a rescan of the images last scanned more
// than interval ago, until ctx ends.
func (s *Service) Run(ctx context.Context, interval time.Duration) {
	if s.scanner == nil || interval <= 0 {
		return
	}
	tick := time.NewTicker(max(min(interval/24, time.Hour), time.Second))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		n, err := s.db.Scans.RescanStale(ctx, time.Now().UTC().Add(-interval), 500)
		if err != nil && ctx.Err() == nil {
			s.log.Error("scanner: queue rescans", "err", err)
		} else if n > 0 {
			s.log.Info("scanner: rescans queued", "count", n)
			if s.wake != nil {
				s.wake()
			}
		}
	}
}
