package models_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/wharfhub/wharf/migrations"
	"github.com/wharfhub/wharf/models"
)

// openDB opens a migrated database for a test, closed when it ends: a
// fresh PostgreSQL schema when WHARF_TEST_DATABASE is set, else SQLite in
// the test's temporary directory. It is server/testutil.OpenDB without
// the upward import.
func openDB(t *testing.T) *models.DB {
	t.Helper()
	var db *models.DB
	var err error
	if dsn := os.Getenv("WHARF_TEST_DATABASE"); dsn != "" {
		if dsn, err = models.FreshPostgresSchema(dsn); err == nil {
			db, err = models.OpenPostgres(dsn)
		}
	} else {
		db, err = models.OpenSQLite(filepath.Join(t.TempDir(), "wharf.db"))
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
