package certs

import (
	"crypto/tls"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/wharfhub/wharf/server/testutil"
)

func served(t *testing.T, f *Files) string {
	t.Helper()
	c, err := f.GetCertificate(&tls.ClientHelloInfo{})
	if err != nil {
		t.Fatal(err)
	}
	return c.Leaf.SerialNumber.String()
}

// TestFilesReload: a certificate renamed over the old one is served from
// the first handshake after the next check; a pair that does not load
// keeps the one that works; Reload reads at once.
func TestFilesReload(t *testing.T) {
	ca := testutil.NewCA(t)
	dir := t.TempDir()
	a := ca.Issue(t, "wharf.test")
	certFile, keyFile := a.Write(t, dir)
	f, err := LoadFiles(certFile, keyFile, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Now()
	f.now = func() time.Time { return clock }
	if got := served(t, f); got != a.Serial.String() {
		t.Fatalf("serving %s, want %s", got, a.Serial)
	}

	b := ca.Issue(t, "wharf.test")
	b.Write(t, dir)
	if got := served(t, f); got != a.Serial.String() {
		t.Fatalf("files looked at again within %s: serving %s", checkEvery, got)
	}
	clock = clock.Add(checkEvery)
	if got := served(t, f); got != b.Serial.String() {
		t.Fatalf("after the check: serving %s, want the new %s", got, b.Serial)
	}

	// A half-written renewal: a key that is not the certificate's.
	c := ca.Issue(t, "wharf.test")
	if err := os.WriteFile(certFile, c.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(checkEvery)
	if got := served(t, f); got != b.Serial.String() {
		t.Fatalf("a bad pair replaced the certificate: serving %s", got)
	}
	if err := f.Reload(); err == nil {
		t.Fatal("Reload of a mismatched pair: no error")
	}
	// The key arrives: Reload reads the pair at once, before any check.
	if err := os.WriteFile(keyFile, c.KeyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := f.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := served(t, f); got != c.Serial.String() {
		t.Fatalf("after Reload: serving %s, want %s", got, c.Serial)
	}
}

func TestLoadFilesRefusesBadPair(t *testing.T) {
	ca := testutil.NewCA(t)
	dir := t.TempDir()
	certFile, keyFile := ca.Issue(t, "a.test").Write(t, dir)
	other := ca.Issue(t, "b.test")
	if err := os.WriteFile(keyFile, other.KeyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadFiles(certFile, keyFile, slog.Default()); err == nil {
		t.Fatal("a certificate with another's key loaded")
	}
	if _, err := LoadFiles(dir+"/missing.pem", keyFile, slog.Default()); err == nil {
		t.Fatal("a missing certificate loaded")
	}
}
