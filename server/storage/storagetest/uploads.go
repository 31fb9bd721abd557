package storagetest

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/wharfhub/wharf/server/storage"
)

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
