package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/wharfhub/wharf/server"
)

// TestImmutableTagPages: a repository's admin makes v* immutable in its
// settings (a bad pattern is refused next to the form), a deletion of
// such a tag from the tags list is refused with the rule's name, and a
// namespace's owner keeps rules on its page.
func TestImmutableTagPages(t *testing.T) {
	e := openEnv(t, server.Options{}, "alice", "mallory")
	a := e.browser()
	a.signin("alice")
	e.pushImage("alice", "alice/app", "v1")

	bad := a.must(a.post("/r/alice/app/settings", "/r/alice/app/immutable-tags", url.Values{"pattern": {"["}}), http.StatusBadRequest, "a bad pattern")
	if !strings.Contains(bad.body, `id="immutable-error"`) || !strings.Contains(bad.body, "wildcards") || !strings.Contains(bad.body, `value="["`) {
		t.Errorf("the bad pattern's error is not next to its form:\n%.3000s", bad.body)
	}
	a.must(a.post("/r/alice/app/settings", "/r/alice/app/immutable-tags", url.Values{"pattern": {"v*"}}), http.StatusSeeOther, "add rule")
	settings := a.get("/r/alice/app/settings").body
	if !strings.Contains(settings, "<code>v*</code>") || !strings.Contains(settings, "by alice") {
		t.Errorf("the settings do not list the rule:\n%.3000s", settings)
	}
	p := a.post("/r/alice/app/tags", "/r/alice/app/tags/delete", url.Values{"tag": {"v1"}, "confirm": {"yes"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("delete v1: %d %.2000s", p.status, p.body)
	}
	if body := a.get(p.location).body; !strings.Contains(body, "Nothing was deleted: tag v1 is immutable (rule &#34;v*&#34; of alice/app)") {
		t.Errorf("the refusal is not said:\n%.3000s", body)
	}
	if body := a.get("/r/alice/app/tags").body; !strings.Contains(body, ">v1</b>") {
		t.Error("v1 went")
	}

	a.must(a.post("/u/alice", "/u/alice/immutable-tags", url.Values{"pattern": {"release-*"}}), http.StatusSeeOther, "namespace rule")
	ns := a.get("/u/alice").body
	if !strings.Contains(ns, "<code>release-*</code>") {
		t.Errorf("the namespace page does not list its rule:\n%.3000s", ns)
	}
	m := e.browser()
	m.signin("mallory")
	if p := m.post("/u/mallory", "/u/alice/immutable-tags", url.Values{"pattern": {"x*"}}); p.status < 400 {
		t.Errorf("mallory adds a rule to alice's namespace: %d", p.status)
	}
	if strings.Contains(m.get("/u/alice").body, "release-*") {
		t.Error("mallory sees alice's rules")
	}
}
