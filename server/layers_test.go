package server_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/wharfhub/wharf/"

// forbidden says which of our packages a package (by path prefix) must not
// import, so that imports flow one way: HTTP layers call services, services
// call models, search and the blob store, and nothing below imports upward.
var forbidden = map[string][]string{
	"models":           {"server", "web", "search", "cmd"},
	"migrations":       {"models", "server", "web", "search", "cmd"},
	"search":           {"models", "server", "web", "cmd"},
	"server/storage":   {"models", "server/content", "server/registry", "server/auth", "server/config", "server/hub", "web", "search", "cmd"},
	"server/events":    {"models", "server", "web", "search", "cmd"},
	"server/markdown":  {"models", "server", "web", "search", "cmd"},
	"server/textcheck": {"models", "server", "web", "search", "cmd"},
	"server/bodylimit": {"models", "server", "web", "search", "cmd"},
	"server/reqlog":    {"models", "server", "web", "search", "cmd"},
	"server/repopath":  {"models", "server", "web", "search", "cmd"},
	"server/auth":      {"server/registry", "server/content", "server/hub", "server/api", "server/indexer", "web", "cmd"},
	"server/content":   {"server/registry", "server/auth", "server/config", "server/hub", "server/api", "web", "cmd"},
	"server/hub":       {"server/registry", "server/api", "server/config", "server/indexer", "web", "cmd"},
	"server/indexer":   {"server/registry", "server/api", "server/hub", "server/auth", "server/content", "web", "cmd"},
	"server/gc":        {"server/registry", "server/api", "server/hub", "server/auth", "server/content", "server/config", "web", "cmd"},
	"server/registry":  {"server/api", "server/hub", "web", "cmd", "server/config"},
	"server/api":       {"server/registry", "web", "cmd", "server/config"},
	"web":              {"server/registry", "server/api", "cmd", "server/config"},
}

// walkSources calls fn for every non-test Go file of the module under
// root (not bench or tools, which are modules of their own), with its
// package directory relative to root.
func walkSources(root string, fn func(path, rel string) error) error {
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); strings.HasPrefix(name, ".") || name == "bench" || name == "tools" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		return fn(path, filepath.ToSlash(rel))
	})
}

func TestImportsFlowOneWay(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	err = walkSources(root, func(path, rel string) error {
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			ours, ok := strings.CutPrefix(p, module)
			if !ok {
				continue
			}
			checked++
			for pkg, bans := range forbidden {
				if rel != pkg && !strings.HasPrefix(rel, pkg+"/") {
					continue
				}
				for _, ban := range bans {
					if (ours == ban || strings.HasPrefix(ours, ban+"/")) && !strings.HasPrefix(ours, pkg) {
						t.Errorf("%s imports %s: %s must not import %s", rel, ours, pkg, ban)
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked == 0 {
		t.Fatal("no imports checked: the walk found no code")
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatal("not at the module root")
	}
}
