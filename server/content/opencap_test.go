package content_test

import (
	"context"
	"errors"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/wharfhub/wharf/server/content"
)

// One user holds at most MaxOpenUploads open sessions (100 by default);
// finishing or cancelling one frees its place, and other users have their
// own.
func TestOpenUploadCap(t *testing.T) {
	ctx := context.Background()
	f := open(t, t.TempDir())
	alice, bob := f.account(t, "alice", 0), f.account(t, "bob", 0)
	var ids []string
	for i := range 100 {
		up, err := f.svc.Uploads.Start(ctx, "alice/a", alice)
		if err != nil {
			t.Fatalf("session %d: %v", i+1, err)
		}
		ids = append(ids, up.ID)
	}
	full := func(step string) {
		t.Helper()
		if _, err := f.svc.Uploads.Start(ctx, "alice/a", alice); !errors.Is(err, content.ErrTooManyUploads) {
			t.Fatalf("%s: session 101: %v", step, err)
		}
	}
	full("at the cap")
	if _, err := f.svc.Uploads.Start(ctx, "bob/a", bob); err != nil {
		t.Fatalf("another user: %v", err)
	}
	if err := f.svc.Uploads.Cancel(ctx, "alice/a", ids[0], alice); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Uploads.Start(ctx, "alice/a", alice); err != nil {
		t.Fatalf("after a cancel: %v", err)
	}
	full("after the cancel's place is taken")
	data := []byte("layer")
	if _, err := f.svc.Uploads.Append(ctx, "alice/a", ids[1], alice, unknown(data)); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Uploads.Finish(ctx, "alice/a", ids[1], alice, digest.FromBytes(data), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Uploads.Start(ctx, "alice/a", alice); err != nil {
		t.Fatalf("after a finish: %v", err)
	}
	full("after the finish's place is taken")
}
