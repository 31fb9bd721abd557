package deployhook

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wharfhub/wharf/server/webhook/signature"
)

// fakeClock is the handler's clock in these tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// countingHandler is a handler on a fake clock whose command appends
// "$WHARF_TAG" to a file; runs reads how many times it ran.
func countingHandler(t *testing.T, cfg Config) (h *Handler, clock *fakeClock, runs func() []string) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "runs")
	cfg.Run = fmt.Sprintf(`echo "$WHARF_TAG" >> %q`, file)
	h = newHandler(t, cfg)
	clock = &fakeClock{t: time.Unix(1767225600, 0)}
	h.now = clock.now
	return h, clock, func() []string {
		t.Helper()
		waitIdle(t, h)
		return readLines(t, file)
	}
}

// replay copies req, body and headers, as an attacker who captured it would.
func replay(t *testing.T, req *http.Request) *http.Request {
	t.Helper()
	body, err := io.ReadAll(req.Body)
	if err != nil {
		t.Fatal(err)
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	c := req.Clone(req.Context())
	c.Body = io.NopCloser(bytes.NewReader(body))
	return c
}

// The audit's replay: one signed request posted three times runs once.
func TestReplayedDeliveryRunsOnce(t *testing.T) {
	h, clock, runs := countingHandler(t, Config{})
	req := signed(push("alice/app", "v1", ""), clock.now())
	copies := []*http.Request{replay(t, req), replay(t, req), req}
	for i, r := range copies {
		clock.advance(10 * time.Second) // still well within the tolerance
		rec := serve(h, r)
		want := http.StatusAccepted
		if i > 0 {
			want = http.StatusConflict
		}
		if rec.Code != want || i > 0 && !strings.Contains(rec.Body.String(), "already received") {
			t.Fatalf("post %d: %d %s; want %d", i+1, rec.Code, rec.Body, want)
		}
	}
	if got := runs(); len(got) != 1 {
		t.Fatalf("the command ran %d times (%v); want once", len(got), got)
	}
}

// A redelivery from Wharf keeps its id, so it is a repeat while the id is
// remembered, however freshly it is signed.
func TestRedeliveryWithinTheToleranceIsARepeat(t *testing.T) {
	h, clock, runs := countingHandler(t, Config{})
	b := push("alice/app", "v1", "")
	id := newID()
	if rec := serve(h, signedAs(b, id, "push", clock.now())); rec.Code != 202 {
		t.Fatalf("first: %d %s", rec.Code, rec.Body)
	}
	waitIdle(t, h) // a queued push of the same repository would be superseded
	clock.advance(4 * time.Minute)
	if rec := serve(h, signedAs(b, id, "push", clock.now())); rec.Code != http.StatusConflict {
		t.Fatalf("redelivered within the tolerance: %d %s; want 409", rec.Code, rec.Body)
	}
	clock.advance(2 * time.Minute) // the id is forgotten; the sender holds the secret
	if rec := serve(h, signedAs(b, id, "push", clock.now())); rec.Code != 202 {
		t.Fatalf("redelivered after the tolerance: %d %s; want 202", rec.Code, rec.Body)
	}
	if got := runs(); len(got) != 2 {
		t.Fatalf("ran %d times; want twice", len(got))
	}
}

func TestStaleTimestampsAreRefused(t *testing.T) {
	tests := []struct {
		name      string
		tolerance time.Duration
		signedAgo time.Duration // negative: signed in the future
		code      int
	}{
		{"signed 4 minutes ago", 0, 4 * time.Minute, 202},
		{"signed 5 minutes ago", 0, 5 * time.Minute, 202},
		{"signed 6 minutes ago", 0, 6 * time.Minute, 401},
		{"signed an hour ago", 0, time.Hour, 401},
		{"signed 6 minutes ahead", 0, -6 * time.Minute, 401},
		{"signed 4 minutes ahead", 0, -4 * time.Minute, 202},
		{"signed 40s ago with a 30s tolerance", 30 * time.Second, 40 * time.Second, 401},
		{"signed 20 minutes ago with a 30m tolerance", 30 * time.Minute, 20 * time.Minute, 202},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, clock, runs := countingHandler(t, Config{Tolerance: tc.tolerance})
			rec := serve(h, signed(push("alice/app", "v1", ""), clock.now().Add(-tc.signedAgo)))
			if rec.Code != tc.code {
				t.Fatalf("%d %s; want %d", rec.Code, rec.Body, tc.code)
			}
			if tc.code == 401 && !strings.Contains(rec.Body.String(), "too far from now") {
				t.Errorf("answer %s does not say why", rec.Body)
			}
			if n := len(runs()); n != 0 && tc.code != 202 || n != 1 && tc.code == 202 {
				t.Fatalf("ran %d times", n)
			}
		})
	}
}

// No header but the signature's decides what happens: a changed event, id,
// time or body byte fails verification, and nothing runs.
func TestTamperedDeliveriesAreRefused(t *testing.T) {
	good := push("alice/app", "v1", "")
	flipped := bytes.Replace(good, []byte(`"v1"`), []byte(`"v2"`), 1)
	tests := []struct {
		name   string
		event  string // the event signed
		tamper func(*http.Request)
		code   int
		runs   bool
	}{
		{name: "a push as sent runs", event: "push", code: 202, runs: true},
		{name: "a test delivery as sent is ignored", event: "test", code: 202},
		{name: "a delete delivery as sent is ignored", event: "delete", code: 202},
		{name: "test delivery with X-Wharf-Event removed", event: "test",
			tamper: func(r *http.Request) { r.Header.Del("X-Wharf-Event") }, code: 401},
		{name: "test delivery with X-Wharf-Event set to push", event: "test",
			tamper: func(r *http.Request) { r.Header.Set("X-Wharf-Event", "push") }, code: 401},
		{name: "delete delivery with X-Wharf-Event set to push", event: "delete",
			tamper: func(r *http.Request) { r.Header.Set("X-Wharf-Event", "push") }, code: 401},
		{name: "a second X-Wharf-Event added after the signed one", event: "test",
			tamper: func(r *http.Request) { r.Header.Add("X-Wharf-Event", "push") }, code: 202},
		{name: "delivery id changed", event: "push",
			tamper: func(r *http.Request) { r.Header.Set("X-Wharf-Delivery", newID()) }, code: 401},
		{name: "delivery id removed", event: "push",
			tamper: func(r *http.Request) { r.Header.Del("X-Wharf-Delivery") }, code: 401},
		{name: "signed time changed by a second", event: "push", tamper: func(r *http.Request) {
			s, _ := signature.Parse(r.Header.Get(signature.Header))
			s.Timestamp++
			r.Header.Set(signature.Header, s.String())
		}, code: 401},
		{name: "X-Wharf-Timestamp changed is not what is checked", event: "push",
			tamper: func(r *http.Request) { r.Header.Set("X-Wharf-Timestamp", "1") }, code: 202, runs: true},
		{name: "one body byte flipped", event: "push", tamper: func(r *http.Request) {
			r.Body = io.NopCloser(bytes.NewReader(flipped))
		}, code: 401},
		{name: "X-Wharf-Signature removed, X-Hub-Signature-256 kept", event: "push",
			tamper: func(r *http.Request) { r.Header.Del(signature.Header) }, code: 401},
		{name: "two X-Wharf-Signature headers", event: "push", tamper: func(r *http.Request) {
			r.Header.Add(signature.Header, r.Header.Get(signature.Header))
		}, code: 401},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, clock, runs := countingHandler(t, Config{})
			req := signedAs(good, newID(), tc.event, clock.now())
			if tc.tamper != nil {
				tc.tamper(req)
			}
			rec := serve(h, req)
			if rec.Code != tc.code {
				t.Fatalf("%d %s; want %d", rec.Code, rec.Body, tc.code)
			}
			if n := len(runs()); tc.runs && n != 1 || !tc.runs && n != 0 {
				t.Fatalf("ran %d times; want runs=%v", n, tc.runs)
			}
		})
	}
}

// Senders that sign only the body are refused unless allowed; allowed,
// they are held to X-Hub-Signature-256, and an X-Wharf-Signature present
// is still required to verify.
func TestLegacySignature(t *testing.T) {
	good := push("alice/app", "v1", "")
	legacy := func(event string, body []byte) func(*http.Request) {
		return func(r *http.Request) {
			r.Header.Del(signature.Header)
			r.Header.Set(signature.HubHeader, signature.SignHub(secret, body))
			if event == "" {
				r.Header.Del("X-Wharf-Event")
			} else {
				r.Header.Set("X-Wharf-Event", event)
			}
		}
	}
	tests := []struct {
		name   string
		allow  bool
		tamper func(*http.Request)
		code   int
		inBody string
		runs   bool
	}{
		{"refused by default, saying how to allow it", false, legacy("push", good), 401, "--allow-legacy-signature", false},
		{"allowed: a push runs", true, legacy("push", good), 202, "queued", true},
		{"allowed: no event is a push, as from Docker Hub style senders", true, legacy("", good), 202, "queued", true},
		{"allowed: a test is ignored", true, legacy("test", good), 202, "ignored", false},
		{"allowed: a bad body signature is refused", true, legacy("push", []byte("{}")), 401, "", false},
		{"allowed: no signature at all is refused", true, func(r *http.Request) {
			r.Header.Del(signature.Header)
			r.Header.Del(signature.HubHeader)
		}, 401, "", false},
		{"allowed: a bad X-Wharf-Signature does not fall back", true, func(r *http.Request) {
			r.Header.Set(signature.Header, "t=1,v1="+strings.Repeat("0", 64))
		}, 401, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, clock, runs := countingHandler(t, Config{AllowLegacySignature: tc.allow})
			req := signed(good, clock.now())
			tc.tamper(req)
			rec := serve(h, req)
			if rec.Code != tc.code || !strings.Contains(rec.Body.String(), tc.inBody) {
				t.Fatalf("%d %s; want %d with %q", rec.Code, rec.Body, tc.code, tc.inBody)
			}
			if n := len(runs()); tc.runs && n != 1 || !tc.runs && n != 0 {
				t.Fatalf("ran %d times; want runs=%v", n, tc.runs)
			}
		})
	}
}

// An id is remembered until a replay of it would be stale anyway, to the
// second: up to the tolerance after its signed time, and at least the
// tolerance after it was accepted.
func TestRememberedUntilAReplayIsStale(t *testing.T) {
	b := push("alice/app", "v1", "")
	for _, tc := range []struct {
		name     string
		signedIn time.Duration // signed time minus the time it arrives
	}{
		{"signed as it arrives", 0},
		{"signed at the tolerance ahead", 5 * time.Minute},
		{"signed at the tolerance behind", -5 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, clock, runs := countingHandler(t, Config{})
			req := signed(b, clock.now().Add(tc.signedIn))
			last := replay(t, req)
			if rec := serve(h, req); rec.Code != 202 {
				t.Fatalf("first: %d %s", rec.Code, rec.Body)
			}
			// The last moment the signed time still passes Verify's check.
			end := time.Unix(clock.now().Add(tc.signedIn).Unix(), 0).Add(5*time.Minute + 999*time.Millisecond)
			clock.advance(end.Sub(clock.now()))
			if rec := serve(h, replay(t, last)); rec.Code != http.StatusConflict {
				t.Fatalf("at the end of the window: %d %s; want 409", rec.Code, rec.Body)
			}
			clock.advance(time.Millisecond)
			if rec := serve(h, last); rec.Code != http.StatusUnauthorized {
				t.Fatalf("after the window: %d %s; want 401 (stale)", rec.Code, rec.Body)
			}
			if n := len(runs()); n != 1 {
				t.Fatalf("ran %d times", n)
			}
		})
	}
}

// The remembered ids never exceed their bound: when full, a new delivery
// is refused with a retryable 503 (not let through by forgetting an id
// early), and ids leave as they age.
func TestRememberedIDsAreBounded(t *testing.T) {
	// The repository filter ignores every push: ids are remembered, nothing runs.
	h, clock, _ := countingHandler(t, Config{Repo: "alice/other"})
	h.seen = newRemembered(h.cfg.Tolerance, 3)
	b := push("alice/app", "v1", "")
	for i := 0; i < 3; i++ {
		if rec := serve(h, signed(b, clock.now())); rec.Code != 202 {
			t.Fatalf("delivery %d: %d %s", i+1, rec.Code, rec.Body)
		}
		clock.advance(time.Second)
	}
	full := signed(b, clock.now())
	retry := replay(t, full)
	if rec := serve(h, full); rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("when full: %d %s; want 503", rec.Code, rec.Body)
	}
	if ids, entries := h.seen.size(); ids > 3 || entries > 3 {
		t.Fatalf("holds %d ids in %d entries; bound 3", ids, entries)
	}
	clock.advance(5*time.Minute + time.Second) // the first ids age out
	retry.Header.Set(signature.Header, mustSign(t, retry, clock.now()))
	if rec := serve(h, retry); rec.Code != 202 {
		t.Fatalf("the sender's retry: %d %s; want 202", rec.Code, rec.Body)
	}
	// A day of deliveries a minute apart holds only the last few.
	h.seen = newRemembered(h.cfg.Tolerance, maxRemembered)
	for i := 0; i < 24*60; i++ {
		clock.advance(time.Minute)
		if rec := serve(h, signed(b, clock.now())); rec.Code != 202 {
			t.Fatalf("delivery %d: %d %s", i+1, rec.Code, rec.Body)
		}
	}
	if ids, entries := h.seen.size(); ids > 6 || entries > 6 {
		t.Fatalf("after a day: %d ids in %d entries; want those of the last 5 minutes", ids, entries)
	}
}

// A push accepted but not taken (the queue is full) is forgotten, so the
// sender's retry with the same id is not refused as a repeat.
func TestRetryAfterAFullQueueIsNotARepeat(t *testing.T) {
	dir := t.TempDir()
	gate := filepath.Join(dir, "gate")
	h := newHandler(t, Config{Run: fmt.Sprintf(`while [ ! -e %q ]; do sleep 0.02; done`, gate)})
	defer os.WriteFile(gate, nil, 0o644)
	// One running and maxQueue queued, each of its own repository.
	for i := 0; i <= maxQueue; i++ {
		if rec := deliver(t, h, push(fmt.Sprintf("alice/app%d", i), "v1", "")); rec.Code != 202 {
			t.Fatalf("push %d: %d %s", i, rec.Code, rec.Body)
		}
		if i == 0 {
			deadline := time.Now().Add(10 * time.Second)
			for {
				h.mu.Lock()
				started := len(h.queue) == 0 && h.running
				h.mu.Unlock()
				if started {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the first push never started")
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
	}
	req := signed(push("alice/late", "v1", ""), h.now())
	retry := replay(t, req)
	if rec := serve(h, req); rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("queue full: %d %s; want 503", rec.Code, rec.Body)
	}
	if err := os.WriteFile(gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, h)
	retry.Header.Set(signature.Header, mustSign(t, retry, h.now()))
	if rec := serve(h, retry); rec.Code != 202 {
		t.Fatalf("retry: %d %s; want 202", rec.Code, rec.Body)
	}
}

// mustSign signs req's body, id and event at now, as a retry by the sender.
func mustSign(t *testing.T, req *http.Request, now time.Time) string {
	t.Helper()
	body, err := io.ReadAll(req.Body)
	if err != nil {
		t.Fatal(err)
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	sig, err := signature.Sign(secret, now, req.Header.Get("X-Wharf-Delivery"), req.Header.Get("X-Wharf-Event"), body)
	if err != nil {
		t.Fatal(err)
	}
	return sig
}
