package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/wharfhub/wharf/server"
	"github.com/wharfhub/wharf/server/config"
	"github.com/wharfhub/wharf/server/servertest"
)

// webhookEnv is a Wharf whose webhooks may target loopback, with users
// (root is a site admin) and its workers running, the delivery worker
// with opts.
func webhookEnv(t *testing.T, users []string, opts server.Options) *env {
	t.Helper()
	cfg := &config.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), BaseURL: "http://wharf.test", LogLevel: "error",
		DefaultVisibility: "public", WebhookAllowedHosts: "loopback", Database: testDatabase(t)}
	app, err := server.Open(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		if _, err := app.Accounts.CreateUser(context.Background(), u, u+"@example.com", pw, u == "root"); err != nil {
			t.Fatal(err)
		}
	}
	e := &env{t: t, app: app, srv: httptest.NewServer(servertest.Handler(t, app))}
	t.Cleanup(func() { e.srv.Close(); app.Close() })
	servertest.Run(t, app)
	return e
}

// fastPoll makes the worker poll every 20 ms (unless opts say otherwise).
func fastPoll(opts server.Options) server.Options {
	if opts.Webhooks.Poll == 0 {
		opts.Webhooks.Poll = 20 * time.Millisecond
	}
	return opts
}

// hookEnv is webhookEnv with alice and her repository alice/app, polling
// fast, with opts (if given).
func hookEnv(t *testing.T, opts ...server.Options) *env {
	t.Helper()
	e := webhookEnv(t, []string{"alice"}, fastPoll(append(opts, server.Options{})[0]))
	e.must("POST", "/api/v1/repositories", "alice", map[string]string{"namespace": "alice", "name": "app"}, 201)
	return e
}

// pushTag pushes a small manifest tagged tag (its config blob is shared).
func (e *env) pushTag(tag string) time.Duration {
	e.t.Helper()
	cfg := []byte(`{"architecture":"amd64","os":"linux"}`)
	cd := digest.FromBytes(cfg)
	start := time.Now()
	req, _ := http.NewRequest("POST", e.srv.URL+"/v2/alice/app/blobs/uploads/?digest="+cd.String(), bytes.NewReader(cfg))
	req.SetBasicAuth("alice", pw)
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 201 {
		e.t.Fatalf("push blob: %v", err)
	}
	res.Body.Close()
	m, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
		"config": map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": len(cfg)},
		"layers": []any{}, "annotations": map[string]string{"tag": tag}})
	req, _ = http.NewRequest("PUT", e.srv.URL+"/v2/alice/app/manifests/"+tag, bytes.NewReader(m))
	req.SetBasicAuth("alice", pw)
	req.Header.Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
	res, err = http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 201 {
		e.t.Fatalf("push manifest %s: %v %v", tag, err, res)
	}
	res.Body.Close()
	return time.Since(start)
}

// A slow receiver times out, is retried, and never slows a push down.
func TestSlowReceiverDoesNotBlockPushes(t *testing.T) {
	e := hookEnv(t, server.Options{WebhookTimeout: 300 * time.Millisecond})
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(release)
	var hook struct{ ID int64 }
	e.must("POST", "/api/v1/repositories/alice/app/webhooks", "alice", map[string]any{"name": "slow", "url": slow.URL}, 201).json(&hook)
	var worst time.Duration
	for i := range 10 {
		worst = max(worst, e.pushTag(fmt.Sprintf("v%d", i)))
	}
	if worst > 2*time.Second {
		t.Fatalf("a push took %v behind a slow webhook", worst)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		var ds []struct {
			Attempts int
			Error    string
			Status   string
		}
		e.must("GET", fmt.Sprintf("/api/v1/repositories/alice/app/webhooks/%d/deliveries", hook.ID), "alice", nil, 200).json(&ds)
		timedOut := 0
		for _, d := range ds {
			if d.Attempts >= 1 && d.Error != "" && d.Status == "pending" {
				timedOut++
			}
		}
		if len(ds) == 10 && timedOut == 10 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("deliveries to a slow receiver: %+v", ds)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// 1,000 pushes fanned out to 3 webhooks: every delivery arrives, once.
func TestFanOutLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000 pushes")
	}
	e := hookEnv(t)
	var mu sync.Mutex
	seen := map[string]int{}
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.Header.Get("X-Wharf-Delivery")]++
		mu.Unlock()
	}))
	defer recv.Close()
	for i := range 3 {
		e.must("POST", "/api/v1/repositories/alice/app/webhooks", "alice", map[string]any{"name": fmt.Sprint("h", i), "url": recv.URL + fmt.Sprint("/", i)}, 201)
	}
	const pushes = 1000
	start := time.Now()
	var wg sync.WaitGroup
	work := make(chan int)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				e.pushTag(fmt.Sprintf("t%04d", i))
			}
		}()
	}
	for i := range pushes {
		work <- i
	}
	close(work)
	wg.Wait()
	pushed := time.Since(start)
	deadline := time.Now().Add(60 * time.Second)
	for {
		mu.Lock()
		n := len(seen)
		mu.Unlock()
		if n >= 3*pushes {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d deliveries arrived", n, 3*pushes)
		}
		time.Sleep(50 * time.Millisecond)
	}
	took := time.Since(start)
	// Once the outbox holds nothing to send, no delivery can come again.
	for {
		n, err := e.app.DB.Deliveries.Count(t.Context(), "pending", "sending")
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d deliveries still queued", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	for id, n := range seen {
		if n != 1 || id == "" {
			t.Fatalf("delivery %q arrived %d times", id, n)
		}
	}
	t.Logf("%d pushes in %v; %d deliveries in %v (%.0f deliveries/s)", pushes, pushed.Round(time.Millisecond), len(seen), took.Round(time.Millisecond), float64(len(seen))/took.Seconds())
}
