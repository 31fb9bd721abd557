package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/wharfhub/wharf/server/testutil"
)

// roundRobin is the load balancer in front of the replicas: each request
// goes to the next one, so an upload's chunks, a token and its use, a
// push and its pull all cross replicas.
type roundRobin struct {
	n        atomic.Uint64
	backends []*httputil.ReverseProxy
}

func (rr *roundRobin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rr.backends[rr.n.Add(1)%uint64(len(rr.backends))].ServeHTTP(w, r)
}

// TestReplicas runs two Wharf replicas that share nothing but one
// PostgreSQL and one MinIO: the OCI conformance suite through a
// round-robin balancer, then docker push through one replica and pull,
// search and webhooks through the other. make test runs it with
// scripts/replicas.sh, which starts PostgreSQL, MinIO and dockerd.
func TestReplicas(t *testing.T) {
	if os.Getenv("WHARF_REPLICAS_E2E") == "" {
		t.Skip("set WHARF_REPLICAS_E2E=1 with PostgreSQL, MinIO and Docker (scripts/replicas.sh does)")
	}
	pg, s3 := testutil.Database(t), os.Getenv("WHARF_TEST_S3_ENDPOINT")
	if pg == "" || s3 == "" {
		t.Fatal("WHARF_REPLICAS_E2E needs WHARF_TEST_DATABASE and WHARF_TEST_S3_ENDPOINT")
	}
	if out, err := exec.Command("docker", "info").CombinedOutput(); err != nil {
		t.Fatalf("docker does not answer: %v\n%s", err, out)
	}
	// Every wharf command below reads these, as an operator would set them.
	for k, v := range map[string]string{
		"WHARF_DATABASE": pg, "WHARF_STORAGE": "s3", "WHARF_S3_ENDPOINT": s3,
		"WHARF_S3_BUCKET": "replicas-" + uuid.NewString()[:8], "WHARF_S3_TLS": "false",
		"WHARF_S3_ACCESS_KEY": os.Getenv("WHARF_TEST_S3_ACCESS_KEY"), "WHARF_S3_SECRET_KEY": os.Getenv("WHARF_TEST_S3_SECRET_KEY"),
		"WHARF_WEBHOOK_ALLOWED_HOSTS": "loopback",
	} {
		t.Setenv(k, v)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	d := &dockerEnv{t: t, bin: buildWharf(t), dir: t.TempDir(), home: t.TempDir()}
	for _, u := range []string{"alice", "conformance"} {
		d.createUser(u)
	}
	// Each replica has its own data directory (only its search index lives
	// there). A third one redirects blob downloads to presigned MinIO URLs;
	// it stays out of the balancer because the conformance suite wants
	// Docker-Content-Digest on the blob response itself, which a presigned
	// URL's response does not carry.
	// Both replicas mirror the set itself (through the balancer) as
	// "self": a cached image is fetched once and any replica serves it.
	a := startWharf(t, d.bin, t.TempDir(), "--base-url", base, "--mirror", "self="+base)
	b := startWharf(t, d.bin, t.TempDir(), "--base-url", base, "--mirror", "self="+base)
	c := startWharf(t, d.bin, t.TempDir(), "--base-url", base, "--s3-redirect", "5m")
	rr := &roundRobin{}
	for _, p := range []*wharfProc{a, b} {
		u, _ := url.Parse("http://" + p.addr)
		rr.backends = append(rr.backends, httputil.NewSingleHostReverseProxy(u))
	}
	lb := &http.Server{Handler: rr}
	go func() { _ = lb.Serve(ln) }()
	t.Cleanup(func() { lb.Close() })

	t.Run("the OCI conformance suite passes through a round-robin balancer", func(t *testing.T) {
		runConformance(t, ln.Addr().String())
	})

	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "hello.txt"), []byte("hello from two replicas\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d.img = filepath.Join(t.TempDir(), "rootfs.tar")
	if out, err := exec.Command("tar", "-C", src, "-cf", d.img, "hello.txt").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v %s", err, out)
	}
	refA := func(r string) string { return a.addr + "/" + r }
	refB := func(r string) string { return b.addr + "/" + r }
	refC := func(r string) string { return c.addr + "/" + r }
	defer func() {
		for _, r := range []string{refA("alice/app:v1"), refB("alice/app:v1"), refC("alice/app:v1"), refA("alice/app:v2")} {
			_ = exec.Command("docker", "rmi", "-f", r).Run()
		}
	}()
	for _, p := range []*wharfProc{a, b, c} {
		d.proc = p
		if out, ok := d.login("alice", "alice-password"); !ok {
			t.Fatalf("docker login %s: %s", p.addr, out)
		}
	}

	t.Run("push through one replica, pull through the other", func(t *testing.T) {
		d.importImage(refA("alice/app:v1"))
		d.must("alice", "push", refA("alice/app:v1"))
		idA := strings.TrimSpace(d.must("", "inspect", "--format", "{{.Id}}", refA("alice/app:v1")))
		for _, ref := range []string{refB("alice/app:v1"), refC("alice/app:v1")} {
			// Drop every local copy, so the layers themselves are fetched:
			// through B they stream from Wharf, through C docker follows
			// redirects to presigned MinIO URLs.
			for _, r := range []string{refA("alice/app:v1"), refB("alice/app:v1"), refC("alice/app:v1")} {
				_, _ = d.docker("", "", "rmi", "-f", r)
			}
			if out, ok := d.docker("alice", "", "pull", ref); !ok {
				t.Fatalf("pull %s: %s", ref, out)
			}
			if id := strings.TrimSpace(d.must("", "inspect", "--format", "{{.Id}}", ref)); id != idA {
				t.Fatalf("image pulled as %s is %s, pushed through A %s", ref, id, idA)
			}
		}
	})

	t.Run("an image a mirror cached through one replica is served by the other from the cache", func(t *testing.T) {
		ref := func(p *wharfProc) string { return p.addr + "/self/alice/app:v1" }
		defer func() {
			_ = exec.Command("docker", "rmi", "-f", ref(a)).Run()
			_ = exec.Command("docker", "rmi", "-f", ref(b)).Run()
		}()
		if out, ok := d.docker("", "", "pull", ref(a)); !ok {
			t.Fatalf("pull through the mirror on A: %s", out)
		}
		_, _ = d.docker("", "", "rmi", "-f", ref(a))
		if out, ok := d.docker("", "", "pull", ref(b)); !ok {
			t.Fatalf("pull through the mirror on B: %s", out)
		}
		_, m := basicCall(t, http.MethodGet, "http://"+b.addr+"/metrics", "", "", "")
		if !strings.Contains(m, "wharf_mirror_misses_total 0") || strings.Contains(m, "wharf_mirror_hits_total 0") {
			t.Fatalf("B fetched from the upstream what A had cached:\n%s", grepLines(m, "wharf_mirror_"))
		}
	})

	t.Run("the other replica's search finds the push", func(t *testing.T) {
		d.proc = b
		deadline := time.Now().Add(5 * time.Second)
		for {
			var res struct {
				Total   int
				Results []struct{ Namespace, Name string }
			}
			_ = json.Unmarshal(d.mustAPI("GET", "/api/v1/search?q=app", "alice", nil, 200), &res)
			if len(res.Results) > 0 && res.Results[0].Namespace == "alice" && res.Results[0].Name == "app" {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("search on the second replica: %+v", res)
			}
			time.Sleep(100 * time.Millisecond)
		}
	})

	t.Run("a push through one replica fires a webhook set on the other, once", func(t *testing.T) {
		var got atomic.Int32
		var digestSeen atomic.Value
		hook := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var p struct {
				PushData struct{ Tag, Digest string } `json:"push_data"`
			}
			_ = json.NewDecoder(r.Body).Decode(&p)
			if p.PushData.Tag == "v2" {
				got.Add(1)
				digestSeen.Store(p.PushData.Digest)
			}
		})}
		hl, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go func() { _ = hook.Serve(hl) }()
		defer hook.Close()
		d.proc = b
		var wh struct{ ID int64 }
		_ = json.Unmarshal(d.mustAPI("POST", "/api/v1/repositories/alice/app/webhooks", "alice",
			map[string]any{"name": "deploy", "url": "http://" + hl.Addr().String() + "/", "events": []string{"push"}}, 201), &wh)
		d.importImage(refA("alice/app:v2"))
		d.must("alice", "push", refA("alice/app:v2"))
		deadline := time.Now().Add(20 * time.Second)
		for got.Load() == 0 {
			if time.Now().After(deadline) {
				t.Fatal("no delivery for the push")
			}
			time.Sleep(100 * time.Millisecond)
		}
		// Both replicas run a delivery worker; neither may send it again.
		time.Sleep(3 * time.Second)
		if n := got.Load(); n != 1 {
			t.Fatalf("%d deliveries of one push, want 1", n)
		}
		if dg, _ := digestSeen.Load().(string); !strings.HasPrefix(dg, "sha256:") {
			t.Fatalf("delivery digest %q", dg)
		}
		var ds []struct{ Status string }
		_ = json.Unmarshal(d.mustAPI("GET", fmt.Sprintf("/api/v1/repositories/alice/app/webhooks/%d/deliveries", wh.ID), "alice", nil, 200), &ds)
		if len(ds) != 1 || ds[0].Status != "delivered" {
			t.Fatalf("delivery log on the second replica: %+v", ds)
		}
	})
}

// runConformance runs scripts/conformance.sh (the pinned OCI conformance
// suite, every workflow on) against the registry at addr; it fails unless
// nothing fails or skips. The report lands in .cache/conformance-replicas.
func runConformance(t *testing.T, addr string) {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", filepath.Join(root, "scripts", "conformance.sh"))
	cmd.Env = append(os.Environ(), "CONFORMANCE_TARGET="+addr, "CONFORMANCE_USER=conformance",
		"CONFORMANCE_PASSWORD=conformance-password", "CONFORMANCE_RESULTS="+filepath.Join(root, ".cache", "conformance-replicas"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		tail := string(out)
		if len(tail) > 6000 {
			tail = tail[len(tail)-6000:]
		}
		t.Fatalf("conformance through the balancer: %v\n%s", err, tail)
	}
	t.Log(lastLine(string(out)) + " (through the balancer)")
}

// grepLines is the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
