package content_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/wharfhub/wharf/migrations"
	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/content"
	"github.com/wharfhub/wharf/server/storage/filesystem"
	"github.com/wharfhub/wharf/server/testutil"
)

type fixture struct {
	db    *models.DB
	store *filesystem.Driver
	svc   *content.Service
	dir   string
}

// databases remembers the PostgreSQL schema of each fixture's dir, so that
// a reopen, as after a restart, finds the same data.
var databases sync.Map

// openDB opens the database of dir: SQLite in it, or, when
// WHARF_TEST_DATABASE is set, a PostgreSQL schema of its own.
func openDB(t *testing.T, dir string) (*models.DB, error) {
	t.Helper()
	if dsn, ok := databases.Load(dir); ok {
		return models.OpenPostgres(dsn.(string))
	}
	if dsn := testutil.Database(t); dsn != "" {
		databases.Store(dir, dsn)
		return models.OpenPostgres(dsn)
	}
	return models.OpenSQLite(filepath.Join(dir, "wharf.db"))
}

// open opens (or reopens, as after a restart) a service on dir, with
// opts (if given) instead of the defaults.
func open(t *testing.T, dir string, opts ...content.Options) *fixture {
	t.Helper()
	db, err := openDB(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := migrations.Run(context.Background(), db.Writer()); err != nil {
		t.Fatal(err)
	}
	store, err := filesystem.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{db: db, store: store, svc: content.New(db, store, slog.New(slog.NewTextHandler(io.Discard, nil)), append(opts, content.Options{})[0]), dir: dir}
}

// A crash between the blob's rename and its database row leaves the blob
// whole but unlinked; the session answers BLOB_UPLOAD_UNKNOWN and a
// repeated push succeeds.
func TestCrashBetweenRenameAndRow(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	f := open(t, dir)
	data := []byte("layer bytes")
	d := digest.FromBytes(data)
	up, err := f.svc.Uploads.Start(ctx, "a/b", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Uploads.Append(ctx, "a/b", up.ID, nil, content.Chunk{Start: 0, Length: -1, Body: bytes.NewReader(data)}); err != nil {
		t.Fatal(err)
	}
	// The first half of a commit, then the "crash".
	if err := f.store.CommitUpload(ctx, up.ID, int64(len(data)), d); err != nil {
		t.Fatal(err)
	}
	f.db.Close()

	g := open(t, dir)
	if size, err := g.store.Stat(ctx, d); err != nil || size != int64(len(data)) {
		t.Fatalf("blob after crash: size %d err %v", size, err)
	}
	if _, err := g.svc.Blobs.Stat(ctx, "a/b", d); !errors.Is(err, content.ErrBlobUnknown) {
		t.Fatalf("unlinked blob visible: %v", err)
	}
	if err := g.svc.Uploads.Finish(ctx, "a/b", up.ID, nil, d, nil); !errors.Is(err, content.ErrUploadUnknown) {
		t.Fatalf("finish after crash: %v", err)
	}
	if err := g.svc.Uploads.Put(ctx, "a/b", d, content.Chunk{Start: 0, Length: int64(len(data)), Body: bytes.NewReader(data)}); err != nil {
		t.Fatalf("re-push: %v", err)
	}
	c, err := g.svc.Blobs.Open(ctx, "a/b", d)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got, _ := io.ReadAll(c); !bytes.Equal(got, data) {
		t.Fatal("re-pushed blob differs")
	}
}

// A reader that fails half-way leaves the session where it was.
func TestFailedChunkKeepsSession(t *testing.T) {
	ctx := context.Background()
	f := open(t, t.TempDir())
	up, _ := f.svc.Uploads.Start(ctx, "a/b", nil)
	first := bytes.Repeat([]byte("a"), 1000)
	if _, err := f.svc.Uploads.Append(ctx, "a/b", up.ID, nil, content.Chunk{Start: 0, Length: -1, Body: bytes.NewReader(first)}); err != nil {
		t.Fatal(err)
	}
	broken := io.MultiReader(bytes.NewReader(bytes.Repeat([]byte("b"), 500)), errReader{})
	if _, err := f.svc.Uploads.Append(ctx, "a/b", up.ID, nil, content.Chunk{Start: 1000, Length: -1, Body: broken}); err == nil {
		t.Fatal("broken chunk accepted")
	}
	got, err := f.svc.Uploads.Get(ctx, "a/b", up.ID, nil)
	if err != nil || got.Size != 1000 {
		t.Fatalf("session after failure: %+v %v", got, err)
	}
	second := bytes.Repeat([]byte("c"), 700)
	if _, err := f.svc.Uploads.Append(ctx, "a/b", up.ID, nil, content.Chunk{Start: 1000, Length: 700, Body: bytes.NewReader(second)}); err != nil {
		t.Fatal(err)
	}
	d := digest.FromBytes(append(first, second...))
	if err := f.svc.Uploads.Finish(ctx, "a/b", up.ID, nil, d, nil); err != nil {
		t.Fatalf("finish: %v", err)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

// Stale sessions are purged, fresh ones and ones without a start time are
// kept, and upload data no session owns is removed.
func TestPurgeStaleUploads(t *testing.T) {
	ctx := context.Background()
	f := open(t, t.TempDir(), content.Options{UploadTTL: time.Hour})
	now := time.Now().UTC()
	old := now.Add(-2 * time.Hour)
	rows := []models.Upload{
		{ID: "00000000-0000-4000-8000-000000000001", Repository: "a/b", StartedAt: &old, UpdatedAt: old},
		{ID: "00000000-0000-4000-8000-000000000002", Repository: "a/b", StartedAt: &now, UpdatedAt: now},
		{ID: "00000000-0000-4000-8000-000000000003", Repository: "a/b", StartedAt: nil, UpdatedAt: old},
	}
	for i := range rows {
		if err := f.db.Uploads.Create(ctx, &rows[i], 0); err != nil {
			t.Fatal(err)
		}
		if _, err := f.store.AppendUpload(ctx, rows[i].ID, 0, bytes.NewReader([]byte("data"))); err != nil {
			t.Fatal(err)
		}
	}
	orphan := "00000000-0000-4000-8000-000000000004"
	if _, err := f.store.AppendUpload(ctx, orphan, 0, bytes.NewReader([]byte("orphan"))); err != nil {
		t.Fatal(err)
	}
	n, err := f.svc.Uploads.PurgeStale(ctx, now.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	// At now+2h the second row is stale too; only the one without a start
	// time survives, and the orphan data goes.
	if n != 3 {
		t.Fatalf("purged %d, want 3", n)
	}
	for _, r := range rows {
		ok, _ := f.db.Uploads.Exists(ctx, r.ID)
		if want := r.StartedAt == nil; ok != want {
			t.Errorf("upload %s exists=%v, want %v", r.ID, ok, want)
		}
	}
	infos, _ := f.store.ListUploads(ctx)
	if len(infos) != 1 || infos[0].ID != rows[2].ID {
		t.Fatalf("upload data left: %+v", infos)
	}
}

// Put calls Verified once the body matches its digest, before the commit;
// never for bytes that do not match, or that are short.
func TestPutVerifiedBeforeCommit(t *testing.T) {
	ctx := context.Background()
	f := open(t, t.TempDir())
	data := []byte("verified before it is committed")
	d := digest.FromBytes(data)
	for _, c := range []struct {
		name string
		body []byte
		want bool
	}{
		{"other bytes", []byte("something else entirely, as long"), false},
		{"short", data[:10], false},
		{"the blob", data, true},
	} {
		called, committed := false, false
		err := f.svc.Uploads.Put(ctx, "a/b", d, content.Chunk{Start: -1, Length: -1, Body: bytes.NewReader(c.body), Verified: func() {
			called = true
			_, err := f.svc.Blobs.Stat(ctx, "a/b", d)
			committed = err == nil
		}})
		if called != c.want || committed || (err == nil) != c.want {
			t.Errorf("%s: Verified called %v (committed then: %v), Put: %v", c.name, called, committed, err)
		}
	}
}
