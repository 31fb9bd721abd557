package migrations_test

import (
	"context"
	"testing"
	"time"

	"github.com/wharfhub/wharf/migrations"
)

// Version 20 keeps deliveries from before as they were, with no history;
// an attempt recorded since goes with its delivery, and so with its
// webhook.
func TestV20DeliveryAttempts(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	w := db.Writer()
	if err := migrations.RunTo(ctx, w, 19); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	exec := execer(t, w)
	exec("INSERT INTO repositories (name, namespace, visibility, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
		"alice/app", "alice", "public", now, now)
	exec(`INSERT INTO webhooks (repository_id, name, url, events, created_at, updated_at)
		SELECT id, 'deploy', 'https://example.com/', 'push', ?, ? FROM repositories`, now, now)
	exec(`INSERT INTO webhook_deliveries (id, webhook_id, event, repository, occurred_at, status, attempts, next_attempt_at, status_code, callback_token, created_at)
		SELECT 'd1', id, 'push', 'alice/app', ?, 'pending', 2, ?, 503, 't', ? FROM webhooks`, now, now.Add(time.Minute), now)
	if err := migrations.Run(ctx, w); err != nil {
		t.Fatal(err)
	}
	d, err := db.Deliveries.Get(ctx, "d1")
	if err != nil || d.Attempts != 2 || d.StatusCode != 503 || d.State() != "retrying" || d.NextTry() == nil {
		t.Fatalf("the delivery from before: %+v, %v", d, err)
	}
	history, err := db.Deliveries.History(ctx, "d1")
	if err != nil || len(history["d1"]) != 0 {
		t.Fatalf("a history from before version 20: %+v, %v", history, err)
	}
	exec(`INSERT INTO webhook_delivery_attempts (delivery_id, number, sent_at, status_code, duration_ms, error, retry_at) VALUES ('d1', 3, ?, 503, 12, 'the receiver answered 503', ?)`,
		now, now.Add(time.Minute))
	if history, err = db.Deliveries.History(ctx, "d1"); err != nil || len(history["d1"]) != 1 || history["d1"][0].Number != 3 {
		t.Fatalf("the history: %+v, %v", history, err)
	}
	exec("DELETE FROM webhooks")
	var left int64
	if err := w.Raw("SELECT COUNT(*) FROM webhook_delivery_attempts").Scan(&left).Error; err != nil || left != 0 {
		t.Fatalf("%d attempts outlive their webhook (%v)", left, err)
	}
}
