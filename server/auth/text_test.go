package auth

import (
	"errors"
	"strings"
	"testing"
	"time"
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

// The errors people read (on the pages, in the API's messages and in
// docker's output) are sentences: a capital letter, a full stop.
func TestErrorTextsAreSentences(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{ErrBadCredentials, "Incorrect username or password."},
		{ErrInvalidUsername, "A username must be 2 to 64 characters: lowercase letters, digits, '-' or '_', starting with a letter or digit."},
		{ErrInvalidPassword, "A password must be 8 to 72 characters, without control characters."},
		{ErrInvalidEmail, "That is not a valid e-mail address."},
		{ErrUsernameTaken, "That name is taken."},
		{ErrEmailTaken, "An account with that e-mail address exists."},
		{ErrInvalidScope, "Scopes must be among read, write, delete and admin."},
		{ErrBroaderToken, "A token cannot create a token with more scopes or repositories than its own, or one that expires after it."},
		{ErrTokenName, "A token name must be 1 to 100 characters, on one line, without control characters."},
		{ErrTokenExpiresAt, "The expiry time (expires_at) must be in the future."},
		{ErrTokenRepository, "A token's repositories must be repository names, such as alice/app."},
		{ErrTooManyScopes, "A token request may ask for at most 64 scopes."},
		{&ErrThrottled{RetryAfter: 90 * time.Second}, "Too many failed sign-ins. Try again in 90 seconds."},
	}
	for _, tc := range tests {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("%q, want %q", got, tc.want)
		}
	}
}
