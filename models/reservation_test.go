package models_test

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wharfhub/wharf/models"
)

func quotaUser(t *testing.T, db *models.DB, name string, quota int64) int64 {
	t.Helper()
	u := &models.User{Username: name, Email: name + "@example.com", PasswordHash: "x"}
	if err := db.Users.Create(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	if err := db.Namespaces.SetQuota(t.Context(), name, quota); err != nil {
		t.Fatal(err)
	}
	return u.ID
}

// Reservations asked for at once, on PostgreSQL from many connections,
// share the room under the quota and never pass it together; the bytes of
// open sessions count too.
func TestReserveUploadBytes(t *testing.T) {
	db := openDB(t)
	ctx := t.Context()
	quotaUser(t, db, "alice", 3000)
	up := &models.Upload{ID: "00000000-0000-4000-8000-000000000001", Repository: "alice/a", UpdatedAt: time.Now().UTC()}
	if err := db.Uploads.Create(ctx, up, 0); err != nil {
		t.Fatal(err)
	}
	if err := db.Uploads.SaveProgress(ctx, up.ID, 2000, nil); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	var wg sync.WaitGroup
	var granted atomic.Int64
	for i := range 20 {
		wg.Go(func() {
			res, err := db.Namespaces.Reserve(ctx, fmt.Sprint("r", i), "alice", 100, now, now.Add(time.Minute))
			if err != nil {
				t.Error(err)
			}
			granted.Add(res.Bytes)
		})
	}
	wg.Wait()
	if n := granted.Load(); n != 1000 {
		t.Fatalf("granted %d bytes in all, want the 1000 the quota leaves", n)
	}
	// Without a quota nothing is reserved.
	quotaUser(t, db, "bob", 0)
	if res, err := db.Namespaces.Reserve(ctx, "b", "bob", 100, now, now.Add(time.Minute)); err != nil || res.Quota != 0 || res.Bytes != 0 {
		t.Fatalf("no quota: %+v %v", res, err)
	}
}

// Concurrent starts cannot pass the cap on one user's open sessions.
func TestCreateUploadLimited(t *testing.T) {
	db := openDB(t)
	ctx := t.Context()
	id := quotaUser(t, db, "alice", 0)
	var wg sync.WaitGroup
	var created, refused atomic.Int64
	for i := range 12 {
		wg.Go(func() {
			u := &models.Upload{ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), Repository: "alice/a", UserID: &id, UpdatedAt: time.Now().UTC()}
			switch err := db.Uploads.Create(ctx, u, 5); {
			case err == nil:
				created.Add(1)
			case errors.Is(err, models.ErrTooManyUploads):
				refused.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if created.Load() != 5 || refused.Load() != 7 {
		t.Fatalf("created %d, refused %d; want 5 and 7", created.Load(), refused.Load())
	}
}
