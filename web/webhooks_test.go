package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestWebhookPages(t *testing.T) {
	e := newEnv(t, "alice", "mallory")
	a := e.browser()
	a.signin("alice")
	a.must(a.post("/new", "/new", url.Values{"namespace": {"alice"}, "name": {"app"}, "visibility": {"public"}}), http.StatusSeeOther, "create")
	a.must(a.post("/r/alice/app/settings", "/r/alice/app/webhooks", url.Values{"name": {"deploy"}, "url": {"https://deploy.example.com/hook"},
		"events": {"push", "delete"}, "secret": {"s"}}), http.StatusSeeOther, "add webhook")
	refused := a.must(a.post("/r/alice/app/settings", "/r/alice/app/webhooks", url.Values{"name": {"bad"}, "url": {"http://127.0.0.1/hook"}}), http.StatusBadRequest, "refused webhook")
	if !strings.Contains(refused.body, `id="webhooks-error"`) || !strings.Contains(refused.body, `value="http://127.0.0.1/hook"`) || !strings.Contains(refused.body, `value="bad"`) {
		t.Errorf("the refused webhook's error is not next to its form with the input kept:\n%.4000s", refused.body)
	}
	settings := a.get("/r/alice/app/settings").body
	if !strings.Contains(settings, "deploy.example.com") || strings.Contains(settings, "127.0.0.1/hook") {
		t.Fatal("settings do not list exactly the accepted webhook")
	}
	hooks, _ := e.app.Hub.Webhooks.List(t.Context(), mustID(t, e, "alice"), hubTarget("alice/app"))
	if len(hooks) != 1 {
		t.Fatalf("webhooks: %+v", hooks)
	}
	page := fmt.Sprintf("/r/alice/app/webhooks/%d", hooks[0].ID)
	a.must(a.get(page), http.StatusOK, "webhook page")
	a.must(a.post(page, page+"/test", nil), http.StatusSeeOther, "send a test")
	if body := a.get(page).body; !strings.Contains(body, ">test<") && !strings.Contains(body, "test") {
		t.Fatal("the test delivery is not in the log")
	}
	// Namespace webhooks, on the profile page.
	a.must(a.post("/u/alice", "/u/alice/webhooks", url.Values{"name": {"all"}, "url": {"https://all.example.com/"}}), http.StatusSeeOther, "namespace webhook")
	if !strings.Contains(a.get("/u/alice").body, "all.example.com") {
		t.Fatal("namespace webhook not listed")
	}
	m := e.browser()
	m.signin("mallory")
	for _, p := range []string{page, "/r/alice/app/webhooks/1/deliveries"} {
		if s := m.get(p).status; s != http.StatusForbidden && s != http.StatusNotFound {
			t.Errorf("mallory GET %s: %d", p, s)
		}
	}
	if strings.Contains(m.get("/u/alice").body, "all.example.com") {
		t.Fatal("a stranger sees alice's namespace webhooks")
	}
	if p := m.post("/u/mallory", "/u/alice/webhooks", url.Values{"name": {"x"}, "url": {"https://evil.example.com/"}}); p.status != http.StatusForbidden {
		t.Fatalf("mallory adds a webhook to alice's namespace: %d", p.status)
	}
}
