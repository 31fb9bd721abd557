package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/wharfhub/wharf/web"
)

// routeNames are valid names that the older reading of /r/ paths would
// cut short: every resource word as a segment, in several positions, and
// a name of the maximum length that ends in one.
func routeNames() []string {
	names := []string{"app", "app/settings", "x/comments/y"}
	for _, w := range []string{"tags", "comments", "stargazers", "settings", "star", "unstar", "collaborators", "delete", "webhooks"} {
		names = append(names, w, "a/"+w, w+"/"+w+"/b")
	}
	return append(names, strings.Repeat("l", 255-len("alice/")-len("/settings"))+"/settings")
}

var linkRE = regexp.MustCompile(`(?:href|action)="(/r/[^"?#]*)`)

// TestEveryNameHasItsPages creates repositories with names that contain
// the UI's resource words, and walks each one's pages by the links the
// pages themselves render.
func TestEveryNameHasItsPages(t *testing.T) {
	e := newEnv(t, "alice")
	b := e.browser()
	b.signin("alice")
	for _, n := range routeNames() {
		full := "alice/" + n
		b.must(b.post("/new", "/new", url.Values{"namespace": {"alice"}, "name": {n}, "visibility": {"public"}}), http.StatusSeeOther, "create "+full)
		overview := b.must(b.get(web.RepoURL(full)), http.StatusOK, full+" overview")
		if !strings.Contains(overview.body, full) {
			t.Fatalf("%s: the overview does not name the repository", full)
		}
		for _, tab := range []string{"tags", "comments", "stargazers", "settings"} {
			p := b.must(b.get(web.RepoURL(full, tab)), http.StatusOK, full+" "+tab)
			if !strings.Contains(p.body, `aria-current="page">`+strings.ToUpper(tab[:1])+tab[1:]) && tab != "stargazers" {
				t.Fatalf("%s: %s is not the %s tab", full, web.RepoURL(full, tab), tab)
			}
		}
		// Every repository link on its pages leads to this repository.
		for _, from := range []string{web.RepoURL(full), web.RepoURL(full, "settings"), web.RepoURL(full, "comments")} {
			for _, m := range linkRE.FindAllStringSubmatch(b.get(from).body, -1) {
				if name, _ := web.SplitRepo(strings.TrimPrefix(m[1], "/r/")); name != full {
					t.Fatalf("%s links to %s, which is repository %q", from, m[1], name)
				}
			}
		}
		// A form works too: the comment lands on this repository.
		p := b.post(web.RepoURL(full, "comments"), web.RepoURL(full, "comments"), url.Values{"body": {"hello " + n}})
		if p.status != http.StatusSeeOther {
			t.Fatalf("%s: comment: %d %.300s", full, p.status, p.body)
		}
		if !strings.Contains(b.get(web.RepoURL(full, "comments")).body, "hello "+n) {
			t.Fatalf("%s: the comment is not on its page", full)
		}
	}
	// The separator is understood on every name, needed or not.
	b.must(b.get("/r/alice/app/-/tags"), http.StatusOK, "separator on a plain name")
	b.must(b.get("/r/alice/app/settings/-/"), http.StatusOK, "separator with a trailing slash")
}
