package main

import (
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wharfhub/wharf/server/testutil"
)

// hostAddress is this machine's first non-loopback IPv4 address: docker
// treats every loopback registry as insecure, so only another address
// shows that it trusts the registry's CA and nothing else.
func hostAddress(t *testing.T) string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			return n.IP.String()
		}
	}
	t.Fatal("no non-loopback IPv4 address: docker trusts every loopback registry, so the TLS test needs another")
	return ""
}

// TestDockerTLS: docker logs in, pushes and pulls over HTTPS with a
// private CA it trusts through /etc/docker/certs.d/HOST:PORT/ca.crt, with
// no insecure-registries; before the CA is there, it refuses the registry.
func TestDockerTLS(t *testing.T) {
	if os.Getenv("WHARF_DOCKER_E2E") == "" {
		t.Skip("set WHARF_DOCKER_E2E=1 with a running Docker engine (make test does)")
	}
	ip := hostAddress(t)
	ca := testutil.NewCA(t)
	certFile, keyFile := ca.Issue(t, ip).Write(t, t.TempDir())
	d := &dockerEnv{t: t, bin: buildWharf(t), dir: t.TempDir(), home: t.TempDir()}
	d.createUser("alice")
	d.proc = startWharf(t, d.bin, d.dir, "--addr", ip+":0", "--tls-cert", certFile, "--tls-key", keyFile)
	if !strings.HasPrefix(d.proc.addr, ip+":") {
		t.Fatalf("wharf listens on %s, want %s", d.proc.addr, ip)
	}
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "hello.txt"), []byte("hello over tls\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d.img = filepath.Join(t.TempDir(), "rootfs.tar")
	if out, err := exec.Command("tar", "-C", src, "-cf", d.img, "hello.txt").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v %s", err, out)
	}
	ref := d.ref("alice/secure:v1")
	t.Cleanup(func() { _ = exec.Command("docker", "rmi", "-f", ref).Run() })

	out, ok := d.login("alice", "alice-password")
	if ok || !strings.Contains(out, "certificate") {
		t.Fatalf("login before docker trusts the CA: ok=%v, want a certificate error:\n%s", ok, out)
	}
	certsDir := filepath.Join("/etc/docker/certs.d", d.proc.addr)
	if err := os.MkdirAll(certsDir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(certsDir) })
	if err := os.WriteFile(filepath.Join(certsDir, "ca.crt"), ca.PEM, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, ok := d.login("alice", "alice-password"); !ok {
		t.Fatalf("login with the CA in certs.d: %s", out)
	}
	d.importImage(ref)
	d.must("alice", "push", ref)
	if out, ok := d.pullFresh("alice", ref); !ok {
		t.Fatalf("pull over TLS: %s", out)
	}
	if out, err := exec.Command("docker", "info", "--format", "{{json .RegistryConfig.IndexConfigs}}").Output(); err == nil && strings.Contains(string(out), ip) {
		t.Errorf("docker lists %s among its registries' configs (insecure?): %s", ip, out)
	}

	// Client certificates: with --tls-client-ca, docker's certs.d
	// client.cert names the account, so a push needs no password, and
	// docker login takes any password beside the certificate's name.
	d.proc.kill()
	clientCA := testutil.NewCA(t)
	clientCAFile := filepath.Join(t.TempDir(), "clients.pem")
	if err := os.WriteFile(clientCAFile, clientCA.PEM, 0o600); err != nil {
		t.Fatal(err)
	}
	d.proc = startWharf(t, d.bin, d.dir, "--addr", ip+":0", "--tls-cert", certFile, "--tls-key", keyFile,
		"--tls-client-ca", clientCAFile, "--tls-client-auth", "require")
	certsDir = filepath.Join("/etc/docker/certs.d", d.proc.addr)
	if err := os.MkdirAll(certsDir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(certsDir) })
	alice := clientCA.IssueClient(t, "alice")
	for name, b := range map[string][]byte{"ca.crt": ca.PEM, "client.cert": alice.CertPEM, "client.key": alice.KeyPEM} {
		if err := os.WriteFile(filepath.Join(certsDir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	byCert := d.ref("alice/by-cert:v1")
	t.Cleanup(func() { _ = exec.Command("docker", "rmi", "-f", byCert).Run() })
	d.importImage(byCert)
	d.home = t.TempDir() // no stored credentials
	d.must("", "push", byCert)
	if out, ok := d.pullFresh("", byCert); !ok {
		t.Fatalf("pull with the client certificate: %s", out)
	}
	if out, ok := d.login("alice", "any-password"); !ok {
		t.Fatalf("docker login beside alice's client certificate: %s", out)
	}
	if code, body := d.apiTLS(ca, alice, "/api/v1/repositories/alice/by-cert"); code != 200 || !strings.Contains(body, `"visibility"`) {
		t.Fatalf("the pushed repository: %d %s", code, body)
	}
}

// apiTLS GETs an API path over TLS, trusting ca and presenting cert.
func (d *dockerEnv) apiTLS(ca *testutil.CA, cert testutil.Leaf, path string) (int, string) {
	d.t.Helper()
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool(), Certificates: []tls.Certificate{cert.TLS(d.t)}}}}
	res, err := c.Get("https://" + d.proc.addr + path)
	if err != nil {
		d.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}
