package registry_test

import (
	"bytes"
	"testing"

	"github.com/opencontainers/go-digest"
)

func TestBlobReads(t *testing.T) {
	e := newEnv(t)
	data := bytes.Repeat([]byte("abcdefghij"), 205) // 2050 bytes
	d := e.pushBlob("alice/blobs", data)
	path := "/v2/alice/blobs/blobs/" + d.String()
	tests := []struct {
		name, method, path, rng string
		status                  int
		body                    []byte
		contentRange            string
	}{
		{"whole blob", "GET", path, "", 200, data, ""},
		{"head has no body", "HEAD", path, "", 200, nil, ""},
		{"range in the middle", "GET", path, "bytes=500-1499", 206, data[500:1500], "bytes 500-1499/2050"},
		{"open-ended range", "GET", path, "bytes=2000-", 206, data[2000:], "bytes 2000-2049/2050"},
		{"suffix range", "GET", path, "bytes=-50", 206, data[2000:], "bytes 2000-2049/2050"},
		{"range past the end", "GET", path, "bytes=5000-6000", 416, nil, ""},
		{"inverted range", "GET", path, "bytes=500-0", 416, nil, ""},
		{"blob of another repository is unknown", "GET", "/v2/alice/other/blobs/" + d.String(), "", 404, nil, ""},
		{"missing blob", "GET", "/v2/alice/blobs/blobs/" + digest.FromString("x").String(), "", 404, nil, ""},
		{"malformed digest", "GET", "/v2/alice/blobs/blobs/sha256:123", "", 400, nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := as(tc.method, tc.path, nil)
			if tc.rng != "" {
				q.header = map[string]string{"Range": tc.rng}
			}
			r := e.do(q)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d (%s)", r.status, tc.status, r.body)
			}
			if tc.body != nil && !bytes.Equal(r.body, tc.body) {
				t.Fatalf("body differs (%d bytes)", len(r.body))
			}
			if tc.contentRange != "" && r.header.Get("Content-Range") != tc.contentRange {
				t.Fatalf("Content-Range %q", r.header.Get("Content-Range"))
			}
			if tc.status == 200 && (r.header.Get("Docker-Content-Digest") != d.String() || r.header.Get("Content-Length") != "2050") {
				t.Fatalf("headers %v", r.header)
			}
		})
	}
	// Delete unlinks from this repository only.
	e.pushBlob("alice/second", data)
	if r := e.do(as("DELETE", path, nil)); r.status != 202 {
		t.Fatalf("delete: %d", r.status)
	}
	if r := e.do(req{method: "HEAD", path: path}); r.status != 404 {
		t.Fatalf("after delete: %d", r.status)
	}
	if r := e.do(req{method: "HEAD", path: "/v2/alice/second/blobs/" + d.String()}); r.status != 200 {
		t.Fatalf("other repository lost the blob: %d", r.status)
	}
	if r := e.do(as("DELETE", path, nil)); r.code() != "BLOB_UNKNOWN" {
		t.Fatalf("second delete: %d", r.status)
	}
}

func TestMount(t *testing.T) {
	e := newEnv(t)
	d := e.pushBlob("alice/src", []byte("shared layer"))
	r := e.do(as("POST", "/v2/alice/dst/blobs/uploads/?mount="+d.String()+"&from=alice/src", nil))
	if r.status != 201 || r.header.Get("Location") != "/v2/alice/dst/blobs/"+d.String() {
		t.Fatalf("mount: %d %v", r.status, r.header)
	}
	r = e.do(as("POST", "/v2/alice/anon/blobs/uploads/?mount="+d.String(), nil))
	if r.status != 201 {
		t.Fatalf("anonymous mount: %d", r.status)
	}
	for _, repo := range []string{"alice/dst", "alice/anon"} {
		if r := e.do(req{method: "GET", path: "/v2/" + repo + "/blobs/" + d.String()}); string(r.body) != "shared layer" {
			t.Fatalf("%s: %d", repo, r.status)
		}
	}
}
