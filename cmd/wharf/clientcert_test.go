package main

import (
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wharfhub/wharf/server/testutil"
)

// TestClientCertificates: with --tls-client-ca, a client certificate its
// CA signed authenticates the account its common name names, on the API
// and at the token realm (docker pushes without a password), and stands
// in for the password beside the account's name; a certificate of
// another CA is refused at the handshake, and --tls-client-auth require
// refuses handshakes without one.
func TestClientCertificates(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildWharf(t)
	dir := t.TempDir()
	createAlice(t, dir)
	cmd := exec.Command(bin, "user", "create", "bob", "--email", "b@example.com", "--password-stdin", "--data-dir", dir)
	cmd.Stdin = strings.NewReader("bob-password-1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("user create bob: %v %s", err, out)
	}
	serverCA, clientCA, otherCA := testutil.NewCA(t), testutil.NewCA(t), testutil.NewCA(t)
	work := t.TempDir()
	certFile, keyFile := serverCA.Issue(t, "127.0.0.1").Write(t, work)
	clientCAFile := filepath.Join(work, "clients.pem")
	if err := os.WriteFile(clientCAFile, clientCA.PEM, 0o600); err != nil {
		t.Fatal(err)
	}
	alice := clientCA.IssueClient(t, "alice").TLS(t)
	nobody := clientCA.IssueClient(t, "nobody").TLS(t)
	forged := otherCA.IssueClient(t, "alice").TLS(t)

	p := serveLogged(t, bin, dir, "--tls-cert", certFile, "--tls-key", keyFile, "--tls-client-ca", clientCAFile)
	base := "https://" + p.addr
	client := func(cert *tls.Certificate) *http.Client {
		cfg := &tls.Config{RootCAs: serverCA.Pool()}
		if cert != nil {
			cfg.Certificates = []tls.Certificate{*cert}
		}
		return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}}
	}
	call := func(c *http.Client, path, user, pass string) (int, string, error) {
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		res, err := c.Do(req)
		if err != nil {
			return 0, "", err
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b), nil
	}
	for _, c := range []struct {
		name       string
		cert       *tls.Certificate
		user, pass string
		status     int
		body       string
	}{
		{"alice's certificate alone", &alice, "", "", 200, `"username":"alice"`},
		{"no certificate", nil, "", "", 401, ""},
		{"alice's certificate stands for her password", &alice, "alice", "not-her-password", 200, `"username":"alice"`},
		{"alice's certificate is not bob's password", &alice, "bob", "not-his-password", 401, ""},
		{"bob's password beside alice's certificate", &alice, "bob", "bob-password-1", 200, `"username":"bob"`},
		{"a certificate naming no account", &nobody, "", "", 401, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, body, err := call(client(c.cert), "/api/v1/user", c.user, c.pass)
			if err != nil {
				t.Fatal(err)
			}
			if status != c.status || !strings.Contains(body, c.body) {
				t.Fatalf("GET /api/v1/user: %d %s, want %d with %s", status, body, c.status, c.body)
			}
		})
	}
	t.Run("another CA's certificate is refused at the handshake", func(t *testing.T) {
		if _, _, err := call(client(&forged), "/api/v1/user", "", ""); err == nil {
			t.Fatal("a client certificate of an unknown CA was accepted")
		}
	})
	t.Run("the token realm gives the certificate's account its access", func(t *testing.T) {
		status, body, err := call(client(&alice), "/v2/token?service=127.0.0.1&scope=repository:alice/app:push,pull", "", "")
		if err != nil || status != 200 {
			t.Fatalf("token: %d %s %v", status, body, err)
		}
		var tok struct{ Token string }
		_ = json.Unmarshal([]byte(body), &tok)
		parts := strings.Split(tok.Token, ".")
		if len(parts) != 3 {
			t.Fatalf("not a JWT: %s", body)
		}
		claims, _ := base64.RawURLEncoding.DecodeString(parts[1])
		if !strings.Contains(string(claims), `"sub":"alice"`) || !strings.Contains(string(claims), `"push"`) {
			t.Fatalf("token claims %s, want alice with push", claims)
		}
	})
	p.stop(t, 30*time.Second)

	r := serveLogged(t, bin, dir, "--tls-cert", certFile, "--tls-key", keyFile, "--tls-client-ca", clientCAFile, "--tls-client-auth", "require")
	base = "https://" + r.addr
	if _, _, err := call(client(nil), "/healthz", "", ""); err == nil {
		t.Error("require: a handshake without a client certificate was accepted")
	}
	if status, _, err := call(client(&alice), "/api/v1/user", "", ""); err != nil || status != 200 {
		t.Errorf("require: with alice's certificate: %d %v", status, err)
	}
	r.stop(t, 30*time.Second)
}
