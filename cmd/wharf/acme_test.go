package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/wharfhub/wharf/server/testutil"
)

// freePort is a loopback port nothing listens on (for servers that must
// be told their port before they start).
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startProc runs a helper server until the test ends.
func startProc(t *testing.T, env []string, name string, args ...string) *lockedBuffer {
	t.Helper()
	out := &lockedBuffer{}
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("%s:\n%s", filepath.Base(name), out.String())
		}
	})
	return out
}

// TestACMEWithPebble: with --acme-domains, wharf gets its certificate
// from an ACME server (Pebble, which really validates the TLS-ALPN-01
// challenge against wharf, its DNS answered by pebble-challtestsrv),
// serves requests with it, and renews it before it expires.
func TestACMEWithPebble(t *testing.T) {
	dir := os.Getenv("WHARF_PEBBLE")
	if dir == "" {
		t.Skip("set WHARF_PEBBLE to a directory holding pebble and pebble-challtestsrv (make test does)")
	}
	ca := testutil.NewCA(t)
	work := t.TempDir()
	caFile := filepath.Join(work, "ca.pem")
	if err := os.WriteFile(caFile, ca.PEM, 0o600); err != nil {
		t.Fatal(err)
	}
	pebbleCert, pebbleKey := ca.Issue(t, "127.0.0.1", "localhost").Write(t, work)
	dnsPort, acmePort, mgmtPort, wharfPort := freePort(t), freePort(t), freePort(t), freePort(t)

	startProc(t, nil, filepath.Join(dir, "pebble-challtestsrv"),
		"-dnsserver", fmt.Sprintf("127.0.0.1:%d", dnsPort), "-management", fmt.Sprintf("127.0.0.1:%d", freePort(t)),
		"-http01", "", "-https01", "", "-tlsalpn01", "", "-doh", "", "-defaultIPv4", "127.0.0.1", "-defaultIPv6", "")
	// Certificates valid for 30 seconds: autocert renews at two thirds.
	cfg := map[string]any{"pebble": map[string]any{
		"listenAddress": fmt.Sprintf("127.0.0.1:%d", acmePort), "managementListenAddress": fmt.Sprintf("127.0.0.1:%d", mgmtPort),
		"certificate": pebbleCert, "privateKey": pebbleKey,
		"httpPort": freePort(t), "tlsPort": wharfPort,
		"ocspResponderURL": "", "externalAccountBindingRequired": false,
		"retryAfter": map[string]int{"authz": 1, "order": 1},
		"profiles":   map[string]any{"default": map[string]any{"description": "short-lived", "validityPeriod": 30}},
	}}
	b, _ := json.Marshal(cfg)
	cfgFile := filepath.Join(work, "pebble.json")
	if err := os.WriteFile(cfgFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	startProc(t, []string{"PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0"}, filepath.Join(dir, "pebble"),
		"-config", cfgFile, "-dnsserver", fmt.Sprintf("127.0.0.1:%d", dnsPort))

	mgmt := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool()}}, Timeout: 5 * time.Second}
	var root []byte
	waitFor(t, 20*time.Second, "pebble serves its root", func() bool {
		res, err := mgmt.Get(fmt.Sprintf("https://127.0.0.1:%d/roots/0", mgmtPort))
		if err != nil {
			return false
		}
		defer res.Body.Close()
		root, _ = io.ReadAll(res.Body)
		return res.StatusCode == http.StatusOK
	})
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(root) {
		t.Fatalf("pebble's root is not PEM: %q", root)
	}

	bin := buildWharf(t)
	data := t.TempDir()
	directory := fmt.Sprintf("https://127.0.0.1:%d/dir", acmePort)
	p := startACMEWharf(t, bin, data, wharfPort, caFile, "--acme-directory", directory)
	addr := fmt.Sprintf("127.0.0.1:%d", wharfPort)

	serial := func() (string, time.Time, error) {
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: 30 * time.Second}, "tcp", addr, &tls.Config{RootCAs: roots, ServerName: "wharf.test"})
		if err != nil {
			return "", time.Time{}, err
		}
		defer c.Close()
		leaf := c.ConnectionState().PeerCertificates[0]
		return leaf.SerialNumber.String(), leaf.NotAfter, nil
	}
	// The first handshake for the name orders the certificate.
	first, notAfter, err := serial()
	if err != nil {
		t.Fatalf("first handshake: %v", err)
	}
	if until := time.Until(notAfter); until > time.Minute {
		t.Fatalf("certificate valid for %s, want pebble's 30s", until)
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "wharf.test"}, ForceAttemptHTTP2: true}}
	res, err := client.Get("https://" + addr + "/v2/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized || !bytes.Contains([]byte(res.Header.Get("WWW-Authenticate")), []byte(`realm="https://wharf.test:`)) {
		t.Fatalf("GET /v2/ with the ACME certificate: %d %s %s", res.StatusCode, res.Header.Get("WWW-Authenticate"), body)
	}
	// A name not configured gets no certificate, and makes no order.
	if _, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: roots, ServerName: "other.test"}); err == nil {
		t.Error("a handshake for a name not in --acme-domains succeeded")
	}
	// Renewal, before the first certificate expires.
	waitFor(t, 45*time.Second, "the certificate is renewed", func() bool {
		s, _, err := serial()
		return err == nil && s != first
	})
	if _, err := os.Stat(filepath.Join(data, "acme", "wharf.test")); err != nil {
		t.Errorf("the certificate is not in the ACME cache: %v", err)
	}
	p.stop(t, 30*time.Second)

	// With the cache in the database, a restart (or another replica of
	// the same database) serves the certificate got before, ordering none.
	data = t.TempDir()
	p = startACMEWharf(t, bin, data, wharfPort, caFile, "--acme-directory", directory, "--acme-cache", "database")
	fromOrder, _, err := serial()
	if err != nil {
		t.Fatalf("handshake with the database cache: %v", err)
	}
	p.stop(t, 30*time.Second)
	p = startACMEWharf(t, bin, data, wharfPort, caFile, "--acme-directory", directory, "--acme-cache", "database")
	if again, _, err := serial(); err != nil || again != fromOrder {
		t.Errorf("after a restart: serial %s (%v), want %s from the database", again, err, fromOrder)
	}
	if _, err := os.Stat(filepath.Join(data, "acme")); !os.IsNotExist(err) {
		t.Errorf("the database cache wrote to the data dir: %v", err)
	}
	p.stop(t, 30*time.Second)
}

// startACMEWharf runs wharf for wharf.test by ACME on port, trusting the
// ACME directory's CA through the system's trust file (as a private ACME
// server's would be).
func startACMEWharf(t *testing.T, bin, data string, port int, caFile string, extra ...string) *loggedProc {
	t.Helper()
	return serveLoggedEnv(t, bin, data, []string{"SSL_CERT_FILE=" + caFile}, append([]string{"--addr", "127.0.0.1:" + strconv.Itoa(port),
		"--acme-domains", "wharf.test", "--acme-email", "ops@wharf.test"}, extra...)...)
}
