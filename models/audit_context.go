package models

import (
	"context"
	"sync"

	"gorm.io/gorm"
)

// Who an audit entry names.
const (
	ActorUser      = "user"      // an account, by password or session
	ActorToken     = "token"     // an account, through a personal access token
	ActorRobot     = "robot"     // a robot account
	ActorSystem    = "system"    // Wharf itself: a background job or an admin command
	ActorAnonymous = "anonymous" // nobody signed in
)

// Results of an audited action.
const (
	AuditOK     = "ok"     // done
	AuditDenied = "denied" // refused by the authorization policy
	AuditFailed = "failed" // a sign-in that failed
)

// Actor is who acts, and from where.
type Actor struct {
	Name    string // the account's or robot's name; "" for nobody
	Kind    string // one of the Actor constants
	Address string // the client's address (clientaddr), "" for the system
}

// AuditNote is what a request changes, as the service that changes it
// says: the action (such as team.create) and what it acts on.
type AuditNote struct {
	Action string
	// Target names what the action acted on, as a person reads it:
	// acme/app:v1, token 12 (ci), acme/devs.
	Target string
	// Namespace and Repository place the entry for the per-namespace
	// and per-repository views ("" where none applies).
	Namespace, Repository string
	// Detail is a short line more (which tags, which permission).
	Detail string
}

// Auditing is one request's (or one job's) audit state: who acts, and
// the note of the change it makes. The first transaction that changes
// something while a note is set writes the entry, inside itself, so that
// an entry exists exactly when its change does; the request records at
// most one entry through it.
type Auditing struct {
	mu       sync.Mutex
	actor    Actor
	note     *AuditNote
	recorded bool
	// stray counts changes made while a note was set but outside any
	// transaction (a write that would go unaudited: a defect).
	stray int
}

type auditingKey struct{}

// WithAuditing gives ctx a fresh audit state for actor: HTTP layers do
// this once per request, background jobs and admin commands once per
// run.
func WithAuditing(ctx context.Context, actor Actor) (context.Context, *Auditing) {
	a := &Auditing{actor: actor}
	return context.WithValue(ctx, auditingKey{}, a), a
}

// AuditingOf is ctx's audit state, or nil.
func AuditingOf(ctx context.Context) *Auditing {
	a, _ := ctx.Value(auditingKey{}).(*Auditing)
	return a
}

// SetActor names who acts, once the request has authenticated; the
// address stays the one the request came from.
func (a *Auditing) SetActor(name, kind string) {
	if a == nil {
		return
	}
	a.mu.Lock()
	a.actor.Name, a.actor.Kind = name, kind
	a.mu.Unlock()
}

// Actor is who acts (the system, without an audit state).
func (a *Auditing) Actor() Actor {
	if a == nil {
		return Actor{Kind: ActorSystem}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.actor
}

// Note says what the request is about to change: services call it before
// they change anything. A later note replaces an earlier one until an
// entry is written.
func Note(ctx context.Context, n AuditNote) {
	a := AuditingOf(ctx)
	if a == nil {
		return
	}
	a.mu.Lock()
	if !a.recorded {
		a.note = &n
	}
	a.mu.Unlock()
}

// Outcome is what the request left for the edge to record: its note,
// whether its entry was written, and how many changes went unaudited.
func (a *Auditing) Outcome() (note *AuditNote, recorded bool, stray int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.note, a.recorded, a.stray
}

// pending is the entry a transaction of ctx is to write if it changes
// something, or nil.
func pending(ctx context.Context) *Auditing {
	a := AuditingOf(ctx)
	if a == nil {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.note == nil || a.recorded {
		return nil
	}
	return a
}

// entry is the entry of a's note with result.
func (a *Auditing) entry(result string) *AuditEntry {
	a.mu.Lock()
	defer a.mu.Unlock()
	return newEntry(a.actor, *a.note, result)
}

func (a *Auditing) markRecorded() {
	a.mu.Lock()
	a.recorded = true
	a.mu.Unlock()
}

// txWrites counts the changes of one audited transaction.
type txWrites struct{ n int64 }

type txWritesKey struct{}

// countWrites is the callback, after every create, update, delete and
// raw statement of the write handle, that counts what changed: inside an
// audited transaction towards its entry, outside one as a stray change.
func countWrites(db *gorm.DB) {
	if db.Error != nil || db.Statement.RowsAffected <= 0 {
		return
	}
	ctx := db.Statement.Context
	if w, ok := ctx.Value(txWritesKey{}).(*txWrites); ok {
		w.n += db.Statement.RowsAffected
		return
	}
	if a := pending(ctx); a != nil {
		a.mu.Lock()
		a.stray++
		a.mu.Unlock()
	}
}

// registerAuditCallbacks counts the write handle's changes (countWrites).
func registerAuditCallbacks(w *gorm.DB) error {
	cb := w.Callback()
	for _, err := range []error{
		cb.Create().After("gorm:create").Register("wharf:audit_create", countWrites),
		cb.Update().After("gorm:update").Register("wharf:audit_update", countWrites),
		cb.Delete().After("gorm:delete").Register("wharf:audit_delete", countWrites),
		cb.Raw().After("gorm:raw").Register("wharf:audit_raw", countWrites),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}

// tx runs fn in one write transaction. A store method that must change
// other aggregates atomically (a tag and its webhook outbox rows) does so
// inside its own transaction, through the package's tx-taking helpers
// (enqueue, ensureRepository, touchBlobs). If ctx has a pending audit
// note and fn changed something, the transaction also writes the note's
// entry: the entry commits, or rolls back, with the change.
func (c *conn) tx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	a := pending(ctx)
	if a == nil {
		return c.w.WithContext(ctx).Transaction(fn)
	}
	w := &txWrites{}
	err := c.w.WithContext(context.WithValue(ctx, txWritesKey{}, w)).Transaction(func(tx *gorm.DB) error {
		if err := fn(tx); err != nil || w.n == 0 {
			return err
		}
		return tx.Create(a.entry(AuditOK)).Error
	})
	if err == nil && w.n > 0 {
		a.markRecorded()
	}
	return err
}

// change runs one statement in its own transaction (conn.tx), so that a
// request's audit entry commits with it: q builds the statement on the
// transaction's handle. The answer is the statement's, with its
// RowsAffected, and the transaction's error if committing failed.
func (c *conn) change(ctx context.Context, q func(tx *gorm.DB) *gorm.DB) *gorm.DB {
	var res *gorm.DB
	err := c.tx(ctx, func(tx *gorm.DB) error {
		res = q(tx)
		return res.Error
	})
	if res == nil {
		return &gorm.DB{Error: err}
	}
	if res.Error == nil {
		res.Error = err
	}
	return res
}
