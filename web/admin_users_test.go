package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/wharfhub/wharf/server"
)

// TestAdminUsersPage: a site admin finds accounts by name or address,
// disables and enables one, makes one an admin, issues a reset link that
// is shown once and works, and deletes an account only by typing its
// name; the last admin stays one; nobody else sees the page.
func TestAdminUsersPage(t *testing.T) {
	e := openEnv(t, server.Options{}, "alice", "bob", "carol")
	if _, err := e.app.Accounts.CreateUser(context.Background(), "root", "root@example.com", pw, true); err != nil {
		t.Fatal(err)
	}
	r := e.browser()
	r.signin("root")
	if home := r.get("/").body; !strings.Contains(home, `href="/admin/users"`) {
		t.Error("no Admin link for an admin")
	}
	list := r.must(r.get("/admin/users?q=ALICE@"), http.StatusOK, "search")
	if !strings.Contains(list.body, `href="/u/alice"`) || strings.Contains(list.body, `href="/u/bob"`) || !strings.Contains(list.body, "1 account match") {
		t.Errorf("search:\n%.3000s", list.body)
	}
	r.must(r.post("/admin/users", "/admin/users/bob/disable", nil), http.StatusSeeOther, "disable")
	if p := e.browser().post("/signin", "/signin", url.Values{"username": {"bob"}, "password": {pw}}); p.status == http.StatusSeeOther {
		t.Error("a disabled account signs in")
	}
	r.must(r.post("/admin/users", "/admin/users/bob/enable", nil), http.StatusSeeOther, "enable")
	if p := r.post("/admin/users", "/admin/users/root/unadmin", nil); p.status != http.StatusConflict || !strings.Contains(p.body, "last site administrator") {
		t.Errorf("the last admin: %d", p.status)
	}
	r.must(r.post("/admin/users", "/admin/users/alice/admin", nil), http.StatusSeeOther, "make admin")

	reset := r.must(r.post("/admin/users", "/admin/users/carol/reset-link", nil), http.StatusOK, "reset link")
	i := strings.Index(reset.body, `id="reset-link-url"`)
	j := strings.LastIndex(reset.body[:max(i, 0)], `value="`)
	if i < 0 || j < 0 {
		t.Fatalf("no link shown:\n%.3000s", reset.body)
	}
	raw := reset.body[j+len(`value="`):]
	raw = strings.ReplaceAll(raw[:strings.Index(raw, `"`)], "&amp;", "&")
	u, err := url.Parse(raw)
	if err != nil || u.Path != "/reset-password" {
		t.Fatalf("link %q", raw)
	}
	c := e.browser()
	c.must(c.get(u.RequestURI()), http.StatusOK, "the link's page")
	if again := r.get("/admin/users"); strings.Contains(again.body, raw) {
		t.Error("the link shows again")
	}

	if p := r.post("/admin/users", "/admin/users/carol/delete", url.Values{"confirm": {"caro"}}); p.status != http.StatusBadRequest {
		t.Errorf("a deletion without the name typed: %d", p.status)
	}
	r.must(r.post("/admin/users", "/admin/users/carol/delete", url.Values{"confirm": {"carol"}}), http.StatusSeeOther, "delete")
	if strings.Contains(r.get("/admin/users").body, `href="/u/carol"`) {
		t.Error("carol is still listed")
	}

	b := e.browser()
	b.signin("bob")
	for _, p := range []page{b.get("/admin/users"), b.post("/settings", "/admin/users/alice/disable", nil)} {
		if p.status != http.StatusNotFound {
			t.Errorf("bob on the admin page: %d", p.status)
		}
	}
}
