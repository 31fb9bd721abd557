package storagetest

import (
	"bytes"
	_ "crypto/sha256" // digest.SHA256 needs the hash linked in
	_ "crypto/sha512" // digest.SHA512 needs the hash linked in
	"errors"
	"io"
	"math/rand/v2"
	"slices"
	"testing"

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
