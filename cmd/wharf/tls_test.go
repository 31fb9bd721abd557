package main

import (
	"crypto/tls"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptrace"
	"net/url"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wharfhub/wharf/server/testutil"
)

var redirectRE = regexp.MustCompile(`msg="redirecting plain HTTP to HTTPS" addr=([0-9.:]+)`)

// servedSerial is the serial of the certificate a new TLS handshake gets.
func servedSerial(t *testing.T, addr string, ca *testutil.CA) string {
	t.Helper()
	c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: ca.Pool(), ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatalf("handshake: %v", err)
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].SerialNumber.String()
}

// TestServeTLS: with --tls-cert and --tls-key, wharf serves HTTPS (HTTP/2,
// HSTS, an https token realm, Secure session cookies), --http-addr sends
// plain HTTP to it, and a certificate renamed over the old one is served
// by the next handshake, while open connections stay up.
func TestServeTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildWharf(t)
	dir := t.TempDir()
	createAlice(t, dir)
	ca := testutil.NewCA(t)
	certDir := t.TempDir()
	first := ca.Issue(t, "127.0.0.1", "localhost")
	certFile, keyFile := first.Write(t, certDir)
	p := serveLogged(t, bin, dir, "--tls-cert", certFile, "--tls-key", keyFile, "--http-addr", "127.0.0.1:0")
	base := "https://" + p.addr
	var redirectAddr string
	waitFor(t, 10*time.Second, "the plain-HTTP listener", func() bool {
		m := redirectRE.FindStringSubmatch(p.log.String())
		if m != nil {
			redirectAddr = m[1]
		}
		return m != nil
	})

	jar, _ := cookiejar.New(nil)
	client := &http.Client{
		Jar:       jar,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool()}, ForceAttemptHTTP2: true},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	get := func(u string) *http.Response {
		t.Helper()
		res, err := client.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res
	}

	res := get(base + "/v2/")
	if res.StatusCode != http.StatusUnauthorized || res.Proto != "HTTP/2.0" {
		t.Fatalf("GET /v2/: %d over %s, want 401 over HTTP/2.0", res.StatusCode, res.Proto)
	}
	if h := res.Header.Get("Strict-Transport-Security"); !strings.Contains(h, "max-age=") {
		t.Errorf("no HSTS: Strict-Transport-Security %q", h)
	}
	if h := res.Header.Get("WWW-Authenticate"); !strings.Contains(h, `realm="`+base+"/") {
		t.Errorf("the token realm is not on the https base URL: %s", h)
	}
	if _, err := tls.Dial("tcp", p.addr, &tls.Config{RootCAs: ca.Pool(), MaxVersion: tls.VersionTLS11}); err == nil {
		t.Error("a TLS 1.1 handshake was accepted")
	}

	// Sign in: the session cookie is Secure.
	page, err := client.Get(base + "/signin")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(page.Body)
	page.Body.Close()
	m := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF token on /signin:\n%s", body)
	}
	res, err = client.PostForm(base+"/signin", url.Values{"csrf_token": {string(m[1])}, "username": {"alice"}, "password": {"long-password"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in: %d", res.StatusCode)
	}
	var session string
	for _, c := range res.Header.Values("Set-Cookie") {
		if strings.HasPrefix(c, "wharf_session=") {
			session = c
		}
	}
	if session == "" || !strings.Contains(session, "; Secure") || !strings.Contains(session, "HttpOnly") {
		t.Errorf("session cookie %q, want Secure and HttpOnly", session)
	}

	// Plain HTTP is redirected to the same path on the base URL.
	plain := &http.Client{CheckRedirect: client.CheckRedirect}
	for method, want := range map[string]int{http.MethodGet: http.StatusMovedPermanently, http.MethodPost: http.StatusPermanentRedirect} {
		req, _ := http.NewRequest(method, "http://"+redirectAddr+"/r/alice/app?tab=tags", nil)
		res, err := plain.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want || res.Header.Get("Location") != base+"/r/alice/app?tab=tags" {
			t.Errorf("%s over plain HTTP: %d to %q, want %d to %s", method, res.StatusCode, res.Header.Get("Location"), want, base+"/r/alice/app?tab=tags")
		}
	}

	// Rotation: a renewal renamed over the files is served by the next
	// handshake; the connection opened before keeps working.
	if got := servedSerial(t, p.addr, ca); got != first.Serial.String() {
		t.Fatalf("serving %s, want %s", got, first.Serial)
	}
	second := ca.Issue(t, "127.0.0.1", "localhost")
	second.Write(t, certDir)
	waitFor(t, 10*time.Second, "the renewed certificate is served", func() bool {
		return servedSerial(t, p.addr, ca) == second.Serial.String()
	})
	reused := false
	trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { reused = i.Reused }}
	req, _ := http.NewRequest(http.MethodGet, base+"/healthz", nil)
	res, err = client.Do(req.WithContext(httptrace.WithClientTrace(req.Context(), trace)))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !reused {
		t.Errorf("after the rotation: %d on a reused connection %v, want 200 on the connection opened before", res.StatusCode, reused)
	}

	// SIGHUP reads the files at once.
	third := ca.Issue(t, "127.0.0.1", "localhost")
	third.Write(t, certDir)
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "SIGHUP is handled", func() bool {
		return strings.Contains(p.log.String(), "SIGHUP: tls certificate files read")
	})
	if got := servedSerial(t, p.addr, ca); got != third.Serial.String() {
		t.Errorf("after SIGHUP: serving %s, want %s", got, third.Serial)
	}
	p.stop(t, 30*time.Second)
}
