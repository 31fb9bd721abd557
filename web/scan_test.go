package web_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server"
)

// TestScanPages shows what a scan found: a badge in the tags list and on
// the tag page, and the findings sortable by column; the policy form
// refuses a severity on a server that does not scan.
func TestScanPages(t *testing.T) {
	e := openEnv(t, server.Options{}, "alice")
	a := e.browser()
	a.signin("alice")
	e.pushImage("alice", "alice/app", "v1")
	p := e.pusher("alice", "alice/app")
	p.manifest("v2", ociManifest, map[string]any{"config": p.blob([]byte(`{"architecture":"arm64","os":"linux"}`), ociConfig),
		"layers": []any{p.blob([]byte("other bytes"), ociLayer)}})
	ctx := context.Background()
	repo, err := e.app.DB.Repositories.Get(ctx, "alice/app")
	if err != nil {
		t.Fatal(err)
	}
	v1, err := e.app.DB.Manifests.GetTagged(ctx, "alice/app", "v1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.app.DB.Scans.Record(ctx, repo.ID, "alice/app", v1.Digest, models.ScanResult{Status: models.ScanDone, Scanner: "trivy 0.74.0",
		Findings: []models.Finding{
			{VulnerabilityID: "CVE-2099-0001", Package: "zlib", Installed: "1.0", Fixed: "1.1", Severity: "high", URL: "https://example.invalid/1"},
			{VulnerabilityID: "CVE-2099-0002", Package: "busybox", Installed: "2.0", Severity: "critical"},
			{VulnerabilityID: "CVE-2099-0003", Package: "musl", Installed: "3.0", Fixed: "3.1", Severity: "low"},
		}}); err != nil {
		t.Fatal(err)
	}
	tags := a.must(a.get("/r/alice/app/tags"), http.StatusOK, "tags").body
	if !strings.Contains(tags, "1 critical · 1 high · 1 low") {
		t.Errorf("the tags list has no scan badge for v1:\n%.4000s", tags)
	}
	page := a.must(a.get("/r/alice/app/tags/v1"), http.StatusOK, "tag page").body
	order := func(body string, ids ...string) bool {
		at := -1
		for _, id := range ids {
			i := strings.Index(body, id)
			if i <= at {
				return false
			}
			at = i
		}
		return true
	}
	sec := page[strings.Index(page, `id="vulnerabilities"`):]
	if !order(sec, "CVE-2099-0002", "CVE-2099-0001", "CVE-2099-0003") || !strings.Contains(sec, `href="https://example.invalid/1"`) ||
		!strings.Contains(sec, "no fix yet") || !strings.Contains(sec, `aria-sort="ascending"><a href="?sort=severity#vulnerabilities"`) {
		t.Errorf("the tag page does not list the findings by severity:\n%.6000s", sec)
	}
	byPkg := a.get("/r/alice/app/tags/v1?sort=package").body
	if sec := byPkg[strings.Index(byPkg, `id="vulnerabilities"`):]; !order(sec, "busybox", "musl", "zlib") {
		t.Errorf("sorted by package:\n%.6000s", sec)
	}
	if v2 := a.get("/r/alice/app/tags/v2").body; !strings.Contains(v2, `id="not-scanned"`) || !strings.Contains(v2, "not set up on this server") {
		t.Errorf("an unscanned image on a server without a scanner:\n%.6000s", v2)
	}
	if p := a.get("/r/alice/app/tags/v1?sort=%3Cscript%3E"); p.status != http.StatusOK || strings.Contains(p.body, "<script>") {
		t.Errorf("an unknown sort: %d", p.status)
	}
	refused := a.must(a.post("/r/alice/app/settings", "/r/alice/app/policy", url.Values{"block_severity": {"high"}}), http.StatusBadRequest, "severity")
	if !strings.Contains(refused.body, `id="policy-error"`) || !strings.Contains(refused.body, "scanning is not set up") {
		t.Errorf("the refused severity is not said next to the form:\n%.3000s", refused.body)
	}
}

// bundleBytes is a database bundle as Trivy's offline one is laid out
// (its trivy.db need not be a real database for the import).
func bundleBytes(t *testing.T, updated time.Time, files ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, name := range files {
		body := []byte("not really bolt")
		if name == "metadata.json" {
			body = []byte(`{"Version":2,"UpdatedAt":"` + updated.Format(time.RFC3339) + `","NextUpdate":"` + updated.Add(24*time.Hour).Format(time.RFC3339) + `"}`)
		}
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body))}); err != nil {
			t.Fatal(err)
		}
		_, _ = tw.Write(body)
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

// upload posts the database form as a browser does: the CSRF field
// first, then the file.
func upload(t *testing.T, b *browser, csrf string, bundle []byte) page {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if csrf != "" {
		_ = mw.WriteField("csrf_token", csrf)
	}
	fw, _ := mw.CreateFormFile("bundle", "db.tar.gz")
	_, _ = io.Copy(fw, bytes.NewReader(bundle))
	mw.Close()
	req, _ := http.NewRequest("POST", b.e.srv.URL+"/admin/scanner/database", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	res, err := b.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return page{status: res.StatusCode, body: string(raw), location: res.Header.Get("Location")}
}

// TestAdminScannerPage: site admins see the scanner's state and its
// database's age, and import a database with the form; a bad bundle is
// refused next to it, and nobody else gets in.
func TestAdminScannerPage(t *testing.T) {
	e := openEnv(t, server.Options{}, "alice")
	if _, err := e.app.Accounts.CreateUser(context.Background(), "root", "root@example.com", pw, true); err != nil {
		t.Fatal(err)
	}
	alice := e.browser()
	alice.signin("alice")
	if p := alice.get("/admin/scanner"); p.status != http.StatusNotFound {
		t.Errorf("a user who is no admin: %d", p.status)
	}
	root := e.browser()
	root.signin("root")
	p := root.must(root.get("/admin/scanner"), http.StatusOK, "scanner page")
	if !strings.Contains(p.body, `id="no-database"`) || !strings.Contains(p.body, "Scanning is off") {
		t.Errorf("the page before any database:\n%.3000s", p.body)
	}
	csrf := csrfRE.FindStringSubmatch(p.body)[1]
	if got := upload(t, root, "", bundleBytes(t, time.Now(), "trivy.db", "metadata.json")); got.status != http.StatusForbidden {
		t.Errorf("an upload without the CSRF field: %d", got.status)
	}
	if got := upload(t, alice, csrfRE.FindStringSubmatch(alice.get("/").body)[1], bundleBytes(t, time.Now(), "trivy.db", "metadata.json")); got.status != http.StatusNotFound {
		t.Errorf("an upload by a user who is no admin: %d", got.status)
	}
	bad := upload(t, root, csrf, bundleBytes(t, time.Now(), "trivy.db"))
	if bad.status != http.StatusBadRequest || !strings.Contains(bad.body, `id="scanner-error"`) || !strings.Contains(bad.body, "metadata.json") {
		t.Errorf("a bundle without metadata.json: %d\n%.3000s", bad.status, bad.body)
	}
	if _, err := e.app.DB.ScannerDBs.Current(context.Background()); err == nil {
		t.Error("the bad bundle was recorded")
	}
	ok := upload(t, root, csrf, bundleBytes(t, time.Now().Add(-10*24*time.Hour), "trivy.db", "metadata.json"))
	if ok.status != http.StatusSeeOther || ok.location != "/admin/scanner" {
		t.Fatalf("a good bundle: %d %s\n%.2000s", ok.status, ok.location, ok.body)
	}
	p = root.must(root.get("/admin/scanner"), http.StatusOK, "scanner page")
	if !strings.Contains(p.body, "10 days ago") || !strings.Contains(p.body, "stale") || !strings.Contains(p.body, "by root") {
		t.Errorf("the page after the import:\n%.4000s", p.body)
	}
}
