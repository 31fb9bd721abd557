package registry_test

import (
	"bytes"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/opencontainers/go-digest"
)

// A full disk loses nothing that was already there: an upload or a tag
// update that hits ENOSPC answers 5xx, leaves no partial file, and the old
// tag still resolves. The data dir is a small tmpfs (needs root, as CI is).
func TestFullDisk(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=4m"); err != nil {
		t.Skipf("cannot mount tmpfs here: %v", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(dir, syscall.MNT_DETACH) })
	e := newEnvAt(t, dir)
	repo := "alice/full"
	img := e.image(repo, "small layer")
	old := digest.FromBytes(img)
	if r := e.putManifest(repo, "v1", img, ociImage); r.status != 201 {
		t.Fatalf("seed: %d", r.status)
	}

	// An upload larger than the disk.
	big := bytes.Repeat([]byte("x"), 8<<20)
	bd := digest.FromBytes(big)
	p := e.start(repo)
	if r := e.do(as("PATCH", p, big)); r.status < 500 {
		t.Fatalf("oversized upload answered %d", r.status)
	}
	if r := e.do(as("POST", "/v2/"+repo+"/blobs/uploads/?digest="+bd.String(), big)); r.status < 500 {
		t.Fatalf("oversized monolithic upload answered %d", r.status)
	}
	if r := e.do(req{method: "HEAD", path: "/v2/" + repo + "/blobs/" + bd.String()}); r.status != 404 {
		t.Fatalf("partial blob visible: %d", r.status)
	}
	var partial int64
	_ = filepath.Walk(filepath.Join(dir, "uploads"), func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			partial += fi.Size()
		}
		return nil
	})
	if partial != 0 {
		t.Fatalf("%d bytes of partial upload data left", partial)
	}

	// Fill the disk, then try to move the tag.
	filler, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 64<<10)
	for {
		if _, err := filler.Write(chunk); err != nil {
			break
		}
	}
	for {
		if _, err := filler.Write(chunk[:512]); err != nil {
			break
		}
	}
	filler.Close()
	newImg := bytes.Replace(img, []byte(`"schemaVersion":2`), []byte(`"schemaVersion":2,"annotations":{"new":"yes"}`), 1)
	if r := e.putManifest(repo, "v1", newImg, ociImage); r.status < 500 && r.status != 201 {
		t.Fatalf("tag update on a full disk answered %d %s", r.status, r.body)
	}
	os.Remove(filepath.Join(dir, "filler"))
	r := e.do(req{method: "GET", path: "/v2/" + repo + "/manifests/v1"})
	if r.status != 200 {
		t.Fatalf("tag lost after a full disk: %d", r.status)
	}
	if got := r.header.Get("Docker-Content-Digest"); got != old.String() && got != digest.FromBytes(newImg).String() {
		t.Fatalf("tag points at %s", got)
	}
}
