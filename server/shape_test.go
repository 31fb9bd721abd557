package server_test

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"testing"
)

// Limits on the shape of the code, so that every type and file stays one
// a newcomer can hold in their head.
const (
	maxMethods   = 25  // methods declared on one type (exported or not)
	maxFileLines = 500 // lines of one non-test Go file
)

// TestSmallTypesAndFiles: no type of the module declares more than
// maxMethods methods, and no non-test file is longer than maxFileLines.
func TestSmallTypesAndFiles(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	methods := map[string]int{} // "pkg.Type"
	files := 0
	err = walkSources(root, func(path, rel string) error {
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		if n := bytes.Count(src, []byte("\n")); n > maxFileLines {
			r, _ := filepath.Rel(root, path)
			t.Errorf("%s has %d lines, more than %d: split it by topic", r, n, maxFileLines)
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, src, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Recv == nil || len(fn.Recv.List) == 0 {
				continue
			}
			methods[rel+"."+receiverType(fn.Recv.List[0].Type)]++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 100 || len(methods) < 50 {
		t.Fatalf("walked %d files and %d types: the walk misses the module", files, len(methods))
	}
	for typ, n := range methods {
		if n > maxMethods {
			t.Errorf("%s has %d methods, more than %d: split it by area", typ, n, maxMethods)
		}
	}
}

// receiverType is the name of a method's receiver type, without pointer
// or type parameters.
func receiverType(e ast.Expr) string {
	for {
		switch x := e.(type) {
		case *ast.StarExpr:
			e = x.X
		case *ast.IndexExpr:
			e = x.X
		case *ast.IndexListExpr:
			e = x.X
		case *ast.Ident:
			return x.Name
		default:
			return "?"
		}
	}
}
