package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wharfhub/wharf/server/testutil"
)

// cosignEnv drives the real cosign CLI (WHARF_COSIGN, which
// scripts/cosign.sh builds at a pinned version) against a Wharf process.
type cosignEnv struct {
	t      *testing.T
	cosign string
	addr   string
	home   string // DOCKER_CONFIG with alice's credentials, and the keys
}

func newCosignEnv(t *testing.T, addr, user, password string) *cosignEnv {
	t.Helper()
	bin := os.Getenv("WHARF_COSIGN")
	if bin == "" {
		t.Skip("set WHARF_COSIGN to a cosign binary (make test does, with scripts/cosign.sh)")
	}
	home := t.TempDir()
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
	cfg := fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, addr, auth)
	if err := os.WriteFile(filepath.Join(home, "config.json"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return &cosignEnv{t: t, cosign: bin, addr: addr, home: home}
}

// run runs cosign and returns its output and whether it succeeded.
func (c *cosignEnv) run(env []string, args ...string) (string, bool) {
	c.t.Helper()
	cmd := exec.Command(c.cosign, args...)
	cmd.Dir = c.home
	cmd.Env = append(os.Environ(), append([]string{"DOCKER_CONFIG=" + c.home, "HOME=" + c.home,
		"COSIGN_PASSWORD=test", "TUF_ROOT=" + filepath.Join(c.home, "tuf")}, env...)...)
	out, err := cmd.CombinedOutput()
	return string(out), err == nil
}

func (c *cosignEnv) must(env []string, args ...string) string {
	c.t.Helper()
	out, ok := c.run(env, args...)
	if !ok {
		c.t.Fatalf("cosign %s: %s", strings.Join(args, " "), out)
	}
	return out
}

// keyPair makes a cosign key pair named prefix and returns its public key.
func (c *cosignEnv) keyPair(prefix string) string {
	c.t.Helper()
	c.must(nil, "generate-key-pair", "--output-key-prefix", prefix)
	b, err := os.ReadFile(filepath.Join(c.home, prefix+".pub"))
	if err != nil {
		c.t.Fatal(err)
	}
	return string(b)
}

// sign signs ref with key prefix, in the tag-schema mode or (referrers)
// as an OCI 1.1 referrer.
func (c *cosignEnv) sign(prefix, ref string, referrers bool) {
	c.t.Helper()
	args := []string{"sign", "--key", prefix + ".key", "--tlog-upload=false", "--yes", "--allow-http-registry"}
	var env []string
	if referrers {
		args = append(args, "--registry-referrers-mode=oci-1-1")
		env = []string{"COSIGN_EXPERIMENTAL=1"}
	}
	c.must(env, append(args, ref)...)
}

// pushImage pushes a one-layer image to repo:tag over the registry API as
// user, and returns its digest.
func pushImage(t *testing.T, addr, user, password, repo, tag, layer string) string {
	t.Helper()
	do := func(method, path, contentType string, body []byte) *http.Response {
		req, _ := http.NewRequest(method, "http://"+addr+path, bytes.NewReader(body))
		req.SetBasicAuth(user, password)
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	blob := func(b []byte) string {
		sum := sha256.Sum256(b)
		d := "sha256:" + hex.EncodeToString(sum[:])
		if res := do("POST", "/v2/"+repo+"/blobs/uploads/?digest="+d, "application/octet-stream", b); res.StatusCode != http.StatusCreated {
			t.Fatalf("push blob: %d", res.StatusCode)
		}
		return d
	}
	cfg := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`)
	m, _ := json.Marshal(map[string]any{
		"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
		"config": map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": blob(cfg), "size": len(cfg)},
		"layers": []any{map[string]any{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": blob([]byte(layer)), "size": len(layer)}},
	})
	if res := do("PUT", "/v2/"+repo+"/manifests/"+tag, "application/vnd.oci.image.manifest.v1+json", m); res.StatusCode != http.StatusCreated {
		t.Fatalf("push manifest: %d", res.StatusCode)
	}
	sum := sha256.Sum256(m)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// signatureStatus polls the API until digest's signature status is want.
func signatureStatus(t *testing.T, d *dockerEnv, repo, digest, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var m struct{ Signature struct{ Status string } }
		_ = json.Unmarshal(d.mustAPI("GET", "/api/v1/repositories/"+repo+"/manifests/"+digest, "alice", nil, 200), &m)
		if m.Signature.Status == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s@%s: signature status %q, want %q", repo, digest, m.Signature.Status, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestCosign signs images pushed to Wharf with the real cosign, in both
// of its modes, and checks that Wharf verifies what a registered key
// signed, not what another key signed, and that cosign verify succeeds
// against Wharf.
func TestCosign(t *testing.T) {
	if os.Getenv("WHARF_COSIGN") == "" {
		t.Skip("set WHARF_COSIGN to a cosign binary (make test does, with scripts/cosign.sh)")
	}
	d := &dockerEnv{t: t, bin: buildWharf(t), dir: t.TempDir()}
	d.createUser("alice")
	d.proc = startWharf(t, d.bin, d.dir)
	c := newCosignEnv(t, d.proc.addr, "alice", "alice-password")
	const repo = "alice/app"
	tagged := pushImage(t, d.proc.addr, "alice", "alice-password", repo, "tagged", "one")
	referred := pushImage(t, d.proc.addr, "alice", "alice-password", repo, "referred", "two")
	stranger := pushImage(t, d.proc.addr, "alice", "alice-password", repo, "stranger", "three")
	unsigned := pushImage(t, d.proc.addr, "alice", "alice-password", repo, "unsigned", "four")

	pub := c.keyPair("ci")
	c.keyPair("other")
	ref := func(digest string) string { return d.proc.addr + "/" + repo + "@" + digest }
	c.sign("ci", ref(tagged), false)
	c.sign("ci", ref(referred), true)
	c.sign("other", ref(stranger), false)

	d.mustAPI("POST", "/api/v1/repositories/"+repo+"/signing-keys", "alice", map[string]string{"name": "ci", "public_key": pub}, 201)
	signatureStatus(t, d, repo, tagged, "verified")
	signatureStatus(t, d, repo, referred, "verified")
	signatureStatus(t, d, repo, stranger, "unverified")
	signatureStatus(t, d, repo, unsigned, "unsigned")

	// A certificate-based signature: cosign signs with a key whose
	// code-signing certificate a company CA issued; registering the CA
	// as a root verifies it, and the certificate names the signer.
	corp := testutil.NewSigningCA(t, "Corp Root")
	signer := testutil.NewSigner(t)
	for name, body := range map[string][]byte{"corp.pem": signer.PrivateKeyPEM(t),
		"leaf.pem": []byte(corp.Issue(t, signer, "release@corp.example")), "chain.pem": []byte(corp.PEM)} {
		if err := os.WriteFile(filepath.Join(c.home, name), body, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	c.must(nil, "import-key-pair", "--key", "corp.pem", "--output-key-prefix", "corp")
	certified := pushImage(t, d.proc.addr, "alice", "alice-password", repo, "certified", "five")
	c.must(nil, "sign", "--key", "corp.key", "--certificate", "leaf.pem", "--certificate-chain", "chain.pem",
		"--tlog-upload=false", "--yes", "--allow-http-registry", ref(certified))
	signatureStatus(t, d, repo, certified, "unverified")
	d.mustAPI("POST", "/api/v1/repositories/"+repo+"/signing-keys", "alice", map[string]string{"name": "corp-root", "public_key": corp.PEM}, 201)
	signatureStatus(t, d, repo, certified, "verified")
	var m struct {
		Signature struct {
			Signatures []struct{ Key, Identity string }
		}
	}
	_ = json.Unmarshal(d.mustAPI("GET", "/api/v1/repositories/"+repo+"/manifests/"+certified, "alice", nil, 200), &m)
	if len(m.Signature.Signatures) != 1 || m.Signature.Signatures[0].Key != "corp-root" || m.Signature.Signatures[0].Identity != "release@corp.example" {
		t.Errorf("the certificate-based signature: %+v", m.Signature)
	}

	verify := []string{"verify", "--key", "ci.pub", "--insecure-ignore-tlog", "--allow-http-registry"}
	c.must(nil, append(verify, ref(tagged))...)
	c.must(nil, append(verify, "--experimental-oci11", ref(referred))...)
	if out, ok := c.run(nil, append(verify, ref(stranger))...); ok {
		t.Errorf("cosign verify of another key's signature succeeded:\n%s", out)
	}
}

// TestDockerPolicy checks a policy that requires a signature against the
// real docker CLI: docker pull of an unsigned image is refused with the
// reason, that of an image cosign signed with a registered key is not.
// It needs a running Docker engine (WHARF_DOCKER_E2E) and cosign.
func TestDockerPolicy(t *testing.T) {
	if os.Getenv("WHARF_DOCKER_E2E") == "" {
		t.Skip("set WHARF_DOCKER_E2E=1 with a running Docker engine (make test does)")
	}
	if os.Getenv("WHARF_COSIGN") == "" {
		t.Skip("set WHARF_COSIGN to a cosign binary (make test does, with scripts/cosign.sh)")
	}
	d := &dockerEnv{t: t, bin: buildWharf(t), dir: t.TempDir(), home: t.TempDir()}
	d.createUser("alice")
	d.proc = startWharf(t, d.bin, d.dir)
	if out, ok := d.login("alice", "alice-password"); !ok {
		t.Fatalf("login: %s", out)
	}
	digests := map[string]string{}
	for _, tag := range []string{"signed", "unsigned"} {
		src := t.TempDir()
		if err := os.WriteFile(filepath.Join(src, tag+".txt"), []byte(tag+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		d.img = filepath.Join(t.TempDir(), "rootfs.tar")
		if out, err := exec.Command("tar", "-C", src, "-cf", d.img, tag+".txt").CombinedOutput(); err != nil {
			t.Fatalf("tar: %v %s", err, out)
		}
		ref := d.ref("alice/app:" + tag)
		d.importImage(ref)
		t.Cleanup(func() { _ = exec.Command("docker", "rmi", "-f", ref).Run() })
		d.must("alice", "push", ref)
		out := d.must("", "inspect", "--format", "{{index .RepoDigests 0}}", ref)
		_, dg, _ := strings.Cut(strings.TrimSpace(out), "@")
		digests[tag] = dg
	}
	c := newCosignEnv(t, d.proc.addr, "alice", "alice-password")
	pub := c.keyPair("ci")
	c.sign("ci", d.proc.addr+"/alice/app@"+digests["signed"], false)
	d.mustAPI("POST", "/api/v1/repositories/alice/app/signing-keys", "alice", map[string]string{"name": "ci", "public_key": pub}, 201)
	signatureStatus(t, d, "alice/app", digests["signed"], "verified")
	d.mustAPI("PUT", "/api/v1/repositories/alice/app/policy", "alice", map[string]any{"require_signature": true}, 200)

	out, ok := d.pullFresh("alice", d.ref("alice/app:unsigned"))
	want := "alice/app@" + digests["unsigned"] + " has no signature verified by a key of alice/app"
	if ok || !strings.Contains(out, want) {
		t.Errorf("docker pull of the unsigned image: ok=%v, want a refusal saying %q:\n%s", ok, want, out)
	}
	if out, ok := d.pullFresh("alice", d.ref("alice/app:signed")); !ok {
		t.Errorf("docker pull of the signed image: %s", out)
	}
}
