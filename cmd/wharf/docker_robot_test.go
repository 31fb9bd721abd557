package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDockerRobot checks robot accounts against the real docker CLI: an
// organization's robot logs in with its secret, pushes to the one
// repository it may write, pulls the one it may read, and is refused a
// push anywhere else; the push names the robot as its pusher.
func TestDockerRobot(t *testing.T) {
	if os.Getenv("WHARF_DOCKER_E2E") == "" {
		t.Skip("set WHARF_DOCKER_E2E=1 with a running Docker engine (make test does)")
	}
	d := &dockerEnv{t: t, bin: buildWharf(t), dir: t.TempDir(), home: t.TempDir()}
	d.createUser("alice")
	d.proc = startWharf(t, d.bin, d.dir)
	d.mustAPI("POST", "/api/v1/orgs", "alice", map[string]string{"name": "acme"}, 201)
	for _, r := range []map[string]string{{"namespace": "acme", "name": "app"}, {"namespace": "acme", "name": "other"},
		{"namespace": "acme", "name": "base", "visibility": "private"}} {
		d.mustAPI("POST", "/api/v1/repositories", "alice", r, 201)
	}
	var robot struct{ Name, Secret string }
	_ = json.Unmarshal(d.mustAPI("POST", "/api/v1/namespaces/acme/robots", "alice", map[string]any{"name": "ci",
		"permissions": []map[string]string{{"repository": "app", "permission": "write"}, {"repository": "base", "permission": "read"}}}, 201), &robot)
	if robot.Name != "acme+ci" || robot.Secret == "" {
		t.Fatalf("robot: %+v", robot)
	}
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "f.txt"), []byte("robot\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d.img = filepath.Join(t.TempDir(), "rootfs.tar")
	if out, err := exec.Command("tar", "-C", src, "-cf", d.img, "f.txt").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v %s", err, out)
	}
	refs := map[string]string{}
	for _, repo := range []string{"app", "other", "base"} {
		refs[repo] = d.ref("acme/" + repo + ":v1")
		d.importImage(refs[repo])
		t.Cleanup(func() { _ = exec.Command("docker", "rmi", "-f", refs[repo]).Run() })
	}
	if out, ok := d.login("alice", "alice-password"); !ok {
		t.Fatalf("login alice: %s", out)
	}
	d.must("alice", "push", refs["base"])
	if out, ok := d.login("acme+ci", robot.Secret); !ok {
		t.Fatalf("docker login as the robot: %s", out)
	}
	d.must("acme+ci", "push", refs["app"])
	if out := d.mustFail("acme+ci", "push", refs["other"]); !strings.Contains(out, "denied") {
		t.Errorf("the robot's push to acme/other: want it denied:\n%s", out)
	}
	if out, ok := d.pullFresh("acme+ci", refs["base"]); !ok {
		t.Errorf("the robot pulls acme/base: %s", out)
	}
	var tags []struct{ Name, Pusher string }
	_ = json.Unmarshal(d.mustAPI("GET", "/api/v1/repositories/acme/app/tags", "alice", nil, 200), &tags)
	if len(tags) != 1 || tags[0].Pusher != "acme+ci" {
		t.Errorf("the pusher of acme/app:v1: %+v", tags)
	}
}
