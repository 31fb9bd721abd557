package migrations

import (
	"path/filepath"
	"testing"
	"time"

	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

func openSQLite(t *testing.T) *gorm.DB {
	t.Helper()
	db, err := gorm.Open(sqlite.Open("file:"+filepath.Join(t.TempDir(), "m.db")+"?_foreign_keys=on"),
		&gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if s, err := db.DB(); err == nil {
			s.Close()
		}
	})
	return db
}

func exec(t *testing.T, db *gorm.DB, q string, args ...any) {
	t.Helper()
	if err := db.Exec(q, args...).Error; err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// A fresh database gets every version, and running again changes nothing.
func TestRunIsIdempotent(t *testing.T) {
	db := openSQLite(t)
	for range 2 {
		if err := Run(t.Context(), db); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	db.Raw("SELECT COUNT(*) FROM schema_migrations").Scan(&n)
	if n != len(all) {
		t.Fatalf("%d versions recorded, want %d", n, len(all))
	}
}

// Version 11 ties namespace webhooks to their namespace's row: webhooks
// orphaned by an earlier account deletion are purged, the others keep
// working, and deleting a namespace now takes its webhooks along.
func TestNamespaceWebhooksMigrateToTheirRow(t *testing.T) {
	db := openSQLite(t)
	if err := RunTo(t.Context(), db, 10); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	exec(t, db, "INSERT INTO namespaces (name, kind, created_at) VALUES ('alive', 'user', ?)", now)
	for _, ns := range []string{"alive", "gone"} {
		exec(t, db, `INSERT INTO webhooks (namespace, name, url, events, created_at, updated_at)
			VALUES (?, 'h', 'https://example.com/', 'push', ?, ?)`, ns, now, now)
	}
	if err := Run(t.Context(), db); err != nil {
		t.Fatal(err)
	}
	var owners []string
	db.Raw("SELECT namespace_owner FROM webhooks ORDER BY id").Scan(&owners)
	if len(owners) != 1 || owners[0] != "alive" {
		t.Fatalf("namespace webhooks after the migration: %v, want only alive's", owners)
	}
	exec(t, db, "DELETE FROM namespaces WHERE name = 'alive'")
	var left int
	db.Raw("SELECT COUNT(*) FROM webhooks").Scan(&left)
	if left != 0 {
		t.Fatalf("%d webhooks outlived their namespace", left)
	}
}
