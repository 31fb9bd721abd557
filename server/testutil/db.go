package testutil

import (
	"path/filepath"
	"testing"

	"github.com/wharfhub/wharf/migrations"
	"github.com/wharfhub/wharf/models"
)

// OpenDB opens a migrated database for a test, closed when it ends: a fresh
// PostgreSQL schema when WHARF_TEST_DATABASE is set, else SQLite in dir.
func OpenDB(t testing.TB, dir string) *models.DB {
	t.Helper()
	var db *models.DB
	var err error
	if dsn := Database(t); dsn != "" {
		db, err = models.OpenPostgres(dsn)
	} else {
		db, err = models.OpenSQLite(filepath.Join(dir, "wharf.db"))
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := migrations.Run(t.Context(), db.Writer()); err != nil {
		t.Fatal(err)
	}
	return db
}
