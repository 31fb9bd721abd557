package api_test

import (
	"strings"
	"testing"
)

// Site admins issue reset links; nobody else does.
func TestResetLinkAPI(t *testing.T) {
	e := newEnv(t, "root", "alice", "bob")
	var link struct {
		User, URL string
		Expires   string `json:"expires_at"`
	}
	r := e.must("POST", "/api/v1/users/Alice/reset-link", "root", nil, 201)
	r.json(&link)
	if link.User != "alice" || !strings.HasPrefix(link.URL, "http://wharf.test/reset-password?token=wrr_") || link.Expires == "" ||
		r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("link = %+v", link)
	}
	e.must("POST", "/api/v1/users/bob/reset-link", "alice", nil, 403)
	e.must("POST", "/api/v1/users/bob/reset-link", "", nil, 401)
	if r := e.must("POST", "/api/v1/users/nobody/reset-link", "root", nil, 404); !strings.Contains(string(r.body), "no account by that name") {
		t.Errorf("unknown: %s", r.body)
	}
	e.must("PATCH", "/api/v1/users/bob", "root", map[string]any{"disabled": true}, 200)
	if r := e.must("POST", "/api/v1/users/bob/reset-link", "root", nil, 400); !strings.Contains(string(r.body), "disabled") {
		t.Errorf("disabled: %s", r.body)
	}
}

// Site admins list and search the accounts, and make admins; the last
// enabled admin stays one.
func TestAdminUsersAPI(t *testing.T) {
	e := newEnv(t, "root", "alice", "bob", "alicia")
	var list struct {
		Total int64
		Users []struct {
			Username string
			IsAdmin  *bool `json:"is_admin"`
		}
	}
	e.must("GET", "/api/v1/users?q=ALI", "root", nil, 200).json(&list)
	if list.Total != 2 || len(list.Users) != 2 || list.Users[0].Username != "alice" || list.Users[1].Username != "alicia" {
		t.Errorf("search = %+v", list)
	}
	e.must("GET", "/api/v1/users?per_page=2&page=2", "root", nil, 200).json(&list)
	if list.Total != 4 || len(list.Users) != 2 || list.Users[0].Username != "bob" {
		t.Errorf("page 2 = %+v", list)
	}
	e.must("GET", "/api/v1/users?q=%25", "root", nil, 200).json(&list)
	if list.Total != 0 {
		t.Errorf("%% matched %d accounts", list.Total)
	}
	e.must("GET", "/api/v1/users", "alice", nil, 403)
	e.must("GET", "/api/v1/users?q=a%00b", "root", nil, 400)

	e.must("PATCH", "/api/v1/users/root", "root", map[string]any{"is_admin": false}, 409) // the last one
	e.must("PATCH", "/api/v1/users/alice", "root", map[string]any{"is_admin": true}, 200)
	e.must("GET", "/api/v1/users", "alice", nil, 200)
	e.must("PATCH", "/api/v1/users/root", "alice", map[string]any{"is_admin": false}, 200)
	e.must("PATCH", "/api/v1/users/alice", "alice", map[string]any{"is_admin": false}, 409)
	e.must("PATCH", "/api/v1/users/bob", "alice", map[string]any{"is_admin": true, "disabled": true}, 400)
	e.must("GET", "/api/v1/users", "root", nil, 403)
}
