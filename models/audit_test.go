package models_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/wharfhub/wharf/models"
)

func auditEntries(t *testing.T, db *models.DB, f models.AuditFilter) []models.AuditEntry {
	t.Helper()
	es, err := db.Audit.List(t.Context(), f, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// A change's entry is written in the change's own transaction: it exists
// exactly when the change does, once per request, and not for what
// changed nothing.
func TestAuditEntryGoesWithItsChange(t *testing.T) {
	db := openDB(t)
	owner := &models.User{Username: "alice", Email: "alice@example.com", PasswordHash: "x"}
	if err := db.Users.Create(t.Context(), owner); err != nil {
		t.Fatal(err)
	}
	actor := models.Actor{Name: "alice", Kind: models.ActorUser, Address: "192.0.2.7"}
	note := models.AuditNote{Action: "org.create", Target: "acme", Namespace: "acme"}

	// A failed change leaves neither the change nor an entry.
	ctx, a := models.WithAuditing(t.Context(), actor)
	models.Note(ctx, note)
	if err := db.Orgs.Create(ctx, &models.Organization{Name: "alice"}, owner.ID); err == nil {
		t.Fatal("an organization took a user's name")
	}
	if es := auditEntries(t, db, models.AuditFilter{}); len(es) != 0 {
		t.Fatalf("a failed change wrote %d entries: %+v", len(es), es)
	}
	if _, recorded, _ := a.Outcome(); recorded {
		t.Fatal("a failed change counts as recorded")
	}

	// The change that succeeds writes the one entry, with who and where.
	if err := db.Orgs.Create(ctx, &models.Organization{Name: "acme"}, owner.ID); err != nil {
		t.Fatal(err)
	}
	es := auditEntries(t, db, models.AuditFilter{})
	if len(es) != 1 {
		t.Fatalf("entries = %+v, want one", es)
	}
	e := es[0]
	if e.Actor != "alice" || e.ActorKind != models.ActorUser || e.Address != "192.0.2.7" || e.Action != "org.create" ||
		e.Target != "acme" || e.Namespace != "acme" || e.Result != models.AuditOK || time.Since(e.At) > time.Minute {
		t.Fatalf("entry = %+v", e)
	}
	// A second change of the same request adds none.
	o, err := db.Orgs.Get(t.Context(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	o.Description = "more"
	if err := db.Orgs.Update(ctx, o); err != nil {
		t.Fatal(err)
	}
	if es := auditEntries(t, db, models.AuditFilter{}); len(es) != 1 {
		t.Fatalf("one request wrote %d entries", len(es))
	}

	// Without a note, a change writes nothing.
	if err := db.Orgs.Create(t.Context(), &models.Organization{Name: "beta"}, owner.ID); err != nil {
		t.Fatal(err)
	}
	if es := auditEntries(t, db, models.AuditFilter{}); len(es) != 1 {
		t.Fatalf("a change without a note wrote an entry: %+v", es)
	}
}

// A change made with a note but outside any transaction is counted as
// stray: the request's edge reports it, and the route walk fails on it.
func TestAuditCountsStrayChanges(t *testing.T) {
	db := openDB(t)
	ctx, a := models.WithAuditing(t.Context(), models.Actor{Name: "root", Kind: models.ActorSystem})
	models.Note(ctx, models.AuditNote{Action: "x.change"})
	if _, err := db.Changes.Prune(ctx, time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, _, stray := a.Outcome(); stray != 0 {
		t.Fatalf("a statement that changed nothing counted as stray (%d)", stray)
	}
	if err := db.Changes.Append(ctx, []models.Change{{Kind: "repository", Repository: "a/b", CreatedAt: time.Now()}}); err != nil {
		t.Fatal(err)
	}
	if _, _, stray := a.Outcome(); stray != 1 {
		t.Fatalf("stray = %d, want 1", stray)
	}
	// Record itself is no stray.
	if err := db.Audit.Record(ctx, a.Actor(), models.AuditNote{Action: "signin"}, models.AuditFailed); err != nil {
		t.Fatal(err)
	}
	if _, _, stray := a.Outcome(); stray != 1 {
		t.Fatalf("Record counted as a stray change")
	}
}

func TestAuditFiltersPagesAndPurges(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	add := func(actor, action, ns, repo, target, result string) {
		t.Helper()
		err := db.Audit.Record(ctx, models.Actor{Name: actor, Kind: models.ActorUser, Address: "::1"},
			models.AuditNote{Action: action, Namespace: ns, Repository: repo, Target: target}, result)
		if err != nil {
			t.Fatal(err)
		}
	}
	add("alice", "team.create", "acme", "", "acme/devs", models.AuditOK)
	add("bob", "team.delete", "acme", "", "acme/devs", models.AuditDenied)
	add("alice", "manifest.push", "acme", "acme/app", "acme/app:v1", models.AuditOK)
	add("alice", "teamwork", "beta", "", "50%_off", models.AuditOK)
	add("mallory", "signin", "", "", "", models.AuditFailed)

	count := func(f models.AuditFilter) int { return len(auditEntries(t, db, f)) }
	for _, c := range []struct {
		name string
		f    models.AuditFilter
		want int
	}{
		{"all", models.AuditFilter{}, 5},
		{"namespace", models.AuditFilter{Namespace: "acme"}, 3},
		{"repository", models.AuditFilter{Repository: "acme/app"}, 1},
		{"actor", models.AuditFilter{Actor: "alice"}, 3},
		{"action family", models.AuditFilter{Action: "team"}, 2},
		{"action", models.AuditFilter{Action: "team.delete"}, 1},
		{"result", models.AuditFilter{Result: models.AuditFailed}, 1},
		{"target", models.AuditFilter{Target: "devs"}, 2},
		{"target wildcards are text", models.AuditFilter{Target: "%_"}, 1},
		{"until", models.AuditFilter{Until: new(time.Now().Add(-time.Hour))}, 0},
	} {
		if got := count(c.f); got != c.want {
			t.Errorf("%s: %d entries, want %d", c.name, got, c.want)
		}
	}
	page, err := db.Audit.List(ctx, models.AuditFilter{}, 2)
	if err != nil || len(page) != 2 || page[0].ID < page[1].ID {
		t.Fatalf("first page = %+v, %v", page, err)
	}
	rest := auditEntries(t, db, models.AuditFilter{Before: page[1].ID})
	if len(rest) != 3 {
		t.Fatalf("after the cursor: %d entries, want 3", len(rest))
	}
	var seen []string
	if err := db.Audit.Each(ctx, models.AuditFilter{Actor: "alice"}, func(e models.AuditEntry) error {
		seen = append(seen, e.Action)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if strings.Join(seen, ",") != "team.create,manifest.push,teamwork" {
		t.Fatalf("Each = %v, want oldest first", seen)
	}
	stop := errors.New("stop")
	if err := db.Audit.Each(ctx, models.AuditFilter{}, func(models.AuditEntry) error { return stop }); !errors.Is(err, stop) {
		t.Fatalf("Each's fn error = %v", err)
	}
	if n, err := db.Audit.Purge(ctx, time.Now().Add(-time.Hour)); err != nil || n != 0 {
		t.Fatalf("purged %d (%v) of entries younger than the period", n, err)
	}
	if n, err := db.Audit.Purge(ctx, time.Now().Add(time.Hour)); err != nil || n != 5 {
		t.Fatalf("purged %d (%v), want 5", n, err)
	}
}

// What a caller typed is kept as text PostgreSQL takes: cut, valid UTF-8,
// no NUL.
func TestAuditTextIsCut(t *testing.T) {
	db := openDB(t)
	long := strings.Repeat("é", 400) + "\x00\xff"
	err := db.Audit.Record(t.Context(), models.Actor{Name: long, Kind: models.ActorUser},
		models.AuditNote{Action: "signin", Target: long, Detail: long}, models.AuditFailed)
	if err != nil {
		t.Fatal(err)
	}
	e := auditEntries(t, db, models.AuditFilter{})[0]
	if len(e.Actor) > 128 || len(e.Target) > 256 || strings.ContainsRune(e.Detail, 0) || !strings.HasPrefix(e.Target, "éé") {
		t.Fatalf("entry = %q / %q", e.Actor, e.Target)
	}
}
