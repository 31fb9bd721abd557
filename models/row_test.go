package models

import (
	"context"
	"path/filepath"
	"testing"
)

// TestClosedDatabaseIsAnErrorNotAPanic: gorm's Row hands back nil when the
// query cannot run; every one-row read answers the error instead.
func TestClosedDatabaseIsAnErrorNotAPanic(t *testing.T) {
	db, err := OpenSQLite(filepath.Join(t.TempDir(), "wharf.db"))
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	ctx := context.Background()
	if _, err := db.Repositories.AccessFacts(ctx, "alice/app", 1); err == nil {
		t.Error("AccessFacts on a closed database: no error")
	}
	if _, err := db.Namespaces.Usage(ctx, "alice"); err == nil {
		t.Error("NamespaceUsage on a closed database: no error")
	}
}
