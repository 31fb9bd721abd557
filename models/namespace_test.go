package models_test

import (
	"errors"
	"testing"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/testutil"
)

// A name that still has repositories nobody owns is taken: whoever
// registers it would inherit them.
func TestLeftoverRepositoriesKeepANameTaken(t *testing.T) {
	db := testutil.OpenDB(t, t.TempDir())
	ctx := t.Context()
	if err := db.CreateRepository(ctx, &models.Repository{Name: "ghost/app", Namespace: "ghost", Visibility: models.VisibilityPrivate}); err != nil {
		t.Fatal(err)
	}
	err := db.CreateUser(ctx, &models.User{Username: "ghost", Email: "g@example.com", PasswordHash: "x"})
	if !errors.Is(err, models.ErrConflict) {
		t.Fatalf("registering a name with leftover repositories: %v, want ErrConflict", err)
	}
	if err := db.CreateOrg(ctx, &models.Organization{Name: "ghost"}, 1); !errors.Is(err, models.ErrConflict) {
		t.Fatalf("an organization named like leftover repositories: %v, want ErrConflict", err)
	}
}
