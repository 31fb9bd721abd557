package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDockerImmutableTag checks immutable tags against the real docker
// CLI: once v1 is pushed under a v* rule, docker push of other content
// as v1 is refused with the rule's name, pushing v1 again as it is
// works, and latest (no rule) still moves.
func TestDockerImmutableTag(t *testing.T) {
	if os.Getenv("WHARF_DOCKER_E2E") == "" {
		t.Skip("set WHARF_DOCKER_E2E=1 with a running Docker engine (make test does)")
	}
	d := &dockerEnv{t: t, bin: buildWharf(t), dir: t.TempDir(), home: t.TempDir()}
	d.createUser("alice")
	d.proc = startWharf(t, d.bin, d.dir)
	if out, ok := d.login("alice", "alice-password"); !ok {
		t.Fatalf("login: %s", out)
	}
	d.mustAPI("POST", "/api/v1/repositories", "alice", map[string]string{"namespace": "alice", "name": "app"}, 201)
	d.mustAPI("POST", "/api/v1/repositories/alice/app/immutable-tags", "alice", map[string]string{"pattern": "v*"}, 201)
	v1, latest := d.ref("alice/app:v1"), d.ref("alice/app:latest")
	d.build("first\n", v1, latest)
	d.must("alice", "push", v1)
	d.must("alice", "push", latest)
	d.must("alice", "push", v1) // the same again: no move
	first := strings.TrimSpace(d.must("", "inspect", "--format", "{{index .RepoDigests 0}}", v1))
	d.build("second\n", v1, latest)
	out := d.mustFail("alice", "push", v1)
	if !strings.Contains(out, `tag v1 is immutable (rule "v*" of alice/app)`) {
		t.Errorf("docker push moving v1: want the rule named:\n%s", out)
	}
	d.must("alice", "push", latest)
	if out, ok := d.pullFresh("alice", v1); !ok {
		t.Fatalf("pull v1: %s", out)
	}
	if got := strings.TrimSpace(d.must("", "inspect", "--format", "{{index .RepoDigests 0}}", v1)); got != first {
		t.Errorf("v1 holds %s, want the first push %s", got, first)
	}
}

// build makes an image of one file holding content and imports it as
// each of refs, removed when the test ends.
func (d *dockerEnv) build(content string, refs ...string) {
	d.t.Helper()
	src := d.t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "f.txt"), []byte(content), 0o644); err != nil {
		d.t.Fatal(err)
	}
	d.img = filepath.Join(d.t.TempDir(), "rootfs.tar")
	if out, err := exec.Command("tar", "-C", src, "-cf", d.img, "f.txt").CombinedOutput(); err != nil {
		d.t.Fatalf("tar: %v %s", err, out)
	}
	for _, ref := range refs {
		d.importImage(ref)
		d.t.Cleanup(func() { _ = exec.Command("docker", "rmi", "-f", ref).Run() })
	}
}
