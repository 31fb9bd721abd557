package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/wharfhub/wharf/models"
)

// Mailer queues a mail to one address; false if it could not be queued.
type Mailer func(to, subject, body string) bool

// ErrTooManyResets refuses an address that asked for too many reset
// mails lately; it says nothing of any account.
var ErrTooManyResets = errors.New("Too many reset requests from your address: try again in a while.")

// Limits of reset mails: per asking address, and per account (silent, so
// that it tells nothing of which accounts exist).
const (
	resetsPerAddress = 5
	resetsPerAccount = 3
	resetWindow      = 15 * time.Minute
	maxResetBuckets  = 10000
)

// mailResets is the part of Recovery that mails links to whoever asks:
// a bounded queue of requests, worked through in the background, so that
// the answer (and its timing) is the same whether an account exists.
type mailResets struct {
	mail    Mailer
	pending chan resetRequest
	mu      sync.Mutex
	counts  map[string][]time.Time // "ip ADDRESS" or "user ID" → recent requests
}

type resetRequest struct {
	who, address string
}

// WithMail lets people ask for a link by e-mail, sent through mail.
func (r *Recovery) WithMail(mail Mailer) *Recovery {
	r.mails = &mailResets{mail: mail, pending: make(chan resetRequest, 100), counts: map[string][]time.Time{}}
	return r
}

// MailEnabled reports whether links can be asked for by e-mail.
func (r *Recovery) MailEnabled() bool { return r.mails != nil }

// RequestByMail asks for a link to be mailed to the account going by
// who (a username or an e-mail address), for the person at address. The
// answer is nil whether or not such an account exists; only an address
// that asked too often is refused (ErrTooManyResets).
func (r *Recovery) RequestByMail(address, who string) error {
	if r.mails == nil {
		return errors.New("mail is not set up on this server")
	}
	who = strings.TrimSpace(who)
	if !r.mails.allow("ip "+address, resetsPerAddress, r.now()) {
		return ErrTooManyResets
	}
	if who == "" || len(who) > 254 || !emailText.Valid(who) {
		return nil
	}
	select {
	case r.mails.pending <- resetRequest{who: who, address: address}:
	default: // full: as if sent, the person may ask again
	}
	return nil
}

// allow counts one request of key at now, if fewer than limit came
// within the window.
func (m *mailResets) allow(key string, limit int, now time.Time) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	recent := m.counts[key][:0]
	for _, t := range m.counts[key] {
		if now.Sub(t) < resetWindow {
			recent = append(recent, t)
		}
	}
	if len(recent) >= limit {
		m.counts[key] = recent
		return false
	}
	if _, ok := m.counts[key]; !ok && len(m.counts) >= maxResetBuckets {
		for k, ts := range m.counts { // make room: drop a stale bucket, or any
			if len(ts) == 0 || now.Sub(ts[len(ts)-1]) >= resetWindow {
				delete(m.counts, k)
				break
			}
		}
		if len(m.counts) >= maxResetBuckets {
			for k := range m.counts {
				delete(m.counts, k)
				break
			}
		}
	}
	m.counts[key] = append(recent, now)
	return true
}

// Run works through the requests until ctx ends, then the ones still
// waiting.
func (r *Recovery) Run(ctx context.Context) {
	if r.mails == nil {
		return
	}
	for {
		select {
		case q := <-r.mails.pending:
			r.mailLink(ctx, q)
		case <-ctx.Done():
			dctx := context.WithoutCancel(ctx)
			for {
				select {
				case q := <-r.mails.pending:
					r.mailLink(dctx, q)
				default:
					return
				}
			}
		}
	}
}

// mailLink issues a link for the account q names, if it exists, has an
// address and has not had too many, and mails it there.
func (r *Recovery) mailLink(ctx context.Context, q resetRequest) {
	var u *models.User
	var err error
	if strings.Contains(q.who, "@") {
		u, err = r.db.Users.GetByEmail(ctx, q.who)
	} else {
		u, err = r.accounts.UserByName(ctx, foldName(q.who))
	}
	if err != nil || u.Disabled || u.Email == "" || !u.EmailVerified || !r.mails.allow(fmt.Sprintf("user %d", u.ID), resetsPerAccount, r.now()) {
		return
	}
	actx, _ := models.WithAuditing(ctx, models.Actor{Kind: models.ActorAnonymous, Address: q.address})
	link, err := r.IssueLink(actx, u.Username, "")
	if err != nil {
		return
	}
	body := fmt.Sprintf(`Someone, from the address %s, asked to reset the password of the Wharf account %s at %s.

To set a new password, open this link within the hour:

%s

It works once, and setting the password signs the account out everywhere. If you did not ask, ignore this mail: your password stays as it is.
`, q.address, u.Username, r.base, link.URL)
	r.mails.mail(u.Email, "Reset your Wharf password", body)
}
