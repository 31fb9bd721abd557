package models_test

import (
	"sync"
	"testing"
	"time"

	"github.com/wharfhub/wharf/models"
)

// Replicas polling at once never claim the same delivery: each is sent
// once.
func TestConcurrentClaimsTakeEachDeliveryOnce(t *testing.T) {
	db := openDB(t)
	ctx := t.Context()
	if err := db.Users.Create(ctx, &models.User{Username: "alice", Email: "alice@example.com", PasswordHash: "x"}); err != nil {
		t.Fatal(err)
	}
	ns := "alice"
	h := &models.Webhook{Namespace: &ns, Name: "deploy", URL: "http://example.com/", Events: "push", Active: true}
	if err := db.Webhooks.Create(ctx, h); err != nil {
		t.Fatal(err)
	}
	const deliveries, replicas = 60, 8
	for range deliveries {
		if _, err := db.Webhooks.EnqueueTest(ctx, h, "alice/app", "alice"); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for range replicas {
		wg.Go(func() {
			for range 10 {
				ds, err := db.Deliveries.ClaimDue(ctx, time.Now().Add(time.Second), time.Minute, 5)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				for _, d := range ds {
					seen[d.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for id, n := range seen {
		if n != 1 {
			t.Errorf("delivery %s claimed %d times", id, n)
		}
	}
	if len(seen) != deliveries {
		t.Errorf("%d of %d deliveries claimed", len(seen), deliveries)
	}
}
