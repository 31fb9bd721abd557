package registry_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"
)

// Immutable tags: once a tag a rule protects exists, a push may not move
// it and nothing may delete it, over /v2/ and the API alike; pushing
// the same manifest again is no move. Rules of the namespace count too.
func TestImmutableTags(t *testing.T) {
	e := newEnv(t)
	const repo = "alice/app"
	a := e.image(repo, "one")
	b := e.image(repo, "two")
	if r := e.putManifest(repo, "v1", a, ociImage); r.status != http.StatusCreated {
		t.Fatalf("push v1: %d %s", r.status, r.body)
	}
	rule := func(path, pattern string) int64 {
		t.Helper()
		r := e.do(as("POST", path+"/immutable-tags", mustJSON(t, map[string]string{"pattern": pattern})))
		if r.status != http.StatusCreated {
			t.Fatalf("add rule %s: %d %s", pattern, r.status, r.body)
		}
		var out struct{ ID int64 }
		_ = json.Unmarshal(r.body, &out)
		return out.ID
	}
	id := rule("/api/v1/repositories/"+repo, "v*")
	denied := func(what string, r resp, rule string) {
		t.Helper()
		if r.status != http.StatusForbidden || !strings.Contains(string(r.body), "DENIED") || !strings.Contains(string(r.body), rule) {
			t.Errorf("%s: %d %s, want DENIED naming %s", what, r.status, r.body, rule)
		}
	}
	if r := e.putManifest(repo, "v1", a, ociImage); r.status != http.StatusCreated {
		t.Errorf("the same manifest to v1 again: %d %s", r.status, r.body)
	}
	denied("moving v1", e.putManifest(repo, "v1", b, ociImage), `rule \"v*\" of alice/app`)
	if r := e.putManifest(repo, "v2", b, ociImage); r.status != http.StatusCreated {
		t.Errorf("a new tag under the rule: %d %s", r.status, r.body)
	}
	denied("moving v2", e.putManifest(repo, "v2", a, ociImage), "v*")
	for _, m := range [][]byte{b, a} {
		if r := e.putManifest(repo, "latest", m, ociImage); r.status != http.StatusCreated {
			t.Errorf("moving latest, which no rule protects: %d %s", r.status, r.body)
		}
	}
	denied("deleting v1", e.do(as("DELETE", "/v2/"+repo+"/manifests/v1", nil)), "v*")
	denied("deleting v1's manifest", e.do(as("DELETE", "/v2/"+repo+"/manifests/"+digest.FromBytes(a).String(), nil)), "v*")
	if r := e.do(as("POST", "/api/v1/repositories/"+repo+"/tags/delete", []byte(`{"tags":["v1"]}`))); r.status != http.StatusForbidden ||
		!strings.Contains(string(r.body), "immutable") {
		t.Errorf("deleting v1 through the API: %d %s", r.status, r.body)
	}
	if r := e.do(as("GET", "/v2/"+repo+"/manifests/v1", nil)); r.status != http.StatusOK || r.header.Get("Docker-Content-Digest") != digest.FromBytes(a).String() {
		t.Errorf("v1 after all that: %d %s", r.status, r.header.Get("Docker-Content-Digest"))
	}

	// The namespace's rules hold in its repositories.
	rule("/api/v1/namespaces/alice", "release-*")
	if r := e.putManifest(repo, "release-1", a, ociImage); r.status != http.StatusCreated {
		t.Fatalf("push release-1: %d %s", r.status, r.body)
	}
	denied("moving release-1", e.putManifest(repo, "release-1", b, ociImage), `rule \"release-*\" of alice`)

	// Without the rule, the tag moves and goes again.
	if r := e.do(as("DELETE", "/api/v1/repositories/"+repo+"/immutable-tags/"+strconv.FormatInt(id, 10), nil)); r.status != http.StatusNoContent {
		t.Fatalf("delete rule: %d %s", r.status, r.body)
	}
	if r := e.putManifest(repo, "v1", b, ociImage); r.status != http.StatusCreated {
		t.Errorf("moving v1 without its rule: %d %s", r.status, r.body)
	}
	// Bad patterns are refused, and nobody but alice manages her rules.
	for _, p := range []string{"", "[", strings.Repeat("x", 129)} {
		if r := e.do(as("POST", "/api/v1/repositories/"+repo+"/immutable-tags", mustJSON(t, map[string]string{"pattern": p}))); r.status != http.StatusBadRequest {
			t.Errorf("pattern %q: %d %s", p, r.status, r.body)
		}
	}
	q := req{method: "POST", path: "/api/v1/repositories/" + repo + "/immutable-tags", user: bob, pw: bobPw, body: []byte(`{"pattern":"x"}`)}
	if r := e.do(q); r.status != http.StatusForbidden && r.status != http.StatusNotFound {
		t.Errorf("bob adds a rule: %d %s", r.status, r.body)
	}
}

// Two pushes that race to create one immutable tag with different
// manifests: one wins, the other is refused, and the tag never moves.
func TestImmutableTagRace(t *testing.T) {
	e := newEnv(t)
	const repo = "alice/app"
	if r := e.do(as("POST", "/api/v1/repositories", []byte(`{"namespace":"alice","name":"app"}`))); r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	if r := e.do(as("POST", "/api/v1/repositories/"+repo+"/immutable-tags", []byte(`{"pattern":"v*"}`))); r.status != http.StatusCreated {
		t.Fatalf("rule: %d %s", r.status, r.body)
	}
	for round := range 5 {
		tag := "v" + strconv.Itoa(round)
		ms := [][]byte{e.image(repo, tag+"a"), e.image(repo, tag+"b"), e.image(repo, tag+"c")}
		codes := make([]int, len(ms))
		var wg sync.WaitGroup
		for i, m := range ms {
			wg.Go(func() { codes[i] = e.putManifest(repo, tag, m, ociImage).status })
		}
		wg.Wait()
		won := 0
		for i, c := range codes {
			switch c {
			case http.StatusCreated:
				won++
				if r := e.do(as("GET", "/v2/"+repo+"/manifests/"+tag, nil)); r.header.Get("Docker-Content-Digest") != digest.FromBytes(ms[i]).String() {
					t.Errorf("%s: the push that got 201 is not what the tag holds", tag)
				}
			case http.StatusForbidden:
			default:
				t.Errorf("%s: push %d answered %d", tag, i, c)
			}
		}
		if won != 1 {
			t.Errorf("%s: %d pushes won (%v)", tag, won, codes)
		}
	}
}
