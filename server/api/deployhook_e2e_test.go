package api_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wharfhub/wharf/cmd/wharf/deployhook"
	"github.com/wharfhub/wharf/server"
)

// workerEnv is webhookEnv with alice and alice/app, and the worker as it
// runs in production: a push wakes it, tests and redeliveries wait for its
// one-second poll.
func workerEnv(t *testing.T) *env {
	t.Helper()
	e := webhookEnv(t, []string{"alice"}, server.Options{})
	e.must("POST", "/api/v1/repositories", "alice", map[string]string{"namespace": "alice", "name": "app"}, 201)
	return e
}

// Wharf's own worker delivering to the real deploy-hook receiver: a push
// runs the command once, a test delivery is ignored, and a redelivery of
// the push (same id) is refused as a repeat instead of deploying again.
func TestWorkerToDeployHook(t *testing.T) {
	e := workerEnv(t)
	ran := filepath.Join(t.TempDir(), "ran")
	h, err := deployhook.New(deployhook.Config{Secret: "deploy-secret", Run: fmt.Sprintf(`echo "$WHARF_REPO:$WHARF_TAG" >> %q`, ran),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	recv := httptest.NewServer(h)
	t.Cleanup(func() {
		recv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = h.Shutdown(ctx)
	})
	var hook struct{ ID int64 }
	e.must("POST", "/api/v1/repositories/alice/app/webhooks", "alice",
		map[string]any{"name": "deploy", "url": recv.URL + "/", "events": []string{"push"}, "secret": "deploy-secret"}, 201).json(&hook)
	base := "/api/v1/repositories/alice/app/webhooks/" + itoa(hook.ID) + "/deliveries"

	type delivery struct {
		ID             string
		Event          string
		Status         string
		StatusCode     int    `json:"status_code"`
		Attempts       int    `json:"attempts"`
		RequestHeaders string `json:"request_headers"`
		ResponseBody   string `json:"response_body"`
	}
	// settled waits until delivery id has had attempts attempts and is no longer in flight.
	settled := func(id string, attempts int) delivery {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			var d delivery
			e.must("GET", base+"/"+id, "alice", nil, 200).json(&d)
			if d.Attempts >= attempts && d.Status != "pending" && d.Status != "sending" {
				return d
			}
			if time.Now().After(deadline) {
				t.Fatalf("delivery %s never settled: %+v", id, d)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	runs := func() []string {
		b, _ := os.ReadFile(ran)
		return strings.Fields(string(b))
	}

	e.pushTag("v1")
	var list []delivery
	deadline := time.Now().Add(10 * time.Second)
	for len(list) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no delivery was written for the push")
		}
		e.must("GET", base, "alice", nil, 200).json(&list)
		time.Sleep(20 * time.Millisecond)
	}
	pushed := settled(list[0].ID, 1)
	if pushed.Event != "push" || pushed.Status != "delivered" || pushed.StatusCode != 202 || !strings.Contains(pushed.ResponseBody, "queued") {
		t.Fatalf("push delivery: %+v", pushed)
	}
	for _, want := range []string{"X-Wharf-Signature: t=", ",v1=…\n", "X-Hub-Signature-256: sha256=…\n"} {
		if !strings.Contains(pushed.RequestHeaders, want) {
			t.Errorf("recorded request headers lack %q:\n%s", want, pushed.RequestHeaders)
		}
	}
	deadline = time.Now().Add(10 * time.Second)
	for len(runs()) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got := runs(); len(got) != 1 || got[0] != "alice/app:v1" {
		t.Fatalf("runs %v; want alice/app:v1 once", got)
	}

	// A test delivery is signed as a test: delivered, and not run.
	var test delivery
	e.must("POST", "/api/v1/repositories/alice/app/webhooks/"+itoa(hook.ID)+"/test", "alice", nil, 202).json(&test)
	if d := settled(test.ID, 1); d.Status != "delivered" || d.StatusCode != 202 || !strings.Contains(d.ResponseBody, "ignored: event test") {
		t.Fatalf("test delivery: %+v", d)
	}

	// A redelivery keeps the id: the receiver has it and refuses it.
	e.must("POST", base+"/"+pushed.ID+"/redeliver", "alice", nil, 202)
	if d := settled(pushed.ID, 2); d.Status != "failed" || d.StatusCode != 409 || !strings.Contains(d.ResponseBody, "already received") {
		t.Fatalf("redelivery: %+v", d)
	}
	if err := h.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := runs(); len(got) != 1 {
		t.Fatalf("runs %v; want one", got)
	}
}
