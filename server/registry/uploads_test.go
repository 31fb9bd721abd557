package registry_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"
)

// start opens an upload session as alice and returns its path.
func (e *env) start(repo string) string {
	e.t.Helper()
	r := e.do(as("POST", "/v2/"+repo+"/blobs/uploads/", nil))
	if r.status != http.StatusAccepted {
		e.t.Fatalf("start upload: %d %s", r.status, r.body)
	}
	return r.header.Get("Location")
}

func chunk(path string, start int, b []byte) req {
	q := as("PATCH", path, b)
	q.header = map[string]string{"Content-Range": fmt.Sprintf("%d-%d", start, start+len(b)-1)}
	return q
}

func TestUploadErrors(t *testing.T) {
	e := newEnv(t)
	data := []byte("hello, wharf")
	// bob may write to alice/b, so only the session binding stops him.
	e.pushBlob("alice/b", []byte("seed"))
	e.grant("alice/b", bob, "write")
	good := digest.FromBytes(data)
	bad := digest.FromBytes([]byte("something else"))

	tests := []struct {
		name   string
		run    func(t *testing.T) resp
		status int
		code   string
	}{
		{"wrong digest on PUT is DIGEST_INVALID", func(t *testing.T) resp {
			return e.do(as("PUT", e.start("alice/b")+"?digest="+bad.String(), data))
		}, 400, "DIGEST_INVALID"},
		{"missing digest on PUT is DIGEST_INVALID", func(t *testing.T) resp {
			return e.do(as("PUT", e.start("alice/b"), data))
		}, 400, "DIGEST_INVALID"},
		{"malformed digest on PUT is DIGEST_INVALID", func(t *testing.T) resp {
			return e.do(as("PUT", e.start("alice/b")+"?digest=sha256:xyz", data))
		}, 400, "DIGEST_INVALID"},
		{"wrong digest on monolithic POST is DIGEST_INVALID", func(t *testing.T) resp {
			return e.do(as("POST", "/v2/alice/b/blobs/uploads/?digest="+bad.String(), data))
		}, 400, "DIGEST_INVALID"},
		{"chunk past the end is 416", func(t *testing.T) resp {
			return e.do(chunk(e.start("alice/b"), 5, data))
		}, 416, "RANGE_INVALID"},
		{"chunk that repeats data is 416", func(t *testing.T) resp {
			p := e.start("alice/b")
			if r := e.do(chunk(p, 0, data)); r.status != 202 {
				t.Fatalf("first chunk: %d", r.status)
			}
			return e.do(chunk(p, 0, data))
		}, 416, "RANGE_INVALID"},
		{"Content-Range disagreeing with Content-Length is 416", func(t *testing.T) resp {
			q := as("PATCH", e.start("alice/b"), data)
			q.header = map[string]string{"Content-Range": "0-2"}
			return e.do(q)
		}, 416, "RANGE_INVALID"},
		{"garbage Content-Range is 416", func(t *testing.T) resp {
			q := as("PATCH", e.start("alice/b"), data)
			q.header = map[string]string{"Content-Range": "bytes=oops"}
			return e.do(q)
		}, 416, "RANGE_INVALID"},
		{"upload id of another repository is unknown", func(t *testing.T) resp {
			p := e.start("alice/b")
			return e.do(as("PATCH", strings.Replace(p, "/alice/b/", "/alice/c/", 1), data))
		}, 404, "BLOB_UPLOAD_UNKNOWN"},
		{"upload id of another user cannot be read", func(t *testing.T) resp {
			return e.do(req{method: "GET", path: e.start("alice/b"), user: bob, pw: bobPw})
		}, 404, "BLOB_UPLOAD_UNKNOWN"},
		{"upload id of another user cannot be appended to", func(t *testing.T) resp {
			return e.do(req{method: "PATCH", path: e.start("alice/b"), user: bob, pw: bobPw, body: data})
		}, 404, "BLOB_UPLOAD_UNKNOWN"},
		{"upload id of another user cannot be cancelled", func(t *testing.T) resp {
			return e.do(req{method: "DELETE", path: e.start("alice/b"), user: bob, pw: bobPw})
		}, 404, "BLOB_UPLOAD_UNKNOWN"},
		{"made-up upload id is unknown", func(t *testing.T) resp {
			return e.do(as("GET", "/v2/alice/b/blobs/uploads/3f1c2a4e-0000-4000-8000-000000000000", nil))
		}, 404, "BLOB_UPLOAD_UNKNOWN"},
		{"malformed upload id is unknown", func(t *testing.T) resp {
			return e.do(as("GET", "/v2/alice/b/blobs/uploads/not-a-uuid", nil))
		}, 404, "BLOB_UPLOAD_UNKNOWN"},
		{"anonymous upload must authenticate", func(t *testing.T) resp {
			return e.do(req{method: "POST", path: "/v2/alice/b/blobs/uploads/"})
		}, 401, "UNAUTHORIZED"},
		{"wrong password must authenticate", func(t *testing.T) resp {
			return e.do(req{method: "GET", path: "/v2/", user: alice, pw: "nope"})
		}, 401, "UNAUTHORIZED"},
		{"mount of a missing blob falls back to an upload", func(t *testing.T) resp {
			return e.do(as("POST", "/v2/alice/b/blobs/uploads/?mount="+bad.String()+"&from=alice/c", nil))
		}, 202, ""},
		{"cancelled upload is gone", func(t *testing.T) resp {
			p := e.start("alice/b")
			if r := e.do(as("DELETE", p, nil)); r.status != 204 {
				t.Fatalf("cancel: %d", r.status)
			}
			return e.do(as("GET", p, nil))
		}, 404, "BLOB_UPLOAD_UNKNOWN"},
		{"good upload works", func(t *testing.T) resp {
			return e.do(as("PUT", e.start("alice/b")+"?digest="+good.String(), data))
		}, 201, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.run(t)
			if r.status != tc.status || r.code() != tc.code {
				t.Fatalf("got %d %q (%s), want %d %q", r.status, r.code(), r.body, tc.status, tc.code)
			}
			if r.status == 401 && r.header.Get("WWW-Authenticate") == "" {
				t.Fatal("401 without a challenge")
			}
		})
	}
}

func TestWrongDigestLeavesNothingBehind(t *testing.T) {
	e := newEnv(t)
	data := []byte("content that will be mislabelled")
	wrong := digest.FromBytes([]byte("other"))
	p := e.start("alice/b")
	if r := e.do(chunk(p, 0, data)); r.status != 202 {
		t.Fatalf("patch: %d", r.status)
	}
	if r := e.do(as("PUT", p+"?digest="+wrong.String(), nil)); r.code() != "DIGEST_INVALID" {
		t.Fatalf("put: %d %s", r.status, r.body)
	}
	for _, d := range []digest.Digest{wrong, digest.FromBytes(data)} {
		if r := e.do(as("HEAD", "/v2/alice/b/blobs/"+d.String(), nil)); r.status != 404 {
			t.Errorf("blob %s visible after a failed upload: %d", d, r.status)
		}
		if _, err := os.Stat(filepath.Join(e.dir, "blobs", "sha256", d.Encoded()[:2], d.Encoded())); !os.IsNotExist(err) {
			t.Errorf("blob file %s exists after a failed upload", d)
		}
	}
	if r := e.do(as("GET", p, nil)); r.status != 404 {
		t.Errorf("upload survives a failed commit: %d", r.status)
	}
	if left, _ := os.ReadDir(filepath.Join(e.dir, "uploads")); len(left) != 0 {
		t.Errorf("upload data left behind: %v", left)
	}
}

func TestChunkedUploadAndStatus(t *testing.T) {
	e := newEnv(t)
	data := bytes.Repeat([]byte("0123456789"), 1000)
	p := e.start("alice/chunky")
	for off := 0; off < len(data); off += 3000 {
		end := min(off+3000, len(data))
		r := e.do(chunk(p, off, data[off:end]))
		if r.status != 202 || r.header.Get("Range") != fmt.Sprintf("0-%d", end-1) {
			t.Fatalf("chunk at %d: %d range %q", off, r.status, r.header.Get("Range"))
		}
		p = r.header.Get("Location")
		st := e.do(as("GET", p, nil))
		if st.status != 204 || st.header.Get("Range") != fmt.Sprintf("0-%d", end-1) {
			t.Fatalf("status after %d: %d %q", end, st.status, st.header.Get("Range"))
		}
	}
	d := digest.FromBytes(data)
	if r := e.do(as("PUT", p+"?digest="+d.String(), nil)); r.status != 201 || r.header.Get("Docker-Content-Digest") != d.String() {
		t.Fatalf("finish: %d %s", r.status, r.body)
	}
	got := e.do(req{method: "GET", path: "/v2/alice/chunky/blobs/" + d.String()})
	if !bytes.Equal(got.body, data) {
		t.Fatal("pulled bytes differ")
	}
}

func TestSHA512Upload(t *testing.T) {
	e := newEnv(t)
	data := []byte("sha512 content")
	d := digest.SHA512.FromBytes(data)
	p := e.start("alice/b")
	if r := e.do(as("PATCH", p, data)); r.status != 202 {
		t.Fatalf("patch: %d", r.status)
	}
	if r := e.do(as("PUT", p+"?digest="+d.String(), nil)); r.status != 201 {
		t.Fatalf("put: %d %s", r.status, r.body)
	}
	if r := e.do(req{method: "GET", path: "/v2/alice/b/blobs/" + d.String()}); !bytes.Equal(r.body, data) {
		t.Fatalf("get: %d", r.status)
	}
}

// Twenty sessions in two repositories commit one digest at once: every
// push succeeds, one file is stored, and it verifies.
func TestConcurrentPushesOfOneBlob(t *testing.T) {
	e := newEnv(t)
	data := bytes.Repeat([]byte("same layer "), 50000)
	d := digest.FromBytes(data)
	var wg sync.WaitGroup
	errs := make(chan string, 20)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			repo := []string{"alice/one", "alice/two"}[i%2]
			p := e.start(repo)
			if r := e.do(as("PATCH", p, data)); r.status != 202 {
				errs <- fmt.Sprintf("patch %d: %d %s", i, r.status, r.body)
				return
			}
			if r := e.do(as("PUT", p+"?digest="+d.String(), nil)); r.status != 201 {
				errs <- fmt.Sprintf("put %d: %d %s", i, r.status, r.body)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for msg := range errs {
		t.Error(msg)
	}
	var files []string
	_ = filepath.Walk(filepath.Join(e.dir, "blobs"), func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	if len(files) != 1 {
		t.Fatalf("want one stored file, got %v", files)
	}
	b, _ := os.ReadFile(files[0])
	sum := sha256.Sum256(b)
	if hex.EncodeToString(sum[:]) != d.Encoded() {
		t.Fatal("stored blob does not verify")
	}
	for _, repo := range []string{"alice/one", "alice/two"} {
		if r := e.do(req{method: "HEAD", path: "/v2/" + repo + "/blobs/" + d.String()}); r.status != 200 {
			t.Errorf("%s: HEAD %d", repo, r.status)
		}
	}
}

// A half-finished chunked upload resumes after the server restarts.
func TestUploadResumesAfterRestart(t *testing.T) {
	dir := t.TempDir()
	data := bytes.Repeat([]byte("resumable "), 10000)
	half := len(data) / 2
	e := newEnvAt(t, dir)
	p := e.start("alice/resume")
	if r := e.do(chunk(p, 0, data[:half])); r.status != 202 {
		t.Fatalf("first half: %d", r.status)
	}
	e.close()

	e2 := newEnvAt(t, dir)
	st := e2.do(as("GET", p, nil))
	if st.status != 204 || st.header.Get("Range") != fmt.Sprintf("0-%d", half-1) {
		t.Fatalf("status after restart: %d %q", st.status, st.header.Get("Range"))
	}
	if r := e2.do(chunk(p, half, data[half:])); r.status != 202 {
		t.Fatalf("second half: %d %s", r.status, r.body)
	}
	d := digest.FromBytes(data)
	if r := e2.do(as("PUT", p+"?digest="+d.String(), nil)); r.status != 201 {
		t.Fatalf("finish: %d %s", r.status, r.body)
	}
	if r := e2.do(req{method: "GET", path: "/v2/alice/resume/blobs/" + d.String()}); !bytes.Equal(r.body, data) {
		t.Fatal("resumed blob differs")
	}
}
