package storagetest

import (
	"bytes"
	"errors"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/wharfhub/wharf/server/storage"
)

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
