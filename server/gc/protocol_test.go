package gc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/opencontainers/go-digest"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/content"
	"github.com/wharfhub/wharf/server/storage"
	"github.com/wharfhub/wharf/server/storage/filesystem"
	"github.com/wharfhub/wharf/server/testutil"
)

// fixture is the content service and a collector on one database (SQLite,
// or PostgreSQL with WHARF_TEST_DATABASE) and one blob directory.
type fixture struct {
	t     *testing.T
	db    *models.DB
	store *filesystem.Driver
	svc   *content.Service
	gc    *Collector
}

// newFixture makes a content service (with opts, if given) and a
// collector on one fresh data directory.
func newFixture(t *testing.T, opts ...content.Options) *fixture {
	t.Helper()
	dir := t.TempDir()
	db := testutil.OpenDB(t, dir)
	store, err := filesystem.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	return &fixture{t: t, db: db, store: store, svc: content.New(db, store, log, append(opts, content.Options{})[0]), gc: New(db, store, log, Hooks{})}
}

// blob pushes data into repo as one monolithic upload.
func (f *fixture) blob(repo string, data []byte) digest.Digest {
	f.t.Helper()
	d := digest.FromBytes(data)
	if err := f.svc.Uploads.Put(context.Background(), repo, d, content.Chunk{Start: 0, Length: int64(len(data)), Body: bytes.NewReader(data)}); err != nil {
		f.t.Fatalf("push blob %s to %s: %v", d, repo, err)
	}
	return d
}

// imageJSON is an OCI image manifest naming config and layers.
func imageJSON(config digest.Digest, configSize int, subject *digest.Digest, layers ...[]byte) []byte {
	m := map[string]any{
		"schemaVersion": 2,
		"mediaType":     content.MediaTypeOCIManifest,
		"config":        map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config, "size": configSize},
	}
	ls := []any{}
	for _, l := range layers {
		ls = append(ls, map[string]any{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": digest.FromBytes(l), "size": len(l)})
	}
	m["layers"] = ls
	if subject != nil {
		m["subject"] = map[string]any{"mediaType": content.MediaTypeOCIManifest, "digest": *subject, "size": 1}
	}
	b, _ := json.Marshal(m)
	return b
}

// image pushes a config and layers to repo and a manifest naming them,
// tagged tag ("" for none), and returns the manifest's digest.
func (f *fixture) image(repo, tag string, layers ...[]byte) digest.Digest {
	f.t.Helper()
	return f.imageWith(repo, tag, nil, layers...)
}

func (f *fixture) imageWith(repo, tag string, subject *digest.Digest, layers ...[]byte) digest.Digest {
	f.t.Helper()
	cfg := []byte(fmt.Sprintf(`{"architecture":"amd64","os":"linux","repo":%q}`, repo))
	cd := f.blob(repo, cfg)
	for _, l := range layers {
		f.blob(repo, l)
	}
	d, err := f.putManifest(repo, tag, imageJSON(cd, len(cfg), subject, layers...), content.MediaTypeOCIManifest)
	if err != nil {
		f.t.Fatalf("put manifest in %s: %v", repo, err)
	}
	return d
}

func (f *fixture) putManifest(repo, tag string, payload []byte, mediaType string) (digest.Digest, error) {
	ref := content.Reference{Tag: tag}
	if tag == "" {
		ref = content.Reference{Digest: digest.FromBytes(payload)}
	}
	res, err := f.svc.Manifests.Put(context.Background(), content.PutManifestRequest{Name: repo, Ref: ref, ContentType: mediaType, Payload: payload})
	if err != nil {
		return "", err
	}
	return res.Digest, nil
}

// index pushes an index of children to repo, tagged tag.
func (f *fixture) index(repo, tag string, children ...digest.Digest) digest.Digest {
	f.t.Helper()
	var ms []any
	for _, c := range children {
		ms = append(ms, map[string]any{"mediaType": content.MediaTypeOCIManifest, "digest": c, "size": 1,
			"platform": map[string]string{"os": "linux", "architecture": "amd64"}})
	}
	b, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": content.MediaTypeOCIIndex, "manifests": ms})
	d, err := f.putManifest(repo, tag, b, content.MediaTypeOCIIndex)
	if err != nil {
		f.t.Fatalf("put index in %s: %v", repo, err)
	}
	return d
}

// readable reports whether repo serves d with the right bytes.
func (f *fixture) readable(repo string, d digest.Digest) bool {
	f.t.Helper()
	c, err := f.svc.Blobs.Open(context.Background(), repo, d)
	if errors.Is(err, content.ErrBlobUnknown) {
		return false
	}
	if err != nil {
		f.t.Fatalf("open %s in %s: %v", d, repo, err)
	}
	defer c.Close()
	got, err := d.Algorithm().FromReader(c)
	if err != nil {
		f.t.Fatal(err)
	}
	if got != d {
		f.t.Fatalf("%s in %s reads back as %s", d, repo, got)
	}
	return true
}

// inStore reports whether the store holds d.
func (f *fixture) inStore(d digest.Digest) bool {
	f.t.Helper()
	_, err := f.store.Stat(context.Background(), d)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		f.t.Fatal(err)
	}
	return err == nil
}

// recorded reports whether the database has a row for d.
func (f *fixture) recorded(d digest.Digest) bool {
	f.t.Helper()
	known, err := f.db.GC.KnownBlobs(context.Background(), []string{d.String()})
	if err != nil {
		f.t.Fatal(err)
	}
	return known[d.String()]
}

// markDeleting marks d as GC does just before it deletes the bytes, as
// if d had been unused for an hour.
func (f *fixture) markDeleting(d digest.Digest) {
	f.t.Helper()
	t0 := time.Now().Add(time.Second)
	if _, marked, err := f.db.GC.MarkBlobDeleting(context.Background(), d.String(), t0, t0.Add(-time.Hour), t0); err != nil || !marked {
		f.t.Fatalf("mark: %v %v", marked, err)
	}
}

func (f *fixture) run(opts Options) Report {
	f.t.Helper()
	rep, err := f.gc.Run(context.Background(), opts)
	if err != nil {
		f.t.Fatalf("gc: %v", err)
	}
	return rep
}

// orphan commits data to the store without telling the database, as a
// crash between the store and the database leaves it.
func (f *fixture) orphan(data []byte) digest.Digest {
	f.t.Helper()
	ctx := context.Background()
	id := uuid.NewString()
	if _, err := f.store.AppendUpload(ctx, id, 0, bytes.NewReader(data)); err != nil {
		f.t.Fatal(err)
	}
	d := digest.FromBytes(data)
	if err := f.store.CommitUpload(ctx, id, int64(len(data)), d); err != nil {
		f.t.Fatal(err)
	}
	return d
}

var (
	now   = Options{}                     // grace 0: anything unused is garbage
	young = Options{Grace: time.Hour}     // nothing pushed by a test is old
	tidy  = Options{DeleteUntagged: true} // grace 0, untagged manifests too
	dry   = Options{DeleteUntagged: true, DryRun: true}
)

func TestCollectorDecides(t *testing.T) {
	layer := func(s string) []byte { return []byte("layer " + s) }
	tests := []struct {
		name string
		// setup returns the digests that must survive and those that
		// must go, each in the repository that links it.
		setup      func(f *fixture) (keep, gone map[digest.Digest]string)
		opts       Options
		wantBlobs  int
		wantMfsts  int
		wantOrphan int
	}{
		{"an unreferenced blob past the grace window is deleted", func(f *fixture) (map[digest.Digest]string, map[digest.Digest]string) {
			return nil, map[digest.Digest]string{f.blob("a/b", layer("1")): "a/b"}
		}, now, 1, 0, 0},
		{"an unreferenced blob within the grace window is kept", func(f *fixture) (map[digest.Digest]string, map[digest.Digest]string) {
			return map[digest.Digest]string{f.blob("a/b", layer("1")): "a/b"}, nil
		}, young, 0, 0, 0},
		{"blobs of a tagged image are kept", func(f *fixture) (map[digest.Digest]string, map[digest.Digest]string) {
			f.image("a/b", "v1", layer("1"), layer("2"))
			return map[digest.Digest]string{digest.FromBytes(layer("1")): "a/b", digest.FromBytes(layer("2")): "a/b"}, nil
		}, tidy, 0, 0, 0},
		{"blobs of an untagged image are kept without the untagged policy", func(f *fixture) (map[digest.Digest]string, map[digest.Digest]string) {
			f.image("a/b", "", layer("1"))
			return map[digest.Digest]string{digest.FromBytes(layer("1")): "a/b"}, nil
		}, now, 0, 0, 0},
		{"an untagged image and its blobs go with the untagged policy", func(f *fixture) (map[digest.Digest]string, map[digest.Digest]string) {
			f.image("a/b", "", layer("1"))
			return nil, map[digest.Digest]string{digest.FromBytes(layer("1")): "a/b"}
		}, tidy, 2, 1, 0},
		{"a blob shared with a tagged image in another repository stays", func(f *fixture) (map[digest.Digest]string, map[digest.Digest]string) {
			f.image("a/b", "", layer("shared"))
			f.image("c/d", "v1", layer("shared"))
			return map[digest.Digest]string{digest.FromBytes(layer("shared")): "c/d"}, nil
		}, tidy, 1, 1, 0}, // a/b's config goes
		{"a deleted image's blobs go", func(f *fixture) (map[digest.Digest]string, map[digest.Digest]string) {
			m := f.image("a/b", "v1", layer("1"))
			if err := f.svc.Manifests.Delete(context.Background(), "a/b", content.Reference{Digest: m}, "test"); err != nil {
				f.t.Fatal(err)
			}
			return nil, map[digest.Digest]string{digest.FromBytes(layer("1")): "a/b"}
		}, now, 2, 0, 0},
		{"a tagged index keeps its untagged children", func(f *fixture) (map[digest.Digest]string, map[digest.Digest]string) {
			c := f.image("a/b", "", layer("amd64"))
			f.index("a/b", "v1", c)
			return map[digest.Digest]string{digest.FromBytes(layer("amd64")): "a/b"}, nil
		}, tidy, 0, 0, 0},
		{"an untagged index goes with its children", func(f *fixture) (map[digest.Digest]string, map[digest.Digest]string) {
			c1 := f.image("a/b", "", layer("amd64"))
			c2 := f.image("a/b", "", layer("arm64"))
			f.index("a/b", "", c1, c2)
			return nil, map[digest.Digest]string{digest.FromBytes(layer("amd64")): "a/b", digest.FromBytes(layer("arm64")): "a/b"}
		}, tidy, 3, 3, 0}, // one config shared by both children
		{"a referrer of a tagged image stays, and its blobs", func(f *fixture) (map[digest.Digest]string, map[digest.Digest]string) {
			s := f.image("a/b", "v1", layer("1"))
			f.imageWith("a/b", "", &s, layer("signature"))
			return map[digest.Digest]string{digest.FromBytes(layer("signature")): "a/b"}, nil
		}, tidy, 0, 0, 0},
		{"a referrer of an untagged image goes with it", func(f *fixture) (map[digest.Digest]string, map[digest.Digest]string) {
			s := f.image("a/b", "", layer("1"))
			f.imageWith("a/b", "", &s, layer("signature"))
			return nil, map[digest.Digest]string{digest.FromBytes(layer("signature")): "a/b", digest.FromBytes(layer("1")): "a/b"}
		}, tidy, 3, 2, 0},
		{"an old store file without a row is deleted", func(f *fixture) (map[digest.Digest]string, map[digest.Digest]string) {
			d := f.orphan(layer("crash"))
			return nil, map[digest.Digest]string{d: ""}
		}, now, 0, 0, 1},
		{"a young store file without a row is kept", func(f *fixture) (map[digest.Digest]string, map[digest.Digest]string) {
			d := f.orphan(layer("crash"))
			return map[digest.Digest]string{d: ""}, nil
		}, young, 0, 0, 0},
		{"a blob an upload is committing is kept whatever the grace window", func(f *fixture) (map[digest.Digest]string, map[digest.Digest]string) {
			data := layer("committing")
			d := digest.FromBytes(data)
			if _, err := f.db.Blobs.Lease(context.Background(), d.String(), int64(len(data)), time.Hour); err != nil {
				f.t.Fatal(err)
			}
			// The bytes are in the store; the link is not recorded yet.
			f.orphan(data)
			return map[digest.Digest]string{d: ""}, nil
		}, now, 0, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			keep, gone := tc.setup(f)
			// The dry run reports exactly what the real run then does.
			want := f.run(Options{Grace: tc.opts.Grace, DeleteUntagged: tc.opts.DeleteUntagged, DryRun: true})
			rep := f.run(tc.opts)
			if rep.Blobs != tc.wantBlobs || rep.Manifests != tc.wantMfsts || rep.Orphans != tc.wantOrphan {
				t.Errorf("report %s; want %d blobs, %d manifests, %d store files", rep, tc.wantBlobs, tc.wantMfsts, tc.wantOrphan)
			}
			if want.Blobs != rep.Blobs || want.BlobBytes != rep.BlobBytes || want.Manifests != rep.Manifests ||
				want.Orphans != rep.Orphans || want.BytesReclaimed() != rep.BytesReclaimed() {
				t.Errorf("dry run said %s; the run did %s", want, rep)
			}
			for d, repo := range keep {
				if !f.inStore(d) || !f.recorded(d) && repo != "" {
					t.Errorf("kept blob %s is gone (store %v, row %v)", d, f.inStore(d), f.recorded(d))
				}
				if repo != "" && !f.readable(repo, d) {
					t.Errorf("kept blob %s is not readable in %s", d, repo)
				}
			}
			for d, repo := range gone {
				if f.inStore(d) || f.recorded(d) {
					t.Errorf("garbage blob %s stays (store %v, row %v)", d, f.inStore(d), f.recorded(d))
				}
				if repo != "" && f.readable(repo, d) {
					t.Errorf("garbage blob %s is still readable in %s", d, repo)
				}
			}
			// A second run finds nothing more.
			if again := f.run(tc.opts); again.BytesReclaimed() != 0 || again.Blobs+again.Manifests+again.Orphans != 0 {
				t.Errorf("a second run still deletes: %s", again)
			}
		})
	}
}

func TestDryRunDeletesNothing(t *testing.T) {
	f := newFixture(t)
	m := f.image("a/b", "", []byte("layer"))
	d := f.orphan([]byte("orphan"))
	rep := f.run(dry)
	if rep.Manifests != 1 || rep.Blobs != 2 || rep.Orphans != 1 || rep.BytesReclaimed() == 0 {
		t.Fatalf("dry run report %s; want 1 manifest, 2 blobs, 1 store file", rep)
	}
	if _, err := f.svc.Manifests.Get(context.Background(), "a/b", content.Reference{Digest: m}); err != nil {
		t.Fatalf("dry run deleted the manifest: %v", err)
	}
	if !f.readable("a/b", digest.FromBytes([]byte("layer"))) || !f.inStore(d) {
		t.Fatal("dry run deleted a blob")
	}
}

// Distribution #1609: a blob GC thinks is garbage is referenced again
// between its listing and its deletion; it must stay pullable.
func TestBlobReferencedAgainDuringCollectionStays(t *testing.T) {
	f := newFixture(t)
	layer := []byte("layer pushed, then its image deleted")
	m := f.image("a/b", "v1", layer)
	ctx := context.Background()
	if err := f.svc.Manifests.Delete(ctx, "a/b", content.Reference{Digest: m}, "test"); err != nil {
		t.Fatal(err)
	}
	var pushed digest.Digest
	f.gc.beforeMark = func(dgst string) {
		if dgst != digest.FromBytes(layer).String() || pushed != "" {
			return
		}
		// The client's HEAD said the layer exists: it pushes a manifest
		// naming it, without uploading it again.
		pushed = f.image("a/b", "v2", layer)
	}
	rep := f.run(now)
	if pushed == "" {
		t.Fatal("the layer was never a candidate")
	}
	if rep.Kept == 0 {
		t.Errorf("report %s: the re-referenced layer was not kept", rep)
	}
	if !f.readable("a/b", digest.FromBytes(layer)) {
		t.Fatal("a layer referenced during collection was deleted")
	}
}

// GC marks first: then the manifest put that comes too late fails
// cleanly, and pushing the blob again fixes it.
func TestManifestPutAfterMarkFailsCleanly(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	layer := []byte("layer")
	cfg := []byte(`{"os":"linux"}`)
	cd, ld := f.blob("a/b", cfg), f.blob("a/b", layer)
	f.markDeleting(ld)
	payload := imageJSON(cd, len(cfg), nil, layer)
	if _, err := f.putManifest("a/b", "v1", payload, content.MediaTypeOCIManifest); !errors.Is(err, content.ErrManifestBlobUnknown) {
		t.Fatalf("put manifest naming a marked blob: %v, want ErrManifestBlobUnknown", err)
	}
	// The mark took the link at once: a client's HEAD says upload again.
	if _, err := f.svc.Blobs.Stat(ctx, "a/b", ld); !errors.Is(err, content.ErrBlobUnknown) {
		t.Fatalf("stat of a marked blob: %v, want ErrBlobUnknown", err)
	}
	if mounted, err := f.svc.Blobs.Mount(ctx, "c/d", "", ld); mounted || err != nil {
		t.Fatalf("mount of a marked blob: %v %v, want a plain upload instead", mounted, err)
	}
	// GC finishes; the client pushes the layer again, then the manifest.
	if err := f.store.Delete(ctx, ld); err != nil {
		t.Fatal(err)
	}
	if err := f.db.GC.ForgetBlob(ctx, ld.String()); err != nil {
		t.Fatal(err)
	}
	f.blob("a/b", layer)
	if _, err := f.putManifest("a/b", "v1", payload, content.MediaTypeOCIManifest); err != nil {
		t.Fatalf("put manifest after pushing the layer again: %v", err)
	}
	if !f.readable("a/b", ld) {
		t.Fatal("layer not readable after the re-push")
	}
}

// An upload that deduplicates against a blob GC is deleting waits for the
// deletion and writes the blob afresh.
func TestUploadWaitsForDeletionAndRewrites(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	layer := []byte("layer being collected")
	d := f.blob("a/b", layer)
	f.markDeleting(d)
	done := make(chan error, 1)
	go func() {
		done <- f.svc.Uploads.Put(ctx, "c/d", d, content.Chunk{Start: 0, Length: int64(len(layer)), Body: bytes.NewReader(layer)})
	}()
	select {
	case err := <-done:
		t.Fatalf("upload of a blob being deleted finished at once: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	// GC deletes the bytes (after the upload deduplicated, the worst
	// moment), then the row.
	if err := f.store.Delete(ctx, d); err != nil {
		t.Fatal(err)
	}
	if err := f.db.GC.ForgetBlob(ctx, d.String()); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("upload after the deletion: %v", err)
	}
	if !f.readable("c/d", d) {
		t.Fatal("the upload waited but its blob is not readable")
	}
	if f.readable("a/b", d) {
		t.Fatal("the collected link came back")
	}
}

func TestUploadGivesUpOnAStuckDeletion(t *testing.T) {
	f := newFixture(t, content.Options{GCWait: 100 * time.Millisecond})
	ctx := context.Background()
	layer := []byte("layer")
	d := f.blob("a/b", layer)
	f.markDeleting(d)
	err := f.svc.Uploads.Put(ctx, "a/b", d, content.Chunk{Start: 0, Length: int64(len(layer)), Body: bytes.NewReader(layer)})
	if !errors.Is(err, content.ErrBusy) {
		t.Fatalf("upload of a blob whose deletion never ends: %v, want ErrBusy", err)
	}
	// A later run takes over the abandoned mark once it is stale.
	f.gc.now = func() time.Time { return time.Now().Add(staleMark + time.Minute) }
	if rep := f.run(Options{}); rep.Blobs != 1 {
		t.Fatalf("run after an abandoned mark: %s, want the blob deleted", rep)
	}
	f.gc.now = time.Now
	f.blob("a/b", layer)
	if !f.readable("a/b", d) {
		t.Fatal("blob not readable after the stuck deletion was finished")
	}
}

// An upload that crashed holding its lease protects the blob until the
// lease expires; then GC takes the blob and the lease.
func TestExpiredLeaseNoLongerProtects(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	data := []byte("upload that crashed before linking")
	d := digest.FromBytes(data)
	if _, err := f.db.Blobs.Lease(ctx, d.String(), int64(len(data)), 50*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	f.orphan(data)
	if rep := f.run(now); rep.Blobs+rep.Orphans != 0 {
		t.Fatalf("run under a live lease deleted: %s", rep)
	}
	// Once the lease has expired, by the database's clock, the next run
	// takes the blob.
	var rep Report
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if rep = f.run(now); rep.Blobs+rep.Orphans != 0 {
			break
		}
	}
	if rep.Blobs != 1 || f.inStore(d) || f.recorded(d) {
		t.Fatalf("run after the lease expired: %s (store %v, row %v), want the blob deleted", rep, f.inStore(d), f.recorded(d))
	}
}

// An orphan claimed by GC turns away a writer until it is gone; a writer
// that recorded the blob first makes GC leave it.
func TestOrphanClaimAgainstWriters(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	data := []byte("orphan")
	d := f.orphan(data)
	// A writer records it first: GC's claim fails and the blob stays.
	lease, err := f.db.Blobs.Lease(ctx, d.String(), int64(len(data)), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if claimed, err := f.db.GC.MarkOrphanBlob(ctx, d.String(), int64(len(data)), time.Now()); claimed || err != nil {
		t.Fatalf("claim of a blob a writer recorded: %v %v", claimed, err)
	}
	if err := f.db.Blobs.ReleaseLease(ctx, lease); err != nil {
		t.Fatal(err)
	}
	if err := f.db.GC.ForgetBlob(ctx, d.String()); err != nil { // unmarked: no effect
		t.Fatal(err)
	}
	if !f.recorded(d) {
		t.Fatal("ForgetBlob removed an unmarked row")
	}
	// GC claims a fresh orphan first: a writer is told to wait.
	e := f.orphan([]byte("orphan 2"))
	if claimed, err := f.db.GC.MarkOrphanBlob(ctx, e.String(), 8, time.Now()); !claimed || err != nil {
		t.Fatalf("claim of an orphan: %v %v", claimed, err)
	}
	if _, err := f.db.Blobs.Lease(ctx, e.String(), 8, time.Hour); !errors.Is(err, models.ErrBlobDeleting) {
		t.Fatalf("lease of a claimed orphan: %v, want ErrBlobDeleting", err)
	}
}

func TestUntaggedManifestPutAgainDuringCollectionStays(t *testing.T) {
	f := newFixture(t)
	layer := []byte("layer")
	m := f.image("a/b", "", layer)
	garbage, err := (&run{c: f.gc, opts: tidy, now: time.Now().UTC(), cutoff: time.Now().UTC()}).untaggedGarbage(context.Background())
	if err != nil || len(garbage) != 1 {
		t.Fatalf("garbage %v %v, want the untagged image", garbage, err)
	}
	// A push tags it between the listing and the deletion.
	f.image("a/b", "v1", layer)
	if deleted, err := f.db.GC.DeleteUntaggedManifest(context.Background(), garbage[0].ID, time.Now().Add(time.Second)); deleted || err != nil {
		t.Fatalf("delete of a manifest tagged meanwhile: %v %v", deleted, err)
	}
	if _, err := f.svc.Manifests.Get(context.Background(), "a/b", content.Reference{Tag: "v1"}); err != nil {
		t.Fatalf("tag v1 lost: %v", err)
	}
	_ = m
}

// Replicas on one database take turns: an interval's collection runs once,
// not once per replica.
func TestReplicasTakeTurnsOnTheSchedule(t *testing.T) {
	f := newFixture(t)
	const interval, span = 50 * time.Millisecond, time.Second
	var runs atomic.Int64
	ctx, cancel := context.WithTimeout(context.Background(), span)
	defer cancel()
	var wg sync.WaitGroup
	for _, holder := range []string{"replica-a", "replica-b"} {
		c := New(f.db, f.store, slog.New(slog.NewTextHandler(io.Discard, nil)), Hooks{
			Observe: func(Report, error) { runs.Add(1) },
			Turn: func(ctx context.Context, interval time.Duration) (bool, error) {
				now := time.Now()
				return f.db.Site.TakeTurn(ctx, "gc", holder, now, now.Add(interval*9/10))
			},
		})
		wg.Go(func() { c.RunEvery(ctx, interval, Options{}) })
	}
	wg.Wait()
	// A turn lasts 0.9 interval, so taking turns allows up to ~1.1 runs
	// per interval; two replicas collecting on their own make ~2.
	ticks := int64(span / interval)
	if n := runs.Load(); n == 0 || n > ticks*3/2 {
		t.Fatalf("%d runs in %d intervals by two replicas, want about one per interval", n, ticks)
	}
}
