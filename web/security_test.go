package web_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
)

// After sign-in and sign-up, next may only lead to a path on this site:
// it is parsed, and anything a browser could read as another host is
// replaced by the front page.
func TestNextStaysOnThisSite(t *testing.T) {
	e := newEnv(t, "alice")
	cases := []struct{ next, want string }{
		{"/r/alice/app?tab=tags#top", "/r/alice/app?tab=tags#top"},
		{"/settings", "/settings"},
		{"/%09/evil.example/x", "/"},
		{"/\t/evil.example/x", "/"},
		{"/%0a/evil.example", "/"},
		{"/%5Cevil.example", "/"},
		{"/\\evil.example", "/"},
		{"//evil.example", "/"},
		{"/%2F%2Fevil.example", "/"},
		{"https://evil.example/", "/"},
		{"javascript:alert(1)", "/"},
		{" /settings", "/"},
		{"/ok?x=%00", "/"},
		{"", "/"},
	}
	for _, tc := range cases {
		t.Run(tc.next, func(t *testing.T) {
			b := e.browser()
			p := b.post("/signin", "/signin", url.Values{"username": {"alice"}, "password": {pw}, "next": {tc.next}})
			b.must(p, http.StatusSeeOther, "sign in")
			if p.location != tc.want {
				t.Fatalf("next=%q redirected to %q, want %q", tc.next, p.location, tc.want)
			}
			// The form carries next along from the query too.
			form := b.get("/signin?next=" + url.QueryEscape(tc.next))
			if tc.want == "/" && tc.next != "" && bytes.Contains([]byte(form.body), []byte("evil.example")) {
				t.Fatalf("the sign-in form kept next=%q", tc.next)
			}
		})
	}
}

// A password change ends the account's other browser sessions, whether it
// is made on the settings page (which keeps its own session) or through
// the API.
func TestPasswordChangeEndsSessions(t *testing.T) {
	e := newEnv(t, "alice")
	signedIn := func(b *browser) bool { return b.get("/settings").status == http.StatusOK }

	other, self := e.browser(), e.browser()
	other.signin("alice")
	self.signin("alice")
	p := self.post("/settings", "/settings/password", url.Values{
		"old_password": {pw}, "new_password": {"second-password-2"}, "new_password2": {"second-password-2"}})
	self.must(p, http.StatusSeeOther, "change password")
	if !signedIn(self) {
		t.Fatal("the page that changed the password was signed out")
	}
	if signedIn(other) {
		t.Fatal("another browser stayed signed in after a password change on the settings page")
	}

	b := e.browser()
	b.post("/signin", "/signin", url.Values{"username": {"alice"}, "password": {"second-password-2"}})
	if !signedIn(b) {
		t.Fatal("sign in with the new password failed")
	}
	body, _ := json.Marshal(map[string]string{"old_password": "second-password-2", "new_password": "third-password-3"})
	req, _ := http.NewRequest("PUT", e.srv.URL+"/api/v1/user/password", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth("alice", "second-password-2")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNoContent {
		t.Fatalf("API password change: %d", res.StatusCode)
	}
	if signedIn(b) {
		t.Fatal("a browser session survived a password change through the API")
	}
}
