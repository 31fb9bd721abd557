package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// dockerEnv drives the real docker CLI against a Wharf process. Each user
// has its own DOCKER_CONFIG, so logins do not mix.
type dockerEnv struct {
	t    *testing.T
	bin  string
	dir  string
	proc *wharfProc
	home string
	img  string // a small root filesystem tarball
}

// createUser creates the account name (password name-password) with
// the binary, with extra flags (--admin).
func (d *dockerEnv) createUser(name string, extra ...string) {
	d.t.Helper()
	cmd := exec.Command(d.bin, append([]string{"user", "create", name, "--email", name + "@example.com", "--password-stdin", "--data-dir", d.dir}, extra...)...)
	cmd.Stdin = strings.NewReader(name + "-password")
	if out, err := cmd.CombinedOutput(); err != nil {
		d.t.Fatalf("user create %s: %v %s", name, err, out)
	}
}

// docker runs the docker CLI as user ("" for anonymous) and returns its
// combined output and whether it succeeded.
func (d *dockerEnv) docker(user string, stdin string, args ...string) (string, bool) {
	d.t.Helper()
	cmd := exec.Command("docker", args...)
	cfg := filepath.Join(d.home, "anonymous")
	if user != "" {
		cfg = filepath.Join(d.home, user)
	}
	cmd.Env = append(os.Environ(), "DOCKER_CONFIG="+cfg)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err == nil
}

func (d *dockerEnv) must(user string, args ...string) string {
	d.t.Helper()
	out, ok := d.docker(user, "", args...)
	if !ok {
		d.t.Fatalf("docker %s as %q failed:\n%s", strings.Join(args, " "), user, out)
	}
	return out
}

func (d *dockerEnv) mustFail(user string, args ...string) string {
	d.t.Helper()
	out, ok := d.docker(user, "", args...)
	if ok {
		d.t.Fatalf("docker %s as %q succeeded, want refusal:\n%s", strings.Join(args, " "), user, out)
	}
	d.t.Logf("docker %s as %q refused: %s", args[0], user, lastLine(out))
	return out
}

func (d *dockerEnv) login(user, secret string) (string, bool) {
	return d.docker(user, secret, "login", d.proc.addr, "-u", user, "--password-stdin")
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// ref names an image in this Wharf.
func (d *dockerEnv) ref(repo string) string { return d.proc.addr + "/" + repo }

// importImage makes a local image tagged ref from the tarball.
func (d *dockerEnv) importImage(ref string) {
	d.t.Helper()
	cmd := exec.Command("docker", "import", "-", ref)
	f, err := os.Open(d.img)
	if err != nil {
		d.t.Fatal(err)
	}
	defer f.Close()
	cmd.Stdin = f
	if out, err := cmd.CombinedOutput(); err != nil {
		d.t.Fatalf("docker import %s: %v %s", ref, err, out)
	}
}

// pullFresh removes the local copy, then pulls.
func (d *dockerEnv) pullFresh(user, ref string) (string, bool) {
	d.t.Helper()
	_, _ = d.docker("", "", "rmi", "-f", ref)
	return d.docker(user, "", "pull", ref)
}

// api calls /api/v1 as user with Basic credentials.
func (d *dockerEnv) api(method, path, user string, body any) (int, []byte) {
	d.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, "http://"+d.proc.addr+path, rd)
	req.SetBasicAuth(user, user+"-password")
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		d.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

func (d *dockerEnv) mustAPI(method, path, user string, body any, status int) []byte {
	d.t.Helper()
	got, b := d.api(method, path, user, body)
	if got != status {
		d.t.Fatalf("%s %s: %d %s, want %d", method, path, got, b, status)
	}
	return b
}

// TestDockerCLI drives docker login, push and pull against Wharf with
// passwords, tokens, collaborators and organizations. It needs a running
// Docker engine; make test starts one and sets WHARF_DOCKER_E2E=1.
func TestDockerCLI(t *testing.T) {
	if os.Getenv("WHARF_DOCKER_E2E") == "" {
		t.Skip("set WHARF_DOCKER_E2E=1 with a running Docker engine (make test does)")
	}
	if out, err := exec.Command("docker", "info").CombinedOutput(); err != nil {
		t.Fatalf("WHARF_DOCKER_E2E is set but docker does not answer: %v\n%s", err, out)
	}
	d := &dockerEnv{t: t, bin: buildWharf(t), dir: t.TempDir(), home: t.TempDir()}
	for _, u := range []string{"alice", "bob", "carol", "olga", "mallory"} {
		d.createUser(u)
	}
	d.proc = startWharf(t, d.bin, d.dir, "--webhook-allowed-hosts", "loopback")

	// A one-file root filesystem makes a tiny image.
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "hello.txt"), []byte("hello from wharf\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d.img = filepath.Join(t.TempDir(), "rootfs.tar")
	if out, err := exec.Command("tar", "-C", src, "-cf", d.img, "hello.txt").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v %s", err, out)
	}
	defer func() {
		out, _ := exec.Command("docker", "images", "--format", "{{.Repository}}:{{.Tag}}").Output()
		for _, ref := range strings.Fields(string(out)) {
			if strings.HasPrefix(ref, d.proc.addr+"/") {
				_ = exec.Command("docker", "rmi", "-f", ref).Run()
			}
		}
	}()

	t.Run("wrong password is refused", func(t *testing.T) {
		if out, ok := d.login("alice", "not-the-password"); ok {
			t.Fatalf("login with a wrong password succeeded:\n%s", out)
		}
	})
	t.Run("login with a password, push and pull", func(t *testing.T) {
		if out, ok := d.login("alice", "alice-password"); !ok {
			t.Fatalf("login: %s", out)
		}
		d.importImage(d.ref("alice/app:v1"))
		d.must("alice", "push", d.ref("alice/app:v1"))
		if out, ok := d.pullFresh("alice", d.ref("alice/app:v1")); !ok {
			t.Fatalf("pull: %s", out)
		}
	})
	t.Run("anonymous pull of a public repository", func(t *testing.T) {
		if out, ok := d.pullFresh("", d.ref("alice/app:v1")); !ok {
			t.Fatalf("anonymous pull: %s", out)
		}
	})
	t.Run("anonymous push is refused", func(t *testing.T) {
		d.importImage(d.ref("alice/app:anon"))
		d.mustFail("", "push", d.ref("alice/app:anon"))
	})
	var token struct {
		ID    int64
		Token string
	}
	t.Run("login with a personal access token", func(t *testing.T) {
		_ = json.Unmarshal(d.mustAPI("POST", "/api/v1/tokens", "alice", map[string]any{"name": "laptop"}, 201), &token)
		d.home = filepath.Join(d.home, "pat") // a fresh config for the token login
		defer func() { d.home = filepath.Dir(d.home) }()
		if out, ok := d.login("alice", token.Token); !ok {
			t.Fatalf("token login: %s", out)
		}
		d.importImage(d.ref("alice/app:v2"))
		d.must("alice", "push", d.ref("alice/app:v2"))
	})
	t.Run("a revoked token is refused", func(t *testing.T) {
		d.mustAPI("DELETE", fmt.Sprintf("/api/v1/tokens/%d", token.ID), "alice", nil, 204)
		d.home = filepath.Join(d.home, "revoked")
		defer func() { d.home = filepath.Dir(d.home) }()
		if out, ok := d.login("alice", token.Token); ok {
			t.Fatalf("revoked token login succeeded:\n%s", out)
		}
	})

	// A private repository with collaborators.
	d.mustAPI("POST", "/api/v1/repositories", "alice", map[string]string{"namespace": "alice", "name": "secret", "visibility": "private"}, 201)
	d.importImage(d.ref("alice/secret:v1"))
	d.must("alice", "push", d.ref("alice/secret:v1"))
	for _, u := range []string{"bob", "carol", "olga", "mallory"} {
		if out, ok := d.login(u, u+"-password"); !ok {
			t.Fatalf("login %s: %s", u, out)
		}
	}
	t.Run("an outsider and an anonymous caller cannot pull a private repository", func(t *testing.T) {
		if out, ok := d.pullFresh("mallory", d.ref("alice/secret:v1")); ok {
			t.Fatalf("outsider pulled:\n%s", out)
		}
		if out, ok := d.pullFresh("", d.ref("alice/secret:v1")); ok {
			t.Fatalf("anonymous pulled:\n%s", out)
		}
	})
	d.mustAPI("PUT", "/api/v1/repositories/alice/secret/collaborators/bob", "alice", map[string]string{"permission": "read"}, 200)
	d.mustAPI("PUT", "/api/v1/repositories/alice/secret/collaborators/carol", "alice", map[string]string{"permission": "write"}, 200)
	t.Run("a read collaborator pulls but cannot push", func(t *testing.T) {
		if out, ok := d.pullFresh("bob", d.ref("alice/secret:v1")); !ok {
			t.Fatalf("reader pull: %s", out)
		}
		d.importImage(d.ref("alice/secret:bob"))
		d.mustFail("bob", "push", d.ref("alice/secret:bob"))
	})
	t.Run("a write collaborator pushes", func(t *testing.T) {
		d.importImage(d.ref("alice/secret:carol"))
		d.must("carol", "push", d.ref("alice/secret:carol"))
	})
	t.Run("a removed collaborator loses access", func(t *testing.T) {
		d.mustAPI("DELETE", "/api/v1/repositories/alice/secret/collaborators/carol", "alice", nil, 204)
		d.importImage(d.ref("alice/secret:carol2"))
		d.mustFail("carol", "push", d.ref("alice/secret:carol2"))
		if out, ok := d.pullFresh("carol", d.ref("alice/secret:v1")); ok {
			t.Fatalf("removed collaborator pulled:\n%s", out)
		}
	})
	t.Run("an organization member pushes to the organization's repository", func(t *testing.T) {
		d.mustAPI("POST", "/api/v1/orgs", "alice", map[string]string{"name": "acme"}, 201)
		d.mustAPI("PUT", "/api/v1/orgs/acme/members/olga", "alice", map[string]string{"role": "member"}, 200)
		d.mustAPI("PATCH", "/api/v1/orgs/acme", "alice", map[string]string{"member_permission": "write"}, 200)
		d.importImage(d.ref("acme/tool:1"))
		d.must("olga", "push", d.ref("acme/tool:1"))
		d.importImage(d.ref("acme/tool:2"))
		d.mustFail("mallory", "push", d.ref("acme/tool:2"))
	})
	t.Run("docker search lists what the caller may see", func(t *testing.T) {
		d.mustAPI("PATCH", "/api/v1/repositories/alice/app", "alice", map[string]string{"description": "the wharf demo app"}, 200)
		d.mustAPI("PATCH", "/api/v1/repositories/alice/secret", "alice", map[string]string{"description": "alice's hidden things"}, 200)
		for _, u := range []string{"bob", "olga"} {
			d.mustAPI("PUT", "/api/v1/repositories/alice/app/star", u, nil, 200)
		}
		// search runs docker search as user and returns its rows.
		search := func(user, term string, flags ...string) []string {
			t.Helper()
			args := append([]string{"search", "--no-trunc", "--format", "{{.Name}}|{{.Description}}|{{.StarCount}}"}, flags...)
			out := d.must(user, append(args, d.ref(term))...)
			return strings.Split(strings.TrimSpace(out), "\n")
		}
		const app = "alice/app|the wharf demo app|2"
		const secret = "alice/secret|alice's hidden things|0"
		// The index catches up within a moment (rows come from the
		// database, so only words of the new descriptions show it).
		deadline := time.Now().Add(20 * time.Second)
		for !slices.Contains(search("", "demo"), app) || !slices.Contains(search("alice", "hidden"), secret) {
			if time.Now().After(deadline) {
				t.Fatalf("docker search does not find the new descriptions: %q, %q", search("", "demo"), search("alice", "hidden"))
			}
			time.Sleep(200 * time.Millisecond)
		}
		for _, c := range []struct {
			user       string
			seesSecret bool
		}{{"", false}, {"mallory", false}, {"olga", false}, {"alice", true}, {"bob", true}} {
			for _, term := range []string{"alice", "secret", "hidden", "app"} {
				rows := search(c.user, term)
				if term != "secret" && term != "hidden" && !slices.Contains(rows, app) {
					t.Errorf("docker search %s as %q: %q, want %s", term, c.user, rows, app)
				}
				secret := slices.ContainsFunc(rows, func(r string) bool { return strings.Contains(r, "secret") || strings.Contains(r, "hidden") })
				if secret != (c.seesSecret && term != "app") {
					t.Errorf("docker search %s as %q: %q; lists alice/secret: %v, want %v", term, c.user, rows, secret, c.seesSecret && term != "app")
				}
			}
		}
		// The table docker prints by default, and --limit.
		out := d.must("", "search", d.ref("alice"))
		if !strings.Contains(out, "NAME") || !strings.Contains(out, "alice/app") || !strings.Contains(out, "the wharf demo app") || strings.Contains(out, "secret") {
			t.Errorf("docker search table:\n%s", out)
		}
		if rows := search("alice", "alice", "--limit", "1"); len(rows) != 1 {
			t.Errorf("docker search --limit 1: %q", rows)
		}
		if _, ok := d.docker("", "", "search", "--limit", "101", d.ref("alice")); ok {
			t.Errorf("docker search --limit 101 succeeded")
		}
	})
	t.Run("a docker push triggers a deployment through wharf deploy-hook", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		hookAddr := ln.Addr().String()
		ln.Close()
		out := filepath.Join(t.TempDir(), "deployed.txt")
		hook := exec.Command(d.bin, "deploy-hook", "--listen", hookAddr, "--repo", "alice/app", "--tag", "v*",
			"--run", `echo "$WHARF_REPO $WHARF_TAG $WHARF_DIGEST $WHARF_PUSHER" >> `+out)
		hook.Env = append(os.Environ(), "WHARF_DEPLOY_SECRET=deploy-secret")
		if err := hook.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = hook.Process.Kill(); _ = hook.Wait() }()
		var wh struct{ ID int64 }
		_ = json.Unmarshal(d.mustAPI("POST", "/api/v1/repositories/alice/app/webhooks", "alice",
			map[string]any{"name": "deploy", "url": "http://" + hookAddr + "/", "events": []string{"push"}, "secret": "deploy-secret"}, 201), &wh)
		d.importImage(d.ref("alice/app:v3"))
		d.must("alice", "push", d.ref("alice/app:v3"))
		deadline := time.Now().Add(20 * time.Second)
		for {
			b, _ := os.ReadFile(out)
			if strings.Contains(string(b), "alice/app v3 sha256:") && strings.Contains(string(b), " alice") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the deployment did not run; got %q", b)
			}
			time.Sleep(100 * time.Millisecond)
		}
		// The receiver reports back through callback_url.
		for {
			var ds []struct {
				Status   string
				Callback *struct{ State string }
			}
			_ = json.Unmarshal(d.mustAPI("GET", fmt.Sprintf("/api/v1/repositories/alice/app/webhooks/%d/deliveries", wh.ID), "alice", nil, 200), &ds)
			if len(ds) == 1 && ds[0].Status == "delivered" && ds[0].Callback != nil && ds[0].Callback.State == "success" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("deliveries: %+v", ds)
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
}
