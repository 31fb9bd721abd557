package mirror_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"

	"github.com/wharfhub/wharf/server/auth"
	"github.com/wharfhub/wharf/server/content"
	"github.com/wharfhub/wharf/server/events"
	"github.com/wharfhub/wharf/server/mirror"
	"github.com/wharfhub/wharf/server/storage/filesystem"
	"github.com/wharfhub/wharf/server/testutil"
)

// TestCatalogDefinesMirrorsForEveryReplica: a mirror a site admin defines
// is served at once by the replica that took the request and, after its
// next load, by another replica of the same database; its password is
// stored sealed; removing it removes it everywhere.
func TestCatalogDefinesMirrorsForEveryReplica(t *testing.T) {
	db := testutil.OpenDB(t, t.TempDir())
	store, err := filesystem.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	key := bytes.Repeat([]byte{7}, 32)
	replica := func() (*mirror.Service, *mirror.Catalog) {
		svc := mirror.New(db, content.New(db, store, log, content.Options{}), nil, mirror.Options{Log: log})
		cat, err := mirror.NewCatalog(svc, db, []mirror.Def{{Name: "hub", URL: "https://registry-1.docker.io"}}, key, log, events.New())
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Namespaces.ClaimMirror(context.Background(), "hub"); err != nil {
			t.Fatal(err)
		}
		if err := cat.Load(context.Background()); err != nil {
			t.Fatal(err)
		}
		return svc, cat
	}
	ctx := context.Background()
	a, catA := replica()
	b, catB := replica()
	root := &auth.Identity{UserID: 1, Username: "root", IsAdmin: true}
	def := mirror.Def{Name: "ghcr", URL: "https://ghcr.io/", Username: "bot", Password: "s3cret-token"}

	if err := catA.Define(ctx, &auth.Identity{UserID: 2, Username: "alice"}, def); !errors.Is(err, auth.ErrDenied) {
		t.Fatalf("a user defined a mirror: %v", err)
	}
	if err := catA.Define(ctx, root, mirror.Def{Name: "hub", URL: "https://example.com"}); !errors.Is(err, mirror.ErrFromFlags) {
		t.Fatalf("redefining a flags' mirror: %v", err)
	}
	if err := catA.Define(ctx, root, def); err != nil {
		t.Fatal(err)
	}
	if up, ok := a.Upstream("ghcr"); !ok || up != "https://ghcr.io" || a.Source("ghcr") != mirror.SourceAPI {
		t.Fatalf("the defining replica: %q %v %q", up, ok, a.Source("ghcr"))
	}
	if b.IsNamespace("ghcr") {
		t.Fatal("the other replica serves it before loading")
	}
	if err := catB.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if !b.IsNamespace("ghcr") || b.Source("hub") != mirror.SourceFlags {
		t.Fatal("the other replica does not serve it after loading")
	}
	rows, err := db.Mirrors.Defined(ctx)
	if err != nil || len(rows) != 1 {
		t.Fatalf("stored definitions: %v %v", rows, err)
	}
	if bytes.Contains(rows[0].SealedPassword, []byte("s3cret-token")) || len(rows[0].SealedPassword) == 0 {
		t.Fatal("the password is stored in the clear")
	}
	if err := catB.Remove(ctx, root, "ghcr"); err != nil {
		t.Fatal(err)
	}
	if err := catA.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if a.IsNamespace("ghcr") || b.IsNamespace("ghcr") {
		t.Fatal("a removed mirror is still served")
	}
	if _, err := db.Namespaces.Get(ctx, "ghcr"); err == nil {
		t.Fatal("a removed mirror's namespace is still there")
	}
}
