package models

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
)

// AuditStore is the audit log: append-only entries of security-relevant
// actions. Changes write theirs inside their own transaction (conn.tx,
// from the request's note); Record writes those that change nothing (a
// failed sign-in, a refusal). Nothing updates an entry; Purge drops those
// past the kept period.
type AuditStore struct{ *conn }

// AuditEntry is one action: who, what, on which target, with what
// result, from where and when.
type AuditEntry struct {
	ID         int64     `json:"id"`
	At         time.Time `json:"at"`
	Actor      string    `json:"actor"`
	ActorKind  string    `json:"actor_kind"`
	Action     string    `json:"action"`
	Target     string    `json:"target"`
	Namespace  string    `json:"namespace,omitempty"`
	Repository string    `json:"repository,omitempty"`
	Result     string    `json:"result"`
	Address    string    `json:"address,omitempty"`
	Detail     string    `json:"detail,omitempty"`
}

// AuditEntry's table.
func (AuditEntry) TableName() string { return "audit_entries" }

// Bounds of an entry's texts: what a caller typed is cut, never refused.
const (
	maxAuditText   = 256
	maxAuditDetail = 1024
)

// newEntry is the entry of note by actor with result, now.
func newEntry(actor Actor, n AuditNote, result string) *AuditEntry {
	kind := actor.Kind
	if kind == "" {
		kind = ActorAnonymous
	}
	return &AuditEntry{At: time.Now().UTC(), Actor: cut(actor.Name, 128), ActorKind: kind,
		Action: cut(n.Action, 64), Target: cut(n.Target, maxAuditText), Namespace: cut(n.Namespace, 128),
		Repository: cut(n.Repository, maxAuditText), Result: result, Address: cut(actor.Address, 64),
		Detail: cut(n.Detail, maxAuditDetail)}
}

// cut bounds s to n bytes of valid UTF-8 without NULs, which PostgreSQL
// refuses in text.
func cut(s string, n int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	s = strings.ReplaceAll(s, "\x00", "")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Record writes an entry that goes with no change: a failed sign-in, a
// refused action, a sign-in.
func (s *AuditStore) Record(ctx context.Context, actor Actor, n AuditNote, result string) error {
	// Marked as a transaction's write, it counts as no stray change.
	ctx = context.WithValue(ctx, txWritesKey{}, &txWrites{})
	return s.write(ctx).Create(newEntry(actor, n, result)).Error
}

// AuditFilter selects entries. Zero fields select everything.
type AuditFilter struct {
	// Namespace and Repository are the scope of a view: a namespace's
	// entries (its repositories' too), or one repository's. Since, when
	// set by the view, hides what came before the namespace existed, so
	// that a new owner of a reused name does not read the old one's.
	Namespace, Repository string
	Actor, Action, Result string
	// Target matches entries whose target contains it.
	Target       string
	Since, Until *time.Time
	// Before is a cursor: entries older (by id) than it.
	Before int64
}

func (f AuditFilter) query(q *gorm.DB) *gorm.DB {
	if f.Namespace != "" {
		q = q.Where("namespace = ?", f.Namespace)
	}
	if f.Repository != "" {
		q = q.Where("repository = ?", f.Repository)
	}
	if f.Actor != "" {
		q = q.Where("actor = ?", f.Actor)
	}
	if f.Action != "" {
		// An action or its family: team selects team.create and the rest.
		q = q.Where("(action = ? OR action LIKE ? ESCAPE '\\')", f.Action, likeEscape(f.Action)+".%")
	}
	if f.Result != "" {
		q = q.Where("result = ?", f.Result)
	}
	if f.Target != "" {
		q = q.Where("target LIKE ? ESCAPE '\\'", "%"+likeEscape(f.Target)+"%")
	}
	if f.Since != nil {
		q = q.Where("at >= ?", f.Since.UTC())
	}
	if f.Until != nil {
		q = q.Where("at < ?", f.Until.UTC())
	}
	if f.Before > 0 {
		q = q.Where("id < ?", f.Before)
	}
	return q
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// List is a page of the entries f selects, newest first.
func (s *AuditStore) List(ctx context.Context, f AuditFilter, limit int) ([]AuditEntry, error) {
	var out []AuditEntry
	err := f.query(s.read(ctx).Model(&AuditEntry{})).Order("id DESC").Limit(limit).Find(&out).Error
	return out, err
}

// Each calls fn with every entry f selects, oldest first, reading a page
// at a time (for the JSON Lines export: memory stays flat).
func (s *AuditStore) Each(ctx context.Context, f AuditFilter, fn func(AuditEntry) error) error {
	after := int64(0)
	for {
		var page []AuditEntry
		err := f.query(s.read(ctx).Model(&AuditEntry{})).Where("id > ?", after).Order("id").Limit(500).Find(&page).Error
		if err != nil {
			return err
		}
		for _, e := range page {
			if err := fn(e); err != nil {
				return err
			}
		}
		if len(page) < 500 {
			return nil
		}
		after = page[len(page)-1].ID
	}
}

// Purge deletes entries older than before, a batch at a time, and says
// how many went.
func (s *AuditStore) Purge(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	for {
		res := s.write(ctx).Exec(`DELETE FROM audit_entries WHERE id IN
			(SELECT id FROM audit_entries WHERE at < ? ORDER BY id LIMIT 1000)`, before.UTC())
		if res.Error != nil {
			return total, res.Error
		}
		total += res.RowsAffected
		if res.RowsAffected < 1000 {
			return total, nil
		}
	}
}
