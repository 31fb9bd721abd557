package models_test

import (
	"cmp"
	"crypto/sha256"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/wharfhub/wharf/models"
)

// testDigest is a digest made from s.
func testDigest(s string) string { return fmt.Sprintf("sha256:%x", sha256.Sum256([]byte(s))) }

// pushManifest stores a manifest made from s in repository name, with a
// scan queued in its transaction if scan is set, as a push does.
func pushManifest(t *testing.T, db *models.DB, name, s string, scan bool) *models.Manifest {
	t.Helper()
	payload := []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","annotations":{"s":"` + s + `"}}`)
	m := &models.Manifest{Digest: testDigest(string(payload)), MediaType: "application/vnd.oci.image.manifest.v1+json",
		Size: int64(len(payload)), Payload: payload, Kind: "image"}
	var jobs []models.JobRequest
	if scan {
		jobs = append(jobs, scanJob(m.Digest))
	}
	if err := db.Manifests.Put(t.Context(), name, m, nil, nil, "alice", jobs...); err != nil {
		t.Fatal(err)
	}
	return m
}

func scanJob(d string) models.JobRequest { return models.JobRequest{Kind: models.JobScan, Digest: d} }

// scanJobs are the scan jobs, by digest.
func scanJobs(t *testing.T, db *models.DB) map[string]models.Job {
	t.Helper()
	var js []models.Job
	if err := db.Writer().Where("kind = ?", models.JobScan).Find(&js).Error; err != nil {
		t.Fatal(err)
	}
	out := map[string]models.Job{}
	for _, j := range js {
		out[j.Digest] = j
	}
	return out
}

func getScan(t *testing.T, db *models.DB, repoID int64, d string) *models.Scan {
	t.Helper()
	sc, err := db.Scans.Get(t.Context(), repoID, d)
	if err != nil {
		t.Fatalf("scan of %s: %v", d, err)
	}
	return sc
}

func record(t *testing.T, db *models.DB, m *models.Manifest, r models.ScanResult) *models.Scan {
	t.Helper()
	sc, err := db.Scans.Record(t.Context(), m.RepositoryID, "alice/app", m.Digest, r)
	if err != nil {
		t.Fatalf("record %s: %v", r.Status, err)
	}
	return sc
}

func finding(id, pkg, installed, fixed, severity string) models.Finding {
	return models.Finding{VulnerabilityID: id, Package: pkg, Installed: installed, Fixed: fixed, Severity: severity,
		Title: id + " in " + pkg, URL: "https://avd.aquasec.com/nvd/" + id, Target: "alpine 3.19"}
}

// findingKeys names findings by id and package, in their order.
func findingKeys(fs []models.Finding) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.VulnerabilityID + " " + f.Package + " " + f.Installed
	}
	return out
}

// storedFindings are the findings of d's last scan, in id order.
func storedFindings(t *testing.T, db *models.DB, repoID int64, d string) []models.Finding {
	t.Helper()
	fs, err := db.Scans.Findings(t.Context(), repoID, d, "id", 1000)
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

func TestScanRecordReplacesFindings(t *testing.T) {
	db := openDB(t)
	m := pushManifest(t, db, "alice/app", "v1", false)
	first := []models.Finding{
		finding("CVE-2024-0001", "openssl", "3.1.4", "3.1.5", "critical"),
		finding("CVE-2024-0002", "openssl", "3.1.4", "", "high"),
		finding("CVE-2024-0003", "busybox", "1.36", "1.37", "high"),
		finding("CVE-2024-0004", "zlib", "1.3", "", "low"),
		finding("CVE-2024-0005", "zlib", "1.3", "", "unknown"),
	}
	sc := record(t, db, m, models.ScanResult{Status: models.ScanDone, Scanner: "trivy 0.74.0", DatabaseDigest: "sha256:db1",
		Findings: first, SBOMDigest: "sha256:sbom1"})
	want := models.SeverityCounts{Critical: 1, High: 2, Low: 1, Unknown: 1}
	if sc.SeverityCounts != want || sc.Status != models.ScanDone || sc.ScannedAt == nil {
		t.Errorf("recorded %+v, want counts %+v", sc, want)
	}
	got := getScan(t, db, m.RepositoryID, m.Digest)
	if got.SeverityCounts != want || got.Status != models.ScanDone || got.Scanner != "trivy 0.74.0" ||
		got.DatabaseDigest != "sha256:db1" || got.SBOMDigest != "sha256:sbom1" || got.ScannedAt == nil || got.Reason != "" {
		t.Errorf("stored %+v", got)
	}
	fs := storedFindings(t, db, m.RepositoryID, m.Digest)
	if !slices.Equal(findingKeys(fs), findingKeys(first)) {
		t.Errorf("findings %v, want %v", findingKeys(fs), findingKeys(first))
	}
	for i, f := range fs {
		w := first[i]
		w.ID, w.RepositoryID, w.Digest = f.ID, m.RepositoryID, m.Digest
		if f != w || f.ID == 0 {
			t.Errorf("finding %d stored as %+v, want %+v", i, f, w)
		}
	}

	// A second scan replaces the findings and the counts, and keeps the
	// SBOM it did not attach anew.
	second := []models.Finding{finding("CVE-2025-0001", "musl", "1.2.4", "1.2.5", "medium")}
	record(t, db, m, models.ScanResult{Status: models.ScanDone, Scanner: "trivy 0.74.0", DatabaseDigest: "sha256:db2", Findings: second})
	got2 := getScan(t, db, m.RepositoryID, m.Digest)
	if got2.SeverityCounts != (models.SeverityCounts{Medium: 1}) || got2.DatabaseDigest != "sha256:db2" || got2.SBOMDigest != "sha256:sbom1" {
		t.Errorf("after a second scan: %+v", got2)
	}
	if got2.ScannedAt.Before(*got.ScannedAt) {
		t.Errorf("scanned at %v, before the first scan's %v", got2.ScannedAt, got.ScannedAt)
	}
	if fs := storedFindings(t, db, m.RepositoryID, m.Digest); !slices.Equal(findingKeys(fs), findingKeys(second)) {
		t.Errorf("findings after a second scan: %v", findingKeys(fs))
	}

	// A new SBOM replaces the old; a clean scan leaves no findings.
	record(t, db, m, models.ScanResult{Status: models.ScanDone, SBOMDigest: "sha256:sbom2"})
	if got := getScan(t, db, m.RepositoryID, m.Digest); got.SeverityCounts != (models.SeverityCounts{}) || got.SBOMDigest != "sha256:sbom2" {
		t.Errorf("after a clean scan: %+v", got)
	}
	if fs := storedFindings(t, db, m.RepositoryID, m.Digest); len(fs) != 0 {
		t.Errorf("a clean scan left findings %v", findingKeys(fs))
	}
	var rows int64
	if err := db.Writer().Raw("SELECT COUNT(*) FROM scan_findings").Scan(&rows).Error; err != nil || rows != 0 {
		t.Errorf("%d finding rows left (%v)", rows, err)
	}
}

// A run that fails keeps what the last good one found, with the reason;
// with no good one before, the scan is failed.
func TestScanFailedRecord(t *testing.T) {
	done := models.ScanResult{Status: models.ScanDone, Scanner: "trivy 0.74.0", DatabaseDigest: "sha256:db1",
		Findings: []models.Finding{finding("CVE-2024-0001", "openssl", "3.1.4", "3.1.5", "critical"), finding("CVE-2024-0002", "zlib", "1.3", "", "low")}}
	failed := models.ScanResult{Status: models.ScanFailed, Reason: "trivy: context deadline exceeded", Scanner: "trivy 0.74.1", DatabaseDigest: "sha256:db2"}
	tests := []struct {
		name     string
		before   []models.ScanResult
		then     models.ScanResult
		status   string
		reason   string
		counts   models.SeverityCounts
		findings int
		database string
	}{
		{"first record failed", nil, failed, models.ScanFailed, failed.Reason, models.SeverityCounts{}, 0, "sha256:db2"},
		{"failed after done", []models.ScanResult{done}, failed, models.ScanDone, failed.Reason, models.SeverityCounts{Critical: 1, Low: 1}, 2, "sha256:db1"},
		{"failed after done and failed", []models.ScanResult{done, failed}, models.ScanResult{Status: models.ScanFailed, Reason: "again"},
			models.ScanDone, "again", models.SeverityCounts{Critical: 1, Low: 1}, 2, "sha256:db1"},
		{"failed after failed", []models.ScanResult{failed}, models.ScanResult{Status: models.ScanFailed, Reason: "again", DatabaseDigest: "sha256:db3"},
			models.ScanFailed, "again", models.SeverityCounts{}, 0, "sha256:db3"},
		{"done after failed", []models.ScanResult{failed}, done, models.ScanDone, "", models.SeverityCounts{Critical: 1, Low: 1}, 2, "sha256:db1"},
		{"done after done that failed", []models.ScanResult{done, failed}, models.ScanResult{Status: models.ScanDone, DatabaseDigest: "sha256:db3"},
			models.ScanDone, "", models.SeverityCounts{}, 0, "sha256:db3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db := openDB(t)
			m := pushManifest(t, db, "alice/app", "v1", true)
			var scannedAt *time.Time
			for _, r := range tc.before {
				record(t, db, m, r)
				scannedAt = getScan(t, db, m.RepositoryID, m.Digest).ScannedAt
			}
			record(t, db, m, tc.then)
			got := getScan(t, db, m.RepositoryID, m.Digest)
			if got.Status != tc.status || got.Reason != tc.reason || got.SeverityCounts != tc.counts || got.DatabaseDigest != tc.database {
				t.Errorf("stored %+v\nwant status %s, reason %q, counts %+v, database %s", got, tc.status, tc.reason, tc.counts, tc.database)
			}
			if got.ScannedAt == nil {
				t.Error("no scanned_at")
			} else if tc.status == models.ScanDone && tc.then.Status == models.ScanFailed && !got.ScannedAt.Equal(*scannedAt) {
				t.Errorf("a failed run moved the good scan's time from %v to %v", scannedAt, got.ScannedAt)
			}
			if fs := storedFindings(t, db, m.RepositoryID, m.Digest); len(fs) != tc.findings {
				t.Errorf("%d findings, want %d", len(fs), tc.findings)
			}
		})
	}
}

// Record of a digest whose manifest is gone (or never was) writes
// nothing.
func TestScanRecordOfAGoneManifest(t *testing.T) {
	db := openDB(t)
	ctx := t.Context()
	mkUser(t, db, "alice")
	m := pushManifest(t, db, "alice/app", "v1", true)
	h := &models.Webhook{RepositoryID: &m.RepositoryID, Name: "scans", URL: "http://example.com/", Events: "scan_completed", Active: true}
	if err := db.Webhooks.Create(ctx, h); err != nil {
		t.Fatal(err)
	}
	res := models.ScanResult{Status: models.ScanDone, Findings: []models.Finding{finding("CVE-2024-0001", "openssl", "3.1.4", "3.1.5", "critical")}}
	gone := pushManifest(t, db, "alice/app", "v2", true)
	record(t, db, gone, res)
	if ok, err := db.Manifests.Delete(ctx, "alice/app", gone.Digest, "alice"); err != nil || !ok {
		t.Fatalf("delete: %v, %v", ok, err)
	}
	before := deliveries(t, db, h.ID, "scan_completed")

	for name, d := range map[string]string{"deleted": gone.Digest, "never pushed": testDigest("never")} {
		for _, r := range []models.ScanResult{res, {Status: models.ScanFailed, Reason: "boom"}} {
			sc, err := db.Scans.Record(ctx, m.RepositoryID, "alice/app", d, r)
			if !errors.Is(err, models.ErrNotFound) {
				t.Errorf("%s, %s: %+v, %v; want ErrNotFound", name, r.Status, sc, err)
			}
			if sc, err := db.Scans.Get(ctx, m.RepositoryID, d); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("%s, %s: a scan was written: %+v, %v", name, r.Status, sc, err)
			}
			if fs := storedFindings(t, db, m.RepositoryID, d); len(fs) != 0 {
				t.Errorf("%s, %s: findings written: %v", name, r.Status, findingKeys(fs))
			}
		}
	}
	// Nor in a repository that is not there.
	if _, err := db.Scans.Record(ctx, m.RepositoryID+1000, "alice/gone", m.Digest, res); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("record in a missing repository: %v", err)
	}
	if after := deliveries(t, db, h.ID, "scan_completed"); after != before {
		t.Errorf("scan_completed deliveries went from %d to %d", before, after)
	}
	// The manifest that is there is untouched.
	if sc := getScan(t, db, m.RepositoryID, m.Digest); sc.Status != models.ScanPending {
		t.Errorf("the other manifest's scan: %+v", sc)
	}
}

// deliveries counts webhook hookID's deliveries of event.
func deliveries(t *testing.T, db *models.DB, hookID int64, event string) int {
	t.Helper()
	ds, err := db.Deliveries.List(t.Context(), hookID, 1000, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range ds {
		if d.Event == event {
			n++
		}
	}
	return n
}

// Record writes a scan_completed delivery, in its transaction, for each
// active webhook of the repository or its namespace that asks for it.
func TestScanCompletedWebhook(t *testing.T) {
	db := openDB(t)
	ctx := t.Context()
	mkUser(t, db, "alice")
	m := pushManifest(t, db, "alice/app", "v1", true)
	ns := "alice"
	other := mkRepo(t, db, "alice/other")
	hooks := []struct {
		hook *models.Webhook
		want bool
	}{
		{&models.Webhook{RepositoryID: &m.RepositoryID, Name: "scans", URL: "http://example.com/a", Events: "scan_completed", Active: true}, true},
		{&models.Webhook{RepositoryID: &m.RepositoryID, Name: "all", URL: "http://example.com/b", Events: "push delete scan_completed", Active: true}, true},
		{&models.Webhook{Namespace: &ns, Name: "namespace", URL: "http://example.com/c", Events: "scan_completed push", Active: true}, true},
		{&models.Webhook{RepositoryID: &m.RepositoryID, Name: "pushes", URL: "http://example.com/d", Events: "push delete", Active: true}, false},
		{&models.Webhook{RepositoryID: &m.RepositoryID, Name: "prefix", URL: "http://example.com/e", Events: "scan", Active: true}, false},
		{&models.Webhook{RepositoryID: &m.RepositoryID, Name: "off", URL: "http://example.com/f", Events: "scan_completed", Active: false}, false},
		{&models.Webhook{RepositoryID: &other, Name: "elsewhere", URL: "http://example.com/g", Events: "scan_completed", Active: true}, false},
	}
	for _, h := range hooks {
		if err := db.Webhooks.Create(ctx, h.hook); err != nil {
			t.Fatal(err)
		}
	}
	failedOne := pushManifest(t, db, "alice/app", "v2", true)
	record(t, db, m, models.ScanResult{Status: models.ScanDone, Findings: []models.Finding{finding("CVE-2024-0001", "openssl", "3.1.4", "", "high")}})
	if _, err := db.Scans.Record(ctx, failedOne.RepositoryID, "alice/app", failedOne.Digest, models.ScanResult{Status: models.ScanFailed, Reason: "boom"}); err != nil {
		t.Fatal(err)
	}
	for _, h := range hooks {
		ds, err := db.Deliveries.List(ctx, h.hook.ID, 100, 0)
		if err != nil {
			t.Fatal(err)
		}
		actions := map[string]string{}
		for _, d := range ds {
			if d.Event != "scan_completed" {
				continue
			}
			if d.Repository != "alice/app" || d.Status != models.DeliveryPending {
				t.Errorf("%s: delivery %+v", h.hook.Name, d)
			}
			actions[d.Digest] = d.Action
		}
		want := map[string]string{}
		if h.want {
			want = map[string]string{m.Digest: models.ScanDone, failedOne.Digest: models.ScanFailed}
		}
		if len(actions) != len(want) || actions[m.Digest] != want[m.Digest] || actions[failedOne.Digest] != want[failedOne.Digest] {
			t.Errorf("%s (events %q): scan_completed deliveries %v, want %v", h.hook.Name, h.hook.Events, actions, want)
		}
	}
	// A rescan that fails after a good scan keeps its results, and is a
	// scan_completed event (failed) all the same.
	sc, err := db.Scans.Record(ctx, m.RepositoryID, "alice/app", m.Digest, models.ScanResult{Status: models.ScanFailed, Reason: "again"})
	if err != nil || sc.Status != models.ScanDone || sc.High != 1 || sc.Reason != "again" {
		t.Fatalf("a failed rescan: %+v, %v", sc, err)
	}
	ds, err := db.Deliveries.List(ctx, hooks[0].hook.ID, 100, 0)
	if err != nil {
		t.Fatal(err)
	}
	failures := 0
	for _, d := range ds {
		if d.Event == "scan_completed" && d.Digest == m.Digest && d.Action == models.ScanFailed {
			failures++
		}
	}
	if failures != 1 {
		t.Errorf("scan_completed (failed) deliveries of the failed rescan: %d, want 1", failures)
	}
}

// Queuing a scan job records a pending scan, and leaves one that has a
// result as it is.
func TestEnqueueScanEnsuresAScan(t *testing.T) {
	db := openDB(t)
	ctx := t.Context()
	m := pushManifest(t, db, "alice/app", "v1", false)
	if _, err := db.Scans.Get(ctx, m.RepositoryID, m.Digest); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("a scan before any was queued: %v", err)
	}
	// Other jobs make no scan.
	if err := db.Jobs.Enqueue(ctx, m.RepositoryID, models.JobRequest{Kind: models.JobVerify, Digest: m.Digest}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Scans.Get(ctx, m.RepositoryID, m.Digest); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("a verify job made a scan: %v", err)
	}
	if err := db.Jobs.Enqueue(ctx, m.RepositoryID, scanJob(m.Digest)); err != nil {
		t.Fatal(err)
	}
	sc := getScan(t, db, m.RepositoryID, m.Digest)
	if sc.Status != models.ScanPending || sc.ScannedAt != nil || sc.SeverityCounts != (models.SeverityCounts{}) {
		t.Errorf("queued scan: %+v", sc)
	}
	if j, ok := scanJobs(t, db)[m.Digest]; !ok || j.State != models.JobPending || j.Gen != 1 {
		t.Errorf("scan job: %+v, %v", j, ok)
	}

	// A push that queues one does the same.
	pushed := pushManifest(t, db, "alice/app", "v2", true)
	if sc := getScan(t, db, m.RepositoryID, pushed.Digest); sc.Status != models.ScanPending || sc.ScannedAt != nil {
		t.Errorf("pushed: %+v", sc)
	}
	if j, ok := scanJobs(t, db)[pushed.Digest]; !ok || j.State != models.JobPending {
		t.Errorf("pushed: job %+v, %v", j, ok)
	}

	// A scan with a result keeps it when it is queued again.
	fs := []models.Finding{finding("CVE-2024-0001", "openssl", "3.1.4", "3.1.5", "critical")}
	record(t, db, m, models.ScanResult{Status: models.ScanDone, Scanner: "trivy", Findings: fs, SBOMDigest: "sha256:sbom"})
	done := getScan(t, db, m.RepositoryID, m.Digest)
	if err := db.Jobs.Enqueue(ctx, m.RepositoryID, scanJob(m.Digest)); err != nil {
		t.Fatal(err)
	}
	sc = getScan(t, db, m.RepositoryID, m.Digest)
	if sc.Status != models.ScanDone || sc.SeverityCounts != done.SeverityCounts || sc.SBOMDigest != "sha256:sbom" ||
		sc.ScannedAt == nil || !sc.ScannedAt.Equal(*done.ScannedAt) {
		t.Errorf("queued again: %+v, want %+v", sc, done)
	}
	if got := storedFindings(t, db, m.RepositoryID, m.Digest); len(got) != 1 {
		t.Errorf("findings after queuing again: %v", findingKeys(got))
	}
	if j := scanJobs(t, db)[m.Digest]; j.State != models.JobPending || j.Gen != 2 {
		t.Errorf("job queued again: %+v", j)
	}
}

// Wait marks a scan pending with the reason, but not one with a result.
func TestScanWait(t *testing.T) {
	const reason = "No vulnerability database has been imported yet."
	tests := []struct {
		name   string
		before []models.ScanResult
		queued bool
		status string
		reason string
		counts models.SeverityCounts
	}{
		{"no scan", nil, false, models.ScanPending, reason, models.SeverityCounts{}},
		{"pending", nil, true, models.ScanPending, reason, models.SeverityCounts{}},
		{"failed", []models.ScanResult{{Status: models.ScanFailed, Reason: "boom"}}, true, models.ScanPending, reason, models.SeverityCounts{}},
		{"done", []models.ScanResult{{Status: models.ScanDone, Findings: []models.Finding{finding("CVE-1", "p", "1", "", "high")}}}, true,
			models.ScanDone, "", models.SeverityCounts{High: 1}},
		{"done, then failed", []models.ScanResult{{Status: models.ScanDone, Findings: []models.Finding{finding("CVE-1", "p", "1", "", "low")}},
			{Status: models.ScanFailed, Reason: "boom"}}, true, models.ScanDone, "boom", models.SeverityCounts{Low: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db := openDB(t)
			m := pushManifest(t, db, "alice/app", "v1", tc.queued)
			for _, r := range tc.before {
				record(t, db, m, r)
			}
			if err := db.Scans.Wait(t.Context(), m.RepositoryID, m.Digest, reason); err != nil {
				t.Fatal(err)
			}
			got := getScan(t, db, m.RepositoryID, m.Digest)
			if got.Status != tc.status || got.Reason != tc.reason || got.SeverityCounts != tc.counts {
				t.Errorf("after Wait: %+v, want status %s, reason %q, counts %+v", got, tc.status, tc.reason, tc.counts)
			}
			if fs := storedFindings(t, db, m.RepositoryID, m.Digest); len(fs) != tc.counts.High+tc.counts.Low {
				t.Errorf("findings after Wait: %v", findingKeys(fs))
			}
		})
	}
}

func TestFindingOrders(t *testing.T) {
	db := openDB(t)
	ctx := t.Context()
	m := pushManifest(t, db, "alice/app", "v1", false)
	other := pushManifest(t, db, "alice/app", "v2", false)
	// No two share an id and a package, so every order is total.
	fs := []models.Finding{
		finding("CVE-2024-0003", "openssl", "3.0.1", "3.0.2", "low"),
		finding("CVE-2024-0001", "zlib", "1.2", "", "critical"),
		finding("CVE-2024-0002", "bash", "5.1", "5.2", "high"),
		finding("CVE-2024-0001", "bash", "5.1", "", "medium"),
		finding("CVE-2024-0004", "curl", "8.0", "8.1", "unknown"),
		finding("CVE-2024-0002", "openssl", "3.0.1", "3.0.3", "critical"),
		finding("CVE-2024-0005", "bash", "5.0", "", "low"),
		finding("CVE-2023-9999", "zlib", "1.2", "1.3", "high"),
	}
	record(t, db, m, models.ScanResult{Status: models.ScanDone, Findings: fs})
	record(t, db, other, models.ScanResult{Status: models.ScanDone, Findings: []models.Finding{finding("CVE-2024-0000", "aaa", "1", "", "critical")}})

	rank := func(f models.Finding) int { return -models.SeverityRank(f.Severity) }
	empty := func(f models.Finding) int {
		if f.Fixed == "" {
			return 1
		}
		return 0
	}
	orders := map[string]func(a, b models.Finding) int{
		"severity": func(a, b models.Finding) int {
			return cmp.Or(cmp.Compare(rank(a), rank(b)), cmp.Compare(a.VulnerabilityID, b.VulnerabilityID), cmp.Compare(a.Package, b.Package))
		},
		"id": func(a, b models.Finding) int {
			return cmp.Or(cmp.Compare(a.VulnerabilityID, b.VulnerabilityID), cmp.Compare(a.Package, b.Package))
		},
		"package": func(a, b models.Finding) int {
			return cmp.Or(cmp.Compare(a.Package, b.Package), cmp.Compare(a.VulnerabilityID, b.VulnerabilityID))
		},
		"installed": func(a, b models.Finding) int {
			return cmp.Or(cmp.Compare(a.Package, b.Package), cmp.Compare(a.Installed, b.Installed), cmp.Compare(a.VulnerabilityID, b.VulnerabilityID))
		},
		"fixed": func(a, b models.Finding) int {
			return cmp.Or(cmp.Compare(empty(a), empty(b)), cmp.Compare(a.Package, b.Package), cmp.Compare(a.VulnerabilityID, b.VulnerabilityID))
		},
	}
	for key := range models.FindingOrders {
		if orders[key] == nil {
			t.Errorf("order %q is not tested", key)
		}
	}
	for key, by := range orders {
		t.Run(key, func(t *testing.T) {
			if _, ok := models.FindingOrders[key]; !ok {
				t.Fatalf("no order %q", key)
			}
			want := slices.SortedFunc(slices.Values(fs), by)
			got, err := db.Scans.Findings(ctx, m.RepositoryID, m.Digest, key, 100)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(findingKeys(got), findingKeys(want)) {
				t.Errorf("order %s:\n got  %q\n want %q", key, findingKeys(got), findingKeys(want))
			}
		})
	}
	// The severity order is the default, and limit bounds the list.
	want := slices.SortedFunc(slices.Values(fs), orders["severity"])
	for _, order := range []string{"", "cvss", "severity; DROP TABLE scans"} {
		got, err := db.Scans.Findings(ctx, m.RepositoryID, m.Digest, order, 3)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(findingKeys(got), findingKeys(want[:3])) {
			t.Errorf("order %q, limit 3: %q, want %q", order, findingKeys(got), findingKeys(want[:3]))
		}
	}
}

// RescanStale queues the scans with a result older than the cutoff,
// oldest first, and not those already waiting for one.
func TestRescanStale(t *testing.T) {
	db := openDB(t)
	ctx := t.Context()
	now := time.Now().UTC()
	done := models.ScanResult{Status: models.ScanDone}
	failed := models.ScanResult{Status: models.ScanFailed, Reason: "boom"}
	scans := []struct {
		name      string
		results   []models.ScanResult
		wait      bool
		scannedAt time.Duration // before now; 0 leaves it
		due       bool
	}{
		{"done long ago", []models.ScanResult{done}, false, 72 * time.Hour, true},
		{"failed long ago", []models.ScanResult{failed}, false, 48 * time.Hour, true},
		{"done, then failed, long ago", []models.ScanResult{done, failed}, false, 30 * time.Hour, true},
		{"done lately", []models.ScanResult{done}, false, 0, false},
		{"done just after the cutoff", []models.ScanResult{done}, false, 23 * time.Hour, false},
		{"pending after a failure long ago", []models.ScanResult{failed}, true, 96 * time.Hour, false},
		{"pending, never scanned", nil, true, 0, false},
		{"no scan", nil, false, 0, false},
	}
	byDigest := map[string]string{}
	var oldest string
	for i, s := range scans {
		m := pushManifest(t, db, "alice/app", s.name, false)
		byDigest[m.Digest] = s.name
		for _, r := range s.results {
			record(t, db, m, r)
		}
		if s.wait {
			if err := db.Scans.Wait(ctx, m.RepositoryID, m.Digest, "waiting"); err != nil {
				t.Fatal(err)
			}
		}
		if s.scannedAt != 0 {
			if err := db.Writer().Exec("UPDATE scans SET scanned_at = ?, updated_at = ? WHERE digest = ?", now.Add(-s.scannedAt), now.Add(-s.scannedAt), m.Digest).Error; err != nil {
				t.Fatal(err)
			}
		}
		if i == 0 {
			oldest = m.Digest
		}
	}
	if js := scanJobs(t, db); len(js) != 0 {
		t.Fatalf("scan jobs before any rescan: %v", js)
	}
	cutoff := now.Add(-24 * time.Hour)

	// The oldest first.
	n, err := db.Scans.RescanStale(ctx, cutoff, 1)
	if err != nil || n != 1 {
		t.Fatalf("RescanStale, limit 1: %d, %v", n, err)
	}
	if js := scanJobs(t, db); len(js) != 1 || js[oldest].State != models.JobPending {
		t.Fatalf("limit 1 queued %v, want %q", js, byDigest[oldest])
	}

	n, err = db.Scans.RescanStale(ctx, cutoff, 100)
	if err != nil {
		t.Fatal(err)
	}
	var want, got []string
	for _, s := range scans {
		if s.due {
			want = append(want, s.name)
		}
	}
	for d, j := range scanJobs(t, db) {
		if j.State != models.JobPending {
			t.Errorf("%s: job %+v", byDigest[d], j)
		}
		got = append(got, byDigest[d])
	}
	slices.Sort(want)
	slices.Sort(got)
	// The one queued already is not queued again.
	if n != len(want)-1 || !slices.Equal(got, want) {
		t.Errorf("queued %d: %q; want %q", n, got, want)
	}
	if n, err := db.Scans.RescanStale(ctx, cutoff, 100); err != nil || n != 0 {
		t.Errorf("a third RescanStale, with every due scan queued: %d, %v", n, err)
	}
}

// RescanAll queues a scan of every manifest that has a scan, re-arming
// the jobs there are.
func TestRescanAll(t *testing.T) {
	db := openDB(t)
	ctx := t.Context()
	queued := pushManifest(t, db, "alice/app", "queued and run", true)
	js, err := db.Jobs.ClaimDue(ctx, []string{models.JobScan}, time.Now().Add(time.Second), time.Minute, 10)
	if err != nil || len(js) != 1 {
		t.Fatalf("claim: %v, %v", js, err)
	}
	if err := db.Jobs.Finish(ctx, &js[0], "trivy failed", time.Time{}); err != nil {
		t.Fatal(err)
	}
	recorded := pushManifest(t, db, "alice/app", "recorded without a job", false)
	record(t, db, recorded, models.ScanResult{Status: models.ScanDone})
	elsewhere := pushManifest(t, db, "alice/other", "in another repository", false)
	if err := db.Scans.Wait(ctx, elsewhere.RepositoryID, elsewhere.Digest, "no database"); err != nil {
		t.Fatal(err)
	}
	unscanned := pushManifest(t, db, "alice/app", "never queued", false)

	before := scanJobs(t, db)[queued.Digest]
	if before.State != models.JobFailed || before.Attempts != 1 || before.Error != "trivy failed" {
		t.Fatalf("job before: %+v", before)
	}
	if err := db.Scans.RescanAll(ctx); err != nil {
		t.Fatal(err)
	}
	after := scanJobs(t, db)
	if len(after) != 3 {
		t.Errorf("%d scan jobs, want 3: %v", len(after), after)
	}
	if j := after[queued.Digest]; j.ID != before.ID || j.State != models.JobPending || j.Gen != before.Gen+1 || j.Attempts != 0 || j.Error != "" ||
		j.RunAfter.After(time.Now().Add(time.Second)) {
		t.Errorf("re-armed job %+v (was %+v)", j, before)
	}
	for _, m := range []*models.Manifest{recorded, elsewhere} {
		if j, ok := after[m.Digest]; !ok || j.State != models.JobPending || j.Gen != 1 || j.RepositoryID != m.RepositoryID {
			t.Errorf("job of %s: %+v, %v", m.Digest, j, ok)
		}
	}
	if _, ok := after[unscanned.Digest]; ok {
		t.Error("a manifest without a scan was queued")
	}
	// The queued scans are due now.
	due, err := db.Jobs.ClaimDue(ctx, []string{models.JobScan}, time.Now().Add(time.Second), time.Minute, 10)
	if err != nil || len(due) != 2 { // one per repository at a time
		t.Errorf("due after RescanAll: %v, %v", due, err)
	}
}

// Deleting a manifest drops its scan, findings and scan job, and no other
// manifest's.
func TestDeleteManifestForgetsItsScan(t *testing.T) {
	db := openDB(t)
	ctx := t.Context()
	fs := []models.Finding{finding("CVE-2024-0001", "openssl", "3.1.4", "3.1.5", "critical"), finding("CVE-2024-0002", "zlib", "1.3", "", "low")}
	gone := pushManifest(t, db, "alice/app", "v1", true)
	kept := pushManifest(t, db, "alice/app", "v2", true)
	byGC := pushManifest(t, db, "alice/app", "v3", true)
	for _, m := range []*models.Manifest{gone, kept, byGC} {
		record(t, db, m, models.ScanResult{Status: models.ScanDone, Findings: fs})
	}
	// The same digest in another repository is another scan.
	twin := &models.Manifest{Digest: gone.Digest, MediaType: gone.MediaType, Size: gone.Size, Payload: gone.Payload, Kind: "image"}
	if err := db.Manifests.Put(ctx, "alice/twin", twin, nil, nil, "alice", scanJob(gone.Digest)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Scans.Record(ctx, twin.RepositoryID, "alice/twin", twin.Digest, models.ScanResult{Status: models.ScanDone, Findings: fs}); err != nil {
		t.Fatal(err)
	}

	if ok, err := db.Manifests.Delete(ctx, "alice/app", gone.Digest, "alice"); err != nil || !ok {
		t.Fatalf("delete: %v, %v", ok, err)
	}
	ok, err := db.GC.DeleteUntaggedManifest(ctx, byGC.ID, time.Now().Add(time.Hour))
	if err != nil || !ok {
		t.Fatalf("GC delete: %v, %v", ok, err)
	}
	for _, m := range []*models.Manifest{gone, byGC} {
		if sc, err := db.Scans.Get(ctx, m.RepositoryID, m.Digest); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("scan of a deleted manifest: %+v, %v", sc, err)
		}
		if got := storedFindings(t, db, m.RepositoryID, m.Digest); len(got) != 0 {
			t.Errorf("findings of a deleted manifest: %v", findingKeys(got))
		}
	}
	var jobs []models.Job
	if err := db.Writer().Where("kind = ?", models.JobScan).Order("id").Find(&jobs).Error; err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, j := range jobs {
		left = append(left, fmt.Sprintf("%d %s", j.RepositoryID, j.Digest))
	}
	wantLeft := []string{fmt.Sprintf("%d %s", kept.RepositoryID, kept.Digest), fmt.Sprintf("%d %s", twin.RepositoryID, twin.Digest)}
	slices.Sort(left)
	slices.Sort(wantLeft)
	if !slices.Equal(left, wantLeft) {
		t.Errorf("scan jobs left: %v, want %v", left, wantLeft)
	}
	for _, m := range []*models.Manifest{kept, twin} {
		if sc := getScan(t, db, m.RepositoryID, m.Digest); sc.Critical != 1 || sc.Low != 1 {
			t.Errorf("scan of a kept manifest: %+v", sc)
		}
		if got := storedFindings(t, db, m.RepositoryID, m.Digest); len(got) != 2 {
			t.Errorf("findings of a kept manifest: %v", findingKeys(got))
		}
	}
	var rows int64
	if err := db.Writer().Raw("SELECT COUNT(*) FROM scan_findings").Scan(&rows).Error; err != nil || rows != 4 {
		t.Errorf("%d finding rows (%v), want 4", rows, err)
	}
}

// scannerDB records an imported database bundle named name, as the scan
// service does: a lease on its blob, then Add.
func scannerDB(t *testing.T, db *models.DB, name, by string) *models.ScannerDatabase {
	t.Helper()
	d := &models.ScannerDatabase{Digest: testDigest(name), Size: int64(len(name)), Version: 2,
		UpdatedAt: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), ImportedBy: by}
	lease, err := db.Blobs.Lease(t.Context(), d.Digest, d.Size, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.ScannerDBs.Add(t.Context(), d, lease); err != nil {
		t.Fatal(err)
	}
	var n int64
	if err := db.Writer().Raw("SELECT COUNT(*) FROM blob_leases WHERE id = ?", lease).Scan(&n).Error; err != nil || n != 0 {
		t.Fatalf("the lease of %s was not released: %d, %v", name, n, err)
	}
	return d
}

// scannerDBs are the recorded databases' digests, newest first.
func scannerDBs(t *testing.T, db *models.DB) []string {
	t.Helper()
	var ds []string
	if err := db.Writer().Model(&models.ScannerDatabase{}).Order("imported_at DESC, id DESC").Pluck("digest", &ds).Error; err != nil {
		t.Fatal(err)
	}
	return ds
}

func TestScannerDBAdd(t *testing.T) {
	db := openDB(t)
	ctx := t.Context()
	if _, err := db.ScannerDBs.Current(ctx); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("current with none imported: %v", err)
	}
	other, err := db.Blobs.Lease(ctx, testDigest("an upload"), 1, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	m := pushManifest(t, db, "alice/app", "v1", false)
	record(t, db, m, models.ScanResult{Status: models.ScanDone})

	current := func(want *models.ScannerDatabase) {
		t.Helper()
		got, err := db.ScannerDBs.Current(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != want.ID || got.Digest != want.Digest || got.ImportedBy != want.ImportedBy || !got.UpdatedAt.Equal(want.UpdatedAt) {
			t.Errorf("current %+v, want %+v", got, want)
		}
	}
	d1 := scannerDB(t, db, "db1", "admin")
	current(d1)
	// An import queues a rescan of what was scanned.
	if j, ok := scanJobs(t, db)[m.Digest]; !ok || j.State != models.JobPending {
		t.Errorf("no rescan queued: %+v, %v", j, ok)
	}
	d2 := scannerDB(t, db, "db2", "admin")
	current(d2)
	d3 := scannerDB(t, db, "db3", "admin")
	current(d3)
	if got := scannerDBs(t, db); !slices.Equal(got, []string{d3.Digest, d2.Digest}) {
		t.Errorf("kept %v, want db3 and db2", got)
	}

	// Importing a known one again makes it current, as one row.
	again := scannerDB(t, db, "db2", "root")
	if again.ID == d2.ID {
		t.Errorf("re-import kept the row id %d", again.ID)
	}
	current(again)
	if got := scannerDBs(t, db); !slices.Equal(got, []string{d2.Digest, d3.Digest}) {
		t.Errorf("after re-importing db2: %v", got)
	}
	// One dropped comes back, and the oldest goes.
	back := scannerDB(t, db, "db1", "root")
	current(back)
	if got := scannerDBs(t, db); !slices.Equal(got, []string{d1.Digest, d2.Digest}) {
		t.Errorf("after re-importing db1: %v", got)
	}
	// Add without a lease.
	d4 := &models.ScannerDatabase{Digest: testDigest("db4"), Size: 3, Version: 2, UpdatedAt: time.Now().UTC().Truncate(time.Second)}
	if err := db.ScannerDBs.Add(ctx, d4, ""); err != nil {
		t.Fatal(err)
	}
	current(d4)
	// Another upload's lease is not touched.
	var n int64
	if err := db.Writer().Raw("SELECT COUNT(*) FROM blob_leases WHERE id = ?", other).Scan(&n).Error; err != nil || n != 1 {
		t.Errorf("another lease was dropped: %d, %v", n, err)
	}
}

// A scanner database's blob is no garbage while its row exists, whatever
// the cutoff; once the row is dropped it is.
func TestScannerDBBlobKeptFromGC(t *testing.T) {
	db := openDB(t)
	ctx := t.Context()
	orphan := testDigest("an unreferenced blob")
	lease, err := db.Blobs.Lease(ctx, orphan, 10, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Blobs.ReleaseLease(ctx, lease); err != nil {
		t.Fatal(err)
	}
	d1 := scannerDB(t, db, "db1", "admin")

	check := func(when string, want map[string]bool) {
		t.Helper()
		now := time.Now().UTC()
		cutoff, stale := now.Add(time.Hour), now.Add(-time.Hour)
		cands, err := db.GC.BlobCandidates(ctx, cutoff, stale, now, "", 100)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for _, c := range cands {
			got[c.Digest] = true
		}
		unused, err := db.GC.BlobsUnusedSince(ctx, slices.Collect(maps.Keys(want)), cutoff, now)
		if err != nil {
			t.Fatal(err)
		}
		gotUnused := map[string]bool{}
		for _, c := range unused {
			gotUnused[c.Digest] = true
		}
		for d, garbage := range want {
			if got[d] != garbage {
				t.Errorf("%s: %s a blob candidate: %v, want %v", when, d, got[d], garbage)
			}
			if gotUnused[d] != garbage {
				t.Errorf("%s: %s unused since the cutoff: %v, want %v", when, d, gotUnused[d], garbage)
			}
		}
	}
	check("with its row", map[string]bool{orphan: true, d1.Digest: false})
	now := time.Now().UTC()
	if _, marked, err := db.GC.MarkBlobDeleting(ctx, d1.Digest, now.Add(time.Hour), now.Add(-time.Hour), now); err != nil || marked {
		t.Fatalf("marked a kept scanner database's blob: %v, %v", marked, err)
	}

	// Two newer imports drop db1's row.
	d2 := scannerDB(t, db, "db2", "admin")
	d3 := scannerDB(t, db, "db3", "admin")
	if got := scannerDBs(t, db); slices.Contains(got, d1.Digest) {
		t.Fatalf("db1 still recorded: %v", got)
	}
	check("without its row", map[string]bool{orphan: true, d1.Digest: true, d2.Digest: false, d3.Digest: false})
	now = time.Now().UTC()
	size, marked, err := db.GC.MarkBlobDeleting(ctx, d1.Digest, now.Add(time.Hour), now.Add(-time.Hour), now)
	if err != nil || !marked || size != d1.Size {
		t.Errorf("mark the dropped database's blob: size %d, %v, %v", size, marked, err)
	}
	if _, marked, err := db.GC.MarkBlobDeleting(ctx, d3.Digest, now.Add(time.Hour), now.Add(-time.Hour), now); err != nil || marked {
		t.Errorf("marked the current database's blob: %v, %v", marked, err)
	}
}
