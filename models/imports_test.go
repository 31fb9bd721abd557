package models_test

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Models sits below everything of ours but the schema: neither its code
// nor its tests may import another package of the module, so its tests
// cannot lean on helpers from the layers above.
func TestModelsImportOnlyMigrations(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	allowed := map[string]bool{"models": true, "migrations": true}
	for _, f := range files {
		file, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range file.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			ours, ok := strings.CutPrefix(p, "github.com/wharfhub/wharf/")
			if ok && !allowed[ours] {
				t.Errorf("%s imports %s", f, p)
			}
		}
	}
}
