// Package mail sends the mail Wharf writes (password reset links)
// through an SMTP server, from a bounded queue that a background worker
// drains, so that no request waits for, or reveals by its timing, a
// delivery.
package mail

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net"
	"net/mail"
	"net/smtp"
	"strings"
	"time"
)

// Message is one mail to one address, in plain text.
type Message struct {
	To      string
	Subject string
	Body    string
}

// ErrAddress is a recipient or sender that is no single plain address.
var ErrAddress = errors.New("not a mail address")

// SMTP sends through one SMTP server.
type SMTP struct {
	Addr     string // host:port
	From     string
	Username string
	Password string
	// TLS is auto (STARTTLS when offered), starttls (required), tls
	// (implicit) or none.
	TLS string
	// Timeout bounds one delivery (30s if 0).
	Timeout time.Duration
}

// Send delivers m.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	from, err := mail.ParseAddress(s.From)
	if err != nil {
		return fmt.Errorf("%w: from %q", ErrAddress, s.From)
	}
	to, err := mail.ParseAddress(m.To)
	if err != nil || to.Address != m.To {
		return fmt.Errorf("%w: to %q", ErrAddress, m.To)
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	host, _, err := net.SplitHostPort(s.Addr)
	if err != nil {
		return err
	}
	conn, err := s.dial(ctx, host)
	if err != nil {
		return err
	}
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return err
	}
	defer c.Close()
	if s.TLS == "auto" || s.TLS == "starttls" || s.TLS == "" {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(&tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}); err != nil {
				return fmt.Errorf("starttls: %w", err)
			}
		} else if s.TLS == "starttls" {
			return errors.New("the SMTP server does not offer STARTTLS, which --smtp-tls starttls requires")
		}
	}
	if s.Username != "" {
		// PlainAuth refuses to send the password unencrypted, except to
		// localhost.
		if err := c.Auth(smtp.PlainAuth("", s.Username, s.Password, host)); err != nil {
			return fmt.Errorf("smtp auth: %w", err)
		}
	}
	if err := c.Mail(from.Address); err != nil {
		return err
	}
	if err := c.Rcpt(to.Address); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(format(from, to, m, time.Now())); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

func (s *SMTP) dial(ctx context.Context, host string) (net.Conn, error) {
	if s.TLS == "tls" {
		d := tls.Dialer{Config: &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}}
		return d.DialContext(ctx, "tcp", s.Addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", s.Addr)
}

// format writes m as an RFC 5322 message: the headers Wharf sets (the
// subject encoded, so that no text of it can start a header of its own)
// and the body as UTF-8 text with CRLF line ends.
func format(from, to *mail.Address, m Message, now time.Time) []byte {
	var id [12]byte
	_, _ = rand.Read(id[:])
	domain := from.Address[strings.LastIndex(from.Address, "@")+1:]
	var b bytes.Buffer
	subject := strings.NewReplacer("\r", " ", "\n", " ").Replace(m.Subject)
	for _, h := range [][2]string{
		{"From", from.String()},
		{"To", to.String()},
		{"Subject", mime.QEncoding.Encode("utf-8", subject)},
		{"Date", now.Format(time.RFC1123Z)},
		{"Message-ID", "<" + hex.EncodeToString(id[:]) + "@" + domain + ">"},
		{"MIME-Version", "1.0"},
		{"Content-Type", "text/plain; charset=utf-8"},
		{"Content-Transfer-Encoding", "8bit"},
		{"Auto-Submitted", "auto-generated"},
	} {
		fmt.Fprintf(&b, "%s: %s\r\n", h[0], h[1])
	}
	b.WriteString("\r\n")
	body := strings.ReplaceAll(strings.ReplaceAll(m.Body, "\r\n", "\n"), "\n", "\r\n")
	// A line of a lone dot is the data's end to SMTP: the writer escapes
	// it (smtp's DotWriter), so the body goes as it is.
	b.WriteString(body)
	if !strings.HasSuffix(body, "\r\n") {
		b.WriteString("\r\n")
	}
	return b.Bytes()
}

// Sender delivers one message.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// Queue holds messages for a worker to send, a bounded number: a full
// queue drops the message (and says so in the log) rather than grow.
type Queue struct {
	ch     chan Message
	sender Sender
	log    *slog.Logger
}

// NewQueue makes a queue of up to size messages for sender.
func NewQueue(sender Sender, log *slog.Logger, size int) *Queue {
	return &Queue{ch: make(chan Message, size), sender: sender, log: log}
}

// Enqueue queues m, at once; false if the queue is full.
func (q *Queue) Enqueue(m Message) bool {
	select {
	case q.ch <- m:
		return true
	default:
		q.log.Warn("mail: the queue is full, a message is dropped", "subject", m.Subject)
		return false
	}
}

// Run sends queued messages until ctx ends, then what is still queued,
// for up to drain.
func (q *Queue) Run(ctx context.Context, drain time.Duration) {
	send := func(ctx context.Context, m Message) {
		if err := q.sender.Send(ctx, m); err != nil {
			q.log.Error("mail: send", "subject", m.Subject, "err", err)
		}
	}
	for {
		select {
		case m := <-q.ch:
			send(ctx, m)
		case <-ctx.Done():
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), drain)
			defer cancel()
			for {
				select {
				case m := <-q.ch:
					send(dctx, m)
				default:
					return
				}
			}
		}
	}
}
