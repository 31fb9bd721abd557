package hub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/auth"
	"github.com/wharfhub/wharf/server/events"
)

// Watch makes the caller watch a repository it may pull (on), or stop:
// with mail set up, a push of a tag of it is mailed to the caller.
func (s *Social) Watch(ctx context.Context, id *auth.Identity, name string, on bool) error {
	action := "watch.add"
	if !on {
		action = "watch.remove"
	}
	noteRepo(ctx, action, name, "", "")
	r, err := s.starTarget(ctx, id, name)
	if err != nil {
		return err
	}
	if err := s.db.Watches.Set(ctx, id.UserID, r.ID, on); errors.Is(err, models.ErrNotFound) {
		return ErrNotFound
	} else if err != nil {
		return err
	}
	return nil
}

// Watching reports whether the caller watches a repository it may pull.
func (s *Social) Watching(ctx context.Context, id *auth.Identity, name string) (bool, error) {
	r, err := s.starTarget(ctx, id, name)
	if err != nil {
		return false, err
	}
	return s.db.Watches.Watching(ctx, id.UserID, r.ID)
}

// PushNotices mail the watchers of a repository each tag pushed to it,
// those who may still pull it only. Pushes wait in a bounded queue for
// the worker (Run); a full queue drops the notice (and logs it), as the
// webhooks are the way to hear of every push.
type PushNotices struct {
	db     *models.DB
	policy *auth.Policy
	mail   auth.Mailer
	base   string
	log    *slog.Logger
	queue  chan events.Event
}

// NewPushNotices makes the push notices of db's watches, mailed through
// mail with links to base.
func NewPushNotices(db *models.DB, policy *auth.Policy, mail auth.Mailer, base string, log *slog.Logger) *PushNotices {
	return &PushNotices{db: db, policy: policy, mail: mail, base: base, log: log, queue: make(chan events.Event, 1000)}
}

// Offer queues e if it is a push of a tag.
func (p *PushNotices) Offer(e events.Event) {
	if e.Kind != events.Push || e.Tag == "" {
		return
	}
	select {
	case p.queue <- e:
	default:
		p.log.Warn("push notices: the queue is full, a notice is dropped", "repository", e.Repository, "tag", e.Tag)
	}
}

// Run mails queued notices until ctx ends, then those still queued.
func (p *PushNotices) Run(ctx context.Context) {
	for {
		select {
		case e := <-p.queue:
			p.notify(ctx, e)
		case <-ctx.Done():
			for {
				select {
				case e := <-p.queue:
					p.notify(context.WithoutCancel(ctx), e)
				default:
					return
				}
			}
		}
	}
}

func (p *PushNotices) notify(ctx context.Context, e events.Event) {
	ws, err := p.db.Watches.Watchers(ctx, e.Repository, 1000)
	if err != nil {
		p.log.Error("push notices: watchers", "repository", e.Repository, "err", err)
		return
	}
	for _, u := range ws {
		if u.Username == e.Actor {
			continue // who pushed knows
		}
		id := &auth.Identity{UserID: u.ID, Username: u.Username, IsAdmin: u.IsAdmin}
		level, err := p.policy.Level(ctx, id, e.Repository)
		if err != nil || level < auth.LevelRead {
			continue // no longer allowed to see it
		}
		by := ""
		if e.Actor != "" {
			by = " by " + e.Actor
		}
		p.mail(u.Email, fmt.Sprintf("%s:%s was pushed", e.Repository, e.Tag), fmt.Sprintf(`Hello %s,

%s:%s was pushed%s, as %s.

%s/r/%s

You get this because you watch %s; stop watching it on its page.
`, u.Username, e.Repository, e.Tag, by, e.Digest, p.base, e.Repository, e.Repository))
	}
}
