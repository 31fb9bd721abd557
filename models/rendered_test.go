package models_test

import (
	"context"
	"errors"
	"testing"

	"github.com/wharfhub/wharf/models"
)

// A re-rendering stored lazily never overwrites a newer body or HTML.
func TestSetCommentHTMLKeepsNewerText(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	alice, app := mkUser(t, db, "alice"), mkRepo(t, db, "alice/app")
	c := &models.Comment{RepositoryID: app, UserID: alice, Body: "*old*"}
	if err := db.Comments.Create(ctx, c); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name, body, html string
		version          int
		stored           bool
	}{
		{"first rendering", "*old*", "<p><em>old</em></p>", 2, true},
		{"same version again", "*old*", "<p>again</p>", 2, false},
		{"older version", "*old*", "<p>older</p>", 1, false},
		{"newer version", "*old*", "<p><em>old</em> v3</p>", 3, true},
		{"a body that has changed since", "*older*", "<p>stale</p>", 4, false},
	}
	for _, s := range steps {
		ok, err := db.Comments.SetHTML(ctx, c.ID, s.body, s.html, s.version)
		if err != nil || ok != s.stored {
			t.Fatalf("%s: stored %v, %v; want %v", s.name, ok, err, s.stored)
		}
	}
	got, err := db.Comments.Get(ctx, app, c.ID)
	if err != nil || got.BodyHTML != "<p><em>old</em> v3</p>" || got.BodyHTMLVersion != 3 {
		t.Fatalf("got %+v %v", got, err)
	}
}

func TestReadmeHTML(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	app := mkRepo(t, db, "alice/app")
	if _, err := db.Readmes.Get(ctx, app); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("before any: %v", err)
	}
	for _, h := range []models.ReadmeHTML{
		{RepositoryID: app, SourceSHA256: "aa", HTML: "<p>a</p>", Version: 2},
		{RepositoryID: app, SourceSHA256: "bb", HTML: "<p>b</p>", Version: 3},
	} {
		if err := db.Readmes.Save(ctx, &h); err != nil {
			t.Fatal(err)
		}
		got, err := db.Readmes.Get(ctx, app)
		if err != nil || *got != h {
			t.Fatalf("got %+v %v, want %+v", got, err, h)
		}
	}
	if err := db.Readmes.Save(ctx, &models.ReadmeHTML{RepositoryID: 9999, HTML: "x"}); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("for a missing repository: %v", err)
	}
	if err := db.Repositories.Delete(ctx, app, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Readmes.Get(ctx, app); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("outlives its repository: %v", err)
	}
}
