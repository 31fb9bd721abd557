package registry_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wharfhub/wharf/server"
	"github.com/wharfhub/wharf/server/auth"
	"github.com/wharfhub/wharf/server/config"
	"github.com/wharfhub/wharf/server/servertest"
)

const (
	carol   = "carol"
	carolPw = "carol-password"
)

// searchAnswer is /v1/search's answer, as dockerd decodes it.
type searchAnswer struct {
	NumPages   int         `json:"num_pages"`
	NumResults int         `json:"num_results"`
	Page       int         `json:"page"`
	PageSize   int         `json:"page_size"`
	Query      string      `json:"query"`
	Results    []searchHit `json:"results"`
}

type searchHit struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	StarCount   int    `json:"star_count"`
	IsOfficial  bool   `json:"is_official"`
	IsAutomated bool   `json:"is_automated"`
}

func (a searchAnswer) names() []string {
	var out []string
	for _, r := range a.Results {
		out = append(out, r.Name)
	}
	slices.Sort(out)
	return out
}

// newSearchEnv is a Wharf with search, its indexer running, and:
// alice's public alice/zebra-public (starred by bob and carol) and five
// public alice/herd-N, all about zebras; alice's private
// alice/zebra-secret; the private zoo/zebra-org of alice's organization
// zoo, of which carol is a member. bob is an outsider with a login.
func newSearchEnv(t *testing.T) *env {
	t.Helper()
	e := newEnvOpts(t, t.TempDir(), func(*config.Config) {}, server.Options{Search: true})
	servertest.Run(t, e.app)
	if _, err := e.app.Accounts.CreateUser(context.Background(), carol, carol+"@example.com", carolPw, false); err != nil {
		t.Fatal(err)
	}
	api := func(method, path, user, pw string, body any, want int) {
		t.Helper()
		q := req{method: method, path: path, user: user, pw: pw, header: map[string]string{"Content-Type": "application/json"}}
		if body != nil {
			q.body = mustJSON(t, body)
		}
		if r := e.do(q); r.status != want {
			t.Fatalf("%s %s as %s: %d %s, want %d", method, path, user, r.status, r.body, want)
		}
	}
	repo := func(ns, name, vis, desc string) {
		t.Helper()
		api("POST", "/api/v1/repositories", alice, alicePw, map[string]string{"namespace": ns, "name": name, "visibility": vis, "description": desc}, 201)
	}
	api("POST", "/api/v1/orgs", alice, alicePw, map[string]string{"name": "zoo"}, 201)
	api("PUT", "/api/v1/orgs/zoo/members/carol", alice, alicePw, map[string]string{"role": "member"}, 200)
	repo("alice", "zebra-public", "public", "striped zebra tools")
	repo("alice", "zebra-secret", "private", "striped zebra secrets")
	repo("zoo", "zebra-org", "private", "the zoo's zebra")
	for _, n := range []string{"1", "2", "3", "4", "5"} {
		repo("alice", "herd-"+n, "public", "a zebra herd")
	}
	api("PUT", "/api/v1/repositories/alice/zebra-public/star", bob, bobPw, nil, 200)
	api("PUT", "/api/v1/repositories/alice/zebra-public/star", carol, carolPw, nil, 200)
	deadline := time.Now().Add(5 * time.Second)
	for {
		var a searchAnswer
		r := e.do(req{method: "GET", path: "/v1/search?q=zebra", user: alice, pw: alicePw})
		_ = json.Unmarshal(r.body, &a)
		if a.NumResults == 8 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the index has not caught up: %d %s", r.status, r.body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return e
}

func (e *env) search(authz, query string) (resp, searchAnswer) {
	e.t.Helper()
	q := req{method: "GET", path: "/v1/search?" + query, header: map[string]string{"X-Docker-Token": "true"}}
	if authz != "" {
		q.header["Authorization"] = authz
	}
	r := e.do(q)
	var a searchAnswer
	if r.status == 200 {
		if err := json.Unmarshal(r.body, &a); err != nil {
			e.t.Fatalf("%s: %v %s", query, err, r.body)
		}
	}
	return r, a
}

// basic is the Authorization header of Basic credentials.
func (e *env) basic(user, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+secret))
}

func (e *env) registryToken(user, pw, scope string) string {
	e.t.Helper()
	r := e.do(req{method: "GET", path: "/v2/token?service=wharf.test&scope=" + url.QueryEscape(scope), user: user, pw: pw})
	var tok struct{ Token string }
	if err := json.Unmarshal(r.body, &tok); err != nil || r.status != 200 {
		e.t.Fatalf("token for %s: %d %s", user, r.status, r.body)
	}
	return "Bearer " + tok.Token
}

func (e *env) pat(user string, scopes []string, repos []string) string {
	e.t.Helper()
	u, err := e.app.DB.Users.GetByName(context.Background(), user)
	if err != nil {
		e.t.Fatal(err)
	}
	tok, err := e.app.Accounts.CreateToken(context.Background(), &auth.Identity{UserID: u.ID, Username: u.Username}, "search", scopes, repos, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return tok.Secret
}

// Who sees what: every way of authenticating /v2/ works here, and every
// caller sees public repositories and exactly the private ones it may
// read, in the results and in the count.
func TestSearchPrivacy(t *testing.T) {
	e := newSearchEnv(t)
	public := []string{"alice/herd-1", "alice/herd-2", "alice/herd-3", "alice/herd-4", "alice/herd-5", "alice/zebra-public"}
	with := func(extra ...string) []string { out := slices.Concat(public, extra); slices.Sort(out); return out }
	alicePAT := e.pat(alice, []string{auth.ScopeRead}, nil)
	for _, c := range []struct {
		name  string
		authz string
		want  []string
	}{
		{"anonymous", "", public},
		{"anonymous registry token", e.registryToken("", "", "registry:catalog:search"), public},
		{"owner, Basic password", e.basic(alice, alicePw), with("alice/zebra-secret", "zoo/zebra-org")},
		{"owner, Basic personal access token", e.basic(alice, alicePAT), with("alice/zebra-secret", "zoo/zebra-org")},
		{"owner, personal access token as Bearer", "Bearer " + alicePAT, with("alice/zebra-secret", "zoo/zebra-org")},
		{"owner, registry token", e.registryToken(alice, alicePw, "registry:catalog:search"), with("alice/zebra-secret", "zoo/zebra-org")},
		{"organization member", e.basic(carol, carolPw), with("zoo/zebra-org")},
		{"organization member, registry token", e.registryToken(carol, carolPw, "registry:catalog:search"), with("zoo/zebra-org")},
		{"outsider with a login", e.basic(bob, bobPw), public},
		{"outsider, registry token", e.registryToken(bob, bobPw, "registry:catalog:search"), public},
		// A token limited to some repositories, or without the read
		// scope, sees what anonymous callers see.
		{"owner, token limited to one repository", "Bearer " + e.pat(alice, []string{auth.ScopeRead}, []string{"alice/zebra-secret"}), public},
		{"owner, token without read", "Bearer " + e.pat(alice, []string{auth.ScopeAdmin}, nil), public},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, q := range []string{"q=zebra", "q=zebra&n=100", "q=secret", "q=zoo", "q=striped", "q=zebra-secret"} {
				r, a := e.search(c.authz, q)
				if r.status != 200 {
					t.Fatalf("%s: %d %s", q, r.status, r.body)
				}
				for _, n := range a.names() {
					if !slices.Contains(c.want, n) {
						t.Errorf("%s lists %s", q, n)
					}
				}
				if q == "q=zebra" || q == "q=zebra&n=100" {
					if !slices.Equal(a.names(), c.want) || a.NumResults != len(c.want) {
						t.Errorf("%s: %d results %v, want %v", q, a.NumResults, a.names(), c.want)
					}
				}
				if strings.Contains(fmt.Sprint(a.Results), "secret") && !slices.Contains(c.want, "alice/zebra-secret") {
					t.Errorf("%s: the results show the private repository: %s", q, r.body)
				}
			}
		})
	}
	// Wrong credentials are refused, not taken for anonymous.
	for _, authz := range []string{e.basic(alice, "wrong"), "Bearer not-a-token", "Bearer " + auth.TokenPrefix + "nope"} {
		if r, _ := e.search(authz, "q=zebra"); r.status != 401 || r.code() != "UNAUTHORIZED" {
			t.Errorf("%q: %d %s, want 401", authz, r.status, r.body)
		}
	}
}

// docker search goes through the hub's search, typos and privacy
// included: a name with a typo is found, by who may see it.
func TestSearchTypos(t *testing.T) {
	e := newSearchEnv(t)
	for _, c := range []struct {
		name  string
		authz string
		want  []string
	}{
		{"anonymous", "", []string{"alice/zebra-public"}},
		{"outsider", e.basic(bob, bobPw), []string{"alice/zebra-public"}},
		{"organization member", e.basic(carol, carolPw), []string{"alice/zebra-public", "zoo/zebra-org"}},
		{"owner", e.basic(alice, alicePw), []string{"alice/zebra-public", "alice/zebra-secret", "zoo/zebra-org"}},
	} {
		r, a := e.search(c.authz, "q=zerba")
		if r.status != 200 || !slices.Equal(a.names(), c.want) || a.NumResults != len(c.want) {
			t.Errorf("%s: %d, %d results %v, want %v", c.name, r.status, a.NumResults, a.names(), c.want)
		}
	}
}

// The answer is Docker Hub's shape, with descriptions and stars, paged by
// n and page.
func TestSearchAnswerAndPaging(t *testing.T) {
	e := newSearchEnv(t)
	_, a := e.search("", "q=zebra")
	if a.Query != "zebra" || a.Page != 1 || a.PageSize != 25 || a.NumPages != 1 || a.NumResults != 6 {
		t.Errorf("answer: %+v", a)
	}
	i := slices.IndexFunc(a.Results, func(r searchHit) bool { return r.Name == "alice/zebra-public" })
	if i < 0 || a.Results[i].Description != "striped zebra tools" || a.Results[i].StarCount != 2 || a.Results[i].IsOfficial || a.Results[i].IsAutomated {
		t.Errorf("alice/zebra-public: %+v", a.Results)
	}

	var seen []string
	for _, c := range []struct {
		query                     string
		page, size, pages, result int
		count                     int // results on the page
	}{
		{"q=zebra&n=4", 1, 4, 2, 6, 4},
		{"q=zebra&n=4&page=1", 1, 4, 2, 6, 4},
		{"q=zebra&n=4&page=2", 2, 4, 2, 6, 2},
		{"q=zebra&n=4&page=3", 3, 4, 2, 6, 0},
		{"q=zebra&n=1&page=6", 6, 1, 6, 6, 1},
		// Out of range: clamped, as Docker Hub does.
		{"q=zebra&n=0", 1, 1, 6, 6, 1},
		{"q=zebra&n=-5", 1, 1, 6, 6, 1},
		{"q=zebra&n=1000", 1, 100, 1, 6, 6},
		{"q=zebra&page=0", 1, 25, 1, 6, 6},
		{"q=zebra&page=-2", 1, 25, 1, 6, 6},
		// Nothing to find.
		{"q=giraffe", 1, 25, 0, 0, 0},
		{"q=", 1, 25, 0, 0, 0},
		{"q=++", 1, 25, 0, 0, 0},
		{"", 1, 25, 0, 0, 0},
	} {
		r, a := e.search("", c.query)
		if r.status != 200 || a.Page != c.page || a.PageSize != c.size || a.NumPages != c.pages || a.NumResults != c.result || len(a.Results) != c.count {
			t.Errorf("%s: %d %s", c.query, r.status, r.body)
		}
		if a.Results == nil && r.status == 200 && !strings.Contains(string(r.body), `"results":[]`) {
			t.Errorf("%s: results is not a list: %s", c.query, r.body)
		}
		if strings.HasPrefix(c.query, "q=zebra&n=4&page=") {
			seen = append(seen, a.names()...)
		}
	}
	slices.Sort(seen)
	if len(slices.Compact(seen)) != 6 {
		t.Errorf("the pages of 4 do not cover the 6 results once: %v", seen)
	}
}

// Bad input is a 4xx with OCI error JSON, never a 500.
func TestSearchBadInput(t *testing.T) {
	e := newSearchEnv(t)
	for _, c := range []struct {
		method, path string
		status       int
		code         string
	}{
		{"GET", "/v1/search?q=zebra&n=ten", 400, "PAGINATION_NUMBER_INVALID"},
		{"GET", "/v1/search?q=zebra&n=99999999999999999999", 400, "PAGINATION_NUMBER_INVALID"},
		{"GET", "/v1/search?q=zebra&page=two", 400, "PAGINATION_NUMBER_INVALID"},
		{"GET", "/v1/search?q=zebra&page=99999999999999", 400, "PAGINATION_NUMBER_INVALID"},
		{"GET", "/v1/search?q=zebra&n=100&page=102", 400, "PAGINATION_NUMBER_INVALID"},
		{"GET", "/v1/search?q=" + url.QueryEscape("a\x00b"), 400, "UNSUPPORTED"},
		{"GET", "/v1/search?q=" + url.QueryEscape("a\xffb"), 400, "UNSUPPORTED"},
		{"GET", "/v1/search?q=" + strings.Repeat("z", 300), 400, "UNSUPPORTED"},
		{"POST", "/v1/search?q=zebra", 405, "UNSUPPORTED"},
		{"DELETE", "/v1/search", 405, "UNSUPPORTED"},
		{"GET", "/v1/repositories/alice/zebra-secret/images", 404, "NOT_FOUND"},
		{"GET", "/v1/", 404, "NOT_FOUND"},
	} {
		r := e.do(req{method: c.method, path: c.path})
		if r.status != c.status || r.code() != c.code {
			t.Errorf("%s %s: %d %s, want %d %s", c.method, c.path, r.status, r.body, c.status, c.code)
		}
	}
	if r, _ := e.search("", "q=zebra&n=100&page=101"); r.status != 200 {
		t.Errorf("the last page in reach: %d %s", r.status, r.body)
	}
	// dockerd pings first, and must not be told to send Basic credentials
	// on every request (empty ones when anonymous).
	r := e.do(req{method: "GET", path: "/v1/_ping"})
	if r.status != 200 || r.header.Get("X-Docker-Registry-Standalone") != "false" {
		t.Errorf("ping: %d %v %s", r.status, r.header, r.body)
	}
}

// Without a search index, search answers 503.
func TestSearchUnavailable(t *testing.T) {
	e := newEnv(t)
	r := e.do(req{method: "GET", path: "/v1/search?q=zebra"})
	if r.status != 503 || r.code() != "UNAVAILABLE" || !strings.Contains(string(r.body), "search is not available") {
		t.Errorf("%d %s, want 503 UNAVAILABLE", r.status, r.body)
	}
}
