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

	"github.com/opencontainers/go-digest"

	"github.com/wharfhub/wharf/server"
	"github.com/wharfhub/wharf/server/servertest"
)

// The tags tab counts every tag, pages through all of them, says when a
// page is past the end, and filters and sorts.
func TestTagsPagerFilterAndSort(t *testing.T) {
	e := newEnv(t, "alice")
	for i := range 120 {
		e.pushImage("alice", "alice/app", fmt.Sprintf("v%03d", i))
	}
	e.pushImage("alice", "alice/app", "latest")
	e.pushImage("alice", "alice/app", "v999") // the newest push
	a := e.browser()
	a.signin("alice")
	for _, c := range []struct {
		path string
		want []string
		not  []string
	}{
		{"/r/alice/app/tags", []string{"122 tags", "Page 1 of 3", "v999"}, []string{"v000<"}},
		{"/r/alice/app/tags?sort=pushed&page=3", []string{"Page 3 of 3", "v000"}, nil},
		{"/r/alice/app/tags?page=9", []string{"There is no page 9", "3 pages", "page=3"}, []string{"No tags yet"}},
		{"/r/alice/app/tags?q=V11", []string{"10 tags match", "v110", "v119"}, []string{"v109", "Page 1"}},
		{"/r/alice/app/tags?q=nothing_like", []string{"0 tags match", "No tag matches"}, nil},
		{"/r/alice/app/tags?sort=name", []string{"latest", "v000"}, []string{"v999"}},
	} {
		a.shows(c.path, c.want, c.not)
	}
	if p := a.get("/r/alice/app/tags?sort=bogus"); p.status != http.StatusBadRequest || !strings.Contains(p.body, "pushed, name or size") {
		t.Errorf("a bad sort: %d", p.status)
	}
	// latest, not the newest push, is what the pull command names.
	if p := a.get("/r/alice/app"); !strings.Contains(p.body, `<code id="pullcmd" tabindex="0">docker pull wharf.test/alice/app:latest</code>`) {
		t.Errorf("the pull command does not name latest")
	}
	// An empty repository offers no pull command.
	a.must(a.post("/new", "/new", url.Values{"namespace": {"alice"}, "name": {"empty"}, "visibility": {"public"}}), http.StatusSeeOther, "create")
	if p := a.get("/r/alice/empty"); strings.Contains(p.body, "docker pull") || !strings.Contains(p.body, "Nothing to pull yet") {
		t.Errorf("an empty repository's pull command:\n%.3000s", p.body)
	}
}

// A new comment lands on the page that shows it.
func TestNewCommentIsShown(t *testing.T) {
	e := newEnv(t, "alice")
	a := e.browser()
	a.signin("alice")
	a.must(a.post("/new", "/new", url.Values{"namespace": {"alice"}, "name": {"app"}, "visibility": {"public"}}), http.StatusSeeOther, "create")
	var p page
	for i := range 23 {
		p = a.must(a.post("/r/alice/app/comments", "/r/alice/app/comments", url.Values{"body": {fmt.Sprintf("comment number %d", i)}}), http.StatusSeeOther, "comment")
	}
	if !strings.HasPrefix(p.location, "/r/alice/app/comments?page=2#c") {
		t.Fatalf("sent to %q", p.location)
	}
	if body := a.get(strings.Split(p.location, "#")[0]).body; !strings.Contains(body, "comment number 22") || !strings.Contains(body, `id="`+strings.Split(p.location, "#")[1]+`"`) {
		t.Errorf("the new comment is not on the page it was sent to")
	}
}

// The dashboard lists what one may push to, shared repositories
// included, links to all of them past 8, and shows a new user how to push.
func TestDashboardRepositories(t *testing.T) {
	e := newEnv(t, "alice", "bob", "carol")
	c := e.browser()
	c.signin("carol")
	if p := c.get("/"); !strings.Contains(p.body, "docker login wharf.test -u carol") || !strings.Contains(p.body, "docker push wharf.test/carol/alice:latest") && !strings.Contains(p.body, "docker push wharf.test/carol/alpine:latest") {
		t.Errorf("no onboarding steps on an empty dashboard:\n%.4000s", p.body)
	}
	a := e.browser()
	a.signin("alice")
	for i := range 9 {
		a.must(a.post("/new", "/new", url.Values{"namespace": {"alice"}, "name": {fmt.Sprintf("app%d", i)}, "visibility": {"private"}}), http.StatusSeeOther, "create")
	}
	a.must(a.post("/r/alice/app0/settings", "/r/alice/app0/collaborators", url.Values{"user": {"bob"}, "permission": {"read"}}), http.StatusSeeOther, "share")
	b := e.browser()
	b.signin("bob")
	if p := b.get("/"); !strings.Contains(p.body, "alice/app0") {
		t.Errorf("a repository shared with bob is not on his dashboard")
	}
	p := a.get("/")
	if !strings.Contains(p.body, `href="/explore?mine=1&amp;sort=updated">All 9</a>`) {
		t.Errorf("no link to all 9 repositories:\n%.4000s", p.body)
	}
	all := a.must(a.get("/explore?mine=1&sort=updated"), http.StatusOK, "all mine")
	if !strings.Contains(all.body, "9 repositories") || !strings.Contains(all.body, "Your repositories") {
		t.Errorf("all mine:\n%.3000s", all.body)
	}
	if p := e.browser().get("/explore?mine=1"); p.status != http.StatusSeeOther {
		t.Errorf("mine=1 signed out: %d", p.status)
	}
}

// A refused settings form is shown again with its error next to it and
// what was typed kept.
func TestRefusedSettingsKeepTheirInput(t *testing.T) {
	e := newEnv(t, "alice")
	a := e.browser()
	a.signin("alice")
	a.must(a.post("/new", "/new", url.Values{"namespace": {"alice"}, "name": {"app"}, "visibility": {"public"}}), http.StatusSeeOther, "create")
	p := a.must(a.post("/r/alice/app/settings", "/r/alice/app/delete", url.Values{"confirm": {"alice/ap"}}), http.StatusBadRequest, "wrong confirmation")
	if !strings.Contains(p.body, `id="danger-error">Type the repository&#39;s full name, alice/app`) {
		t.Errorf("the confirmation error is not next to its form:\n%.3000s", p.body)
	}
	p = a.must(a.post("/r/alice/app/settings", "/r/alice/app/collaborators", url.Values{"user": {"nobody-here"}, "permission": {"read"}}), http.StatusBadRequest, "no such user")
	if !strings.Contains(p.body, `id="collaborators-error"`) || !strings.Contains(p.body, `value="nobody-here"`) {
		t.Errorf("the collaborator error is not next to its form:\n%.3000s", p.body)
	}
}

// A push the quota refuses leaves no repository behind in any listing: a
// blob that fit made the repository, but until a manifest lands it is
// nobody's business; created by name, it is an ordinary repository.
func TestQuotaRefusedPushListsNothing(t *testing.T) {
	e := openEnv(t, server.Options{Search: true}, "alice")
	servertest.Run(t, e.app)
	if err := e.app.DB.Namespaces.SetQuota(t.Context(), "alice", 1000); err != nil {
		t.Fatal(err)
	}
	r := e.pusher("alice", "alice/refused")
	r.blob([]byte(`{"architecture":"amd64","os":"linux"}`), ociConfig) // fits
	d := digest.FromBytes(bytes.Repeat([]byte("x"), 2000))
	if res := r.put("POST", "/v2/alice/refused/blobs/uploads/?digest="+d.String(), bytes.Repeat([]byte("x"), 2000), ""); res.StatusCode != http.StatusForbidden {
		t.Fatalf("over the quota: %s", res.Status)
	}
	a := e.browser()
	a.signin("alice")
	for _, path := range []string{"/", "/explore", "/u/alice", "/search?q=refused", "/api/v1/search?q=refused", "/v2/_catalog"} {
		var body string
		if strings.HasPrefix(path, "/v2/") || strings.HasPrefix(path, "/api/") {
			req, _ := http.NewRequest("GET", e.srv.URL+path, nil)
			req.SetBasicAuth("alice", pw)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			body = string(b)
		} else {
			body = a.must(a.get(path), http.StatusOK, path).body
		}
		if strings.Contains(body, "alice/refused") || strings.Contains(body, ">refused<") {
			t.Errorf("%s lists the refused push's repository", path)
		}
	}
	a.must(a.post("/new", "/new", url.Values{"namespace": {"alice"}, "name": {"refused"}, "visibility": {"private"}, "description": {"made on purpose"}}),
		http.StatusSeeOther, "create it by name")
	if p := a.get("/u/alice"); !strings.Contains(p.body, "made on purpose") {
		t.Errorf("the repository created by name is not listed")
	}
	if p := a.must(a.post("/new", "/new", url.Values{"namespace": {"alice"}, "name": {"refused"}, "visibility": {"public"}}), http.StatusBadRequest, "create it twice"); !strings.Contains(p.body, "already exists") {
		t.Errorf("a second creation is not refused as a conflict")
	}
}

// README and comments can be previewed before saving: the page comes back
// with the text rendered above the form, what was typed kept, nothing
// saved; a refused comment keeps its text too.
func TestMarkdownPreview(t *testing.T) {
	e := newEnv(t, "alice", "eve")
	a := e.browser()
	a.signin("alice")
	a.must(a.post("/new", "/new", url.Values{"namespace": {"alice"}, "name": {"app"}, "visibility": {"public"}}), http.StatusSeeOther, "create")
	p := a.must(a.post("/r/alice/app/settings", "/r/alice/app/settings", url.Values{"readme": {"# Draft\n\n**bold** <script>x()</script>"},
		"description": {"kept"}, "visibility": {"public"}, "preview": {"1"}}), http.StatusOK, "preview the README")
	for _, w := range []string{`README preview`, "<h1", "Draft", "<strong>bold</strong>", `value="kept"`, "# Draft"} {
		if !strings.Contains(p.body, w) {
			t.Errorf("README preview: no %q", w)
		}
	}
	if strings.Contains(p.body, "<script>x()") {
		t.Errorf("the preview is not sanitized")
	}
	if r := a.get("/r/alice/app"); strings.Contains(r.body, "Draft") {
		t.Errorf("a preview saved the README")
	}
	p = a.must(a.post("/r/alice/app/comments", "/r/alice/app/comments", url.Values{"body": {"looks *good*"}, "preview": {"1"}}), http.StatusOK, "preview a comment")
	if !strings.Contains(p.body, "<em>good</em>") || !strings.Contains(p.body, ">looks *good*</textarea>") {
		t.Errorf("comment preview:\n%.3000s", p.body)
	}
	if r := a.get("/r/alice/app/comments"); !strings.Contains(r.body, "No comments yet") {
		t.Errorf("a preview saved the comment")
	}
	p = a.must(a.post("/r/alice/app/comments", "/r/alice/app/comments", url.Values{"body": {"   "}}), http.StatusBadRequest, "an empty comment")
	if !strings.Contains(p.body, `id="comment-error"`) {
		t.Errorf("a refused comment has no error next to its form")
	}
	p = a.must(a.post("/r/alice/app/comments", "/r/alice/app/comments", url.Values{"body": {strings.Repeat("x", 10_001)}}), http.StatusBadRequest, "a long comment")
	if !strings.Contains(p.body, strings.Repeat("x", 10_001)+"</textarea>") {
		t.Errorf("a refused comment lost its text")
	}
	// Someone who may not manage the repository cannot preview its README.
	ev := e.browser()
	ev.signin("eve")
	if p := ev.post("/r/alice/app/comments", "/r/alice/app/settings", url.Values{"readme": {"# x"}, "preview": {"1"}}); p.status == http.StatusOK {
		t.Errorf("eve previews alice's README: %d", p.status)
	}
	// The API previews too.
	for _, c := range []struct {
		user, body string
		want       int
		has        string
	}{
		{"alice", `{"text":"# hi","kind":"readme"}`, 200, `<h1`},
		{"alice", `{"text":"*hi*"}`, 200, `<em>hi</em>`},
		{"eve", `{"text":"*hi*"}`, 200, `<em>hi</em>`},
		{"eve", `{"text":"# hi","kind":"readme"}`, 403, `forbidden`},
		{"alice", `{"text":"x","kind":"poem"}`, 400, `not \"poem\"`},
	} {
		req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/repositories/alice/app/preview", strings.NewReader(c.body))
		req.SetBasicAuth(c.user, pw)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		var out struct{ HTML string }
		if json.Unmarshal(b, &out) == nil && out.HTML != "" {
			b = []byte(out.HTML)
		}
		if res.StatusCode != c.want || !strings.Contains(string(b), c.has) {
			t.Errorf("API preview %s as %s: %d %s", c.body, c.user, res.StatusCode, b)
		}
	}
}
