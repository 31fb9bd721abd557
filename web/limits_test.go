package web_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// rawPost sends only the head of a form post that declares size bytes of
// body: a server that waits for the body never answers, and the deadline
// fails the test.
func rawPost(t *testing.T, e *env, path string, size int) (int, string) {
	t.Helper()
	conn, err := net.Dial("tcp", e.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: wharf.test\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n", path, size)
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("POST %s: no answer: %v", path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// Every form is limited to 256 KiB, and the repository settings form,
// which carries the README, to 1 MiB; a form over its limit gets a 413
// page that says so, before anything else is done with it.
func TestFormBodyLimits(t *testing.T) {
	e := newEnv(t, "alice")
	a := e.browser()
	a.signin("alice")
	a.must(a.post("/new", "/new", url.Values{"namespace": {"alice"}, "name": {"app"}, "visibility": {"public"}}), http.StatusSeeOther, "create")

	p := a.post("/r/alice/app/comments", "/r/alice/app/comments", url.Values{"body": {strings.Repeat("x", 300<<10)}})
	if p.status != http.StatusRequestEntityTooLarge || !strings.Contains(p.body, "larger than 256 KiB") {
		t.Fatalf("300 KiB comment: %d\n%.300s", p.status, p.body)
	}
	// A stream without a length is read up to the limit, and answered the
	// same (not as a form without its CSRF token).
	m := csrfRE.FindStringSubmatch(a.get("/r/alice/app/comments").body)
	form := url.Values{"csrf_token": {m[1]}, "body": {strings.Repeat("x", 300<<10)}}.Encode()
	req, _ := http.NewRequest("POST", e.srv.URL+"/r/alice/app/comments", io.MultiReader(strings.NewReader(form)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := a.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(b), "larger than 256 KiB") {
		t.Fatalf("300 KiB comment streamed: %d\n%.300s", res.StatusCode, b)
	}
	// The README form takes it; the hub then caps the README by its own rule.
	if body := a.must(a.post("/r/alice/app/settings", "/r/alice/app/settings", url.Values{"readme": {strings.Repeat("x", 300<<10)}}),
		http.StatusBadRequest, "300 KiB README").body; !strings.Contains(body, "README must be at most") {
		t.Fatalf("the README's own cap is not shown:\n%.300s", body)
	}
	p = a.post("/r/alice/app/settings", "/r/alice/app/settings", url.Values{"readme": {strings.Repeat("x", 1100<<10)}})
	if p.status != http.StatusRequestEntityTooLarge || !strings.Contains(p.body, "larger than 1024 KiB") {
		t.Fatalf("1.1 MiB README: %d\n%.300s", p.status, p.body)
	}
	// Refused by its length alone, unread and before sign-in work: the
	// sign-in form, a page that does not exist.
	for _, path := range []string{"/signin", "/r/alice/app/settings", "/no/such/page"} {
		if status, body := rawPost(t, e, path, 2<<20); status != http.StatusRequestEntityTooLarge || !strings.Contains(body, "larger than") {
			t.Errorf("POST %s with 2 MiB: %d\n%.300s", path, status, body)
		}
	}
}

// Text from forms goes through the same validator as the API's: NUL and
// control characters are refused with a message, never stored.
func TestFormTextIsValidated(t *testing.T) {
	e := newEnv(t, "alice")
	a := e.browser()
	a.signin("alice")
	a.must(a.post("/new", "/new", url.Values{"namespace": {"alice"}, "name": {"app"}, "visibility": {"public"}}), http.StatusSeeOther, "create")
	a.must(a.post("/r/alice/app/settings", "/r/alice/app/webhooks", url.Values{"name": {"ci\x00"}, "url": {"https://ci.example.com/hook"}}), http.StatusBadRequest, "webhook")
	a.must(a.post("/r/alice/app/settings", "/r/alice/app/webhooks", url.Values{"name": {"ci"}, "url": {"https://ci.example.com/hook"}, "secret": {"s\x01"}}), http.StatusBadRequest, "webhook")
	a.must(a.post("/settings", "/settings/tokens", url.Values{"name": {"ci\x00"}}), http.StatusSeeOther, "token")
	if body := a.must(a.post("/r/alice/app/settings", "/r/alice/app/settings", url.Values{"description": {"a\xffb"}}), http.StatusBadRequest, "description").body; !strings.Contains(body, "UTF-8") {
		t.Fatalf("no message for invalid UTF-8:\n%.300s", body)
	}
	hooks, _ := e.app.Hub.Webhooks.List(t.Context(), mustID(t, e, "alice"), hubTarget("alice/app"))
	toks, _ := e.app.Accounts.ListTokens(t.Context(), mustID(t, e, "alice"))
	r, _ := e.app.Hub.Repos.Get(t.Context(), mustID(t, e, "alice"), "alice/app")
	if len(hooks) != 0 || len(toks) != 0 || r.Description != "" {
		t.Fatalf("stored: %d webhooks, %d tokens, description %q", len(hooks), len(toks), r.Description)
	}
}
