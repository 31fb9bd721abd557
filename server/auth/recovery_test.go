package auth

import (
	"errors"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wharfhub/wharf/models"
)

// secretOf is the secret of a link.
func secretOf(t *testing.T, link *ResetLink) string {
	t.Helper()
	u, err := url.Parse(link.URL)
	if err != nil || u.Path != ResetPath {
		t.Fatalf("link %q", link.URL)
	}
	return u.Query().Get("token")
}

func TestResetLinks(t *testing.T) {
	db := testDB(t)
	ctx := t.Context()
	a := NewAccounts(db, nil, nil)
	u, err := a.CreateUser(ctx, "alice", "alice@example.com", "old-password-1", false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.CreateUser(ctx, "dora", "dora@example.com", "dora-password", false); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	r := NewRecovery(a, "https://wharf.example/", 0)
	r.now = func() time.Time { return now }

	for _, tc := range []struct {
		user string
		want error
	}{{"nobody", ErrNoAccount}, {"", ErrNoAccount}} {
		if _, err := r.IssueLink(ctx, tc.user, "root"); !errors.Is(err, tc.want) {
			t.Errorf("link for %q: %v, want %v", tc.user, err, tc.want)
		}
	}
	d, _ := db.Users.GetByName(ctx, "dora")
	if err := a.SetDisabled(ctx, d.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := r.IssueLink(ctx, "dora", "root"); !errors.Is(err, ErrAccountDisabled) {
		t.Errorf("link for a disabled account: %v", err)
	}

	// A session, and a cached password check, from before the reset.
	if err := db.Sessions.Create(ctx, &models.Session{IDHash: "s1", UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(ctx, "10.0.0.1", "alice", "old-password-1"); err != nil {
		t.Fatal(err)
	}

	first, err := r.IssueLink(ctx, "Alice", "root")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(first.URL, "https://wharf.example/reset-password?token=wrr_") || first.User != "alice" ||
		!first.ExpiresAt.Equal(now.Add(DefaultResetTTL)) {
		t.Fatalf("link = %+v", first)
	}
	// Only its hash is stored.
	var stored []models.PasswordReset
	db.Writer().Find(&stored)
	if len(stored) != 1 || strings.Contains(stored[0].TokenHash, secretOf(t, first)) || stored[0].CreatedBy != "root" {
		t.Fatalf("stored = %+v", stored)
	}
	// A newer link replaces it.
	second, err := r.IssueLink(ctx, "alice", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Check(ctx, secretOf(t, first)); !errors.Is(err, ErrResetLink) {
		t.Errorf("the replaced link: %v", err)
	}
	if got, err := r.Check(ctx, secretOf(t, second)); err != nil || got.Username != "alice" {
		t.Fatalf("check: %v %v", got, err)
	}
	for _, junk := range []string{"", "wrr_", "wrr_" + strings.Repeat("A", 43), secretOf(t, second) + "x", "\x00"} {
		if _, err := r.Check(ctx, junk); !errors.Is(err, ErrResetLink) {
			t.Errorf("check %q: %v", junk, err)
		}
		if _, err := r.Reset(ctx, junk, "new-password-2"); !errors.Is(err, ErrResetLink) {
			t.Errorf("reset %q: %v", junk, err)
		}
	}
	if _, err := r.Reset(ctx, secretOf(t, second), "short"); !errors.Is(err, ErrInvalidPassword) {
		t.Errorf("a short password: %v", err)
	}

	// Two at once: one wins.
	var wg sync.WaitGroup
	results := make([]error, 2)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, results[i] = r.Reset(ctx, secretOf(t, second), "new-password-2")
		}()
	}
	wg.Wait()
	if (results[0] == nil) == (results[1] == nil) {
		t.Fatalf("two redeemed one link: %v, %v", results[0], results[1])
	}
	if _, err := r.Reset(ctx, secretOf(t, second), "new-password-3"); !errors.Is(err, ErrResetLink) {
		t.Errorf("a spent link: %v", err)
	}
	if _, err := db.Sessions.Get(ctx, "s1", now); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("the old session lives on: %v", err)
	}
	if _, err := a.Authenticate(ctx, "10.0.0.1", "alice", "old-password-1"); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("the old password still works: %v", err)
	}
	if _, err := a.Authenticate(ctx, "10.0.0.1", "alice", "new-password-2"); err != nil {
		t.Errorf("the new password: %v", err)
	}

	// Links expire.
	late, err := r.IssueLink(ctx, "alice", "root")
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(DefaultResetTTL)
	if _, err := r.Reset(ctx, secretOf(t, late), "new-password-4"); !errors.Is(err, ErrResetLink) {
		t.Errorf("an expired link: %v", err)
	}
	if err := db.Resets.DeleteExpired(ctx, now); err != nil {
		t.Fatal(err)
	}
	var left int64
	db.Writer().Model(&models.PasswordReset{}).Count(&left)
	if left != 0 {
		t.Errorf("%d expired links kept", left)
	}
}

func FuzzResetSecret(f *testing.F) {
	f.Add("wrr_" + strings.Repeat("A", 43))
	f.Add("wrr_\x00")
	f.Fuzz(func(t *testing.T, s string) {
		if plausibleReset(s) && (!strings.HasPrefix(s, resetPrefix) || len(s) != len(resetPrefix)+43) {
			t.Fatalf("%q passes", s)
		}
	})
}
