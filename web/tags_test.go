package web_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

type deletion struct {
	Tags, Manifests           int
	Deleted, Digests, Missing []string
	DryRun                    bool `json:"dry_run"`
}

func (e *env) deleteTags(user, repo string, body any) (int, deletion, string) {
	e.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/repositories/"+repo+"/tags/delete", bytes.NewReader(b))
	req.SetBasicAuth(user, pw)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var d deletion
	_ = json.Unmarshal(raw, &d)
	return res.StatusCode, d, string(raw)
}

func (e *env) status(user, method, path string) int {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.srv.URL+path, nil)
	req.SetBasicAuth(user, pw)
	req.Header.Set("Accept", ociManifest+", "+ociIndex)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// Deleting tags takes the manifests left with nothing holding them: an
// index's platforms only it held, what is attached to what goes (by
// subject or by cosign tag), and nothing that something kept still holds.
// A dry run says so and deletes nothing.
func TestBulkDeleteTags(t *testing.T) {
	e := newEnv(t, "alice", "eve")
	s := e.stock("alice", "alice/shop")
	sig := "sha256-" + strings.TrimPrefix(s.image, "sha256:") + ".sig"
	for _, c := range []struct {
		name          string
		tags          []string
		wantTags      []string
		wantManifests int
		missing       []string
	}{
		{"an index whose platforms keep tags", []string{"multi"}, []string{"multi"}, 1, nil},
		{"an image an index holds", []string{"v1", "latest"}, []string{"latest", "v1"}, 0, nil},
		{"the image with its index and what is attached", []string{"v1", "latest", "multi", "v1", "nope"},
			[]string{"latest", "multi", sig, "v1"}, 5, []string{"nope"}},
	} {
		status, d, raw := e.deleteTags("alice", "alice/shop", map[string]any{"tags": c.tags, "dry_run": true})
		if status != http.StatusOK || !d.DryRun || fmt.Sprint(d.Deleted) != fmt.Sprint(c.wantTags) || d.Tags != len(c.wantTags) ||
			d.Manifests != c.wantManifests || len(d.Digests) != c.wantManifests || fmt.Sprint(d.Missing) != fmt.Sprint(c.missing) {
			t.Errorf("%s: %d %s", c.name, status, raw)
		}
	}
	if e.status("alice", "GET", "/v2/alice/shop/manifests/v1") != http.StatusOK {
		t.Fatal("a dry run deleted something")
	}
	for _, c := range []struct {
		name string
		user string
		body any
		want int
	}{
		{"no tags", "alice", map[string]any{"tags": []string{}}, http.StatusBadRequest},
		{"not a tag name", "alice", map[string]any{"tags": []string{"../etc"}}, http.StatusBadRequest},
		{"too many", "alice", map[string]any{"tags": make([]string, 1001)}, http.StatusBadRequest},
		{"a reader", "eve", map[string]any{"tags": []string{"v1"}}, http.StatusForbidden},
	} {
		if status, _, raw := e.deleteTags(c.user, "alice/shop", c.body); status != c.want {
			t.Errorf("%s: %d %s, want %d", c.name, status, raw, c.want)
		}
	}
	// Through the tags tab: pick, confirm, done.
	a := e.browser()
	a.signin("alice")
	tags := a.must(a.get("/r/alice/shop/tags"), http.StatusOK, "tags").body
	if !strings.Contains(tags, `name="tag" value="multi"`) || !strings.Contains(tags, "Delete selected") {
		t.Fatalf("the tags tab offers no deletion to its admin")
	}
	ev := e.browser()
	ev.signin("eve")
	if strings.Contains(ev.get("/r/alice/shop/tags").body, `name="tag"`) || strings.Contains(ev.get("/r/alice/shop/tags/v1").body, "Delete this tag") {
		t.Errorf("a reader is offered to delete tags")
	}
	if !strings.Contains(a.get("/r/alice/shop/tags/v1").body, "Delete this tag") {
		t.Errorf("the tag's page offers its admin no deletion")
	}
	form := url.Values{"tag": {"v1", "latest", "multi"}, "back": {"/r/alice/shop/tags?sort=name"}}
	p := a.must(a.post("/r/alice/shop/tags", "/r/alice/shop/tags/delete", form), http.StatusOK, "ask")
	if !strings.Contains(p.body, "Delete 4 tags and 5 manifests?") || !strings.Contains(p.body, sig) {
		t.Fatalf("the confirmation:\n%.3000s", p.body)
	}
	if e.status("alice", "GET", "/v2/alice/shop/manifests/v1") != http.StatusOK {
		t.Fatal("asking deleted something")
	}
	form.Set("confirm", "yes")
	p = a.must(a.post("/r/alice/shop/tags", "/r/alice/shop/tags/delete", form), http.StatusSeeOther, "confirm")
	if p.location != "/r/alice/shop/tags?sort=name" {
		t.Errorf("sent to %q", p.location)
	}
	if body := a.get(p.location).body; !strings.Contains(body, "Deleted 4 tags and 5 manifests.") {
		t.Errorf("no word of what was deleted")
	}
	for path, want := range map[string]int{
		"/v2/alice/shop/manifests/v1":         http.StatusNotFound,
		"/v2/alice/shop/manifests/" + s.image: http.StatusNotFound,
		"/v2/alice/shop/manifests/" + s.sbom:  http.StatusNotFound,
		"/v2/alice/shop/manifests/" + sig:     http.StatusNotFound,
		"/v2/alice/shop/manifests/arm64-only": http.StatusOK,
		"/v2/alice/shop/manifests/provenance": http.StatusOK,
		"/v2/alice/shop/manifests/1.2.3":      http.StatusOK,
	} {
		if got := e.status("alice", "GET", path); got != want {
			t.Errorf("%s: %d, want %d", path, got, want)
		}
	}
	// A tag's own page deletes it, and comes back to the list.
	p = a.must(a.post("/r/alice/shop/tags/1.2.3", "/r/alice/shop/tags/delete", url.Values{"tag": {"1.2.3"}, "back": {"/r/alice/shop/tags/1.2.3"}, "confirm": {"yes"}}),
		http.StatusSeeOther, "delete from the tag's page")
	if p.location != "/r/alice/shop/tags" {
		t.Errorf("after deleting from its page, sent to %q", p.location)
	}
	// Nowhere else to go back to.
	p = a.must(a.post("/r/alice/shop/tags", "/r/alice/shop/tags/delete", url.Values{"tag": {"arm64-only"}, "back": {"https://evil.example/"}}), http.StatusOK, "ask again")
	if strings.Contains(p.body, "evil.example") {
		t.Errorf("the back link leaves the site")
	}
}
