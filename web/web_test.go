package web_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/wharfhub/wharf/server"
	"github.com/wharfhub/wharf/server/config"
	"github.com/wharfhub/wharf/server/servertest"
	"github.com/wharfhub/wharf/server/testutil"
)

const pw = "correct-horse-battery"

type env struct {
	t   *testing.T
	app *server.App
	srv *httptest.Server
}

func newEnv(t *testing.T, users ...string) *env {
	t.Helper()
	return openEnv(t, server.Options{}, users...)
}

// openEnv is newEnv with opts.
func openEnv(t *testing.T, opts server.Options, users ...string) *env {
	t.Helper()
	return configEnv(t, func(*config.Config) {}, opts, users...)
}

// configEnv is openEnv with a configuration that set changes.
func configEnv(t *testing.T, set func(*config.Config), opts server.Options, users ...string) *env {
	t.Helper()
	cfg := &config.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), BaseURL: "http://wharf.test", LogLevel: "error",
		DefaultVisibility: "public", AllowSignup: true, Database: testutil.Database(t)}
	set(cfg)
	// An empty BaseURL is the test server's own address, for clients
	// that follow the token realm (oras, docker).
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = "http://" + ln.Addr().String()
	}
	logw := io.Discard
	if os.Getenv("WHARF_TEST_LOG") != "" {
		logw = os.Stderr
	}
	app, err := server.Open(context.Background(), cfg, slog.New(slog.NewTextHandler(logw, nil)), opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		if _, err := app.Accounts.CreateUser(context.Background(), u, u+"@example.com", pw, false); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewUnstartedServer(servertest.Handler(t, app))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	e := &env{t: t, app: app, srv: srv}
	t.Cleanup(func() { e.srv.Close(); app.Close() })
	return e
}

// browser is a cookie-keeping client that does not follow redirects.
type browser struct {
	e      *env
	client *http.Client
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type page struct {
	status   int
	body     string
	location string
}

func (b *browser) do(method, path string, form url.Values, hdr map[string]string) page {
	b.e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, b.e.srv.URL+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := b.client.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return page{status: res.StatusCode, body: string(raw), location: res.Header.Get("Location")}
}

func (b *browser) get(path string) page { return b.do("GET", path, nil, nil) }

var csrfRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// post submits a form the way a page on path would, with its CSRF token.
func (b *browser) post(from, action string, form url.Values) page {
	b.e.t.Helper()
	p := b.get(from)
	m := csrfRE.FindStringSubmatch(p.body)
	if m == nil {
		b.e.t.Fatalf("no CSRF token on %s (%d)", from, p.status)
	}
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf_token", m[1])
	return b.do("POST", action, form, nil)
}

func (b *browser) signin(user string) {
	b.e.t.Helper()
	p := b.post("/signin", "/signin", url.Values{"username": {user}, "password": {pw}})
	if p.status != http.StatusSeeOther {
		b.e.t.Fatalf("sign in %s: %d %s", user, p.status, p.body)
	}
}

func (b *browser) must(p page, status int, what string) page {
	b.e.t.Helper()
	if p.status != status {
		b.e.t.Fatalf("%s: status %d, want %d\n%.600s", what, p.status, status, p.body)
	}
	return p
}

// shows fails t unless the page at path (200) has every string of want
// and none of not.
func (b *browser) shows(path string, want, not []string) {
	b.e.t.Helper()
	p := b.must(b.get(path), http.StatusOK, path)
	for _, w := range want {
		if !strings.Contains(p.body, w) {
			b.e.t.Errorf("%s: no %q", path, w)
		}
	}
	for _, w := range not {
		if strings.Contains(p.body, w) {
			b.e.t.Errorf("%s: %q shows", path, w)
		}
	}
}
