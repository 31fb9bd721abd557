package registry_test

import (
	"net/http"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/wharfhub/wharf/server/config"
)

// An account holds a bounded number of open upload sessions; the next
// POST answers 429 TOOMANYREQUESTS, and finishing or cancelling a session
// frees its place. Other accounts have their own.
func TestOpenUploadSessionsAreCapped(t *testing.T) {
	e := newEnvWith(t, t.TempDir(), func(cfg *config.Config) { cfg.MaxOpenUploads = 3 })
	var paths []string
	for range 3 {
		paths = append(paths, e.start("alice/cap"))
	}
	full := func(step string) {
		t.Helper()
		r := e.do(as("POST", "/v2/alice/cap/blobs/uploads/", nil))
		if r.status != http.StatusTooManyRequests || r.code() != "TOOMANYREQUESTS" {
			t.Fatalf("%s: got %d %s, want 429 TOOMANYREQUESTS", step, r.status, r.body)
		}
	}
	full("fourth session")
	if r := e.do(req{method: "POST", path: "/v2/bob/cap/blobs/uploads/", user: bob, pw: bobPw}); r.status != http.StatusAccepted {
		t.Fatalf("another account: %d %s", r.status, r.body)
	}
	if r := e.do(as("DELETE", paths[0], nil)); r.status != http.StatusNoContent {
		t.Fatalf("cancel: %d", r.status)
	}
	e.start("alice/cap")
	full("after the cancelled session's place is taken")
	data := []byte("finished layer")
	if r := e.do(as("PUT", paths[1]+"?digest="+digest.FromBytes(data).String(), data)); r.status != http.StatusCreated {
		t.Fatalf("finish: %d %s", r.status, r.body)
	}
	e.start("alice/cap")
	full("after the finished session's place is taken")
}
