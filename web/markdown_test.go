package web_test

import (
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wharfhub/wharf/server/hub"
	"github.com/wharfhub/wharf/server/markdown"
	"github.com/wharfhub/wharf/server/testutil"
)

// countRenders makes the hub's renderer count its renders.
func (e *env) countRenders() *atomic.Int64 {
	var n atomic.Int64
	e.app.Hub.SetMarkdown(hub.Markdown{Version: markdown.Version, Render: func(src string) template.HTML {
		n.Add(1)
		return markdown.Render(src)
	}})
	return &n
}

// The audit's README (99,000 ">": 13.6 s and 2.6 MB per anonymous view),
// saved with the settings form: rendered once then, and views are fast.
func TestPathologicalReadmePageIsFast(t *testing.T) {
	e := newEnv(t, "alice")
	b := e.browser()
	b.signin("alice")
	b.must(b.post("/new", "/new", url.Values{"namespace": {"alice"}, "name": {"app"}, "visibility": {"public"}}), http.StatusSeeOther, "create")
	renders := e.countRenders()
	readme := strings.Repeat(">", 99_000)
	b.must(b.post("/r/alice/app/settings", "/r/alice/app/settings", url.Values{"readme": {readme}, "visibility": {"public"}}),
		http.StatusSeeOther, "save readme")
	if n := renders.Load(); n != 1 {
		t.Fatalf("saving rendered %d times, want 1", n)
	}
	budget := 300 * time.Millisecond * testutil.RaceSlowdown
	anon := e.browser()
	for i := range 3 {
		start := time.Now()
		p := anon.must(anon.get("/r/alice/app"), http.StatusOK, "view")
		d := time.Since(start)
		// ">" is "&gt;" in HTML.
		if d > budget || len(p.body) > 5*len(readme)+64<<10 {
			t.Errorf("view %d took %v and %d bytes, want under %v and %d", i, d, len(p.body), budget, 5*len(readme)+64<<10)
		}
		if n := strings.Count(p.body, "<blockquote>"); n != markdown.MaxDepth {
			t.Errorf("%d nested block quotes, want %d", n, markdown.MaxDepth)
		}
		t.Logf("view %d: %v, %d bytes", i, d, len(p.body))
	}
	if n := renders.Load(); n != 1 {
		t.Errorf("views rendered %d more times, want none", n-1)
	}
}

// Text over a limit is refused with a message on the form's page, never a
// 500, and what was saved stays.
func TestMarkdownLimitsInForms(t *testing.T) {
	e := newEnv(t, "alice")
	b := e.browser()
	b.signin("alice")
	b.must(b.post("/new", "/new", url.Values{"namespace": {"alice"}, "name": {"app"}, "visibility": {"public"}}), http.StatusSeeOther, "create")
	b.must(b.post("/r/alice/app/settings", "/r/alice/app/settings", url.Values{"readme": {"# Kept"}, "visibility": {"public"}}),
		http.StatusSeeOther, "save readme")
	b.must(b.post("/r/alice/app/comments", "/r/alice/app/comments", url.Values{"body": {"kept"}}), http.StatusSeeOther, "comment")
	if p := b.get("/r/alice/app/settings"); !strings.Contains(p.body, "at most 100000 bytes") {
		t.Errorf("the settings form does not state the README limit: %.3000s", p.body)
	}
	tests := []struct {
		name, from, action string
		form               url.Values
		message            string
	}{
		{"README", "/r/alice/app/settings", "/r/alice/app/settings",
			url.Values{"readme": {strings.Repeat("a", hub.MaxReadme+1)}, "visibility": {"public"}}, "README must be at most 100000 bytes."},
		{"new comment", "/r/alice/app/comments", "/r/alice/app/comments",
			url.Values{"body": {strings.Repeat("a", hub.MaxComment+1)}}, "Comment must be at most 10000 bytes."},
		{"edited comment", "/r/alice/app/comments", "/r/alice/app/comments/1/edit",
			url.Values{"body": {strings.Repeat("a", hub.MaxComment+1)}}, "Comment must be at most 10000 bytes."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if inline := map[string]string{"README": "general-error", "new comment": "comment-error"}[tc.name]; inline != "" {
				// Shown again at once, the error next to the form and the
				// text kept.
				p := b.must(b.post(tc.from, tc.action, tc.form), http.StatusBadRequest, "submit")
				if !strings.Contains(p.body, `role="alert" id="`+inline+`">`+tc.message+"</p>") || !strings.Contains(p.body, strings.Repeat("a", 1000)) {
					t.Errorf("no %q next to the form, or the text is gone: %.3000s", tc.message, p.body)
				}
				return
			}
			p := b.must(b.post(tc.from, tc.action, tc.form), http.StatusSeeOther, "submit")
			if p.location != tc.from {
				t.Fatalf("sent to %q, want %q", p.location, tc.from)
			}
			if page := b.must(b.get(tc.from), http.StatusOK, "form page"); !strings.Contains(page.body, `<div class="flash flash-error" role="status">`+tc.message+"</div>") {
				t.Errorf("no %q on the page: %.3000s", tc.message, page.body)
			}
		})
	}
	if p := b.get("/r/alice/app"); !strings.Contains(p.body, "<h1>Kept</h1>") {
		t.Errorf("the saved README is gone: %.3000s", p.body)
	}
	if p := b.get("/r/alice/app/comments"); !strings.Contains(p.body, "<p>kept</p>") {
		t.Errorf("the saved comment is gone: %.3000s", p.body)
	}
}

// A README's links and images relative to its page point at files the
// registry does not have: the repository page shows their text without an
// href or a src, and keeps absolute links and images.
func TestReadmeRelativeLinksOnThePage(t *testing.T) {
	e := newEnv(t, "alice")
	b := e.browser()
	b.signin("alice")
	b.must(b.post("/new", "/new", url.Values{"namespace": {"alice"}, "name": {"app"}, "visibility": {"public"}}), http.StatusSeeOther, "create")
	readme := "Read [the guide](docs/guide.md) or [the site](https://example.com/app).\n\n" +
		"![the logo](img/logo.png) ![badge](https://ci.example.com/badge.svg)\n"
	b.must(b.post("/r/alice/app/settings", "/r/alice/app/settings", url.Values{"readme": {readme}, "visibility": {"public"}}),
		http.StatusSeeOther, "save readme")
	p := e.browser().must(e.browser().get("/r/alice/app"), http.StatusOK, "view")
	for _, want := range []string{
		"Read the guide or ",
		`<a href="https://example.com/app" rel="nofollow noopener">the site</a>`,
		`the logo <img src="https://ci.example.com/badge.svg" alt="badge">`,
	} {
		if !strings.Contains(p.body, want) {
			t.Errorf("no %q on the page: %.5000s", want, p.body)
		}
	}
	for _, bad := range []string{"docs/guide.md", "img/logo.png"} {
		if strings.Contains(p.body, bad) {
			t.Errorf("the page still points at %q: %.5000s", bad, p.body)
		}
	}
}
