package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDockerTeam checks teams against the real docker CLI: in an
// organization whose members reach its private repositories only through
// teams, a member pushes where a team of hers writes, pulls where one
// reads, and is refused the rest.
func TestDockerTeam(t *testing.T) {
	if os.Getenv("WHARF_DOCKER_E2E") == "" {
		t.Skip("set WHARF_DOCKER_E2E=1 with a running Docker engine (make test does)")
	}
	d := &dockerEnv{t: t, bin: buildWharf(t), dir: t.TempDir(), home: t.TempDir()}
	d.createUser("olivia")
	d.createUser("tina")
	d.proc = startWharf(t, d.bin, d.dir)
	d.mustAPI("POST", "/api/v1/orgs", "olivia", map[string]string{"name": "beta"}, 201)
	d.mustAPI("PUT", "/api/v1/orgs/beta/members/tina", "olivia", map[string]string{"role": "member"}, 200)
	d.mustAPI("PATCH", "/api/v1/orgs/beta", "olivia", map[string]string{"member_permission": "none"}, 200)
	for _, name := range []string{"app", "base", "other"} {
		d.mustAPI("POST", "/api/v1/repositories", "olivia", map[string]string{"namespace": "beta", "name": name, "visibility": "private"}, 201)
	}
	d.mustAPI("POST", "/api/v1/orgs/beta/teams", "olivia", map[string]any{"name": "devs", "permission": "write",
		"members": []string{"tina"}, "repositories": []string{"app"}}, 201)
	d.mustAPI("POST", "/api/v1/orgs/beta/teams", "olivia", map[string]any{"name": "readers", "permission": "read",
		"members": []string{"tina"}, "repositories": []string{"base"}}, 201)

	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "f.txt"), []byte("team\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d.img = filepath.Join(t.TempDir(), "rootfs.tar")
	if out, err := exec.Command("tar", "-C", src, "-cf", d.img, "f.txt").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v %s", err, out)
	}
	refs := map[string]string{}
	for _, name := range []string{"app", "base", "other"} {
		refs[name] = d.ref("beta/" + name + ":v1")
		d.importImage(refs[name])
		t.Cleanup(func() { _ = exec.Command("docker", "rmi", "-f", refs[name]).Run() })
	}
	for _, u := range []string{"olivia", "tina"} {
		if out, ok := d.login(u, u+"-password"); !ok {
			t.Fatalf("login %s: %s", u, out)
		}
	}
	d.must("olivia", "push", refs["base"])
	d.must("olivia", "push", refs["other"])
	d.must("tina", "push", refs["app"])
	if out, ok := d.pullFresh("tina", refs["base"]); !ok {
		t.Errorf("tina pulls beta/base, which a team of hers reads: %s", out)
	}
	if out := d.mustFail("tina", "push", refs["base"]); !strings.Contains(out, "denied") {
		t.Errorf("tina's push to beta/base: want it denied:\n%s", out)
	}
	if out, ok := d.pullFresh("tina", refs["other"]); ok || !strings.Contains(out, "not found") && !strings.Contains(out, "unknown") {
		t.Errorf("tina's pull of beta/other, which no team of hers holds: ok=%v\n%s", ok, out)
	}
}
