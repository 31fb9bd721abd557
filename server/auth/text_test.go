package auth

import (
	"errors"
	"strings"
	"testing"
)

// Account text goes through the one validator, whatever calls the
// service (the API, the UI, `wharf user create`): no NUL, no control
// characters, no invalid UTF-8, and a name no account can have is a wrong
// login, not a database error.
func TestAccountText(t *testing.T) {
	db := testDB(t)
	ctx := t.Context()
	a := NewAccounts(db, nil, nil)
	u, err := a.CreateUser(ctx, "alice", "alice@example.com", "good-password-1", false)
	if err != nil {
		t.Fatal(err)
	}
	id := &Identity{UserID: u.ID, Username: u.Username}
	for _, bad := range []string{"\x00", "\x1b", "\xff", "\n"} {
		if _, err := a.CreateUser(ctx, "bob", "b"+bad+"ob@example.com", "good-password-1", false); !errors.Is(err, ErrInvalidEmail) {
			t.Errorf("email with %q: %v", bad, err)
		}
		if err := a.SetEmail(ctx, u.ID, "a"+bad+"lice@example.com"); !errors.Is(err, ErrInvalidEmail) {
			t.Errorf("new email with %q: %v", bad, err)
		}
		if _, err := a.CreateUser(ctx, "bob", "bob@example.com", "good-pass"+bad+"word", false); !errors.Is(err, ErrInvalidPassword) {
			t.Errorf("password with %q: %v", bad, err)
		}
		if _, err := a.CreateToken(ctx, id, "ci"+bad+"x", nil, nil, nil); !errors.Is(err, ErrTokenName) {
			t.Errorf("token name with %q: %v", bad, err)
		}
		if _, err := a.CreateToken(ctx, id, "ci", nil, []string{"alice/app" + bad}, nil); !errors.Is(err, ErrTokenRepository) {
			t.Errorf("token repository with %q: %v", bad, err)
		}
		if _, err := a.Authenticate(ctx, "10.0.0.1", "al"+bad+"ice", "good-password-1"); !errors.Is(err, ErrBadCredentials) {
			t.Errorf("login as a name with %q: %v", bad, err)
		}
	}
	if _, err := a.CreateToken(ctx, id, strings.Repeat("n", 101), nil, nil, nil); !errors.Is(err, ErrTokenName) {
		t.Errorf("101-byte token name: %v", err)
	}
	if _, err := a.CreateToken(ctx, id, "ci", []string{ScopeRead}, []string{"alice/app"}, nil); err != nil {
		t.Errorf("a valid token: %v", err)
	}
}
