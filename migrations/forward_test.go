package migrations_test

import (
	"context"
	"gorm.io/gorm"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wharfhub/wharf/migrations"
	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/testutil"
)

// A database made by the first release, with an account, a repository
// and a blob in it, migrates forward to the latest version keeping them,
// and the models read them.
func TestFirstVersionMigratesForward(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	w := db.Writer()
	if err := migrations.RunTo(ctx, w, 1); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	blob := "sha256:ab" + strings.Repeat("0", 62)
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{"INSERT INTO users (username, email, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
			[]any{"alice", "alice@example.com", "x", now, now}},
		{"INSERT INTO repositories (name, namespace, created_at, updated_at) VALUES (?, ?, ?, ?)",
			[]any{"alice/app", "alice", now, now}},
		{"INSERT INTO blobs (digest, size, created_at) VALUES (?, ?, ?)",
			[]any{blob, 42, now}},
	} {
		if err := w.Exec(q.sql, q.args...).Error; err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
	}
	if err := migrations.Run(ctx, w); err != nil {
		t.Fatalf("migrate forward: %v", err)
	}
	var version int
	if err := w.Raw("SELECT MAX(version) FROM schema_migrations").Scan(&version).Error; err != nil || version != migrations.Latest() {
		t.Fatalf("schema at version %d (%v), want %d", version, err, migrations.Latest())
	}
	u, err := db.Users.GetByName(ctx, "alice")
	if err != nil || u.Email != "alice@example.com" {
		t.Fatalf("user after migrating: %+v, %v", u, err)
	}
	r, err := db.Repositories.Get(ctx, "alice/app")
	if err != nil || r.Namespace != "alice" {
		t.Fatalf("repository after migrating: %+v, %v", r, err)
	}
	if size, err := db.Blobs.Size(ctx, blob); err != nil || size != 42 {
		t.Fatalf("blob after migrating: %d, %v", size, err)
	}
}

// openDB opens an empty database for a migration test: SQLite in the
// test's directory, or a PostgreSQL schema of its own when
// WHARF_TEST_DATABASE is set.
func openDB(t *testing.T) *models.DB {
	t.Helper()
	var db *models.DB
	var err error
	if dsn := testutil.Database(t); dsn != "" {
		db, err = models.OpenPostgres(dsn)
	} else {
		db, err = models.OpenSQLite(filepath.Join(t.TempDir(), "wharf.db"))
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// execer runs SQL on db, failing t with the statement.
func execer(t *testing.T, db *gorm.DB) func(sql string, args ...any) {
	return func(sql string, args ...any) {
		t.Helper()
		if err := db.Exec(sql, args...).Error; err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
}
