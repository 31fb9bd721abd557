package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDockerSeverityPolicy checks the severity policy against the real
// docker CLI and the real trivy: images made with docker import and
// pushed with docker push (gzip'd layers, a Docker v2 manifest) are
// scanned; docker pull of the one with a high finding is refused with the
// reason, that of the one with the fix is not, and a site admin's pull of
// the refused one passes. It needs a running Docker engine
// (WHARF_DOCKER_E2E), trivy and tools/trivydb.
func TestDockerSeverityPolicy(t *testing.T) {
	if os.Getenv("WHARF_DOCKER_E2E") == "" {
		t.Skip("set WHARF_DOCKER_E2E=1 with a running Docker engine (make test does)")
	}
	trivy, trivydb := scanTools(t)
	d := &dockerEnv{t: t, bin: buildWharf(t), dir: t.TempDir(), home: t.TempDir()}
	d.createUser("alice")
	d.createUser("root", "--admin")
	d.proc = startWharf(t, d.bin, d.dir, "--scanner-trivy", trivy)
	out, err := exec.Command(d.bin, "scanner", "db", "import", bundle(t, trivydb, "CVE-2099-0001:musl:1.2.5-r1:HIGH"), "--data-dir", d.dir).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "imported vulnerability database sha256:") {
		t.Fatalf("scanner db import: %v %s", err, out)
	}
	for _, u := range []string{"alice", "root"} {
		if out, ok := d.login(u, u+"-password"); !ok {
			t.Fatalf("login %s: %s", u, out)
		}
	}

	const repo = "alice/app"
	digests := map[string]string{}
	for tag, musl := range map[string]string{"vulnerable": "1.2.5-r0", "fixed": "1.2.5-r1"} {
		d.img = filepath.Join(t.TempDir(), "rootfs.tar")
		if err := os.WriteFile(d.img, alpineRootfs(t, musl), 0o644); err != nil {
			t.Fatal(err)
		}
		ref := d.ref(repo + ":" + tag)
		d.importImage(ref)
		t.Cleanup(func() { _ = exec.Command("docker", "rmi", "-f", ref).Run() })
		d.must("alice", "push", ref)
		out := d.must("", "inspect", "--format", "{{index .RepoDigests 0}}", ref)
		_, dg, _ := strings.Cut(strings.TrimSpace(out), "@")
		digests[tag] = dg
	}

	// What docker pushed (gzip'd layers under a Docker v2 manifest, with
	// this engine) is what trivy scans.
	var m struct {
		MediaType string
		Layers    []struct{ MediaType string }
	}
	_ = json.Unmarshal(registryGet(t, d, "/v2/"+repo+"/manifests/"+digests["vulnerable"],
		"application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json"), &m)
	t.Logf("docker pushed a %s manifest, layers %+v", m.MediaType, m.Layers)
	done := func(s scanJSON) bool { return s.Status == "done" || s.Status == "failed" }
	s := waitScan(t, d, repo, digests["vulnerable"], 2*time.Minute, done)
	if s.Status != "done" || findingIDs(s) != "CVE-2099-0001" || s.Counts.High != 1 || s.Findings[0].Installed != "1.2.5-r0" {
		t.Fatalf("scan of the vulnerable image: %+v", s)
	}
	s = waitScan(t, d, repo, digests["fixed"], 2*time.Minute, done)
	if s.Status != "done" || len(s.Findings) != 0 {
		t.Fatalf("scan of the fixed image: %+v", s)
	}
	// No findings because trivy saw musl 1.2.5-r1, as its SBOM says.
	if sbom := sbomOf(t, d, repo, s.SBOM); !strings.Contains(sbom, "pkg:apk/alpine/musl@1.2.5-r1") {
		t.Errorf("the SBOM of the fixed image lists no musl 1.2.5-r1:\n%s", sbom)
	}

	d.mustAPI("PUT", "/api/v1/repositories/"+repo+"/policy", "alice", map[string]any{"block_severity": "high"}, 200)
	out2, ok := d.pullFresh("alice", d.ref(repo+":vulnerable"))
	want := repo + "@" + digests["vulnerable"] + " has 1 vulnerability of high severity or above (CVE-2099-0001)"
	if ok || !strings.Contains(out2, want) {
		t.Errorf("docker pull of the vulnerable image: ok=%v, want a refusal saying %q:\n%s", ok, want, out2)
	} else {
		t.Logf("docker pull refused: %s", lastLine(out2))
	}
	if out, ok := d.pullFresh("alice", d.ref(repo+":fixed")); !ok {
		t.Errorf("docker pull of the fixed image: %s", out)
	}
	// A site admin pulls what the policy refuses (the gate logs it).
	if out, ok := d.pullFresh("root", d.ref(repo+":vulnerable")); !ok {
		t.Errorf("docker pull of the vulnerable image by a site admin: %s", out)
	}
}

// registryGet GETs path of the registry API as alice.
func registryGet(t *testing.T, d *dockerEnv, path, accept string) []byte {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+d.proc.addr+path, nil)
	req.SetBasicAuth("alice", "alice-password")
	req.Header.Set("Accept", accept)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, res.StatusCode, b)
	}
	return b
}

// sbomOf is the document of the SBOM artifact digest in repo.
func sbomOf(t *testing.T, d *dockerEnv, repo, digest string) string {
	t.Helper()
	var m struct{ Layers []struct{ Digest string } }
	if err := json.Unmarshal(registryGet(t, d, "/v2/"+repo+"/manifests/"+digest, "application/vnd.oci.image.manifest.v1+json"), &m); err != nil || len(m.Layers) != 1 {
		t.Fatalf("the SBOM manifest %s: %v %+v", digest, err, m)
	}
	return string(registryGet(t, d, "/v2/"+repo+"/blobs/"+m.Layers[0].Digest, "*/*"))
}
