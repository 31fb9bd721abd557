package api_test

import (
	"html/template"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wharfhub/wharf/server/hub"
	"github.com/wharfhub/wharf/server/markdown"
	"github.com/wharfhub/wharf/server/testutil"
)

// viewBudget is the longest a view of stored Markdown may take: it only
// reads what was rendered when the text was saved.
const viewBudget = 300 * time.Millisecond * testutil.RaceSlowdown

// countRenders makes the hub's renderer count its renders, with version
// (0: markdown.Version) and after appended to what it renders.
func (e *env) countRenders(version int, after string) *atomic.Int64 {
	var n atomic.Int64
	if version == 0 {
		version = markdown.Version
	}
	e.app.Hub.SetMarkdown(hub.Markdown{Version: version, Render: func(src string) template.HTML {
		n.Add(1)
		return markdown.Render(src) + template.HTML(after)
	}})
	return &n
}

// timed is call, with how long it took.
func (e *env) timed(method, path, user string, body any) (result, time.Duration) {
	e.t.Helper()
	start := time.Now()
	r := e.call(method, path, user, body)
	return r, time.Since(start)
}

// The audit's README: 99,000 ">" took 13.6 s and 2.6 MB per anonymous
// view when every view rendered it.
func TestPathologicalReadmeIsRenderedOnceOnSave(t *testing.T) {
	e := newEnv(t, "alice")
	e.repo("alice", "alice", "app", "public")
	renders := e.countRenders(0, "")
	readme := strings.Repeat(">", 99_000)
	start := time.Now()
	e.must("PATCH", "/api/v1/repositories/alice/app", "alice", map[string]string{"readme": readme}, 200)
	t.Logf("save: %v", time.Since(start))
	if n := renders.Load(); n != 1 {
		t.Fatalf("saving rendered %d times, want 1", n)
	}
	for i := range 3 {
		r, d := e.timed("GET", "/r/alice/app", "", nil)
		if r.status != 200 {
			t.Fatalf("page: %d %.300s", r.status, r.body)
		}
		if d > viewBudget || len(r.body) > 5*len(readme)+64<<10 {
			t.Errorf("view %d took %v and %d bytes, want under %v and %d", i, d, len(r.body), viewBudget, 5*len(readme)+64<<10)
		}
		if n := strings.Count(string(r.body), "<blockquote>"); n != markdown.MaxDepth {
			t.Errorf("%d nested block quotes, want %d", n, markdown.MaxDepth)
		}
		t.Logf("page view %d: %v, %d bytes", i, d, len(r.body))
	}
	var got struct{ Readme string }
	r, d := e.timed("GET", "/api/v1/repositories/alice/app", "", nil)
	if r.json(&got); r.status != 200 || got.Readme != readme {
		t.Fatalf("API: %d, readme of %d bytes", r.status, len(got.Readme))
	}
	// JSON writes ">" as \u003e: six bytes each.
	if d > viewBudget || len(r.body) > 6*len(readme)+4<<10 {
		t.Errorf("API view took %v and %d bytes", d, len(r.body))
	}
	t.Logf("API view: %v, %d bytes", d, len(r.body))
	if n := renders.Load(); n != 1 {
		t.Errorf("views rendered %d more times, want none", n-1)
	}
}

// The audit's comments: 20 of 9,999 ">" made the comments API take 1.8 s
// and answer 11 MB.
func TestPathologicalCommentsAreRenderedOnceOnSave(t *testing.T) {
	e := newEnv(t, "alice")
	e.repo("alice", "alice", "app", "public")
	renders := e.countRenders(0, "")
	body := strings.Repeat(">", 9_999)
	const path = "/api/v1/repositories/alice/app/comments"
	for range 20 {
		e.must("POST", path, "alice", map[string]string{"body": body}, 201)
	}
	if n := renders.Load(); n != 20 {
		t.Fatalf("20 comments rendered %d times", n)
	}
	// JSON writes ">" as \u003e and the HTML's "&gt;" as \u0026gt;.
	maxSize := 20 * (15*len(body) + 4<<10)
	for i := range 3 {
		r, d := e.timed("GET", path, "", nil)
		var cs []commentAnswer
		if r.json(&cs); r.status != 200 || len(cs) != 20 {
			t.Fatalf("list: %d, %d comments", r.status, len(cs))
		}
		if d > viewBudget || len(r.body) > maxSize {
			t.Errorf("list %d took %v and %d bytes, want under %v and %d", i, d, len(r.body), viewBudget, maxSize)
		}
		for _, c := range cs {
			if c.Body != body || strings.Count(c.BodyHTML, "<blockquote>") != markdown.MaxDepth {
				t.Fatalf("comment %d: body of %d bytes, %d block quotes", c.ID, len(c.Body), strings.Count(c.BodyHTML, "<blockquote>"))
			}
		}
		t.Logf("list %d: %v, %d bytes", i, d, len(r.body))
	}
	if n := renders.Load(); n != 20 {
		t.Errorf("listing rendered %d more times, want none", n-20)
	}
}

func TestMarkdownLimits(t *testing.T) {
	e := newEnv(t, "alice")
	e.repo("alice", "alice", "app", "public")
	tests := []struct {
		name, path, method string
		body               map[string]string
		status             int
		message            string
	}{
		{"longest README", "/api/v1/repositories/alice/app", "PATCH", map[string]string{"readme": strings.Repeat("a", hub.MaxReadme)}, 200, ""},
		{"README one byte too long", "/api/v1/repositories/alice/app", "PATCH", map[string]string{"readme": strings.Repeat("a", hub.MaxReadme+1)}, 400,
			"README must be at most 100000 bytes."},
		{"description one byte too long", "/api/v1/repositories/alice/app", "PATCH", map[string]string{"description": strings.Repeat("a", 301)}, 400,
			"Description must be at most 300 bytes."},
		{"comment one byte too long", "/api/v1/repositories/alice/app/comments", "POST", map[string]string{"body": strings.Repeat("a", hub.MaxComment+1)}, 400,
			"Comment must be at most 10000 bytes."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.must(tc.method, tc.path, "alice", tc.body, tc.status)
			if tc.message != "" {
				if want := `{"error":{"code":"invalid","message":"` + tc.message + `"}}`; string(r.body) != want {
					t.Errorf("answered %s, want %s", r.body, want)
				}
			}
		})
	}
	// The refused README did not replace the one saved.
	var got struct{ Readme string }
	if e.must("GET", "/api/v1/repositories/alice/app", "", nil, 200).json(&got); len(got.Readme) != hub.MaxReadme {
		t.Errorf("readme of %d bytes", len(got.Readme))
	}
}

// A new renderer version renders each stored text again at its next view,
// once.
func TestMarkdownRenderedAgainOnVersionBump(t *testing.T) {
	e := newEnv(t, "alice")
	e.repo("alice", "alice", "app", "public")
	e.must("PATCH", "/api/v1/repositories/alice/app", "alice", map[string]string{"readme": "# Hello"}, 200)
	e.must("POST", "/api/v1/repositories/alice/app/comments", "alice", map[string]string{"body": "*hi*"}, 201)
	renders := e.countRenders(markdown.Version+1, "<p>v-next</p>")
	for range 2 {
		if p := e.must("GET", "/r/alice/app", "", nil, 200); !strings.Contains(string(p.body), "<h1>Hello</h1>\n<p>v-next</p>") {
			t.Fatalf("page: %.2000s", p.body)
		}
		var cs []commentAnswer
		if e.must("GET", "/api/v1/repositories/alice/app/comments", "", nil, 200).json(&cs); len(cs) != 1 || cs[0].BodyHTML != "<p><em>hi</em></p>\n<p>v-next</p>" {
			t.Fatalf("comments: %+v", cs)
		}
	}
	if n := renders.Load(); n != 2 {
		t.Errorf("%d renders, want one of the README and one of the comment", n)
	}
	var versions []int
	db := e.app.DB.Writer()
	if err := db.Raw("SELECT version FROM readme_html UNION ALL SELECT body_html_version FROM comments").Scan(&versions).Error; err != nil {
		t.Fatal(err)
	}
	if len(versions) != 2 || versions[0] != markdown.Version+1 || versions[1] != markdown.Version+1 {
		t.Errorf("stored versions %v, want both %d", versions, markdown.Version+1)
	}
}

// Text saved before rendering on save, or by an older Wharf that writes
// only the text, is rendered at its first view and stored: once.
func TestMarkdownSavedBeforeIsRenderedOnce(t *testing.T) {
	e := newEnv(t, "alice")
	e.repo("alice", "alice", "app", "public")
	db := e.app.DB.Writer()
	// As version 11's schema, and migration 12's defaults, leave them.
	if err := db.Exec("UPDATE repositories SET readme = ? WHERE name = ?", "# Old", "alice/app").Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Exec(`INSERT INTO comments (repository_id, user_id, body, created_at, updated_at)
		SELECT r.id, u.id, ?, ?, ? FROM repositories r, users u WHERE r.name = ? AND u.username = ?`,
		"*old*", time.Now().UTC(), time.Now().UTC(), "alice/app", "alice").Error; err != nil {
		t.Fatal(err)
	}
	renders := e.countRenders(0, "")
	view := func(readme, comment string) {
		t.Helper()
		if p := e.must("GET", "/r/alice/app", "", nil, 200); !strings.Contains(string(p.body), readme) {
			t.Fatalf("page has no %q: %.2000s", readme, p.body)
		}
		var cs []commentAnswer
		if e.must("GET", "/api/v1/repositories/alice/app/comments", "", nil, 200).json(&cs); len(cs) != 1 || cs[0].BodyHTML != comment {
			t.Fatalf("comments: %+v", cs)
		}
	}
	view("<h1>Old</h1>", "<p><em>old</em></p>\n")
	view("<h1>Old</h1>", "<p><em>old</em></p>\n")
	if n := renders.Load(); n != 2 {
		t.Errorf("%d renders, want one of the README and one of the comment", n)
	}
	// A README changed behind the stored HTML's back does not show that HTML.
	if err := db.Exec("UPDATE repositories SET readme = ? WHERE name = ?", "# Changed", "alice/app").Error; err != nil {
		t.Fatal(err)
	}
	view("<h1>Changed</h1>", "<p><em>old</em></p>\n")
	view("<h1>Changed</h1>", "<p><em>old</em></p>\n")
	if n := renders.Load(); n != 3 {
		t.Errorf("%d renders, want 3", n)
	}
}
