package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/wharfhub/wharf/server"
	"github.com/wharfhub/wharf/server/config"
)

// Site admins see the mirrors on /admin/mirrors, add them with the form
// (mistakes shown next to it) and remove those not defined by flags;
// nobody else learns the page exists.
func TestAdminMirrorsPage(t *testing.T) {
	e := configEnv(t, func(c *config.Config) {
		c.Mirrors = []config.Mirror{{Name: "hub", URL: "https://registry-1.docker.io"}}
		c.RegistryMirror = "hub"
	}, server.Options{}, "alice", "bob")
	if _, err := e.app.Accounts.CreateUser(context.Background(), "root", "root@example.com", pw, true); err != nil {
		t.Fatal(err)
	}

	anon := e.browser()
	if p := anon.get("/admin/mirrors"); p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/signin") {
		t.Errorf("anonymous: %d %s", p.status, p.location)
	}
	bob := e.browser()
	bob.signin("bob")
	for _, p := range []page{
		bob.get("/admin/mirrors"),
		bob.post("/settings", "/admin/mirrors", url.Values{"name": {"evil"}, "url": {"https://evil.example"}}),
		bob.post("/settings", "/admin/mirrors/hub/remove", nil),
	} {
		if p.status != http.StatusNotFound || strings.Contains(p.body, "registry-1.docker.io") {
			t.Errorf("a user who is not an admin: %d\n%.300s", p.status, p.body)
		}
	}
	if strings.Contains(bob.get("/").body, `href="/admin/users"`) {
		t.Error("the Admin link shows to a user who is not an admin")
	}

	root := e.browser()
	root.signin("root")
	p := root.must(root.get("/admin/mirrors"), http.StatusOK, "admin page")
	for _, want := range []string{"hub", "https://registry-1.docker.io", "registry mirror", "the server's configuration", `href="/admin/users"`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(p.body, "/admin/mirrors/hub/remove") {
		t.Error("a mirror defined by flags offers a Remove button")
	}

	for _, c := range []struct {
		form url.Values
		want string
	}{
		{url.Values{"name": {"Bad Name"}, "url": {"https://quay.io"}}, "is not a namespace name"},
		{url.Values{"name": {"quay"}, "url": {"ftp://quay.io"}}, "is not a registry URL"},
		{url.Values{"name": {"quay"}, "url": {"https://quay.io"}, "username": {"u"}}, "give both a username and a password"},
		{url.Values{"name": {"alice"}, "url": {"https://quay.io"}}, "is taken"},
		{url.Values{"name": {"hub"}, "url": {"https://quay.io"}}, "defined by --mirror"},
	} {
		p := root.post("/admin/mirrors", "/admin/mirrors", c.form)
		if p.status != http.StatusBadRequest || !strings.Contains(p.body, c.want) || !strings.Contains(p.body, `value="`+c.form.Get("url")+`"`) {
			t.Errorf("%v: %d, want 400 with %q and the form kept\n%.2000s", c.form, p.status, c.want, p.body)
		}
	}

	p = root.post("/admin/mirrors", "/admin/mirrors", url.Values{"name": {"quay"}, "url": {"https://quay.io"},
		"username": {"robot"}, "password": {"s3cret-token"}})
	if p.status != http.StatusSeeOther || p.location != "/admin/mirrors" {
		t.Fatalf("add: %d %s\n%.600s", p.status, p.location, p.body)
	}
	p = root.must(root.get("/admin/mirrors"), http.StatusOK, "after adding")
	if !strings.Contains(p.body, "Mirror quay added") || !strings.Contains(p.body, "https://quay.io") ||
		!strings.Contains(p.body, "/admin/mirrors/quay/remove") || strings.Contains(p.body, "s3cret-token") {
		t.Errorf("after adding:\n%.3000s", p.body)
	}
	if _, ok := e.app.Mirrors.Upstream("quay"); !ok {
		t.Error("the mirror added on the page is not served")
	}

	p = root.post("/admin/mirrors", "/admin/mirrors/hub/remove", nil)
	if p.status != http.StatusSeeOther {
		t.Errorf("removing a flags mirror: %d", p.status)
	}
	if p = root.get("/admin/mirrors"); !strings.Contains(p.body, "defined by --mirror") {
		t.Errorf("removing a flags mirror says nothing:\n%.2000s", p.body)
	}
	p = root.post("/admin/mirrors", "/admin/mirrors/quay/remove", nil)
	if p.status != http.StatusSeeOther {
		t.Fatalf("remove: %d\n%.600s", p.status, p.body)
	}
	if p = root.get("/admin/mirrors"); !strings.Contains(p.body, "Mirror quay removed") || strings.Contains(p.body, "https://quay.io") {
		t.Errorf("after removing:\n%.2000s", p.body)
	}
	if _, ok := e.app.Mirrors.Upstream("quay"); ok {
		t.Error("the removed mirror is still served")
	}
}
