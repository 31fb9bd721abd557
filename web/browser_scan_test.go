package web_test

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server"
)

// TestBrowserScan looks at what a scan found in a real browser: the tag
// page's findings table (sorted by a header's link) passes axe and the
// contrast check, and so does the admins' scanner page.
func TestBrowserScan(t *testing.T) {
	shots := browserE2E(t, "")
	e := openEnv(t, server.Options{}, "alice")
	if _, err := e.app.Accounts.CreateUser(context.Background(), "root", "root@example.com", pw, true); err != nil {
		t.Fatal(err)
	}
	e.pushImage("alice", "alice/app", "v1")
	ctx := context.Background()
	repo, _ := e.app.DB.Repositories.Get(ctx, "alice/app")
	v1, err := e.app.DB.Manifests.GetTagged(ctx, "alice/app", "v1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.app.DB.Scans.Record(ctx, repo.ID, "alice/app", v1.Digest, models.ScanResult{Status: models.ScanDone, Scanner: "trivy 0.74.0",
		Findings: []models.Finding{
			{VulnerabilityID: "CVE-2099-0002", Package: "busybox", Installed: "1.36.1-r29", Fixed: "1.36.1-r30", Severity: "critical", Title: "busybox: a made-up overflow", URL: "https://example.invalid/CVE-2099-0002"},
			{VulnerabilityID: "CVE-2099-0001", Package: "musl", Installed: "1.2.5-r0", Fixed: "1.2.5-r1", Severity: "high", Title: "musl: a made-up bug", URL: "https://example.invalid/CVE-2099-0001"},
			{VulnerabilityID: "CVE-2099-0003", Package: "zlib", Installed: "1.3.1-r0", Severity: "medium", Title: "zlib: no fix yet"},
			{VulnerabilityID: "CVE-2099-0004", Package: "ssl_client", Installed: "1.36.1-r29", Fixed: "1.36.1-r30", Severity: "low"},
		}}); err != nil {
		t.Fatal(err)
	}
	cx := chrome(t, 2*time.Minute)
	run := runner(t, cx)
	shot := shooter(shots, false)
	signin := func(user string) {
		run("sign in "+user,
			chromedp.Navigate(e.srv.URL+"/signin"), chromedp.WaitVisible(chromedp.CSS(`input[name=username]`)),
			chromedp.SendKeys(chromedp.CSS(`input[name=username]`), user),
			chromedp.SendKeys(chromedp.CSS(`input[name=password]`), pw),
			chromedp.Submit(chromedp.CSS(`form[action="/signin"]`)),
			chromedp.WaitVisible(chromedp.CSS(`form[action="/signout"]`)))
	}
	signin("alice")
	run("the tag page", chromedp.Navigate(e.srv.URL+"/r/alice/app/tags/v1"), chromedp.WaitVisible(chromedp.CSS("#vulnerabilities")), shot("scan-01-tag"))
	checkAxe(t, cx, "the tag page with findings")
	checkContrast(t, cx, "the findings", "#vulnerabilities .badge, #vulnerabilities a, h1 .badge")
	run("sort by package", chromedp.Click(chromedp.CSS(`a[href="?sort=package#vulnerabilities"]`)),
		chromedp.WaitVisible(chromedp.CSS(`th[aria-sort="ascending"] a[href="?sort=package#vulnerabilities"]`)), shot("scan-02-by-package"))
	run("the tags list", chromedp.Navigate(e.srv.URL+"/r/alice/app/tags"), chromedp.WaitVisible(chromedp.CSS(".badge-vulns")), shot("scan-03-tags"))
	run("sign out", chromedp.Click(chromedp.CSS(`form[action="/signout"] button`)), chromedp.WaitVisible(chromedp.CSS(`a[href="/signin"]`)))
	signin("root")
	run("the scanner page", chromedp.Navigate(e.srv.URL+"/admin/scanner"), chromedp.WaitVisible(chromedp.CSS("#import")), shot("scan-04-admin"))
	checkAxe(t, cx, "the scanner page")
}
