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
