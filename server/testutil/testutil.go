package testutil

import (
	"os"
	"testing"

	"github.com/wharfhub/wharf/models"
)

// Database returns "" (SQLite in the test's data dir) unless
// WHARF_TEST_DATABASE names a PostgreSQL server; then each call gets a
// fresh schema of its own on it.
func Database(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("WHARF_TEST_DATABASE")
	if dsn == "" {
		return ""
	}
	fresh, err := models.FreshPostgresSchema(dsn)
	if err != nil {
		t.Fatal(err)
	}
	return fresh
}
