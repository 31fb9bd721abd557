package storagetest

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/wharfhub/wharf/server/storage"
)

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
