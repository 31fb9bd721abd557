package main

import (
	"encoding/json"
	"os"
	"slices"
	"testing"
)

// TestDockerRetention prunes what docker pushed: with a policy that keeps
// the newest dev-* and every v*, a preview names dev-1, the run removes
// exactly it, docker pulls of what stays work and of dev-1 fail.
func TestDockerRetention(t *testing.T) {
	if os.Getenv("WHARF_DOCKER_E2E") == "" {
		t.Skip("set WHARF_DOCKER_E2E=1 with a running Docker engine (make test does)")
	}
	d := &dockerEnv{t: t, bin: buildWharf(t), dir: t.TempDir(), home: t.TempDir()}
	d.createUser("alice")
	d.proc = startWharf(t, d.bin, d.dir)
	if out, ok := d.login("alice", "alice-password"); !ok {
		t.Fatalf("login: %s", out)
	}
	for _, tag := range []string{"v1", "dev-1", "dev-2"} {
		ref := d.ref("alice/app:" + tag)
		d.build(tag+"\n", ref)
		d.must("alice", "push", ref)
	}
	d.mustAPI("PUT", "/api/v1/repositories/alice/app/retention", "alice", map[string]any{"rules": []any{
		map[string]any{"keep": "newest", "count": 1, "pattern": "dev-*"},
		map[string]any{"keep": "always", "pattern": "v*"},
	}}, 200)
	var out struct {
		Repositories []struct {
			Removed struct{ Tags, Manifests []string }
		}
	}
	removed := func(body []byte) []string {
		out.Repositories = nil
		if err := json.Unmarshal(body, &out); err != nil || len(out.Repositories) != 1 {
			t.Fatalf("answer %s: %v", body, err)
		}
		return out.Repositories[0].Removed.Tags
	}
	if got := removed(d.mustAPI("POST", "/api/v1/repositories/alice/app/retention/preview", "alice", nil, 200)); !slices.Equal(got, []string{"dev-1"}) {
		t.Fatalf("the preview removes %q, want dev-1", got)
	}
	if out, ok := d.pullFresh("alice", d.ref("alice/app:dev-1")); !ok {
		t.Fatalf("the preview removed dev-1: %s", out)
	}
	if got := removed(d.mustAPI("POST", "/api/v1/repositories/alice/app/retention/run", "alice", nil, 200)); !slices.Equal(got, []string{"dev-1"}) {
		t.Fatalf("the run removed %q, want dev-1", got)
	}
	for _, tag := range []string{"v1", "dev-2"} {
		if out, ok := d.pullFresh("alice", d.ref("alice/app:"+tag)); !ok {
			t.Errorf("pull %s after the run: %s", tag, out)
		}
	}
	if out, ok := d.pullFresh("alice", d.ref("alice/app:dev-1")); ok {
		t.Errorf("dev-1 still pulls after the run: %s", out)
	}
}
