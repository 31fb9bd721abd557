package api_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/wharfhub/wharf/server"
	"github.com/wharfhub/wharf/server/servertest"
)

type searchResult struct {
	Total   int
	Results []struct{ Namespace, Name string }
}

func (e *env) search(user, q string) searchResult {
	e.t.Helper()
	var r searchResult
	e.must("GET", "/api/v1/search?q="+url.QueryEscape(q), user, nil, 200).json(&r)
	return r
}

func (r searchResult) has(full string) bool {
	for _, x := range r.Results {
		if x.Namespace+"/"+x.Name == full {
			return true
		}
	}
	return false
}

// eventually retries check for up to a second: index updates are batched
// off the request path but must be visible within a second.
func eventually(t *testing.T, what string, check func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for !check() {
		if time.Now().After(deadline) {
			t.Fatalf("not within a second: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestSearchPrivacyAndFreshness(t *testing.T) {
	e := openEnv(t, server.Options{Search: true}, "alice", "mallory", "carol", "olga")
	servertest.Run(t, e.app)
	e.must("POST", "/api/v1/repositories", "alice", map[string]string{"namespace": "alice", "name": "zebra-public", "visibility": "public", "description": "striped zebra tools"}, 201)
	e.must("POST", "/api/v1/repositories", "alice", map[string]string{"namespace": "alice", "name": "zebra-secret", "visibility": "private", "description": "striped zebra secrets"}, 201)
	e.must("POST", "/api/v1/orgs", "olga", map[string]string{"name": "zoo"}, 201)
	e.must("POST", "/api/v1/repositories", "olga", map[string]string{"namespace": "zoo", "name": "zebra-org", "visibility": "private", "description": "zebra of the zoo"}, 201)

	eventually(t, "the public repository is found", func() bool { return e.search("", "zebra").has("alice/zebra-public") })
	for _, who := range []string{"", "mallory", "carol"} {
		for _, q := range []string{"zebra", "zebra-secret", "striped", "secrets", "zeb", "zebrasecret", ""} {
			r := e.search(who, q)
			if r.has("alice/zebra-secret") || r.has("zoo/zebra-org") {
				t.Errorf("%q searching %q sees a private repository", who, q)
			}
			for _, x := range r.Results {
				if strings.Contains(x.Name, "secret") || x.Namespace == "zoo" {
					t.Errorf("%q: %v", who, x)
				}
			}
		}
		for _, s := range []string{"stars", "pulls", "updated"} {
			var r searchResult
			e.must("GET", "/api/v1/search?q=zebra&sort="+s, who, nil, 200).json(&r)
			if r.has("alice/zebra-secret") || r.Total != 1 {
				t.Errorf("%q sort %s: total %d %v", who, s, r.Total, r.Results)
			}
		}
	}
	if r := e.search("alice", "zebra"); !r.has("alice/zebra-secret") || r.Total != 2 {
		t.Fatalf("owner search: %+v", r)
	}
	if r := e.search("olga", "zebra"); !r.has("zoo/zebra-org") || r.has("alice/zebra-secret") {
		t.Fatalf("org member search: %+v", r)
	}
	// Suggestions follow the same rule.
	b := e.call("GET", "/search/suggest?q=zebra", "", nil)
	if strings.Contains(string(b.body), "secret") {
		t.Fatalf("suggestion leaks: %s", b.body)
	}
	// A collaborator finds it at once.
	e.must("PUT", "/api/v1/repositories/alice/zebra-secret/collaborators/carol", "alice", map[string]string{"permission": "read"}, 200)
	eventually(t, "a new collaborator finds the repository", func() bool { return e.search("carol", "zebra").has("alice/zebra-secret") })
	// Going public, and back, shows within a second.
	e.must("PATCH", "/api/v1/repositories/alice/zebra-secret", "alice", map[string]string{"visibility": "public"}, 200)
	eventually(t, "a repository made public is found", func() bool { return e.search("mallory", "zebra").has("alice/zebra-secret") })
	e.must("PATCH", "/api/v1/repositories/alice/zebra-secret", "alice", map[string]string{"visibility": "private"}, 200)
	eventually(t, "a repository made private disappears", func() bool { return !e.search("mallory", "zebra").has("alice/zebra-secret") })
	// Edits and deletions.
	e.must("PATCH", "/api/v1/repositories/alice/zebra-public", "alice", map[string]string{"description": "now about giraffes"}, 200)
	eventually(t, "a new description is searchable", func() bool { return e.search("", "giraffes").has("alice/zebra-public") })
	e.must("DELETE", "/api/v1/repositories/alice/zebra-public", "alice", nil, 204)
	eventually(t, "a deleted repository disappears", func() bool { return !e.search("", "giraffes").has("alice/zebra-public") })
	// Sorts come from an allowlist; operators and quotes in q are just text.
	e.must("GET", "/api/v1/search?q=zebra&sort=password", "", nil, 400)
	for _, q := range []string{`"zebra`, `zebra OR 1=1`, `+private:true`, `readers:ns:alice`, `*`, `zebra\`, `' OR ''='`} {
		r := e.search("mallory", q)
		if r.has("alice/zebra-secret") || r.has("zoo/zebra-org") {
			t.Errorf("query %q leaks", q)
		}
	}
}

// A name with a typo is found through the API as through the pages, and
// only by who may see it: the total counts nothing else.
func TestSearchTypos(t *testing.T) {
	e := openEnv(t, server.Options{Search: true}, "alice", "mallory")
	servertest.Run(t, e.app)
	e.must("POST", "/api/v1/repositories", "alice", map[string]string{"namespace": "alice", "name": "nginx", "visibility": "public", "description": "a web server"}, 201)
	e.must("POST", "/api/v1/repositories", "alice", map[string]string{"namespace": "alice", "name": "nginx-vault", "visibility": "private", "description": "keys"}, 201)
	eventually(t, "the owner finds both with a typo", func() bool { return e.search("alice", "nignx").Total == 2 })
	for _, who := range []string{"", "mallory"} {
		r := e.search(who, "nignx")
		if !r.has("alice/nginx") || r.has("alice/nginx-vault") || r.Total != 1 || len(r.Results) != 1 {
			t.Errorf("%q searching nignx: %+v, want alice/nginx alone", who, r)
		}
		for _, s := range []string{"stars", "pulls", "updated"} {
			var r searchResult
			e.must("GET", "/api/v1/search?q=nignx&sort="+s, who, nil, 200).json(&r)
			if !r.has("alice/nginx") || r.Total != 1 || len(r.Results) != 1 {
				t.Errorf("%q sort %s: %+v", who, s, r)
			}
		}
	}
	if r := e.search("alice", "nginx-vualt"); !r.has("alice/nginx-vault") || r.Total != 1 {
		t.Errorf("owner searching nginx-vualt: %+v", r)
	}
	if r := e.search("mallory", "nginx-vualt"); r.Total != 0 || len(r.Results) != 0 {
		t.Errorf("outsider searching nginx-vualt: %+v", r)
	}
}
