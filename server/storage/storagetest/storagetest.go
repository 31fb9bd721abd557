// Package storagetest is a conformance suite for storage.Driver
// implementations, in the manner of Distribution's driver testsuites: a
// driver package calls Run from one of its tests with a constructor, and
// every behaviour the registry relies on is checked against real data.
package storagetest

import (
	"bytes"
	"context"
	_ "crypto/sha256" // digest.SHA256 needs the hash linked in
	_ "crypto/sha512" // digest.SHA512 needs the hash linked in
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/opencontainers/go-digest"

	"github.com/wharfhub/wharf/server/storage"
)

// Run runs the suite. newDriver is called once per subtest and must return
// an empty driver (use t.TempDir() for anything on disk); the suite never
// shares a driver between subtests.
func Run(t *testing.T, newDriver func(t *testing.T) storage.Driver) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, d storage.Driver)
	}{
		{"MissingBlobIsNotFound", testMissingBlob},
		{"ChunkedUploadCommitsExactBytes", testChunkedUpload},
		{"LargeUploadAcrossBufferBoundaries", testLargeUpload},
		{"ReadUploadReturnsAppendedBytes", testReadUpload},
		{"ReadMissingUploadIsNotFound", testReadMissingUpload},
		{"AppendBeyondStoredSizeIsOffsetMismatch", testAppendBeyondSize},
		{"AppendBelowStoredSizeDiscardsTail", testAppendBelowSize},
		{"FailingReaderLeavesPreviousSize", testFailingReader},
		{"FailingFirstAppendLeavesEmptyUpload", testFailingFirstAppend},
		{"CommitEmptyUploadNeverAppended", testCommitEmptyNeverAppended},
		{"CommitEmptyAppend", testCommitEmptyAppend},
		{"CommitTruncatesToSize", testCommitTruncatesToSize},
		{"CommitMissingUploadFails", testCommitMissingUpload},
		{"CommitSameDigestTwiceDeduplicates", testDedup},
		{"ConcurrentCommitsOfSameDigest", testConcurrentCommits},
		{"ConcurrentUploadsOfDifferentBlobs", testConcurrentDifferent},
		{"OpenSeeksAndReportsSize", testOpenSeek},
		{"SHA512Digests", testSHA512},
		{"DeleteBlob", testDeleteBlob},
		{"DeleteMissingUploadIsNil", testDeleteMissingUpload},
		{"DeleteUploadRemovesIt", testDeleteUpload},
		{"ListUploadsReportsIDsAndModTimes", testListUploads},
		{"WalkBlobsReportsCommittedBlobs", testWalkBlobs},
		{"WalkBlobsToleratesDeletesAndStopsOnError", testWalkBlobsDeletes},
		{"InvalidUploadIDsAreRefused", testInvalidUploadIDs},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newDriver(t))
		})
	}
}

// randomBytes returns n deterministic pseudo-random bytes; seed tells
// different blobs apart.
func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func newID() string { return uuid.NewString() }

// appendAt appends b to upload id at offset and checks the count written.
func appendAt(t *testing.T, d storage.Driver, id string, offset int64, b []byte) {
	t.Helper()
	n, err := d.AppendUpload(t.Context(), id, offset, bytes.NewReader(b))
	if err != nil {
		t.Fatalf("AppendUpload(%s, %d, %d bytes): %v", id, offset, len(b), err)
	}
	if n != int64(len(b)) {
		t.Fatalf("AppendUpload(%s, %d) wrote %d bytes, want %d", id, offset, n, len(b))
	}
}

// upload stores data as one upload in the given chunks and commits it under
// its digest of algorithm alg, returning the digest.
func upload(t *testing.T, d storage.Driver, alg digest.Algorithm, data []byte, chunks ...int) digest.Digest {
	t.Helper()
	id := newID()
	var off int64
	for _, c := range chunks {
		appendAt(t, d, id, off, data[off:off+int64(c)])
		off += int64(c)
	}
	if off < int64(len(data)) {
		appendAt(t, d, id, off, data[off:])
	}
	dgst := alg.FromBytes(data)
	if err := d.CommitUpload(t.Context(), id, int64(len(data)), dgst); err != nil {
		t.Fatalf("CommitUpload(%s, %s): %v", id, dgst, err)
	}
	return dgst
}

// readBlob opens dgst and returns its bytes, checking Size and Stat agree.
func readBlob(t *testing.T, d storage.Driver, dgst digest.Digest) []byte {
	t.Helper()
	c, err := d.Open(t.Context(), dgst)
	if err != nil {
		t.Fatalf("Open(%s): %v", dgst, err)
	}
	defer c.Close()
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("read %s: %v", dgst, err)
	}
	if c.Size() != int64(len(b)) {
		t.Errorf("Open(%s).Size() = %d, read %d bytes", dgst, c.Size(), len(b))
	}
	size, err := d.Stat(t.Context(), dgst)
	if err != nil {
		t.Fatalf("Stat(%s): %v", dgst, err)
	}
	if size != int64(len(b)) {
		t.Errorf("Stat(%s) = %d, read %d bytes", dgst, size, len(b))
	}
	return b
}

// checkBlob checks that dgst holds exactly want and that want hashes to it.
func checkBlob(t *testing.T, d storage.Driver, dgst digest.Digest, want []byte) {
	t.Helper()
	got := readBlob(t, d, dgst)
	if !bytes.Equal(got, want) {
		t.Fatalf("blob %s: got %d bytes (%s), want %d bytes", dgst, len(got), dgst.Algorithm().FromBytes(got), len(want))
	}
	if v := dgst.Algorithm().FromBytes(got); v != dgst {
		t.Fatalf("blob %s hashes to %s", dgst, v)
	}
}

// readUpload returns the data stored for upload id.
func readUpload(t *testing.T, d storage.Driver, id string) []byte {
	t.Helper()
	rc, err := d.ReadUpload(t.Context(), id)
	if err != nil {
		t.Fatalf("ReadUpload(%s): %v", id, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read upload %s: %v", id, err)
	}
	return b
}

// listed reports whether ListUploads names id.
func listed(t *testing.T, d storage.Driver, id string) bool {
	t.Helper()
	infos, err := d.ListUploads(t.Context())
	if err != nil {
		t.Fatalf("ListUploads: %v", err)
	}
	return slices.ContainsFunc(infos, func(u storage.UploadInfo) bool { return u.ID == id })
}

// assertUploadGone checks that upload id no longer exists in any way the
// interface can observe.
func assertUploadGone(t *testing.T, d storage.Driver, id string) {
	t.Helper()
	if listed(t, d, id) {
		t.Errorf("ListUploads still lists %s", id)
	}
	rc, err := d.ReadUpload(t.Context(), id)
	if err == nil {
		rc.Close()
		t.Errorf("ReadUpload(%s) after it should be gone: no error", id)
	} else if !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("ReadUpload(%s) after it should be gone: %v, want ErrNotFound", id, err)
	}
}

func testMissingBlob(t *testing.T, d storage.Driver) {
	ctx := t.Context()
	for _, dgst := range []digest.Digest{
		digest.SHA256.FromString("never stored"),
		digest.SHA512.FromString("never stored"),
	} {
		if _, err := d.Stat(ctx, dgst); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Stat(%s) = %v, want ErrNotFound", dgst, err)
		}
		c, err := d.Open(ctx, dgst)
		if err == nil {
			c.Close()
		}
		if !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Open(%s) = %v, want ErrNotFound", dgst, err)
		}
		if err := d.Delete(ctx, dgst); err != nil {
			t.Errorf("Delete(%s) of a missing blob = %v, want nil", dgst, err)
		}
	}
}

func testChunkedUpload(t *testing.T, d storage.Driver) {
	data := randomBytes(1, 10_000)
	id := newID()
	var off int64
	for _, n := range []int{1, 999, 4096, 0, 3000, 1904} {
		appendAt(t, d, id, off, data[off:off+int64(n)])
		off += int64(n)
	}
	if off != int64(len(data)) {
		t.Fatalf("test bug: chunks cover %d of %d bytes", off, len(data))
	}
	if !listed(t, d, id) {
		t.Errorf("ListUploads does not list %s while it holds data", id)
	}
	dgst := digest.SHA256.FromBytes(data)
	if err := d.CommitUpload(t.Context(), id, off, dgst); err != nil {
		t.Fatalf("CommitUpload: %v", err)
	}
	checkBlob(t, d, dgst, data)
	assertUploadGone(t, d, id)
}

func testLargeUpload(t *testing.T, d storage.Driver) {
	// Chunks larger than, and not multiples of, common copy buffer sizes.
	data := randomBytes(2, 3<<20+12345)
	dgst := upload(t, d, digest.SHA256, data, 1, 1<<20, 1<<20+7, 100)
	checkBlob(t, d, dgst, data)
}

func testReadUpload(t *testing.T, d storage.Driver) {
	data := randomBytes(3, 5000)
	id := newID()
	appendAt(t, d, id, 0, data[:2000])
	appendAt(t, d, id, 2000, data[2000:])
	if got := readUpload(t, d, id); !bytes.Equal(got, data) {
		t.Fatalf("ReadUpload returned %d bytes, differing from the %d appended", len(got), len(data))
	}
	// Reading must not consume or disturb the upload.
	dgst := digest.SHA256.FromBytes(data)
	if err := d.CommitUpload(t.Context(), id, int64(len(data)), dgst); err != nil {
		t.Fatalf("CommitUpload after ReadUpload: %v", err)
	}
	checkBlob(t, d, dgst, data)
}

func testReadMissingUpload(t *testing.T, d storage.Driver) {
	rc, err := d.ReadUpload(t.Context(), newID())
	if err == nil {
		rc.Close()
	}
	if !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("ReadUpload of a missing upload = %v, want ErrNotFound", err)
	}
}

func testAppendBeyondSize(t *testing.T, d storage.Driver) {
	data := randomBytes(4, 300)
	id := newID()
	appendAt(t, d, id, 0, data[:100])
	n, err := d.AppendUpload(t.Context(), id, 150, bytes.NewReader(data[150:]))
	if !errors.Is(err, storage.ErrOffsetMismatch) {
		t.Fatalf("AppendUpload at 150 of a 100-byte upload = (%d, %v), want ErrOffsetMismatch", n, err)
	}
	// A fresh upload holds zero bytes: any offset above zero mismatches.
	if n, err := d.AppendUpload(t.Context(), newID(), 1, bytes.NewReader(data)); !errors.Is(err, storage.ErrOffsetMismatch) {
		t.Fatalf("AppendUpload at 1 of a new upload = (%d, %v), want ErrOffsetMismatch", n, err)
	}
	// The refused append changed nothing: continue where the data ends.
	if got := readUpload(t, d, id); !bytes.Equal(got, data[:100]) {
		t.Fatalf("after a refused append the upload holds %d bytes, want the 100 appended", len(got))
	}
	appendAt(t, d, id, 100, data[100:])
	dgst := digest.SHA256.FromBytes(data)
	if err := d.CommitUpload(t.Context(), id, int64(len(data)), dgst); err != nil {
		t.Fatalf("CommitUpload: %v", err)
	}
	checkBlob(t, d, dgst, data)
}

func testAppendBelowSize(t *testing.T, d storage.Driver) {
	// A request that failed half-way left 64 bytes the caller never
	// accounted for (its saved offset is still 100); the retry at 100 must
	// replace them.
	data := randomBytes(5, 400)
	junk := bytes.Repeat([]byte{0xEE}, 64)
	id := newID()
	appendAt(t, d, id, 0, data[:100])
	appendAt(t, d, id, 100, junk)
	appendAt(t, d, id, 100, data[100:250])
	if got := readUpload(t, d, id); !bytes.Equal(got, data[:250]) {
		t.Fatalf("after retrying at 100, the upload holds %d bytes that differ from the 250 expected", len(got))
	}
	// Rewinding further than the retried chunk also discards the tail, even
	// when the new chunk is shorter than what it replaces.
	appendAt(t, d, id, 200, data[200:210])
	if got := readUpload(t, d, id); !bytes.Equal(got, data[:210]) {
		t.Fatalf("after rewinding to 200, the upload holds %d bytes, want 210", len(got))
	}
	appendAt(t, d, id, 210, data[210:])
	dgst := digest.SHA256.FromBytes(data)
	if err := d.CommitUpload(t.Context(), id, int64(len(data)), dgst); err != nil {
		t.Fatalf("CommitUpload: %v", err)
	}
	checkBlob(t, d, dgst, data)
}

// failingReader yields its data, then fails instead of returning io.EOF,
// like a client that hangs up mid-body.
type failingReader struct {
	data []byte
	err  error
}

var errReaderBroke = errors.New("storagetest: reader broke mid-way")

func (f *failingReader) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

func testFailingReader(t *testing.T, d storage.Driver) {
	data := randomBytes(6, 3000)
	id := newID()
	appendAt(t, d, id, 0, data[:1000])
	// Enough bytes before the failure that a driver buffering writes would
	// have written some of them.
	broken := &failingReader{data: randomBytes(66, 1500), err: errReaderBroke}
	if _, err := d.AppendUpload(t.Context(), id, 1000, broken); err == nil {
		t.Fatal("AppendUpload from a reader that fails: no error")
	}
	if got := readUpload(t, d, id); !bytes.Equal(got, data[:1000]) {
		t.Fatalf("after a failed append the upload holds %d bytes, want its previous 1000", len(got))
	}
	appendAt(t, d, id, 1000, data[1000:])
	dgst := digest.SHA256.FromBytes(data)
	if err := d.CommitUpload(t.Context(), id, int64(len(data)), dgst); err != nil {
		t.Fatalf("CommitUpload: %v", err)
	}
	checkBlob(t, d, dgst, data)
}

func testFailingFirstAppend(t *testing.T, d storage.Driver) {
	data := randomBytes(7, 2000)
	id := newID()
	broken := &failingReader{data: randomBytes(77, 700), err: errReaderBroke}
	if _, err := d.AppendUpload(t.Context(), id, 0, broken); err == nil {
		t.Fatal("AppendUpload from a reader that fails: no error")
	}
	// Whether or not the store kept an empty upload, the next append at 0
	// must work and nothing of the failed one may survive.
	appendAt(t, d, id, 0, data)
	dgst := digest.SHA256.FromBytes(data)
	if err := d.CommitUpload(t.Context(), id, int64(len(data)), dgst); err != nil {
		t.Fatalf("CommitUpload: %v", err)
	}
	checkBlob(t, d, dgst, data)
}

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

func testOpenSeek(t *testing.T, d storage.Driver) {
	data := randomBytes(12, 100_000)
	dgst := upload(t, d, digest.SHA256, data)
	c, err := d.Open(t.Context(), dgst)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer c.Close()
	if c.Size() != int64(len(data)) {
		t.Fatalf("Size() = %d, want %d", c.Size(), len(data))
	}
	seekRead := func(offset int64, whence int, wantPos int64, n int) {
		t.Helper()
		pos, err := c.Seek(offset, whence)
		if err != nil {
			t.Fatalf("Seek(%d, %d): %v", offset, whence, err)
		}
		if pos != wantPos {
			t.Fatalf("Seek(%d, %d) = %d, want %d", offset, whence, pos, wantPos)
		}
		buf := make([]byte, n)
		if _, err := io.ReadFull(c, buf); err != nil {
			t.Fatalf("read %d bytes at %d: %v", n, pos, err)
		}
		if !bytes.Equal(buf, data[pos:pos+int64(n)]) {
			t.Fatalf("bytes read at %d differ from the blob's", pos)
		}
	}
	seekRead(50_000, io.SeekStart, 50_000, 1000)  // the middle
	seekRead(100, io.SeekCurrent, 51_100, 10)     // forward from there
	seekRead(-5000, io.SeekCurrent, 46_110, 5000) // backward
	seekRead(-10, io.SeekEnd, 99_990, 10)         // the tail
	seekRead(0, io.SeekStart, 0, 10)              // back to the start
	// Reading the rest after a seek gives exactly the rest.
	if _, err := c.Seek(77_777, io.SeekStart); err != nil {
		t.Fatalf("Seek: %v", err)
	}
	rest, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("ReadAll after Seek: %v", err)
	}
	if !bytes.Equal(rest, data[77_777:]) {
		t.Fatalf("ReadAll after Seek(77777) read %d bytes, want the last %d", len(rest), len(data)-77_777)
	}
	// At the end, a read reports io.EOF.
	if _, err := c.Seek(0, io.SeekEnd); err != nil {
		t.Fatalf("Seek to end: %v", err)
	}
	if n, err := c.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("Read at end = (%d, %v), want (0, io.EOF)", n, err)
	}
}

func testSHA512(t *testing.T, d storage.Driver) {
	data := randomBytes(13, 7777)
	dgst := upload(t, d, digest.SHA512, data, 1000, 2000)
	if dgst.Algorithm() != digest.SHA512 {
		t.Fatalf("test bug: %s is not sha512", dgst)
	}
	checkBlob(t, d, dgst, data)
	// The same bytes under sha256 are a different blob.
	if _, err := d.Stat(t.Context(), digest.SHA256.FromBytes(data)); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Stat of the sha256 digest of a blob stored by sha512 = %v, want ErrNotFound", err)
	}
	if err := d.Delete(t.Context(), dgst); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := d.Stat(t.Context(), dgst); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Stat after Delete = %v, want ErrNotFound", err)
	}
}

func testDeleteBlob(t *testing.T, d storage.Driver) {
	keep := randomBytes(14, 500)
	gone := randomBytes(15, 500)
	keepD := upload(t, d, digest.SHA256, keep)
	goneD := upload(t, d, digest.SHA256, gone)
	if err := d.Delete(t.Context(), goneD); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := d.Stat(t.Context(), goneD); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Stat after Delete = %v, want ErrNotFound", err)
	}
	if err := d.Delete(t.Context(), goneD); err != nil {
		t.Fatalf("second Delete = %v, want nil", err)
	}
	checkBlob(t, d, keepD, keep)
}

func testDeleteMissingUpload(t *testing.T, d storage.Driver) {
	if err := d.DeleteUpload(t.Context(), newID()); err != nil {
		t.Fatalf("DeleteUpload of a missing upload = %v, want nil", err)
	}
}

func testDeleteUpload(t *testing.T, d storage.Driver) {
	id := newID()
	appendAt(t, d, id, 0, randomBytes(16, 100))
	if err := d.DeleteUpload(t.Context(), id); err != nil {
		t.Fatalf("DeleteUpload: %v", err)
	}
	assertUploadGone(t, d, id)
	if err := d.DeleteUpload(t.Context(), id); err != nil {
		t.Fatalf("second DeleteUpload = %v, want nil", err)
	}
	// The id can start over from zero.
	data := randomBytes(17, 100)
	appendAt(t, d, id, 0, data)
	if got := readUpload(t, d, id); !bytes.Equal(got, data) {
		t.Fatalf("upload restarted after delete holds %d bytes, want the 100 appended", len(got))
	}
}

func testListUploads(t *testing.T, d storage.Driver) {
	infos, err := d.ListUploads(t.Context())
	if err != nil {
		t.Fatalf("ListUploads of an empty store: %v", err)
	}
	if len(infos) != 0 {
		t.Fatalf("ListUploads of an empty store = %v, want none", infos)
	}
	// Mod times may be truncated to the filesystem's granularity.
	before := time.Now().Add(-2 * time.Second)
	ids := []string{newID(), newID(), newID()}
	for i, id := range ids {
		appendAt(t, d, id, 0, randomBytes(uint64(20+i), 10))
	}
	after := time.Now().Add(2 * time.Second)
	infos, err = d.ListUploads(t.Context())
	if err != nil {
		t.Fatalf("ListUploads: %v", err)
	}
	seen := map[string]time.Time{}
	for _, u := range infos {
		if _, dup := seen[u.ID]; dup {
			t.Errorf("ListUploads lists %s twice", u.ID)
		}
		seen[u.ID] = u.ModTime
	}
	if len(seen) != len(ids) {
		t.Errorf("ListUploads lists %d uploads, want %d: %v", len(seen), len(ids), infos)
	}
	for _, id := range ids {
		mt, ok := seen[id]
		if !ok {
			t.Errorf("ListUploads does not list %s", id)
			continue
		}
		if mt.Before(before) || mt.After(after) {
			t.Errorf("ListUploads: %s modified at %v, want between %v and %v", id, mt, before, after)
		}
	}
	// Committed and deleted uploads drop out; the rest stay.
	data := randomBytes(20, 10)
	if err := d.CommitUpload(t.Context(), ids[0], 10, digest.SHA256.FromBytes(data)); err != nil {
		t.Fatalf("CommitUpload: %v", err)
	}
	if err := d.DeleteUpload(t.Context(), ids[1]); err != nil {
		t.Fatalf("DeleteUpload: %v", err)
	}
	if listed(t, d, ids[0]) || listed(t, d, ids[1]) || !listed(t, d, ids[2]) {
		t.Fatalf("ListUploads after a commit and a delete = %v, want only %s", mustList(t, d), ids[2])
	}
}

func mustList(t *testing.T, d storage.Driver) []storage.UploadInfo {
	t.Helper()
	infos, err := d.ListUploads(t.Context())
	if err != nil {
		t.Fatalf("ListUploads: %v", err)
	}
	return infos
}

func testInvalidUploadIDs(t *testing.T, d storage.Driver) {
	for _, id := range []string{
		"",
		"..",
		".",
		"../x",
		"../../etc/passwd",
		"a/b",
		"/abs",
		"a/../b",
		"..\\x",
		"x\x00y",
	} {
		if n, err := d.AppendUpload(t.Context(), id, 0, bytes.NewReader([]byte("data"))); err == nil {
			t.Errorf("AppendUpload(%q) = (%d, nil), want an error", id, n)
		}
		if err := d.CommitUpload(t.Context(), id, 0, digest.SHA256.FromBytes(nil)); err == nil {
			t.Errorf("CommitUpload(%q) = nil, want an error", id)
		}
		rc, err := d.ReadUpload(t.Context(), id)
		if err == nil {
			rc.Close()
			t.Errorf("ReadUpload(%q) = nil error, want one", id)
		}
		// Deleting what cannot exist is not an error (but must not delete
		// anything either; drivers check that in their own tests).
		if err := d.DeleteUpload(t.Context(), id); err != nil {
			t.Errorf("DeleteUpload(%q) = %v, want nil", id, err)
		}
	}
	if infos := mustList(t, d); len(infos) != 0 {
		t.Errorf("ListUploads after refused appends = %v, want none", infos)
	}
	// The empty blob must not have been made by the refused commits.
	if _, err := d.Stat(t.Context(), digest.SHA256.FromBytes(nil)); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Stat of the empty blob after refused commits = %v, want ErrNotFound", err)
	}
}

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
