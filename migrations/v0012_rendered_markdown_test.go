package migrations_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/wharfhub/wharf/migrations"
	"github.com/wharfhub/wharf/models"
)

// Comments written before version 12 have no HTML (version 0), so their
// first view renders them; READMEs have no row in readme_html.
func TestV12LeavesOldRowsToRender(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	w := db.Writer()
	if err := migrations.RunTo(ctx, w, 11); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{"INSERT INTO users (username, email, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
			[]any{"alice", "alice@example.com", "x", now, now}},
		{"INSERT INTO repositories (name, namespace, visibility, readme, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
			[]any{"alice/app", "alice", "public", "# Old", now, now}},
		{"INSERT INTO comments (repository_id, user_id, body, created_at, updated_at) SELECT r.id, u.id, ?, ?, ? FROM repositories r, users u",
			[]any{"*old*", now, now}},
	} {
		if err := w.Exec(q.sql, q.args...).Error; err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
	}
	if err := migrations.Run(ctx, w); err != nil {
		t.Fatal(err)
	}
	r, err := db.Repositories.Get(ctx, "alice/app")
	if err != nil {
		t.Fatal(err)
	}
	cs, err := db.Comments.List(ctx, r.ID, 10, 0)
	if err != nil || len(cs) != 1 || cs[0].Body != "*old*" || cs[0].BodyHTML != "" || cs[0].BodyHTMLVersion != 0 {
		t.Fatalf("comments %+v %v", cs, err)
	}
	if _, err := db.Readmes.Get(ctx, r.ID); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("README HTML before any view: %v", err)
	}
	if err := db.Readmes.Save(ctx, &models.ReadmeHTML{RepositoryID: r.ID, SourceSHA256: "s", HTML: "<h1>Old</h1>", Version: 2}); err != nil {
		t.Fatal(err)
	}
}
