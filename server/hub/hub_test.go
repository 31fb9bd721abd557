package hub_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/wharfhub/wharf/migrations"
	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/auth"
	"github.com/wharfhub/wharf/server/events"
	"github.com/wharfhub/wharf/server/hub"
)

// fixture is the hub over a real SQLite database, with three accounts.
type fixture struct {
	hub              *hub.Service
	alice, bob, root *auth.Identity
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db, err := models.OpenSQLite(filepath.Join(t.TempDir(), "wharf.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	if err := migrations.Run(ctx, db.Writer()); err != nil {
		t.Fatal(err)
	}
	accounts := auth.NewAccounts(db, auth.NewThrottle(10, 0, nil), events.New())
	ident := func(name string, admin bool) *auth.Identity {
		u, err := accounts.CreateUser(ctx, name, name+"@example.com", "correct-horse-battery", admin)
		if err != nil {
			t.Fatal(err)
		}
		return &auth.Identity{UserID: u.ID, Username: u.Username, IsAdmin: admin}
	}
	f := &fixture{hub: hub.New(db, auth.NewPolicy(db), events.New(), hub.Options{})}
	f.alice, f.bob, f.root = ident("alice", false), ident("bob", false), ident("root", true)
	return f
}

func TestCreateRepository(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.hub.Repos.Create(ctx, f.alice, hub.CreateRepositoryInput{Namespace: "alice", Name: "app", Visibility: "private"}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		id   *auth.Identity
		in   hub.CreateRepositoryInput
		want error
	}{
		{"anonymous", nil, hub.CreateRepositoryInput{Namespace: "alice", Name: "x"}, auth.ErrUnauthenticated},
		{"in another's namespace", f.bob, hub.CreateRepositoryInput{Namespace: "alice", Name: "x"}, auth.ErrDenied},
		{"a name twice", f.alice, hub.CreateRepositoryInput{Namespace: "alice", Name: "app"}, hub.ErrConflict},
		{"an invalid name", f.alice, hub.CreateRepositoryInput{Namespace: "alice", Name: "Bad Name"}, hub.ErrInvalid},
		{"no name", f.alice, hub.CreateRepositoryInput{Namespace: "alice"}, hub.ErrInvalid},
		{"a visibility that is not one", f.alice, hub.CreateRepositoryInput{Namespace: "alice", Name: "y", Visibility: "secret"}, hub.ErrInvalid},
		{"a namespace nobody owns, even as admin", f.root, hub.CreateRepositoryInput{Namespace: "ghost", Name: "x"}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := f.hub.Repos.Create(ctx, c.id, c.in)
			if c.want == nil {
				if err == nil {
					t.Fatal("created")
				}
				return
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}
}

// A private repository is invisible to whoever may not read it: every
// read answers ErrNotFound, exactly as for a missing one.
func TestPrivateIsInvisible(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.hub.Repos.Create(ctx, f.alice, hub.CreateRepositoryInput{Namespace: "alice", Name: "secret", Visibility: "private"}); err != nil {
		t.Fatal(err)
	}
	for _, who := range []struct {
		name string
		id   *auth.Identity
	}{{"anonymous", nil}, {"another user", f.bob}} {
		t.Run(who.name, func(t *testing.T) {
			reads := map[string]func() error{
				"repository": func() error { _, err := f.hub.Repos.Get(ctx, who.id, "alice/secret"); return err },
				"tags":       func() error { _, err := f.hub.Repos.Tags(ctx, who.id, "alice/secret", 10, 0); return err },
				"comments":   func() error { _, _, err := f.hub.Social.Comments(ctx, who.id, "alice/secret", 10, 0); return err },
				"stargazers": func() error { _, err := f.hub.Social.Stargazers(ctx, who.id, "alice/secret", 10, 0); return err },
			}
			for what, read := range reads {
				if err := read(); !errors.Is(err, hub.ErrNotFound) {
					t.Errorf("%s: err = %v, want ErrNotFound", what, err)
				}
			}
			list, total, err := f.hub.Discover.Repositories(ctx, who.id, hub.ListFilter{Namespace: "alice"})
			if err != nil || len(list) != 0 || total != 0 {
				t.Errorf("listing shows %d (total %d, err %v)", len(list), total, err)
			}
		})
	}
	// A collaborator reads it; the owner and a site admin always do.
	if err := f.hub.Repos.SetCollaborator(ctx, f.alice, "alice/secret", "bob", "read"); err != nil {
		t.Fatal(err)
	}
	for _, id := range []*auth.Identity{f.alice, f.bob, f.root} {
		if _, err := f.hub.Repos.Get(ctx, id, "alice/secret"); err != nil {
			t.Errorf("%s: %v", id.Username, err)
		}
	}
	// Reading is not writing.
	if err := f.hub.Repos.SetCollaborator(ctx, f.bob, "alice/secret", "bob", "admin"); !errors.Is(err, auth.ErrDenied) {
		t.Errorf("a reader granted itself admin: err = %v", err)
	}
}

func TestCommentsAndStars(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.hub.Repos.Create(ctx, f.alice, hub.CreateRepositoryInput{Namespace: "alice", Name: "app", Visibility: "public"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.hub.Social.AddComment(ctx, nil, "alice/app", "hi"); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Errorf("anonymous comment: err = %v", err)
	}
	if _, err := f.hub.Social.AddComment(ctx, f.bob, "alice/app", ""); !errors.Is(err, hub.ErrInvalid) {
		t.Errorf("empty comment: err = %v", err)
	}
	c, err := f.hub.Social.AddComment(ctx, f.bob, "alice/app", "**hi**")
	if err != nil {
		t.Fatal(err)
	}
	if string(c.BodyHTML) != "<p><strong>hi</strong></p>\n" {
		t.Errorf("rendered %q", c.BodyHTML)
	}
	for range 2 { // starring twice is one star
		if err := f.hub.Social.Star(ctx, f.bob, "alice/app"); err != nil {
			t.Fatal(err)
		}
	}
	gazers, err := f.hub.Social.Stargazers(ctx, nil, "alice/app", 10, 0)
	if err != nil || len(gazers) != 1 || gazers[0] != "bob" {
		t.Errorf("stargazers %v (%v)", gazers, err)
	}
	if err := f.hub.Social.DeleteComment(ctx, f.root, "alice/app", c.ID); err != nil {
		t.Errorf("a site admin deletes a comment: %v", err)
	}
}
