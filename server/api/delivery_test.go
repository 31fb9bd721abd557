package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-playground/webhooks/v6/docker"
	"github.com/opencontainers/go-digest"

	"github.com/wharfhub/wharf/server"
	"github.com/wharfhub/wharf/server/webhook"
	"github.com/wharfhub/wharf/server/webhook/signature"
)

// receiver is a deployment endpoint built on go-playground/webhooks: it
// checks the signature, parses every delivery as a Docker Hub payload, and
// fails the first time.
type receiver struct {
	mu       sync.Mutex
	secret   string
	calls    int
	payloads []docker.BuildPayload
	ids      []string
	bad      []string
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.calls++
	if !signature.VerifyHub(rc.secret, body, r.Header.Get("X-Hub-Signature-256")) {
		rc.bad = append(rc.bad, "bad signature")
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	hook, _ := docker.New()
	p, err := hook.Parse(r, docker.BuildEvent)
	if err != nil {
		rc.bad = append(rc.bad, err.Error())
		http.Error(w, "unparsable", http.StatusBadRequest)
		return
	}
	rc.ids = append(rc.ids, r.Header.Get("X-Wharf-Delivery"))
	if rc.calls == 1 {
		http.Error(w, "try again", http.StatusInternalServerError)
		return
	}
	rc.payloads = append(rc.payloads, p.(docker.BuildPayload))
	w.WriteHeader(http.StatusOK)
}

func TestPushWebhookDelivery(t *testing.T) {
	// alice, her repository alice/app, and the worker
	e := hookEnv(t, server.Options{Webhooks: webhook.WorkerOptions{
		Backoff: []time.Duration{100 * time.Millisecond, 100 * time.Millisecond},
		Poll:    50 * time.Millisecond,
	}})

	rc := &receiver{secret: "deploy-secret"}
	hookSrv := httptest.NewServer(rc)
	defer hookSrv.Close()
	var hook struct{ ID int64 }
	e.must("POST", "/api/v1/repositories/alice/app/webhooks", "alice",
		map[string]any{"name": "deploy", "url": hookSrv.URL + "/hook", "events": []string{"push"}, "secret": rc.secret}, 201).json(&hook)

	// Push an image with a tag through /v2/.
	cfgBlob := []byte(`{"architecture":"amd64","os":"linux"}`)
	cd := digest.FromBytes(cfgBlob)
	req, _ := http.NewRequest("POST", e.srv.URL+"/v2/alice/app/blobs/uploads/?digest="+cd.String(), bytes.NewReader(cfgBlob))
	req.SetBasicAuth("alice", pw)
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 201 {
		t.Fatalf("push blob: %v %v", err, res)
	}
	m, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
		"config": map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": len(cfgBlob)}, "layers": []any{}})
	req, _ = http.NewRequest("PUT", e.srv.URL+"/v2/alice/app/manifests/v1", bytes.NewReader(m))
	req.SetBasicAuth("alice", pw)
	req.Header.Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 201 {
		t.Fatalf("push manifest: %v %v", err, res)
	}

	deadline := time.Now().Add(5 * time.Second)
	for {
		rc.mu.Lock()
		n := len(rc.payloads)
		rc.mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no successful delivery; receiver saw %d calls, errors %v", rc.calls, rc.bad)
		}
		time.Sleep(20 * time.Millisecond)
	}
	rc.mu.Lock()
	p := rc.payloads[0]
	if len(rc.bad) > 0 || rc.calls != 2 || rc.ids[0] != rc.ids[1] {
		t.Fatalf("calls %d, errors %v, ids %v", rc.calls, rc.bad, rc.ids)
	}
	rc.mu.Unlock()
	if p.Repository.RepoName != "alice/app" || p.PushData.Tag != "v1" || p.PushData.Pusher != "alice" || p.CallbackURL == "" {
		t.Fatalf("payload: %+v", p)
	}
	var ds []struct {
		ID         string
		Event      string
		Status     string
		StatusCode int `json:"status_code"`
		Attempts   int
	}
	// The worker records the attempt just after the receiver answers.
	for {
		e.must("GET", "/api/v1/repositories/alice/app/webhooks/"+itoa(hook.ID)+"/deliveries", "alice", nil, 200).json(&ds)
		if len(ds) == 1 && ds[0].Status != "sending" && ds[0].Status != "pending" || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(ds) != 1 || ds[0].Attempts != 2 || ds[0].Status != "delivered" || ds[0].StatusCode != 200 || ds[0].Event != "push" {
		t.Fatalf("deliveries: %+v", ds)
	}
	// The callback URL in the payload works.
	cbURL := strings.Replace(p.CallbackURL, "http://wharf.test", e.srv.URL, 1)
	cb, err := http.Post(cbURL, "application/json", bytes.NewReader([]byte(`{"state":"success","description":"deployed"}`)))
	if err != nil || cb.StatusCode != 200 {
		t.Fatalf("callback: %v %v", err, cb)
	}
	var d struct {
		Callback struct{ State, Description string }
	}
	e.must("GET", "/api/v1/repositories/alice/app/webhooks/"+itoa(hook.ID)+"/deliveries/"+ds[0].ID, "alice", nil, 200).json(&d)
	if d.Callback.State != "success" || d.Callback.Description != "deployed" {
		t.Fatalf("callback not on the delivery: %+v", d)
	}
	// The default allow list refuses loopback targets when a webhook is saved.
	strict := newEnv(t, "bob")
	strict.must("POST", "/api/v1/repositories", "bob", map[string]string{"namespace": "bob", "name": "x"}, 201)
	for _, u := range []string{"http://127.0.0.1:9/hook", "http://169.254.169.254/latest/meta-data", "http://[::1]/", "http://[::ffff:127.0.0.1]/"} {
		strict.must("POST", "/api/v1/repositories/bob/x/webhooks", "bob", map[string]any{"name": "x", "url": u}, 400)
	}
}
