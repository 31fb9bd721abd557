package mirror_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/content"
	"github.com/wharfhub/wharf/server/mirror"
	"github.com/wharfhub/wharf/server/mirror/mirrortest"
	"github.com/wharfhub/wharf/server/mirror/upstream"
	"github.com/wharfhub/wharf/server/storage/filesystem"
	"github.com/wharfhub/wharf/server/testutil"
)

// fixture is a mirror "hub" of a real Distribution, behind the fault
// proxy, on a fake clock.
type fixture struct {
	t       *testing.T
	dist    string
	proxy   *mirrortest.Proxy
	content *content.Service
	db      *models.DB
	svc     *mirror.Service
	now     atomic.Int64 // unix nanos
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	bin := mirrortest.DistributionBinary(t)
	f := &fixture{t: t}
	f.now.Store(time.Now().UnixNano()) // the database's own times (creation) are real ones
	clock := func() time.Time { return time.Unix(0, f.now.Load()) }
	f.dist = mirrortest.StartDistribution(t, bin, "", "")
	f.proxy = mirrortest.NewProxy(t, f.dist)
	dir := t.TempDir()
	db := testutil.OpenDB(t, dir)
	f.db = db
	store, err := filesystem.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	f.content = content.New(db, store, log, content.Options{})
	up, err := upstream.New(upstream.Options{URL: f.proxy.URL(), Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	f.svc = mirror.New(db, f.content, []mirror.Mirror{{Name: "hub", URL: f.proxy.URL(), Upstream: up}},
		mirror.Options{TTL: 5 * time.Minute, Now: clock, Log: log})
	return f
}

func (f *fixture) advance(d time.Duration) { f.now.Add(int64(d)) }

func (f *fixture) clock() time.Time { return time.Unix(0, f.now.Load()) }

func (f *fixture) manifest(ref string) ([]byte, error) {
	f.t.Helper()
	r, err := content.ParseReference(ref)
	if err != nil {
		f.t.Fatal(err)
	}
	m, err := f.svc.Manifest(context.Background(), "hub/library/alpine", r)
	if err != nil {
		return nil, err
	}
	return m.Payload, nil
}

func (f *fixture) mustManifest(ref string, want mirrortest.Image) {
	f.t.Helper()
	got, err := f.manifest(ref)
	if err != nil {
		f.t.Fatalf("manifest %s: %v (proxy counts %v)", ref, err, f.proxy.Counts())
	}
	if !bytes.Equal(got, want.Manifest) {
		f.t.Fatalf("manifest %s: not the upstream's bytes", ref)
	}
}

// blob reads a blob through the mirror as the registry does: fetched if
// not cached (to w for the first caller), then from the store.
func (f *fixture) blob(d digest.Digest) ([]byte, error) {
	ctx := context.Background()
	if _, err := f.content.Blobs.Stat(ctx, "hub/library/alpine", d); errors.Is(err, content.ErrBlobUnknown) {
		var buf bytes.Buffer
		served, err := f.svc.FetchBlob(ctx, "hub/library/alpine", d, &buf, nil)
		if err != nil {
			return nil, err
		}
		if served {
			return buf.Bytes(), nil
		}
	}
	c, err := f.content.Blobs.Open(ctx, "hub/library/alpine", d)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return io.ReadAll(c)
}

func TestMirrorPullsAndCaches(t *testing.T) {
	f := newFixture(t)
	img := mirrortest.RandomImage(1, 2, 200<<10)
	mirrortest.Push(t, f.dist, "library/alpine", "3.20", "", "", img)

	f.mustManifest("3.20", img)
	for i, l := range img.Layers {
		got, err := f.blob(digest.FromBytes(l))
		if err != nil || !bytes.Equal(got, l) {
			t.Fatalf("layer %d: %v (%d bytes, want %d)", i, err, len(got), len(l))
		}
	}
	f.proxy.Reset()

	// Within the TTL, by tag and by digest: no upstream request at all.
	f.mustManifest("3.20", img)
	f.mustManifest(img.Digest.String(), img)
	if _, err := f.blob(digest.FromBytes(img.Layers[0])); err != nil {
		t.Fatal(err)
	}
	if n := len(nonZero(f.proxy.Counts())); n != 0 {
		t.Fatalf("cached pulls asked the upstream: %v", f.proxy.Counts())
	}

	// After the TTL: one HEAD, no GET, and the tag is trusted again.
	f.advance(6 * time.Minute)
	f.mustManifest("3.20", img)
	f.mustManifest("3.20", img)
	if c := f.proxy.Counts(); c[mirrortest.KindManifestHEAD] != 1 || c[mirrortest.KindManifestGET] != 0 {
		t.Fatalf("revalidation: %v, want one HEAD and no GET", c)
	}

	// The tag moves upstream: the next check fetches the new manifest.
	moved := mirrortest.RandomImage(2, 1, 50<<10)
	mirrortest.Push(t, f.dist, "library/alpine", "3.20", "", "", moved)
	f.advance(6 * time.Minute)
	f.mustManifest("3.20", moved)
	f.mustManifest(img.Digest.String(), img) // the old one stays by digest

	// The upstream fails: the cached tag is served, for every failure.
	for _, mode := range []mirrortest.Mode{mirrortest.TooMany, mirrortest.Unavailable, mirrortest.Drop} {
		f.proxy.SetMode(mode)
		f.advance(6 * time.Minute)
		f.mustManifest("3.20", moved)
	}
	// A 429's Retry-After is honoured: the upstream is not asked again
	// before it passes.
	f.proxy.SetMode(mirrortest.TooMany)
	f.advance(6 * time.Minute)
	f.mustManifest("3.20", moved) // gets the 429
	before := f.proxy.Count(mirrortest.KindManifestHEAD)
	f.advance(6 * time.Second) // past the TTL check? no: trust is not renewed by a failure
	f.mustManifest("3.20", moved)
	if after := f.proxy.Count(mirrortest.KindManifestHEAD); after != before {
		t.Fatalf("asked the upstream %d times within its Retry-After", after-before)
	}
	if f.svc.Stats().StaleServes.Load() < 4 {
		t.Fatalf("stale serves counted %d, want at least 4", f.svc.Stats().StaleServes.Load())
	}

	// Something never cached, while the upstream is down: unavailable,
	// not unknown.
	f.proxy.SetMode(mirrortest.Unavailable)
	f.advance(time.Minute)
	if _, err := f.manifest("edge"); !errors.Is(err, mirror.ErrUnavailable) {
		t.Fatalf("uncached tag with the upstream down: %v, want ErrUnavailable", err)
	}

	// The upstream deletes the image: the cache keeps serving it.
	f.proxy.SetMode(mirrortest.Pass)
	f.advance(time.Minute)
	mirrortest.DeleteManifest(t, f.dist, "library/alpine", moved.Digest, "", "")
	f.advance(6 * time.Minute)
	f.mustManifest("3.20", moved)
	// A name the upstream never had is unknown.
	if _, err := f.manifest("no-such-tag"); !errors.Is(err, content.ErrManifestUnknown) {
		t.Fatalf("unknown tag: %v, want ErrManifestUnknown", err)
	}
}

func TestMirrorFetchesABlobOnce(t *testing.T) {
	f := newFixture(t)
	img := mirrortest.RandomImage(3, 1, 2<<20)
	mirrortest.Push(t, f.dist, "library/alpine", "big", "", "", img)
	f.mustManifest("big", img)
	f.proxy.Reset()
	d := digest.FromBytes(img.Layers[0])
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := f.blob(d)
			if err == nil && !bytes.Equal(got, img.Layers[0]) {
				err = errors.New("wrong bytes")
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := f.proxy.Count(mirrortest.KindBlobGET); n != 1 {
		t.Fatalf("20 concurrent cold pulls made %d upstream blob fetches, want 1", n)
	}
}

func TestMirrorRefusesACorruptBlob(t *testing.T) {
	f := newFixture(t)
	img := mirrortest.RandomImage(4, 1, 300<<10)
	mirrortest.Push(t, f.dist, "library/alpine", "v1", "", "", img)
	f.mustManifest("v1", img)
	d := digest.FromBytes(img.Layers[0])
	f.proxy.SetMode(mirrortest.CorruptBlobs)
	var buf bytes.Buffer
	if _, err := f.svc.FetchBlob(context.Background(), "hub/library/alpine", d, &buf, nil); !errors.Is(err, mirror.ErrBlobCorrupt) {
		t.Fatalf("corrupt blob: %v, want ErrBlobCorrupt", err)
	}
	if buf.Len() >= len(img.Layers[0]) {
		t.Fatalf("the client got all %d bytes of a corrupt blob", buf.Len())
	}
	if _, err := f.content.Blobs.Stat(context.Background(), "hub/library/alpine", d); !errors.Is(err, content.ErrBlobUnknown) {
		t.Fatalf("a corrupt blob was stored: %v", err)
	}
	// Once the upstream is sound again, the blob is fetched and kept.
	f.proxy.SetMode(mirrortest.Pass)
	got, err := f.blob(d)
	if err != nil || !bytes.Equal(got, img.Layers[0]) {
		t.Fatalf("after the corruption: %v", err)
	}
}

func nonZero(m map[mirrortest.Kind]int) map[mirrortest.Kind]int {
	out := map[mirrortest.Kind]int{}
	for k, v := range m {
		if v != 0 {
			out[k] = v
		}
	}
	return out
}

// TestMirrorQuotaPassesThrough: a mirror whose quota is full serves a blob
// it cannot cache, verified, and stores nothing.
func TestMirrorQuotaPassesThrough(t *testing.T) {
	f := newFixture(t)
	img := mirrortest.RandomImage(6, 1, 256<<10)
	mirrortest.Push(t, f.dist, "library/alpine", "3.20", "", "", img)
	f.mustManifest("3.20", img)
	if err := f.db.Namespaces.ClaimMirror(context.Background(), "hub"); err != nil {
		t.Fatal(err)
	}
	if err := f.db.Namespaces.SetQuota(context.Background(), "hub", 1024); err != nil {
		t.Fatal(err)
	}
	d := digest.FromBytes(img.Layers[0])
	for range 2 {
		got, err := f.blob(d)
		if err != nil || !bytes.Equal(got, img.Layers[0]) {
			t.Fatalf("blob through a full mirror: %v, %d bytes", err, len(got))
		}
	}
	if _, err := f.content.Blobs.Stat(context.Background(), "hub/library/alpine", d); !errors.Is(err, content.ErrBlobUnknown) {
		t.Fatalf("a blob over the quota was stored: %v", err)
	}
	if n := f.proxy.Count(mirrortest.KindBlobGET); n != 2 {
		t.Fatalf("uncached blob fetched %d times for 2 pulls, want 2", n)
	}
}

// TestMirrorRetentionEvicts: a cached repository nobody pulled within the
// retention is evicted (its tags and manifests go; GC takes the blobs),
// and the next pull fetches it from the upstream again.
func TestMirrorRetentionEvicts(t *testing.T) {
	f := newFixture(t)
	img := mirrortest.RandomImage(9, 1, 8<<10)
	mirrortest.Push(t, f.dist, "library/alpine", "3.20", "", "", img)
	f.mustManifest("3.20", img)
	ctx := context.Background()
	if n, err := f.svc.Evict(ctx, f.clock().Add(-time.Hour)); err != nil || n != 0 {
		t.Fatalf("evicting what was cached just now: %d, %v", n, err)
	}
	f.advance(2 * time.Hour)
	if n, err := f.svc.Evict(ctx, f.clock().Add(-time.Hour)); err != nil || n != 1 {
		t.Fatalf("evict after the retention: %d, %v; want 1", n, err)
	}
	if _, err := f.content.Manifests.Get(ctx, "hub/library/alpine", content.Reference{Digest: img.Digest}); !errors.Is(err, content.ErrManifestUnknown) {
		t.Fatalf("an evicted manifest is still cached: %v", err)
	}
	before := f.proxy.Count(mirrortest.KindManifestGET)
	f.mustManifest("3.20", img)
	if f.proxy.Count(mirrortest.KindManifestGET) != before+1 {
		t.Fatal("the pull after eviction did not fetch from the upstream")
	}
}

// TestMirrorIndexFetchesPlatformsLazily: an index is cached with its
// platform manifests unfetched; each comes from the upstream when a client
// asks for it by digest, and only then.
func TestMirrorIndexFetchesPlatformsLazily(t *testing.T) {
	f := newFixture(t)
	amd, arm := mirrortest.RandomImage(10, 1, 4<<10), mirrortest.RandomImage(11, 1, 4<<10)
	mirrortest.Push(t, f.dist, "library/alpine", "amd64", "", "", amd)
	mirrortest.Push(t, f.dist, "library/alpine", "arm64", "", "", arm)
	plat := func(img mirrortest.Image, arch string) map[string]any {
		return map[string]any{"mediaType": img.MediaType, "digest": img.Digest, "size": len(img.Manifest),
			"platform": map[string]string{"os": "linux", "architecture": arch}}
	}
	idx, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
		"manifests": []any{plat(amd, "amd64"), plat(arm, "arm64")}})
	index := mirrortest.Image{Manifest: idx, MediaType: "application/vnd.oci.image.index.v1+json", Digest: digest.FromBytes(idx), Config: []byte("{}")}
	mirrortest.Push(t, f.dist, "library/alpine", "3.20", "", "", index)
	f.proxy.Reset()

	f.mustManifest("3.20", index)
	if n := f.proxy.Count(mirrortest.KindManifestGET); n != 1 {
		t.Fatalf("caching the index made %d manifest GETs, want 1 (platforms come later)", n)
	}
	ctx := context.Background()
	if _, err := f.content.Manifests.Get(ctx, "hub/library/alpine", content.Reference{Digest: arm.Digest}); !errors.Is(err, content.ErrManifestUnknown) {
		t.Fatalf("a platform nobody asked for is cached: %v", err)
	}
	f.mustManifest(arm.Digest.String(), arm)
	if n := f.proxy.Count(mirrortest.KindManifestGET); n != 2 {
		t.Fatalf("after asking for arm64: %d manifest GETs, want 2", n)
	}
	f.mustManifest(arm.Digest.String(), arm)
	if n := f.proxy.Count(mirrortest.KindManifestGET); n != 2 {
		t.Fatalf("a cached platform was fetched again: %d GETs", n)
	}
}

// HEAD of a blob not cached costs the upstream a HEAD: nothing is fetched
// or stored (nor does a full quota change the answer).
func TestMirrorStatBlobAsksTheUpstream(t *testing.T) {
	f := newFixture(t)
	img := mirrortest.RandomImage(4, 1, 1<<20)
	mirrortest.Push(t, f.dist, "library/alpine", "3.20", "", "", img)
	f.proxy.Reset()
	ctx := context.Background()
	d := digest.FromBytes(img.Layers[0])
	size, err := f.svc.StatBlob(ctx, "hub/library/alpine", d)
	if err != nil || size != int64(len(img.Layers[0])) {
		t.Fatalf("StatBlob: %d, %v", size, err)
	}
	if c := nonZero(f.proxy.Counts()); c[mirrortest.KindBlobHEAD] != 1 || c[mirrortest.KindBlobGET] != 0 {
		t.Errorf("upstream requests %v, want one blob HEAD", c)
	}
	if _, err := f.content.Blobs.Stat(ctx, "hub/library/alpine", d); !errors.Is(err, content.ErrBlobUnknown) {
		t.Errorf("a HEAD stored the blob: %v", err)
	}
	if _, err := f.svc.StatBlob(ctx, "hub/library/alpine", digest.FromString("nope")); !errors.Is(err, content.ErrBlobUnknown) {
		t.Errorf("a blob the upstream lacks: %v", err)
	}
	f.proxy.SetMode(mirrortest.Unavailable)
	if _, err := f.svc.StatBlob(ctx, "hub/library/alpine", d); !errors.Is(err, mirror.ErrUnavailable) {
		t.Errorf("the upstream down: %v", err)
	}
	if _, err := f.svc.StatBlob(ctx, "nomirror/x", d); !errors.Is(err, content.ErrBlobUnknown) {
		t.Errorf("not a mirror: %v", err)
	}
}

// Two replicas (two services over one database and store) pulling one
// cold blob at once make one upstream fetch; a claim left by a replica
// that died holds the others back only until it runs out.
func TestMirrorReplicasFetchABlobOnce(t *testing.T) {
	f := newFixture(t)
	img := mirrortest.RandomImage(5, 2, 4<<20)
	mirrortest.Push(t, f.dist, "library/alpine", "3.20", "", "", img)
	f.mustManifest("3.20", img)
	up, err := upstream.New(upstream.Options{URL: f.proxy.URL()})
	if err != nil {
		t.Fatal(err)
	}
	other := mirror.New(f.db, f.content, []mirror.Mirror{{Name: "hub", URL: f.proxy.URL(), Upstream: up}},
		mirror.Options{TTL: 5 * time.Minute, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	f.proxy.Reset()
	ctx := context.Background()
	d := digest.FromBytes(img.Layers[0])
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for i := range 10 {
		svc := f.svc
		if i%2 == 1 {
			svc = other
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf bytes.Buffer
			served, err := svc.FetchBlob(ctx, "hub/library/alpine", d, &buf, nil)
			if err == nil && served && !bytes.Equal(buf.Bytes(), img.Layers[0]) {
				err = errors.New("wrong bytes")
			}
			if err == nil && !served {
				_, err = f.content.Blobs.Stat(ctx, "hub/library/alpine", d)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := f.proxy.Count(mirrortest.KindBlobGET); n != 1 {
		t.Fatalf("10 cold pulls over two replicas made %d upstream fetches, want 1", n)
	}

	// A dead replica's claim on the second layer: the fetch waits for it
	// to run out, then fetches.
	d2 := digest.FromBytes(img.Layers[1])
	start := time.Now()
	if ok, err := f.db.Mirrors.TakeFetch(ctx, "hub/library/alpine@"+d2.String(), "dead", start, start.Add(300*time.Millisecond)); !ok || err != nil {
		t.Fatal(ok, err)
	}
	var buf bytes.Buffer
	served, err := other.FetchBlob(ctx, "hub/library/alpine", d2, &buf, nil)
	if err != nil || !served || !bytes.Equal(buf.Bytes(), img.Layers[1]) {
		t.Fatalf("after a dead claim: served %v, %v", served, err)
	}
	if waited := time.Since(start); waited < 300*time.Millisecond {
		t.Errorf("fetched after %v, inside the dead replica's claim", waited)
	}
	if n := f.proxy.Count(mirrortest.KindBlobGET); n != 2 {
		t.Errorf("%d upstream fetches, want 2", n)
	}
}
