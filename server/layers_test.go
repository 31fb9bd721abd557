package server_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/wharfhub/wharf"

// layer is what a package of the module may import of the module, by
// path relative to the module root.
type layer struct {
	// Imports are what its non-test files may import; its test files may
	// import them too.
	Imports []string
	// Test are what only its test files (in-package and external) may
	// import besides. A package's external test may always import the
	// package itself.
	Test []string
}

// Layers of the building blocks (below services: import none of ours).
var (
	leaf = layer{}
	// The blob store's backends implement server/storage and test against
	// its conformance suite.
	storageBackend = layer{Imports: []string{"server/storage"}, Test: []string{"server/storage/storagetest"}}
)

// allowed is, for every package of the module, what of the module it may
// import, so that imports flow one way: the HTTP layers (server/api,
// server/registry, web) call services (server/auth, server/content,
// server/gc, server/hub, server/indexer, server/retention, server/webhook); services call
// models, search and the blob store (server/storage/...); nothing below
// imports upward. server wires them all into the app, cmd/wharf runs it.
//
// A new package must be given an entry here (TestImportsFlowOneWay fails
// until it is), and an entry of a package that is gone must be removed.
//
// Test-only upward imports that exist today are allowed in Test with a
// "known exception" comment; do not add to them lightly.
var allowed = map[string]layer{
	// Commands: the top.
	"cmd/wharf": {
		Imports: []string{"cmd/wharf/deployhook", "server", "server/config"},
		Test:    []string{"server/mirror/mirrortest", "server/storage/filesystem", "server/testutil"},
	},
	"cmd/wharf/deployhook": {Imports: []string{"server/webhook/signature"}},

	// The app: wires every layer together.
	"server": {
		Imports: []string{
			"migrations", "models", "search",
			"server/api", "server/auth", "server/certs", "server/clientaddr", "server/config",
			"server/content", "server/events", "server/gc", "server/hub",
			"server/indexer", "server/mail", "server/metrics", "server/mirror", "server/mirror/upstream",
			"server/registry", "server/reqlog", "server/retention", "server/scan",
			"server/storage", "server/storage/filesystem", "server/storage/s3",
			"server/trust", "server/webhook", "web",
		},
		// Known exception: server/servertest builds the app on server, so
		// server's external tests import a package above server.
		Test: []string{"server/servertest"},
	},
	// The settings: they check a mirror's URL by the upstream client's one rule.
	"server/config": {Imports: []string{"server/clientaddr", "server/mirror/upstream", "server/textcheck"}},

	// HTTP layers.
	"server/api": {
		Imports: []string{
			"models", "server/apierr", "server/auth", "server/bodylimit",
			"server/artifact", "server/clientaddr", "server/hub", "server/mirror", "server/repopath", "server/reqlog", "server/retention",
			"server/textcheck",
		},
		Test: []string{
			"server/config", "server/markdown", "server/testutil",
			"server/webhook", "server/webhook/signature",
			// Known exception: end-to-end tests drive the whole app
			// (server, through server/servertest) from below it.
			"server", "server/servertest",
			// Known exception: deployhook_e2e_test.go runs the deploy
			// hook command's package against the API.
			"cmd/wharf/deployhook",
		},
	},
	"server/registry": {
		Imports: []string{
			"server/auth", "server/clientaddr", "server/content", "server/hub", "server/mirror",
			"server/registry/errcode", "server/reqlog", "server/trust",
		},
		Test: []string{
			"server/config", "server/testutil",
			// Known exception: the protocol tests drive the whole app
			// (server, through server/servertest) from below it.
			"server", "server/servertest",
		},
	},
	"server/registry/errcode": leaf,
	"web": {
		Imports: []string{
			"models", "search", "server/apierr", "server/auth", "server/bodylimit",
			"server/artifact", "server/clientaddr", "server/hub", "server/mirror", "server/repopath", "server/reqlog", "server/retention",
			"server/textcheck", "static", "templates",
		},
		Test: []string{
			"server/config", "server/markdown", "server/testutil",
			// Known exception: the browser tests drive the whole app
			// (server, through server/servertest) from below it.
			"server", "server/servertest",
		},
	},
	// The error-code registry of the HTTP layers, over the services'
	// errors.
	"server/apierr": {
		Imports: []string{"models", "server/auth", "server/hub", "server/mirror", "server/scan", "server/textcheck"},
	},

	// Services.
	"server/auth": {
		Imports: []string{"models", "server/events", "server/textcheck"},
		Test:    []string{"server/testutil"},
	},
	"server/content": {
		Imports: []string{"models", "server/artifact", "server/events", "server/reqlog", "server/storage"},
		Test:    []string{"migrations", "server/storage/filesystem", "server/testutil"},
	},
	// Pull-through caches: the content service, filled from an upstream.
	"server/mirror": {
		Imports: []string{"models", "server/auth", "server/content", "server/events", "server/mirror/upstream", "server/storage", "server/textcheck"},
		Test:    []string{"server/mirror/mirrortest", "server/storage/filesystem", "server/testutil", "migrations", "server/events"},
	},
	// The client of one upstream registry (stdlib and go-digest only).
	"server/mirror/upstream": leaf,
	// What to trust: signature verification, the job queue, the policy
	// gate.
	"server/trust": {
		Imports: []string{"models", "server/artifact"},
		Test:    []string{"migrations", "server/testutil"},
	},
	// Vulnerability scanning: the scanner process, its database, the
	// scan jobs, and the SBOMs it attaches through the content service.
	"server/scan": {
		Imports: []string{"models", "server/artifact", "server/content", "server/storage"},
		Test:    []string{"migrations", "server/storage/filesystem", "server/testutil"},
	},
	"server/gc": {
		Imports: []string{"models", "server/events", "server/storage"},
		Test: []string{
			"server/content", "server/storage/filesystem", "server/testutil",
			// Known exception: the concurrency and protocol tests drive
			// the whole app (server, through server/servertest, with a
			// server/config) from below it.
			"server", "server/config", "server/servertest",
		},
	},
	"server/hub": {
		Imports: []string{
			"models", "search", "server/artifact", "server/auth", "server/content", "server/events",
			"server/markdown", "server/retention", "server/textcheck", "server/trust",
		},
		Test: []string{"migrations"},
	},
	// Retention policies: the rules, and the runs that prune by them.
	"server/retention": {
		Imports: []string{"models"},
		Test:    []string{"server/content", "server/gc", "server/storage/filesystem", "server/testutil"},
	},
	"server/indexer": {
		Imports: []string{"models", "search", "server/events"},
		Test:    []string{"server/testutil"},
	},
	"server/webhook": {
		Imports: []string{"models", "server/webhook/signature"},
		Test:    []string{"server/testutil"},
	},

	// Below services: data, search, the blob store and building blocks.
	"models": {Test: []string{"migrations"}},
	"migrations": {
		Test: []string{
			"models",
			// Known exception: server/testutil (which imports
			// migrations) opens the test database for forward_test.go.
			"server/testutil",
		},
	},
	"search":         leaf,
	"server/storage": leaf,
	// What a manifest holds, from its media types alone.
	"server/artifact":           leaf,
	"server/storage/filesystem": storageBackend,
	"server/storage/s3":         storageBackend,
	"server/bodylimit":          leaf,
	// Sending mail: SMTP and a bounded queue (stdlib only).
	"server/mail": leaf,
	// The server's certificates: files or ACME (tests make theirs with
	// server/testutil's CA).
	"server/certs":             {Test: []string{"server/testutil"}},
	"server/clientaddr":        leaf,
	"server/events":            leaf,
	"server/markdown":          leaf,
	"server/metrics":           leaf,
	"server/repopath":          leaf,
	"server/reqlog":            leaf,
	"server/textcheck":         leaf,
	"server/webhook/signature": leaf,
	"static":                   leaf,
	"templates":                leaf,

	// Test support.
	// A fake upstream registry for the pull-through cache's tests: a
	// fault-injecting proxy, CNCF Distribution, image pushes.
	"server/mirror/mirrortest":   leaf,
	"server/servertest":          {Imports: []string{"server"}},
	"server/storage/storagetest": {Imports: []string{"server/storage"}},
	"server/testutil":            {Imports: []string{"migrations", "models", "server/config"}},
}

// listPackage is what go list says of a package.
type listPackage struct {
	ImportPath                         string
	Imports, TestImports, XTestImports []string
}

// listModule lists the packages of the module at root (not bench or
// tools, which are modules of their own) with their direct imports.
func listModule(t *testing.T, root string) []listPackage {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool:", err)
	}
	cmd := exec.Command(goTool, "list", "-json=ImportPath,Imports,TestImports,XTestImports", "./...")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.Bytes())
	}
	var pkgs []listPackage
	for dec := json.NewDecoder(bytes.NewReader(out)); ; {
		var p listPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// ours says whether an import path is of the module, and its path
// relative to the module root.
func ours(path string) (string, bool) {
	if path == module {
		return ".", true
	}
	return strings.CutPrefix(path, module+"/")
}

func TestImportsFlowOneWay(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatal("not at the module root:", err)
	}
	pkgs := listModule(t, root)
	exists := map[string]bool{}
	for _, p := range pkgs {
		if rel, ok := ours(p.ImportPath); ok {
			exists[rel] = true
		}
	}
	if !exists["server"] || !exists["models"] {
		t.Fatalf("go list found no server or models package in %s", root)
	}

	for _, p := range pkgs {
		rel, ok := ours(p.ImportPath)
		if !ok {
			continue
		}
		l, ok := allowed[rel]
		if !ok {
			t.Errorf("%s has no entry in allowed: give it one, with what it may import", rel)
			continue
		}
		check := func(kind string, imports, allow []string) {
			for _, imp := range imports {
				dep, ok := ours(imp)
				if !ok || dep == rel || slices.Contains(allow, dep) {
					continue
				}
				t.Errorf("%s (%s) imports %s, which it may not: it may import only %v", rel, kind, dep, allow)
			}
		}
		check("non-test files", p.Imports, l.Imports)
		withTests := slices.Concat(l.Imports, l.Test)
		check("test files", p.TestImports, withTests)
		check("external test files", p.XTestImports, withTests)
	}

	// The table names only packages that exist.
	for pkg, l := range allowed {
		if !exists[pkg] {
			t.Errorf("allowed has an entry for %s, which does not exist: remove it", pkg)
		}
		for _, dep := range slices.Concat(l.Imports, l.Test) {
			if !exists[dep] {
				t.Errorf("allowed lets %s import %s, which does not exist: remove it", pkg, dep)
			}
		}
	}
}
