package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/wharfhub/wharf/server"
)

// TestPasswordResetLink: a link an admin issued opens a form for its
// account; passwords that differ are refused next to it; the new
// password is set once, ends every session (the one signed in elsewhere
// too), and the link then fails; the old password stops working.
func TestPasswordResetLink(t *testing.T) {
	e := openEnv(t, server.Options{}, "alice")
	elsewhere := e.browser()
	elsewhere.signin("alice")
	if got := elsewhere.get("/settings"); got.status != http.StatusOK {
		t.Fatalf("settings: %d", got.status)
	}
	link, err := e.app.Recovery.IssueLink(t.Context(), "alice", "root")
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(link.URL)
	page := u.RequestURI()
	b := e.browser()
	form := b.get(page)
	if form.status != http.StatusOK || !strings.Contains(form.body, "For <b>alice</b>") {
		t.Fatalf("reset page: %d\n%.2000s", form.status, form.body)
	}
	token := u.Query().Get("token")
	differ := b.must(b.post(page, "/reset-password", url.Values{"token": {token}, "user": {"alice"}, "password": {"new-password-1"},
		"confirm": {"new-password-2"}}), http.StatusBadRequest, "passwords that differ")
	if !strings.Contains(differ.body, `id="reset-error"`) || !strings.Contains(differ.body, "The two passwords differ") {
		t.Errorf("the refusal is not said:\n%.2000s", differ.body)
	}
	done := b.must(b.post(page, "/reset-password", url.Values{"token": {token}, "user": {"alice"}, "password": {"new-password-1"},
		"confirm": {"new-password-1"}}), http.StatusSeeOther, "reset")
	if done.location != "/signin" || !strings.Contains(b.get(done.location).body, "every session of your account has ended") {
		t.Errorf("after the reset: %s", done.location)
	}
	if got := elsewhere.get("/settings"); got.status != http.StatusSeeOther {
		t.Errorf("the other session lives on: %d", got.status)
	}
	again := b.get(page)
	if again.status != http.StatusBadRequest || !strings.Contains(again.body, "This reset link does not work") || strings.Contains(again.body, `name="password"`) {
		t.Errorf("the spent link: %d\n%.2000s", again.status, again.body)
	}
	if p := b.post("/signin", "/signin", url.Values{"username": {"alice"}, "password": {pw}}); p.status == http.StatusSeeOther {
		t.Error("the old password works")
	}
	c := e.browser()
	if p := c.post("/signin", "/signin", url.Values{"username": {"alice"}, "password": {"new-password-1"}}); p.status != http.StatusSeeOther {
		t.Errorf("sign in with the new password: %d", p.status)
	}
}

// TestDeleteOwnAccount: the account goes only once its name is typed,
// not while it alone owns an organization, and then with its session.
func TestDeleteOwnAccount(t *testing.T) {
	e := openEnv(t, server.Options{}, "alice")
	b := e.browser()
	b.signin("alice")
	b.must(b.post("/settings", "/settings/orgs", url.Values{"name": {"acme"}}), http.StatusSeeOther, "org")
	b.must(b.post("/settings", "/settings/delete", url.Values{"confirm": {"alic"}}), http.StatusSeeOther, "mistyped")
	if s := b.get("/settings").body; !strings.Contains(s, "type its name, alice") {
		t.Errorf("a mistyped name is not said:\n%.2000s", s)
	}
	b.must(b.post("/settings", "/settings/delete", url.Values{"confirm": {"alice"}}), http.StatusSeeOther, "sole owner")
	if s := b.get("/settings").body; !strings.Contains(s, "Nothing was deleted") {
		t.Error("the sole owner's refusal is not said")
	}
	b.must(b.post("/u/acme", "/u/acme/delete", url.Values{"confirm": {"acme"}}), http.StatusSeeOther, "delete the org")
	b.must(b.post("/settings", "/settings/delete", url.Values{"confirm": {"alice"}}), http.StatusSeeOther, "delete")
	if _, err := e.app.DB.Users.GetByName(t.Context(), "alice"); err == nil {
		t.Error("alice is still there")
	}
	if got := b.get("/settings"); got.status != http.StatusSeeOther {
		t.Errorf("the session lives on: %d", got.status)
	}
}
