package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
)

// pushBlob uploads b to repo as user with Basic credentials.
func (e *env) pushBlob(user, repo string, b []byte) digest.Digest {
	e.t.Helper()
	d := digest.FromBytes(b)
	req, _ := http.NewRequest("POST", e.srv.URL+"/v2/"+repo+"/blobs/uploads/?digest="+d.String(), strings.NewReader(string(b)))
	req.SetBasicAuth(user, pw)
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 201 {
		e.t.Fatalf("push blob to %s: %v %v", repo, err, res.Status)
	}
	res.Body.Close()
	return d
}

// A mount from a repository the caller cannot read becomes a plain upload
// and links nothing (Zot CVE-2024-39897).
func TestMountNeedsReadOnSource(t *testing.T) {
	e := newEnv(t, "alice", "mallory")
	e.must("POST", "/api/v1/repositories", "alice", map[string]string{"namespace": "alice", "name": "secret", "visibility": "private"}, 201)
	d := e.pushBlob("alice", "alice/secret", []byte("private layer"))
	for _, door := range []string{"basic", "token"} {
		who := "mallory"
		if door == "token" {
			tok, _ := e.registryToken("mallory", "repository:mallory/x:pull,push repository:alice/secret:pull")
			who = "Bearer " + tok
		}
		r := e.call("POST", "/v2/mallory/x/blobs/uploads/?mount="+d.String()+"&from=alice/secret", who, nil)
		if r.status != 202 {
			t.Fatalf("%s: mount answered %d %s", door, r.status, r.body)
		}
		r = e.call("POST", "/v2/mallory/x/blobs/uploads/?mount="+d.String(), who, nil)
		if r.status != 202 {
			t.Fatalf("%s: anonymous mount answered %d", door, r.status)
		}
		if r := e.call("HEAD", "/v2/mallory/x/blobs/"+d.String(), "mallory", nil); r.status != 404 {
			t.Fatalf("%s: blob linked without read access: %d", door, r.status)
		}
	}
}

// Ids of other users' objects are not found (Harbor CVE-2022-31666..71).
func TestObjectIDsOfOthers(t *testing.T) {
	e := newEnv(t, "alice", "mallory")
	var tok struct{ ID int64 }
	e.must("POST", "/api/v1/tokens", "alice", map[string]any{"name": "ci"}, 201).json(&tok)
	e.must("DELETE", "/api/v1/tokens/"+itoa(tok.ID), "mallory", nil, 404)
	e.must("POST", "/api/v1/orgs", "alice", map[string]string{"name": "alicorp"}, 201)
	e.must("PUT", "/api/v1/orgs/alicorp/members/mallory", "mallory", map[string]string{"role": "owner"}, 403)
	e.must("PATCH", "/api/v1/orgs/alicorp", "mallory", map[string]string{"member_permission": "admin"}, 403)
	e.must("POST", "/api/v1/repositories", "alice", map[string]string{"namespace": "alicorp", "name": "app", "visibility": "private"}, 201)
	e.must("PUT", "/api/v1/repositories/alicorp/app/collaborators/mallory", "mallory", map[string]string{"permission": "admin"}, 404)
	e.must("POST", "/api/v1/repositories", "mallory", map[string]string{"namespace": "alicorp", "name": "evil"}, 403)
	e.must("GET", "/api/v1/tokens", "alice", nil, 200)
}

// is_admin in a profile body is ignored (Harbor CVE-2019-16097).
func TestNoMassAssignment(t *testing.T) {
	e := newEnv(t, "alice")
	r := e.must("PATCH", "/api/v1/user", "alice", map[string]any{"email": "new@example.com", "is_admin": true, "id": 99, "username": "root"}, 200)
	var u struct {
		ID       int64
		Username string
		Email    string
		IsAdmin  bool `json:"is_admin"`
	}
	r.json(&u)
	if u.IsAdmin || u.Username != "alice" || u.ID == 99 || u.Email != "new@example.com" {
		t.Fatalf("profile update assigned more than email: %+v", u)
	}
	e.must("PATCH", "/api/v1/users/alice", "alice", map[string]any{"disabled": false}, 403)
}

// A removed collaborator gets no push in the next token request, and a
// revoked token stops working at once (Zot CVE-2025-23208).
func TestRevocationIsImmediate(t *testing.T) {
	e := newEnv(t, "alice", "will")
	e.must("POST", "/api/v1/repositories", "alice", map[string]string{"namespace": "alice", "name": "app", "visibility": "private"}, 201)
	e.must("PUT", "/api/v1/repositories/alice/app/collaborators/will", "alice", map[string]string{"permission": "write"}, 200)
	_, access := e.registryToken("will", "repository:alice/app:pull,push")
	if len(access) != 1 || len(access[0]["actions"].([]any)) != 2 {
		t.Fatalf("collaborator token: %v", access)
	}
	e.must("DELETE", "/api/v1/repositories/alice/app/collaborators/will", "alice", nil, 204)
	_, access = e.registryToken("will", "repository:alice/app:pull,push")
	if len(access[0]["actions"].([]any)) != 0 {
		t.Fatalf("removed collaborator still granted %v", access)
	}
	e.must("POST", "/v2/alice/app/blobs/uploads/", "will", nil, 404)

	var tok struct {
		ID    int64
		Token string
	}
	e.must("POST", "/api/v1/tokens", "alice", map[string]any{"name": "ci"}, 201).json(&tok)
	e.must("GET", "/api/v1/user", "Bearer "+tok.Token, nil, 200)
	e.must("DELETE", "/api/v1/tokens/"+itoa(tok.ID), "alice", nil, 204)
	e.must("GET", "/api/v1/user", "Bearer "+tok.Token, nil, 401)
	req, _ := http.NewRequest("GET", e.srv.URL+"/v2/token?scope=repository:alice/app:pull", nil)
	req.SetBasicAuth("alice", tok.Token)
	if res, _ := http.DefaultClient.Do(req); res.StatusCode != 401 {
		t.Fatalf("revoked token got a registry token: %d", res.StatusCode)
	}
}

// A token scoped to one repository cannot touch another or the account
// API, and cannot mint a broader token (Gitea CVE-2025-68944).
func TestScopedTokens(t *testing.T) {
	e := newEnv(t, "alice")
	for _, n := range []string{"x", "y"} {
		e.must("POST", "/api/v1/repositories", "alice", map[string]string{"namespace": "alice", "name": n, "visibility": "private"}, 201)
	}
	var tok struct{ Token string }
	e.must("POST", "/api/v1/tokens", "alice", map[string]any{"name": "x only", "scopes": []string{"read", "write"}, "repositories": []string{"alice/x"}}, 201).json(&tok)
	bearer := "Bearer " + tok.Token
	e.must("GET", "/api/v1/repositories/alice/x", bearer, nil, 200)
	e.must("GET", "/api/v1/repositories/alice/y", bearer, nil, 404)
	e.must("GET", "/api/v1/repositories/alice/x/collaborators", bearer, nil, 403)
	e.must("DELETE", "/api/v1/repositories/alice/x", bearer, nil, 403)
	e.must("POST", "/api/v1/tokens", bearer, map[string]any{"name": "broader"}, 403)
	e.must("POST", "/api/v1/orgs", bearer, map[string]any{"name": "neworg"}, 403)
	e.must("POST", "/v2/alice/x/blobs/uploads/", bearer, nil, 202)
	e.must("POST", "/v2/alice/y/blobs/uploads/", bearer, nil, 404)
	e.must("DELETE", "/v2/alice/x/manifests/latest", bearer, nil, 403)
	_, access := e.registryToken("", "repository:alice/y:pull")
	if len(access[0]["actions"].([]any)) != 0 {
		t.Fatal("anonymous token granted a private repository")
	}
	// Through docker login: the token as a password gets the same limits.
	req, _ := http.NewRequest("GET", e.srv.URL+"/v2/token?scope=repository:alice/y:pull&scope=repository:alice/x:pull,push,delete", nil)
	req.SetBasicAuth("alice", tok.Token)
	res, _ := http.DefaultClient.Do(req)
	if res.StatusCode != 200 {
		t.Fatalf("token login: %d", res.StatusCode)
	}
	res.Body.Close()
	// An admin-scoped token may mint narrower tokens only.
	var admin struct{ Token string }
	e.must("POST", "/api/v1/tokens", "alice", map[string]any{"name": "admin", "scopes": []string{"read", "admin"}}, 201).json(&admin)
	e.must("POST", "/api/v1/tokens", "Bearer "+admin.Token, map[string]any{"name": "narrow", "scopes": []string{"read"}}, 201)
	e.must("POST", "/api/v1/tokens", "Bearer "+admin.Token, map[string]any{"name": "wider", "scopes": []string{"read", "write"}}, 403)
}

// Unknown users and wrong passwords get the same answer in about the same
// time, and repeated failures get 429 with Retry-After (Harbor
// CVE-2019-3990).
func TestNoAccountEnumerationAndThrottling(t *testing.T) {
	e := newEnv(t, "alice")
	get := func(user, pass string) (result, time.Duration) {
		req, _ := http.NewRequest("GET", e.srv.URL+"/v2/token?scope=repository:alice/x:pull", nil)
		req.SetBasicAuth(user, pass)
		start := time.Now()
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		d := time.Since(start)
		defer res.Body.Close()
		b := make([]byte, 4096)
		n, _ := res.Body.Read(b)
		return result{res.StatusCode, res.Header, b[:n]}, d
	}
	known, tKnown := get("alice", "wrong-password")
	unknown, tUnknown := get("nobody", "wrong-password")
	if known.status != 401 || unknown.status != 401 || string(known.body) != string(unknown.body) {
		t.Fatalf("answers differ: %d %s / %d %s", known.status, known.body, unknown.status, unknown.body)
	}
	if ratio := float64(tKnown) / float64(tUnknown); ratio < 0.33 || ratio > 3 {
		t.Fatalf("timing differs: known %v, unknown %v", tKnown, tUnknown)
	}
	var last result
	for range 12 {
		last, _ = get("alice", "wrong-password")
	}
	if last.status != 429 || last.header.Get("Retry-After") == "" {
		t.Fatalf("no throttling after repeated failures: %d", last.status)
	}
	// The API and /v2/ throttle the same account.
	if r := e.call("GET", "/api/v1/user", "alice", nil); r.status != 429 {
		t.Fatalf("API not throttled: %d", r.status)
	}
}

func itoa(n int64) string {
	b := []byte{}
	if n == 0 {
		return "0"
	}
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}
