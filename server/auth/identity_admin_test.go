package auth

import "testing"

func TestCanAdministerSite(t *testing.T) {
	for _, c := range []struct {
		name string
		id   *Identity
		want bool
	}{
		{"anonymous", nil, false},
		{"a user", &Identity{UserID: 1}, false},
		{"an admin's session", &Identity{UserID: 1, IsAdmin: true}, true},
		{"an admin's admin token", &Identity{UserID: 1, IsAdmin: true, Scopes: []string{ScopeAdmin}}, true},
		{"an admin's read token", &Identity{UserID: 1, IsAdmin: true, Scopes: []string{ScopeRead, ScopeWrite}}, false},
		{"an admin's token for one repository", &Identity{UserID: 1, IsAdmin: true, Scopes: []string{ScopeAdmin}, Repos: []string{"a/b"}}, false},
	} {
		if got := c.id.CanAdministerSite(); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}
