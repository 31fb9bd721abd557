package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/wharfhub/wharf/server"
)

// TestAuditPages: the web's changes are in the log as the API's are (a
// sign-in, a rule added through a form); a repository's admin reads its
// log from the settings, a namespace's owner from its page, a site admin
// everything, each with filters whose bad values are said next to them;
// nobody else reads any.
func TestAuditPages(t *testing.T) {
	e := openEnv(t, server.Options{}, "alice", "mallory")
	if _, err := e.app.Accounts.CreateUser(context.Background(), "root", "root@example.com", pw, true); err != nil {
		t.Fatal(err)
	}
	a := e.browser()
	a.signin("alice")
	e.pushImage("alice", "alice/app", "v1")
	a.must(a.post("/r/alice/app/settings", "/r/alice/app/immutable-tags", url.Values{"pattern": {"v*"}}), http.StatusSeeOther, "add rule")

	settings := a.get("/r/alice/app/settings").body
	if !strings.Contains(settings, `href="/r/alice/app/audit"`) {
		t.Errorf("the settings do not link the log:\n%.2000s", settings)
	}
	repoLog := a.get("/r/alice/app/audit")
	if repoLog.status != http.StatusOK || !strings.Contains(repoLog.body, "<code>immutable_rule.create</code>") ||
		!strings.Contains(repoLog.body, "<code>manifest.push</code>") || !strings.Contains(repoLog.body, "alice/app:v1") {
		t.Errorf("the repository's log:\n%.4000s", repoLog.body)
	}
	if strings.Contains(repoLog.body, "<code>signin</code>") {
		t.Error("the repository's log shows a sign-in")
	}
	nsLog := a.get("/u/alice/audit?action=signin").body
	if !strings.Contains(nsLog, "<code>signin</code>") || !strings.Contains(nsLog, "web session") || strings.Contains(nsLog, "manifest.push") {
		t.Errorf("alice's sign-ins:\n%.4000s", nsLog)
	}
	if !strings.Contains(nsLog, `href="/api/v1/namespaces/alice/audit?action=signin&amp;format=jsonl"`) {
		t.Errorf("the export link keeps the filters:\n%.4000s", nsLog)
	}
	bad := a.must(a.get("/u/alice/audit?since=yesterday"), http.StatusBadRequest, "a bad date")
	if !strings.Contains(bad.body, `id="audit-error"`) || !strings.Contains(bad.body, `value="yesterday"`) {
		t.Errorf("the bad date is not said next to the filters:\n%.3000s", bad.body)
	}
	if p := a.get("/admin/audit"); p.status != http.StatusNotFound {
		t.Errorf("alice reads the site's log: %d", p.status)
	}

	m := e.browser()
	m.signin("mallory")
	for _, path := range []string{"/r/alice/app/audit", "/u/alice/audit", "/admin/audit"} {
		if p := m.get(path); p.status < 400 || strings.Contains(p.body, "alice/app:v1") {
			t.Errorf("mallory reads %s: %d", path, p.status)
		}
	}
	if p := m.post("/u/mallory", "/u/alice/immutable-tags", url.Values{"pattern": {"x*"}}); p.status != http.StatusForbidden {
		t.Errorf("mallory adds a rule to alice's namespace: %d", p.status)
	}
	if p := e.browser().get("/u/alice/audit"); p.status != http.StatusSeeOther {
		t.Errorf("anonymous: %d, want the sign-in page", p.status)
	}

	r := e.browser()
	r.signin("root")
	site := r.get("/admin/audit?result=denied").body
	if !strings.Contains(site, "<code>immutable_rule.create</code>") || !strings.Contains(site, "alice tags x*") ||
		!strings.Contains(site, "mallory") || strings.Contains(site, "alice/app:v1") {
		t.Errorf("the site's refusals do not show mallory's:\n%.4000s", site)
	}
}
