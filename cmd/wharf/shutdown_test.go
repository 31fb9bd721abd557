package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
)

// loggedProc is `wharf serve` as a process whose whole stderr is kept.
type loggedProc struct {
	cmd    *exec.Cmd
	addr   string
	log    *lockedBuffer
	exited chan struct{}
}

// lockedBuffer is a bytes.Buffer that a process writes while a test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// waitFor polls cond until it holds, failing the test after d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func serveLogged(t *testing.T, bin, dir string, extra ...string) *loggedProc {
	t.Helper()
	return serveLoggedEnv(t, bin, dir, nil, extra...)
}

// serveLoggedEnv runs wharf serve on a loopback port (extra flags win,
// --addr too) with env added to the environment, until the test ends;
// its log is shown if the test fails.
func serveLoggedEnv(t *testing.T, bin, dir string, env []string, extra ...string) *loggedProc {
	t.Helper()
	p := &loggedProc{log: &lockedBuffer{}, exited: make(chan struct{})}
	p.cmd = exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0", "--data-dir", dir}, extra...)...)
	if env != nil {
		p.cmd.Env = append(os.Environ(), env...)
	}
	p.cmd.Stderr = p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
		if t.Failed() {
			t.Logf("wharf:\n%s", p.log.String())
		}
	})
	waitFor(t, 30*time.Second, "wharf listens", func() bool {
		if m := listenRE.FindStringSubmatch(p.log.String()); m != nil {
			p.addr = m[1]
			return true
		}
		return false
	})
	return p
}

// stop sends SIGTERM and waits for a clean exit: status 0, and nothing in
// the log that says a worker outlived the storage or failed.
func (p *loggedProc) stop(t *testing.T, within time.Duration) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.exited:
	case <-time.After(within):
		t.Fatalf("wharf did not exit within %s of SIGTERM; log:\n%s", within, p.log.String())
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit status %d after SIGTERM; log:\n%s", code, p.log.String())
	}
	for _, line := range strings.Split(p.log.String(), "\n") {
		if badShutdownLine.MatchString(line) {
			t.Errorf("log after SIGTERM: %s", line)
		}
	}
}

var badShutdownLine = regexp.MustCompile(`(?i)database is closed|index closed|panic|level=ERROR`)

// try sends one request as alice; a network error is a status of 0.
func (p *loggedProc) try(method, path string, body []byte, hdr map[string]string) int {
	r, _ := http.NewRequest(method, "http://"+p.addr+path, bytes.NewReader(body))
	r.SetBasicAuth("alice", "long-password")
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

type pushed struct{ repo, tag string }

// SIGTERM in the middle of a push storm, with webhook deliveries going
// out, the indexer batching and garbage collection running: the server
// exits 0 having drained everything, every acknowledged push is there
// after a restart, every delivery arrives, and the index is not rebuilt.
func TestSIGTERMDrainsEverything(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and signals a real process")
	}
	bin := buildWharf(t)
	dir := t.TempDir()
	createAlice(t, dir)

	var mu sync.Mutex
	delivered := map[pushed]bool{}
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p struct {
			PushData   struct{ Tag string } `json:"push_data"`
			Repository struct {
				RepoName string `json:"repo_name"`
			} `json:"repository"`
		}
		_ = json.NewDecoder(r.Body).Decode(&p)
		time.Sleep(20 * time.Millisecond) // deliveries are in flight at the signal
		mu.Lock()
		delivered[pushed{p.Repository.RepoName, p.PushData.Tag}] = true
		mu.Unlock()
	}))
	defer recv.Close()

	flags := []string{"--webhook-allowed-hosts", "loopback", "--gc-interval", "50ms", "--gc-grace", "1m"}
	p := serveLogged(t, bin, dir, flags...)
	hook := fmt.Sprintf(`{"name":"all","url":%q,"events":["push"]}`, recv.URL)
	if s := p.try("POST", "/api/v1/namespaces/alice/webhooks", []byte(hook), map[string]string{"Content-Type": "application/json"}); s != 201 {
		t.Fatalf("create webhook: %d", s)
	}

	// The storm: each pusher pushes a new layer and a manifest tagging it,
	// again and again, until the server stops answering.
	const pushers = 8
	var ackMu sync.Mutex
	var acked []pushed
	var count atomic.Int64
	stopStorm := make(chan struct{})
	var storm sync.WaitGroup
	for i := range pushers {
		storm.Go(func() {
			repo := fmt.Sprintf("alice/storm%d", i)
			cfg := []byte(fmt.Sprintf(`{"architecture":"amd64","os":"linux","pusher":%d}`, i))
			cd := digest.FromBytes(cfg)
			for j := 0; ; j++ {
				select {
				case <-stopStorm:
					return
				default:
				}
				layer := []byte(fmt.Sprintf("layer %d of pusher %d", j, i))
				ld := digest.FromBytes(layer)
				if p.try("POST", "/v2/"+repo+"/blobs/uploads/?digest="+cd.String(), cfg, nil) != 201 ||
					p.try("POST", "/v2/"+repo+"/blobs/uploads/?digest="+ld.String(), layer, nil) != 201 {
					continue
				}
				m := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",`+
					`"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%d},`+
					`"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"%s","size":%d}]}`,
					cd, len(cfg), ld, len(layer))
				tag := fmt.Sprintf("v%d", j)
				if p.try("PUT", "/v2/"+repo+"/manifests/"+tag, []byte(m), map[string]string{"Content-Type": "application/vnd.oci.image.manifest.v1+json"}) == 201 {
					ackMu.Lock()
					acked = append(acked, pushed{repo, tag})
					ackMu.Unlock()
					count.Add(1)
				}
			}
		})
	}
	stormOver := func() { close(stopStorm); storm.Wait() }
	waitFor(t, 60*time.Second, "pushes are acknowledged and delivered, and garbage is collected", func() bool {
		mu.Lock()
		n := len(delivered)
		mu.Unlock()
		return count.Load() >= 3*pushers && n > 0 && strings.Contains(p.log.String(), `msg="garbage collection"`)
	})
	p.stop(t, 60*time.Second)
	stormOver()
	if !strings.Contains(p.log.String(), "search index rebuilt") {
		t.Fatalf("the first start did not build its new index; log:\n%s", p.log.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "search.bleve.cursor")); err != nil {
		t.Fatalf("the indexer did not save its place in the change log: %v", err)
	}
	t.Logf("%d pushes acknowledged before the server stopped", len(acked))

	q := serveLogged(t, bin, dir, "--webhook-allowed-hosts", "loopback")
	accept := map[string]string{"Accept": "application/vnd.oci.image.manifest.v1+json"}
	repos := map[string]bool{}
	for _, a := range acked {
		repos[a.repo] = true
		if s := q.try("GET", "/v2/"+a.repo+"/manifests/"+a.tag, nil, accept); s != 200 {
			t.Errorf("acknowledged push %s:%s is gone after the restart: %d", a.repo, a.tag, s)
		}
	}
	waitFor(t, 60*time.Second, "every acknowledged push's delivery arrives", func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, a := range acked {
			if !delivered[a] {
				return false
			}
		}
		return true
	})
	for repo := range repos {
		name := strings.TrimPrefix(repo, "alice/")
		waitFor(t, 10*time.Second, repo+" is found by search", func() bool {
			r, _ := http.NewRequest("GET", "http://"+q.addr+"/api/v1/search?q="+name, nil)
			r.SetBasicAuth("alice", "long-password")
			res, err := http.DefaultClient.Do(r)
			if err != nil {
				return false
			}
			defer res.Body.Close()
			var out struct {
				Results []struct{ Namespace, Name string }
			}
			_ = json.NewDecoder(res.Body).Decode(&out)
			for _, x := range out.Results {
				if x.Namespace+"/"+x.Name == repo {
					return true
				}
			}
			return false
		})
	}
	q.stop(t, 60*time.Second)
	if log := q.log.String(); strings.Contains(log, "rebuild") {
		t.Fatalf("the restart rebuilt the search index; log:\n%s", log)
	}
}
