package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/wharfhub/wharf/server"
)

// TestRetentionPages: a repository's admin reaches the retention page
// from its settings, a policy that cannot hold is refused next to the
// form with what was typed, a saved one is shown in words, a preview
// says which tag goes and why without removing it, a run removes it and
// lists itself under Runs; a namespace's owner has the same page, and
// nobody else does.
func TestRetentionPages(t *testing.T) {
	e := openEnv(t, server.Options{}, "alice", "mallory")
	a := e.browser()
	a.signin("alice")
	for _, tag := range []string{"v1", "v2"} {
		r := e.pusher("alice", "alice/app")
		cfg := r.blob([]byte(`{"architecture":"amd64","os":"linux","tag":"`+tag+`"}`), ociConfig)
		layer := r.blob([]byte(strings.Repeat("layer of "+tag, 300)), ociLayer)
		r.manifest(tag, ociManifest, map[string]any{"config": cfg, "layers": []any{layer}})
	}

	if s := a.get("/r/alice/app/settings").body; !strings.Contains(s, `href="/r/alice/app/retention"`) {
		t.Errorf("the settings do not link to retention:\n%.3000s", s)
	}
	page := a.get("/r/alice/app/retention")
	if page.status != http.StatusOK || !strings.Contains(page.body, `id="retention-none"`) {
		t.Fatalf("retention page: %d\n%.3000s", page.status, page.body)
	}
	bad := a.must(a.post("/r/alice/app/retention", "/r/alice/app/retention", url.Values{"keep_0": {"newest"}, "n_0": {"0"}, "pattern_0": {"v*"}}),
		http.StatusBadRequest, "a count of 0")
	if !strings.Contains(bad.body, `id="retention-error"`) || !strings.Contains(bad.body, "count from 1") || !strings.Contains(bad.body, `value="v*"`) {
		t.Errorf("the refusal is not next to the form with what was typed:\n%.4000s", bad.body)
	}
	a.must(a.post("/r/alice/app/retention", "/r/alice/app/retention", url.Values{"keep_0": {"newest"}, "n_0": {"1"}, "pattern_0": {"v*"},
		"untagged_days": {"7"}}), http.StatusSeeOther, "save")
	page = a.get("/r/alice/app/retention")
	if !strings.Contains(page.body, "This policy keeps the newest 1 of tags matching v*, and removes untagged manifests after 7 days.") {
		t.Errorf("the policy is not said:\n%.4000s", page.body)
	}

	preview := a.must(a.post("/r/alice/app/retention", "/r/alice/app/retention/preview", nil), http.StatusOK, "preview")
	if !strings.Contains(preview.body, "A run would remove 1 tag and 1 manifest") || !strings.Contains(preview.body, "<b>remove</b> <span class=\"muted\">no rule keeps it") {
		t.Errorf("the preview does not say what goes:\n%.5000s", preview.body)
	}
	if body := a.get("/r/alice/app/tags").body; !strings.Contains(body, ">v1</b>") {
		t.Fatal("the preview removed v1")
	}
	run := a.must(a.post("/r/alice/app/retention", "/r/alice/app/retention/run", nil), http.StatusSeeOther, "run")
	after := a.get(run.location).body
	if !strings.Contains(after, "Run done: removed 1 tag and 1 manifest") || !strings.Contains(after, `id="retention-runs"`) ||
		!strings.Contains(after, "manual by alice") {
		t.Errorf("the run is not reported:\n%.5000s", after)
	}
	if body := a.get("/r/alice/app/tags").body; strings.Contains(body, ">v1</b>") || !strings.Contains(body, ">v2</b>") {
		t.Error("the run did not remove exactly v1")
	}

	// The namespace's page, for its owner only.
	a.must(a.post("/u/alice", "/u/alice/retention", url.Values{"keep_0": {"pushed_within"}, "n_0": {"30"}}), http.StatusSeeOther, "namespace policy")
	if ns := a.get("/u/alice/retention").body; !strings.Contains(ns, "This policy keeps all tags pushed within 30 days.") {
		t.Errorf("the namespace's policy is not said:\n%.3000s", ns)
	}
	m := e.browser()
	m.signin("mallory")
	for _, p := range []string{"/u/alice/retention", "/r/alice/app/retention"} {
		if got := m.get(p); got.status < 400 || strings.Contains(got.body, "pushed within") {
			t.Errorf("mallory sees %s: %d", p, got.status)
		}
	}
	if p := m.post("/u/mallory", "/u/alice/retention/run", nil); p.status < 400 {
		t.Errorf("mallory runs alice's retention: %d", p.status)
	}
}
