package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wharfhub/wharf/models"
)

// A token made by an expiring token never outlives it: one that asks for
// a later expiry is refused, one that does not say expires with its
// parent, and registry tokens issued for it end when it does.
func TestChildTokenExpiresWithItsParent(t *testing.T) {
	e := newEnv(t, "alice")
	parentExp := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	var parent struct{ Token string }
	e.must("POST", "/api/v1/tokens", "alice", map[string]any{"name": "parent", "scopes": []string{"read", "admin"}, "expires_at": parentExp}, 201).json(&parent)
	bearer := "Bearer " + parent.Token

	e.must("POST", "/api/v1/tokens", bearer, map[string]any{"name": "later", "scopes": []string{"read"},
		"expires_at": parentExp.Add(time.Hour)}, 403)
	var child struct {
		ExpiresAt *time.Time `json:"expires_at"`
	}
	e.must("POST", "/api/v1/tokens", bearer, map[string]any{"name": "forever", "scopes": []string{"read"}}, 201).json(&child)
	if child.ExpiresAt == nil || child.ExpiresAt.After(parentExp) {
		t.Fatalf("a child of a token expiring at %v expires at %v", parentExp, child.ExpiresAt)
	}
	e.must("POST", "/api/v1/tokens", bearer, map[string]any{"name": "sooner", "scopes": []string{"read"},
		"expires_at": parentExp.Add(-time.Minute)}, 201)
	// A password login is not bound by any token's expiry.
	e.must("POST", "/api/v1/tokens", "alice", map[string]any{"name": "mine", "scopes": []string{"read"}}, 201)
}

// The token realm refuses a request for more scopes than any client asks
// for at once, quickly, and merges repeats instead of signing them.
func TestTokenRealmBoundsScopes(t *testing.T) {
	e := newEnv(t, "alice")
	q := url.Values{"service": {"wharf.test"}}
	for i := range 10000 {
		q.Add("scope", fmt.Sprintf("repository:alice/r%d:pull", i))
	}
	start := time.Now()
	req, _ := http.NewRequest("POST", e.srv.URL+"/v2/token", strings.NewReader(q.Encode()+"&grant_type=password&username=alice&password="+pw))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest {
		t.Fatalf("10,000 scopes: %d, want 400", res.StatusCode)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("refusing 10,000 scopes took %v", d)
	}

	// A form larger than any token request is refused without being read whole.
	big := "grant_type=password&username=alice&password=" + pw + "&pad=" + strings.Repeat("x", 1<<20)
	req, _ = http.NewRequest("POST", e.srv.URL+"/v2/token", strings.NewReader(big))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode < 400 || res.StatusCode >= 500 {
		t.Fatalf("a 1 MiB token form: %d, want a 4xx", res.StatusCode)
	}

	// Repeats merge: 500 copies of one scope make one grant.
	scope := strings.TrimSuffix(strings.Repeat("repository:alice/x:pull ", 500), " ")
	tok, access := e.registryToken("alice", scope)
	if len(access) != 1 || len(tok) > 4096 {
		t.Fatalf("500 repeats of one scope: %d grants in a %d-byte token", len(access), len(tok))
	}
}

// The catalog filters visibility in the database: how many repositories
// are hidden does not change how many queries a page costs, and what it
// lists is exactly what the caller may pull.
func TestCatalogCostsNoQueryPerHiddenRepository(t *testing.T) {
	e := newEnv(t, "alice", "bob")
	ctx := context.Background()
	for i := range 300 {
		r := &models.Repository{Name: fmt.Sprintf("alice/p%03d", i), Visibility: models.VisibilityPrivate}
		if err := e.app.DB.Repositories.Create(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	e.must("POST", "/api/v1/repositories", "alice", map[string]string{"namespace": "alice", "name": "zz-public"}, 201)
	e.must("POST", "/api/v1/repositories", "alice", map[string]string{"namespace": "alice", "name": "zz-shared", "visibility": "private"}, 201)
	e.must("PUT", "/api/v1/repositories/alice/zz-shared/collaborators/bob", "alice", map[string]string{"permission": "read"}, 200)
	var queries atomic.Int64
	e.app.DB.OnQuery(func() { queries.Add(1) })

	catalog := func(user, query string) []string {
		t.Helper()
		tok, _ := e.registryToken(user, "registry:catalog:*")
		queries.Store(0)
		r := e.must("GET", "/v2/_catalog"+query, "Bearer "+tok, nil, 200)
		var body struct{ Repositories []string }
		r.json(&body)
		return body.Repositories
	}
	if got := catalog("", "?n=1"); !slices.Equal(got, []string{"alice/zz-public"}) {
		t.Fatalf("anonymous catalog n=1: %v", got)
	}
	if n := queries.Load(); n > 3 {
		t.Fatalf("an anonymous catalog page past 300 private repositories ran %d queries", n)
	}
	if got := catalog("bob", ""); !slices.Equal(got, []string{"alice/zz-public", "alice/zz-shared"}) {
		t.Fatalf("bob's catalog: %v", got)
	}
	if got := catalog("alice", "?n=1000"); len(got) != 302 {
		t.Fatalf("alice's catalog lists %d repositories, want 302", len(got))
	}
	// A token limited to one repository lists only that one.
	var tok struct{ Token string }
	e.must("POST", "/api/v1/tokens", "alice", map[string]any{"name": "one", "scopes": []string{"read"}, "repositories": []string{"alice/p007"}}, 201).json(&tok)
	req, _ := http.NewRequest("GET", e.srv.URL+"/v2/_catalog", nil)
	req.SetBasicAuth("alice", tok.Token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body struct{ Repositories []string }
	_ = json.NewDecoder(res.Body).Decode(&body)
	if !slices.Equal(body.Repositories, []string{"alice/p007"}) {
		t.Fatalf("a token for alice/p007 lists %v", body.Repositories)
	}
}

// A profile tells others neither the email nor whether the account is a
// site administrator; the account itself and administrators see both.
func TestProfileHidesAdminFlag(t *testing.T) {
	e := newEnv(t, "alice", "root")
	for _, tc := range []struct {
		caller string
		shown  bool
	}{{"", false}, {"alice", false}, {"root", true}} {
		var u map[string]any
		e.must("GET", "/api/v1/users/root", tc.caller, nil, 200).json(&u)
		_, admin := u["is_admin"]
		_, email := u["email"]
		if admin != tc.shown || email != tc.shown {
			t.Errorf("root's profile as %q: %v", tc.caller, u)
		}
	}
}

// DELETE /api/v1/tokens revokes every token of the account at once.
func TestRevokeAllTokens(t *testing.T) {
	e := newEnv(t, "alice", "bob")
	var a1, a2, b1 struct{ Token string }
	e.must("POST", "/api/v1/tokens", "alice", map[string]any{"name": "one"}, 201).json(&a1)
	e.must("POST", "/api/v1/tokens", "alice", map[string]any{"name": "two", "scopes": []string{"read", "admin"}}, 201).json(&a2)
	e.must("POST", "/api/v1/tokens", "bob", map[string]any{"name": "bob's"}, 201).json(&b1)
	e.must("DELETE", "/api/v1/tokens", "Bearer "+a1.Token, nil, 403) // no admin scope
	var out struct{ Revoked int }
	e.must("DELETE", "/api/v1/tokens", "Bearer "+a2.Token, nil, 200).json(&out)
	if out.Revoked != 2 {
		t.Fatalf("revoked %d tokens, want 2", out.Revoked)
	}
	e.must("GET", "/api/v1/user", "Bearer "+a1.Token, nil, 401)
	e.must("GET", "/api/v1/user", "Bearer "+a2.Token, nil, 401)
	e.must("GET", "/api/v1/user", "Bearer "+b1.Token, nil, 200)
	e.must("GET", "/api/v1/user", "alice", nil, 200)
}

// A token without the read scope, or limited to one repository, costs
// the catalog one query too, and lists what it may pull.
func TestCatalogOfLimitedTokensIsOneQuery(t *testing.T) {
	e := newEnv(t, "alice")
	ctx := context.Background()
	for i := range 300 {
		if err := e.app.DB.Repositories.Create(ctx, &models.Repository{Name: fmt.Sprintf("alice/p%03d", i), Visibility: models.VisibilityPublic}); err != nil {
			t.Fatal(err)
		}
	}
	var queries atomic.Int64
	e.app.DB.OnQuery(func() { queries.Add(1) })
	for _, tc := range []struct {
		name, scopes string
		repos        []string
		want         []string
	}{
		{"write only", "write", nil, []string{}},
		{"one repository", "read", []string{"alice/p250"}, []string{"alice/p250"}},
	} {
		var tok struct{ Token string }
		e.must("POST", "/api/v1/tokens", "alice", map[string]any{"name": tc.name, "scopes": []string{tc.scopes}, "repositories": tc.repos}, 201).json(&tok)
		req, _ := http.NewRequest("GET", e.srv.URL+"/v2/_catalog?n=10", nil)
		req.SetBasicAuth("alice", tok.Token)
		queries.Store(0)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body struct{ Repositories []string }
		_ = json.NewDecoder(res.Body).Decode(&body)
		res.Body.Close()
		if !slices.Equal(body.Repositories, tc.want) {
			t.Errorf("%s: catalog %v, want %v", tc.name, body.Repositories, tc.want)
		}
		// Authentication reads the token and its owner; the catalog adds one.
		if n := queries.Load(); n > 4 {
			t.Errorf("%s: the catalog ran %d queries", tc.name, n)
		}
	}
}
