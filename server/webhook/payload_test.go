package webhook

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/go-playground/webhooks/v6/docker"

	"github.com/wharfhub/wharf/server/webhook/signature"
)

func samplePayload() Payload {
	p := Payload{CallbackURL: "https://hub.example/api/v1/deliveries/d-1/callback"}
	p.PushData = PushData{
		PushedAt: 1700000000,
		Pusher:   "alice",
		Tag:      "latest",
		Digest:   "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	}
	p.Repository = Repository{
		CommentCount: 2,
		DateCreated:  1690000000,
		Description:  "a small image",
		IsPrivate:    true,
		Name:         "busybox",
		Namespace:    "alice",
		Owner:        "alice",
		RepoName:     "alice/busybox",
		RepoURL:      "https://hub.example/r/alice/busybox",
		StarCount:    7,
		Status:       "Active",
	}
	return p
}

// TestPayloadParsesAsDockerHub proves that a receiver written for Docker
// Hub (go-playground/webhooks) accepts Wharf's payload.
func TestPayloadParsesAsDockerHub(t *testing.T) {
	p := samplePayload()
	body, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("POST", "/hook", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderEvent, "push")
	req.Header.Set(HeaderDelivery, "d-1")
	req.Header.Set(HeaderSignature, signature.SignHub("s", body))
	hook, err := docker.New()
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := hook.Parse(req, docker.BuildEvent)
	if err != nil {
		t.Fatalf("docker hook rejected the payload: %v\n%s", err, body)
	}
	got, ok := parsed.(docker.BuildPayload)
	if !ok {
		t.Fatalf("parsed a %T", parsed)
	}
	checks := []struct{ field, got, want string }{
		{"callback_url", got.CallbackURL, p.CallbackURL},
		{"push_data.tag", got.PushData.Tag, "latest"},
		{"push_data.pusher", got.PushData.Pusher, "alice"},
		{"repository.repo_name", got.Repository.RepoName, "alice/busybox"},
		{"repository.namespace", got.Repository.Namespace, "alice"},
		{"repository.name", got.Repository.Name, "busybox"},
		{"repository.owner", got.Repository.Owner, "alice"},
		{"repository.repo_url", got.Repository.RepoURL, p.Repository.RepoURL},
		{"repository.status", got.Repository.Status, "Active"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q; want %q", c.field, c.got, c.want)
		}
	}
	if !got.Repository.IsPrivate || got.Repository.StarCount != 7 || got.Repository.CommentCount != 2 {
		t.Errorf("repository = %+v", got.Repository)
	}
	if got.PushData.PushedAt == 0 || got.Repository.DateCreated == 0 {
		t.Errorf("timestamps were lost: %+v", got)
	}
}

func TestPayloadJSONShape(t *testing.T) {
	body, err := json.Marshal(samplePayload())
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	if _, ok := m["action"]; ok {
		t.Error("a push has an action")
	}
	push := m["push_data"].(map[string]any)
	if imgs, ok := push["images"].([]any); !ok || len(imgs) != 0 {
		t.Errorf("push_data.images = %#v; want []", push["images"])
	}
	if push["digest"] != samplePayload().PushData.Digest {
		t.Errorf("push_data.digest = %v", push["digest"])
	}
	if push["pushed_at"] != float64(1700000000) {
		t.Errorf("push_data.pushed_at = %v; want unix seconds", push["pushed_at"])
	}
	for _, k := range []string{"comment_count", "date_created", "description", "dockerfile", "full_description",
		"is_official", "is_private", "is_trusted", "name", "namespace", "owner", "repo_name", "repo_url", "star_count", "status"} {
		if _, ok := m["repository"].(map[string]any)[k]; !ok {
			t.Errorf("repository.%s is missing", k)
		}
	}

	del := samplePayload()
	del.Action = ActionTagDeleted
	body, _ = json.Marshal(del)
	var back Payload
	if err := json.Unmarshal(body, &back); err != nil || back.Action != "tag_deleted" || back.PushData.Tag != "latest" {
		t.Errorf("round trip of a deletion = %+v, %v", back, err)
	}
}
