package storagetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/wharfhub/wharf/server/storage"
)

func testCommitEmptyNeverAppended(t *testing.T, d storage.Driver) {
	id := newID()
	dgst := digest.SHA256.FromBytes(nil)
	if err := d.CommitUpload(t.Context(), id, 0, dgst); err != nil {
		t.Fatalf("CommitUpload of an upload never appended to, size 0: %v", err)
	}
	checkBlob(t, d, dgst, []byte{})
	assertUploadGone(t, d, id)
}

func testCommitEmptyAppend(t *testing.T, d storage.Driver) {
	id := newID()
	appendAt(t, d, id, 0, nil)
	dgst := digest.SHA256.FromBytes(nil)
	if err := d.CommitUpload(t.Context(), id, 0, dgst); err != nil {
		t.Fatalf("CommitUpload of an empty append: %v", err)
	}
	checkBlob(t, d, dgst, []byte{})
	assertUploadGone(t, d, id)
}

func testCommitTruncatesToSize(t *testing.T, d storage.Driver) {
	// CommitUpload takes the first size bytes: anything a failed request
	// left beyond them is not part of the blob.
	data := randomBytes(8, 1000)
	id := newID()
	appendAt(t, d, id, 0, data)
	appendAt(t, d, id, int64(len(data)), []byte("left by a failed request"))
	dgst := digest.SHA256.FromBytes(data)
	if err := d.CommitUpload(t.Context(), id, int64(len(data)), dgst); err != nil {
		t.Fatalf("CommitUpload: %v", err)
	}
	checkBlob(t, d, dgst, data)
	assertUploadGone(t, d, id)
}

func testCommitMissingUpload(t *testing.T, d storage.Driver) {
	data := randomBytes(9, 10)
	dgst := digest.SHA256.FromBytes(data)
	if err := d.CommitUpload(t.Context(), newID(), int64(len(data)), dgst); err == nil {
		t.Fatal("CommitUpload of an upload that holds no data, size 10: no error")
	}
	if _, err := d.Stat(t.Context(), dgst); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Stat after a failed commit = %v, want ErrNotFound", err)
	}
}

func testDedup(t *testing.T, d storage.Driver) {
	data := randomBytes(10, 4321)
	dgst := digest.SHA256.FromBytes(data)
	ids := []string{newID(), newID()}
	// Both uploads hold the data before either commits, as two clients
	// pushing the same layer would.
	appendAt(t, d, ids[0], 0, data)
	appendAt(t, d, ids[1], 0, data[:100])
	appendAt(t, d, ids[1], 100, data[100:])
	for _, id := range ids {
		if err := d.CommitUpload(t.Context(), id, int64(len(data)), dgst); err != nil {
			t.Fatalf("CommitUpload(%s): %v", id, err)
		}
		checkBlob(t, d, dgst, data)
		assertUploadGone(t, d, id)
	}
	// One blob: a single Delete removes it.
	if err := d.Delete(t.Context(), dgst); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := d.Stat(t.Context(), dgst); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Stat after one Delete of a deduplicated blob = %v, want ErrNotFound", err)
	}
	// And it can be committed again after deletion.
	dgst2 := upload(t, d, digest.SHA256, data)
	checkBlob(t, d, dgst2, data)
}

func testConcurrentCommits(t *testing.T, d storage.Driver) {
	const n = 20
	data := randomBytes(11, 256<<10+3)
	dgst := digest.SHA256.FromBytes(data)
	ids := make([]string, n)
	for i := range ids {
		ids[i] = newID()
		appendAt(t, d, ids[i], 0, data)
	}
	start := make(chan struct{})
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() {
			<-start
			errs[i] = d.CommitUpload(context.Background(), id, int64(len(data)), dgst)
		})
	}
	// Readers race the commits: they may miss the blob, but whatever they
	// see must be whole.
	var readers sync.WaitGroup
	readErrs := make(chan error, n)
	for range n {
		readers.Go(func() {
			<-start
			c, err := d.Open(context.Background(), dgst)
			if errors.Is(err, storage.ErrNotFound) {
				return
			}
			if err != nil {
				readErrs <- fmt.Errorf("Open during commits: %w", err)
				return
			}
			defer c.Close()
			b, err := io.ReadAll(c)
			if err != nil {
				readErrs <- fmt.Errorf("read during commits: %w", err)
				return
			}
			if !bytes.Equal(b, data) {
				readErrs <- fmt.Errorf("read %d bytes during commits that are not the blob", len(b))
			}
		})
	}
	close(start)
	wg.Wait()
	readers.Wait()
	close(readErrs)
	for i, err := range errs {
		if err != nil {
			t.Errorf("CommitUpload #%d: %v", i, err)
		}
	}
	for err := range readErrs {
		t.Error(err)
	}
	checkBlob(t, d, dgst, data)
	for _, id := range ids {
		assertUploadGone(t, d, id)
	}
}

func testConcurrentDifferent(t *testing.T, d storage.Driver) {
	const n = 10
	blobs := make([][]byte, n)
	dgsts := make([]digest.Digest, n)
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		blobs[i] = randomBytes(uint64(100+i), 10_000+i)
		dgsts[i] = digest.SHA256.FromBytes(blobs[i])
		wg.Go(func() {
			id := newID()
			ctx := context.Background()
			for off := 0; off < len(blobs[i]); off += 3000 {
				end := min(off+3000, len(blobs[i]))
				if _, err := d.AppendUpload(ctx, id, int64(off), bytes.NewReader(blobs[i][off:end])); err != nil {
					errs[i] = err
					return
				}
			}
			errs[i] = d.CommitUpload(ctx, id, int64(len(blobs[i])), dgsts[i])
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("upload #%d: %v", i, errs[i])
		}
		checkBlob(t, d, dgsts[i], blobs[i])
	}
}
