package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
)

// wharfProc is bin/wharf running as a real process, so it can be killed.
type wharfProc struct {
	cmd  *exec.Cmd
	addr string
}

func buildWharf(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "wharf")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

var listenRE = regexp.MustCompile(`msg="wharf listening" addr=([0-9.:]+)`)

func startWharf(t *testing.T, bin, dir string, extra ...string) *wharfProc {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0", "--data-dir", dir}, extra...)...)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &wharfProc{cmd: cmd}
	t.Cleanup(func() { p.kill() })
	sc := bufio.NewScanner(stderr)
	deadline := time.Now().Add(20 * time.Second)
	for sc.Scan() && time.Now().Before(deadline) {
		if m := listenRE.FindStringSubmatch(sc.Text()); m != nil {
			p.addr = m[1]
			go func() { _, _ = io.Copy(io.Discard, stderr) }()
			return p
		}
	}
	t.Fatal("wharf did not start")
	return nil
}

func (p *wharfProc) kill() {
	if p.cmd.ProcessState == nil {
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		_ = p.cmd.Wait()
	}
}

func (p *wharfProc) do(t *testing.T, method, path string, body io.Reader, hdr map[string]string) *http.Response {
	t.Helper()
	r, _ := http.NewRequest(method, "http://"+p.addr+path, body)
	r.SetBasicAuth("alice", "long-password")
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res
}

// kill -9 in the middle of a PATCH: after a restart the session is where
// the last finished chunk left it, resumes, and commits the right digest.
func TestKillDuringPatchThenResume(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills a real process")
	}
	bin := buildWharf(t)
	dir := t.TempDir()
	createAlice(t, dir)
	data := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	half := len(data) / 2

	p := startWharf(t, bin, dir)
	res := p.do(t, "POST", "/v2/alice/crash/blobs/uploads/", nil, nil)
	loc := res.Header.Get("Location")
	id := loc[strings.LastIndexByte(loc, '/')+1:]
	res = p.do(t, "PATCH", loc, bytes.NewReader(data[:half]), map[string]string{"Content-Range": fmt.Sprintf("0-%d", half-1)})
	if res.StatusCode != 202 {
		t.Fatalf("first chunk: %d", res.StatusCode)
	}

	// Stream part of the second chunk, and kill the server while it writes.
	pr, pw := io.Pipe()
	go func() {
		r, _ := http.NewRequest("PATCH", "http://"+p.addr+loc, pr)
		r.SetBasicAuth("alice", "long-password")
		r.Header.Set("Content-Range", fmt.Sprintf("%d-%d", half, len(data)-1))
		r.ContentLength = int64(len(data) - half)
		if res, err := http.DefaultClient.Do(r); err == nil {
			res.Body.Close()
		}
	}()
	if _, err := pw.Write(data[half : half+100000]); err != nil {
		t.Fatal(err)
	}
	upload := filepath.Join(dir, "uploads", id)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if fi, err := os.Stat(upload); err == nil && fi.Size() > int64(half) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the server never wrote the second chunk")
		}
	}
	p.kill()
	pw.CloseWithError(io.ErrClosedPipe)

	q := startWharf(t, bin, dir)
	res = q.do(t, "GET", loc, nil, nil)
	if res.StatusCode != 204 || res.Header.Get("Range") != fmt.Sprintf("0-%d", half-1) {
		t.Fatalf("status after kill: %d %q", res.StatusCode, res.Header.Get("Range"))
	}
	res = q.do(t, "PATCH", loc, bytes.NewReader(data[half:]), map[string]string{"Content-Range": fmt.Sprintf("%d-%d", half, len(data)-1)})
	if res.StatusCode != 202 {
		t.Fatalf("resumed chunk: %d", res.StatusCode)
	}
	d := digest.FromBytes(data)
	res = q.do(t, "PUT", loc+"?digest="+d.String(), nil, nil)
	if res.StatusCode != 201 {
		t.Fatalf("finish: %d", res.StatusCode)
	}
	blob, err := os.ReadFile(filepath.Join(dir, "blobs", "sha256", d.Encoded()[:2], d.Encoded()))
	if err != nil || !bytes.Equal(blob, data) {
		t.Fatalf("stored blob wrong: %v", err)
	}
}

// Kill the server after a tag is committed and before its webhook is
// delivered (the receiver is down), restart it, and the delivery arrives
// exactly once, under its id.
func TestWebhookDeliverySurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills a real process")
	}
	bin := buildWharf(t)
	dir := t.TempDir()
	createAlice(t, dir)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hookAddr := ln.Addr().String()
	ln.Close() // the receiver is down for now

	p := startWharf(t, bin, dir, "--webhook-allowed-hosts", "loopback")
	api := func(p *wharfProc, method, path, body string) *http.Response {
		t.Helper()
		return p.do(t, method, path, strings.NewReader(body), map[string]string{"Content-Type": "application/json"})
	}
	if r := api(p, "POST", "/api/v1/repositories", `{"namespace":"alice","name":"app"}`); r.StatusCode != 201 {
		t.Fatalf("create repository: %d", r.StatusCode)
	}
	if r := api(p, "POST", "/api/v1/repositories/alice/app/webhooks", `{"name":"deploy","url":"http://`+hookAddr+`/","events":["push"]}`); r.StatusCode != 201 {
		t.Fatalf("create webhook: %d", r.StatusCode)
	}
	cfg := []byte(`{"architecture":"amd64","os":"linux"}`)
	cd := digest.FromBytes(cfg)
	if r := p.do(t, "POST", "/v2/alice/app/blobs/uploads/?digest="+cd.String(), bytes.NewReader(cfg), nil); r.StatusCode != 201 {
		t.Fatalf("push blob: %d", r.StatusCode)
	}
	m := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%d},"layers":[]}`, cd, len(cfg))
	if r := p.do(t, "PUT", "/v2/alice/app/manifests/v1", strings.NewReader(m), map[string]string{"Content-Type": "application/vnd.oci.image.manifest.v1+json"}); r.StatusCode != 201 {
		t.Fatalf("push manifest: %d", r.StatusCode)
	}
	// The first attempt fails against the closed port before the kill.
	getJSON := func(p *wharfProc, path string, v any) {
		t.Helper()
		r, _ := http.NewRequest("GET", "http://"+p.addr+path, nil)
		r.SetBasicAuth("alice", "long-password")
		res, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if err := json.NewDecoder(res.Body).Decode(v); err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %v", path, res.StatusCode, err)
		}
	}
	attempts := func(p *wharfProc) (n int, delivered bool) {
		t.Helper()
		var hooks []struct{ ID int64 }
		getJSON(p, "/api/v1/repositories/alice/app/webhooks", &hooks)
		if len(hooks) != 1 {
			t.Fatalf("webhooks: %+v", hooks)
		}
		var ds []struct {
			Attempts    int        `json:"attempts"`
			DeliveredAt *time.Time `json:"delivered_at"`
		}
		getJSON(p, fmt.Sprintf("/api/v1/repositories/alice/app/webhooks/%d/deliveries", hooks[0].ID), &ds)
		for _, d := range ds {
			n += d.Attempts
			delivered = delivered || d.DeliveredAt != nil
		}
		return n, delivered
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if n, _ := attempts(p); n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no delivery attempt before the kill")
		}
	}
	p.kill()

	var mu sync.Mutex
	var ids []string
	recv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		ids = append(ids, r.Header.Get("X-Wharf-Delivery"))
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
	})}
	rl, err := net.Listen("tcp", hookAddr)
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = recv.Serve(rl) }()
	defer recv.Close()

	p = startWharf(t, bin, dir, "--webhook-allowed-hosts", "loopback")
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		n := len(ids)
		mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the delivery never arrived after the restart")
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Once the delivery is recorded as delivered, nothing sends it again.
	for _, delivered := attempts(p); !delivered; _, delivered = attempts(p) {
		if time.Now().After(deadline) {
			t.Fatal("the delivery is never recorded as delivered")
		}
		time.Sleep(50 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(ids) != 1 || ids[0] == "" {
		t.Fatalf("want exactly one delivery, got %v", ids)
	}
}

// createAlice makes the account the crash tests push as.
func createAlice(t *testing.T, dir string) {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run(t.Context(), []string{"user", "create", "alice", "--email", "a@example.com", "--password-stdin", "--data-dir", dir},
		func(string) string { return "" }, strings.NewReader("long-password"), &out, &errb); code != 0 {
		t.Fatal(errb.String())
	}
}
