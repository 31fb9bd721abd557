package main

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wharfhub/wharf/server/mirror/mirrortest"
)

// TestDockerMirror: a second dockerd, started with --registry-mirror
// pointing at wharf, pulls alpine:3.20 with no Internet: wharf's root
// mirror answers Docker Hub's paths from its upstream (a local
// Distribution holding the image).
func TestDockerMirror(t *testing.T) {
	if os.Getenv("WHARF_DOCKER_E2E") == "" {
		t.Skip("set WHARF_DOCKER_E2E=1 with a running Docker engine (make test does)")
	}
	dist := mirrortest.StartDistribution(t, mirrortest.DistributionBinary(t), "", "")
	distHost := strings.TrimPrefix(dist, "http://")

	// A real image (docker import of a one-file root filesystem), pushed
	// to Distribution as library/alpine:3.20 by the first engine.
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "hello.txt"), []byte("hello from the mirror\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tarball := filepath.Join(t.TempDir(), "rootfs.tar")
	if out, err := exec.Command("tar", "-C", src, "-cf", tarball, "hello.txt").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v %s", err, out)
	}
	ref := distHost + "/library/alpine:3.20"
	imp := exec.Command("docker", "import", tarball, ref)
	if out, err := imp.CombinedOutput(); err != nil {
		t.Fatalf("docker import: %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("docker", "rmi", "-f", ref).Run() })
	if out, err := exec.Command("docker", "push", ref).CombinedOutput(); err != nil {
		t.Fatalf("docker push to Distribution: %v %s", err, out)
	}

	bin := buildWharf(t)
	w := startWharf(t, bin, t.TempDir(), "--mirror", "hub="+dist, "--registry-mirror", "hub")

	// The second engine: its own root, exec root, pid file and socket,
	// and wharf as its Docker Hub mirror.
	root := t.TempDir()
	sock := filepath.Join(root, "docker.sock")
	exe := filepath.Join("/tmp", fmt.Sprintf("wharf-dm-%d", os.Getpid())) // short: unix socket paths are bounded
	_ = os.RemoveAll(exe)
	logf, err := os.Create(filepath.Join(root, "dockerd.log"))
	if err != nil {
		t.Fatal(err)
	}
	d := exec.Command("dockerd", "--data-root", filepath.Join(root, "data"), "--exec-root", exe,
		"--pidfile", filepath.Join(root, "docker.pid"), "-H", "unix://"+sock,
		"--storage-driver=vfs", "--iptables=false", "--bridge=none", "--registry-mirror", "http://"+w.addr)
	d.Stdout, d.Stderr = logf, logf
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = d.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = d.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = d.Process.Kill()
			<-done
		}
		_ = os.RemoveAll(exe)
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("second dockerd:\n%s", b)
		}
	})
	second := func(args ...string) (string, error) {
		c := exec.Command("docker", args...)
		c.Env = append(os.Environ(), "DOCKER_HOST=unix://"+sock, "DOCKER_CONFIG="+t.TempDir())
		out, err := c.CombinedOutput()
		return string(out), err
	}
	waitFor(t, 60*time.Second, "the second dockerd answers", func() bool {
		_, err := second("info")
		return err == nil
	})
	out, err := second("pull", "alpine:3.20")
	if err != nil {
		t.Fatalf("docker pull alpine:3.20 through the mirror: %v\n%s", err, out)
	}
	if out, err := second("image", "inspect", "alpine:3.20", "--format", "{{.Id}}"); err != nil || !strings.HasPrefix(out, "sha256:") {
		t.Fatalf("the pulled image: %v %s", err, out)
	}
	// The image came through wharf's cache: it is there now.
	if status, body := basicCall(t, http.MethodGet, "http://"+w.addr+"/api/v1/repositories/hub/library/alpine/tags", "", "", ""); status != 200 ||
		!strings.Contains(body, `"3.20"`) {
		t.Fatalf("the mirror's repository after the pull: %d %s", status, body)
	}
}
