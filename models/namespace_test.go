package models_test

import (
	"errors"
	"testing"

	"github.com/wharfhub/wharf/models"
)

// A name that still has repositories nobody owns is taken: whoever
// registers it would inherit them.
func TestLeftoverRepositoriesKeepANameTaken(t *testing.T) {
	db := openDB(t)
	ctx := t.Context()
	if err := db.Repositories.Create(ctx, &models.Repository{Name: "ghost/app", Namespace: "ghost", Visibility: models.VisibilityPrivate}); err != nil {
		t.Fatal(err)
	}
	err := db.Users.Create(ctx, &models.User{Username: "ghost", Email: "g@example.com", PasswordHash: "x"})
	if !errors.Is(err, models.ErrConflict) {
		t.Fatalf("registering a name with leftover repositories: %v, want ErrConflict", err)
	}
	if err := db.Orgs.Create(ctx, &models.Organization{Name: "ghost"}, 1); !errors.Is(err, models.ErrConflict) {
		t.Fatalf("an organization named like leftover repositories: %v, want ErrConflict", err)
	}
}
