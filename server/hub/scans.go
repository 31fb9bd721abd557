package hub

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/artifact"
	"github.com/wharfhub/wharf/server/auth"
)

// Scanner is the scanning the hub shows and manages: whether it is set
// up, and the import of its vulnerability database.
type Scanner interface {
	Enabled() bool
	ScannerName() string
	ImportDatabase(ctx context.Context, r io.Reader, by string) (*models.ScannerDatabase, error)
}

// Scans shows what scanning found, queues rescans, and lets site admins
// see the scanner and import its database.
type Scans struct {
	*base
	scanner Scanner
}

// scanning reports whether a scanner is set up.
func (s *base) scanning() bool { return s.scanner != nil && s.scanner.Enabled() }

// Enabled reports whether this server scans images.
func (s *Scans) Enabled() bool { return s.scanning() }

// ScanSummary is what scanning a manifest found.
type ScanSummary struct {
	// Status is none (never queued), pending, done or failed.
	Status string                `json:"status"`
	Counts models.SeverityCounts `json:"counts"`
	// Reason says why a scan failed or waits.
	Reason    string     `json:"reason,omitempty"`
	ScannedAt *time.Time `json:"scanned_at,omitempty"`
}

// ScanNone is the scan status of a manifest nothing scanned.
const ScanNone = "none"

func summaryOf(sc *models.Scan) ScanSummary {
	if sc == nil {
		return ScanSummary{Status: ScanNone}
	}
	return ScanSummary{Status: sc.Status, Counts: sc.SeverityCounts, Reason: sc.Reason, ScannedAt: sc.ScannedAt}
}

// scanSummaries are the scan summaries of digests; an index's is the sum
// of its platforms' (children maps an index to them).
func (s *base) scanSummaries(ctx context.Context, repoID int64, digests []string, children map[string][]string) (map[string]ScanSummary, error) {
	all := append([]string(nil), digests...)
	for _, cs := range children {
		all = append(all, cs...)
	}
	rows, err := s.db.Scans.Of(ctx, repoID, all)
	if err != nil {
		return nil, err
	}
	out := make(map[string]ScanSummary, len(digests))
	for _, d := range digests {
		if sc, ok := rows[d]; ok {
			out[d] = summaryOf(&sc)
			continue
		}
		cs := children[d]
		if len(cs) == 0 {
			out[d] = summaryOf(nil)
			continue
		}
		sum := ScanSummary{Status: models.ScanDone}
		for _, c := range cs {
			sc, ok := rows[c]
			switch {
			case !ok:
				sum.Status = ScanNone
			case sc.Status != models.ScanDone && sum.Status == models.ScanDone:
				sum.Status = sc.Status
			}
			if ok {
				sum.Counts.Critical += sc.Critical
				sum.Counts.High += sc.High
				sum.Counts.Medium += sc.Medium
				sum.Counts.Low += sc.Low
				sum.Counts.Unknown += sc.Unknown
			}
		}
		out[d] = sum
	}
	return out, nil
}

// ScanReport is a manifest's last scan with its findings.
type ScanReport struct {
	Digest string `json:"digest"`
	ScanSummary
	Scanner string `json:"scanner,omitempty"`
	// Database is the digest of the vulnerability database it used.
	Database string `json:"database,omitempty"`
	// SBOM is the digest of the SBOM Wharf attached to the image.
	SBOM     string           `json:"sbom,omitempty"`
	Findings []models.Finding `json:"findings"`
}

// maxFindingsShown bounds the findings a report lists.
const maxFindingsShown = 5000

// Report is the last scan of a repository's manifest (by tag or digest),
// its findings in order (see models.FindingOrders).
func (s *Scans) Report(ctx context.Context, id *auth.Identity, name string, ref ManifestRef, order string) (*ScanReport, error) {
	if _, ok := models.FindingOrders[order]; !ok && order != "" {
		return nil, invalid("Findings sort by severity, id, package, installed or fixed, not %q.", order)
	}
	r, row, err := s.manifestByRef(ctx, id, name, ref, auth.ActionPull)
	if err != nil {
		return nil, err
	}
	out := &ScanReport{Digest: row.Digest, ScanSummary: summaryOf(nil), Findings: []models.Finding{}}
	sc, err := s.db.Scans.Get(ctx, r.ID, row.Digest)
	if errors.Is(err, models.ErrNotFound) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	out.ScanSummary, out.Scanner, out.Database, out.SBOM = summaryOf(sc), sc.Scanner, sc.DatabaseDigest, sc.SBOMDigest
	if out.Findings, err = s.db.Scans.Findings(ctx, r.ID, row.Digest, order, maxFindingsShown); err != nil {
		return nil, err
	}
	return out, nil
}

// Rescan queues a scan of an image now; whoever may push to the
// repository may ask.
func (s *Scans) Rescan(ctx context.Context, id *auth.Identity, name string, ref ManifestRef) (*ScanSummary, error) {
	noteRepo(ctx, "scan.request", name, name+refText(ref), "")
	if !s.scanning() {
		return nil, invalid("Vulnerability scanning is not set up on this server.")
	}
	r, row, err := s.manifestByRef(ctx, id, name, ref, auth.ActionPush)
	if err != nil {
		return nil, err
	}
	if artifact.Kind(row.Kind) != artifact.Image {
		return nil, invalid("Only images are scanned; %s is a %s.", row.Digest, row.Kind)
	}
	if err := s.db.Jobs.Enqueue(ctx, r.ID, models.JobRequest{Kind: models.JobScan, Digest: row.Digest}); err != nil {
		return nil, err
	}
	s.trustChanged(Target{Repository: r.Name}, id)
	sc, err := s.db.Scans.Get(ctx, r.ID, row.Digest)
	if err != nil {
		return nil, err
	}
	sum := summaryOf(sc)
	return &sum, nil
}

// ScannerState is the scanner as a site admin sees it.
type ScannerState struct {
	Enabled  bool            `json:"enabled"`
	Scanner  string          `json:"scanner,omitempty"`
	Database *ScannerDBState `json:"database"`
}

// ScannerDBState is the vulnerability database scans use.
type ScannerDBState struct {
	Digest     string     `json:"digest"`
	Size       int64      `json:"size"`
	UpdatedAt  time.Time  `json:"updated_at"`
	NextUpdate *time.Time `json:"next_update,omitempty"`
	// AgeSeconds is how old the database is: since its makers built it.
	AgeSeconds int64     `json:"age_seconds"`
	ImportedAt time.Time `json:"imported_at"`
	ImportedBy string    `json:"imported_by,omitempty"`
}

func siteAdmin(id *auth.Identity) error {
	if id == nil {
		return auth.ErrUnauthenticated
	}
	if !id.CanAdministerSite() {
		return auth.ErrDenied
	}
	return nil
}

// State is the scanner and its database; site admins only.
func (s *Scans) State(ctx context.Context, id *auth.Identity) (*ScannerState, error) {
	if err := siteAdmin(id); err != nil {
		return nil, err
	}
	out := &ScannerState{Enabled: s.scanning()}
	if s.scanner != nil {
		out.Scanner = s.scanner.ScannerName()
	}
	d, err := s.db.ScannerDBs.Current(ctx)
	if errors.Is(err, models.ErrNotFound) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	out.Database = &ScannerDBState{Digest: d.Digest, Size: d.Size, UpdatedAt: d.UpdatedAt, NextUpdate: d.NextUpdate,
		AgeSeconds: int64(time.Since(d.UpdatedAt).Seconds()), ImportedAt: d.ImportedAt, ImportedBy: d.ImportedBy}
	return out, nil
}

// ImportDatabase imports a vulnerability database bundle read from r and
// rescans every scanned image with it; site admins only.
func (s *Scans) ImportDatabase(ctx context.Context, id *auth.Identity, r io.Reader) (*ScannerState, error) {
	noteSite(ctx, "scanner.database.import", "scanner", "")
	if err := siteAdmin(id); err != nil {
		return nil, err
	}
	if s.scanner == nil {
		return nil, invalid("Vulnerability scanning is not set up on this server.")
	}
	if _, err := s.scanner.ImportDatabase(ctx, r, id.Username); err != nil {
		return nil, err
	}
	return s.State(ctx, id)
}
