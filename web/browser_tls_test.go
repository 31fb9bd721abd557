package web_test

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/wharfhub/wharf/server"
	"github.com/wharfhub/wharf/server/config"
	"github.com/wharfhub/wharf/server/testutil"
)

// TestBrowserHTTPS: Chromium loads the hub over HTTPS (HTTP/2) from
// wharf's own TLS listener, trusting only the test's certificate; the
// pages carry HSTS, and the session cookie it gets by signing in is
// Secure.
func TestBrowserHTTPS(t *testing.T) {
	browserE2E(t, "")
	ca := testutil.NewCA(t)
	leaf := ca.Issue(t, "127.0.0.1")
	certFile, keyFile := leaf.Write(t, t.TempDir())
	block, _ := pem.Decode(leaf.CertPEM)
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	spki := sha256.Sum256(cert.RawSubjectPublicKeyInfo)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := &config.Config{Addr: ln.Addr().String(), DataDir: t.TempDir(), LogLevel: "error", DefaultVisibility: "public",
		AllowSignup: true, TLS: config.TLS{CertFile: certFile, KeyFile: keyFile, HSTS: true}}
	app, err := server.Open(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), server.Options{Listener: ln})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.Accounts.CreateUser(context.Background(), "tess", "tess@example.com", pw, false); err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- app.Serve(sctx, nil) }()
	t.Cleanup(func() {
		stop()
		if err := <-served; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("serve: %v", err)
		}
		app.Close()
	})
	base := app.Config.BaseURL
	if !strings.HasPrefix(base, "https://127.0.0.1:") {
		t.Fatalf("base URL %s, want https on the listener", base)
	}

	shots := os.Getenv("WHARF_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	// Trust this one certificate, and no other that the system does not.
	ctx := chrome(t, 2*time.Minute, chromedp.Flag("ignore-certificate-errors-spki-list", base64.StdEncoding.EncodeToString(spki[:])))

	res, err := chromedp.RunResponse(ctx, chromedp.Navigate(base+"/signin"))
	if err != nil {
		t.Fatalf("load /signin over HTTPS: %v", err)
	}
	if res.Status != 200 || res.Protocol != "h2" {
		t.Fatalf("/signin: %d over %s, want 200 over h2", res.Status, res.Protocol)
	}
	hsts := ""
	for k, v := range res.Headers {
		if strings.EqualFold(k, "Strict-Transport-Security") {
			hsts, _ = v.(string)
		}
	}
	if !strings.Contains(hsts, "max-age=") {
		t.Errorf("no HSTS on the page: headers %v", res.Headers)
	}
	if err := chromedp.Do(ctx,
		chromedp.WaitVisible(chromedp.CSS(`input[name=username]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=username]`), "tess"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), pw),
		chromedp.Submit(chromedp.CSS(`form[action="/signin"]`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/signout"]`)),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			buf, err := chromedp.FullScreenshot(100)(ctx, tg)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(shots, "30-https-signed-in.png"), buf, 0o644)
		}),
	); err != nil {
		t.Fatalf("sign in over HTTPS: %v", err)
	}
	got, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{base + "/"}})
	if err != nil {
		t.Fatal(err)
	}
	var session *network.Cookie
	for _, c := range got.Cookies {
		if c.Name == "wharf_session" {
			session = c
		}
	}
	if session == nil || !session.Secure || !session.HTTPOnly {
		t.Fatalf("session cookie %+v, want one that is Secure and HttpOnly", session)
	}
}
