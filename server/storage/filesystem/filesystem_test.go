package filesystem_test

import (
	"bytes"
	_ "crypto/sha256"
	_ "crypto/sha512"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/opencontainers/go-digest"

	"github.com/wharfhub/wharf/server/storage"
	"github.com/wharfhub/wharf/server/storage/filesystem"
	"github.com/wharfhub/wharf/server/storage/storagetest"
)

func newDriver(t *testing.T, root string) *filesystem.Driver {
	t.Helper()
	d, err := filesystem.New(root)
	if err != nil {
		t.Fatalf("filesystem.New(%s): %v", root, err)
	}
	return d
}

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Driver {
		return newDriver(t, t.TempDir())
	})
}

// files lists the regular files under dir, relative to it, with "/".
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !e.IsDir() {
			rel, err := filepath.Rel(dir, p)
			if err != nil {
				return err
			}
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", dir, err)
	}
	return out
}

func appendAll(t *testing.T, d *filesystem.Driver, id string, data []byte) {
	t.Helper()
	if _, err := d.AppendUpload(t.Context(), id, 0, bytes.NewReader(data)); err != nil {
		t.Fatalf("AppendUpload(%s): %v", id, err)
	}
}

func TestNewCreatesLayout(t *testing.T) {
	root := filepath.Join(t.TempDir(), "nested", "data")
	newDriver(t, root)
	for _, dir := range []string{"blobs", "uploads"} {
		fi, err := os.Stat(filepath.Join(root, dir))
		if err != nil || !fi.IsDir() {
			t.Fatalf("%s/ after New: %v", dir, err)
		}
	}
}

func TestCommitLayout(t *testing.T) {
	root := t.TempDir()
	d := newDriver(t, root)
	for _, tc := range []struct {
		alg  digest.Algorithm
		data []byte
	}{
		{digest.SHA256, []byte("a layer")},
		{digest.SHA512, []byte("a layer hashed with sha512")},
		{digest.SHA256, nil},
	} {
		id := uuid.NewString()
		if len(tc.data) > 0 {
			appendAll(t, d, id, tc.data)
			// The upload lives at uploads/<id> while in progress.
			if got := files(t, filepath.Join(root, "uploads")); len(got) != 1 || got[0] != id {
				t.Fatalf("uploads/ while in progress = %v, want [%s]", got, id)
			}
		}
		dgst := tc.alg.FromBytes(tc.data)
		if err := d.CommitUpload(t.Context(), id, int64(len(tc.data)), dgst); err != nil {
			t.Fatalf("CommitUpload(%s): %v", dgst, err)
		}
		if got := files(t, filepath.Join(root, "uploads")); len(got) != 0 {
			t.Fatalf("uploads/ after committing %s = %v, want empty", dgst, got)
		}
		hex := dgst.Encoded()
		p := filepath.Join(root, "blobs", string(tc.alg), hex[:2], hex)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("blob %s not at %s: %v", dgst, p, err)
		}
		if !bytes.Equal(b, tc.data) {
			t.Fatalf("file at %s holds %q, want %q", p, b, tc.data)
		}
	}
	want := []string{}
	for _, dgst := range []digest.Digest{
		digest.SHA256.FromString("a layer"),
		digest.SHA512.FromString("a layer hashed with sha512"),
		digest.SHA256.FromString(""),
	} {
		hex := dgst.Encoded()
		want = append(want, "blobs/"+string(dgst.Algorithm())+"/"+hex[:2]+"/"+hex)
	}
	got := files(t, root)
	for _, w := range want {
		if !strings.Contains(strings.Join(got, "\n"), w) {
			t.Errorf("no %s among %v", w, got)
		}
	}
	if len(got) != len(want) {
		t.Errorf("files under the root = %v, want exactly %v", got, want)
	}
}

func TestDedupCommitLeavesNoUpload(t *testing.T) {
	root := t.TempDir()
	d := newDriver(t, root)
	data := []byte("the same layer, pushed twice")
	dgst := digest.FromBytes(data)
	for range 2 {
		id := uuid.NewString()
		appendAll(t, d, id, data)
		if err := d.CommitUpload(t.Context(), id, int64(len(data)), dgst); err != nil {
			t.Fatalf("CommitUpload: %v", err)
		}
	}
	if got := files(t, filepath.Join(root, "uploads")); len(got) != 0 {
		t.Fatalf("uploads/ after two commits of one digest = %v, want empty", got)
	}
	if got := files(t, filepath.Join(root, "blobs")); len(got) != 1 {
		t.Fatalf("blobs/ after two commits of one digest = %v, want one file", got)
	}
}

// badDigests fail validation; several would climb out of blobs/ or name a
// directory if they were joined into a path.
var badDigests = []digest.Digest{
	"",
	"sha256:",
	":abc",
	"sha256",
	"sha256:../../../outside",
	"sha256:" + digest.Digest(strings.Repeat("A", 64)),
	"sha256:" + digest.Digest(strings.Repeat("a", 63)),
	"sha256:" + digest.Digest(strings.Repeat("a", 65)),
	"sha256:" + digest.Digest(strings.Repeat("a", 62)) + "/.",
	"sha256:aa/../../../../outside",
	"../sha256:" + digest.Digest(strings.Repeat("a", 64)),
	"md5:d41d8cd98f00b204e9800998ecf8427e",
	"sha512:" + digest.Digest(strings.Repeat("a", 64)),
	"SHA256:" + digest.Digest(strings.Repeat("a", 64)),
	"sha256:" + digest.Digest(strings.Repeat("a", 64)) + "\x00",
}

func TestInvalidDigestMakesNoBlobPath(t *testing.T) {
	root := t.TempDir()
	d := newDriver(t, root)
	// Something outside blobs/ that a path traversal could reach.
	sentinel := filepath.Join(root, "outside")
	if err := os.WriteFile(sentinel, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, dgst := range badDigests {
		id := uuid.NewString()
		data := []byte("data for " + string(dgst))
		appendAll(t, d, id, data)
		if err := d.CommitUpload(t.Context(), id, int64(len(data)), dgst); err == nil {
			t.Errorf("CommitUpload(%q) = nil, want an error", dgst)
		}
		if err := d.CommitUpload(t.Context(), uuid.NewString(), 0, dgst); err == nil {
			t.Errorf("CommitUpload(%q) of an empty upload = nil, want an error", dgst)
		}
		if _, err := d.Stat(t.Context(), dgst); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Stat(%q) = %v, want ErrNotFound", dgst, err)
		}
		if c, err := d.Open(t.Context(), dgst); !errors.Is(err, storage.ErrNotFound) {
			if err == nil {
				c.Close()
			}
			t.Errorf("Open(%q) = %v, want ErrNotFound", dgst, err)
		}
		if err := d.Delete(t.Context(), dgst); err != nil {
			t.Errorf("Delete(%q) = %v, want nil", dgst, err)
		}
		if err := d.DeleteUpload(t.Context(), id); err != nil {
			t.Fatalf("DeleteUpload: %v", err)
		}
	}
	if got := files(t, filepath.Join(root, "blobs")); len(got) != 0 {
		t.Errorf("blobs/ after commits of invalid digests = %v, want empty", got)
	}
	// No directory either: blobs/ holds nothing at all.
	entries, err := os.ReadDir(filepath.Join(root, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("blobs/ after commits of invalid digests has entries %v", entries)
	}
	if got := files(t, filepath.Join(root, "uploads")); len(got) != 0 {
		t.Errorf("uploads/ = %v, want empty", got)
	}
	if b, err := os.ReadFile(sentinel); err != nil || string(b) != "keep me" {
		t.Errorf("file outside blobs/ disturbed: %q, %v", b, err)
	}
	if got := files(t, root); len(got) != 1 || got[0] != "outside" {
		t.Errorf("files under the root = %v, want only the sentinel", got)
	}
}

func TestInvalidUploadIDStaysInside(t *testing.T) {
	parent := t.TempDir()
	root := filepath.Join(parent, "data")
	d := newDriver(t, root)
	victim := filepath.Join(root, "victim")
	if err := os.WriteFile(victim, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"../victim", "../../escaped", "../blobs/x", "a/b", "..", ".", "UPPER", strings.Repeat("a", 65)} {
		if _, err := d.AppendUpload(t.Context(), id, 0, strings.NewReader("data")); err == nil {
			t.Errorf("AppendUpload(%q) = nil error", id)
		}
		if err := d.DeleteUpload(t.Context(), id); err != nil {
			t.Errorf("DeleteUpload(%q) = %v", id, err)
		}
	}
	if b, err := os.ReadFile(victim); err != nil || string(b) != "keep me" {
		t.Errorf("file outside uploads/ disturbed: %q, %v", b, err)
	}
	if got := files(t, parent); len(got) != 1 || got[0] != "data/victim" {
		t.Errorf("files after refused ids = %v, want only data/victim", got)
	}
}

func TestListUploadsSkipsForeignFiles(t *testing.T) {
	root := t.TempDir()
	d := newDriver(t, root)
	// Editor droppings and the like in uploads/ are not upload ids.
	for _, name := range []string{".tmp", "README.TXT"} {
		if err := os.WriteFile(filepath.Join(root, "uploads", name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	id := uuid.NewString()
	appendAll(t, d, id, []byte("x"))
	infos, err := d.ListUploads(t.Context())
	if err != nil {
		t.Fatalf("ListUploads: %v", err)
	}
	if len(infos) != 1 || infos[0].ID != id {
		t.Fatalf("ListUploads = %v, want only %s", infos, id)
	}
}

func TestSurvivesRestart(t *testing.T) {
	root := t.TempDir()
	d := newDriver(t, root)
	blob := []byte("committed before the restart")
	dgst := digest.FromBytes(blob)
	id := uuid.NewString()
	appendAll(t, d, id, blob)
	if err := d.CommitUpload(t.Context(), id, int64(len(blob)), dgst); err != nil {
		t.Fatal(err)
	}
	pending := uuid.NewString()
	appendAll(t, d, pending, []byte("half "))

	d = newDriver(t, root)
	if n, err := d.Stat(t.Context(), dgst); err != nil || n != int64(len(blob)) {
		t.Fatalf("Stat after restart = %d, %v", n, err)
	}
	if _, err := d.AppendUpload(t.Context(), pending, 5, strings.NewReader("done")); err != nil {
		t.Fatalf("resume after restart: %v", err)
	}
	whole := []byte("half done")
	if err := d.CommitUpload(t.Context(), pending, int64(len(whole)), digest.FromBytes(whole)); err != nil {
		t.Fatal(err)
	}
	c, err := d.Open(t.Context(), digest.FromBytes(whole))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Size() != int64(len(whole)) {
		t.Fatalf("Size = %d", c.Size())
	}
}
