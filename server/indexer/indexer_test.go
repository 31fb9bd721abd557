package indexer

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/search"
	"github.com/wharfhub/wharf/server/events"
	"github.com/wharfhub/wharf/server/testutil"
)

func testDB(t *testing.T) *models.DB { return testutil.OpenDB(t, t.TempDir()) }

// recordingIndex is a search.Index that remembers what it was given.
type recordingIndex struct {
	search.Index // unused methods panic
	mu           sync.Mutex
	indexed      map[string]int
	deleted      []string
}

func (r *recordingIndex) IndexRepos(_ context.Context, repos []search.Repo) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, d := range repos {
		r.indexed[d.Name]++
	}
	return nil
}

func (r *recordingIndex) DeleteRepos(_ context.Context, names []string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.deleted = append(r.deleted, names...)
	return nil
}

func (r *recordingIndex) count(name string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.indexed[name]
}

func (r *recordingIndex) wasDeleted(name string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Contains(r.deleted, name)
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func eventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 3s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A change published on one replica reaches the other replica's index
// through the change log, deletions included.
func TestReplicasFollowOneLog(t *testing.T) {
	db := testDB(t)
	ctx := t.Context()
	if err := db.Repositories.Create(ctx, &models.Repository{Name: "alice/app", Visibility: models.VisibilityPublic}); err != nil {
		t.Fatal(err)
	}
	busA := events.New()
	idxA := &recordingIndex{indexed: map[string]int{}}
	idxB := &recordingIndex{indexed: map[string]int{}}
	a := New(db, idxA, busA, quiet())
	b := New(db, idxB, events.New(), quiet())
	go func() { _ = a.Run(ctx) }()
	go func() { _ = b.Run(ctx) }()

	busA.Publish(events.Event{Kind: events.Push, Repository: "alice/app", Tag: "v1"})
	eventually(t, "replica B indexes A's push", func() bool { return idxB.count("alice/app") > 0 })
	eventually(t, "replica A indexes its own push", func() bool { return idxA.count("alice/app") > 0 })

	busA.Publish(events.Event{Kind: events.RepositoryDeleted, Repository: "bob/gone"})
	eventually(t, "replica B drops a repository deleted through A", func() bool { return idxB.wasDeleted("bob/gone") })
}

func insertChange(t *testing.T, db *models.DB, id int64, repo string) {
	t.Helper()
	c := models.Change{ID: id, Kind: string(events.Push), Repository: repo, CreatedAt: time.Now().UTC()}
	if err := db.Writer().Create(&c).Error; err != nil {
		t.Fatal(err)
	}
}

func names(cs []models.Change) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Repository)
	}
	return out
}

// An entry that commits after a higher id must still be applied; a hole
// that stays is skipped after gapWait.
func TestFollowerWaitsForLateEntries(t *testing.T) {
	db := testDB(t)
	ctx := t.Context()
	var f follower
	insertChange(t, db, 2, "r2")
	insertChange(t, db, 3, "r3")
	got, err := f.next(ctx, db)
	if err != nil || !slices.Equal(names(got), []string{"r2", "r3"}) {
		t.Fatalf("first read = %v, %v", names(got), err)
	}
	if f.cursor != 0 {
		t.Fatalf("cursor moved over the hole at 1: %d", f.cursor)
	}
	insertChange(t, db, 1, "r1") // the late commit
	got, _ = f.next(ctx, db)
	if !slices.Equal(names(got), []string{"r1"}) || f.cursor != 3 {
		t.Fatalf("after the late entry: %v, cursor %d; want [r1], 3", names(got), f.cursor)
	}
	insertChange(t, db, 5, "r5") // 4 was rolled back
	got, _ = f.next(ctx, db)
	if !slices.Equal(names(got), []string{"r5"}) || f.cursor != 3 {
		t.Fatalf("over a fresh hole: %v, cursor %d; want [r5], 3", names(got), f.cursor)
	}
	got, _ = f.next(ctx, db)
	if len(got) != 0 {
		t.Fatalf("entry applied twice: %v", names(got))
	}
	f.gapAt = time.Now().Add(-gapWait - time.Second)
	if got, _ = f.next(ctx, db); len(got) != 0 || f.cursor != 5 {
		t.Fatalf("after the hole timed out: %v, cursor %d; want none, 5", names(got), f.cursor)
	}
}

// The cursor survives a restart; a missing cursor, or one the pruned log
// has left behind, asks for a rebuild.
func TestCursorPersistsAndStaleIndexRebuilds(t *testing.T) {
	db := testDB(t)
	ctx := t.Context()
	path := CursorPath(filepath.Join(t.TempDir(), "search.bleve"))
	var f follower
	if stale, err := f.load(ctx, path, db); err != nil || !stale {
		t.Fatalf("load without a cursor file = %v, %v; want stale", stale, err)
	}
	// A rebuild over an empty log still records where it stands, or every
	// restart would rebuild again.
	if err := f.save(); err != nil {
		t.Fatal(err)
	}
	var e follower
	if stale, err := e.load(ctx, path, db); err != nil || stale {
		t.Fatalf("load after saving cursor 0 = stale %v, %v; want fresh", stale, err)
	}
	insertChange(t, db, 1, "r1")
	insertChange(t, db, 2, "r2")
	if _, err := f.next(ctx, db); err != nil {
		t.Fatal(err)
	}
	if err := f.save(); err != nil {
		t.Fatal(err)
	}
	var g follower
	if stale, err := g.load(ctx, path, db); err != nil || stale || g.cursor != 2 {
		t.Fatalf("reload = stale %v, cursor %d, %v; want fresh at 2", stale, g.cursor, err)
	}
	insertChange(t, db, 3, "r3")
	insertChange(t, db, 4, "r4")
	if err := db.Writer().Where("id < ?", 4).Delete(&models.Change{}).Error; err != nil {
		t.Fatal(err)
	}
	var h follower
	if stale, err := h.load(ctx, path, db); err != nil || !stale {
		t.Fatalf("load after the log was pruned past the cursor = %v, %v; want stale", stale, err)
	}
	if err := os.WriteFile(path, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	var k follower
	if stale, err := k.load(ctx, path, db); err != nil || !stale {
		t.Fatalf("load of a garbled cursor = %v, %v; want stale", stale, err)
	}
}
