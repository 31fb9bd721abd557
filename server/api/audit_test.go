package api_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
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
