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
