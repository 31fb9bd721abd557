package webhook

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/testutil"
	"github.com/wharfhub/wharf/server/webhook/signature"
)

// A retry is signed at its own time under the same delivery id, and the
// delivery log shows both signature headers without their values.
func TestWorkerSignsEachAttemptAfresh(t *testing.T) {
	ctx := context.Background()
	db := testutil.OpenDB(t, t.TempDir())
	type seen struct {
		header http.Header
		body   []byte
	}
	got := make(chan seen, 2)
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- seen{r.Header.Clone(), body}
		if calls.Add(1) == 1 {
			http.Error(w, "try again", http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	if err := db.Users.Create(ctx, &models.User{Username: "alice", Email: "alice@example.com", PasswordHash: "x"}); err != nil {
		t.Fatal(err)
	}
	ns := "alice"
	hook := &models.Webhook{Namespace: &ns, Name: "deploy", URL: srv.URL, Secret: "s3cret", Events: "push", Active: true}
	if err := db.Webhooks.Create(ctx, hook); err != nil {
		t.Fatal(err)
	}
	d, err := db.Webhooks.EnqueueTest(ctx, hook, "alice/app", "alice")
	if err != nil {
		t.Fatal(err)
	}
	w := NewWorker(db, loopbackClient(t, "loopback", nil, 5*time.Second), "http://wharf.test", slog.New(slog.NewTextHandler(io.Discard, nil)), WorkerOptions{})
	clock := time.Unix(1700000000, 0).UTC()
	w.now = func() time.Time { return clock }

	w.deliver(ctx, *d)
	clock = clock.Add(90 * time.Second)
	again, err := db.Deliveries.Get(ctx, d.ID)
	if err != nil || again.Status != models.DeliveryPending {
		t.Fatalf("after a 503: %+v, %v", again, err)
	}
	w.deliver(ctx, *again)

	for i, want := range []int64{1700000000, 1700000090} {
		s := <-got
		if id := s.header.Get(HeaderDelivery); id != d.ID {
			t.Errorf("attempt %d: delivery id %q; want %q", i+1, id, d.ID)
		}
		sig := s.header.Get(HeaderWharfSignature)
		at, err := signature.Verify("s3cret", sig, d.ID, "test", s.body, time.Unix(want, 0), time.Second)
		if err != nil || at.Unix() != want {
			t.Errorf("attempt %d: %s %q signed at %v, %v; want %d", i+1, HeaderWharfSignature, sig, at, err, want)
		}
		if !signature.VerifyHub("s3cret", s.body, s.header.Get(HeaderSignature)) {
			t.Errorf("attempt %d: %s does not verify", i+1, HeaderSignature)
		}
	}
	rec, err := db.Deliveries.Get(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"X-Hub-Signature-256: sha256=…\n",
		"X-Wharf-Signature: t=1700000090,v1=…\n",
		"X-Wharf-Timestamp: 1700000090\n",
		"X-Wharf-Delivery: " + d.ID + "\n",
	} {
		if !strings.Contains(rec.RequestHeaders, want) {
			t.Errorf("recorded headers lack %q:\n%s", want, rec.RequestHeaders)
		}
	}
}

// A delivery that cannot be signed is not sent, and not retried.
func TestSendRefusesAnUnsignableDelivery(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("an unsignable delivery was sent")
	}))
	defer srv.Close()
	res := Send(context.Background(), loopbackClient(t, "loopback", nil, 5*time.Second),
		Request{URL: srv.URL, Event: "push", DeliveryID: "has.a.dot", Secret: "s3cret", Body: []byte("{}")})
	w := &Worker{opts: WorkerOptions{Backoff: DefaultBackoff}, now: time.Now}
	if a := w.judge(&models.Delivery{}, res); res.Err == nil || !a.Done || a.Success {
		t.Fatalf("Send = %+v; attempt %+v", res, a)
	}
}
