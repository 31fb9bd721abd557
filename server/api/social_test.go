package api_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/wharfhub/wharf/server/auth"
	"github.com/wharfhub/wharf/server/hub"
)

type starAnswer struct {
	Starred   bool  `json:"starred"`
	StarCount int64 `json:"star_count"`
}

type commentAnswer struct {
	ID        int64     `json:"id"`
	User      string    `json:"user"`
	Body      string    `json:"body"`
	BodyHTML  string    `json:"body_html"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	CanEdit   bool      `json:"can_edit"`
	CanDelete bool      `json:"can_delete"`
}

func (e *env) repo(owner, ns, name, vis string) {
	e.t.Helper()
	e.must("POST", "/api/v1/repositories", owner, map[string]string{"namespace": ns, "name": name, "visibility": vis}, 201)
}

// starRows reads a repository's star rows and star_count straight from
// the database.
func (e *env) starRows(repo string) (rows, count int64) {
	e.t.Helper()
	db := e.app.DB.Writer()
	if err := db.Raw("SELECT COUNT(*) FROM stars s JOIN repositories r ON r.id = s.repository_id WHERE r.name = ?", repo).Scan(&rows).Error; err != nil {
		e.t.Fatal(err)
	}
	if err := db.Raw("SELECT star_count FROM repositories WHERE name = ?", repo).Scan(&count).Error; err != nil {
		e.t.Fatal(err)
	}
	return rows, count
}

func TestStarIsIdempotent(t *testing.T) {
	e := newEnv(t, "alice", "bob", "carol")
	e.repo("alice", "alice", "app", "public")
	const star = "/api/v1/repositories/alice/app/star"
	steps := []struct {
		name, method, user string
		status             int
		count              int64
		starred            bool
	}{
		{"first star", "PUT", "bob", 200, 1, true},
		{"star again changes nothing", "PUT", "bob", 200, 1, true},
		{"second user", "PUT", "carol", 200, 2, true},
		{"owner may star", "PUT", "alice", 200, 3, true},
		{"unstar", "DELETE", "bob", 200, 2, false},
		{"unstar again changes nothing", "DELETE", "bob", 200, 2, false},
		{"unstar never starred changes nothing", "DELETE", "bob", 200, 2, false},
		{"anonymous cannot star", "PUT", "", 401, 2, false},
		{"anonymous cannot unstar", "DELETE", "", 401, 2, false},
	}
	for _, s := range steps {
		r := e.must(s.method, star, s.user, nil, s.status)
		if s.status == 200 {
			var a starAnswer
			r.json(&a)
			if a.StarCount != s.count || a.Starred != s.starred {
				t.Fatalf("%s: answered %+v, want count %d starred %v", s.name, a, s.count, s.starred)
			}
		} else if !strings.Contains(string(r.body), `"code":"unauthorized"`) {
			t.Fatalf("%s: %s", s.name, r.body)
		}
		if rows, count := e.starRows("alice/app"); rows != s.count || count != s.count {
			t.Fatalf("%s: %d star rows, star_count %d, want %d", s.name, rows, count, s.count)
		}
	}
	var repo struct {
		StarCount int64 `json:"star_count"`
	}
	e.must("GET", "/api/v1/repositories/alice/app", "", nil, 200).json(&repo)
	if repo.StarCount != 2 {
		t.Fatalf("repository star_count %d", repo.StarCount)
	}
	for user, want := range map[string]starAnswer{"carol": {true, 2}, "bob": {false, 2}, "": {false, 2}} {
		var a starAnswer
		e.must("GET", star, user, nil, 200).json(&a)
		if a != want {
			t.Errorf("GET star as %q: %+v, want %+v", user, a, want)
		}
	}
	e.must("PUT", "/api/v1/repositories/alice/nothing/star", "bob", nil, 404)
}

// An outsider (or anonymous caller) gets exactly what a missing repository
// answers from every social endpoint of a private repository.
func TestSocialPrivateRepositoryIsInvisible(t *testing.T) {
	e := newEnv(t, "alice", "rita", "mallory")
	e.repo("alice", "alice", "secret", "private")
	e.must("PUT", "/api/v1/repositories/alice/secret/collaborators/rita", "alice", map[string]string{"permission": "read"}, 200)
	e.must("PUT", "/api/v1/repositories/alice/secret/star", "rita", nil, 200)
	var c commentAnswer
	e.must("POST", "/api/v1/repositories/alice/secret/comments", "rita", map[string]string{"body": "internal note"}, 201).json(&c)
	cid := itoa(c.ID)
	requests := []struct {
		method, path string
		body         any
	}{
		{"GET", "/star", nil},
		{"PUT", "/star", nil},
		{"DELETE", "/star", nil},
		{"GET", "/stargazers", nil},
		{"GET", "/comments", nil},
		{"POST", "/comments", map[string]string{"body": "let me in"}},
		{"GET", "/comments/" + cid, nil},
		{"PATCH", "/comments/" + cid, map[string]string{"body": "defaced"}},
		{"DELETE", "/comments/" + cid, nil},
	}
	for _, who := range []string{"mallory", ""} {
		for _, req := range requests {
			name := fmt.Sprintf("%s %s as %q", req.method, req.path, who)
			hidden := e.call(req.method, "/api/v1/repositories/alice/secret"+req.path, who, req.body)
			missing := e.call(req.method, "/api/v1/repositories/alice/missing"+req.path, who, req.body)
			if hidden.status != 404 || missing.status != 404 || string(hidden.body) != string(missing.body) {
				t.Errorf("%s: hidden %d %s, missing %d %s", name, hidden.status, hidden.body, missing.status, missing.body)
			}
		}
	}
	if rows, count := e.starRows("alice/secret"); rows != 1 || count != 1 {
		t.Fatalf("outsiders changed stars: %d rows, count %d", rows, count)
	}
	var cs []commentAnswer
	e.must("GET", "/api/v1/repositories/alice/secret/comments", "alice", nil, 200).json(&cs)
	if len(cs) != 1 || cs[0].Body != "internal note" {
		t.Fatalf("outsiders changed comments: %+v", cs)
	}
	var gazers []struct{ User string }
	e.must("GET", "/api/v1/repositories/alice/secret/stargazers", "rita", nil, 200).json(&gazers)
	if len(gazers) != 1 || gazers[0].User != "rita" {
		t.Fatalf("stargazers: %+v", gazers)
	}
}

// users/{user}/starred shows only what the caller may read, whatever the
// starring user may read.
func TestStarredHidesWhatTheCallerCannotRead(t *testing.T) {
	e := newEnv(t, "alice", "rita", "mallory", "root")
	e.repo("alice", "alice", "pub", "public")
	e.repo("alice", "alice", "secret", "private")
	e.must("POST", "/api/v1/orgs", "alice", map[string]string{"name": "acme"}, 201)
	e.repo("alice", "acme", "internal", "private")
	for _, repo := range []string{"alice/secret", "acme/internal"} {
		e.must("PUT", "/api/v1/repositories/"+repo+"/collaborators/rita", "alice", map[string]string{"permission": "read"}, 200)
	}
	for _, repo := range []string{"alice/pub", "alice/secret", "acme/internal"} {
		e.must("PUT", "/api/v1/repositories/"+repo+"/star", "rita", nil, 200)
	}
	var scoped struct{ Token string }
	e.must("POST", "/api/v1/tokens", "rita", map[string]any{"name": "pub only", "scopes": []string{"read"}, "repositories": []string{"alice/pub"}}, 201).json(&scoped)
	tests := []struct {
		name, caller string
		want         []string
	}{
		{"anonymous sees public only", "", []string{"alice/pub"}},
		{"outsider sees public only", "mallory", []string{"alice/pub"}},
		{"the starring user sees all", "rita", []string{"acme/internal", "alice/secret", "alice/pub"}},
		{"the owner sees all", "alice", []string{"acme/internal", "alice/secret", "alice/pub"}},
		{"a site admin sees all", "root", []string{"acme/internal", "alice/secret", "alice/pub"}},
		{"a token limited to one repository sees that one", "Bearer " + scoped.Token, []string{"alice/pub"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.must("GET", "/api/v1/users/rita/starred", tc.caller, nil, 200)
			var repos []struct{ Namespace, Name, Visibility string }
			r.json(&repos)
			var got []string
			for _, x := range repos {
				got = append(got, x.Namespace+"/"+x.Name)
			}
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			if tc.caller == "mallory" || tc.caller == "" {
				for _, secret := range []string{"secret", "internal", "private"} {
					if strings.Contains(string(r.body), secret) {
						t.Fatalf("listing leaks %q: %s", secret, r.body)
					}
				}
			}
		})
	}
	// Revoking rita's access hides the repository from her own list.
	e.must("DELETE", "/api/v1/repositories/alice/secret/collaborators/rita", "alice", nil, 204)
	var repos []struct{ Namespace, Name string }
	e.must("GET", "/api/v1/users/rita/starred", "rita", nil, 200).json(&repos)
	if len(repos) != 2 || repos[1].Name != "pub" {
		t.Fatalf("after revocation: %+v", repos)
	}
	e.must("GET", "/api/v1/users/nobody/starred", "alice", nil, 404)
}

func TestCommentPermissions(t *testing.T) {
	e := newEnv(t, "alice", "adam", "will", "bob", "carol", "root")
	e.repo("alice", "alice", "app", "public")
	e.repo("bob", "bob", "own", "public")
	e.must("PUT", "/api/v1/repositories/alice/app/collaborators/adam", "alice", map[string]string{"permission": "admin"}, 200)
	e.must("PUT", "/api/v1/repositories/alice/app/collaborators/will", "alice", map[string]string{"permission": "write"}, 200)
	post := func(repo, user, body string) int64 {
		t.Helper()
		var c commentAnswer
		e.must("POST", "/api/v1/repositories/"+repo+"/comments", user, map[string]string{"body": body}, 201).json(&c)
		if c.User != user || c.Body != body || !c.CanEdit || !c.CanDelete || c.ID == 0 {
			t.Fatalf("created %+v", c)
		}
		return c.ID
	}
	const app = "/api/v1/repositories/alice/app/comments/"
	byBob := post("alice/app", "bob", "from bob")
	byBob2 := post("alice/app", "bob", "from bob again")
	byCarol := post("alice/app", "carol", "from carol")
	byCarol2 := post("alice/app", "carol", "from carol again")
	onBobsRepo := post("bob/own", "bob", "on bob's own repository")
	edit := map[string]string{"body": "edited"}
	tests := []struct {
		name, method, path, user string
		body                     any
		status                   int
	}{
		{"anonymous cannot comment", "POST", "/api/v1/repositories/alice/app/comments", "", map[string]string{"body": "hi"}, 401},
		{"anonymous cannot edit", "PATCH", app + itoa(byBob), "", edit, 401},
		{"anonymous cannot delete", "DELETE", app + itoa(byBob), "", nil, 401},
		{"another user cannot edit", "PATCH", app + itoa(byBob), "carol", edit, 403},
		{"another user cannot delete", "DELETE", app + itoa(byBob), "carol", nil, 403},
		{"the repository owner cannot edit others' comments", "PATCH", app + itoa(byBob), "alice", edit, 403},
		{"a site admin cannot edit others' comments", "PATCH", app + itoa(byBob), "root", edit, 403},
		{"a writer cannot delete others' comments", "DELETE", app + itoa(byBob), "will", nil, 403},
		{"the author edits", "PATCH", app + itoa(byBob), "bob", edit, 200},
		{"an empty edit is refused", "PATCH", app + itoa(byBob), "bob", map[string]string{"body": "  \n"}, 400},
		{"another repository's comment id is not found (get)", "GET", app + itoa(onBobsRepo), "bob", nil, 404},
		{"another repository's comment id is not found (edit by its author)", "PATCH", app + itoa(onBobsRepo), "bob", edit, 404},
		{"another repository's comment id is not found (delete by this repository's admin)", "DELETE", app + itoa(onBobsRepo), "alice", nil, 404},
		{"another repository's comment id is not found (site admin)", "DELETE", app + itoa(onBobsRepo), "root", nil, 404},
		{"a missing comment id is not found", "DELETE", app + "999999", "alice", nil, 404},
		{"a malformed comment id is not found", "DELETE", app + "abc", "alice", nil, 404},
		{"a negative comment id is not found", "GET", app + "-1", "alice", nil, 404},
		{"the author deletes", "DELETE", app + itoa(byBob2), "bob", nil, 204},
		{"a deleted comment is gone", "DELETE", app + itoa(byBob2), "bob", nil, 404},
		{"the repository owner deletes someone's comment", "DELETE", app + itoa(byCarol), "alice", nil, 204},
		{"a repository admin collaborator deletes someone's comment", "DELETE", app + itoa(byCarol2), "adam", nil, 204},
		{"a site admin deletes anyone's comment", "DELETE", app + itoa(byBob), "root", nil, 204},
	}
	for _, tc := range tests {
		r := e.call(tc.method, tc.path, tc.user, tc.body)
		if r.status != tc.status {
			t.Errorf("%s: %d %s, want %d", tc.name, r.status, r.body, tc.status)
		}
		if r.status >= 400 && !strings.Contains(string(r.body), `"error":{"code":`) {
			t.Errorf("%s: error body %s", tc.name, r.body)
		}
	}
	var cs []commentAnswer
	e.must("GET", "/api/v1/repositories/alice/app/comments", "", nil, 200).json(&cs)
	if len(cs) != 0 {
		t.Fatalf("comments left: %+v", cs)
	}
	var own commentAnswer
	e.must("GET", "/api/v1/repositories/bob/own/comments/"+itoa(onBobsRepo), "", nil, 200).json(&own)
	if own.Body != "on bob's own repository" || own.CanEdit || own.CanDelete {
		t.Fatalf("bob's comment, seen anonymously: %+v", own)
	}
}

func TestCommentFlagsAndEdits(t *testing.T) {
	e := newEnv(t, "alice", "bob", "carol")
	e.repo("alice", "alice", "app", "public")
	var c commentAnswer
	e.must("POST", "/api/v1/repositories/alice/app/comments", "bob", map[string]string{"body": "*hello*"}, 201).json(&c)
	if c.BodyHTML != "<p><em>hello</em></p>\n" || !c.UpdatedAt.Equal(c.CreatedAt) {
		t.Fatalf("created %+v", c)
	}
	flags := map[string][2]bool{"bob": {true, true}, "alice": {false, true}, "carol": {false, false}, "": {false, false}}
	for user, want := range flags {
		var cs []commentAnswer
		e.must("GET", "/api/v1/repositories/alice/app/comments", user, nil, 200).json(&cs)
		if len(cs) != 1 || cs[0].CanEdit != want[0] || cs[0].CanDelete != want[1] {
			t.Errorf("as %q: %+v, want can_edit %v can_delete %v", user, cs, want[0], want[1])
		}
	}
	// The edit must come at a later time than the comment, on a clock
	// that stored times may round to the millisecond.
	for !time.Now().After(c.CreatedAt.Add(time.Millisecond)) {
		runtime.Gosched()
	}
	var edited commentAnswer
	e.must("PATCH", "/api/v1/repositories/alice/app/comments/"+itoa(c.ID), "bob", map[string]any{"body": "**bye**", "user": "alice", "id": 99}, 200).json(&edited)
	if edited.ID != c.ID || edited.User != "bob" || edited.Body != "**bye**" || edited.BodyHTML != "<p><strong>bye</strong></p>\n" ||
		!edited.UpdatedAt.After(edited.CreatedAt) || !edited.CreatedAt.Equal(c.CreatedAt) {
		t.Fatalf("edited %+v (was %+v)", edited, c)
	}
}

func TestCommentValidation(t *testing.T) {
	e := newEnv(t, "alice")
	e.repo("alice", "alice", "app", "public")
	const path = "/api/v1/repositories/alice/app/comments"
	tests := []struct {
		name   string
		body   any
		status int
	}{
		{"empty", map[string]string{"body": ""}, 400},
		{"missing", map[string]string{}, 400},
		{"only whitespace", map[string]string{"body": " \t\n "}, 400},
		{"NUL", map[string]string{"body": "a\x00b"}, 400},
		{"one byte too long", map[string]string{"body": strings.Repeat("a", 10_001)}, 400},
		{"multibyte too long", map[string]string{"body": strings.Repeat("é", 5_001)}, 400},
		{"not a string", map[string]any{"body": 42}, 400},
		{"longest allowed", map[string]string{"body": strings.Repeat("a", 10_000)}, 201},
		{"unicode", map[string]string{"body": "ship it 🚢"}, 201},
	}
	for _, tc := range tests {
		r := e.call("POST", path, "alice", tc.body)
		if r.status != tc.status {
			t.Errorf("%s: %d %s, want %d", tc.name, r.status, r.body, tc.status)
		}
	}
	// Invalid UTF-8 cannot travel in JSON; the service refuses it too.
	u, err := e.app.DB.Users.GetByName(context.Background(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	id := &auth.Identity{UserID: u.ID, Username: u.Username}
	var inv *hub.Invalid
	if _, err := e.app.Hub.Social.AddComment(context.Background(), id, "alice/app", "bad \xff byte"); !errors.As(err, &inv) {
		t.Fatalf("invalid UTF-8: %v", err)
	}
	r := e.call("POST", path, "alice", nil)
	if r.status != 400 || !strings.Contains(string(r.body), "invalid_json") {
		t.Fatalf("no body: %d %s", r.status, r.body)
	}
}

func TestCommentMarkdownIsInert(t *testing.T) {
	e := newEnv(t, "alice", "bob")
	e.repo("alice", "alice", "app", "public")
	hostile := strings.Join([]string{
		"<script>alert(1)</script>",
		"[x](javascript:alert(1)) [y](&#106;avascript:alert(1)) [z](JaVaScRiPt:alert(1))",
		"<javascript:alert(1)> javascript&colon;alert(1)",
		"[d](data:text/html,<script>alert(1)</script>)",
		"<img src=x onerror=alert(1)> <svg onload=alert(1)> <iframe src=https://evil.example></iframe>",
		"![i](javascript:alert(1)) <style>*{}</style> <a href=\"javascript:alert(1)\">a</a>",
		"[ok](https://example.com)",
	}, "\n\n")
	var c commentAnswer
	e.must("POST", "/api/v1/repositories/alice/app/comments", "bob", map[string]string{"body": hostile}, 201).json(&c)
	var cs []commentAnswer
	e.must("GET", "/api/v1/repositories/alice/app/comments", "alice", nil, 200).json(&cs)
	for _, got := range []commentAnswer{c, cs[0]} {
		if got.Body != hostile {
			t.Fatalf("body not kept as written: %q", got.Body)
		}
		h := strings.ToLower(got.BodyHTML)
		for _, bad := range []string{"<script", "href=\"javascript", "src=\"javascript", "data:text/html", "onerror", "onload", "<iframe", "<svg", "<style", "href=\"data"} {
			if strings.Contains(h, bad) {
				t.Errorf("body_html has %q: %s", bad, got.BodyHTML)
			}
		}
		if !strings.Contains(got.BodyHTML, `<a href="https://example.com" rel="nofollow noopener">ok</a>`) {
			t.Errorf("the safe link is missing: %s", got.BodyHTML)
		}
	}
}

func TestSocialPagination(t *testing.T) {
	users := []string{"alice", "mallory", "u1", "u2", "u3", "u4", "u5"}
	e := newEnv(t, users...)
	e.repo("alice", "alice", "app", "public")
	for i := range 7 {
		e.must("POST", "/api/v1/repositories/alice/app/comments", users[2+i%5], map[string]string{"body": fmt.Sprintf("comment %d", i)}, 201)
	}
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"?per_page=3", []string{"comment 0", "comment 1", "comment 2"}},
		{"?per_page=3&page=2", []string{"comment 3", "comment 4", "comment 5"}},
		{"?per_page=3&page=3", []string{"comment 6"}},
		{"?per_page=3&page=4", nil},
		{"?per_page=0&page=-1", []string{"comment 0", "comment 1", "comment 2", "comment 3", "comment 4", "comment 5", "comment 6"}},
		{"?per_page=abc&page=abc", []string{"comment 0", "comment 1", "comment 2", "comment 3", "comment 4", "comment 5", "comment 6"}},
		{"?per_page=1000000000&page=999999", nil},
	} {
		r := e.must("GET", "/api/v1/repositories/alice/app/comments"+tc.query, "", nil, 200)
		var cs []commentAnswer
		r.json(&cs)
		var got []string
		for _, c := range cs {
			got = append(got, c.Body)
		}
		if strings.Join(got, "|") != strings.Join(tc.want, "|") || r.header.Get("X-Total-Count") != "7" {
			t.Errorf("comments%s: %v (total %s), want %v", tc.query, got, r.header.Get("X-Total-Count"), tc.want)
		}
		if string(r.body) == "null" {
			t.Errorf("comments%s: null instead of []", tc.query)
		}
	}
	// Stargazers, a page at a time, each once.
	for _, u := range users[2:] {
		e.must("PUT", "/api/v1/repositories/alice/app/star", u, nil, 200)
	}
	seen := map[string]bool{}
	for p := 1; p <= 4; p++ {
		var gs []struct{ User string }
		e.must("GET", fmt.Sprintf("/api/v1/repositories/alice/app/stargazers?per_page=2&page=%d", p), "", nil, 200).json(&gs)
		if want := []int{2, 2, 1, 0}[p-1]; len(gs) != want {
			t.Fatalf("stargazers page %d: %v", p, gs)
		}
		for _, g := range gs {
			if seen[g.User] {
				t.Fatalf("%s on two pages", g.User)
			}
			seen[g.User] = true
		}
	}
	// Starred pages count only what the caller may see, so hidden
	// repositories leave no gaps or short pages.
	public := []string{"app"} // u1 starred alice/app above
	for i := range 6 {
		vis := []string{"public", "private"}[i%2]
		name := fmt.Sprintf("r%d", i)
		e.repo("u1", "u1", name, vis)
		e.must("PUT", "/api/v1/repositories/u1/"+name+"/star", "u1", nil, 200)
		if vis == "public" {
			public = append([]string{name}, public...) // newest first
		}
	}
	var got []string
	for p := 1; p <= 3; p++ {
		var repos []struct{ Name string }
		e.must("GET", fmt.Sprintf("/api/v1/users/u1/starred?per_page=2&page=%d", p), "mallory", nil, 200).json(&repos)
		if want := []int{2, 2, 0}[p-1]; len(repos) != want {
			t.Fatalf("starred page %d as an outsider: %v", p, repos)
		}
		for _, r := range repos {
			got = append(got, r.Name)
		}
	}
	if strings.Join(got, " ") != strings.Join(public, " ") {
		t.Fatalf("starred as an outsider: %v, want %v", got, public)
	}
}
