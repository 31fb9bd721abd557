package main

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// scanTools are the real trivy (WHARF_TRIVY) and the tool that writes tiny
// offline vulnerability databases (WHARF_TRIVYDB); scripts/trivy.sh
// builds both at pinned versions.
func scanTools(t *testing.T) (trivy, trivydb string) {
	t.Helper()
	trivy, trivydb = os.Getenv("WHARF_TRIVY"), os.Getenv("WHARF_TRIVYDB")
	if trivy == "" || trivydb == "" {
		t.Skip("set WHARF_TRIVY and WHARF_TRIVYDB (make test does, with scripts/trivy.sh)")
	}
	return trivy, trivydb
}

// alpineRootfs is the layer of a synthetic Alpine 3.20.3 image: its
// release file, and an apk database listing musl at version musl and
// busybox.
func alpineRootfs(t *testing.T, musl string) []byte {
	t.Helper()
	installed := ""
	for _, p := range [][2]string{{"musl", musl}, {"busybox", "1.36.1-r29"}} {
		installed += fmt.Sprintf("C:Q1%s=\nP:%s\nV:%s\nA:x86_64\nS:1000\nI:2000\nT:%s\nU:https://example.invalid/\nL:MIT\no:%s\nm:Test <t@example.invalid>\nt:1700000000\n\n",
			strings.Repeat("A", 27), p[0], p[1], p[0], p[0])
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range []struct{ name, body string }{
		{"etc/alpine-release", "3.20.3\n"},
		{"lib/apk/db/installed", installed},
	} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.body)), ModTime: time.Unix(1700000000, 0)}); err != nil {
			t.Fatal(err)
		}
		_, _ = tw.Write([]byte(f.body))
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

// pushRootfs pushes an image of one uncompressed layer to repo:tag as
// alice and returns its digest.
func pushRootfs(t *testing.T, d *dockerEnv, repo, tag string, layer []byte) string {
	t.Helper()
	put := func(method, path, contentType string, body []byte) {
		req, _ := http.NewRequest(method, "http://"+d.proc.addr+path, bytes.NewReader(body))
		req.SetBasicAuth("alice", "alice-password")
		req.Header.Set("Content-Type", contentType)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusCreated {
			t.Fatalf("%s %s: %d", method, path, res.StatusCode)
		}
	}
	cfg, _ := json.Marshal(map[string]any{"architecture": "amd64", "os": "linux",
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{sha(layer)}}})
	for _, b := range [][]byte{cfg, layer} {
		put("POST", "/v2/"+repo+"/blobs/uploads/?digest="+sha(b), "application/octet-stream", b)
	}
	m, _ := json.Marshal(map[string]any{
		"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
		"config": map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha(cfg), "size": len(cfg)},
		"layers": []any{map[string]any{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": sha(layer), "size": len(layer)}},
	})
	put("PUT", "/v2/"+repo+"/manifests/"+tag, "application/vnd.oci.image.manifest.v1+json", m)
	return sha(m)
}

// bundle writes a Trivy database bundle holding advisories
// (ID:PACKAGE:FIXED:SEVERITY, for Alpine 3.20) and returns its path.
func bundle(t *testing.T, trivydb string, advisories ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "db.tar.gz")
	args := []string{"-out", out}
	for _, a := range advisories {
		args = append(args, "-advisory", a)
	}
	if b, err := exec.Command(trivydb, args...).CombinedOutput(); err != nil {
		t.Fatalf("trivydb: %v %s", err, b)
	}
	return out
}

type scanJSON struct {
	Status string
	Reason string
	Counts struct{ Critical, High, Medium, Low, Unknown int }
	SBOM   string
	// Findings as the API lists them.
	Findings []struct {
		ID, Package, Installed, Fixed, Severity, URL string
	}
}

// waitScan polls the API until the scan of digest satisfies ok.
func waitScan(t *testing.T, d *dockerEnv, repo, digest string, timeout time.Duration, ok func(scanJSON) bool) scanJSON {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var s scanJSON
		if err := json.Unmarshal(d.mustAPI("GET", "/api/v1/repositories/"+repo+"/manifests/"+digest+"/scan", "alice", nil, 200), &s); err != nil {
			t.Fatal(err)
		}
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s@%s: scan %+v", repo, digest, s)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func findingIDs(s scanJSON) string {
	var ids []string
	for _, f := range s.Findings {
		ids = append(ids, f.ID)
	}
	return strings.Join(ids, ",")
}

// TestScan scans an image pushed to Wharf with the real trivy, offline:
// before any database the scan waits; a database imported with the CLI
// finds its advisory; a policy refuses the image for it; a newer database
// uploaded through the API rescans and finds both advisories. The SBOM
// is attached as a referrer.
func TestScan(t *testing.T) {
	trivy, trivydb := scanTools(t)
	d := &dockerEnv{t: t, bin: buildWharf(t), dir: t.TempDir()}
	d.createUser("alice")
	d.createUser("root", "--admin")
	d.proc = startWharf(t, d.bin, d.dir, "--scanner-trivy", trivy)
	const repo = "alice/app"
	dg := pushRootfs(t, d, repo, "v1", alpineRootfs(t, "1.2.5-r0"))

	waitScan(t, d, repo, dg, 30*time.Second, func(s scanJSON) bool {
		return s.Status == "pending" && strings.Contains(s.Reason, "No vulnerability database")
	})

	out, err := exec.Command(d.bin, "scanner", "db", "import", bundle(t, trivydb, "CVE-2099-0001:musl:1.2.5-r1:HIGH"), "--data-dir", d.dir).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "imported vulnerability database sha256:") {
		t.Fatalf("scanner db import: %v %s", err, out)
	}
	s := waitScan(t, d, repo, dg, 2*time.Minute, func(s scanJSON) bool { return s.Status == "done" })
	if len(s.Findings) != 1 || s.Counts.High != 1 || s.Counts.Critical != 0 {
		t.Fatalf("after the first database: %+v", s)
	}
	f := s.Findings[0]
	if f.ID != "CVE-2099-0001" || f.Package != "musl" || f.Installed != "1.2.5-r0" || f.Fixed != "1.2.5-r1" ||
		f.Severity != "high" || !strings.HasPrefix(f.URL, "https://") {
		t.Errorf("finding %+v", f)
	}

	// The SBOM is a referrer of the image.
	req, _ := http.NewRequest("GET", "http://"+d.proc.addr+"/v2/"+repo+"/referrers/"+dg, nil)
	req.SetBasicAuth("alice", "alice-password")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var idx struct {
		Manifests []struct{ ArtifactType, Digest string }
	}
	_ = json.NewDecoder(res.Body).Decode(&idx)
	res.Body.Close()
	if len(idx.Manifests) != 1 || idx.Manifests[0].ArtifactType != "application/vnd.cyclonedx+json" || idx.Manifests[0].Digest != s.SBOM {
		t.Errorf("referrers of the image: %+v, want the SBOM %s", idx.Manifests, s.SBOM)
	}

	// The tags list shows the counts.
	var tags []struct {
		Name string
		Scan struct {
			Status string
			Counts struct{ High int }
		}
	}
	_ = json.Unmarshal(d.mustAPI("GET", "/api/v1/repositories/"+repo+"/tags", "alice", nil, 200), &tags)
	if len(tags) != 1 || tags[0].Scan.Status != "done" || tags[0].Scan.Counts.High != 1 {
		t.Errorf("tags: %+v", tags)
	}

	// A policy that refuses high findings refuses the pull, and says why.
	d.mustAPI("PUT", "/api/v1/repositories/"+repo+"/policy", "alice", map[string]any{"block_severity": "high"}, 200)
	req, _ = http.NewRequest("GET", "http://"+d.proc.addr+"/v2/"+repo+"/manifests/v1", nil)
	req.SetBasicAuth("alice", "alice-password")
	req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json")
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "DENIED") || !strings.Contains(string(body), "CVE-2099-0001") {
		t.Errorf("pull under the policy: %d %s", res.StatusCode, body)
	}

	// A newer database, uploaded by a site admin, rescans: both found.
	b, err := os.ReadFile(bundle(t, trivydb, "CVE-2099-0001:musl:1.2.5-r1:HIGH", "CVE-2099-0002:busybox:1.36.1-r30:CRITICAL"))
	if err != nil {
		t.Fatal(err)
	}
	req, _ = http.NewRequest("PUT", "http://"+d.proc.addr+"/api/v1/scanner/database", bytes.NewReader(b))
	req.SetBasicAuth("root", "root-password")
	req.Header.Set("Content-Type", "application/gzip")
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusCreated || !strings.Contains(string(body), `"age_seconds"`) {
		t.Fatalf("upload the database: %d %s", res.StatusCode, body)
	}
	s = waitScan(t, d, repo, dg, 2*time.Minute, func(s scanJSON) bool { return len(s.Findings) == 2 })
	if s.Counts.Critical != 1 || s.Counts.High != 1 || findingIDs(s) != "CVE-2099-0002,CVE-2099-0001" {
		t.Errorf("after the second database: %+v", s)
	}
	// Sorted by package instead.
	_ = json.Unmarshal(d.mustAPI("GET", "/api/v1/repositories/"+repo+"/manifests/"+dg+"/scan?sort=package", "alice", nil, 200), &s)
	if findingIDs(s) != "CVE-2099-0002,CVE-2099-0001" || s.Findings[0].Package != "busybox" {
		t.Errorf("sorted by package: %+v", s.Findings)
	}
	if code, b := d.api("PUT", "/api/v1/scanner/database", "alice", nil); code != http.StatusForbidden {
		t.Errorf("a database upload by a user who is no site admin: %d %s", code, b)
	}
}

// TestScanSurvivesKill kills Wharf while trivy scans; after a restart
// the scan runs again and completes once: one scan_completed delivery.
func TestScanSurvivesKill(t *testing.T) {
	trivy, trivydb := scanTools(t)
	d := &dockerEnv{t: t, bin: buildWharf(t), dir: t.TempDir()}
	d.createUser("alice")
	if out, err := exec.Command(d.bin, "scanner", "db", "import", bundle(t, trivydb, "CVE-2099-0001:musl:1.2.5-r1:HIGH"),
		"--data-dir", d.dir).CombinedOutput(); err != nil {
		t.Fatalf("scanner db import: %v %s", err, out)
	}
	// trivy behind a gate: a scan says it started, then waits for the
	// gate to open.
	tmp := t.TempDir()
	started, open := filepath.Join(tmp, "started"), filepath.Join(tmp, "open")
	wrapper := filepath.Join(tmp, "trivy")
	script := fmt.Sprintf("#!/bin/sh\nif [ \"$1\" = image ]; then : > %q; while [ ! -e %q ]; do sleep 0.05; done; fi\nexec %q \"$@\"\n", started, open, trivy)
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	var deliveries []string
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	recv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		deliveries = append(deliveries, string(b))
		mu.Unlock()
	})}
	go func() { _ = recv.Serve(ln) }()
	t.Cleanup(func() { recv.Close() })

	flags := []string{"--scanner-trivy", wrapper, "--webhook-allowed-hosts", "loopback"}
	d.proc = startWharf(t, d.bin, d.dir, flags...)
	d.mustAPI("POST", "/api/v1/repositories", "alice", map[string]string{"namespace": "alice", "name": "app"}, 201)
	d.mustAPI("POST", "/api/v1/repositories/alice/app/webhooks", "alice",
		map[string]any{"name": "scans", "url": "http://" + ln.Addr().String() + "/", "events": []string{"scan_completed"}}, 201)
	dg := pushRootfs(t, d, "alice/app", "v1", alpineRootfs(t, "1.2.5-r0"))
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(started); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the scan did not start")
		}
	}
	d.proc.kill()
	if err := os.WriteFile(open, nil, 0o644); err != nil {
		t.Fatal(err)
	}

	d.proc = startWharf(t, d.bin, d.dir, flags...)
	// The lease of the killed run (30s) ends, and the scan runs again.
	s := waitScan(t, d, "alice/app", dg, 2*time.Minute, func(s scanJSON) bool { return s.Status == "done" })
	if findingIDs(s) != "CVE-2099-0001" {
		t.Errorf("scan after the restart: %+v", s)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		mu.Lock()
		n := len(deliveries)
		mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no scan_completed delivery")
		}
	}
	mu.Lock()
	var got struct {
		Action string
		Scan   struct {
			Status string
			Counts map[string]int
		}
	}
	_ = json.Unmarshal([]byte(deliveries[0]), &got)
	mu.Unlock()
	if got.Action != "done" || got.Scan.Status != "done" || got.Scan.Counts["high"] != 1 {
		t.Errorf("the scan_completed payload: %+v", got)
	}
	var hooks []struct{ ID int64 }
	_ = json.Unmarshal(d.mustAPI("GET", "/api/v1/repositories/alice/app/webhooks", "alice", nil, 200), &hooks)
	var ds []struct{ Event, Action string }
	_ = json.Unmarshal(d.mustAPI("GET", fmt.Sprintf("/api/v1/repositories/alice/app/webhooks/%d/deliveries", hooks[0].ID), "alice", nil, 200), &ds)
	if len(ds) != 1 || ds[0].Event != "scan_completed" || ds[0].Action != "done" {
		t.Errorf("deliveries: %+v, want one scan_completed (done)", ds)
	}
}
