package hub

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/auth"
)

// Audit shows the audit log: a repository's to its admins, a namespace's
// (its repositories' too) to its owners, and the whole site's to site
// administrators.
type Audit struct{ *base }

// AuditScope is one view of the log: a repository, a namespace, or the
// site (both empty).
type AuditScope struct{ Repository, Namespace string }

// MaxAuditPage bounds a page of entries.
const MaxAuditPage = 500

// authorize checks that the caller may read scope's entries, and returns
// the filter that keeps to them. A namespace's view (and its
// repositories') starts when the namespace was made, so that whoever
// takes a freed name does not read the entries of the one before.
func (s *Audit) authorize(ctx context.Context, id *auth.Identity, scope AuditScope, f models.AuditFilter) (models.AuditFilter, error) {
	f.Namespace, f.Repository = "", ""
	switch {
	case scope.Repository != "":
		if _, err := s.authorizeTarget(ctx, id, Target{Repository: scope.Repository}); err != nil {
			return f, err
		}
		f.Repository = scope.Repository
		scope.Namespace = models.NamespaceOf(scope.Repository)
	case scope.Namespace != "":
		if _, err := s.authorizeTarget(ctx, id, Target{Namespace: scope.Namespace}); err != nil {
			return f, err
		}
		f.Namespace = scope.Namespace
	default:
		if id == nil {
			return f, auth.ErrUnauthenticated
		}
		if !id.CanAdministerSite() {
			return f, auth.ErrDenied
		}
		return f, nil
	}
	ns, err := s.db.Namespaces.Get(ctx, scope.Namespace)
	if errors.Is(err, models.ErrNotFound) {
		return f, ErrNotFound
	}
	if err != nil {
		return f, err
	}
	if f.Since == nil || f.Since.Before(ns.CreatedAt) {
		// Its own creation's entry is written after the row, in the same
		// transaction, so it is in.
		f.Since = &ns.CreatedAt
	}
	return f, nil
}

// Entries is a page of scope's entries that f selects, newest first, and
// the cursor of the next page (0 at the end).
func (s *Audit) Entries(ctx context.Context, id *auth.Identity, scope AuditScope, f models.AuditFilter, limit int) ([]models.AuditEntry, int64, error) {
	f, err := s.authorize(ctx, id, scope, f)
	if err != nil {
		return nil, 0, err
	}
	if limit <= 0 || limit > MaxAuditPage {
		limit = MaxAuditPage
	}
	es, err := s.db.Audit.List(ctx, f, limit+1)
	if err != nil {
		return nil, 0, err
	}
	var next int64
	if len(es) > limit {
		es = es[:limit]
		next = es[limit-1].ID
	}
	return es, next, nil
}

// Export calls fn with every entry of scope that f selects, oldest
// first, a page at a time (the JSON Lines export).
func (s *Audit) Export(ctx context.Context, id *auth.Identity, scope AuditScope, f models.AuditFilter, fn func(models.AuditEntry) error) error {
	f, err := s.authorize(ctx, id, scope, f)
	if err != nil {
		return err
	}
	return s.db.Audit.Each(ctx, f, fn)
}

// AuditQuery is a view's filter as a page or an API call gives it (the
// query string): actor, action (or its family, such as team), result,
// target (contained), since and until (RFC 3339 times or dates), and the
// page: before (a cursor) and limit.
type AuditQuery struct {
	Actor, Action, Result, Target, Since, Until, Before, Limit string
}

// Filter checks q and makes it a filter and a page size.
func (q AuditQuery) Filter() (models.AuditFilter, int, error) {
	var f models.AuditFilter
	if err := checkTexts(textField{auditFilterText, q.Actor}, textField{auditFilterText, q.Action},
		textField{auditFilterText, q.Target}); err != nil {
		return f, 0, err
	}
	f.Actor, f.Action, f.Target = q.Actor, q.Action, q.Target
	switch q.Result {
	case "", models.AuditOK, models.AuditDenied, models.AuditFailed:
		f.Result = q.Result
	default:
		return f, 0, invalid("The result must be ok, denied or failed.")
	}
	for _, t := range []struct {
		in  string
		out **time.Time
	}{{q.Since, &f.Since}, {q.Until, &f.Until}} {
		if t.in == "" {
			continue
		}
		at, err := time.Parse(time.RFC3339, t.in)
		if err != nil {
			if at, err = time.Parse(time.DateOnly, t.in); err != nil {
				return f, 0, invalid("Since and until are times such as 2026-12-04T10:00:00Z, or dates such as 2026-12-04.")
			}
		}
		*t.out = &at
	}
	if q.Before != "" {
		n, err := strconv.ParseInt(q.Before, 10, 64)
		if err != nil || n <= 0 {
			return f, 0, invalid("Before is the cursor of a page: a number the previous page gave.")
		}
		f.Before = n
	}
	limit := 100
	if q.Limit != "" {
		n, err := strconv.Atoi(q.Limit)
		if err != nil || n < 1 || n > MaxAuditPage {
			return f, 0, invalid("The limit is a number from 1 to %d.", MaxAuditPage)
		}
		limit = n
	}
	return f, limit, nil
}
