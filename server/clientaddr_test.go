package server_test

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/wharfhub/wharf/server"
	"github.com/wharfhub/wharf/server/config"
	"github.com/wharfhub/wharf/server/servertest"
)

// syncBuffer collects log lines from the handlers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

const entryPw = "correct-horse"

// entryPoint is one way to log in with a password; it answers the status.
type entryPoint struct {
	name  string
	login func(t *testing.T, h http.Handler, peer, xff, user, pw string) int
}

func serve(h http.Handler, r *http.Request, peer, xff string) *http.Response {
	r.RemoteAddr = peer + ":4711"
	if xff != "" {
		r.Header.Set("X-Forwarded-For", xff)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Result()
}

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

var entryPoints = []entryPoint{
	{"registry token realm", func(t *testing.T, h http.Handler, peer, xff, user, pw string) int {
		r := httptest.NewRequest("GET", "/v2/token?scope=repository:"+user+"/x:pull", nil)
		r.SetBasicAuth(user, pw)
		return serve(h, r, peer, xff).StatusCode
	}},
	{"API Basic auth", func(t *testing.T, h http.Handler, peer, xff, user, pw string) int {
		r := httptest.NewRequest("GET", "/api/v1/user", nil)
		r.SetBasicAuth(user, pw)
		return serve(h, r, peer, xff).StatusCode
	}},
	{"web sign-in form", func(t *testing.T, h http.Handler, peer, xff, user, pw string) int {
		t.Helper()
		page := serve(h, httptest.NewRequest("GET", "/signin", nil), peer, xff)
		var body bytes.Buffer
		_, _ = body.ReadFrom(page.Body)
		m := csrfField.FindStringSubmatch(body.String())
		if m == nil {
			t.Fatalf("no CSRF token on /signin (%d)", page.StatusCode)
		}
		form := url.Values{"username": {user}, "password": {pw}, "csrf_token": {m[1]}}
		r := httptest.NewRequest("POST", "/signin", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for _, c := range page.Cookies() {
			r.AddCookie(c)
		}
		switch s := serve(h, r, peer, xff).StatusCode; s {
		case http.StatusSeeOther:
			return http.StatusOK
		default:
			return s
		}
	}},
}

// TestClientAddressEverywhere walks the three password entry points: from
// an untrusted peer a spoofed X-Forwarded-For changes nothing (neither the
// throttle bucket nor the logged address); behind a trusted proxy the
// client it names gets its own bucket and is the address logged. Each
// entry point records one failure from its own address, and every entry
// point must then find all three buckets (one bcrypt per failure, so few
// failures: the race detector makes them slow).
func TestClientAddressEverywhere(t *testing.T) {
	const user = "alice"
	open := func(t *testing.T, trusted string) (http.Handler, *syncBuffer) {
		t.Helper()
		logs := &syncBuffer{}
		cfg := &config.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), BaseURL: "http://wharf.test", LogLevel: "debug",
			AllowSignup: true, DefaultVisibility: "public", TrustedProxies: trusted}
		app, err := server.Open(context.Background(), cfg, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
			server.Options{LoginLimit: 1}) // fewer bcrypts; the rule is the same
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { app.Close() })
		if _, err := app.Accounts.CreateUser(context.Background(), user, "alice@example.com", entryPw, false); err != nil {
			t.Fatal(err)
		}
		return servertest.Handler(t, app), logs
	}
	want := func(t *testing.T, e entryPoint, got, want int, what string) {
		t.Helper()
		if got != want {
			t.Fatalf("%s: %s: %d, want %d", e.name, what, got, want)
		}
	}
	t.Run("no trusted proxies", func(t *testing.T) {
		h, logs := open(t, "")
		peer := func(i int) string { return fmt.Sprintf("198.51.100.%d", 10+i) }
		for i, e := range entryPoints {
			want(t, e, e.login(t, h, peer(i), fmt.Sprintf("203.0.113.%d", 10+i), user, "wrong-password"), 401, "a failure")
		}
		for _, e := range entryPoints {
			for i := range entryPoints {
				want(t, e, e.login(t, h, peer(i), "203.0.113.99", user, "wrong-password"), 429, "a spoofed X-Forwarded-For escaped the peer's bucket")
				want(t, e, e.login(t, h, peer(i), "203.0.113.98", user, entryPw), 429, "a spoofed X-Forwarded-For escaped the peer's bucket")
			}
			want(t, e, e.login(t, h, "198.51.100.200", "", user, entryPw), 200, "the account is locked out from another address")
		}
		if l := logs.String(); !strings.Contains(l, "remote=198.51.100.10") || strings.Contains(l, "remote=203.0.113.") {
			t.Fatalf("the access log believed a spoofed X-Forwarded-For:\n%s", l)
		}
	})
	t.Run("trusted proxy", func(t *testing.T) {
		h, logs := open(t, "10.0.0.0/8")
		const proxy = "10.0.0.1"
		client := func(i int) string { return fmt.Sprintf("203.0.113.%d", 10+i) }
		for i, e := range entryPoints {
			want(t, e, e.login(t, h, proxy, client(i), user, "wrong-password"), 401, "a failure")
		}
		for _, e := range entryPoints {
			for i := range entryPoints {
				want(t, e, e.login(t, h, proxy, client(i), user, "wrong-password"), 429, "the client behind the proxy is not throttled")
				want(t, e, e.login(t, h, proxy, "198.51.100.9, "+client(i), user, entryPw), 429, "an entry left of the client was believed")
			}
			want(t, e, e.login(t, h, proxy, "203.0.113.200", user, entryPw), 200, "another client behind the proxy is throttled")
			want(t, e, e.login(t, h, "198.51.100.7", client(0), user, entryPw), 200, "an untrusted peer's X-Forwarded-For was believed")
		}
		l := logs.String()
		if !strings.Contains(l, "remote=203.0.113.10") || !strings.Contains(l, "remote=203.0.113.200") || strings.Contains(l, "remote=10.0.0.1") ||
			strings.Contains(l, "remote=198.51.100.9") {
			t.Fatalf("the access log does not name the client behind the proxy:\n%s", l)
		}
	})
}

// TestOneClientAddressFunction keeps clientaddr the only reader of the
// peer address and of forwarding headers, and Gin's ClientIP (which
// believes X-Forwarded-For from anyone) unused.
func TestOneClientAddressFunction(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	// The deploy-hook receiver is its own server, with no proxy setting:
	// it logs its TCP peer.
	exempt := map[string]bool{"server/clientaddr": true, "cmd/wharf/deployhook": true}
	banned := []string{".ClientIP()", ".RemoteIP()", ".RemoteAddr", `"X-Forwarded-For"`, `"X-Real-Ip"`, `"X-Real-IP"`, `"Forwarded"`}
	checked := 0
	err = walkSources(root, func(path, rel string) error {
		if exempt[rel] {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		checked++
		for _, b := range banned {
			if strings.Contains(string(src), b) {
				t.Errorf("%s uses %s: ask the app's clientaddr.Resolver instead", path, b)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked == 0 {
		t.Fatal("no code checked")
	}
}

// walkSources calls fn for every non-test Go file of the module under
// root (not bench or tools, which are modules of their own), with its
// package directory relative to root.
func walkSources(root string, fn func(path, rel string) error) error {
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); strings.HasPrefix(name, ".") || name == "bench" || name == "tools" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		return fn(path, filepath.ToSlash(rel))
	})
}
