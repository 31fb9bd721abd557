package api_test

import (
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/wharfhub/wharf/server/api"
)

// apiNames are valid repository names with every API resource word as a
// segment, in several positions, and one of the maximum length.
func apiNames(words []string) []string {
	names := []string{"app", "app/settings", "x/comments/y"}
	for _, w := range words {
		names = append(names, w, "a/"+w, w+"/"+w+"/b")
	}
	return append(names, strings.Repeat("l", 255-len("alice/")-len("/comments"))+"/comments")
}

var routeParamRE = regexp.MustCompile(`:[a-z]+`)

// TestEveryRouteResolvesForEveryName walks the route table: for every
// repository route and every name, the path with the /-/ separator (and
// the older one, where it means the same) reaches that route and that
// repository. Then, over HTTP, each name's GET routes answer for it and
// its write routes reach it.
func TestEveryRouteResolvesForEveryName(t *testing.T) {
	e := newEnv(t, "alice")
	a := api.New(e.app.Hub, e.app.Accounts, e.app.Recovery, e.app.DB, nil, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), e.app.MirrorCatalog)
	var words []string
	type repoRule struct{ method, rest string }
	var rules []repoRule
	for _, r := range a.Rules() {
		rest, ok := strings.CutPrefix(r.Path, "/api/v1/repositories/{repo}")
		if !ok {
			continue
		}
		rules = append(rules, repoRule{r.Method, rest})
		if w, _, _ := strings.Cut(strings.TrimPrefix(rest, "/"), "/"); w != "" && !contains(words, w) {
			words = append(words, w)
		}
	}
	for _, n := range apiNames(words) {
		full := "alice/" + n
		for _, r := range rules {
			rest := routeParamRE.ReplaceAllString(r.rest, "7")
			want := r.method + " /api/v1/repositories/{repo}" + r.rest
			for _, p := range []string{
				"/api/v1/repositories/" + full + "/-" + rest,
				"/api/v1/repositories/" + full + "/-" + rest + "/",
			} {
				if strings.HasSuffix(p, "//") {
					continue
				}
				if rest != "" && strings.HasSuffix(p, "/") {
					continue
				}
				name, route, ok := a.Resolve(r.method, p)
				if !ok || name != full || route != want {
					t.Fatalf("%s %s: resolved to %q %q (%v), want %q %q", r.method, p, name, route, ok, full, want)
				}
			}
		}
	}
	// Over HTTP, on real repositories.
	for _, n := range apiNames(words) {
		full := "alice/" + n
		e.repo("alice", "alice", n, "public")
		base := "/api/v1/repositories/" + full + "/-"
		var repo struct{ Namespace, Name string }
		e.must("GET", base, "alice", nil, http.StatusOK).json(&repo)
		if repo.Namespace+"/"+repo.Name != full {
			t.Fatalf("%s: got repository %s/%s", base, repo.Namespace, repo.Name)
		}
		for _, sub := range []string{"/tags", "/collaborators", "/star", "/stargazers", "/comments", "/webhooks"} {
			e.must("GET", base+sub, "alice", nil, http.StatusOK)
		}
		e.must("PUT", base+"/star", "alice", nil, http.StatusOK)
		var c struct{ ID int64 }
		e.must("POST", base+"/comments", "alice", map[string]string{"body": "on " + n}, http.StatusCreated).json(&c)
		var got []struct{ Body string }
		e.must("GET", base+"/comments", "alice", nil, http.StatusOK).json(&got)
		if len(got) != 1 || got[0].Body != "on "+n {
			t.Fatalf("%s: comments %+v", full, got)
		}
	}
	// CONTRACT.md's paths still mean what they meant.
	e.must("GET", "/api/v1/repositories/alice/app/tags", "alice", nil, http.StatusOK)
	e.must("GET", "/api/v1/repositories/alice/app", "alice", nil, http.StatusOK)
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
