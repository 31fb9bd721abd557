package webhook

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/testutil"
)

// Each attempt is kept in the delivery's history, at the worker's time; a
// retried one stores its next try (by the backoff, with its jitter) on the
// delivery and on the attempt, and the delivery says it is retrying until
// the backoff runs out and it has failed.
func TestWorkerKeepsAttemptHistory(t *testing.T) {
	ctx := context.Background()
	db := testutil.OpenDB(t, t.TempDir())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	if err := db.Users.Create(ctx, &models.User{Username: "alice", Email: "alice@example.com", PasswordHash: "x"}); err != nil {
		t.Fatal(err)
	}
	ns := "alice"
	hook := &models.Webhook{Namespace: &ns, Name: "deploy", URL: srv.URL, Events: "push", Active: true}
	if err := db.Webhooks.Create(ctx, hook); err != nil {
		t.Fatal(err)
	}
	d, err := db.Webhooks.EnqueueTest(ctx, hook, "alice/app", "alice")
	if err != nil {
		t.Fatal(err)
	}
	backoff := []time.Duration{time.Minute, 10 * time.Minute}
	w := NewWorker(db, loopbackClient(t, "loopback", nil, 5*time.Second), "http://wharf.test",
		slog.New(slog.NewTextHandler(io.Discard, nil)), WorkerOptions{Backoff: backoff})
	clock := time.Unix(1700000000, 0).UTC()
	w.now = func() time.Time { return clock }
	// attempt makes the delivery's next attempt, and reads it back.
	attempt := func() *models.Delivery {
		t.Helper()
		cur, err := db.Deliveries.Get(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		w.deliver(ctx, *cur)
		got, err := db.Deliveries.Get(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}

	for i, tc := range []struct {
		state string
		wait  time.Duration // the backoff before the next try; 0: none
	}{
		{models.StateRetrying, time.Minute},
		{models.StateRetrying, 10 * time.Minute},
		{models.StateFailed, 0},
	} {
		got := attempt()
		if got.State() != tc.state || got.Attempts != i+1 {
			t.Fatalf("after attempt %d: state %q with %d attempts; want %q", i+1, got.State(), got.Attempts, tc.state)
		}
		next := got.NextTry()
		if tc.wait == 0 {
			if next != nil {
				t.Errorf("after attempt %d: a failed delivery has a next try, %v", i+1, next)
			}
		} else if next == nil || next.Before(clock.Add(tc.wait-tc.wait/10)) || next.After(clock.Add(tc.wait+tc.wait/10)) {
			t.Errorf("after attempt %d: next try %v; want %v ± 10%%", i+1, next, clock.Add(tc.wait))
		}
		history, err := db.Deliveries.History(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		h := history[d.ID]
		if len(h) != i+1 {
			t.Fatalf("after attempt %d: history %+v", i+1, h)
		}
		last := h[i]
		if last.Number != i+1 || !last.SentAt.Equal(clock) || last.StatusCode != 503 || last.Error == "" {
			t.Errorf("attempt %d in the history: %+v", i+1, last)
		}
		switch {
		case tc.wait == 0 && last.RetryAt != nil:
			t.Errorf("the last attempt was to be retried at %v", last.RetryAt)
		case tc.wait != 0 && (last.RetryAt == nil || next == nil || !last.RetryAt.Equal(*next)):
			t.Errorf("attempt %d: retry at %v, the delivery's next try %v", i+1, last.RetryAt, next)
		}
		if next != nil {
			clock = *next
		} else {
			clock = clock.Add(time.Hour)
		}
	}
	// Redelivered, it gets its retries afresh, and its history goes on.
	if err := db.Deliveries.Redeliver(ctx, d.ID, clock); err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{models.StateRetrying, models.StateRetrying, models.StateFailed} {
		got := attempt()
		if got.State() != want || got.Attempts != 4+i {
			t.Fatalf("redelivery, attempt %d: state %q with %d attempts; want %q", i+1, got.State(), got.Attempts, want)
		}
		clock = clock.Add(time.Hour)
	}
	history, err := db.Deliveries.History(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if h := history[d.ID]; len(h) != 6 || h[5].Number != 6 {
		t.Errorf("history after the redelivery: %+v", h)
	}
}
