package auth

import (
	"errors"
	"testing"
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
