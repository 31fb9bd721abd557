package mail

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestFormat(t *testing.T) {
	from, _ := mail.ParseAddress("Wharf <wharf@example.com>")
	to, _ := mail.ParseAddress("alice@example.com")
	raw := string(format(from, to, Message{Subject: "Hi\r\nBcc: evil@example.com", Body: "line one\nline two"},
		time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)))
	head, body, ok := strings.Cut(raw, "\r\n\r\n")
	if !ok {
		t.Fatalf("no blank line:\n%q", raw)
	}
	for _, line := range strings.Split(head, "\r\n") {
		if strings.HasPrefix(line, "Bcc:") {
			t.Errorf("the subject made a header: %q", line)
		}
	}
	for _, want := range []string{"From: \"Wharf\" <wharf@example.com>", "To: <alice@example.com>", "Date: Fri, 04 Dec 2026 12:00:00 +0000",
		"Content-Type: text/plain; charset=utf-8", "Message-ID: <"} {
		if !strings.Contains(head, want) {
			t.Errorf("headers lack %q:\n%s", want, head)
		}
	}
	if body != "line one\r\nline two\r\n" {
		t.Errorf("body = %q", body)
	}
}

func TestSendRefusesBadAddresses(t *testing.T) {
	s := &SMTP{Addr: "127.0.0.1:1", From: "wharf@example.com"}
	for _, to := range []string{"", "a@b.c, evil@example.com", "Alice <alice@example.com>", "alice@example.com\r\nBcc: x@y.z"} {
		if err := s.Send(context.Background(), Message{To: to}); !errors.Is(err, ErrAddress) {
			t.Errorf("to %q: %v", to, err)
		}
	}
}

type recorder struct {
	mu   sync.Mutex
	sent []string
}

func (r *recorder) Send(_ context.Context, m Message) error {
	r.mu.Lock()
	r.sent = append(r.sent, m.To)
	r.mu.Unlock()
	return nil
}

// A full queue drops, rather than grow; on shutdown, what is queued
// still goes.
func TestQueueBoundsAndDrains(t *testing.T) {
	r := &recorder{}
	q := NewQueue(r, slog.New(slog.NewTextHandler(io.Discard, nil)), 2)
	if !q.Enqueue(Message{To: "a@example.com"}) || !q.Enqueue(Message{To: "b@example.com"}) || q.Enqueue(Message{To: "c@example.com"}) {
		t.Fatal("the queue is not bounded at 2")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	q.Run(ctx, time.Second)
	if strings.Join(r.sent, " ") != "a@example.com b@example.com" {
		t.Errorf("sent %q", r.sent)
	}
}
