package api_test

import (
	"strings"
	"testing"
)

// The instances Wharf's security audit found (3, 11, 12 and 15), each as
// it was reported; routes_rules_test.go checks their classes on every
// route.

// Audit 3: a 200 MB anonymous POST to the callback route was read whole.
// Now the callback's token is checked before anything of the body is
// read, and a body is read no further than 256 KiB.
func TestAuditAnonymousCallbackReadsNoBody(t *testing.T) {
	e := newCountingEnv(t, "alice")
	const size = 8 << 20
	res, read := e.raw("POST", "/api/v1/webhooks/callback/x/y", "", size, true)
	if res.status != 404 || read != 0 {
		t.Fatalf("callback with a wrong token: %d %s, read %d bytes; want 404 and nothing read", res.status, res.body, read)
	}
	res, read = e.raw("POST", "/api/v1/webhooks/callback/x/y", "", 200<<20, false)
	if res.status != 413 || read != 0 || !strings.Contains(string(res.body), `"too_large"`) {
		t.Fatalf("200 MB Content-Length: %d %s, read %d bytes; want 413 too_large unread", res.status, res.body, read)
	}
	// Signed in, a stream is cut at the limit.
	e.repo("alice", "alice", "app", "public")
	res, read = e.raw("POST", "/api/v1/repositories/alice/app/comments", basic("alice"), size, true)
	if res.status != 413 || read > 256<<10+1 {
		t.Fatalf("8 MB comment stream: %d %s, read %d bytes; want 413 and at most 256 KiB read", res.status, res.body, read)
	}
}

// Audit 11: a PATCH with an admin-only token applied the change, then
// answered 404. Now the answer is the repository as changed, and a token
// that may not change it changes nothing.
func TestAuditAdminTokenPatchAnswersWhatItDid(t *testing.T) {
	e := newEnv(t, "alice")
	e.repo("alice", "alice", "app", "private")
	var admin, read struct{ Token string }
	e.must("POST", "/api/v1/tokens", "alice", map[string]any{"name": "admin", "scopes": []string{"admin"}}, 201).json(&admin)
	e.must("POST", "/api/v1/tokens", "alice", map[string]any{"name": "read", "scopes": []string{"read"}}, 201).json(&read)

	var got struct{ Description, Visibility string }
	e.must("PATCH", "/api/v1/repositories/alice/app", "Bearer "+admin.Token, map[string]string{"description": "managed"}, 200).json(&got)
	if got.Description != "managed" || got.Visibility != "private" {
		t.Fatalf("the answer does not show the change: %+v", got)
	}
	e.must("GET", "/api/v1/repositories/alice/app", "alice", nil, 200).json(&got)
	if got.Description != "managed" {
		t.Fatalf("stored: %+v", got)
	}
	e.must("PATCH", "/api/v1/repositories/alice/app", "Bearer "+read.Token, map[string]string{"description": "not allowed"}, 403)
	e.must("GET", "/api/v1/repositories/alice/app", "alice", nil, 200).json(&got)
	if got.Description != "managed" {
		t.Fatalf("a refused PATCH changed the repository: %+v", got)
	}
}

// Audit 12: a read token could post comments, star and read usage. Every
// write needs the write scope, and usage the account.
func TestAuditReadTokenCannotWrite(t *testing.T) {
	e := newEnv(t, "alice")
	e.repo("alice", "alice", "app", "public")
	tokens := map[string]string{}
	for name, scopes := range map[string][]string{"read": {"read"}, "write": {"read", "write"}, "admin": {"admin"}} {
		var tok struct{ Token string }
		e.must("POST", "/api/v1/tokens", "alice", map[string]any{"name": name, "scopes": scopes}, 201).json(&tok)
		tokens[name] = "Bearer " + tok.Token
	}
	e.must("POST", "/api/v1/repositories/alice/app/comments", tokens["read"], map[string]string{"body": "hi"}, 403)
	e.must("PUT", "/api/v1/repositories/alice/app/star", tokens["read"], nil, 403)
	e.must("GET", "/api/v1/namespaces/alice/usage", tokens["read"], nil, 403)
	var cs []any
	e.must("GET", "/api/v1/repositories/alice/app/comments", tokens["read"], nil, 200).json(&cs)
	var star struct {
		StarCount int64 `json:"star_count"`
	}
	e.must("GET", "/api/v1/repositories/alice/app/star", tokens["read"], nil, 200).json(&star)
	if len(cs) != 0 || star.StarCount != 0 {
		t.Fatalf("a read token wrote: %d comments, %d stars", len(cs), star.StarCount)
	}
	e.must("POST", "/api/v1/repositories/alice/app/comments", tokens["write"], map[string]string{"body": "hi"}, 201)
	e.must("PUT", "/api/v1/repositories/alice/app/star", tokens["write"], nil, 200)
	e.must("GET", "/api/v1/namespaces/alice/usage", tokens["write"], nil, 403)
	e.must("GET", "/api/v1/namespaces/alice/usage", tokens["admin"], nil, 200)
	e.must("GET", "/api/v1/namespaces/alice/usage", "alice", nil, 200)
}

// Audit 15: NUL bytes were stored in token names, webhook names and
// secrets, and emails (PostgreSQL then answers 500).
func TestAuditNULIsNeverStored(t *testing.T) {
	e := newEnv(t, "alice")
	e.repo("alice", "alice", "app", "public")
	hook := func(name, secret string) map[string]any {
		return map[string]any{"name": name, "url": "https://ci.example.com/hook", "secret": secret}
	}
	for _, c := range []struct {
		what, method, path string
		body               any
	}{
		{"token name", "POST", "/api/v1/tokens", map[string]any{"name": "ci\x00"}},
		{"webhook name", "POST", "/api/v1/repositories/alice/app/webhooks", hook("ci\x00", "")},
		{"webhook secret", "POST", "/api/v1/repositories/alice/app/webhooks", hook("ci", "s\x00")},
		{"namespace webhook secret", "POST", "/api/v1/namespaces/alice/webhooks", hook("ci", "s\x00")},
		{"email", "PATCH", "/api/v1/user", map[string]any{"email": "a\x00@example.com"}},
		{"organization description", "POST", "/api/v1/orgs", map[string]any{"name": "acme", "description": "a\x00"}},
	} {
		if r := e.call(c.method, c.path, "alice", c.body); r.status != 400 || !strings.Contains(string(r.body), `"invalid"`) {
			t.Errorf("%s with NUL: %d %s, want 400 invalid", c.what, r.status, r.body)
		}
	}
	var hooks, toks []any
	e.must("GET", "/api/v1/repositories/alice/app/webhooks", "alice", nil, 200).json(&hooks)
	e.must("GET", "/api/v1/tokens", "alice", nil, 200).json(&toks)
	var me struct{ Email string }
	e.must("GET", "/api/v1/user", "alice", nil, 200).json(&me)
	if len(hooks) != 0 || len(toks) != 0 || me.Email != "alice@example.com" {
		t.Fatalf("stored: %d webhooks, %d tokens, email %q", len(hooks), len(toks), me.Email)
	}
}
