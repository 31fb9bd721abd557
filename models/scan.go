package models

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// ScanStore keeps, per manifest of a repository, what its last
// vulnerability scan found.
type ScanStore struct{ *conn }

// JobScan scans the manifest Digest for vulnerabilities.
const JobScan = "scan"

// Scan statuses; a manifest with no Scan row was never queued for one.
const (
	ScanPending = "pending"
	ScanDone    = "done"
	ScanFailed  = "failed"
)

// Scan is the state of one manifest's scan and what it counted.
type Scan struct {
	RepositoryID int64  `gorm:"primaryKey"`
	Digest       string `gorm:"primaryKey"`
	Status       string
	// Reason says why a scan failed, or why it waits.
	Reason string
	// Scanner names the scanner and its version; DatabaseDigest the
	// vulnerability database it used.
	Scanner        string
	DatabaseDigest string
	SeverityCounts `gorm:"embedded"`
	// SBOMDigest is the SBOM Wharf attached as a referrer ("" if none).
	SBOMDigest string `gorm:"column:sbom_digest"`
	ScannedAt  *time.Time
	UpdatedAt  time.Time
}

// SeverityCounts count findings by severity.
type SeverityCounts struct {
	Critical int `json:"critical"`
	High     int `json:"high"`
	Medium   int `json:"medium"`
	Low      int `json:"low"`
	Unknown  int `json:"unknown"`
}

// Add counts one finding of severity (one of Severities, or anything
// else as unknown).
func (c *SeverityCounts) Add(severity string) {
	switch severity {
	case "critical":
		c.Critical++
	case "high":
		c.High++
	case "medium":
		c.Medium++
	case "low":
		c.Low++
	default:
		c.Unknown++
	}
}

// AtLeast counts the findings at or above severity (one of Severities).
func (c SeverityCounts) AtLeast(severity string) int {
	n := 0
	for i, v := range []int{c.Low, c.Medium, c.High, c.Critical} {
		if i+1 >= SeverityRank(severity) {
			n += v
		}
	}
	return n
}

// Finding is one vulnerability a scan found in one package.
type Finding struct {
	ID              int64  `json:"-"`
	RepositoryID    int64  `json:"-"`
	Digest          string `json:"-"`
	VulnerabilityID string `json:"id"`
	Package         string `json:"package"`
	Installed       string `json:"installed"`
	Fixed           string `json:"fixed"`
	// Severity is one of Severities or "unknown".
	Severity string `json:"severity"`
	Title    string `json:"title"`
	URL      string `gorm:"column:url" json:"url"`
	// Target is where the package was found (the OS, or a lock file).
	Target string `json:"target"`
}

// TableName names Finding's table.
func (Finding) TableName() string { return "scan_findings" }

// ScanResult is what a finished scan reports.
type ScanResult struct {
	Status         string // ScanDone or ScanFailed
	Reason         string
	Scanner        string
	DatabaseDigest string
	Findings       []Finding
	SBOMDigest     string
}

// ensureScans records a pending scan for each digest that has none,
// inside the caller's transaction.
func ensureScans(tx *gorm.DB, repoID int64, digests []string) error {
	now := time.Now().UTC()
	for _, d := range digests {
		s := Scan{RepositoryID: repoID, Digest: d, Status: ScanPending, UpdatedAt: now}
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&s).Error; err != nil {
			return err
		}
	}
	return nil
}

// Wait records that the scan of digest waits (for a database, say), with
// the reason, keeping what an earlier scan found.
func (s *ScanStore) Wait(ctx context.Context, repoID int64, digest, reason string) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		if err := ensureScans(tx, repoID, []string{digest}); err != nil {
			return err
		}
		return tx.Model(&Scan{}).Where("repository_id = ? AND digest = ? AND status <> ?", repoID, digest, ScanDone).
			Updates(map[string]any{"status": ScanPending, "reason": reason, "updated_at": time.Now().UTC()}).Error
	})
}

// Record stores a finished scan of digest, replacing the findings of the
// one before, and writes a scan_completed event to the webhook outbox in
// the same transaction.
func (s *ScanStore) Record(ctx context.Context, repoID int64, repository, digest string, r ScanResult) (*Scan, error) {
	now := time.Now().UTC()
	sc := Scan{RepositoryID: repoID, Digest: digest, Status: r.Status, Reason: r.Reason, Scanner: r.Scanner,
		DatabaseDigest: r.DatabaseDigest, SBOMDigest: r.SBOMDigest, ScannedAt: &now, UpdatedAt: now}
	for _, f := range r.Findings {
		sc.Add(f.Severity)
	}
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := lockRepository(tx, repoID); err != nil {
			return err
		}
		var present int64
		if err := tx.Table("manifests").Where("repository_id = ? AND digest = ?", repoID, digest).Count(&present).Error; err != nil {
			return err
		}
		if present == 0 {
			return ErrNotFound // deleted while it was scanned
		}
		if r.Status == ScanFailed {
			// A failed run keeps what the last good one found, and says
			// why the rescan failed.
			var old Scan
			err := tx.Where("repository_id = ? AND digest = ?", repoID, digest).Take(&old).Error
			if err == nil && old.ScannedAt != nil && old.Status == ScanDone {
				if err := tx.Model(&Scan{}).Where("repository_id = ? AND digest = ?", repoID, digest).
					Updates(map[string]any{"reason": r.Reason, "updated_at": now}).Error; err != nil {
					return err
				}
				old.Reason, old.UpdatedAt = r.Reason, now
				sc = old
				return enqueue(tx, repoID, outboxEvent{Event: "scan_completed", Action: ScanFailed, Repository: repository, Digest: digest}, false)
			} else if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
				return err
			}
		}
		if sc.SBOMDigest == "" {
			var old []string
			if err := tx.Model(&Scan{}).Where("repository_id = ? AND digest = ?", repoID, digest).
				Pluck("sbom_digest", &old).Error; err != nil {
				return err
			}
			if len(old) == 1 {
				sc.SBOMDigest = old[0]
			}
		}
		if err := tx.Where("repository_id = ? AND digest = ?", repoID, digest).Delete(&Finding{}).Error; err != nil {
			return err
		}
		if err := tx.Save(&sc).Error; err != nil {
			return err
		}
		fs := make([]Finding, len(r.Findings))
		for i, f := range r.Findings {
			f.ID, f.RepositoryID, f.Digest = 0, repoID, digest
			fs[i] = f
		}
		if len(fs) > 0 {
			if err := tx.CreateInBatches(fs, 200).Error; err != nil {
				return err
			}
		}
		return enqueue(tx, repoID, outboxEvent{Event: "scan_completed", Action: r.Status, Repository: repository, Digest: digest}, false)
	})
	if err != nil {
		return nil, err
	}
	return &sc, nil
}

// Get returns the scan of digest, or ErrNotFound.
func (s *ScanStore) Get(ctx context.Context, repoID int64, digest string) (*Scan, error) {
	var sc Scan
	if err := s.read(ctx).Where("repository_id = ? AND digest = ?", repoID, digest).Take(&sc).Error; err != nil {
		return nil, notFound(err)
	}
	return &sc, nil
}

// Of returns the scans of those of digests that have one.
func (s *ScanStore) Of(ctx context.Context, repoID int64, digests []string) (map[string]Scan, error) {
	out := map[string]Scan{}
	if len(digests) == 0 {
		return out, nil
	}
	var rows []Scan
	err := s.read(ctx).Where("repository_id = ? AND digest IN ?", repoID, digests).Find(&rows).Error
	for _, r := range rows {
		out[r.Digest] = r
	}
	return out, err
}

// FindingOrders are the orders Findings can list in.
var FindingOrders = map[string]string{
	"severity":  "CASE severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 WHEN 'low' THEN 3 ELSE 4 END, vulnerability_id, package",
	"id":        "vulnerability_id, package",
	"package":   "package, vulnerability_id",
	"installed": "package, installed, vulnerability_id",
	"fixed":     "CASE WHEN fixed = '' THEN 1 ELSE 0 END, package, vulnerability_id",
}

// Findings lists up to limit findings of digest's last scan in order
// (a key of FindingOrders; severity first by default).
func (s *ScanStore) Findings(ctx context.Context, repoID int64, digest, order string, limit int) ([]Finding, error) {
	by, ok := FindingOrders[order]
	if !ok {
		by = FindingOrders["severity"]
	}
	var out []Finding
	err := s.read(ctx).Where("repository_id = ? AND digest = ?", repoID, digest).Order(by).Limit(limit).Find(&out).Error
	return out, err
}

// RescanStale queues a scan of up to limit manifests last scanned (or
// last tried) before cutoff, oldest first, that have no scan queued or
// running, and reports how many it queued.
func (s *ScanStore) RescanStale(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	var due []Scan
	if err := s.read(ctx).Where("status <> ? AND updated_at < ?", ScanPending, cutoff).
		Where(`NOT EXISTS (SELECT 1 FROM jobs j WHERE j.kind = ? AND j.repository_id = scans.repository_id
			AND j.digest = scans.digest AND j.state IN ?)`, JobScan, []string{JobPending, JobRunning}).
		Order("updated_at").Limit(limit).Find(&due).Error; err != nil {
		return 0, err
	}
	err := s.tx(ctx, func(tx *gorm.DB) error {
		for _, d := range due {
			if err := enqueueJobs(tx, d.RepositoryID, []JobRequest{{Kind: JobScan, Digest: d.Digest}}); err != nil {
				return err
			}
		}
		return nil
	})
	return len(due), err
}

// RescanAll queues a scan of every manifest that has a scan row (a newer
// database arrived).
func (s *ScanStore) RescanAll(ctx context.Context) error { return s.rescanAll(s.write(ctx)) }

func (s *ScanStore) rescanAll(tx *gorm.DB) error {
	now := time.Now().UTC()
	return tx.Exec(`INSERT INTO jobs (kind, repository_id, digest, state, gen, attempts, run_after, error, created_at, updated_at)
		SELECT ?, repository_id, digest, ?, 1, 0, ?, '', ?, ? FROM scans WHERE TRUE
		ON CONFLICT (kind, repository_id, digest) DO UPDATE SET state = excluded.state, gen = jobs.gen + 1,
			attempts = 0, error = '', run_after = excluded.run_after, updated_at = excluded.updated_at`,
		JobScan, JobPending, now, now, now).Error
}

// forgetScans drops the scan of manifest id, its findings and its queued
// scan, inside the transaction that deletes the manifest.
func forgetScans(tx *gorm.DB, manifestID int64) error {
	for _, q := range []string{
		`DELETE FROM scan_findings WHERE EXISTS (SELECT 1 FROM manifests m WHERE m.id = ?
			AND m.repository_id = scan_findings.repository_id AND m.digest = scan_findings.digest)`,
		`DELETE FROM scans WHERE EXISTS (SELECT 1 FROM manifests m WHERE m.id = ?
			AND m.repository_id = scans.repository_id AND m.digest = scans.digest)`,
		`DELETE FROM jobs WHERE kind = 'scan' AND EXISTS (SELECT 1 FROM manifests m WHERE m.id = ?
			AND m.repository_id = jobs.repository_id AND m.digest = jobs.digest)`,
	} {
		if err := tx.Exec(q, manifestID).Error; err != nil {
			return err
		}
	}
	return nil
}
