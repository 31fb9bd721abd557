package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server"
	"github.com/wharfhub/wharf/server/servertest"
)

// TestBrowserAdminConsole drives the admin console's main actions in
// Chromium: find an account and disable it, issue a reset link, set a
// namespace's quota and see its bar, give an organization a new owner,
// and look at the health page; every page passes axe.
func TestBrowserAdminConsole(t *testing.T) {
	shots := browserE2E(t, "")
	e := openEnv(t, server.Options{Search: true}, "alice", "bob")
	servertest.Run(t, e.app)
	if _, err := e.app.Accounts.CreateUser(context.Background(), "root", "root@example.com", pw, true); err != nil {
		t.Fatal(err)
	}
	a := e.browser()
	a.signin("alice")
	a.must(a.post("/settings", "/settings/orgs", url.Values{"name": {"acme"}}), http.StatusSeeOther, "org")
	e.pushImage("alice", "alice/app", "v1")

	cx := chrome(t, 40*time.Second)
	run := runner(t, cx)
	shot := shooter(shots, false)
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(cx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("read %s: %v", sel, err)
		}
		return s
	}
	run("sign in", chromedp.Navigate(e.srv.URL+"/signin"), chromedp.WaitVisible(chromedp.CSS(`input[name=username]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=username]`), "root"), chromedp.SendKeys(chromedp.CSS(`input[name=password]`), pw),
		chromedp.Submit(chromedp.CSS(`form[action="/signin"]`)), chromedp.WaitVisible(chromedp.CSS(`form[action="/signout"]`)))

	run("the Admin link", chromedp.Click(chromedp.CSS(`a[href="/admin/users"]`)), chromedp.WaitVisible(chromedp.CSS("#users")))
	run("users", chromedp.SendKeys(chromedp.CSS(`form[action="/admin/users"] input[name=q]`), "bob"), chromedp.Submit(chromedp.CSS(`form[action="/admin/users"] input[name=q]`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/admin/users/bob/disable"]`)))
	run("disable bob", chromedp.Click(chromedp.CSS(`form[action="/admin/users/bob/disable"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/admin/users/bob/enable"]`)), shot("admin-01-users"))
	checkAxe(t, cx, "the admin console's users")
	if !strings.Contains(text(".flash"), "bob is disabled") {
		t.Errorf("flash = %q", text(".flash"))
	}
	run("a reset link", chromedp.Click(chromedp.CSS(`form[action="/admin/users/alice/reset-link"] button`)),
		chromedp.WaitVisible(chromedp.CSS("#reset-link-url")))
	link, err := chromedp.Run(cx, chromedp.Value(chromedp.CSS("#reset-link-url")))
	if err != nil || !strings.Contains(link, "/reset-password?token=wrr_") {
		t.Fatalf("reset link %q, %v", link, err)
	}

	run("namespaces", chromedp.Navigate(e.srv.URL+"/admin/namespaces"), chromedp.WaitVisible(chromedp.CSS("#namespaces")),
		chromedp.SetValue(chromedp.CSS(`form[action="/admin/namespaces/alice/quota"] input[name=amount]`), "0.001"),
		chromedp.SetValue(chromedp.CSS(`form[action="/admin/namespaces/alice/quota"] select`), "GiB"),
		chromedp.Submit(chromedp.CSS(`form[action="/admin/namespaces/alice/quota"] input[name=amount]`)),
		chromedp.WaitVisible(chromedp.CSS(`meter[aria-label^="alice uses"]`)), shot("admin-02-namespaces"))
	checkAxe(t, cx, "the admin console's namespaces")
	if q, _ := e.app.DB.Namespaces.Quota(context.Background(), "alice"); q != 1073741 {
		t.Errorf("alice's quota = %d", q)
	}
	run("a new owner", chromedp.SendKeys(chromedp.CSS(`form[action="/admin/namespaces/acme/owner"] input[name=user]`), "bob"),
		chromedp.Submit(chromedp.CSS(`form[action="/admin/namespaces/acme/owner"] input[name=user]`)))
	org, err := e.app.DB.Orgs.Get(context.Background(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	bob, _ := e.app.DB.Users.GetByName(context.Background(), "bob")
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if role, _ := e.app.DB.Orgs.Role(context.Background(), org.ID, bob.ID); role == models.RoleOwner {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("bob did not become an owner of acme")
		}
	}
	run("the owner's flash", chromedp.WaitVisible(chromedp.CSS(`form[action="/admin/namespaces/acme/owner"]`)))

	run("health", chromedp.Navigate(e.srv.URL+"/admin/health"), chromedp.WaitVisible(chromedp.CSS("#health")), shot("admin-03-health"))
	checkAxe(t, cx, "the admin console's health")
	if s := text("#health-summary"); !strings.Contains(strings.ToLower(s), "all well") {
		t.Errorf("health: %q\n%s", s, text("#health"))
	}
}
