package api_test

import (
	"fmt"
	"testing"
)

// Webhook management: who may manage them, object-level checks on every
// id, validation, and the callback credential.
func TestWebhookManagement(t *testing.T) {
	e := newEnv(t, "alice", "mallory", "will")
	e.must("POST", "/api/v1/repositories", "alice", map[string]string{"namespace": "alice", "name": "app", "visibility": "private"}, 201)
	e.must("POST", "/api/v1/repositories", "mallory", map[string]string{"namespace": "mallory", "name": "tool"}, 201)
	e.must("PUT", "/api/v1/repositories/alice/app/collaborators/will", "alice", map[string]string{"permission": "write"}, 200)

	var hook struct {
		ID        int64
		HasSecret bool `json:"has_secret"`
		Secret    string
		Events    []string
	}
	e.must("POST", "/api/v1/repositories/alice/app/webhooks", "alice",
		map[string]any{"name": "deploy", "url": "https://deploy.example.com/hook", "events": []string{"push", "delete"}, "secret": "s3cret"}, 201).json(&hook)
	if !hook.HasSecret || hook.Secret != "" || len(hook.Events) != 2 {
		t.Fatalf("created webhook: %+v", hook)
	}
	path := fmt.Sprintf("/api/v1/repositories/alice/app/webhooks/%d", hook.ID)
	for _, c := range []struct {
		who, method, path string
		body              any
		status            int
	}{
		{"mallory", "GET", "/api/v1/repositories/alice/app/webhooks", nil, 404},
		{"will", "GET", "/api/v1/repositories/alice/app/webhooks", nil, 403},
		{"", "GET", "/api/v1/repositories/alice/app/webhooks", nil, 404},
		{"mallory", "DELETE", path, nil, 404},
		{"mallory", "POST", path + "/test", nil, 404},
		// Mallory's own repository cannot reach alice's webhook by its id.
		{"mallory", "DELETE", fmt.Sprintf("/api/v1/repositories/mallory/tool/webhooks/%d", hook.ID), nil, 404},
		{"mallory", "GET", fmt.Sprintf("/api/v1/repositories/mallory/tool/webhooks/%d/deliveries", hook.ID), nil, 404},
		{"alice", "POST", "/api/v1/repositories/alice/app/webhooks", map[string]any{"name": "x", "url": "ftp://example.com/"}, 400},
		{"alice", "POST", "/api/v1/repositories/alice/app/webhooks", map[string]any{"name": "x", "url": "https://user:pw@example.com/"}, 400},
		{"alice", "POST", "/api/v1/repositories/alice/app/webhooks", map[string]any{"name": "x", "url": "https://example.com/", "events": []string{"pull"}}, 400},
		{"alice", "POST", "/api/v1/repositories/alice/app/webhooks", map[string]any{"name": "", "url": "https://example.com/"}, 400},
		{"alice", "PATCH", path, map[string]any{"url": "https://evil.example.com/"}, 400},
		{"alice", "GET", path, nil, 200},
		{"alice", "GET", path + "/deliveries", nil, 200},
		{"alice", "GET", path + "/deliveries/nope", nil, 404},
		{"alice", "POST", "/api/v1/namespaces/alice/webhooks", map[string]any{"name": "all", "url": "https://example.com/all"}, 201},
		{"mallory", "GET", "/api/v1/namespaces/alice/webhooks", nil, 403},
		{"mallory", "POST", "/api/v1/namespaces/alice/webhooks", map[string]any{"name": "steal", "url": "https://evil.example.com/"}, 403},
	} {
		if r := e.call(c.method, c.path, c.who, c.body); r.status != c.status {
			t.Errorf("%s %s as %q: %d %s, want %d", c.method, c.path, c.who, r.status, r.body, c.status)
		}
	}
	// A test delivery is queued for the stored URL, and its callback takes
	// the token from the callback URL only.
	var d struct {
		ID    string
		Event string
	}
	e.must("POST", path+"/test", "alice", nil, 202).json(&d)
	if d.Event != "test" || d.ID == "" {
		t.Fatalf("test delivery: %+v", d)
	}
	e.must("POST", "/api/v1/webhooks/callback/"+d.ID+"/wrong-token", "", map[string]string{"state": "success"}, 404)
	del, err := e.app.DB.Deliveries.Get(t.Context(), d.ID)
	if err != nil {
		t.Fatal(err)
	}
	cb := "/api/v1/webhooks/callback/" + d.ID + "/" + del.CallbackToken
	e.must("POST", cb, "", map[string]string{"state": "bogus"}, 400)
	e.must("POST", cb, "", map[string]string{"state": "success", "description": "deployed v1", "context": "ci"}, 200)
	var got struct {
		Callback struct{ State, Description string }
	}
	e.must("GET", path+"/deliveries/"+d.ID, "alice", nil, 200).json(&got)
	if got.Callback.State != "success" || got.Callback.Description != "deployed v1" {
		t.Fatalf("callback not recorded: %+v", got)
	}
	e.must("DELETE", path, "alice", nil, 204)
	e.must("GET", path, "alice", nil, 404)
}
