package s3_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/opencontainers/go-digest"

	"github.com/wharfhub/wharf/server/storage"
	"github.com/wharfhub/wharf/server/storage/s3"
	"github.com/wharfhub/wharf/server/storage/storagetest"
)

// newDriver returns a driver on a fresh prefix of the test bucket on the
// MinIO that scripts/minio.sh starts; without one the test is skipped
// (make test always starts one).
func newDriver(t *testing.T, redirect time.Duration) *s3.Driver {
	t.Helper()
	endpoint := os.Getenv("WHARF_TEST_S3_ENDPOINT")
	if endpoint == "" {
		t.Skip("WHARF_TEST_S3_ENDPOINT not set; run through scripts/minio.sh")
	}
	d, err := s3.New(t.Context(), s3.Config{
		Endpoint: endpoint, Bucket: "wharf-test", Prefix: "t/" + uuid.NewString(),
		AccessKey: os.Getenv("WHARF_TEST_S3_ACCESS_KEY"), SecretKey: os.Getenv("WHARF_TEST_S3_SECRET_KEY"),
		CreateBucket: true, RedirectTTL: redirect,
	})
	if err != nil {
		t.Fatalf("s3.New: %v", err)
	}
	return d
}

// commitAndCheck commits upload id as the blob of data and reads it back
// whole, checking its size and digest.
func commitAndCheck(t *testing.T, d *s3.Driver, id string, data []byte) {
	t.Helper()
	ctx := t.Context()
	dgst := digest.SHA256.FromBytes(data)
	if err := d.CommitUpload(ctx, id, int64(len(data)), dgst); err != nil {
		t.Fatalf("CommitUpload: %v", err)
	}
	c, err := d.Open(ctx, dgst)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer c.Close()
	v := digest.SHA256.Digester()
	n, err := io.Copy(v.Hash(), c)
	if err != nil {
		t.Fatalf("read %s: %v", dgst, err)
	}
	if n != int64(len(data)) || v.Digest() != dgst {
		t.Fatalf("committed blob: %d bytes hashing to %s, want %d bytes, %s", n, v.Digest(), len(data), dgst)
	}
}

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Driver { return newDriver(t, 0) })
}

// Chunks smaller than S3's 5 MiB part minimum, after one bigger than a
// write buffer, must still commit: the driver keeps every segment but the
// last above the minimum.
func TestSmallChunksAfterLargeOnes(t *testing.T) {
	d := newDriver(t, 0)
	ctx := t.Context()
	data := make([]byte, 19<<20+77)
	for i := range data {
		data[i] = byte(i*7 + i>>11)
	}
	id := uuid.NewString()
	var off int64
	for _, n := range []int64{9<<20 + 5, 1, 3 << 20, 3 << 20, 100, 4<<20 - 106, int64(len(data))} {
		n = min(n, int64(len(data))-off)
		w, err := d.AppendUpload(ctx, id, off, bytes.NewReader(data[off:off+n]))
		if err != nil || w != n {
			t.Fatalf("AppendUpload(%d, %d bytes) = %d, %v", off, n, w, err)
		}
		off += n
	}
	commitAndCheck(t, d, id, data)
}

func TestWalkBlobsListsCommitted(t *testing.T) {
	d := newDriver(t, 0)
	ctx := t.Context()
	want := map[digest.Digest]int64{}
	for _, s := range []string{"a", "bb", "ccc"} {
		id := uuid.NewString()
		if _, err := d.AppendUpload(ctx, id, 0, bytes.NewReader([]byte(s))); err != nil {
			t.Fatal(err)
		}
		dg := digest.SHA256.FromString(s)
		if err := d.CommitUpload(ctx, id, int64(len(s)), dg); err != nil {
			t.Fatal(err)
		}
		want[dg] = int64(len(s))
	}
	got := map[digest.Digest]int64{}
	err := d.WalkBlobs(ctx, func(dg digest.Digest, size int64, mod time.Time) error {
		if time.Since(mod) > time.Minute {
			t.Errorf("%s modified %v ago", dg, time.Since(mod))
		}
		got[dg] = size
		return nil
	})
	if err != nil {
		t.Fatalf("WalkBlobs: %v", err)
	}
	if len(got) != len(want) {
		t.Fatalf("WalkBlobs found %v, want %v", got, want)
	}
	for dg, n := range want {
		if got[dg] != n {
			t.Errorf("WalkBlobs: %s size %d, want %d", dg, got[dg], n)
		}
	}
}

func TestRedirectURLServesTheBlob(t *testing.T) {
	ctx := context.Background()
	if d := newDriver(t, 0); true {
		if _, ok, err := d.RedirectURL(ctx, digest.SHA256.FromString("x")); ok || err != nil {
			t.Fatalf("RedirectURL with redirects off = %v, %v; want off", ok, err)
		}
	}
	d := newDriver(t, time.Minute)
	id := uuid.NewString()
	body := []byte("presigned content")
	if _, err := d.AppendUpload(ctx, id, 0, bytes.NewReader(body)); err != nil {
		t.Fatal(err)
	}
	dg := digest.SHA256.FromBytes(body)
	if err := d.CommitUpload(ctx, id, int64(len(body)), dg); err != nil {
		t.Fatal(err)
	}
	u, ok, err := d.RedirectURL(ctx, dg)
	if err != nil || !ok {
		t.Fatalf("RedirectURL = %v, %v", ok, err)
	}
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !bytes.Equal(got, body) {
		t.Fatalf("GET presigned URL = %d %q, want 200 %q", resp.StatusCode, got, body)
	}
}

// A retry that rewinds into the middle of a large segment (its request
// failed after the store kept more than the session recorded) keeps the
// head of that segment and replaces the rest.
func TestRewindIntoLargeSegment(t *testing.T) {
	d := newDriver(t, 0)
	ctx := t.Context()
	data := make([]byte, 12<<20)
	for i := range data {
		data[i] = byte(i*13 + i>>9)
	}
	junk := bytes.Repeat([]byte{0xEE}, 3<<20)
	id := uuid.NewString()
	for _, c := range []struct {
		off  int64
		body []byte
	}{
		{0, data[:9<<20]},              // one large segment
		{9 << 20, junk},                // a tail the session never recorded
		{6 << 20, data[6<<20 : 7<<20]}, // the retry rewinds into the large one
		{7 << 20, data[7<<20:]},        // and the push goes on
	} {
		if n, err := d.AppendUpload(ctx, id, c.off, bytes.NewReader(c.body)); err != nil || n != int64(len(c.body)) {
			t.Fatalf("AppendUpload(%d, %d bytes) = %d, %v", c.off, len(c.body), n, err)
		}
	}
	rc, err := d.ReadUpload(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(got, data) {
		t.Fatalf("upload holds %d bytes that differ from the %d pushed", len(got), len(data))
	}
	commitAndCheck(t, d, id, data)
}

// A blob larger than one copy piece is committed by several part copies
// running at once, and comes out whole and in order.
func TestLargeBlobCommitsInPieces(t *testing.T) {
	d := newDriver(t, 0)
	ctx := t.Context()
	data := make([]byte, 2*64<<20+12345) // three pieces, the last short
	for i := range data {
		data[i] = byte(i/4096 + i*3)
	}
	id := uuid.NewString()
	if n, err := d.AppendUpload(ctx, id, 0, bytes.NewReader(data)); err != nil || n != int64(len(data)) {
		t.Fatalf("AppendUpload = %d, %v", n, err)
	}
	commitAndCheck(t, d, id, data)
}
