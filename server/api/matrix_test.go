package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/wharfhub/wharf/server"
	"github.com/wharfhub/wharf/server/config"
	"github.com/wharfhub/wharf/server/servertest"
	"github.com/wharfhub/wharf/server/testutil"
)

const pw = "correct-horse-battery"

type env struct {
	t   *testing.T
	app *server.App
	srv *httptest.Server
}

func newEnv(t *testing.T, users ...string) *env {
	t.Helper()
	return openEnv(t, server.Options{}, users...)
}

// openEnv is newEnv with opts.
func openEnv(t *testing.T, opts server.Options, users ...string) *env {
	t.Helper()
	return openEnvConfig(t, opts, nil, users...)
}

// openEnvConfig is openEnv with the configuration changed by configure.
func openEnvConfig(t *testing.T, opts server.Options, configure func(*config.Config), users ...string) *env {
	t.Helper()
	dir := t.TempDir()
	cfg := &config.Config{Addr: "127.0.0.1:0", DataDir: dir, BaseURL: "http://wharf.test", LogLevel: "error", DefaultVisibility: "public",
		Database: testDatabase(t)}
	if configure != nil {
		configure(cfg)
	}
	app, err := server.Open(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		if _, err := app.Accounts.CreateUser(context.Background(), u, u+"@example.com", pw, u == "root"); err != nil {
			t.Fatal(err)
		}
	}
	e := &env{t: t, app: app, srv: httptest.NewServer(servertest.Handler(t, app))}
	t.Cleanup(func() { e.srv.Close(); app.Close() })
	return e
}

type result struct {
	status int
	header http.Header
	body   []byte
}

func (r result) json(v any) { _ = json.Unmarshal(r.body, v) }

// call sends a request; user "" is anonymous, a user with a "Bearer "
// prefix sends that Authorization header instead of Basic credentials.
func (e *env) call(method, path, user string, body any) result {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.srv.URL+path, rd)
	switch {
	case strings.HasPrefix(user, "Bearer "):
		req.Header.Set("Authorization", user)
	case user != "":
		req.SetBasicAuth(user, pw)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return result{res.StatusCode, res.Header, b}
}

func (e *env) must(method, path, user string, body any, status int) result {
	e.t.Helper()
	r := e.call(method, path, user, body)
	if r.status != status {
		e.t.Fatalf("%s %s as %q: %d %s, want %d", method, path, user, r.status, r.body, status)
	}
	return r
}

// registryToken gets a /v2/token for scope as user ("" anonymous).
func (e *env) registryToken(user, scope string) (string, []map[string]any) {
	e.t.Helper()
	r := e.must("GET", "/v2/token?service=wharf.test&scope="+url.QueryEscape(scope), user, nil, 200)
	var tok struct{ Token string }
	r.json(&tok)
	parts := strings.Split(tok.Token, ".")
	var claims struct{ Access []map[string]any }
	payload, _ := jsonSegment(parts[1])
	_ = json.Unmarshal(payload, &claims)
	return tok.Token, claims.Access
}

// The authorization matrix: every kind of caller against public and
// private repositories of a user and of an organization, through /v2/
// with Basic credentials, /v2/ with a registry token, and /api/v1. Every
// door must give the same answer, and hidden repositories must look
// exactly like missing ones.
func TestAuthorizationMatrix(t *testing.T) {
	users := []string{"alice", "mallory", "rita", "will", "adam", "olga", "oscar", "tina", "tom", "tess", "root"}
	e := openEnv(t, server.Options{Search: true}, users...)
	servertest.Run(t, e.app)
	e.must("POST", "/api/v1/orgs", "oscar", map[string]string{"name": "acme"}, 201)
	e.must("PUT", "/api/v1/orgs/acme/members/olga", "oscar", map[string]string{"role": "member"}, 200)
	e.must("PATCH", "/api/v1/orgs/acme", "oscar", map[string]string{"member_permission": "write"}, 200)
	// beta's members reach its private repositories only through teams:
	// tina's team writes to beta/priv, tom's reads all of beta's, tess is
	// in no team.
	e.must("POST", "/api/v1/orgs", "oscar", map[string]string{"name": "beta"}, 201)
	for _, u := range []string{"tina", "tom", "tess"} {
		e.must("PUT", "/api/v1/orgs/beta/members/"+u, "oscar", map[string]string{"role": "member"}, 200)
	}
	e.must("PATCH", "/api/v1/orgs/beta", "oscar", map[string]string{"member_permission": "none"}, 200)
	for _, r := range []struct{ ns, name, vis, owner string }{
		{"alice", "pub", "public", "alice"}, {"alice", "priv", "private", "alice"},
		{"acme", "pub", "public", "oscar"}, {"acme", "priv", "private", "oscar"},
		{"beta", "pub", "public", "oscar"}, {"beta", "priv", "private", "oscar"}, {"beta", "secret", "private", "oscar"},
	} {
		e.must("POST", "/api/v1/repositories", r.owner, map[string]string{"namespace": r.ns, "name": r.name, "visibility": r.vis}, 201)
	}
	e.must("POST", "/api/v1/orgs/beta/teams", "oscar", map[string]any{"name": "devs", "permission": "write",
		"members": []string{"tina"}, "repositories": []string{"priv"}}, 201)
	e.must("POST", "/api/v1/orgs/beta/teams", "oscar", map[string]any{"name": "readers", "permission": "read",
		"members": []string{"tom"}, "all_repositories": true}, 201)
	for _, repo := range []string{"alice/pub", "alice/priv"} {
		for user, perm := range map[string]string{"rita": "read", "will": "write", "adam": "admin"} {
			e.must("PUT", "/api/v1/repositories/"+repo+"/collaborators/"+user, "alice", map[string]string{"permission": perm}, 200)
		}
	}
	const (
		none = iota
		read
		write
		admin
	)
	level := map[string]map[string]int{
		"":        {"alice/pub": read, "alice/priv": none, "acme/pub": read, "acme/priv": none},
		"mallory": {"alice/pub": read, "alice/priv": none, "acme/pub": read, "acme/priv": none},
		"alice":   {"alice/pub": admin, "alice/priv": admin, "acme/pub": read, "acme/priv": none},
		"rita":    {"alice/pub": read, "alice/priv": read, "acme/pub": read, "acme/priv": none},
		"will":    {"alice/pub": write, "alice/priv": write, "acme/pub": read, "acme/priv": none},
		"adam":    {"alice/pub": admin, "alice/priv": admin, "acme/pub": read, "acme/priv": none},
		"olga":    {"alice/pub": read, "alice/priv": none, "acme/pub": write, "acme/priv": write},
		"oscar":   {"alice/pub": read, "alice/priv": none, "acme/pub": admin, "acme/priv": admin},
		"tina":    {"alice/pub": read, "alice/priv": none, "acme/pub": read, "acme/priv": none},
		"tom":     {"alice/pub": read, "alice/priv": none, "acme/pub": read, "acme/priv": none},
		"tess":    {"alice/pub": read, "alice/priv": none, "acme/pub": read, "acme/priv": none},
		"root":    {"alice/pub": admin, "alice/priv": admin, "acme/pub": admin, "acme/priv": admin},
	}
	beta := map[string][3]int{ // beta/pub, beta/priv, beta/secret
		"oscar": {admin, admin, admin}, "root": {admin, admin, admin},
		"tina": {read, write, none}, "tom": {read, read, read}, "tess": {read, none, none},
	}
	for user, repos := range level {
		b, ok := beta[user]
		if !ok {
			b = [3]int{read, none, none}
		}
		repos["beta/pub"], repos["beta/priv"], repos["beta/secret"] = b[0], b[1], b[2]
	}
	// expect is the status for an action needing need, given the level.
	expect := func(user string, lvl, need, ok int) int {
		switch {
		case lvl >= need:
			return ok
		case user == "":
			return 401
		case lvl >= read:
			return 403
		}
		return 404
	}
	for user, repos := range level {
		for repo, lvl := range repos {
			name := user
			if name == "" {
				name = "anonymous"
			}
			t.Run(name+" on "+repo, func(t *testing.T) {
				_, access := e.registryToken(user, "repository:"+repo+":pull,push,delete")
				granted := map[string]bool{}
				for _, a := range access {
					if acts, ok := a["actions"].([]any); ok && a["name"] == repo {
						for _, x := range acts {
							granted[x.(string)] = true
						}
					}
				}
				if granted["pull"] != (lvl >= read) || granted["push"] != (lvl >= write) || granted["delete"] != (lvl >= admin) {
					t.Errorf("token grants %v at level %d", granted, lvl)
				}
				tok, _ := e.registryToken(user, "repository:"+repo+":pull,push,delete")
				for _, door := range []string{"basic", "token"} {
					who := user
					if door == "token" {
						who = "Bearer " + tok
					}
					checks := []struct {
						action       string
						method, path string
						need, ok     int
					}{
						{"pull", "GET", "/v2/" + repo + "/tags/list", read, 200},
						{"push", "POST", "/v2/" + repo + "/blobs/uploads/", write, 202},
						{"delete", "DELETE", "/v2/" + repo + "/manifests/no-such-tag", admin, 404},
					}
					for _, c := range checks {
						r := e.call(c.method, c.path, who, nil)
						want := expect(user, lvl, c.need, c.ok)
						if r.status != want {
							t.Errorf("%s via %s: %d %s, want %d", c.action, door, r.status, r.body, want)
						}
						if r.status == 404 && lvl < read && !strings.Contains(string(r.body), "NAME_UNKNOWN") {
							t.Errorf("%s via %s: hidden repository not NAME_UNKNOWN: %s", c.action, door, r.body)
						}
						if r.status == 404 && c.action == "delete" && lvl >= admin && !strings.Contains(string(r.body), "MANIFEST_UNKNOWN") {
							t.Errorf("delete via %s: %s", door, r.body)
						}
					}
				}
				// The API: reading the repository and managing it.
				r := e.call("GET", "/api/v1/repositories/"+repo, user, nil)
				if want := expect(user, lvl, read, 200); r.status != want && !(user == "" && want == 401 && r.status == 404) {
					t.Errorf("API read: %d, want %d", r.status, want)
				}
				r = e.call("GET", "/api/v1/repositories/"+repo+"/collaborators", user, nil)
				want := expect(user, lvl, admin, 200)
				if user == "" && lvl < read {
					want = 404 // nothing to see: anonymous callers get no login hint either
				}
				if r.status != want {
					t.Errorf("API manage: %d %s, want %d", r.status, r.body, want)
				}
			})
		}
	}
	// No private name in any listing a caller cannot read: the catalog,
	// and docker search (/v1/search) through every door.
	searched := func(who string) []string {
		var names []string
		for _, q := range []string{"alice", "acme", "beta", "pub", "priv", "secret"} {
			var page struct {
				NumResults int `json:"num_results"`
				Results    []struct{ Name string }
			}
			e.must("GET", "/v1/search?n=100&q="+q, who, nil, 200).json(&page)
			for _, x := range page.Results {
				names = append(names, x.Name)
			}
		}
		return names
	}
	eventually(t, "the index has every repository", func() bool { return len(searched("root")) >= 7 })
	for user, repos := range level {
		tok, _ := e.registryToken(user, "registry:catalog:*")
		r := e.must("GET", "/v2/_catalog", "Bearer "+tok, nil, 200)
		var cat struct{ Repositories []string }
		r.json(&cat)
		listings := map[string][]string{"catalog": cat.Repositories, "search via token": searched("Bearer " + tok)}
		if user != "" {
			listings["search via basic"] = searched(user)
		}
		for name, list := range listings {
			for repo, lvl := range repos {
				listed := strings.Contains(" "+strings.Join(list, " ")+" ", " "+repo+" ")
				if listed != (lvl >= read) {
					t.Errorf("%s for %q lists %s: %v at level %d", name, user, repo, listed, lvl)
				}
			}
		}
	}
}

func testDatabase(t *testing.T) string { return testutil.Database(t) }
