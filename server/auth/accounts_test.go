package auth

import (
	"errors"
	"testing"
	"time"
)

// A replica that verified a password a moment ago must not keep accepting
// it after another replica changed it or disabled the account.
func TestCachedLoginFollowsOtherReplicas(t *testing.T) {
	db := testDB(t)
	ctx := t.Context()
	a := NewAccounts(db, nil, nil)
	b := NewAccounts(db, nil, nil)
	u, err := a.CreateUser(ctx, "alice", "alice@example.com", "first-password-1", false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Authenticate(ctx, "10.0.0.1", "alice", "first-password-1"); err != nil {
		t.Fatalf("first login on B: %v", err)
	}
	id := &Identity{UserID: u.ID, Username: "alice"}
	if err := a.ChangePassword(ctx, id, "10.0.0.1", "first-password-1", "second-password-2", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Authenticate(ctx, "10.0.0.1", "alice", "first-password-1"); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("old password on B after A changed it = %v, want ErrBadCredentials", err)
	}
	if _, err := b.Authenticate(ctx, "10.0.0.1", "alice", "second-password-2"); err != nil {
		t.Fatalf("new password on B: %v", err)
	}
	if err := a.SetDisabled(ctx, u.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Authenticate(ctx, "10.0.0.1", "alice", "second-password-2"); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("login on B after A disabled the account = %v, want ErrBadCredentials", err)
	}
}

// Two accounts never share an email address, compared without case and
// surrounding space: at sign-up, through `wharf user create` (both
// CreateUser) and when an address is changed.
func TestEmailAddressesAreUnique(t *testing.T) {
	db := testDB(t)
	ctx := t.Context()
	a := NewAccounts(db, nil, nil)
	alice, err := a.CreateUser(ctx, "alice", "Alice@Example.com", "good-password-1", false)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, user, email string
		want              error
	}{
		{"the same address", "bob", "Alice@Example.com", ErrEmailTaken},
		{"in another case", "bob", "alice@EXAMPLE.COM", ErrEmailTaken},
		{"with space around it", "bob", "  alice@example.com\t", ErrEmailTaken},
		{"a taken name is still a taken name", "alice", "other@example.com", ErrUsernameTaken},
		{"another address", "bob", " bob@example.com ", nil},
		{"after it is taken", "carol", "BOB@example.com", ErrEmailTaken},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u, err := a.CreateUser(ctx, tc.user, tc.email, "good-password-1", false)
			if !errors.Is(err, tc.want) {
				t.Fatalf("CreateUser(%q, %q) = %v, want %v", tc.user, tc.email, err, tc.want)
			}
			if err == nil && u.Email != "bob@example.com" {
				t.Errorf("stored email %q, want it trimmed", u.Email)
			}
		})
	}
	bob, err := a.UserByName(ctx, "bob")
	if err != nil {
		t.Fatal(err)
	}
	changes := []struct {
		name  string
		id    int64
		email string
		want  error
	}{
		{"to another account's address", bob.ID, "ALICE@example.com", ErrEmailTaken},
		{"to one's own address in another case", alice.ID, "alice@example.com", nil},
		{"to a new address", bob.ID, " robert@example.com", nil},
		{"to the address just left", alice.ID, "bob@example.com", nil},
	}
	for _, tc := range changes {
		t.Run(tc.name, func(t *testing.T) {
			if err := a.SetEmail(ctx, tc.id, tc.email); !errors.Is(err, tc.want) {
				t.Fatalf("SetEmail(%d, %q) = %v, want %v", tc.id, tc.email, err, tc.want)
			}
		})
	}
	if u, _ := db.Users.Get(ctx, bob.ID); u.Email != "robert@example.com" {
		t.Errorf("bob's email is %q", u.Email)
	}
}

// A database that already holds accounts sharing an address (from before
// addresses were unique; no unique index could be created over it) keeps
// working: both accounts sign in, and no third one may join them.
func TestExistingDuplicateEmailsKeepWorking(t *testing.T) {
	db := testDB(t)
	ctx := t.Context()
	a := NewAccounts(db, nil, nil)
	for _, name := range []string{"alice", "bob"} {
		if _, err := a.CreateUser(ctx, name, name+"@example.com", "good-password-1", false); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Writer().Exec("UPDATE users SET email = 'ALICE@example.com' WHERE username = 'bob'").Error; err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"alice", "bob"} {
		if _, err := a.Authenticate(ctx, "10.0.0.1", name, "good-password-1"); err != nil {
			t.Errorf("%s signs in: %v", name, err)
		}
	}
	if _, err := a.CreateUser(ctx, "carol", "alice@example.com", "good-password-1", false); !errors.Is(err, ErrEmailTaken) {
		t.Errorf("a third account with the address: %v, want ErrEmailTaken", err)
	}
}

// Names are stored lowercase, and a username is compared without case:
// "Alice" signs in as alice, with her password or a token of hers, and
// failures under any spelling count in alice's one throttle bucket.
func TestAuthenticateIgnoresCase(t *testing.T) {
	db := testDB(t)
	ctx := t.Context()
	a := NewAccounts(db, NewThrottle(3, time.Hour, nil), nil)
	u, err := a.CreateUser(ctx, "alice", "alice@example.com", "good-password-1", false)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := a.CreateToken(ctx, &Identity{UserID: u.ID, Username: "alice"}, "ci", nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, user, secret string
		want               error
	}{
		{"lowercase", "alice", "good-password-1", nil},
		{"capitalized", "Alice", "good-password-1", nil},
		{"uppercase", "ALICE", "good-password-1", nil},
		{"mixed case", "aLiCe", "good-password-1", nil},
		{"a token under another case", "ALICE", tok.Secret, nil},
		{"a wrong password is still wrong", "Alice", "bad-password-1", ErrBadCredentials},
		{"another name is not folded into alice", "alicé", "good-password-1", ErrBadCredentials},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id, err := a.Authenticate(ctx, "10.0.0.1", tc.user, tc.secret)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Authenticate(%q) = %v, want %v", tc.user, err, tc.want)
			}
			if err == nil && (id.Username != "alice" || id.UserID != u.ID) {
				t.Fatalf("Authenticate(%q) = %+v, want alice", tc.user, id)
			}
		})
	}
	// From another address, three failures under three spellings fill
	// the one bucket, and then even the right password waits.
	for _, name := range []string{"ALICE", "alice", "AlIcE"} {
		if _, err := a.Authenticate(ctx, "10.0.0.2", name, "bad-password-1"); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("wrong password as %q: %v", name, err)
		}
	}
	var th *ErrThrottled
	if _, err := a.Authenticate(ctx, "10.0.0.2", "aLICE", "good-password-1"); !errors.As(err, &th) {
		t.Fatalf("after three failures under other spellings = %v, want ErrThrottled", err)
	}
}
