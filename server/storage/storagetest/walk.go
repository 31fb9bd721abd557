package storagetest

import (
	"errors"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/wharfhub/wharf/server/storage"
)

// walked lists what WalkBlobs reports, failing on a digest seen twice.
func walked(t *testing.T, d storage.Driver) map[digest.Digest]int64 {
	t.Helper()
	seen := map[digest.Digest]int64{}
	err := d.WalkBlobs(t.Context(), func(dgst digest.Digest, size int64, _ time.Time) error {
		if _, dup := seen[dgst]; dup {
			t.Errorf("WalkBlobs reports %s twice", dgst)
		}
		seen[dgst] = size
		return nil
	})
	if err != nil {
		t.Fatalf("WalkBlobs: %v", err)
	}
	return seen
}

func testWalkBlobs(t *testing.T, d storage.Driver) {
	if got := walked(t, d); len(got) != 0 {
		t.Fatalf("WalkBlobs of an empty store = %v, want none", got)
	}
	// Mod times may be truncated to the store's granularity.
	before := time.Now().Add(-2 * time.Second)
	want := map[digest.Digest]int64{}
	for i, n := range []int{0, 1, 5000, 70_000} {
		data := randomBytes(uint64(40+i), n)
		want[upload(t, d, digest.SHA256, data)] = int64(n)
	}
	big := randomBytes(50, 3333)
	want[upload(t, d, digest.SHA512, big)] = int64(len(big))
	after := time.Now().Add(2 * time.Second)
	// Uploads in progress are not blobs.
	appendAt(t, d, newID(), 0, randomBytes(51, 100))

	times := map[digest.Digest]time.Time{}
	err := d.WalkBlobs(t.Context(), func(dgst digest.Digest, size int64, modTime time.Time) error {
		if w, ok := want[dgst]; !ok {
			t.Errorf("WalkBlobs reports %s, which was never committed", dgst)
		} else if size != w {
			t.Errorf("WalkBlobs reports %s with size %d, want %d", dgst, size, w)
		}
		times[dgst] = modTime
		return nil
	})
	if err != nil {
		t.Fatalf("WalkBlobs: %v", err)
	}
	for dgst := range want {
		mt, ok := times[dgst]
		if !ok {
			t.Errorf("WalkBlobs does not report %s", dgst)
			continue
		}
		if mt.Before(before) || mt.After(after) {
			t.Errorf("WalkBlobs: %s modified at %v, want between %v and %v", dgst, mt, before, after)
		}
	}
	// A deleted blob drops out.
	var gone digest.Digest
	for dgst := range want {
		gone = dgst
		break
	}
	if err := d.Delete(t.Context(), gone); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	got := walked(t, d)
	if _, ok := got[gone]; ok || len(got) != len(want)-1 {
		t.Fatalf("WalkBlobs after deleting %s reports %d blobs (deleted one listed: %v), want %d", gone, len(got), ok, len(want)-1)
	}
}

func testWalkBlobsDeletes(t *testing.T, d storage.Driver) {
	const n = 12
	for i := range n {
		upload(t, d, digest.SHA256, randomBytes(uint64(60+i), 100+i))
	}
	// Garbage collection deletes as it walks: the walk must go on.
	visited := 0
	err := d.WalkBlobs(t.Context(), func(dgst digest.Digest, _ int64, _ time.Time) error {
		visited++
		return d.Delete(t.Context(), dgst)
	})
	if err != nil {
		t.Fatalf("WalkBlobs deleting each blob it reports: %v", err)
	}
	if visited != n {
		t.Fatalf("WalkBlobs deleting as it went visited %d blobs, want %d", visited, n)
	}
	if got := walked(t, d); len(got) != 0 {
		t.Fatalf("WalkBlobs after deleting everything = %v, want none", got)
	}
	// An error from fn stops the walk and comes back unchanged.
	for i := range 3 {
		upload(t, d, digest.SHA256, randomBytes(uint64(80+i), 10))
	}
	stop := errors.New("storagetest: stop")
	calls := 0
	err = d.WalkBlobs(t.Context(), func(digest.Digest, int64, time.Time) error {
		calls++
		return stop
	})
	if !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("WalkBlobs with fn failing = %v after %d calls, want the error after 1", err, calls)
	}
}
