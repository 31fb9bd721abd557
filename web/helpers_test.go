package web_test

import (
	"testing"

	"github.com/wharfhub/wharf/server/auth"
	"github.com/wharfhub/wharf/server/hub"
)

func mustID(t *testing.T, e *env, user string) *auth.Identity {
	t.Helper()
	u, err := e.app.DB.Users.GetByName(t.Context(), user)
	if err != nil {
		t.Fatal(err)
	}
	return &auth.Identity{UserID: u.ID, Username: u.Username}
}

func hubTarget(repo string) hub.Target { return hub.Target{Repository: repo} }
